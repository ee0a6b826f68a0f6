# Microbenchmark of the gateway's hot paths (frame parse, record batch
# re-encode), and the target that runs every CPU-only benchmark; included
# by bench/Makefile ("-include micro/micro.mk").
#
#   make -C bench micro             frame parse and batch re-encode
#                                   (micro/bench_micro.c), then policy
#                                   decisions (bench_policy) and mask scans
#                                   (bench_mask), in ns per operation
#   make -C bench micro SECONDS=2   seconds per row (default: each
#                                   program's own)
#
# Needs libisal-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev (and
# what bench_policy and bench_mask need).

KAFKA_DIR   := $(SRC)/kafka
MICRO_SRCS  := $(KAFKA_DIR)/hoop_kafka_walker.c \
               $(KAFKA_DIR)/hoop_kafka_header.c \
               $(KAFKA_DIR)/generated/hoop_kafka_messages.c \
               $(KAFKA_DIR)/hoop_record_batch.c $(KAFKA_DIR)/hoop_compress.c
MICRO_LIBS  := -lisal -lz -lsnappy -llz4 -lzstd

.PHONY: micro

all: $(BUILD)/bench_micro

micro: $(BUILD)/bench_micro $(BUILD)/bench_policy $(BUILD)/bench_mask
	./$(BUILD)/bench_micro $(SECONDS) ../test/unit/frames
	@echo
	./$(BUILD)/bench_policy $(SECONDS)
	@echo
	./$(BUILD)/bench_mask $(SECONDS)

$(BUILD)/bench_micro: micro/bench_micro.c $(MICRO_SRCS) \
                      $(wildcard $(KAFKA_DIR)/*.h $(KAFKA_DIR)/generated/*.h) \
                      micro/micro.mk
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -Wall -Wextra -Werror $(BENCH_OPT) -I$(KAFKA_DIR) \
	    -o $@ micro/bench_micro.c $(MICRO_SRCS) $(MICRO_LIBS)
