# libFuzzer target for the topic id map (src/kafka/hoop_topic_ids.c);
# included by fuzz/Makefile ("-include topic_ids.mk").
#
#   make -C fuzz smoke-topic-ids              a short run (SECONDS)
#   make -C fuzz smoke-topic-ids SECONDS=300
#
# Seeds: the walker's corpus (captured frames, seeds.py).

TIDS_FUZZ_SRCS := $(SRC)/kafka/hoop_topic_ids.c $(KAFKA)
TIDS_FUZZ_DEPS := $(TIDS_FUZZ_SRCS) $(wildcard $(SRC)/kafka/*.h) \
                  topic_ids.mk

.PHONY: smoke-topic-ids

all: $(BUILD)/fuzz_topic_ids
smoke: smoke-topic-ids

$(BUILD)/fuzz_topic_ids: fuzz_topic_ids.c $(TIDS_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -o $@ fuzz_topic_ids.c $(TIDS_FUZZ_SRCS)

smoke-topic-ids: $(BUILD)/fuzz_topic_ids $(BUILD)/corpus-walker
	rm -rf $(BUILD)/corpus-topic-ids
	cp -r $(BUILD)/corpus-walker $(BUILD)/corpus-topic-ids
	$(BUILD)/fuzz_topic_ids -max_total_time=$(SECONDS) -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-topic-ids > $(BUILD)/fuzz_topic_ids.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_topic_ids.log; \
	grep -E '^stat::number_of_executed_units' $(BUILD)/fuzz_topic_ids.log; \
	exit $$rc
