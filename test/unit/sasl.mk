# Unit tests of the nginx-free SASL code in src/auth (credential store,
# SASL server and client), with cmocka.  Included by test/unit/Makefile
# ("-include sasl.mk"); usable alone with "make -f sasl.mk check-sasl".
#
#   make -C test/unit check-sasl        build with -Werror -g, run
#   make -C test/unit check-sasl-asan   the same under ASan/UBSan/LSan
#   make -C test/unit check-sasl-broker KAFKA_SASL=host:port \
#        [KAFKA_SASL_USER=gw] [KAFKA_SASL_PASSWORD=...] \
#        [KAFKA_SASL_MECHS="PLAIN SCRAM-SHA-256 SCRAM-SHA-512"]
#                                       our client against a real broker's
#                                       SASL_PLAINTEXT listener (optional,
#                                       not part of check)
#
# Needs (Debian 12): libsasl2-dev libsasl2-modules (the SASL client)
# libssl-dev libjansson-dev libcmocka-dev; the SASL server needs only
# OpenSSL.  libgsasl-dev is optional: when gsasl.h is installed, GNU
# SASL's client is one more independent client of our SCRAM-SHA-256
# server (HOOP_TEST_GSASL).  When sasl/sasl.h is installed, "check" and
# "check-asan" of the including Makefile build and run test_auth_sasl too
# (its loop runs every prerequisite).
#
# -DHOOP_SASL_SERVER_TEST lets the tests fix the server nonce (RFC 7677's
# example); the module and the fuzz target are built without it.

SASL_AUTH     := ../../src/auth
SASL_SRCS     := $(SASL_AUTH)/hoop_credentials.c \
                 $(SASL_AUTH)/hoop_sasl_server.c \
                 $(SASL_AUTH)/hoop_sasl_client.c
SASL_DEPS     := $(SASL_SRCS) $(SASL_SRCS:.c=.h) sasl.mk
SASL_CC       ?= $(CC)
SASL_OPT      ?= $(if $(OPT),$(OPT),-O1)
SASL_GSASL    := $(wildcard /usr/include/gsasl.h)
SASL_CFLAGS   := -std=c99 -Wall -Wextra -Werror -Wpedantic -g \
                 -I$(SASL_AUTH) -DHOOP_SASL_SERVER_TEST \
                 $(if $(SASL_GSASL),-DHOOP_TEST_GSASL)
SASL_LIBS     := -lcmocka $(if $(SASL_GSASL),-lgsasl) -lsasl2 -lcrypto \
                 -ljansson
SASL_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer
SASL_HAVE     := $(wildcard /usr/include/sasl/sasl.h)

KAFKA_SASL            ?=
KAFKA_SASL_USER       ?= gw
KAFKA_SASL_PASSWORD   ?= gw-secret
KAFKA_SASL_MECHS      ?= PLAIN SCRAM-SHA-256 SCRAM-SHA-512

.PHONY: check-sasl check-sasl-asan check-sasl-broker

ifneq ($(SASL_HAVE),)
all: build/test_auth_sasl
check: build/test_auth_sasl
check-asan: build/asan/test_auth_sasl
endif

check-sasl: build/test_auth_sasl
	./build/test_auth_sasl

check-sasl-asan: build/asan/test_auth_sasl
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 ./build/asan/test_auth_sasl

check-sasl-broker: build/test_sasl_broker
	@test -n "$(KAFKA_SASL)" || \
	    { echo "check-sasl-broker: set KAFKA_SASL=host:port" >&2; exit 2; }
	./build/test_sasl_broker "$(KAFKA_SASL)" "$(KAFKA_SASL_USER)" \
	    $(KAFKA_SASL_MECHS)

build/test_auth_sasl: test_auth_sasl.c $(SASL_DEPS)
	@mkdir -p $(dir $@)
	$(SASL_CC) $(SASL_CFLAGS) $(SASL_OPT) -o $@ $< $(SASL_SRCS) $(SASL_LIBS)

build/asan/test_auth_sasl: test_auth_sasl.c $(SASL_DEPS)
	@mkdir -p $(dir $@)
	$(SASL_CC) $(SASL_CFLAGS) $(SASL_OPT) $(SASL_SAN) -o $@ $< \
	    $(SASL_SRCS) $(SASL_LIBS)

# the password comes from KAFKA_SASL_PASSWORD in the environment
check-sasl-broker: export KAFKA_SASL_PASSWORD := $(KAFKA_SASL_PASSWORD)

build/test_sasl_broker: test_sasl_broker.c $(SASL_DEPS)
	@mkdir -p $(dir $@)
	$(SASL_CC) $(SASL_CFLAGS) $(SASL_OPT) $(SASL_SAN) -o $@ $< \
	    $(SASL_SRCS) $(SASL_LIBS)
