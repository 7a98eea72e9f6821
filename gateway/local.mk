# gateway/: the cachegate HTTP server.
bin_PROGRAMS += cachegate
cachegate_SOURCES = \
	gateway/main.c \
	gateway/options.c gateway/options.h \
	gateway/gateway.h \
	gateway/request.h \
	gateway/server.c gateway/server.h \
	gateway/route.c gateway/route.h \
	gateway/framing.c gateway/framing.h \
	gateway/respond.c gateway/respond.h \
	gateway/respond_object.c \
	gateway/integrity.c gateway/integrity.h \
	gateway/scrub.c gateway/scrub.h \
	gateway/tier.h \
	gateway/http_tier.c gateway/http_tier.h gateway/http_tier_fetch.h \
	gateway/http_tier_group.c \
	gateway/http_tier_stream.c \
	gateway/s3.c gateway/s3.h \
	gateway/s3_job.c gateway/s3_job.h \
	gateway/s3_multipart.c \
	gateway/s3config.c gateway/s3config.h \
	gateway/http_objects.c gateway/http_objects.h \
	gateway/http_go.c gateway/http_go.h \
	gateway/status.c gateway/status.h \
	gateway/auth.c gateway/auth.h \
	gateway/clientcert.c gateway/clientcert.h \
	gateway/metrics.c gateway/metrics.h \
	gateway/evict.c gateway/evict.h \
	gateway/watchdog.c gateway/watchdog.h \
	gateway/linger.c gateway/linger.h \
	gateway/accesslog.c gateway/accesslog.h
cachegate_LDADD = $(STORE_LIBS) $(MHD_LIBS) $(CURL_LIBS) $(GNUTLS_LIBS) $(JANSSON_LIBS) $(CRYPTO_LIBS) $(PTHREAD_LIBS)
EXTRA_DIST += bench/build.sh bench/lib.sh bench/gateway.sh bench/s3.sh
