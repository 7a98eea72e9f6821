#!/bin/sh
# kill_storm.sh: kill -9 the gateway again and again while four writers put
# CAS objects and action entries through it, restarting it on the same
# store each time. Only a write that a kill breaks may fail; every other one
# is stored. Afterwards every CAS object hashes to its id (cachegate
# --verify), the gateway serves every object a write stored, whole, each
# action's entry is the last one stored for it or one sent after that, and
# the gateway, started again, sweeps every temp file the killed writes left.
# KILLS (default 5) sets how many; `make stress` runs many more.
set -eu

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"

kills=${KILLS:-5}
writers=4
writer_pids=
# The number of kills so far, changed just before each kill: a write during
# which it changed may have been broken by a kill.
echo 0 >"$work/epoch"

# send FILE PATH: PUT FILE to PATH on the gateway that is up, and set
# $outcome to ok (stored), raced (failed, and a kill came meanwhile) or
# failed:CODE. False, after a short pause, when no gateway is up (a kill
# removes the port file first, the restart writes it).
send() {
	epoch=$(cat "$work/epoch")
	port=$(cat "$work/port" 2>/dev/null) || { sleep 0.05; return 1; }
	# Without an answer curl prints the code 000 and fails: judged below.
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -T "$1" \
		"http://127.0.0.1:$port/$2") || :
	case $code in
	2??) outcome=ok ;;
	*) if [ "$(cat "$work/epoch")" != "$epoch" ]; then outcome=raced; else outcome=failed:$code; fi ;;
	esac
}

# writer N: put objects of 1 KiB to 3 MiB and entries naming them, until
# $work/stop. Each write is logged in order in $work/log.N, as
# "cas ID OUTCOME" or "ac ACTION OUTCOME BODY".
writer() {
	n=$1 i=0
	while [ ! -e "$work/stop" ]; do
		i=$((i + 1))
		size=$(( (i * 7919 + n * 104729) % (3 * 1024 * 1024) + 1024 ))
		f=$work/w$n.obj
		head -c "$size" /dev/urandom >"$f"
		id=$(sha256sum "$f" | cut -c1-64)
		send "$f" "cas/$id" || continue
		echo "cas $id $outcome" >>"$work/log.$n"
		# Entries are rewritten: 8 action ids per writer, so later puts replace earlier ones.
		action=$(printf 'writer %s action %s' "$n" $((i % 8)) | sha256sum | cut -c1-64)
		body="entry $n $i $id"
		printf '%s' "$body" >"$work/w$n.entry"
		while ! send "$work/w$n.entry" "ac/$action"; do :; done
		echo "ac $action $outcome $body" >>"$work/log.$n"
	done
}

start
for n in $(seq "$writers"); do
	writer "$n" &
	writer_pids="$writer_pids $!"
done

for k in $(seq "$kills"); do
	sleep "0.$(( (k * 37) % 7 + 2 ))"
	rm -f "$work/port"
	echo "$k" >"$work/epoch.new"
	mv "$work/epoch.new" "$work/epoch"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || :  # its status is that of the kill
	pid=
	start
done
touch "$work/stop"
ended=0
for w in $writer_pids; do wait "$w" && ended=$((ended + 1)); done
check "every writer ran to the end ($ended of $writers)" test "$ended" -eq "$writers"
check "the gateway stops cleanly after $kills kills" stop

cat "$work"/log.* >"$work/log"
# count KIND OUTCOME: how many writes of KIND (cas, ac, or any) had an
# outcome matching the regular expression OUTCOME.
count() {
	awk -v k="$1" -v o="$2" '($1 == k || k == "any") && $3 ~ o { n++ } END { print n + 0 }' "$work/log"
}
echo "writes: cas $(count cas '^ok$') stored, $(count cas '^raced$') raced a kill;" \
	"ac $(count ac '^ok$') stored, $(count ac '^raced$') raced a kill"
awk '$3 ~ /^failed/' "$work/log"
check "only writes racing a kill failed ($(count any '^failed') others did)" \
	test "$(count any '^failed')" -eq 0
check "the writers stored objects between kills" test "$(count cas '^ok$')" -gt 0
check "the writers stored entries between kills" test "$(count ac '^ok$')" -gt 0

# Every CAS object is whole.
if "$CACHEGATE" --verify --dir "$work/store" >"$work/verify.out" 2>&1; then rc=0; else rc=$?; fi
cat "$work/verify.out"
check "cachegate --verify finds no damage (exit $rc)" test "$rc" -eq 0
check "every CAS object hashes to its id" grep -q ': 0 damaged$' "$work/verify.out"

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

# Every object a write stored is served whole.
unserved=0
for id in $(awk '$1 == "cas" && $3 == "ok" { print $2 }' "$work/log"); do
	code=$(curl -s -o "$work/back" -w '%{http_code}' "$base/cas/$id") || :
	if [ "$code" != 200 ] || [ "$(sha256sum "$work/back" | cut -c1-64)" != "$id" ]; then
		echo "not served whole ($code): $id"
		unserved=$((unserved + 1))
	fi
done
check "every stored object is served whole ($unserved not)" test "$unserved" -eq 0

# Each action's entry is the last one stored or one sent after it; with none
# stored, there may be no entry ("-"). $work/allowed: "ACTION BODY" lines.
awk '$1 == "ac" {
	a = $2; body = $0; sub(/^ac [^ ]* [^ ]* /, "", body)
	if ($3 == "ok") { n[a] = 0; stored[a] = 1 }
	allowed[a, n[a]++] = body
}
END {
	for (a in n) {
		if (!stored[a]) print a " -"
		for (i = 0; i < n[a]; i++) print a " " allowed[a, i]
	}
}' "$work/log" >"$work/allowed"
wrong=0
for action in $(cut -d' ' -f1 "$work/allowed" | sort -u); do
	code=$(curl -s -o "$work/back" -w '%{http_code}' "$base/ac/$action") || :
	case $code in
	200) served=$(cat "$work/back") ;;
	404) served=- ;;
	*) served="answered $code" ;;
	esac
	grep -qxF "$action $served" "$work/allowed" || { echo "wrong entry: $action $served"; wrong=$((wrong + 1)); }
done
check "each action's entry is its last stored or a later one ($wrong not)" test "$wrong" -eq 0
strangers=0
for f in "$work"/store/ac/*/*; do
	[ -f "$f" ] || continue
	grep -q "^$(basename "$f") " "$work/allowed" || { echo "no writer's action: $f"; strangers=$((strangers + 1)); }
done
check "every action entry in the store is a writer's ($strangers not)" test "$strangers" -eq 0
check "the gateway stops cleanly" stop

[ "$failures" -eq 0 ]
