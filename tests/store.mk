# Criterion tests of the store.
check_LIBRARIES += libcgtest.a
libcgtest_a_CPPFLAGS = $(AM_CPPFLAGS) $(CRYPTO_CFLAGS) $(CRITERION_CFLAGS)
libcgtest_a_SOURCES = \
	tests/tmpdir.h tests/tmpdir.c \
	tests/store_fixture.h tests/store_fixture.c
# Criterion test programs link $(TEST_LIBS) after their own objects.
TEST_LIBS = libcgtest.a $(STORE_LIBS) $(CRITERION_LIBS) $(PTHREAD_LIBS)

STORE_TESTS = \
	tests/store_id_test \
	tests/store_put_test \
	tests/store_trim_test \
	tests/store_concurrency_test
check_PROGRAMS += $(STORE_TESTS)
TESTS += $(STORE_TESTS)

tests_store_id_test_SOURCES = tests/store_id_test.c
tests_store_id_test_CPPFLAGS = $(AM_CPPFLAGS) $(CRITERION_CFLAGS)
tests_store_id_test_LDADD = $(TEST_LIBS)
tests_store_put_test_SOURCES = tests/store_put_test.c
tests_store_put_test_CPPFLAGS = $(AM_CPPFLAGS) $(CRITERION_CFLAGS)
tests_store_put_test_LDADD = $(TEST_LIBS)
tests_store_trim_test_SOURCES = tests/store_trim_test.c
tests_store_trim_test_CPPFLAGS = $(AM_CPPFLAGS) $(CRITERION_CFLAGS)
tests_store_trim_test_LDADD = $(TEST_LIBS)
tests_store_concurrency_test_SOURCES = tests/store_concurrency_test.c
tests_store_concurrency_test_CPPFLAGS = $(AM_CPPFLAGS) $(CRITERION_CFLAGS)
tests_store_concurrency_test_LDADD = $(TEST_LIBS)
