#!/bin/sh
# s3_lifecycle.sh: the two ways the README bounds a SeaweedFS bucket by age,
# tried on a real SeaweedFS (weed mini), each check stating what it does.
#
# The S3 lifecycle rule (PutBucketLifecycleConfiguration, Expiration Days on
# a prefix): SeaweedFS keeps the rule and serves it back, but stamps nothing
# on the objects; its lifecycle worker applies it, a daily job of weed admin
# and a worker. Thirty days cannot pass here, so the test drives one pass of
# that worker by hand (weed shell s3.lifecycle.run-shard): it leaves young
# objects alone, and under a rule whose Expiration Date is past it deletes
# what lies under the prefix, objects written before the rule included, and
# nothing outside it.
#
# The filer rule (weed shell fs.configure -locationPrefix -ttl): every object
# written under the prefix after it carries the TTL (TtlSec in the filer's
# metadata; 30d is 2592000 s), objects written before it and outside it carry
# none, and a later S3 lifecycle call leaves the rule alone. A rule of 1m on
# the prefix a gateway writes to shows the expiry itself: what the gateway
# stored (a small and a multipart CAS object and an action entry) is gone
# from the bucket 60 s after it was written, and the gateway's next upload
# stores it again. That wait is most of this script's run time (about 70 s).
set -eu

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"
. "${TOP_SRCDIR:-.}/tests/e2e/s3_lib.sh"
s3_require
s3_start
echo "# SeaweedFS ready in ${s3_ready_ms} ms at $S3_ENDPOINT (ports: $s3_ports)"

# weed mini's ports, in s3_launch's order. weed shell is given the master
# alone, as host:port.grpcport (the gRPC port is not the default here), and
# finds the filer through it, as the README's command does.
set -- $s3_ports
master=127.0.0.1:$1.$2
filer_http=http://127.0.0.1:$5
s3_grpc=127.0.0.1:$8

# wshell COMMAND: run one weed shell command against weed mini; its output
# goes to $work/shell.out (and is kept in $work/shell.log). Logs stay in
# $s3_work, like weed mini's.
wshell() {
	(cd "$s3_work" && printf '%s\n' "$1" | HOME=$s3_work "$s3_weed" -logdir="$s3_work/logs" \
		shell -master="$master") >"$work/shell.out" 2>&1 || true
	cat "$work/shell.out" >>"$work/shell.log"
}

# req ARG...: one signed request; prints its HTTP status (000: no answer) and
# keeps the body in $work/body.
req() {
	s3_curl -o "$work/body" -w '%{http_code}' "$@" 2>>"$work/curl.log" || true
}

sha() {
	sha256sum "$1" | cut -c1-64
}

# put FILE KEY: PUT FILE as KEY, signed with its SHA-256; prints the status.
put() {
	req -T "$1" -H "x-amz-content-sha256: $(sha "$1")" "$S3_ENDPOINT/$S3_BUCKET/$2"
}

# there KEY: the status of a HEAD of KEY.
there() {
	s3_curl -o /dev/null -w '%{http_code}' -I "$S3_ENDPOINT/$S3_BUCKET/$1" 2>>"$work/curl.log" || true
}

# lifecycle FILE: PutBucketLifecycleConfiguration with the XML in FILE. curl
# 7.88 signs the query as written, so ?lifecycle is spelled ?lifecycle=.
lifecycle() {
	req -T "$1" -H "x-amz-content-sha256: $(sha "$1")" "$S3_ENDPOINT/$S3_BUCKET?lifecycle="
}

# ttl KEY: the TTL in seconds the filer keeps with KEY (its TtlSec).
ttl() {
	curl -s "$filer_http/buckets/$S3_BUCKET/$1?metadata=true" | sed -n 's/.*"TtlSec":\([0-9]*\).*/\1/p'
}

# rule PREFIX TTL: filer.conf has a rule for PREFIX with TTL.
rule() {
	curl -s "$filer_http/etc/seaweedfs/filer.conf" | tr -d ' \n' |
		grep -q "\"locationPrefix\":\"$1\",[^}]*\"ttl\":\"$2\""
}

# listed DIR: how many entries the filer lists in DIR of the bucket (0 when
# DIR is gone too).
listed() {
	curl -s -H 'Accept: application/json' "$filer_http/buckets/$S3_BUCKET/$1" |
		grep -o '"FullPath":' | wc -l | tr -d ' '
}

# one_pass: one pass of SeaweedFS's lifecycle worker over every shard.
one_pass() {
	wshell "s3.lifecycle.run-shard -shards 0-15 -s3 $s3_grpc"
	grep -q 'complete' "$work/shell.out"
}

# is WHAT WANT GOT: a check that GOT is WANT, saying what came instead.
is() {
	check "$1" [ "$3" = "$2" ]
	[ "$3" = "$2" ] || echo "#   expected '$2', got '$3'"
}

rules() {  # rules EXPIRATION: a lifecycle document expiring go/ by EXPIRATION
	printf '<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>expire</ID>'
	printf '<Filter><Prefix>go/</Prefix></Filter><Status>Enabled</Status>'
	printf '<Expiration>%s</Expiration></Rule></LifecycleConfiguration>' "$1"
}
rules '<Days>30</Days>' >"$work/days30.xml"
rules '<Date>2020-01-01T00:00:00Z</Date>' >"$work/past.xml"
printf 'a small object' >"$work/small"

# First the expiry, since it takes a minute: a rule of 1m on short/, and a
# gateway that writes there.
wshell "fs.configure -locationPrefix=/buckets/$S3_BUCKET/short/ -ttl=1m -apply"
check "fs.configure puts a 1m rule on short/ in filer.conf" rule "/buckets/$S3_BUCKET/short/" 1m
start --s3 "s3://$S3_BUCKET/short" --s3-endpoint "$S3_ENDPOINT" --s3-region "$S3_REGION"
head -c 100000 /dev/urandom >"$work/cas"
cas=$(sha "$work/cas")
head -c $((70 * 1024 * 1024)) /dev/urandom >"$work/big"
big=$(sha "$work/big")
written=$(date +%s)
is "the gateway stores a CAS object (201)" 201 \
	"$(curl -s -o /dev/null -w '%{http_code}' -T "$work/cas" "$base/cas/$cas")"
is "... a 70 MiB one, which goes up in parts (201)" 201 \
	"$(curl -s -o /dev/null -w '%{http_code}' -T "$work/big" "$base/cas/$big")"
is "... and an action entry (201)" 201 \
	"$(curl -s -o /dev/null -w '%{http_code}' -T "$work/small" "$base/ac/$cas")"
is "the CAS object carries a TTL of 60 s" 60 "$(ttl "short/cas/$cas")"
is "the multipart object too" 60 "$(ttl "short/cas/$big")"
is "the action entry too" 60 "$(ttl "short/ac/$cas")"
is "the filer lists both CAS objects under short/cas/" 2 "$(listed short/cas/)"

# The S3 lifecycle rule.
is "before any rule: go/old is stored" 200 "$(put "$work/small" go/old)"
is "... and so is other/old" 200 "$(put "$work/small" other/old)"
is "GetBucketLifecycleConfiguration without a rule is 404" 404 "$(req "$S3_ENDPOINT/$S3_BUCKET?lifecycle=")"
is "PutBucketLifecycleConfiguration of Expiration Days 30 on go/ is 200" 200 \
	"$(lifecycle "$work/days30.xml")"
is "GetBucketLifecycleConfiguration is 200" 200 "$(req "$S3_ENDPOINT/$S3_BUCKET?lifecycle=")"
check "... and gives the rule back: prefix go/, 30 days" sh -c \
	'grep -q "<Prefix>go/</Prefix>" "$1" && grep -q "<Days>30</Days>" "$1"' _ "$work/body"
is "go/new, written after the rule, is stored" 200 "$(put "$work/small" go/new)"
is "... and carries no TTL: the rule alone stamps nothing" 0 "$(ttl go/new)"
check "one pass of the lifecycle worker runs" one_pass
is "... and leaves go/old, younger than 30 days" 200 "$(there go/old)"
is "... and go/new" 200 "$(there go/new)"
is "a rule whose Expiration Date is past is 200" 200 "$(lifecycle "$work/past.xml")"
check "under it, a pass runs" one_pass
is "... and deletes go/old, written before any rule" 404 "$(there go/old)"
is "... and go/new" 404 "$(there go/new)"
is "... but not other/old, outside go/" 200 "$(there other/old)"
is "... nor what the gateway wrote under short/" 200 "$(there "short/cas/$cas")"
is "DeleteBucketLifecycle is 204" 204 "$(req -X DELETE "$S3_ENDPOINT/$S3_BUCKET?lifecycle=")"

# The filer rule.
is "go/before is stored before the filer rule" 200 "$(put "$work/small" go/before)"
wshell "fs.configure -locationPrefix=/buckets/$S3_BUCKET/go/ -ttl=30d -apply"
check "fs.configure puts a 30d rule on go/ in filer.conf" rule "/buckets/$S3_BUCKET/go/" 30d
is "go/after, written after it, is stored" 200 "$(put "$work/small" go/after)"
is "... and carries a TTL of 30 days (2592000 s)" 2592000 "$(ttl go/after)"
is "go/before keeps no TTL" 0 "$(ttl go/before)"
is "other/after, outside go/, is stored" 200 "$(put "$work/small" other/after)"
is "... and carries no TTL" 0 "$(ttl other/after)"
is "an S3 lifecycle rule put afterwards is 200" 200 "$(lifecycle "$work/days30.xml")"
check "... and leaves the filer rule in place" rule "/buckets/$S3_BUCKET/go/" 30d

# The expiry: wait (2 minutes at most) until all the gateway wrote is gone.
gone=
while [ $(($(date +%s) - written)) -lt 120 ]; do
	if [ "$(there "short/cas/$cas")" = 404 ] && [ "$(there "short/cas/$big")" = 404 ] &&
		[ "$(there "short/ac/$cas")" = 404 ]; then
		gone=$(($(date +%s) - written))
		break
	fi
	sleep 1
done
check "what the gateway wrote under the 1m rule is gone from the bucket (after ${gone:-over 120} s)" \
	[ -n "$gone" ]
check "... not before its minute was up" [ "${gone:-0}" -ge 59 ]
is "the filer lists nothing under short/cas/" 0 "$(listed short/cas/)"
is "go/after, under the 30d rule, is still there" 200 "$(there go/after)"
is "other/old is still there" 200 "$(there other/old)"
is "the gateway's next upload of the CAS object is stored (201)" 201 \
	"$(curl -s -o /dev/null -w '%{http_code}' -T "$work/cas" "$base/cas/$cas")"
is "... and it is back in the bucket" 200 "$(there "short/cas/$cas")"
check "the gateway stops cleanly" stop

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed; weed shell said:"
	cat "$work/shell.log"
	exit 1
fi
echo "all lifecycle checks passed"
