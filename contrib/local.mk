# contrib/: the gateway's systemd unit and the CI recipes' script. The
# installed unit names the installed binary: @bindir@ is replaced when the
# unit is built, so a `make bindir=...` override reaches it too.
EXTRA_DIST += contrib/cachegate.service.in
# The CI recipes' steps (README, CI); tests/e2e/go_ci.sh runs them.
EXTRA_DIST += contrib/ci/cachegate-ci.sh
CLEANFILES += contrib/cachegate.service

if INSTALL_SYSTEMD_UNIT
systemdsystemunit_DATA = contrib/cachegate.service
endif

contrib/cachegate.service: $(srcdir)/contrib/cachegate.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib && \
	sed -e 's|@bindir[@]|$(bindir)|g' $(srcdir)/contrib/cachegate.service.in >$@.tmp && \
	mv $@.tmp $@
