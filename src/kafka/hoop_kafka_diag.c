/*
 * Recognises the protocols that most often reach a Kafka port by mistake:
 * TLS on a plaintext listener, HTTP, and a plaintext Kafka client on a TLS
 * upstream (seen as a TLS alert from the broker).
 */

#include <string.h>

#include "hoop_kafka_diag.h"


const char *
hoop_kafka_diag_prefix(const uint8_t *p, size_t n)
{
    if (n < 4) {
        return "";
    }

    /* TLS record: content type 22 (handshake) or 21 (alert), version 3.x */
    if ((p[0] == 0x16 || p[0] == 0x15) && p[1] == 0x03 && p[2] <= 0x04) {
        return p[0] == 0x16
               ? ", likely a TLS handshake: is a TLS client talking to a "
                 "plaintext listener (use \"listen ... ssl\")?"
               : ", likely a TLS alert: does the broker expect TLS "
                 "(use \"proxy_ssl on\")?";
    }

    if (memcmp(p, "GET ", 4) == 0 || memcmp(p, "POST", 4) == 0
        || memcmp(p, "HEAD", 4) == 0 || memcmp(p, "PUT ", 4) == 0
        || memcmp(p, "HTTP", 4) == 0 || memcmp(p, "OPTI", 4) == 0)
    {
        return ", likely HTTP: this port speaks the Kafka protocol";
    }

    if (memcmp(p, "SSH-", 4) == 0) {
        return ", likely SSH: this port speaks the Kafka protocol";
    }

    return "";
}
