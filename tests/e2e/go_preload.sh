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
# NAME (the same command each time, so the same scope), keeping the program.
build() {
	name=$1
	shift
	go_env "$name" --remote "$remote" --verbose "$@"
	(cd "$work/mod" && "$GO" build -x -o "$work/bin/tool" ./cmd/tool) 2>"$work/$name.log"
	mv "$work/bin/tool" "$work/$name.tool"
}
requests() {
	grep -c "$1" "$work/gateway/log" || true
}
# PUTs to /ac of anything but one entry line (175 bytes): lists.
list_uploads() {
	grep ' PUT /ac/' "$work/gateway/log" | grep -vc ' in=175 ' || true
}

build machine-a
check "machine A compiles" [ "$(compiles "$work/machine-a.log")" -gt 0 ]
check "machine A found no list to preload" [ "$(prog_stat "$work/machine-a.log" "preload hits")" -eq 0 ]
check "machine A left its list" [ "$(list_uploads)" -eq 1 ]

gets_before=$(requests ' GET /go/[0-9a-f]')
build machine-b
gets=$(prog_stat "$work/machine-b.log" gets)
preloaded=$(prog_stat "$work/machine-b.log" "preload hits")
single=$(( $(requests ' GET /go/[0-9a-f]') - gets_before ))
check "machine B compiles nothing" [ "$(compiles "$work/machine-b.log")" -eq 0 ]
check "machine B's gets are answered by the preload ($preloaded of $gets)" \
	[ "$((preloaded * 10))" -ge "$((gets * 9))" ]
check "in batches, few gets asked one by one ($(requests 'POST /go/batch') batches, $single single)" \
	[ "$(requests 'POST /go/batch')" -ge 1 ] && [ "$((single * 10))" -le "$gets" ]
check "machine B's program is machine A's" cmp -s "$work/machine-a.tool" "$work/machine-b.tool"
entries=$(find "$work/machine-b/store/ac" -type f | wc -l)
check "machine B's store holds every entry when go returns ($entries of $gets)" \
	[ "$entries" -ge "$gets" ]

# The same build again, warm: the same entries, so the list is left as it is.
lists=$(list_uploads)
build machine-b
check "a warm rebuild leaves the list as it is" [ "$(list_uploads)" -eq "$lists" ]
check "... and compiles nothing" [ "$(compiles "$work/machine-b.log")" -eq 0 ]

build budget --preload-max 64K
bytes=$(prog_stat "$work/budget.log" "preload bytes")
check "a budget smaller than the list bounds the preload ($bytes bytes)" [ "$bytes" -le 65536 ]
check "the rest is asked one by one: nothing compiled" [ "$(compiles "$work/budget.log")" -eq 0 ]

# Another module's list under a shared scope name: stale advice for this build.
go_env writer --remote "$remote" --scope shared
(cd "$work/other" && "$GO" build ./...)
build stale --scope shared
check "a stale list fetches what this build does not use" \
	[ "$(prog_stat "$work/stale.log" unused)" -gt 0 ]
check "... and the build is right all the same" cmp -s "$work/machine-a.tool" "$work/stale.tool"
check "... and compiles nothing" [ "$(compiles "$work/stale.log")" -eq 0 ]

# The list names outputs the gateway has lost: those are compiled again.
find "$work/gateway/store/cas" -type f | sort | awk 'NR % 2 == 0' | xargs rm -f
build lost
check "outputs gone from the gateway are misses" [ "$(prog_stat "$work/lost.log" misses)" -gt 0 ]
check "... compiled again, giving the same program" cmp -s "$work/machine-a.tool" "$work/lost.tool"
check "... without a warning" \
	[ "$(grep '^cachegate-prog:' "$work/lost.log" | grep -vc '^cachegate-prog: gets ')" -eq 0 ]

# The gateway dies while the preload runs: the build still succeeds.
go_env dying --remote "$remote"
(cd "$work/mod" && "$GO" build -o "$work/bin/tool" ./cmd/tool) 2>"$work/dying.log" &
build_pid=$!
batches=$(requests 'POST /go/batch')
for _ in $(seq 400); do
	[ "$(requests 'POST /go/batch')" -gt "$batches" ] && break
	kill -0 "$build_pid" 2>/dev/null || break
	sleep 0.01
done
kill -9 "$gateway_pid"
wait "$gateway_pid" 2>/dev/null || true
gateway_pid=
status=0
wait "$build_pid" || status=$?
check "the build succeeds when the gateway dies mid-preload (exit $status)" [ "$status" -eq 0 ]
[ "$status" -eq 0 ] || cat "$work/dying.log"
check "... giving the same program" cmp -s "$work/machine-a.tool" "$work/bin/tool"
check "... saying so in at most one line" [ "$(wc -l <"$work/dying.log")" -le 1 ]
exit "$fail"
