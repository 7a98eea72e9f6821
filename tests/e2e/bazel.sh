#!/bin/sh
# bazel.sh: real Bazel 2.1.0 with cachegate as its --remote_cache. A tiny
# workspace's genrule is built, `bazel clean` drops every local output and the
# local action cache, and the rebuild must be a remote cache hit served by the
# gateway. Then with tokens: no token stores nothing (the build still
# succeeds), a write token sent as a Bearer header (--remote_header) uploads,
# and a read token sent as Basic credentials in the URL gets the hit. Then
# with namespaces: a pull request's token, even under the instance name
# "main", reads main's entry and what it stores for main's action never
# reaches main's reader.
#
# Bazel runs with its own output root in the temp dir and no rc file. Its
# server (one JVM for all the commands, much faster than --batch) is shut down
# on exit, and would stop by itself after a minute idle if this script were
# killed. The workspace has no external repositories, so Bazel needs no
# network but loopback.
set -eu

bazel=${BAZEL:-$("${TOP_SRCDIR:-.}/scripts/install-bazel.sh" --path)}
if [ ! -x "$bazel" ]; then
	echo "SKIP: Bazel 2.1.0 is not installed at $bazel (scripts/install-bazel.sh installs it with npm)"
	exit 77
fi
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed"; exit 77; }
: "${CACHEGATE:?CACHEGATE must name the cachegate binary (run through make check)}"

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"

# bz ARG...: Bazel with this test's startup options, in the workspace.
bz() {
	(cd "$work/ws" && "$bazel" --nohome_rc --nosystem_rc --noworkspace_rc \
		--output_user_root="$work/bazel-root" --max_idle_secs=60 "$@")
}

# On exit, before the gateway is stopped and $work removed: stop the Bazel
# server, and make the read-only files Bazel leaves removable.
bazel_cleanup() {
	if [ -d "$work/bazel-root" ]; then
		bz shutdown >/dev/null 2>&1 || true
		chmod -R u+w "$work" 2>/dev/null || true
	fi
	cleanup
}
trap bazel_cleanup EXIT

# The workspace: one genrule that upper-cases its input.
mkdir "$work/ws"
: >"$work/ws/WORKSPACE"
printf 'hello from a remote cache\n' >"$work/ws/in.txt"
cat >"$work/ws/BUILD" <<'BUILD'
genrule(
    name = "shout",
    srcs = ["in.txt"],
    outs = ["shout.txt"],
    cmd = "tr a-z A-Z < $< > $@",
)
BUILD

# bazel_cmd COMMAND [FLAG...]: one Bazel command; its output goes to
# $work/bazel.out and is kept in $work/bazel.log.
bazel_cmd() {
	if bz "$@" >"$work/bazel.out" 2>&1; then rc=0; else rc=$?; fi
	{ echo "==== bazel $*"; cat "$work/bazel.out"; } >>"$work/bazel.log"
	return "$rc"
}

# build [FLAG...]: `bazel clean`, then build //:shout with these flags; the
# genrule runs on the host itself (no sandbox) when it is not a cache hit.
build() {
	bazel_cmd clean && bazel_cmd build --spawn_strategy=local "$@" //:shout
}

# remote_hits: the remote cache hits of the last build's process summary
# ("INFO: 1 process: 1 remote cache hit."), 0 when it names none.
remote_hits() {
	n=$(sed -n 's/^INFO: [0-9]* process.*[:,] \([0-9][0-9]*\) remote cache hit.*/\1/p' "$work/bazel.out")
	echo "${n:-0}"
}

# output_right: the last build left the genrule's output, and it is right.
output_right() {
	[ "$(cat "$work/ws/bazel-bin/shout.txt")" = "HELLO FROM A REMOTE CACHE" ]
}

# served METHOD KIND STATUS: how many such requests cachegate has answered
# (its /metrics; $metrics_auth holds curl's credential options, if any).
metrics_auth=
served() {
	# shellcheck disable=SC2086
	curl -fsS $metrics_auth "$base/metrics" |
		awk -v k="cachegate_requests_total{method=\"$1\",kind=\"$2\",status=\"$3\"}" \
			'$1 == k { n = $2 } END { print n + 0 }'
}

# objects: files in the store's ac and cas trees.
objects() {
	find "$work/store/ac" "$work/store/cas" -type f 2>/dev/null | wc -l
}

start
check "first build succeeds" build --remote_cache="$base"
check "first build ran the genrule" [ "$(remote_hits)" -eq 0 ]
check "first build's output is right" output_right
check "first build found no action entry" [ "$(served GET ac 404)" -ge 1 ]
check "first build uploaded the action entry and outputs" sh -c \
	"[ $(served PUT ac 201) -ge 1 ] && [ $(served PUT cas 201) -ge 1 ] && [ $(objects) -ge 2 ]"
check "second build, after bazel clean, succeeds" build --remote_cache="$base"
check "second build is a remote cache hit" [ "$(remote_hits)" -ge 1 ]
check "second build's output is right" output_right
check "cachegate served the action entry" [ "$(served GET ac 200)" -ge 1 ]
check "cachegate served the outputs" [ "$(served GET cas 200)" -ge 1 ]
check "SIGTERM stops the server cleanly" stop

# With tokens: a CI machine writes with a write token, a laptop reads with a
# read token; without one, reads and writes are refused.
rm -rf "$work/store"
printf 'bazel-ci-writes write\nbazel-laptop-reads read\n' >"$work/tokens"
start --auth-file "$work/tokens"
metrics_auth="-u metrics:bazel-laptop-reads"
check "build without a token succeeds" build --remote_cache="$base"
check "without a token nothing was stored" [ "$(objects)" -eq 0 ]
check "without a token uploads were refused (401)" [ "$(served PUT cas 401)" -ge 1 ]
check "build with a write token (Bearer header) succeeds" \
	build --remote_cache="$base" "--remote_header=Authorization=Bearer bazel-ci-writes"
check "the write token's build was no hit" [ "$(remote_hits)" -eq 0 ]
check "the write token uploaded" sh -c "[ $(served PUT ac 201) -ge 1 ] && [ $(objects) -ge 2 ]"
check "build with a read token (Basic, in the URL) succeeds" \
	build --remote_cache="http://laptop:bazel-laptop-reads@127.0.0.1:$port"
check "the read token gets a remote cache hit" [ "$(remote_hits)" -ge 1 ]
check "the read token's output is right" output_right
check "build without a token again succeeds" build --remote_cache="$base"
check "no token, no remote cache hit" [ "$(remote_hits)" -eq 0 ]
check "no token, the output is still right" output_right
check "SIGTERM stops the authenticated server" stop

# With namespaces: main's CI writes main; a pull request writes its own and reads main's.
rm -rf "$work/store"
printf '%s\n' 'bazel-main write ns=main' 'bazel-pr write ns=pr-42 reads=pr-42,main' \
	'bazel-main-reads read reads=main' >"$work/tokens"
start --auth-file "$work/tokens"
metrics_auth="-u metrics:bazel-main-reads"
check "main's build succeeds" \
	build --remote_cache="$base" "--remote_header=Authorization=Bearer bazel-main"
check "main's entry is in its namespace" [ "$(find "$work/store/ns/main/ac" -type f | wc -l)" -ge 1 ]
check "the PR's build under the instance name main succeeds" \
	build --remote_cache="$base/main" "--remote_header=Authorization=Bearer bazel-pr"
check "the PR's build hits main's entry" [ "$(remote_hits)" -ge 1 ]
printf 'poisoned result\n' >"$work/poison"
for f in $(find "$work/store/ns/main/ac" -type f); do
	curl -sS -o /dev/null -H 'Authorization: Bearer bazel-pr' -T "$work/poison" \
		"$base/main/ac/$(basename "$f")"
done
# main_served: every entry main's reader gets is main's own (byte for byte).
main_served() {
	for f in $(find "$work/store/ns/main/ac" -type f); do
		curl -sS -u "laptop:bazel-main-reads" -o "$work/served" "$base/ac/$(basename "$f")" &&
			cmp -s "$f" "$work/served" || return 1
	done
}
check "the PR's entries went to its own namespace" \
	[ "$(find "$work/store/ns/pr-42/ac" -type f | wc -l)" -ge 1 ]
check "main's reader is served main's entry, not the PR's" main_served
check "main's reader's build succeeds" \
	build --remote_cache="http://laptop:bazel-main-reads@127.0.0.1:$port"
check "main's reader gets a remote cache hit" [ "$(remote_hits)" -ge 1 ]
check "main's reader's output is right" output_right
check "SIGTERM stops the server with namespaces" stop

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed; server log:"
	cat "$work/server.log"
	echo "Bazel's output:"
	cat "$work/bazel.log"
	exit 1
fi
echo "all Bazel checks passed"
