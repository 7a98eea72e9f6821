# fuzz/: libFuzzer targets, one per parser of untrusted bytes, each built
# from the parser's own sources with clang (FUZZ_CC, found by configure)
# whatever CC is. `make check` runs each for FUZZ_CHECK_SECONDS as a test;
# `make fuzz` runs each for FUZZ_SECONDS. Seeds: fuzz/corpus/<name>/.
FUZZ_TARGETS = \
	fuzz/request.fuzz \
	fuzz/stream.fuzz \
	fuzz/goentry.fuzz \
	fuzz/route.fuzz \
	fuzz/authheader.fuzz \
	fuzz/authfile.fuzz \
	fuzz/size.fuzz \
	fuzz/zst.fuzz \
	fuzz/jwt.fuzz \
	fuzz/jwks.fuzz \
	fuzz/rules.fuzz
FUZZ_SECONDS = 60
FUZZ_CHECK_SECONDS = 5

EXTRA_DIST += fuzz/run.sh fuzz/corpus fuzz/protocol.dict fuzz/route.dict fuzz/auth.dict

# A test fuzz/<name>.fuzz is run as `fuzz/run.sh SECONDS fuzz/<name>.fuzz`.
TEST_EXTENSIONS = .fuzz
FUZZ_LOG_COMPILER = $(srcdir)/fuzz/run.sh
AM_FUZZ_LOG_FLAGS = $(FUZZ_CHECK_SECONDS)

if FUZZ
check_PROGRAMS += $(FUZZ_TARGETS)
TESTS += $(FUZZ_TARGETS)

# Coverage for libFuzzer on every object; its main() only at the link.
FUZZ_COMPILE_FLAGS = $(WARN_CFLAGS) -std=c11 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_LINK_FLAGS = -fsanitize=fuzzer,address,undefined

# The store, the helper and the gateway built again with the fuzzer's
# coverage, as libraries: each target links what its parser needs.
check_LIBRARIES += fuzz/libfuzzprog.a fuzz/libfuzzgw.a fuzz/libfuzzstore.a
fuzz_libfuzzprog_a_SOURCES = $(PROG_SOURCES)
fuzz_libfuzzprog_a_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_libfuzzgw_a_SOURCES = $(libcggw_a_SOURCES)
fuzz_libfuzzgw_a_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_libfuzzstore_a_SOURCES = $(STORE_SOURCES) $(WIRE_SOURCES)
fuzz_libfuzzstore_a_CFLAGS = $(FUZZ_COMPILE_FLAGS)
FUZZ_PROG_LIBS = fuzz/libfuzzprog.a fuzz/libfuzzstore.a $(JANSSON_LIBS) $(CRYPTO_LIBS) $(ZSTD_LIBS)
FUZZ_GW_LIBS = fuzz/libfuzzgw.a fuzz/libfuzzstore.a $(CRYPTO_LIBS) $(ZSTD_LIBS)
FUZZ_OIDC_LIBS = fuzz/libfuzzgw.a fuzz/libfuzzstore.a $(JWT_LIBS) $(JANSSON_LIBS) $(CRYPTO_LIBS)

fuzz_request_fuzz_SOURCES = fuzz/request_fuzz.c
fuzz_request_fuzz_LDADD = $(FUZZ_PROG_LIBS)
fuzz_stream_fuzz_SOURCES = fuzz/stream_fuzz.c tests/tmpdir.c
fuzz_stream_fuzz_LDADD = $(FUZZ_PROG_LIBS)
fuzz_goentry_fuzz_SOURCES = fuzz/goentry_fuzz.c
fuzz_goentry_fuzz_LDADD = fuzz/libfuzzstore.a
fuzz_route_fuzz_SOURCES = fuzz/route_fuzz.c
fuzz_route_fuzz_LDADD = $(FUZZ_GW_LIBS)
fuzz_authheader_fuzz_SOURCES = fuzz/authheader_fuzz.c
fuzz_authheader_fuzz_LDADD = $(FUZZ_GW_LIBS)
fuzz_authfile_fuzz_SOURCES = fuzz/authfile_fuzz.c
fuzz_authfile_fuzz_LDADD = $(FUZZ_GW_LIBS)
fuzz_size_fuzz_SOURCES = fuzz/size_fuzz.c
fuzz_size_fuzz_LDADD = fuzz/libfuzzstore.a
fuzz_zst_fuzz_SOURCES = fuzz/zst_fuzz.c
fuzz_zst_fuzz_LDADD = fuzz/libfuzzstore.a $(CRYPTO_LIBS) $(ZSTD_LIBS)
fuzz_jwt_fuzz_SOURCES = fuzz/jwt_fuzz.c
fuzz_jwt_fuzz_LDADD = $(FUZZ_OIDC_LIBS)
fuzz_jwks_fuzz_SOURCES = fuzz/jwks_fuzz.c
fuzz_jwks_fuzz_LDADD = $(FUZZ_OIDC_LIBS)
fuzz_rules_fuzz_SOURCES = fuzz/rules_fuzz.c
fuzz_rules_fuzz_LDADD = $(FUZZ_OIDC_LIBS)
fuzz_request_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_request_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_stream_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_stream_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_goentry_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_goentry_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_route_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_route_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_authheader_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_authheader_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_authfile_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_authfile_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_size_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_size_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_zst_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_zst_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_jwt_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_jwt_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_jwks_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_jwks_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_rules_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_rules_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)

# Each target's objects are its own (per-target CFLAGS): compile and link
# them with clang, leaving every other program to CC.
FUZZ_OBJECTS = $(fuzz_request_fuzz_OBJECTS) $(fuzz_stream_fuzz_OBJECTS) \
	$(fuzz_goentry_fuzz_OBJECTS) $(fuzz_route_fuzz_OBJECTS) \
	$(fuzz_authheader_fuzz_OBJECTS) $(fuzz_authfile_fuzz_OBJECTS) $(fuzz_size_fuzz_OBJECTS) \
	$(fuzz_zst_fuzz_OBJECTS) $(fuzz_jwt_fuzz_OBJECTS) $(fuzz_jwks_fuzz_OBJECTS) \
	$(fuzz_rules_fuzz_OBJECTS) \
	$(fuzz_libfuzzprog_a_OBJECTS) $(fuzz_libfuzzgw_a_OBJECTS) $(fuzz_libfuzzstore_a_OBJECTS)
$(FUZZ_OBJECTS) $(FUZZ_TARGETS): CC = $(FUZZ_CC)

fuzz: $(FUZZ_TARGETS)
	$(srcdir)/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
else
fuzz:
	@echo "make fuzz needs clang with libFuzzer: apt-get install clang, then run configure again" >&2
	@exit 1
endif
.PHONY: fuzz
