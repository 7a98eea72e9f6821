#!/bin/sh
# kill_storm.sh: kill -9 the gateway again and again while four writers put
# CAS objects and action entries through it, restarting it on the same
# store each time. Afterwards every CAS object hashes to its id (cachegate
# --verify), every action entry is one a writer sent, and the gateway,
# started again, sweeps every temp file the killed writes left. KILLS (default 5) sets how many;
# `make stress` runs many more.
set -eu

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"

kills=${KILLS:-5}
writers=4
writer_pids=

# writer N: put objects of 1 KiB to 3 MiB and entries naming them, forever.
# Every entry body is logged in $work/sent.N before it is sent.
writer() {
	n=$1 i=0
	while [ ! -e "$work/stop" ]; do
		i=$((i + 1))
		size=$(( (i * 7919 + n * 104729) % (3 * 1024 * 1024) + 1024 ))
		f=$work/w$n.obj
		head -c "$size" /dev/urandom >"$f"
		id=$(sha256sum "$f" | cut -c1-64)
		base=http://127.0.0.1:$(cat "$work/port" 2>/dev/null || echo 1)
		curl -s -o /dev/null --max-time 10 -T "$f" "$base/cas/$id" || true
		# Entries are rewritten: 8 action ids per writer, so later puts replace earlier ones.
		action=$(printf 'writer %s action %s' "$n" $((i % 8)) | sha256sum | cut -c1-64)
		body="entry $n $i $id"
		printf '%s %s\n' "$action" "$body" >>"$work/sent.$n"
		printf '%s' "$body" | curl -s -o /dev/null --max-time 10 -T - "$base/ac/$action" || true
	done
}

start
for n in $(seq "$writers"); do
	writer "$n" &
	writer_pids="$writer_pids $!"
done

for k in $(seq "$kills"); do
	sleep "0.$(( (k * 37) % 7 + 2 ))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	start
done
touch "$work/stop"
for w in $writer_pids; do wait "$w" 2>/dev/null || true; done
check "the gateway stops cleanly after $kills kills" stop

# Every CAS object is whole.
"$CACHEGATE" --verify --dir "$work/store" >"$work/verify.out" 2>&1 || true
cat "$work/verify.out"
check "every CAS object hashes to its id" grep -q ': 0 damaged$' "$work/verify.out"
objects=$(sed -n 's/^verified \([0-9]*\) CAS objects.*/\1/p' "$work/verify.out")
check "the writers stored objects between kills ($objects)" test "${objects:-0}" -gt 0

# Every action entry is a body some writer sent for that action.
cat "$work"/sent.* >"$work/sent"
entries=0 strangers=0
for f in "$work"/store/ac/*/*; do
	[ -f "$f" ] || continue
	entries=$((entries + 1))
	line="$(basename "$f") $(cat "$f")"
	grep -qxF "$line" "$work/sent" || { echo "not sent: $line"; strangers=$((strangers + 1)); }
done
check "the writers stored entries between kills ($entries)" test "$entries" -gt 0
check "every action entry is one a writer sent" test "$strangers" -eq 0

# The running gateway sweeps what the killed writes left in tmp/ (once a
# few seconds old, so that no live writer's new file is taken). Where the
# file system has O_TMPFILE, a killed write's file was unnamed and is gone.
start
tries=0
while [ -n "$(ls -A "$work/store/tmp")" ] && [ "$tries" -lt 150 ]; do
	sleep 0.1
	tries=$((tries + 1))
done
check "the running gateway sweeps every temp file left behind" test -z "$(ls -A "$work/store/tmp")"
check "the gateway stops cleanly" stop

[ "$failures" -eq 0 ]
