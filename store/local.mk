# store/: the disk store both programs use (static, internal), with the
# small common/ helpers both programs share.
noinst_LIBRARIES += libcgstore.a
STORE_SOURCES = \
	common/cause.h common/cause.c \
	common/b64url.h common/b64url.c \
	common/clock.h common/clock.c \
	common/queue.h \
	common/worker.h common/worker.c \
	common/optable.h common/optable.c common/optvalue.h common/optvalue.c common/optusage.c \
	store/store.h \
	store/internal.h \
	store/id.c \
	store/open.c \
	store/put.c \
	store/put_zst.c \
	store/get.c \
	store/scan.c \
	store/ns.c \
	store/verify.c \
	store/compress.c \
	store/decode.c \
	store/trim.c
libcgstore_a_SOURCES = $(STORE_SOURCES)
# Programs that link libcgstore.a also need $(STORE_LIBS).
STORE_LIBS = libcgstore.a $(CRYPTO_LIBS) $(ZSTD_LIBS) $(PTHREAD_LIBS)
