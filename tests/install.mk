# Tests of what `make install` adds beside the programs: each program's
# --help, manual page and README table name the same options.
INSTALL_TESTS = tests/man_options.sh
TESTS += $(INSTALL_TESTS)
EXTRA_DIST += $(INSTALL_TESTS)
