# gateway/: the cachegate HTTP server, in rooms by concern. Everything but
# main.c forms libcggw.a, which the program, the criterion tests and the fuzz
# targets link, so tests reach the code the program runs.
#   http/     the HTTP plumbing: server, route, request framing, answers, linger
#   objects/  the object answers: /ac, /cas, /go
#   access/   who may do what: tokens, client certificates; access/oidc/ CI tokens
#   jobs/     background work: eviction, scrub, watchdog, the known-good table
#   ops/      what operators see: /metrics, /status, the access log
#   tier/     the remote tier behind the disk store; tier/s3/ its S3 backend
noinst_LIBRARIES += libcggw.a
GATEWAY_HTTP_SOURCES = \
	gateway/http/request.h \
	gateway/http/server.c gateway/http/server.h \
	gateway/http/route.c gateway/http/route.h \
	gateway/http/framing.c gateway/http/framing.h \
	gateway/http/respond.c gateway/http/respond.h \
	gateway/http/linger.c gateway/http/linger.h
GATEWAY_OBJECTS_SOURCES = \
	gateway/objects/http_objects.c gateway/objects/http_objects.h \
	gateway/objects/ac_ns.c gateway/objects/ac_ns.h \
	gateway/objects/http_go.c gateway/objects/http_go.h \
	gateway/objects/go_batch.c gateway/objects/go_batch.h gateway/objects/go_batch_zst.c \
	gateway/objects/respond_object.c \
	gateway/objects/respond_zst.c gateway/objects/respond_zst.h
GATEWAY_ACCESS_SOURCES = \
	gateway/access/auth.c gateway/access/auth.h \
	gateway/access/grant.c gateway/access/grant.h \
	gateway/access/clientcert.c gateway/access/clientcert.h \
	$(GATEWAY_OIDC_SOURCES)
# access/oidc/: CI tokens (OIDC JWTs) checked against their issuer's keys and
# mapped to grants by the claim rules.
GATEWAY_OIDC_SOURCES = \
	gateway/access/oidc/jwks.c gateway/access/oidc/jwks.h \
	gateway/access/oidc/jwt_check.c gateway/access/oidc/jwt_check.h \
	gateway/access/oidc/fetch.c gateway/access/oidc/fetch.h \
	gateway/access/oidc/issuer.c gateway/access/oidc/issuer.h \
	gateway/access/oidc/rules.c gateway/access/oidc/rules.h \
	gateway/access/oidc/verdicts.c gateway/access/oidc/verdicts.h \
	gateway/access/oidc/oidc.c gateway/access/oidc/oidc.h
GATEWAY_JOBS_SOURCES = \
	gateway/jobs/integrity.c gateway/jobs/integrity.h \
	gateway/jobs/scrub.c gateway/jobs/scrub.h \
	gateway/jobs/evict.c gateway/jobs/evict.h \
	gateway/jobs/watchdog.c gateway/jobs/watchdog.h
GATEWAY_OPS_SOURCES = \
	gateway/ops/metrics.c gateway/ops/metrics.h \
	gateway/ops/grant_metrics.c gateway/ops/grant_metrics.h \
	gateway/ops/status.c gateway/ops/status.h \
	gateway/ops/accesslog.c gateway/ops/accesslog.h
GATEWAY_TIER_SOURCES = \
	gateway/tier/tier.h \
	gateway/tier/http_tier.c gateway/tier/http_tier.h gateway/tier/http_tier_fetch.h \
	gateway/tier/http_tier_group.c \
	gateway/tier/http_tier_stream.c \
	gateway/tier/s3/s3.c gateway/tier/s3/s3.h \
	gateway/tier/s3/s3_job.c gateway/tier/s3/s3_job.h \
	gateway/tier/s3/s3_multipart.c \
	gateway/tier/s3/s3config.c gateway/tier/s3/s3config.h
libcggw_a_SOURCES = \
	gateway/gateway.h \
	gateway/options.c gateway/options.h \
	$(GATEWAY_HTTP_SOURCES) $(GATEWAY_OBJECTS_SOURCES) $(GATEWAY_ACCESS_SOURCES) \
	$(GATEWAY_JOBS_SOURCES) $(GATEWAY_OPS_SOURCES) $(GATEWAY_TIER_SOURCES)
# Programs that link libcggw.a also need $(GATEWAY_LIBS).
GATEWAY_LIBS = libcggw.a libcgwire.a $(STORE_LIBS) $(MHD_LIBS) $(CURL_LIBS) $(GNUTLS_LIBS) $(JANSSON_LIBS) $(JWT_LIBS) \
	$(CRYPTO_LIBS) $(PTHREAD_LIBS)

bin_PROGRAMS += cachegate
cachegate_SOURCES = gateway/main.c
cachegate_LDADD = $(GATEWAY_LIBS)
EXTRA_DIST += bench/build.sh bench/lib.sh bench/gateway.sh bench/s3.sh
