# Tests of what `make install` adds beside the programs: each program's
# --help, manual page and README table name the same options, and the
# systemd unit passes `systemd-analyze verify` (skipped without systemd).
INSTALL_TESTS = tests/man_options.sh tests/unit_verify.sh
TESTS += $(INSTALL_TESTS)
EXTRA_DIST += $(INSTALL_TESTS)
