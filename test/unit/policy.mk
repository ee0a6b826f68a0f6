# Unit tests of the nginx-free policy library (src/policy: the policy
# language, its compiler and evaluator), with cmocka.  Included by
# test/unit/Makefile ("-include policy.mk").
#
#   make -C test/unit check-policy          build with -Werror -g, run
#   make -C test/unit check-policy-asan     the same under ASan/UBSan/LSan
#   make -C test/unit check-policy-schema   every file of policy-examples/
#                                           against docs/policy-schema.json
#                                           (Python jsonschema, in a venv
#                                           under .cache/) and the compiler
#   (make check / make check-asan run test_policy too)
#
# Needs (Debian 12): libyaml-dev libjansson-dev libpcre2-dev libssl-dev
# libcmocka-dev; python3-venv for check-policy-schema.
# POLICY_SEED=0x... POLICY_ROUNDS=N tune the randomized differential test.

POLICY_DIR      := ../../src/policy
POLICY_SRCS     := $(POLICY_DIR)/hoop_policy_doc.c \
                   $(POLICY_DIR)/hoop_policy_compile.c \
                   $(POLICY_DIR)/hoop_policy_lint.c \
                   $(POLICY_DIR)/hoop_policy_index.c \
                   $(POLICY_DIR)/hoop_policy_check.c \
                   $(POLICY_DIR)/hoop_policy_canon.c \
                   $(POLICY_DIR)/hoop_policy_value.c \
                   $(POLICY_DIR)/hoop_policy_names.c \
                   $(POLICY_DIR)/hoop_policy_mem.c
POLICY_DEPS     := $(POLICY_SRCS) $(wildcard $(POLICY_DIR)/*.h) policy.mk
POLICY_CFLAGS   := -std=c99 -Wall -Wextra -Werror -Wpedantic -g \
                   -I$(POLICY_DIR)
POLICY_OPT      ?= $(if $(OPT),$(OPT),-O1)
POLICY_LIBS     := -lcmocka -lyaml -ljansson -lpcre2-8 -lcrypto
POLICY_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
                   -fno-omit-frame-pointer
POLICY_HAVE     := $(and $(wildcard /usr/include/yaml.h), \
                         $(wildcard /usr/include/jansson.h), \
                         $(wildcard /usr/include/pcre2.h))
POLICY_VENV     := ../../.cache/policy-schema-venv

.PHONY: check-policy check-policy-asan check-policy-schema

ifneq ($(POLICY_HAVE),)
all: build/test_policy
check: build/test_policy
check-asan: build/asan/test_policy
else
$(warning policy.mk: libyaml-dev, libjansson-dev or libpcre2-dev missing: test_policy skipped)
endif

check-policy: build/test_policy
	@echo "== $<"; ./$<

check-policy-asan: build/asan/test_policy
	@echo "== $< (address, undefined, leak)"; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 ./$<

build/test_policy: test_policy.c $(POLICY_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(POLICY_CFLAGS) $(POLICY_OPT) -o $@ $< $(POLICY_SRCS) \
	    $(POLICY_LIBS)

build/asan/test_policy: test_policy.c $(POLICY_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(POLICY_CFLAGS) $(POLICY_OPT) $(POLICY_SAN) -o $@ $< \
	    $(POLICY_SRCS) $(POLICY_LIBS)

$(POLICY_VENV)/bin/python:
	python3 -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/pip install -q jsonschema pyyaml

check-policy-schema: build/test_policy $(POLICY_VENV)/bin/python
	$(POLICY_VENV)/bin/python ../../policy-examples/check-schema.py \
	    --schema ../../docs/policy-schema.json \
	    --lint ./build/test_policy ../../policy-examples
