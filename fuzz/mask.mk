# libFuzzer target for the masking engine (src/mask), differential against
# the reference masker over jansson trees (test/unit/test_mask_ref.c);
# included by fuzz/Makefile ("-include mask.mk").
#
#   make -C fuzz smoke-mask              a short run (SECONDS, default 20)
#   make -C fuzz smoke-mask SECONDS=600
#
# Input: rule count, 3 bytes per rule (path, strategy, regex from a
# palette), then the record value (see fuzz_mask.c).  Seeds below, tokens
# and palette names in mask.dict.  Needs libpcre2-dev libjansson-dev
# libssl-dev.

MASK_FUZZ_DIR  := $(SRC)/mask
MASK_FUZZ_SRCS := $(MASK_FUZZ_DIR)/hoop_mask_compile.c \
                  $(MASK_FUZZ_DIR)/hoop_mask_path.c \
                  $(MASK_FUZZ_DIR)/hoop_mask_scan.c \
                  $(MASK_FUZZ_DIR)/hoop_mask_strategy.c \
                  $(MASK_FUZZ_DIR)/hoop_mask_utf8.c \
                  $(MASK_FUZZ_DIR)/hoop_mask_out.c \
                  $(MASK_FUZZ_DIR)/hoop_mask_apply.c \
                  ../test/unit/test_mask_ref.c
MASK_FUZZ_DEPS := $(MASK_FUZZ_SRCS) $(wildcard $(MASK_FUZZ_DIR)/*.h) \
                  ../test/unit/test_mask_ref.h mask.mk
MASK_FUZZ_LIBS := -ljansson -lpcre2-8 -lcrypto
MASK_FUZZ_HAVE := $(and $(wildcard /usr/include/pcre2.h), \
                        $(wildcard /usr/include/jansson.h))

.PHONY: smoke-mask

ifneq ($(MASK_FUZZ_HAVE),)
all: $(BUILD)/fuzz_mask
smoke: smoke-mask
endif

$(BUILD)/fuzz_mask: fuzz_mask.c $(MASK_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -I$(MASK_FUZZ_DIR) -I../test/unit -o $@ fuzz_mask.c \
	    $(MASK_FUZZ_SRCS) $(MASK_FUZZ_LIBS)

# seeds: byte 0 rules - 1, 3 bytes per rule, then the value
$(BUILD)/corpus-mask: mask.mk
	rm -rf $@ && mkdir -p $@
	printf '\003\000\000\000\004\001\000\006\003\003\003\002\000{"a":{"b":[1,"x@y.z",{"c":"\303\251"}]},"b":{"c":12345},"\303\251":[true,null],"k\\"q":"v"}' \
	    > $@/mixed
	printf '\000\007\002\000"abcdef"' > $@/root
	printf '\001\013\000\001\003\004\000plain text 12345 a@b.c' > $@/raw
	printf '\002\014\004\000\002\001\000\011\003\002[[1,2,[3]],{"a":[4,5]},"6"]' \
	    > $@/arrays
	printf '\000\017\005\000{"\360\237\230\200":[0,1,{"x":"y"}]}' > $@/emoji
	printf '\001\015\001\000\010\003\000{"c":{"x":{"a":"\\u00e9\\ud83d\\ude00","\303\251":1}}}' \
	    > $@/escapes
	printf '\000\000\000\000{"a":1,' > $@/broken
	printf '\003\003\013\000\000\034\000\001\032\003\016\003\000 {"a" : [ {"x":1} , 2 ] , "b" : { "c" : "bbbc" } } ' \
	    > $@/remove
	@# found by the fuzzer: jansson says "too big negative integer", a
	@# limit of jansson's, not invalid JSON
	printf '"\\u00e9"\000+-12345678901234567890' > $@/negative-int64

smoke-mask: $(BUILD)/fuzz_mask $(BUILD)/corpus-mask
	$(BUILD)/fuzz_mask -max_total_time=$(SECONDS) -max_len=4096 \
	    -dict=mask.dict -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-mask > $(BUILD)/fuzz_mask.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_mask.log; \
	grep -E '^stat::number_of_executed_units' $(BUILD)/fuzz_mask.log; \
	exit $$rc

# libFuzzer target for the masking section of the policy
# (src/mask/hoop_mask_policy.c) and the policy compiler's hook
# (fuzz_mask_policy.c): a mode byte, then a policy document (even) or a
# masking section as JSON (odd).  Also needs libyaml-dev.
#
#   make -C fuzz smoke-mask-policy              (SECONDS, default 20)

MASK_POL_FUZZ_SRCS := $(filter-out ../test/unit/test_mask_ref.c, \
                                   $(MASK_FUZZ_SRCS)) \
                      $(MASK_FUZZ_DIR)/hoop_mask_policy.c \
                      $(MASK_FUZZ_DIR)/hoop_mask_policy_hook.c \
                      $(wildcard $(SRC)/policy/*.c)
MASK_POL_FUZZ_HAVE := $(and $(MASK_FUZZ_HAVE), \
                            $(wildcard /usr/include/yaml.h))

.PHONY: smoke-mask-policy

ifneq ($(MASK_POL_FUZZ_HAVE),)
all: $(BUILD)/fuzz_mask_policy
smoke: smoke-mask-policy
endif

$(BUILD)/fuzz_mask_policy: fuzz_mask_policy.c $(MASK_POL_FUZZ_SRCS) \
                           $(wildcard $(MASK_FUZZ_DIR)/*.h) \
                           $(wildcard $(SRC)/policy/*.h) mask.mk
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -I$(MASK_FUZZ_DIR) -I$(SRC)/policy -o $@ \
	    fuzz_mask_policy.c $(MASK_POL_FUZZ_SRCS) $(MASK_FUZZ_LIBS) -lyaml

# seeds: the proposed example as a document (mode 0) and as its section
# in JSON (mode 1, written by python3 from the YAML), and small sections
$(BUILD)/corpus-mask-policy: mask.mk ../policy-examples/proposed/masking.yaml
	rm -rf $@ && mkdir -p $@
	{ printf '\000'; cat ../policy-examples/proposed/masking.yaml; } \
	    > $@/example.yaml
	{ printf '\001'; python3 -c 'import json,sys,yaml; \
	    print(json.dumps(yaml.safe_load(open(sys.argv[1]))["masking"], \
	    default=str))' ../policy-examples/proposed/masking.yaml; } \
	    > $@/example.json || rm -f $@/example.json
	printf '\001[{"id":"a","topics":[{"name":"t"}],"principals":["User:*"],"except":["Group:g"],"direction":"both","fields":[{"path":"$$.x","strategy":"redact"},{"regex":"[0-9]+","strategy":"keep_last","keep":2},{"part":"key","strategy":"hash","key_file":"/k"},{"part":"header","header":"h","strategy":"null"}],"reviewed_by":"c","reviewed_at":"2026-01-01","reason":"r"}]' \
	    > $@/section
	printf '\001[{"id":"b","topics":[{"name":"l.*","match":"regex"},{"name":"customers.","match":"prefix"},{"name":"*"}],"principals":["User:alice","Group:support"],"direction":"fetch","fields":[{"path":"$$..email","strategy":"remove"}]}]' \
	    > $@/section2

smoke-mask-policy: $(BUILD)/fuzz_mask_policy $(BUILD)/corpus-mask-policy
	$(BUILD)/fuzz_mask_policy -max_total_time=$(SECONDS) -max_len=8192 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-mask-policy > $(BUILD)/fuzz_mask_policy.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_mask_policy.log; \
	grep -E '^stat::number_of_executed_units' \
	    $(BUILD)/fuzz_mask_policy.log; \
	exit $$rc
