# man/: the manual pages, written by hand (not generated from --help);
# tests/man_options.sh keeps their options, variables and defaults equal to
# --help's, which the option tables make.
dist_man_MANS = man/cachegate.8 man/cachegate-prog.1
