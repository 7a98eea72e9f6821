# Tests of the gateway: criterion suites against the real cachegate binary,
# and end-to-end scripts with curl and ccache. All of them start $(CACHEGATE),
# which `make check` builds first (all), on 127.0.0.1 port 0.
check_LIBRARIES += libgwtest.a
libgwtest_a_CPPFLAGS = $(AM_CPPFLAGS) $(CURL_CFLAGS) $(CRYPTO_CFLAGS) $(CRITERION_CFLAGS)
libgwtest_a_SOURCES = tests/gateway_fixture.h tests/gateway_fixture.c
# Gateway test programs link $(GW_TEST_LIBS) after their own objects.
GW_TEST_LIBS = libgwtest.a $(TEST_LIBS) $(CURL_LIBS) $(JANSSON_LIBS)
GW_TEST_CPPFLAGS = $(AM_CPPFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS) \
	$(CRITERION_CFLAGS)

GATEWAY_TESTS = \
	tests/gateway_api_test \
	tests/gateway_auth_test \
	tests/gateway_evict_test \
	tests/gateway_big_test \
	tests/gateway_cli_test
check_PROGRAMS += $(GATEWAY_TESTS)
TESTS += $(GATEWAY_TESTS)

tests_gateway_api_test_SOURCES = tests/gateway_api_test.c
tests_gateway_api_test_CPPFLAGS = $(GW_TEST_CPPFLAGS)
tests_gateway_api_test_LDADD = $(GW_TEST_LIBS)
tests_gateway_auth_test_SOURCES = tests/gateway_auth_test.c
tests_gateway_auth_test_CPPFLAGS = $(GW_TEST_CPPFLAGS)
tests_gateway_auth_test_LDADD = $(GW_TEST_LIBS)
tests_gateway_evict_test_SOURCES = tests/gateway_evict_test.c
tests_gateway_evict_test_CPPFLAGS = $(GW_TEST_CPPFLAGS)
tests_gateway_evict_test_LDADD = $(GW_TEST_LIBS)
tests_gateway_big_test_SOURCES = tests/gateway_big_test.c
tests_gateway_big_test_CPPFLAGS = $(GW_TEST_CPPFLAGS)
tests_gateway_big_test_LDADD = $(GW_TEST_LIBS)
tests_gateway_cli_test_SOURCES = tests/gateway_cli_test.c
tests_gateway_cli_test_CPPFLAGS = $(GW_TEST_CPPFLAGS)
tests_gateway_cli_test_LDADD = $(GW_TEST_LIBS)

# End-to-end scripts with curl and ccache.
GATEWAY_E2E = tests/e2e/curl.sh tests/e2e/ccache.sh
TESTS += $(GATEWAY_E2E)
EXTRA_DIST += $(GATEWAY_E2E) tests/e2e/gateway_lib.sh
