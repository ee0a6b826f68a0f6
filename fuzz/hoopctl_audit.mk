# libFuzzer target for what hoopctl audit decodes: time arguments, stream
# entries back to JSON, who/what index fields
# (tools/hoopctl/hoopctl_audit_event.c; see fuzz_hoopctl_audit.c).
# Included by fuzz/Makefile ("-include hoopctl_audit.mk").
#
#   make -C fuzz smoke-hoopctl-audit              a short run (SECONDS)
#   make -C fuzz smoke-hoopctl-audit SECONDS=600
#
# Needs libjansson-dev, and for hoopctl's utilities the policy library's
# libyaml-dev libpcre2-dev libssl-dev.

HA_FUZZ_DIR  := ../tools/hoopctl
HA_FUZZ_SRCS := $(HA_FUZZ_DIR)/hoopctl_audit_event.c \
                $(HA_FUZZ_DIR)/hoopctl_util.c $(wildcard $(SRC)/policy/*.c) \
                $(wildcard $(SRC)/mask/*.c)
HA_FUZZ_DEPS := $(HA_FUZZ_SRCS) $(HA_FUZZ_DIR)/hoopctl.h \
                $(wildcard $(SRC)/policy/*.h) hoopctl_audit.mk
HA_FUZZ_LIBS := -ljansson -lyaml -lpcre2-8 -lcrypto
HA_FUZZ_HAVE := $(and $(wildcard /usr/include/yaml.h), \
                      $(wildcard /usr/include/jansson.h), \
                      $(wildcard /usr/include/pcre2.h))

.PHONY: smoke-hoopctl-audit

ifneq ($(HA_FUZZ_HAVE),)
all: $(BUILD)/fuzz_hoopctl_audit
smoke: smoke-hoopctl-audit
endif

$(BUILD)/fuzz_hoopctl_audit: fuzz_hoopctl_audit.c $(HA_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -I$(HA_FUZZ_DIR) -I$(SRC)/policy -I$(SRC)/mask -o $@ \
	    fuzz_hoopctl_audit.c $(HA_FUZZ_SRCS) $(HA_FUZZ_LIBS)

# seeds: times (mode 0, 4: end of day), entries (1), index fields (2, 3)
$(BUILD)/corpus-hoopctl-audit: hoopctl_audit.mk
	rm -rf $@ && mkdir -p $@
	perl -e 'print "\x002026-12-06T10:30:15.123Z"' > $@/time
	perl -e 'print "\x042026-02-28"' > $@/date
	perl -e 'print "\x0090m"' > $@/age
	perl -e 'print "\x011796515200123-0"' > $@/entry
	perl -e 'print join "\x00", "\x011796515200123-0", v => 1, seq => 42,' \
	    -e 'ts => 1796515200123, event => "request", principal => "alice",' \
	    -e 'groups => q(["a","b"]), offsets => "[[0,1,2]]", api => "Fetch",' \
	    -e 'api_version => 12, resource_type => "topic", resource => "orders",' \
	    -e 'operation => "read", decision => "allow", bytes => "1.5", id => "x"' \
	    > $@/entry-full
	perl -e 'print "\x02", q(["alice","read","allow"])' > $@/who
	perl -e 'print "\x03", q(["topic","orders","read",null])' > $@/what

smoke-hoopctl-audit: $(BUILD)/fuzz_hoopctl_audit $(BUILD)/corpus-hoopctl-audit
	$(BUILD)/fuzz_hoopctl_audit -max_total_time=$(SECONDS) -max_len=4096 \
	    -print_final_stats=0 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-hoopctl-audit \
	    > $(BUILD)/fuzz_hoopctl_audit.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_hoopctl_audit.log; exit $$rc
