#!/bin/sh
# curl.sh: round trips with curl against a real cachegate on loopback:
# put, get and head of ac/cas objects, a wrong hash, bad paths, the
# informational endpoints, tokens as Bearer and Basic, and HTTPS.
set -eu

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"

# status ARGS...: run curl and print only the HTTP status; the body goes to $work/body.
status() {
	curl -s -o "$work/body" -w '%{http_code}' "$@" || true
}

sha() {
	sha256sum "$1" | cut -c1-64
}

printf 'hello, cache\n' >"$work/obj"
id=$(sha "$work/obj")
printf 'something else' >"$work/other"
other=$(sha "$work/other")
zero=0000000000000000000000000000000000000000000000000000000000000000

start
check "GET of an absent object is 404" [ "$(status "$base/cas/$id")" = 404 ]
check "PUT /cas stores the object" [ "$(status -T "$work/obj" "$base/cas/$id")" = 201 ]
check "GET /cas returns the same bytes" sh -c \
	"curl -sf '$base/cas/$id' -o '$work/got' && cmp -s '$work/got' '$work/obj'"
check "HEAD /cas gives the length" sh -c \
	"curl -sI '$base/cas/$id' | tr -d '\r' | grep -qx 'Content-Length: 13'"
check "PUT of an object already present is 2xx" sh -c \
	"code=\$(curl -s -o /dev/null -w '%{http_code}' -T '$work/obj' '$base/cas/$id'); [ \$code -ge 200 ] && [ \$code -lt 300 ]"
check "a chunked upload from stdin works" [ "$(status -T - "$base/cas/$other" <"$work/other")" = 201 ]
check "PUT with the wrong hash is 400" [ "$(status -T "$work/obj" "$base/cas/$zero")" = 400 ]
check "the 400 says why in one line" grep -q "hash mismatch" "$work/body"
check "nothing was stored under the wrong hash" [ "$(status "$base/cas/$zero")" = 404 ]
check "PUT /ac stores an entry" [ "$(status -T "$work/obj" "$base/ac/$zero")" = 201 ]
check "a second PUT /ac replaces it" [ "$(status -T "$work/other" "$base/ac/$zero")" = 201 ]
check "GET /ac returns the latest entry" sh -c \
	"curl -sf '$base/ac/$zero' | cmp -s - '$work/other'"
check "an instance prefix is accepted" [ "$(status "$base/some/instance/cas/$id")" = 200 ]
check "an uppercase id is 400" [ "$(status "$base/cas/$(echo "$id" | tr a-f A-F)")" = 400 ]
check "a traversal is 400" [ "$(status --path-as-is "$base/cas/../../etc/passwd")" = 400 ]
check "an escaped traversal is 400" [ "$(status "$base/ac/..%2f..%2fREADME")" = 400 ]
check "an unknown path is 404" [ "$(status "$base/nothing/here")" = 404 ]
check "DELETE is 405" [ "$(status -X DELETE "$base/cas/$id")" = 405 ]
check "/healthz says ok" sh -c "curl -sf '$base/healthz' | grep -qx ok"
check "/metrics counts the PUTs" sh -c \
	"curl -sf '$base/metrics' | grep -q '^cachegate_requests_total{method=\"PUT\",kind=\"cas\",status=\"201\"} '"
store_real=$(cd "$work/store" && pwd -P)
check "/status is JSON with the store path" sh -c \
	"curl -sf '$base/status' | grep -q '\"store_path\": \"$store_real\"'"
check "SIGTERM stops the server cleanly" stop

# Tokens: Bearer and Basic (the token as password), read and write.
printf '# tokens\nreadtok read\nwritetok write\n' >"$work/tokens"
start --auth-file "$work/tokens"
check "no credentials is 401" [ "$(status "$base/cas/$id")" = 401 ]
check "a wrong token is 401" [ "$(status -H 'Authorization: Bearer nope' "$base/cas/$id")" = 401 ]
check "a read token reads (Bearer)" [ "$(status -H 'Authorization: Bearer readtok' "$base/cas/$id")" = 200 ]
check "a read token reads (Basic)" [ "$(status -u ci:readtok "$base/cas/$id")" = 200 ]
check "a read token may not write" [ "$(status -u ci:readtok -T "$work/obj" "$base/ac/$zero")" = 403 ]
check "a write token writes (Bearer)" \
	[ "$(status -H 'Authorization: Bearer writetok' -T "$work/obj" "$base/ac/$zero")" = 201 ]
check "a write token writes (Basic)" [ "$(status -u ci:writetok -T "$work/obj" "$base/ac/$zero")" = 201 ]
check "no token is written to the log" sh -c "! grep -q -e readtok -e writetok '$work/server.log'"
check "SIGTERM stops the authenticated server" stop

# HTTPS with a throwaway self-signed certificate.
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 \
		-keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
	start --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
	tls=https://127.0.0.1:$port
	check "HTTPS GET works" sh -c \
		"curl -sf --cacert '$work/cert.pem' '$tls/cas/$id' | cmp -s - '$work/obj'"
	check "HTTPS PUT works" \
		[ "$(status --cacert "$work/cert.pem" -T "$work/obj" "$tls/ac/$zero")" = 201 ]
	check "SIGTERM stops the HTTPS server" stop
else
	echo "ok - HTTPS checks skipped: openssl is not installed"
fi

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed; server log:"
	cat "$work/server.log"
	exit 1
fi
echo "all curl checks passed"
