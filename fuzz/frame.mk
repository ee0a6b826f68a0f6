# libFuzzer target for the frame reassembler (src/kafka/hoop_frame.c) fed
# arbitrary splits; included by fuzz/Makefile ("-include frame.mk").
#
#   make -C fuzz smoke-frame              a short run (SECONDS)
#   make -C fuzz smoke-frame SECONDS=300
#
# Seeds: streams of the captured frames (test/unit/frames, corpus/walker),
# made by frame_seeds.py.

FRAME_FUZZ_SRCS := $(SRC)/kafka/hoop_frame.c
FRAME_FUZZ_DEPS := $(FRAME_FUZZ_SRCS) $(SRC)/kafka/hoop_frame.h frame.mk

.PHONY: smoke-frame

all: $(BUILD)/fuzz_frame
smoke: smoke-frame

$(BUILD)/fuzz_frame: fuzz_frame.c $(FRAME_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -o $@ fuzz_frame.c $(FRAME_FUZZ_SRCS)

$(BUILD)/corpus-frame: frame_seeds.py frame.mk \
                       $(wildcard ../test/unit/frames/*) \
                       $(wildcard corpus/walker/*)
	rm -rf $@ && mkdir -p $@
	python3 frame_seeds.py ../test/unit/frames corpus/walker $@

smoke-frame: $(BUILD)/fuzz_frame $(BUILD)/corpus-frame
	rm -rf $(BUILD)/corpus-frame-run
	cp -r $(BUILD)/corpus-frame $(BUILD)/corpus-frame-run
	$(BUILD)/fuzz_frame -max_total_time=$(SECONDS) -max_len=131072 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-frame-run > $(BUILD)/fuzz_frame.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_frame.log; \
	grep -E '^stat::number_of_executed_units' $(BUILD)/fuzz_frame.log; \
	exit $$rc
