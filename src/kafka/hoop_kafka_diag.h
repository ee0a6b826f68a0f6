/*
 * Names the likely cause of bytes that are not a Kafka frame, for the
 * error log line that closes such a connection.
 */

#ifndef _HOOP_KAFKA_DIAG_H_INCLUDED_
#define _HOOP_KAFKA_DIAG_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/*
 * p: the first n (>= 4) bytes of a connection direction's frame, where the
 * int32 size prefix should be.  Returns a static string beginning with
 * ", " that explains a recognised foreign protocol, or "" when nothing is
 * recognised.  Never NULL.
 */
const char *hoop_kafka_diag_prefix(const uint8_t *p, size_t n);


#endif /* _HOOP_KAFKA_DIAG_H_INCLUDED_ */
