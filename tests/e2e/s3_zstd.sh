#!/bin/sh
# s3_zstd.sh: compressed objects in a real SeaweedFS bucket (issue 17, item
# 5). A gateway that compresses sends a .zst object as stored, marked
# Content-Encoding: zstd with its raw size, and SeaweedFS answers both back;
# a second gateway that compresses and a third with --compression none read
# it byte for byte from empty stores (a HEAD answers the raw size); an old
# raw object in the bucket still reads.
set -eu

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"
. "${TOP_SRCDIR:-.}/tests/e2e/s3_lib.sh"
s3_require
s3_start

trap 's3_stop_gateways || true; s3_cleanup' EXIT

# header NAME FILE: the value of header NAME in the headers saved in FILE.
header() {
	tr -d '\r' <"$2" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" 'tolower($1) == n ":" { print $2 }'
}
# stored N ID SUFFIX: the bytes of gateway N's file of ID (".zst" or ""), or "none".
stored() {
	f="$work/store$1/cas/$(echo "$2" | cut -c1-2)/$2$3"
	if [ -f "$f" ]; then wc -c <"$f" | tr -d ' '; else echo none; fi
}

# The compressing ones compress raw uploads too: curl uploads raw here.
s3_gateway 1 --compression zstd --compress-raw-uploads
s3_gateway 2 --compression zstd --compress-raw-uploads
s3_gateway 3 --compression none
# A compressible object: Go source, as build outputs are.
i=0
while [ "$i" -lt 4000 ]; do
	echo "func f$i() { fmt.Println(\"a build output $((i * 7919 % 1000))\") }"
	i=$((i + 1))
done >"$work/obj"
obj=$(sha256sum "$work/obj" | cut -c1-64)
size=$(wc -c <"$work/obj" | tr -d ' ')

check "a PUT through gateway 1 is stored (201)" \
	test "$(curl -s -o /dev/null -w '%{http_code}' -T "$work/obj" "$gw1/cas/$obj")" = 201
zst=$(stored 1 "$obj" .zst)
check "... compressed in its store ($zst of $size bytes)" test "$zst" != none
s3_curl -s -D "$work/h" -o "$work/in-bucket" "$S3_ENDPOINT/$S3_BUCKET/team/cas/$obj"
check "the bucket holds the .zst file as it is" \
	cmp -s "$work/in-bucket" "$work/store1/cas/$(echo "$obj" | cut -c1-2)/$obj.zst"
check "... marked Content-Encoding: zstd" test "$(header Content-Encoding "$work/h")" = zstd
check "... with its raw size" test "$(header x-amz-meta-raw-size "$work/h")" = "$size"

check "gateway 2 answers a HEAD with the raw size" \
	test "$(curl -sI "$gw2/cas/$obj" | tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }')" = "$size"
curl -sf -o "$work/got2" "$gw2/cas/$obj"
check "gateway 2 (compressing) serves it byte for byte" cmp -s "$work/got2" "$work/obj"
check "... and keeps it compressed" test "$(stored 2 "$obj" .zst)" = "$zst"
curl -sf -o "$work/got3" "$gw3/cas/$obj"
check "gateway 3 (--compression none) serves it byte for byte" cmp -s "$work/got3" "$work/obj"
check "... and keeps it raw" test "$(stored 3 "$obj" "")" = "$size"

# An object a gateway of before put in the bucket: raw, no encoding.
yes 'an old raw output' | head -c 100000 >"$work/old"
old=$(sha256sum "$work/old" | cut -c1-64)
s3_curl -s -o /dev/null -H "x-amz-content-sha256: $old" -T "$work/old" \
	"$S3_ENDPOINT/$S3_BUCKET/team/cas/$old"
curl -sf -o "$work/got-old" "$gw2/cas/$old"
check "an old raw object in the bucket still reads" cmp -s "$work/got-old" "$work/old"
check "... and is kept compressed by the store's own rule" test "$(stored 2 "$old" .zst)" != none
check "no damage was counted" test "$(curl -s "$gw2/metrics" |
	awk '$1 == "cachegate_damaged_objects_total{found_by=\"s3\"}" { print $2 }')" = 0
check "the gateways stop cleanly" s3_stop_gateways
[ "$failures" -eq 0 ]
