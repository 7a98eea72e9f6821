# Tests of the helper: criterion suites and end-to-end scripts with the go command.
# Each test program is built from tests/<name>.c and links the default LDADD.
check_LIBRARIES += libprogtest.a
libprogtest_a_SOURCES = tests/prog_remote_fixture.h tests/prog_remote_fixture.c

PROG_TESTS = \
	tests/prog_protocol_test \
	tests/prog_framing_test \
	tests/prog_options_test \
	tests/prog_local_test \
	tests/prog_diskpath_test \
	tests/prog_actionset_test \
	tests/prog_remote_test \
	tests/prog_fetch_test \
	tests/prog_auth_test \
	tests/prog_preload_test \
	tests/prog_pipe_test \
	tests/prog_outage_test \
	tests/prog_compress_test \
	tests/prog_citoken_test \
	tests/prog_mtimes_test \
	tests/prog_report_test
check_PROGRAMS += $(PROG_TESTS)
TESTS += $(PROG_TESTS)

# End-to-end with the real go command (each skips, exit 77, without go 1.24+).
PROG_E2E = \
	tests/e2e/go_local.sh \
	tests/e2e/go_install_copies.sh \
	tests/e2e/go_remote.sh \
	tests/e2e/go_gateway_dies.sh \
	tests/e2e/go_preload.sh \
	tests/e2e/go_disk_full.sh \
	tests/e2e/go_s3.sh \
	tests/e2e/go_std.sh \
	tests/e2e/go_tls.sh \
	tests/e2e/go_namespaces.sh \
	tests/e2e/go_ci.sh
TESTS += $(PROG_E2E)
EXTRA_DIST += $(PROG_E2E) tests/e2e/go_lib.sh
