#!/bin/sh
# go_tls.sh: the helper and the gateway over HTTPS with a private CA and
# client certificates, all made here with the openssl command.
#  1. Machine A builds through a gateway that requires client certificates
#     (--tls-client-ca), trusting its CA with --cacert; machine B, with an
#     empty store and its settings in CACHEGATE_CACERT/CERT/KEY, is served.
#  2. A helper that trusts another CA says so in one line; the build still
#     succeeds on its local store.
#  3. Without a client certificate (curl, then the helper) the gateway
#     refuses with a 403 of one line; the helper says so in one line and the
#     build succeeds.
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
if ! command -v openssl >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	echo "SKIP: the openssl and curl commands are needed"
	exit 77
fi

# ---- a throwaway CA, a server certificate for 127.0.0.1, client certificates
pki=$work/pki
mkdir -p "$pki"
cat >"$pki/openssl.cnf" <<'EOT'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = cachegate test
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
subjectAltName = IP:127.0.0.1
extendedKeyUsage = serverAuth
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
EOT

# new_key NAME: an EC P-256 key in $pki/NAME.key.
new_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$1.key" 2>/dev/null
}

# new_ca NAME: a self-signed CA, $pki/NAME.pem.
new_ca() {
	new_key "$1"
	openssl req -x509 -new -config "$pki/openssl.cnf" -extensions ca -key "$pki/$1.key" \
		-subj "/CN=cachegate test $1" -days 2 -out "$pki/$1.pem"
}

# new_cert NAME CA EXTENSIONS: $pki/NAME.pem signed by $pki/CA.pem.
new_cert() {
	new_key "$1"
	openssl req -new -config "$pki/openssl.cnf" -key "$pki/$1.key" \
		-subj "/CN=cachegate test $1" -out "$pki/$1.csr"
	openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$2.pem" -CAkey "$pki/$2.key" \
		-set_serial "$(date +%s%N)" -days 1 -extfile "$pki/openssl.cnf" -extensions "$3" \
		-out "$pki/$1.pem" 2>/dev/null
}

new_ca ca
new_ca other-ca
new_cert server ca server
new_cert client ca client
new_cert stranger other-ca client

gateway_start --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
	--tls-client-ca "$pki/ca.pem"
check "the gateway says it serves HTTPS" grep -q 'listening on https://' "$work/gateway/log"

# curl_status FILE CURL-ARGS...: the HTTP status of GET /healthz, the body in FILE.
curl_status() {
	out=$1
	shift
	curl -s -o "$out" -w '%{http_code}' "$@" "$remote/healthz" || true
}

# ---- 3a. curl with and without a client certificate
code=$(curl_status "$work/nocert.body" --cacert "$pki/ca.pem")
check "curl without a client certificate gets 403 (got $code)" [ "$code" = 403 ]
check "the 403 is one line ($(cat "$work/nocert.body"))" [ "$(wc -l <"$work/nocert.body")" -eq 1 ]
check "that line asks for a client certificate" grep -q 'client certificate' "$work/nocert.body"
code=$(curl_status "$work/stranger.body" --cacert "$pki/ca.pem" \
	--cert "$pki/stranger.pem" --key "$pki/stranger.key")
check "curl with a certificate from another CA gets 403 (got $code)" [ "$code" = 403 ]
check "that 403 says the CA is not trusted ($(cat "$work/stranger.body"))" \
	grep -q 'not signed by a CA the server trusts' "$work/stranger.body"
code=$(curl_status "$work/server-as-client.body" --cacert "$pki/ca.pem" \
	--cert "$pki/server.pem" --key "$pki/server.key")
check "a server certificate does not pass as a client's (got $code)" [ "$code" = 403 ]
code=$(curl_status "$work/ok.body" --cacert "$pki/ca.pem" \
	--cert "$pki/client.pem" --key "$pki/client.key")
check "curl with the client certificate gets 200 (got $code)" [ "$code" = 200 ]
code=$(curl_status "$work/untrusted.body" --cacert "$pki/other-ca.pem" \
	--cert "$pki/client.pem" --key "$pki/client.key")
check "curl trusting another CA does not get through (got $code)" [ "$code" = 000 ]

# ---- bad helper settings stop it at start, with one line naming the file
status=0
"$CACHEGATE_PROG_BIN" --remote "$remote" --cacert "$pki/missing.pem" \
	</dev/null >"$work/bad.out" 2>"$work/bad.err" || status=$?
check "an unreadable --cacert is a bad option (exit $status)" [ "$status" -eq 2 ]
check "one line ($(cat "$work/bad.err"))" [ "$(wc -l <"$work/bad.err")" -eq 1 ]
check "that line names the file" grep -q "missing.pem" "$work/bad.err"
check "nothing on stdout" [ ! -s "$work/bad.out" ]

go_module "$work/mod" 4
cd "$work/mod"
tls_flags="--cacert $pki/ca.pem --cert $pki/client.pem --key $pki/client.key"

# helper_lines LOG: the helper's lines on stderr other than its stats.
helper_lines() {
	grep 'cachegate-prog:' "$1" | grep -v 'cachegate-prog: gets ' || true
}

# ---- 1. a build over HTTPS with a client certificate, then a second machine
go_env machine-a --remote "$remote" --verbose $tls_flags
"$GO" build -x ./... 2>"$work/a.log"
check "machine A compiles" [ "$(compiles "$work/a.log")" -gt 0 ]
check "machine A uploads over HTTPS" grep -q 'uploads [1-9]' "$work/a.log"
check "machine A's helper says nothing but its stats ($(helper_lines "$work/a.log"))" \
	[ -z "$(helper_lines "$work/a.log")" ]
check "the objects are in the gateway's store" \
	[ "$(find "$work/gateway/store/cas" -type f | wc -l)" -gt 0 ]

go_env machine-b --remote "$remote" --verbose --no-preload
export CACHEGATE_CACERT="$pki/ca.pem" CACHEGATE_CERT="$pki/client.pem"
export CACHEGATE_KEY="$pki/client.key"
"$GO" build -x ./... 2>"$work/b.log"
unset CACHEGATE_CACERT CACHEGATE_CERT CACHEGATE_KEY
check "machine B (settings from the environment) compiles nothing" \
	[ "$(compiles "$work/b.log")" -eq 0 ]
check "machine B gets remote hits" [ "$(prog_stat "$work/b.log" 'remote hits')" -gt 0 ]
check "machine B's helper says nothing but its stats ($(helper_lines "$work/b.log"))" \
	[ -z "$(helper_lines "$work/b.log")" ]

# Machines C and D build only the module's own packages, p0 to p3: the standard
# library (cmd/tool needs fmt) is not what these cases are about, and costs a minute each.
pkgs="./p0 ./p1 ./p2 ./p3"

# ---- 2. the wrong CA: one line, and the build succeeds on the local store
go_env machine-c --remote "$remote" --cacert "$pki/other-ca.pem" \
	--cert "$pki/client.pem" --key "$pki/client.key"
status=0
"$GO" build -x $pkgs 2>"$work/c.log" || status=$?
check "with the wrong CA the build succeeds (exit $status)" [ "$status" -eq 0 ]
check "and compiles on its own" [ "$(compiles "$work/c.log")" -gt 0 ]
echo "--- the helper's lines:"
helper_lines "$work/c.log"
echo "---"
check "the helper says so in exactly one line" [ "$(helper_lines "$work/c.log" | wc -l)" -eq 1 ]
check "that line names the remote, the CA file and the failure" \
	grep -q "^cachegate-prog: cannot trust the remote $remote with the CAs of $pki/other-ca.pem: .*; continuing without the remote" "$work/c.log"
check "the local store holds the build" \
	[ -n "$(find "$work/machine-c/store/cas" -type f | head -1)" ]

# ---- 3b. the helper without a client certificate
go_env machine-d --remote "$remote" --verbose --cacert "$pki/ca.pem"
status=0
"$GO" build -x $pkgs 2>"$work/d.log" || status=$?
check "without a client certificate the build succeeds (exit $status)" [ "$status" -eq 0 ]
check "and gets no remote hits" [ "$(prog_stat "$work/d.log" 'remote hits')" -eq 0 ]
echo "--- the helper's lines:"
helper_lines "$work/d.log"
echo "---"
check "the helper says so in exactly one line" [ "$(helper_lines "$work/d.log" | wc -l)" -eq 1 ]
check "that line says the gateway refused it and asks for a certificate" \
	grep -q "^cachegate-prog: the remote $remote refused a read (HTTP 403): .*client certificate.*; continuing without the remote" "$work/d.log"
exit "$fail"
