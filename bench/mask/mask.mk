# Microbenchmark of the masking engine (src/mask); included by
# bench/Makefile ("-include mask/mask.mk").
#
#   make -C bench mask             ns and MB/s per 1 KB JSON record: 3
#                                  masked fields, nothing matching,
#                                  descendants, regexes, non-JSON text;
#                                  and ns to select a request's rule set
#   make -C bench mask SECONDS=3   seconds per row (default 1)

MASK_DIR    := $(SRC)/mask
MASK_SRCS   := $(MASK_DIR)/hoop_mask_compile.c $(MASK_DIR)/hoop_mask_path.c \
               $(MASK_DIR)/hoop_mask_scan.c $(MASK_DIR)/hoop_mask_strategy.c \
               $(MASK_DIR)/hoop_mask_utf8.c $(MASK_DIR)/hoop_mask_out.c \
               $(MASK_DIR)/hoop_mask_apply.c $(MASK_DIR)/hoop_mask_policy.c
MASK_LIBS   := -ljansson -lpcre2-8 -lcrypto

.PHONY: mask

all: $(BUILD)/bench_mask

mask: $(BUILD)/bench_mask
	./$(BUILD)/bench_mask $(SECONDS)

$(BUILD)/bench_mask: mask/bench_mask.c $(MASK_SRCS) \
                     $(wildcard $(MASK_DIR)/*.h) mask/mask.mk
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -Wall -Wextra -Werror $(BENCH_OPT) -I$(MASK_DIR) \
	    -o $@ mask/bench_mask.c $(MASK_SRCS) $(MASK_LIBS)
