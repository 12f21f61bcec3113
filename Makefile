# cidtrace: one static binary with its BPF objects embedded as skeletons.
#   make            build ./cidtrace
#   make test       unit + integration tests (root)
#   make demo       a real scenario under `cidtrace run` (root)
#   make bench      overhead benchmarks (root)
#   make install    PREFIX=/usr/local: binary, cidtrace(8), bash completion
#   make fuzz       fuzz `cidtrace report` for FUZZ_SECONDS (clang, libFuzzer)
#   make corpus     capture the replay regression corpus again: 6.1/6.12 VMs and this host
#                   (root, /dev/kvm; CORPUS="6.12/rebind host/spinning" for some only)
#   make corpus-golden   rewrite the corpus's golden reports from its captures

VERSION    := 0.1.0
CC         ?= gcc
CLANG      ?= clang
BPFTOOL    ?= bpftool
ARCH       := x86
BUILD      := build

# userspace/ is layered; docs/architecture.md says which layer may include which.
LAYERS     := lib core kernel output cmd

CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	      -Wformat=2 -D_GNU_SOURCE -DCIDTRACE_VERSION='"$(VERSION)"' \
	      -Iinclude $(addprefix -Iuserspace/,$(LAYERS)) -I$(BUILD) -MMD -MP
LDFLAGS    += -static
LDLIBS     := -lbpf -lelf -lz -ljson-c
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
	      -Ivmlinux/$(ARCH) -Iinclude -Ibpf

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS      := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
SRCS       := $(foreach l,$(LAYERS),$(wildcard userspace/$(l)/*.c))
OBJS       := $(patsubst userspace/%.c,$(BUILD)/%.o,$(SRCS))
LIB_OBJS   := $(filter-out $(BUILD)/cmd/main.o,$(OBJS))
UNIT_SRCS  := $(wildcard tests/unit/*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
FIX_SRCS   := $(wildcard tests/fixtures/*.c)
FIX_BINS   := $(patsubst tests/fixtures/%.c,$(BUILD)/fixtures/%,$(FIX_SRCS)) $(BUILD)/fixtures/churn
FUZZ_SRCS  := tests/fuzz/fuzz_report.c userspace/output/render.c userspace/output/render_text.c \
	      userspace/output/narrate.c userspace/core/vocab.c userspace/output/reader.c \
	      userspace/output/rtree.c userspace/output/proc_index.c userspace/output/render_html.c \
	      userspace/output/slice.c userspace/core/testdir.c userspace/core/container.c \
	      userspace/lib/json.c \
	      userspace/lib/util.c
FUZZ_SECONDS ?= 60

# Tools and static libraries the build needs; scripts/deps.sh installs them.
NEED_CMDS  := $(CLANG) $(BPFTOOL) $(CC)
NEED_LIBS  := /usr/lib/x86_64-linux-gnu/libbpf.a /usr/lib/x86_64-linux-gnu/libelf.a \
	      /usr/lib/x86_64-linux-gnu/libz.a /usr/lib/x86_64-linux-gnu/libjson-c.a

.SECONDARY:
PREFIX     ?= /usr/local
DESTDIR    ?=

.PHONY: all deps check-deps check-layers test unit demo bench clean fixtures format fuzz install \
	corpus corpus-golden
all: check-deps cidtrace

# Every build step waits for this. As root, missing packages are installed (scripts/deps.sh,
# Debian 12; for test, demo and bench also what they run: bats, qemu, chromium, ...), so the
# README's two commands are all a fresh machine needs; anyone else is told the command to run.
FULL_DEPS  := $(filter test demo bench corpus,$(MAKECMDGOALS))
# What `make test` runs that no build step needs: promtool (tests/bats/fleet.bats), which
# scripts/deps.sh unpacks from Debian's prometheus package.
TEST_CMDS  := $(if $(filter test,$(MAKECMDGOALS)),promtool)
check-deps:
	@missing=""; for c in $(NEED_CMDS) $(TEST_CMDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	for l in $(NEED_LIBS); do [ -e $$l ] || missing="$$missing $$l"; done; \
	if [ "$$(id -u)" -eq 0 ]; then \
		if [ -n "$${missing}$(FULL_DEPS)" ]; then scripts/deps.sh; fi; \
	elif [ -n "$$missing" ]; then echo "missing:$$missing -- run: sudo scripts/deps.sh" >&2; exit 1; fi

deps:
	scripts/deps.sh

$(BUILD) $(BUILD)/unit $(BUILD)/fixtures $(BUILD)/fuzz: | check-deps
	mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/cidtrace_events.h vmlinux/$(ARCH)/vmlinux.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# Every userspace object may include any skeleton; generate them first.
$(OBJS): | $(SKELS)

$(BUILD)/%.o: userspace/%.c | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

cidtrace: $(OBJS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/unit
	$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDFLAGS) $(LDLIBS) -o $@

$(BUILD)/fixtures/%: tests/fixtures/%.c | $(BUILD)/fixtures
	$(CC) $(CFLAGS) $< -o $@ -lpthread

# the bench's churn (fork, exec, wait, one after the other) drives the tests' fork storms too
$(BUILD)/fixtures/churn: bench/churn.c | $(BUILD)/fixtures
	$(CC) -O2 -g -Wall -Werror $< -o $@

fixtures: $(FIX_BINS)

$(BUILD)/fuzz/fuzz_report: $(FUZZ_SRCS) $(wildcard userspace/*/*.h) | $(BUILD)/fuzz
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=gnu11 \
		-D_GNU_SOURCE -DCIDTRACE_VERSION='"$(VERSION)"' -Iinclude $(addprefix -Iuserspace/,$(LAYERS)) \
		$(FUZZ_SRCS) -ljson-c -o $@

fuzz:
	tests/fuzz/run.sh $(FUZZ_SECONDS)

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do timeout --kill-after=5 60 $$t || exit 1; done

# The include rule of docs/architecture.md; tests/run.sh runs it too, as a test.
check-layers:
	scripts/check-layers.py

test: all unit fixtures
	tests/run.sh

demo: all fixtures
	scripts/demo.sh

bench: all
	bench/bench.sh ./cidtrace

# tests/corpus/README.md: what the corpus is, when to capture it again.
corpus: all fixtures
	tests/corpus/make-corpus.sh $(CORPUS)

corpus-golden: all
	tests/corpus/make-corpus.sh --golden

install: all
	install -D -m 0755 cidtrace $(DESTDIR)$(PREFIX)/sbin/cidtrace
	install -D -m 0644 docs/cidtrace.8 $(DESTDIR)$(PREFIX)/share/man/man8/cidtrace.8
	install -D -m 0644 scripts/cidtrace.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/cidtrace

format:
	clang-format -i bpf/*.c bpf/*.h include/*.h userspace/*/*.c userspace/*/*.h tests/unit/*.c tests/fixtures/*.c \
		tests/fuzz/*.c

clean:
	rm -rf $(BUILD) cidtrace

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d)
