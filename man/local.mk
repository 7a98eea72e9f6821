# man/: the manual pages, written by hand (not generated from --help);
# tests/man_options.sh keeps their option lists equal to --help's.
dist_man_MANS = man/cachegate.8 man/cachegate-prog.1
