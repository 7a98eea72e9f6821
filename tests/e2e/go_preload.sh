#!/bin/sh
# go_preload.sh: fetching ahead what the last build of the same scope used,
# with the real go command. Machine A builds a module; machine B, with an
# empty store and GOCACHE, gets most of its hits from the preload in a few
# batch requests. Then the cases where the list is wrong: a byte budget
# smaller than the list, another scope's list, a list naming objects the
# gateway no longer has, and the gateway dying mid-preload. Every build
# succeeds and gives the same program.
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
gateway_start --log
go_module "$work/mod" 12
go_module "$work/other" 5
find "$work/other" -type f | xargs sed -i 's|example.com/cgtest|example.com/other|'

# build NAME [helper flags...]: go build -x of the module on fresh machine
# NAME (the same command each time, so the same scope), keeping the program;
# true when the build succeeds (else its log is shown).
build() {
	name=$1
	shift
	go_env "$name" --remote "$remote" --verbose "$@"
	if (cd "$work/mod" && "$GO" build -x -o "$work/bin/tool" ./cmd/tool) 2>"$work/$name.log"; then
		mv "$work/bin/tool" "$work/$name.tool"
	else
		tail -n 20 "$work/$name.log"
		return 1
	fi
}
# stat NAME WHAT: the number after WHAT in the stats line of build NAME, 0 without one.
stat() {
	v=$(prog_stat "$work/$1.log" "$2")
	echo "${v:-0}"
}
requests() {
	grep -c "$1" "$work/gateway/log" || true
}
# PUTs to /ac of anything but one entry line (175 bytes): lists.
list_uploads() {
	grep ' PUT /ac/' "$work/gateway/log" | grep -vc ' in=175 ' || true
}

check "machine A builds" build machine-a
check "machine A compiles" [ "$(compiles "$work/machine-a.log")" -gt 0 ]
check "machine A found no list to preload" [ "$(stat machine-a "preload hits")" -eq 0 ]
check "machine A left its list" [ "$(list_uploads)" -eq 1 ]

gets_before=$(requests ' GET /go/[0-9a-f]')
batches_before=$(requests 'POST /go/batch')
check "machine B builds" build machine-b
gets=$(stat machine-b gets)
preloaded=$(stat machine-b "preload hits")
single=$(( $(requests ' GET /go/[0-9a-f]') - gets_before ))
batches=$(( $(requests 'POST /go/batch') - batches_before ))
check "machine B compiles nothing" [ "$(compiles "$work/machine-b.log")" -eq 0 ]
check "machine B asks for entries ($gets)" [ "$gets" -gt 0 ]
check "machine B's gets are answered by the preload ($preloaded of $gets)" \
	[ "$((preloaded * 10))" -ge "$((gets * 9))" ]
check "in batches ($batches)" [ "$batches" -ge 1 ]
check "few gets asked one by one ($single of $gets)" [ "$((single * 10))" -le "$gets" ]
check "machine B's program is machine A's" cmp -s "$work/machine-a.tool" "$work/machine-b.tool"
entries=$(find "$work/machine-b/store/ac" -type f | wc -l)
check "machine B's store holds every entry when go returns ($entries of $gets)" \
	[ "$entries" -ge "$gets" ]

# The same build again, warm: the same entries, so the list is left as it is.
lists=$(list_uploads)
check "a warm rebuild builds" build machine-b
check "... leaves the list as it is" [ "$(list_uploads)" -eq "$lists" ]
check "... and compiles nothing" [ "$(compiles "$work/machine-b.log")" -eq 0 ]

check "a build with a small preload budget builds" build budget --preload-max 64K
bytes=$(stat budget "preload bytes")
check "a budget smaller than the list bounds the preload ($bytes bytes)" [ "$bytes" -le 65536 ]
check "the rest is asked one by one: nothing compiled" [ "$(compiles "$work/budget.log")" -eq 0 ]

# Another module's list under a shared scope name: stale advice for this build.
go_env writer --remote "$remote" --scope shared
check "another module builds under the scope shared" sh -c 'cd "$1" && "$2" build ./...' _ "$work/other" "$GO"
check "this module builds under the scope shared" build stale --scope shared
check "a stale list fetches what this build does not use" [ "$(stat stale unused)" -gt 0 ]
check "... and the build is right all the same" cmp -s "$work/machine-a.tool" "$work/stale.tool"
check "... and compiles nothing" [ "$(compiles "$work/stale.log")" -eq 0 ]

# The list names outputs the gateway has lost: those are compiled again.
find "$work/gateway/store/cas" -type f | sort | awk 'NR % 2 == 0' | xargs rm -f
check "a build whose list names lost outputs builds" build lost
check "outputs gone from the gateway are misses" [ "$(stat lost misses)" -gt 0 ]
check "... compiled again, giving the same program" cmp -s "$work/machine-a.tool" "$work/lost.tool"
check "... without a warning" \
	[ "$(grep '^cachegate-prog:' "$work/lost.log" | grep -vc '^cachegate-prog: gets ')" -eq 0 ]

# The gateway dies while the preload runs: the build still succeeds. It is
# machine B's command on a fresh machine (the same scope, so the same list,
# whose outputs the lost build has put back); the gateway is killed once the
# preload has brought a first output. That the kill came mid-preload is
# confirmed after: the preload had brought outputs, and the build compiled
# some. Had the preload finished, all the list names (all this build uses)
# would have been here, and nothing compiled, as on machine B.
go_env dying --remote "$remote" --verbose
# (A build that hangs is stopped after 10 minutes, and fails.)
(cd "$work/mod" && timeout 600 "$GO" build -x -o "$work/bin/tool" ./cmd/tool) 2>"$work/dying.log" &
build_pid=$!
for _ in $(seq 3000); do
	[ -n "$(find "$work/dying/store/cas" -type f 2>/dev/null | head -n 1)" ] && break
	kill -0 "$build_pid" 2>/dev/null || break
	sleep 0.01
done
kill -9 "$gateway_pid"
wait "$gateway_pid" 2>/dev/null || :  # its status is that of the kill
gateway_pid=
status=0
wait "$build_pid" || status=$?
check "the build succeeds when the gateway dies mid-preload (exit $status)" [ "$status" -eq 0 ]
[ "$status" -eq 0 ] || tail -n 20 "$work/dying.log"
check "... giving the same program" cmp -s "$work/machine-a.tool" "$work/bin/tool"
check "... saying so in at most one line" \
	[ "$(grep '^cachegate-prog:' "$work/dying.log" | grep -vc '^cachegate-prog: gets ')" -le 1 ]
check "the preload had begun: it brought outputs ($(stat dying "preload bytes") bytes)" \
	[ "$(stat dying "preload bytes")" -gt 0 ]
check "... and had not finished: the build compiled what it did not bring" \
	[ "$(compiles "$work/dying.log")" -gt 0 ]
exit "$fail"
