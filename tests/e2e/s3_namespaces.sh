#!/bin/sh
# s3_namespaces.sh: namespaces in a real SeaweedFS bucket behind two
# gateways. An action entry of a namespace is keyed team/ac/<namespace>/<id>
# and default keeps team/ac/<id>; gateway 2, its store empty, gives main's
# reader main's entry and Go output (/go, /go/batch) for an action a pull
# request stored another output for through gateway 1, the pull request its
# own, and the pull request main's where it has none.
set -eu

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"
. "${TOP_SRCDIR:-.}/tests/e2e/s3_lib.sh"
s3_require
s3_start
echo "SeaweedFS ready in ${s3_ready_ms} ms at $S3_ENDPOINT"

printf '%s\n' 'main-t0ken write ns=main' 'pr-t0ken write ns=pr-42 reads=pr-42,main' \
	'reader-t0ken read reads=main' 'old-t0ken write' >"$work/tokens"
trap 's3_stop_gateways || true; s3_cleanup' EXIT

# as TOKEN CURL_ARG...: the status of a request with TOKEN; the body in $work/body.
as() {
	token=$1
	shift
	curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token" "$@" || true
}
# in_bucket KEY: the status of a signed HEAD of KEY in the bucket.
in_bucket() {
	s3_curl -o /dev/null -w '%{http_code}' -I "$S3_ENDPOINT/$S3_BUCKET/$1"
}
# goentry ACTION OUTPUT SIZE: a Go entry line into $work/e.OUTPUT.
goentry() {
	printf 'v1 %s %s %20d %20d\n' "$1" "$2" "$3" 1 >"$work/e.$2"
}

s3_gateway 1 --auth-file "$work/tokens"
s3_gateway 2 --auth-file "$work/tokens"
act=$(printf 'the action' | sha256sum | cut -c1-64)
only_main=$(printf 'only main' | sha256sum | cut -c1-64)
only_pr=$(printf 'only the PR' | sha256sum | cut -c1-64)
printf "main's output" >"$work/main.out"
printf 'poisoned output' >"$work/pr.out"
main_out=$(sha256sum "$work/main.out" | cut -c1-64)
pr_out=$(sha256sum "$work/pr.out" | cut -c1-64)
goentry "$act" "$main_out" 13
goentry "$act" "$pr_out" 15
printf 'an entry only main has' >"$work/only_main"
printf 'an entry only the PR has' >"$work/only_pr"

check "main stores its output and entry" sh -c "[ $(as main-t0ken -T "$work/main.out" "$gw1/cas/$main_out") = 201 ] &&
	[ $(as main-t0ken -T "$work/e.$main_out" "$gw1/ac/$act") = 201 ]"
check "the PR stores another output for the same action" \
	sh -c "[ $(as pr-t0ken -T "$work/pr.out" "$gw1/cas/$pr_out") = 201 ] &&
	[ $(as pr-t0ken -T "$work/e.$pr_out" "$gw1/ac/$act") = 201 ]"
as main-t0ken -T "$work/only_main" "$gw1/ac/$only_main" >/dev/null
as pr-t0ken -T "$work/only_pr" "$gw1/ac/$only_pr" >/dev/null
check "an old token's entry is stored" test "$(as old-t0ken -T "$work/only_main" "$gw1/ac/$only_pr")" = 201
check "main's entry is keyed team/ac/main/<id>" test "$(in_bucket "team/ac/main/$act")" = 200
check "the PR's entry is keyed team/ac/pr-42/<id>" test "$(in_bucket "team/ac/pr-42/$act")" = 200
check "neither is at default's key" test "$(in_bucket "team/ac/$act")" = 404
check "default keeps team/ac/<id>" test "$(in_bucket "team/ac/$only_pr")" = 200

check "gateway 2 gives main's reader main's entry" test "$(as reader-t0ken "$gw2/ac/$act")" = 200
check "... byte for byte" cmp -s "$work/body" "$work/e.$main_out"
check "gateway 2 gives main's reader main's output on /go" test "$(as reader-t0ken "$gw2/go/$act")" = 200
check "... byte for byte" cmp -s "$work/body" "$work/main.out"
printf '%s\n' "$act" >"$work/ids"
check "a /go/batch through gateway 2 answers main's reader" \
	test "$(as reader-t0ken --data-binary @"$work/ids" "$gw2/go/batch")" = 200
check "... with main's output, not the PR's" sh -c "! grep -q poisoned '$work/body' && grep -q \"main's output\" '$work/body'"
check "gateway 2 gives the PR its own entry" test "$(as pr-t0ken "$gw2/ac/$act")" = 200
check "... byte for byte" cmp -s "$work/body" "$work/e.$pr_out"
check "gateway 2 gives the PR main's entry where it has none" \
	test "$(as pr-t0ken "$gw2/ac/$only_main")" = 200
check "... byte for byte" cmp -s "$work/body" "$work/only_main"
check "main's reader does not see the PR's entries" test "$(as reader-t0ken "$gw2/ac/$only_pr")" = 404
check "both gateways stop cleanly" s3_stop_gateways
exit "$failures"
