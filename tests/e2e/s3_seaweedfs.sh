#!/bin/sh
# s3_seaweedfs.sh: the S3 harness (s3_lib.sh) against a real SeaweedFS, and
# how its S3 API answers the requests the gateway will make, each signed by
# curl's own SigV4 with path-style URLs ($S3_ENDPOINT/$S3_BUCKET/KEY): PUT
# with the body's SHA-256 as x-amz-content-sha256, GET and HEAD, missing keys
# and buckets, wrong credentials, a payload hash that does not match the body,
# UNSIGNED-PAYLOAD, other regions, a 12 MiB multipart upload in 5 MiB parts,
# and SeaweedFS stopped and started again on the same data. Each check states
# the answer observed, so a SeaweedFS that answers otherwise fails here first.
set -eu

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"
. "${TOP_SRCDIR:-.}/tests/e2e/s3_lib.sh"
s3_require

# req ARG...: one signed request (s3_curl ARG...); prints its HTTP status
# (000: no answer) and keeps the body in $work/body, the headers in
# $work/headers.
req() {
	s3_curl -o "$work/body" -D "$work/headers" -w '%{http_code}' "$@" 2>>"$work/curl.log" || true
}

# header NAME: that header of the last req, without its CR.
header() {
	tr -d '\r' <"$work/headers" | sed -n "s/^$1: //Ip" | tail -n 1
}

# s3_code: the <Code> of the last req's S3 error document.
s3_code() {
	sed -n 's:.*<Code>\([^<]*\)</Code>.*:\1:p' "$work/body" | head -n 1
}

# is WHAT WANT GOT: a check that GOT is WANT, saying what came instead.
is() {
	check "$1" [ "$3" = "$2" ]
	[ "$3" = "$2" ] || echo "#   expected '$2', got '$3'"
}

sha() {
	sha256sum "$1" | cut -c1-64
}

# put FILE KEY [HASH]: PUT FILE as KEY, signed with HASH (default: FILE's
# SHA-256) as x-amz-content-sha256; prints the status.
put() {
	req -T "$1" -H "x-amz-content-sha256: ${3:-$(sha "$1")}" "$S3_ENDPOINT/$S3_BUCKET/$2"
}

# got_back KEY FILE: GET of KEY is 200 with FILE's bytes.
got_back() {
	[ "$(req "$S3_ENDPOINT/$S3_BUCKET/$1")" = 200 ] && cmp -s "$work/body" "$2"
}

head -c 100000 /dev/urandom >"$work/obj"
id=$(sha "$work/obj")
head -c 100000 /dev/urandom >"$work/other"
other=$(sha "$work/other")
zero=0000000000000000000000000000000000000000000000000000000000000000
key=cas/$id

s3_start
echo "# weed mini answered on $S3_ENDPOINT after ${s3_ready_ms} ms (ports: $s3_ports)"
check "S3_ENDPOINT is http://127.0.0.1:PORT" \
	sh -c "echo '$S3_ENDPOINT' | grep -Eqx 'http://127\.0\.0\.1:[0-9]+'"
check "weed mini runs as one process, with no children" \
	[ -z "$(ps -o pid= --ppid "$s3_pid")" ]

# Objects: PUT signed with the body's hash, then GET and HEAD.
is "PUT with x-amz-content-sha256 = SHA-256 of the body is 200" 200 "$(put "$work/obj" "$key")"
is "its ETag is the MD5 of the body" "\"$(md5sum "$work/obj" | cut -c1-32)\"" "$(header ETag)"
check "GET returns the same bytes" got_back "$key" "$work/obj"
is "HEAD is 200" 200 "$(req -I "$S3_ENDPOINT/$S3_BUCKET/$key")"
is "HEAD gives the Content-Length" 100000 "$(header Content-Length)"
is "GET of a missing key is 404" 404 "$(req "$S3_ENDPOINT/$S3_BUCKET/cas/$zero")"
is "its body is an S3 error, NoSuchKey" NoSuchKey "$(s3_code)"
is "HEAD of a missing key is 404" 404 "$(req -I "$S3_ENDPOINT/$S3_BUCKET/cas/$zero")"

# The payload hash: SeaweedFS hashes the body and refuses a mismatch, and
# stores nothing, nor replaces what the key held.
is "PUT whose x-amz-content-sha256 is not the body's is 400" 400 \
	"$(put "$work/obj" "cas/$zero" "$other")"
is "its code is XAmzContentSHA256Mismatch" XAmzContentSHA256Mismatch "$(s3_code)"
is "nothing was stored under that key" 404 "$(req -I "$S3_ENDPOINT/$S3_BUCKET/cas/$zero")"
is "a mismatched PUT over an existing key is 400 too" 400 "$(put "$work/other" "$key" "$id")"
check "and the key keeps its old bytes" got_back "$key" "$work/obj"
is "UNSIGNED-PAYLOAD is accepted (200)" 200 "$(put "$work/other" "cas/$other" UNSIGNED-PAYLOAD)"
check "and stores the body" got_back "cas/$other" "$work/other"

# Credentials, buckets, regions.
is "a wrong secret is 403" 403 \
	"$(req --user "$AWS_ACCESS_KEY_ID:wrong-secret" "$S3_ENDPOINT/$S3_BUCKET/$key")"
is "its code is SignatureDoesNotMatch" SignatureDoesNotMatch "$(s3_code)"
is "a PUT with a wrong secret is 403" 403 \
	"$(req --user "$AWS_ACCESS_KEY_ID:wrong-secret" -T "$work/other" \
		-H "x-amz-content-sha256: $other" "$S3_ENDPOINT/$S3_BUCKET/cas/$other-x")"
is "an unknown access key is 403" 403 \
	"$(req --user "nobody:$AWS_SECRET_ACCESS_KEY" "$S3_ENDPOINT/$S3_BUCKET/$key")"
is "its code is InvalidAccessKeyId" InvalidAccessKeyId "$(s3_code)"
is "an anonymous GET is 403" 403 \
	"$(curl -s -o "$work/body" -w '%{http_code}' "$S3_ENDPOINT/$S3_BUCKET/$key" || true)"
is "its code is AccessDenied" AccessDenied "$(s3_code)"
is "GET in a missing bucket is 404" 404 "$(req "$S3_ENDPOINT/no-such-bucket/$key")"
is "its code is NoSuchBucket" NoSuchBucket "$(s3_code)"
is "HEAD in a missing bucket is 404" 404 "$(req -I "$S3_ENDPOINT/no-such-bucket/$key")"
is "PUT in a missing bucket is 404 (with -s3.autoCreateBucket=false)" 404 \
	"$(req -T "$work/obj" -H "x-amz-content-sha256: $id" "$S3_ENDPOINT/no-such-bucket/$key")"
is "its code is NoSuchBucket" NoSuchBucket "$(s3_code)"
is "a request signed for another region is accepted" 200 \
	"$(req --aws-sigv4 "aws:amz:eu-north-7:s3" -I "$S3_ENDPOINT/$S3_BUCKET/$key")"

# Multipart: 12 MiB in parts of 5, 5 and 2 MiB, each signed with its hash.
# curl 7.88 signs the query as written, so ?uploads is spelled ?uploads=.
head -c $((12 * 1024 * 1024)) /dev/urandom >"$work/big"
(cd "$work" && split -b $((5 * 1024 * 1024)) -d big part.)
big=cas/$(sha "$work/big")
url=$S3_ENDPOINT/$S3_BUCKET/$big
is "CreateMultipartUpload is 200" 200 "$(req -X POST -H "x-amz-content-sha256: $(sha /dev/null)" "$url?uploads=")"
upload=$(sed -n 's:.*<UploadId>\([^<]*\)</UploadId>.*:\1:p' "$work/body")
check "it names an UploadId" [ -n "$upload" ]
is "UploadPart whose payload hash is not the part's is 400" 400 \
	"$(req -T "$work/part.00" -H "x-amz-content-sha256: $zero" "$url?partNumber=1&uploadId=$upload")"
printf '<CompleteMultipartUpload>' >"$work/complete"
n=0
for part in "$work"/part.0*; do
	n=$((n + 1))
	is "UploadPart $n ($(wc -c <"$part") bytes) is 200" 200 \
		"$(req -T "$part" -H "x-amz-content-sha256: $(sha "$part")" "$url?partNumber=$n&uploadId=$upload")"
	printf '<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>' "$n" "$(header ETag)" >>"$work/complete"
done
printf '</CompleteMultipartUpload>' >>"$work/complete"
is "the object came in 3 parts" 3 "$n"
is "CompleteMultipartUpload is 200" 200 \
	"$(req -X POST --data-binary "@$work/complete" -H "Content-Type: application/xml" \
		-H "x-amz-content-sha256: $(sha "$work/complete")" "$url?uploadId=$upload")"
check "its answer is a CompleteMultipartUploadResult" grep -q "<CompleteMultipartUploadResult" "$work/body"
check "GET of the multipart object returns the 12 MiB" got_back "$big" "$work/big"
is "HEAD gives its Content-Length" $((12 * 1024 * 1024)) "$(req -I "$url" >/dev/null; header Content-Length)"
check "its ETag is of the multipart form (\"...-3\")" sh -c "echo '$(header ETag)' | grep -q -- '-3\"\$'"

# Stopped and started again on the same data and port.
echo "# weed mini's memory before stopping: $(grep -E '^Vm(RSS|HWM)' "/proc/$s3_pid/status" | tr -s ' \t' ' ' | tr '\n' ' ')"
endpoint=$S3_ENDPOINT
pid=$s3_pid
check "SIGTERM stops weed mini, status 0" s3_stop
echo "# it stopped in ${s3_stop_ms} ms"
check "the process is gone" sh -c "! kill -0 $pid 2>/dev/null"
is "nothing answers on the S3 port" 000 "$(req -I "$S3_ENDPOINT/$S3_BUCKET/$key")"
s3_start
echo "# weed mini answered again after ${s3_ready_ms} ms"
is "it comes back on the same endpoint" "$endpoint" "$S3_ENDPOINT"
check "the object survived the restart" got_back "$key" "$work/obj"
check "and the multipart object" got_back "$big" "$work/big"
is "a PUT after the restart is 200" 200 "$(put "$work/other" "cas/$other-again")"
pid=$s3_pid
check "SIGTERM stops it again" s3_stop
check "no weed process is left" sh -c "! kill -0 $pid 2>/dev/null"
check "weed mini removed its gRPC sockets in /tmp" sh -c \
	"! ls /tmp/seaweedfs-*-grpc-*.sock 2>/dev/null | grep -E -- '-($(echo "$s3_ports" | tr ' ' '|'))\.sock\$'"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed; weed's output:"
	cat "$s3_work/weed.log"
	exit 1
fi
echo "all SeaweedFS checks passed"
