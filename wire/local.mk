# wire/: the contract between the helper and the gateway (wire.h) and the
# Go entry line both read; above store/, below both programs.
noinst_LIBRARIES += libcgwire.a
WIRE_SOURCES = \
	wire/wire.h \
	wire/goentry.h wire/goentry.c \
	wire/encoding.h wire/encoding.c
libcgwire_a_SOURCES = $(WIRE_SOURCES)
