# proghelper/: the cachegate-prog GOCACHEPROG helper.
# The protocol, body, local and remote parts form a small library so the
# criterion tests link exactly the code the program runs.
noinst_LIBRARIES += libcgprog.a
PROG_SOURCES = \
	proghelper/protocol.h proghelper/protocol.c \
	proghelper/input.h proghelper/input.c \
	proghelper/body.h proghelper/body.c \
	proghelper/reply.h proghelper/reply.c \
	proghelper/local.h proghelper/local.c \
	proghelper/diskpath.h proghelper/diskpath.c \
	proghelper/remote.h proghelper/remote.c proghelper/remote_job.h proghelper/outcome.c \
	proghelper/citoken.h proghelper/citoken.c proghelper/remote_token.c \
	proghelper/fetch.c proghelper/upload.c proghelper/upload_zstd.c \
	proghelper/preload.h proghelper/preload.c proghelper/preload_items.c \
	proghelper/scope.h proghelper/scope.c \
	proghelper/actionset.h proghelper/actionset.c \
	proghelper/usedlist.h proghelper/usedlist.c \
	proghelper/recorder.h proghelper/recorder.c \
	proghelper/stats.h proghelper/stats.c \
	proghelper/mtimes.h proghelper/mtimes.c \
	proghelper/report.h proghelper/report.c \
	proghelper/options.h proghelper/options.c
libcgprog_a_SOURCES = $(PROG_SOURCES)
# Programs that link libcgprog.a also need $(PROG_LIBS).
PROG_LIBS = libcgprog.a libcgwire.a $(STORE_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(PTHREAD_LIBS)

bin_PROGRAMS += cachegate-prog
cachegate_prog_SOURCES = proghelper/main.c
cachegate_prog_LDADD = $(PROG_LIBS)

EXTRA_DIST += bench/gobuild.sh bench/ci.sh bench/floorprog/main.go bench/floorprog/go.mod \
	bench/delayproxy/main.go bench/delayproxy/go.mod bench/delayproxy/link.go \
	bench/delayproxy/splice_linux.go bench/delayproxy/splice_other.go \
	bench/delayproxy/link_test.go bench/delayproxy/main_test.go
