# Tests of the gateway: criterion suites, most against the real cachegate
# binary, which `make check` builds first (all), on 127.0.0.1 port 0; the
# unit suites (options, route, tokens, metrics rendering, linger) call
# libcggw.a in the test's own process. And end-to-end scripts with curl,
# ccache and Bazel.
check_LIBRARIES += libgwtest.a
libgwtest_a_SOURCES = tests/gateway_fixture.h tests/gateway_fixture.c tests/s3_bucket.h tests/s3_bucket.c \
	tests/oidc_fixture.h tests/oidc_fixture.c

# Each test program is built from tests/<name>.c and links the default LDADD.
GATEWAY_TESTS = \
	tests/gateway_api_test \
	tests/gateway_metrics_test \
	tests/gateway_upload_test \
	tests/gateway_auth_test \
	tests/gateway_refusal_test \
	tests/gateway_go_test \
	tests/gateway_framing_test \
	tests/gateway_slow_test \
	tests/gateway_integrity_test \
	tests/gateway_evict_test \
	tests/gateway_big_test \
	tests/gateway_cli_test \
	tests/gateway_options_test \
	tests/gateway_linger_test \
	tests/gateway_s3_outage_test \
	tests/gateway_s3_zstd_test \
	tests/gateway_s3_batch_test \
	tests/gateway_route_test \
	tests/gateway_tokens_test \
	tests/gateway_grant_test \
	tests/gateway_metrics_render_test \
	tests/gateway_compress_test \
	tests/gateway_ns_test \
	tests/gateway_s3_ns_test \
	tests/gateway_oidc_test \
	tests/gateway_oidc_rules_test \
	tests/gateway_oidc_http_test
check_PROGRAMS += $(GATEWAY_TESTS)
TESTS += $(GATEWAY_TESTS)
# Both programs have an options_parse: this one links the gateway's, not the
# helper's that the default LDADD finds first.
tests_gateway_options_test_LDADD = libcgtest.a $(GATEWAY_LIBS) $(CRITERION_LIBS)

# End-to-end scripts with curl, ccache and Bazel (scripts/install-bazel.sh
# installs Bazel; without it bazel.sh skips, exit 77), faults: kill -9
# under writers, a full disk (needs root for its tmpfs, else skipped), and a
# real SeaweedFS as the S3 store (scripts/install-seaweedfs.sh builds it;
# without it the S3 scripts skip), and the lifecycle rules that bound its
# bucket (s3_lifecycle.sh waits a minute for one to expire).
GATEWAY_E2E = tests/e2e/curl.sh tests/e2e/ccache.sh tests/e2e/bazel.sh \
	tests/e2e/kill_storm.sh tests/e2e/disk_full.sh tests/e2e/s3_seaweedfs.sh \
	tests/e2e/s3_gateways.sh tests/e2e/s3_lifecycle.sh tests/e2e/s3_zstd.sh \
	tests/e2e/s3_namespaces.sh
TESTS += $(GATEWAY_E2E)
EXTRA_DIST += $(GATEWAY_E2E) tests/e2e/gateway_lib.sh scripts/install-bazel.sh \
	tests/e2e/s3_lib.sh scripts/install-seaweedfs.sh

# The long fault runs, not part of check: `make stress`.
STRESS_KILLS = 100
stress: all
	$(AM_TESTS_ENVIRONMENT) KILLS=$(STRESS_KILLS) sh $(srcdir)/tests/e2e/kill_storm.sh
.PHONY: stress
