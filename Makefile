# tally's compile graph. build.sh is the entry point (it installs what is
# needed, generates build/<tree>/gen/*.c and calls this file); this file only
# knows what is built from what. Object files are named by their source path
# (build/<tree>/obj/lib/base/buf.o) and carry compiler-written dependency
# files (-MMD -MP), so touching one header rebuilds the objects that include
# it and nothing else. Parallel builds (make -j) are safe.
#
#   make TREE=release                       lib/libtally.a and bin/
#   make TREE=asan XCFLAGS=... XLDFLAGS=... LIB=build/asan/libtally.a BIN=build/asan/bin
#   make ... units UNITS=build/release/tests   the C unit tests and test tools

TREE    ?= release
CC      ?= gcc
XCFLAGS ?= -O2 -D_FORTIFY_SOURCE=2
XLDFLAGS ?=
LIB     ?= lib/libtally.a
BIN     ?= bin
UNITS   ?= build/$(TREE)/tests
# BASE_CFLAGS (standard, warnings, hardening) and PKGS (pkg-config modules)
# come from build.sh, which also builds the fuzz targets with them.
ifeq ($(strip $(BASE_CFLAGS)),)
$(error BASE_CFLAGS is unset: build through ./build.sh, which sets it and PKGS)
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CFLAGS  := $(BASE_CFLAGS) $(XCFLAGS) -Ilib $(PKG_CFLAGS)
# --as-needed: an executable links only the libraries it uses (libcurl only where it calls out).
LDLIBS  := -Wl,--as-needed $(PKG_LIBS) -lfcgi -lpthread -lm $(XLDFLAGS)

OBJ     := build/$(TREE)/obj
GEN     := build/$(TREE)/gen

LIB_SRC := $(sort $(wildcard lib/*/*.c lib/*/*/*.c)) $(GEN)/migrations.c $(GEN)/certs.c
LIB_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(LIB_SRC:$(GEN)/%=gen/%))

# handlers/X.c and jobs/X.c -> tally-X; jobs/tally/*.c -> tally (the admin CLI).
ONE_SRC := $(wildcard handlers/*.c jobs/*.c)
ONE_BIN := $(addprefix $(BIN)/tally-,$(notdir $(ONE_SRC:.c=)))
CLI_SRC := $(wildcard jobs/tally/*.c)
CLI_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(CLI_SRC))

UNIT_SRC := $(wildcard tests/unit/test_*.c tests/tools/*.c)
UNIT_BIN := $(addprefix $(UNITS)/,$(notdir $(UNIT_SRC:.c=)))

all: $(LIB) $(ONE_BIN) $(BIN)/tally
units: $(UNIT_BIN)
library: $(LIB)

$(OBJ)/%.o: %.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/gen/%.o: $(GEN)/%.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/jobs/tally/%.o: jobs/tally/%.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ijobs/tally -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BIN)/tally-%: $(OBJ)/handlers/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(LIB) $(LDLIBS)

$(BIN)/tally-%: $(OBJ)/jobs/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(LIB) $(LDLIBS)

$(BIN)/tally: $(CLI_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CLI_OBJ) -o $@ $(LIB) $(LDLIBS)

$(UNITS)/%: $(OBJ)/tests/unit/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(LIB) $(LDLIBS)

$(UNITS)/%: $(OBJ)/tests/tools/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(LIB) $(LDLIBS)

$(OBJ)/tests/unit/%.o: tests/unit/%.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -MMD -MP -c $< -o $@

.PHONY: all units library
.SECONDARY:
.DELETE_ON_ERROR:

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
