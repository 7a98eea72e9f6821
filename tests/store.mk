# Criterion tests of the store and of common/, and helpers every test program may use.
check_LIBRARIES += libcgtest.a
libcgtest_a_SOURCES = \
	tests/tmpdir.h tests/tmpdir.c \
	tests/store_fixture.h tests/store_fixture.c

# Each test program is built from tests/<name>.c and links the default LDADD.
STORE_TESTS = \
	tests/store_id_test \
	tests/store_put_test \
	tests/store_open_test \
	tests/store_trim_test \
	tests/store_concurrency_test \
	tests/store_compress_test \
	tests/store_ns_test
check_PROGRAMS += $(STORE_TESTS)
TESTS += $(STORE_TESTS)

# Tests of the shared helpers in common/.
COMMON_TESTS = \
	tests/common_worker_test \
	tests/common_queue_test \
	tests/common_optvalue_test
check_PROGRAMS += $(COMMON_TESTS)
TESTS += $(COMMON_TESTS)
