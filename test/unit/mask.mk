# Unit tests of the nginx-free masking engine (src/mask), with cmocka.
# Included by test/unit/Makefile ("-include mask.mk"); "check" and
# "check-asan" there run them with the other suites.
#
#   make -C test/unit check-mask          build with -Werror -g, run
#   make -C test/unit check-mask-asan     the same under ASan/UBSan/LSan
#
#   test_mask        every selector, strategy and scanner case by hand
#   test_mask_diff   random documents and rules, the engine's output
#                    parsed by jansson against a reference masker over
#                    jansson trees (test_mask_ref.c); MASK_SEED=N and
#                    MASK_ROUNDS=N vary it
#   test_mask_policy the "masking" section of the policy: diagnostics
#                    through the policy compiler's hook, key files,
#                    selection by topic, caller and direction
#
# Needs (Debian 12): libpcre2-dev libssl-dev libjansson-dev libcmocka-dev,
# and libyaml-dev for test_mask_policy (it links src/policy).

MASK_DIR      := ../../src/mask
MASK_SRCS     := $(MASK_DIR)/hoop_mask_compile.c $(MASK_DIR)/hoop_mask_path.c \
                 $(MASK_DIR)/hoop_mask_scan.c $(MASK_DIR)/hoop_mask_strategy.c \
                 $(MASK_DIR)/hoop_mask_utf8.c $(MASK_DIR)/hoop_mask_out.c \
                 $(MASK_DIR)/hoop_mask_apply.c $(MASK_DIR)/hoop_mask_policy.c
MASK_DEPS     := $(MASK_SRCS) $(wildcard $(MASK_DIR)/*.h) test_mask_ref.c \
                 test_mask_ref.h mask.mk
MASK_CFLAGS   := -std=c99 -Wall -Wextra -Werror -Wpedantic -g -I$(MASK_DIR)
MASK_OPT      ?= $(if $(OPT),$(OPT),-O1)
MASK_LIBS     := -lcmocka -ljansson -lpcre2-8 -lcrypto
MASK_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer
MASK_HAVE     := $(and $(wildcard /usr/include/pcre2.h), \
                       $(wildcard /usr/include/jansson.h), \
                       $(wildcard /usr/include/yaml.h))
MASK_TESTS    := test_mask test_mask_diff test_mask_policy
MASK_POL_DIR  := ../../src/policy
MASK_POL_SRCS := $(wildcard $(MASK_POL_DIR)/*.c) \
                 $(MASK_DIR)/hoop_mask_policy_hook.c

.PHONY: check-mask check-mask-asan

ifneq ($(MASK_HAVE),)
all: $(MASK_TESTS:%=build/%)
check: $(MASK_TESTS:%=build/%)
check-asan: $(MASK_TESTS:%=build/asan/%)
else
$(warning mask.mk: libpcre2-dev, libjansson-dev or libyaml-dev missing: \
    mask tests skipped)
endif

check-mask: $(MASK_TESTS:%=build/%)
	@set -e; for t in $^; do echo "== $$t"; ./$$t; done

check-mask-asan: $(MASK_TESTS:%=build/asan/%)
	@set -e; for t in $^; do \
	    echo "== $$t (address, undefined, leak)"; \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 ./$$t; \
	done

build/test_mask: test_mask.c $(MASK_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(MASK_CFLAGS) $(MASK_OPT) -o $@ $< $(MASK_SRCS) $(MASK_LIBS)

build/asan/test_mask: test_mask.c $(MASK_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(MASK_CFLAGS) $(MASK_OPT) $(MASK_SAN) -o $@ $< $(MASK_SRCS) \
	    $(MASK_LIBS)

build/test_mask_diff: test_mask_diff.c $(MASK_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(MASK_CFLAGS) $(MASK_OPT) -o $@ $< test_mask_ref.c $(MASK_SRCS) \
	    $(MASK_LIBS)

build/asan/test_mask_diff: test_mask_diff.c $(MASK_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(MASK_CFLAGS) $(MASK_OPT) $(MASK_SAN) -o $@ $< test_mask_ref.c \
	    $(MASK_SRCS) $(MASK_LIBS)

build/test_mask_policy: test_mask_policy.c $(MASK_DEPS) $(MASK_POL_SRCS) \
                        $(wildcard $(MASK_POL_DIR)/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(MASK_CFLAGS) -I$(MASK_POL_DIR) $(MASK_OPT) -o $@ $< \
	    $(MASK_SRCS) $(MASK_POL_SRCS) $(MASK_LIBS) -lyaml

build/asan/test_mask_policy: test_mask_policy.c $(MASK_DEPS) $(MASK_POL_SRCS) \
                             $(wildcard $(MASK_POL_DIR)/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(MASK_CFLAGS) -I$(MASK_POL_DIR) $(MASK_OPT) $(MASK_SAN) -o $@ $< \
	    $(MASK_SRCS) $(MASK_POL_SRCS) $(MASK_LIBS) -lyaml
