#!/bin/sh
# go_namespaces.sh: the poisoning attack of issue 18 with the real go
# command and helper. Main's CI builds a module with main's write token; a
# pull request's token then stores, for every action main has, an entry
# naming another output. A fresh machine building with main's token, and
# one with a read token reading main, still compile nothing and get the
# right program; another pull request's build hits main's entries. The
# gateway's /go answers main's output to main's reader and the poisoned one
# only to the pull request that wrote it.
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
printf '%s\n' \
	'main-t0ken   write  ns=main   reads=main' \
	'pr42-t0ken   write  ns=pr-42  reads=pr-42,main' \
	'pr43-t0ken   write  ns=pr-43  reads=pr-43,main' \
	'reader-t0ken read             reads=main' >"$work/tokens"
gateway_start --log --auth-file "$work/tokens"
go_module "$work/mod" 6

# build NAME TOKEN [helper flags...]: go build -x on fresh machine NAME with
# TOKEN; true when it succeeds and the program prints the module's value.
build() {
	name=$1
	printf '%s\n' "$2" >"$work/$name.token"
	shift 2
	go_env "$name" --remote "$remote" --token-file "$work/$name.token" "$@"
	if (cd "$work/mod" && "$GO" build -x -o "$work/$name.tool" ./cmd/tool) 2>"$work/$name.log"
	then
		[ "$("$work/$name.tool")" = 15 ]
	else
		tail -n 20 "$work/$name.log"
		return 1
	fi
}
# curl_as TOKEN ARGS...: curl against the gateway with TOKEN as Bearer.
curl_as() {
	token=$1
	shift
	curl -sS -H "Authorization: Bearer $token" "$@"
}

check "main builds" build main main-t0ken
check "main compiled" [ "$(compiles "$work/main.log")" -gt 0 ]
entries=$(find "$work/gateway/store/ns/main/ac" -type f | wc -l)
check "main's entries are in its namespace ($entries)" [ "$entries" -gt 0 ]
check "nothing went to default" [ "$(find "$work/gateway/store/ac" -type f | wc -l)" -eq 0 ]

# The attack: for each of main's actions, an entry naming a poisoned output.
poison="$work/poison"
printf 'not what the compiler wrote\n' >"$poison"
poison_id=$(sha256sum "$poison" | cut -c1-64)
poison_size=$(wc -c <"$poison")
check "the PR uploads its output" \
	[ "$(curl_as pr42-t0ken -o /dev/null -w '%{http_code}' -T "$poison" "$remote/cas/$poison_id")" = 201 ]
stored=0
for f in $(find "$work/gateway/store/ns/main/ac" -type f); do
	action=$(basename "$f")
	printf 'v1 %s %s %20d %20d\n' "$action" "$poison_id" "$poison_size" 1 >"$work/entry"
	code=$(curl_as pr42-t0ken -o /dev/null -w '%{http_code}' -T "$work/entry" "$remote/ac/$action")
	[ "$code" = 201 ] && stored=$((stored + 1))
	[ "$(head -c 3 "$f")" = "v1 " ] && last=$action  # a Go entry (not a preload list)
done
check "the PR stored an entry for each of main's actions ($stored)" [ "$stored" -eq "$entries" ]
check "a read token cannot store one" \
	[ "$(curl_as reader-t0ken -o /dev/null -w '%{http_code}' -T "$work/entry" "$remote/ac/$last")" = 403 ]
check "an instance prefix does not reach main" \
	[ "$(curl_as pr42-t0ken -o /dev/null -w '%{http_code}' -T "$work/entry" "$remote/main/ac/$last")" = 201 ]
check "main's entries are untouched" \
	sh -c "! grep -rl $poison_id '$work/gateway/store/ns/main/ac'"

check "main builds again on a fresh machine" build main-again main-t0ken
check "from main's entries only (no compile)" [ "$(compiles "$work/main-again.log")" -eq 0 ]
check "a reader of main builds on a fresh machine" build reader reader-t0ken --read-only
check "the reader compiles nothing" [ "$(compiles "$work/reader.log")" -eq 0 ]
check "another PR's build hits main's entries" build pr43 pr43-t0ken
check "and compiles nothing" [ "$(compiles "$work/pr43.log")" -eq 0 ]
go_out() {
	curl_as "$1" -s -o "$work/go.out" -w '%{http_code}' "$remote/go/$last" >/dev/null
	sha256sum "$work/go.out" | cut -c1-64
}
check "/go gives main's reader main's output" [ "$(go_out reader-t0ken)" != "$poison_id" ]
check "/go gives the PR its own" [ "$(go_out pr42-t0ken)" = "$poison_id" ]
check "/go/batch gives main's reader main's output" \
	sh -c "! printf '%s\n' $last | curl -sS -H 'Authorization: Bearer reader-t0ken' \
		--data-binary @- '$remote/go/batch' | grep -q 'not what the compiler wrote'"
check "the access log names the PR's namespace" grep -q " PUT /ac/$last 201 .* ns=pr-42 " "$work/gateway/log"
exit "$fail"
