# libFuzzer target for what the gateway and hoopctl read of approvals:
# notices, script replies, the Kafka answer's message, durations
# (src/approval/hoop_approval.c; see fuzz_approval.c).
# Included by fuzz/Makefile ("-include approval.mk").
#
#   make -C fuzz smoke-approval              a short run (SECONDS)
#   make -C fuzz smoke-approval SECONDS=600
#
# Needs libjansson-dev libhiredis-dev libssl-dev, and the policy library's
# libyaml-dev libpcre2-dev.

AP_FUZZ_SRCS := $(SRC)/approval/hoop_approval.c $(wildcard $(SRC)/policy/*.c)
AP_FUZZ_DEPS := $(AP_FUZZ_SRCS) $(wildcard $(SRC)/approval/*.h) \
                $(wildcard $(SRC)/policy/*.h) approval.mk
AP_FUZZ_LIBS := -ljansson -lyaml -lpcre2-8 -lcrypto
AP_FUZZ_HAVE := $(and $(wildcard /usr/include/yaml.h), \
                      $(wildcard /usr/include/jansson.h), \
                      $(wildcard /usr/include/pcre2.h), \
                      $(wildcard /usr/include/hiredis/hiredis.h))

.PHONY: smoke-approval

ifneq ($(AP_FUZZ_HAVE),)
all: $(BUILD)/fuzz_approval
smoke: smoke-approval
endif

$(BUILD)/fuzz_approval: fuzz_approval.c $(AP_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -I$(SRC)/approval -I$(SRC)/policy -o $@ \
	    fuzz_approval.c $(AP_FUZZ_SRCS) $(AP_FUZZ_LIBS)

# seeds: notices (mode 0), replies (1), reasons (2), durations (3)
$(BUILD)/corpus-approval: approval.mk
	rm -rf $@ && mkdir -p $@
	printf '\000{"v":1,"event":"requested","id":"abcdefgh27","state":"pending","principal":"ann","groups":["ops"],"resource_type":"topic","resource":"prod.orders","operation":"write","rule":"prod-writes","approvers":["Group:sre"],"allow_self_approval":false,"created_ms":1796585391778,"expires_ms":1796585991778,"grant_ms":3600000,"requests":1,"request":{"api":"Produce"}}' \
	    > $@/requested
	printf '\000{"v":1,"event":"approved","id":"abcdefgh27","decided_by":"bob","reason":"ok","grant_until_ms":1796588991803}' \
	    > $@/approved
	printf '\000{"v":1,"event":"denied","id":"abcdefgh27","reason":"freeze \303\251t\303\251"}' \
	    > $@/denied
	printf '\001pending\000abcdefgh27\0001\0001800000\000' > $@/reply
	printf '\001denied\000abcdefgh27\0000\00060000\000not now' > $@/reply-denied
	printf '\001-NOTAPPROVER bob may not decide' > $@/reply-error
	printf '\002freeze \303\251t\303\251' > $@/reason
	printf '\00325s' > $@/hold
	printf '\0031500ms' > $@/ms

smoke-approval: $(BUILD)/fuzz_approval $(BUILD)/corpus-approval
	$(BUILD)/fuzz_approval -max_total_time=$(SECONDS) -max_len=4096 \
	    -print_final_stats=0 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-approval \
	    > $(BUILD)/fuzz_approval.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_approval.log; exit $$rc
