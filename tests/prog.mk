# Tests of the helper: criterion suites and end-to-end scripts with the go command.
PROG_TESTS = \
	tests/prog_protocol_test \
	tests/prog_options_test \
	tests/prog_local_test \
	tests/prog_remote_test \
	tests/prog_pipe_test
check_PROGRAMS += $(PROG_TESTS)
TESTS += $(PROG_TESTS)

PROG_TEST_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(CRYPTO_CFLAGS) $(CRITERION_CFLAGS)
PROG_TEST_LIBS = libcgprog.a $(TEST_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS)

tests_prog_protocol_test_SOURCES = tests/prog_protocol_test.c
tests_prog_protocol_test_CPPFLAGS = $(PROG_TEST_CPPFLAGS)
tests_prog_protocol_test_LDADD = $(PROG_TEST_LIBS)

tests_prog_options_test_SOURCES = tests/prog_options_test.c
tests_prog_options_test_CPPFLAGS = $(PROG_TEST_CPPFLAGS)
tests_prog_options_test_LDADD = $(PROG_TEST_LIBS)

tests_prog_local_test_SOURCES = tests/prog_local_test.c
tests_prog_local_test_CPPFLAGS = $(PROG_TEST_CPPFLAGS)
tests_prog_local_test_LDADD = $(PROG_TEST_LIBS)

tests_prog_remote_test_SOURCES = tests/prog_remote_test.c
tests_prog_remote_test_CPPFLAGS = $(PROG_TEST_CPPFLAGS)
tests_prog_remote_test_LDADD = $(PROG_TEST_LIBS)

tests_prog_pipe_test_SOURCES = tests/prog_pipe_test.c
tests_prog_pipe_test_CPPFLAGS = $(PROG_TEST_CPPFLAGS)
tests_prog_pipe_test_LDADD = $(PROG_TEST_LIBS)

# End-to-end with the real go command (each skips, exit 77, without go 1.24+).
PROG_E2E = \
	tests/e2e/go_local.sh \
	tests/e2e/go_remote.sh \
	tests/e2e/go_gateway_dies.sh \
	tests/e2e/go_std.sh
TESTS += $(PROG_E2E)
EXTRA_DIST += $(PROG_E2E) tests/e2e/go_lib.sh
