# ticket-milter - build, test, benchmark, install.
#
#   make            build/ticket-milter and build/ticketctl
#   make check      every test; the last line says "N passed, N failed"
#   make asan       the same tests built with AddressSanitizer + UBSan
#   make bench      throughput against a private Postfix (see bench/)
#   make demo       install what is missing, build, run a private Postfix with samples
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share/ticket-milter
SYSCONFDIR ?= /etc
BUILD     ?= build

CC        ?= cc
PKGS      := milter gmime-3.0 glib-2.0 gio-2.0 sqlite3 libcurl json-glib-1.0 libical
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread

CFLAGS    ?= -O2 -g
WARN      := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
DEFS      := -D_GNU_SOURCE -DDATADIR='"$(DATADIR)"' -DSYSCONFDIR='"$(SYSCONFDIR)"'
INCS      := -I. $(PKG_CFLAGS)
ALL_CFLAGS := $(WARN) $(DEFS) $(INCS) $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS := $(LDFLAGS) $(EXTRA_LDFLAGS)

# Everything but the two main programs goes into one static library that
# the daemon, ticketctl and the unit tests link.
LIB_DIRS  := util config parser router store templates outbound
LIB_SRC   := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MILTER_SRC := $(wildcard milter/*.c)
MILTER_OBJ := $(MILTER_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC   := $(wildcard cli/*.c)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC  := $(wildcard tests/unit/test-*.c)
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Tests may drive the milter callbacks in-process: they link the daemon's
# objects except main().
MILTER_LIB_OBJ := $(filter-out $(BUILD)/obj/milter/main.o,$(MILTER_OBJ))

.PHONY: all check unit e2e asan bench demo install clean fuzz
all: $(BUILD)/ticket-milter $(BUILD)/ticketctl $(TEST_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libticket.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/ticket-milter: $(MILTER_OBJ) $(BUILD)/libticket.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/ticketctl: $(CLI_OBJ) $(BUILD)/libticket.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(MILTER_LIB_OBJ) $(BUILD)/libticket.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

check: all
	@BUILD=$(BUILD) tests/run

unit: all
	@BUILD=$(BUILD) tests/run --unit

e2e: all
	@BUILD=$(BUILD) tests/run --e2e

asan:
	$(MAKE) BUILD=build-asan CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined" all
	@BUILD=build-asan tests/run

bench: all
	@BUILD=$(BUILD) bench/run

demo:
	scripts/install-deps
	$(MAKE) all
	@BUILD=$(BUILD) scripts/demo

install: $(BUILD)/ticket-milter $(BUILD)/ticketctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)
	install -m 755 $(BUILD)/ticket-milter $(DESTDIR)$(SBINDIR)/ticket-milter
	install -m 755 $(BUILD)/ticketctl $(DESTDIR)$(BINDIR)/ticketctl
	install -m 644 man/ticketctl.1 $(DESTDIR)$(MANDIR)/man1/ticketctl.1
	install -m 644 man/ticket-milter.conf.5 $(DESTDIR)$(MANDIR)/man5/ticket-milter.conf.5
	install -m 644 man/ticket-milter.8 $(DESTDIR)$(MANDIR)/man8/ticket-milter.8
	test -e $(DESTDIR)$(SYSCONFDIR)/ticket-milter.conf || \
	    install -m 640 etc/ticket-milter.conf $(DESTDIR)$(SYSCONFDIR)/ticket-milter.conf

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
