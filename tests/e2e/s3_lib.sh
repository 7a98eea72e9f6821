# s3_lib.sh: a real S3 endpoint for end-to-end tests, SeaweedFS's `weed mini`
# on 127.0.0.1 (sourced under `set -eu`; scripts/install-seaweedfs.sh builds
# it). Source it after gateway_lib.sh when a script needs both: its exit trap
# stops SeaweedFS and then runs gateway_lib.sh's cleanup. A script that sets
# its own EXIT trap afterwards must call s3_cleanup from it.
#
# s3_require        exit 77 (skip, saying why) unless weed, curl and perl
#                   are here
# s3_start          start weed mini, or start it again on the same data and
#                   ports after s3_stop; return once the bucket answers a
#                   signed request. Exports S3_ENDPOINT (http://127.0.0.1:PORT),
#                   S3_BUCKET, S3_REGION, AWS_ACCESS_KEY_ID and
#                   AWS_SECRET_ACCESS_KEY; sets $s3_pid and $s3_ready_ms
# s3_stop           SIGTERM weed (after 30 s SIGQUIT, for a stack dump in
#                   weed.log, then SIGKILL); true when SIGTERM alone made it
#                   exit with status 0; sets $s3_stop_ms. Its data stay for
#                   s3_start.
# s3_curl ARG...    curl signed with SigV4 by curl itself as the test
#                   credentials, for $S3_REGION
# s3_cleanup        stop weed if it runs and remove $s3_work (the exit trap)
#
# $s3_work holds the data (data/), weed's output (weed.log) and its log files
# (logs/), private to this script. Nothing is written elsewhere but the gRPC
# Unix sockets weed mini always puts in /tmp (seaweedfs-*-grpc-PORT.sock),
# which it removes when it stops (and s3_stop when it had to kill it).

s3_weed=${WEED:-$("${TOP_SRCDIR:-.}/scripts/install-seaweedfs.sh" --path)}
s3_work=$(mktemp -d "${TMPDIR:-/tmp}/cachegate-s3.XXXXXX")
s3_pid=
s3_ports=
s3_ready_ms=
s3_stop_ms=

# Test values only: weed mini makes these its one admin identity.
AWS_ACCESS_KEY_ID=cachegate-test-key
AWS_SECRET_ACCESS_KEY=cachegate-test-secret
S3_BUCKET=cachegate-test
# SeaweedFS takes the region from each request's credential scope and accepts
# any; this one is the AWS default.
S3_REGION=us-east-1
S3_ENDPOINT=
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_BUCKET S3_REGION S3_ENDPOINT

s3_cleanup() {
	if [ -n "$s3_pid" ]; then
		s3_stop >/dev/null 2>&1 || true
	fi
	rm -rf "$s3_work"
	if command -v cleanup >/dev/null 2>&1; then
		cleanup
	fi
}
trap s3_cleanup EXIT
trap 'exit 1' INT TERM

s3_require() {
	if [ ! -x "$s3_weed" ]; then
		echo "SKIP: SeaweedFS is not installed at $s3_weed (scripts/install-seaweedfs.sh builds it)"
		exit 77
	fi
	command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed"; exit 77; }
	command -v perl >/dev/null 2>&1 || { echo "SKIP: perl is not installed"; exit 77; }
}

# s3_free_ports N: N distinct TCP ports, each free on 127.0.0.1 right now
# (perl binds it, as weed will, with SO_REUSEADDR), drawn at random from
# 20000-32767. That is below Linux's ephemeral range (32768-60999), so no
# outgoing connection, weed's own gRPC dials included, is handed one of them
# between this check and weed's bind; another test taking one meanwhile makes
# weed fail to start, and s3_start retries with new ports.
s3_free_ports() {
	perl -MIO::Socket::INET -e '
		my ($n, %taken) = ($ARGV[0]);
		my @ports;
		for (my $try = 0; @ports < $n; $try++) {
			die "no free ports found\n" if $try > 10000;
			my $p = 20000 + int(rand(12768));
			next if $taken{$p}++;
			my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $p,
				Proto => "tcp", Listen => 1, ReuseAddr => 1) or next;
			close $s;
			push @ports, $p;
		}
		print "@ports\n";' "$1"
}

# s3_alive: weed (started by this shell) runs and has not exited. A process
# that exited stays a zombie until `wait`, so kill -0 alone would not tell.
s3_alive() {
	[ -n "$s3_pid" ] && [ -r "/proc/$s3_pid/stat" ] &&
		[ "$(sed 's/^.*) //' "/proc/$s3_pid/stat" 2>/dev/null | cut -c1)" != Z ]
}

s3_curl() {
	curl -sS --aws-sigv4 "aws:amz:$S3_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@"
}

# s3_launch: run weed mini in the background on the ports in $s3_ports
# (master, its gRPC, volume, gRPC, filer, gRPC, S3, gRPC, admin, gRPC).
# Every port is given, so weed never moves one. WebDAV, the Iceberg and Lance
# catalogs and the admin's legacy port are off, telemetry is off (nothing
# leaves loopback), and an upload to a missing bucket is an error instead of
# creating it. The volume server drops a connection idle for 5 s (not 30):
# an UploadPart refused for its payload hash can leave one of its internal
# connections holding half a request, and stopping weed waits for that
# connection until this timeout. HOME points at $s3_work so no ~/.seaweedfs
# configuration of the user applies.
s3_launch() {
	set -- $s3_ports
	mkdir -p "$s3_work/data" "$s3_work/logs"
	(cd "$s3_work" && HOME=$s3_work GOTRACEBACK=all exec "$s3_weed" -logdir="$s3_work/logs" mini \
		-dir="$s3_work/data" -bucket="$S3_BUCKET" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
		-master.port="$1" -master.port.grpc="$2" \
		-volume.port="$3" -volume.port.grpc="$4" \
		-filer.port="$5" -filer.port.grpc="$6" \
		-s3.port="$7" -s3.port.grpc="$8" \
		-admin.port="$9" -admin.port.grpc="${10}" -admin.port.legacy=0 \
		-webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
		-master.telemetry=false -s3.autoCreateBucket=false -idleTimeout=5 \
		-filer.localSocket="$s3_work/filer.sock" -s3.localSocket="$s3_work/s3.sock" \
		>>"$s3_work/weed.log" 2>&1) &
	s3_pid=$!
	S3_ENDPOINT=http://127.0.0.1:$7
}

# s3_wait_ready: wait (60 s at most) until a signed HEAD of the bucket is 200;
# weed creates the bucket only after all its servers are up. False when weed
# exited or time ran out.
s3_wait_ready() {
	s3_t0=$(date +%s%N)
	while :; do
		s3_alive || return 1
		s3_code=$(s3_curl -o /dev/null -w '%{http_code}' --max-time 2 -I \
			"$S3_ENDPOINT/$S3_BUCKET" 2>/dev/null || true)
		if [ "$s3_code" = 200 ]; then
			s3_ready_ms=$((($(date +%s%N) - s3_t0) / 1000000))
			return 0
		fi
		[ $((($(date +%s%N) - s3_t0) / 1000000)) -lt 60000 ] || return 1
		sleep 0.1
	done
}

s3_start() {
	s3_attempt=1
	s3_fixed=${s3_ports:+yes}
	while :; do
		[ -n "$s3_ports" ] || s3_ports=$(s3_free_ports 10)
		echo "==== weed mini (ports $s3_ports)" >>"$s3_work/weed.log"
		s3_launch
		s3_wait_ready && return 0
		# Not ready: drop weed, and retry on new ports when one it was
		# given was taken meanwhile (only on a first start, whose ports
		# nothing depends on yet).
		s3_stop >/dev/null 2>&1 || true
		if [ -z "$s3_fixed" ] && [ "$s3_attempt" -lt 3 ] &&
			tail -n 20 "$s3_work/weed.log" | grep -Eq 'is not available|address already in use'; then
			s3_ports=
			s3_attempt=$((s3_attempt + 1))
			continue
		fi
		echo "SeaweedFS did not start (ports $s3_ports):"
		tail -n 40 "$s3_work/weed.log"
		exit 1
	done
}

s3_stop() {
	[ -n "$s3_pid" ] || return 1
	s3_t0=$(date +%s%N)
	kill -CONT "$s3_pid" 2>/dev/null || true  # a test may have stopped it (a hung S3)
	kill -TERM "$s3_pid" 2>/dev/null || true
	s3_wait_exit 300
	s3_forced=
	if s3_alive; then
		# Go's runtime answers SIGQUIT with every goroutine's stack (to
		# weed.log) and exits: what hung is then on record.
		s3_forced=yes
		echo "==== still running 30 s after SIGTERM: SIGQUIT" >>"$s3_work/weed.log"
		kill -QUIT "$s3_pid" 2>/dev/null || true
		s3_wait_exit 50
		s3_alive && kill -KILL "$s3_pid" 2>/dev/null
	fi
	if wait "$s3_pid" 2>/dev/null; then s3_rc=0; else s3_rc=$?; fi
	# A weed that did not exit by itself leaves its sockets in /tmp, named
	# by the ports this script chose for it.
	if [ -n "$s3_forced" ]; then
		for s3_port in $s3_ports; do
			rm -f /tmp/seaweedfs-*-grpc-"$s3_port".sock
		done
	fi
	s3_stop_ms=$((($(date +%s%N) - s3_t0) / 1000000))
	echo "==== exited with status $s3_rc after $s3_stop_ms ms" >>"$s3_work/weed.log"
	s3_pid=
	[ -z "$s3_forced" ] && [ "$s3_rc" -eq 0 ]
}

# s3_wait_exit N: wait until weed has exited, at most N tenths of a second.
s3_wait_exit() {
	s3_tries=0
	while s3_alive && [ "$s3_tries" -lt "$1" ]; do
		sleep 0.1
		s3_tries=$((s3_tries + 1))
	done
}

# s3_gateway N [FLAG...]: start gateway N in front of the bucket (prefix
# team) on its own empty store, $work/storeN, with FLAGs; sets $gwN_pid and
# $gwN, its URL; its log is $work/gatewayN.log. Uses the script's $work.
s3_gateway() {
	s3_n=$1
	shift
	rm -f "$work/port$s3_n"
	"$CACHEGATE" --listen 127.0.0.1:0 --port-file "$work/port$s3_n" --dir "$work/store$s3_n" \
		--s3 "s3://$S3_BUCKET/team" --s3-endpoint "$S3_ENDPOINT" --s3-region "$S3_REGION" \
		"$@" 2>>"$work/gateway$s3_n.log" &
	eval "gw${s3_n}_pid=$!"
	s3_tries=0
	while [ ! -s "$work/port$s3_n" ]; do
		s3_tries=$((s3_tries + 1))
		if [ "$s3_tries" -gt 300 ] || ! eval "kill -0 \$gw${s3_n}_pid" 2>/dev/null; then
			echo "gateway $s3_n did not start:"
			cat "$work/gateway$s3_n.log"
			exit 1
		fi
		sleep 0.1
	done
	eval "gw$s3_n=http://127.0.0.1:$(cat "$work/port$s3_n")"
}

# s3_stop_gateways: SIGTERM the gateways s3_gateway started; true when all
# exited 0 (no leak, no error).
s3_stop_gateways() {
	s3_clean=true
	for s3_p in ${gw1_pid:-} ${gw2_pid:-} ${gw3_pid:-}; do
		kill "$s3_p" 2>/dev/null || true
		wait "$s3_p" 2>/dev/null || s3_clean=false
	done
	gw1_pid= gw2_pid= gw3_pid=
	$s3_clean
}
