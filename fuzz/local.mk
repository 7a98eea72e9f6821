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
	fuzz/size.fuzz
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

fuzz_request_fuzz_SOURCES = fuzz/request_fuzz.c proghelper/protocol.c
fuzz_request_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_request_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_request_fuzz_LDADD = $(JANSSON_LIBS) $(CRYPTO_LIBS)

fuzz_stream_fuzz_SOURCES = fuzz/stream_fuzz.c tests/tmpdir.c \
	proghelper/input.c proghelper/protocol.c proghelper/body.c proghelper/local.c \
	common/cause.c common/goentry.c \
	store/id.c store/open.c store/put.c store/get.c store/scan.c store/verify.c store/trim.c
fuzz_stream_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_stream_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_stream_fuzz_LDADD = $(JANSSON_LIBS) $(CRYPTO_LIBS)

fuzz_goentry_fuzz_SOURCES = fuzz/goentry_fuzz.c common/goentry.c store/id.c
fuzz_goentry_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_goentry_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_goentry_fuzz_LDADD =

fuzz_route_fuzz_SOURCES = fuzz/route_fuzz.c gateway/route.c store/id.c
fuzz_route_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_route_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_route_fuzz_LDADD =

fuzz_authheader_fuzz_SOURCES = fuzz/authheader_fuzz.c gateway/auth.c common/cause.c
fuzz_authheader_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_authheader_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_authheader_fuzz_LDADD = $(CRYPTO_LIBS)

fuzz_authfile_fuzz_SOURCES = fuzz/authfile_fuzz.c gateway/auth.c common/cause.c
fuzz_authfile_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_authfile_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_authfile_fuzz_LDADD = $(CRYPTO_LIBS)

fuzz_size_fuzz_SOURCES = fuzz/size_fuzz.c store/id.c
fuzz_size_fuzz_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_size_fuzz_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_size_fuzz_LDADD =

# Each target's objects are its own (per-target CFLAGS): compile and link
# them with clang, leaving every other program to CC.
FUZZ_OBJECTS = $(fuzz_request_fuzz_OBJECTS) $(fuzz_stream_fuzz_OBJECTS) \
	$(fuzz_goentry_fuzz_OBJECTS) $(fuzz_route_fuzz_OBJECTS) \
	$(fuzz_authheader_fuzz_OBJECTS) $(fuzz_authfile_fuzz_OBJECTS) $(fuzz_size_fuzz_OBJECTS)
$(FUZZ_OBJECTS) $(FUZZ_TARGETS): CC = $(FUZZ_CC)

fuzz: $(FUZZ_TARGETS)
	$(srcdir)/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
else
fuzz:
	@echo "make fuzz needs clang with libFuzzer: apt-get install clang, then run configure again" >&2
	@exit 1
endif
.PHONY: fuzz
