# libFuzzer target for the policy library (src/policy): compile any
# document, then the properties of compiled policies (canonical form a
# fixed point, consistent decisions); included by fuzz/Makefile
# ("-include policy.mk").
#
#   make -C fuzz smoke-policy              a short run (SECONDS, default 20)
#   make -C fuzz smoke-policy SECONDS=600
#
# Needs libyaml-dev libjansson-dev libpcre2-dev libssl-dev.  Mode byte
# first (see fuzz_policy.c); seeds: policy-examples/ and the snippets
# below.

POLICY_FUZZ_DIR  := $(SRC)/policy
POLICY_FUZZ_SRCS := $(POLICY_FUZZ_DIR)/hoop_policy_doc.c \
                    $(POLICY_FUZZ_DIR)/hoop_policy_compile.c \
                    $(POLICY_FUZZ_DIR)/hoop_policy_lint.c \
                    $(POLICY_FUZZ_DIR)/hoop_policy_index.c \
                    $(POLICY_FUZZ_DIR)/hoop_policy_check.c \
                    $(POLICY_FUZZ_DIR)/hoop_policy_canon.c \
                    $(POLICY_FUZZ_DIR)/hoop_policy_value.c \
                    $(POLICY_FUZZ_DIR)/hoop_policy_names.c \
                    $(POLICY_FUZZ_DIR)/hoop_policy_mem.c
POLICY_FUZZ_DEPS := $(POLICY_FUZZ_SRCS) $(wildcard $(POLICY_FUZZ_DIR)/*.h) \
                    policy.mk
POLICY_FUZZ_LIBS := -lyaml -ljansson -lpcre2-8 -lcrypto
POLICY_FUZZ_HAVE := $(and $(wildcard /usr/include/yaml.h), \
                          $(wildcard /usr/include/jansson.h), \
                          $(wildcard /usr/include/pcre2.h))

.PHONY: smoke-policy

ifneq ($(POLICY_FUZZ_HAVE),)
all: $(BUILD)/fuzz_policy
smoke: smoke-policy
endif

$(BUILD)/fuzz_policy: fuzz_policy.c $(POLICY_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -I$(POLICY_FUZZ_DIR) -o $@ fuzz_policy.c \
	    $(POLICY_FUZZ_SRCS) $(POLICY_FUZZ_LIBS)

# seeds: every example as YAML/JSON (mode 0), as forced YAML (mode 1),
# and small documents for the paths examples do not take
$(BUILD)/corpus-policy: policy.mk $(wildcard ../policy-examples/*.yaml) \
                        $(wildcard ../policy-examples/*.json)
	rm -rf $@ && mkdir -p $@
	for f in ../policy-examples/*.yaml ../policy-examples/*.json; do \
	    b=$$(basename $$f); \
	    { printf '\000'; cat $$f; } > $@/$$b; \
	    { printf '\001'; cat $$f; } > $@/yaml-$$b; \
	done
	printf '\000policy_version: 1\ngrants:\n  - id: a\n    principals: [ "User:*", "Group:g" ]\n    resources: [ { type: topic, name: "a.*", match: regex }, { type: group, name: "*" }, { type: cluster } ]\n    operations: [ read, idempotent_write ]\n    hosts: [ "10.0.0.0/8", "::1" ]\n    valid_from: 2026-01-01\n    valid_until: 2026-12-31T23:59:59+01:00\n    reviewed_by: r\n    reviewed_at: 2026-11-01\n    reason: x\ndenies:\n  - { id: d, principals: [ "User:a" ], resources: [ { type: topic, name: "a", match: prefix } ], operations: [ all ] }\nmasking: { a: [ 1, 2.5, true, null, "x" ] }\n' \
	    > $@/mixed
	printf '\002{"policy_version":1,"grants":[{"id":"j","principals":["User:u"],"resources":[{"type":"transactional_id","name":"t","match":"prefix"},{"type":"user","name":"User:u"},{"type":"delegation_token","name":"*"}],"operations":["write","describe_tokens","describe"],"reviewed_by":"r","reviewed_at":"2026-11-01T10:00:00Z","reason":"x"}],"approvals":{"k":[{}]}}' \
	    > $@/json
	printf '\004policy_version: 2\ndefault: allow\ngrants: [ { id: -x, principals: [ Usr:a ], resources: [ { type: queue } ], operations: [ reed ], hosts: [ "1.2.3.4/8" ], valid_until: soon } ]\n' \
	    > $@/errors

smoke-policy: $(BUILD)/fuzz_policy $(BUILD)/corpus-policy
	$(BUILD)/fuzz_policy -max_total_time=$(SECONDS) -max_len=16384 \
	    -print_final_stats=0 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-policy > $(BUILD)/fuzz_policy.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_policy.log; exit $$rc
