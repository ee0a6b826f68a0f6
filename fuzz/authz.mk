# libFuzzer target for the authorization planner (src/kafka/hoop_kafka_authz.c);
# included by fuzz/Makefile ("-include authz.mk").
#
#   make -C fuzz smoke-authz              a short run (SECONDS, default 20)
#   make -C fuzz smoke-authz SECONDS=300
#
# Seeds: every captured request of test/unit/frames with its response,
# under four decision mixes, written by the same source built as a small
# program (-DHOOP_AUTHZ_SEEDS).

AUTHZ_FUZZ_SRCS := $(SRC)/kafka/hoop_kafka_authz.c $(KAFKA)
AUTHZ_FUZZ_DEPS := $(AUTHZ_FUZZ_SRCS) $(SRC)/kafka/hoop_kafka_authz.h \
                   $(SRC)/policy/hoop_policy.h \
                   $(wildcard $(SRC)/kafka/*.h) authz.mk

.PHONY: smoke-authz

all: $(BUILD)/fuzz_kafka_authz
smoke: smoke-authz

$(BUILD)/fuzz_kafka_authz: fuzz_kafka_authz.c $(AUTHZ_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -o $@ fuzz_kafka_authz.c $(AUTHZ_FUZZ_SRCS)

$(BUILD)/fuzz_kafka_authz_seeds: fuzz_kafka_authz.c $(AUTHZ_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) -g -O1 -Wall -Wextra -Werror -DHOOP_AUTHZ_SEEDS -I$(SRC) \
	    -I$(SRC)/kafka -o $@ fuzz_kafka_authz.c $(AUTHZ_FUZZ_SRCS)

$(BUILD)/corpus-authz: $(BUILD)/fuzz_kafka_authz_seeds \
                       $(wildcard ../test/unit/frames/*)
	rm -rf $@ && mkdir -p $@
	$(BUILD)/fuzz_kafka_authz_seeds ../test/unit/frames $@

smoke-authz: $(BUILD)/fuzz_kafka_authz $(BUILD)/corpus-authz
	$(BUILD)/fuzz_kafka_authz -max_total_time=$(SECONDS) -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-authz > $(BUILD)/fuzz_kafka_authz.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_kafka_authz.log; \
	grep -E '^stat::number_of_executed_units' $(BUILD)/fuzz_kafka_authz.log; \
	exit $$rc
