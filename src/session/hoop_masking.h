/*
 * Masking on the data path (docs/masking.md): the records of Produce
 * requests before the broker stores them, and of Fetch responses before
 * the client reads them, by the masking section of the policy the
 * session's server enforces (hoop_policy_state_t.masking), with the
 * engine (src/mask) and the RecordBatch codec (hoop_record_batch.h).
 *
 * Per topic of a request or response, the caller's rule set is chosen
 * (hoop_mask_policy_select: topic, principal, groups, direction); without
 * one the topic's records pass byte for byte.  With one, every record
 * value, key and header goes through the engine; batches where nothing
 * changed stay byte for byte, changed ones are rebuilt with their codec,
 * and the message is encoded again with the new sizes.  What was masked
 * is counted per masking rule for the audit event and the metric
 * hoop_masked_fields_total.  Failures are closed: a Produce partition that
 * cannot be masked is answered with an error instead of being written, a
 * Fetch partition that cannot be masked is sent without its records.
 */

#ifndef _HOOP_MASKING_H_INCLUDED_
#define _HOOP_MASKING_H_INCLUDED_


#include "hoop_session.h"
#include "hoop_codec.h"
#include "../kafka/hoop_kafka_authz.h"
#include "../mask/hoop_mask_policy.h"


/*
 * 1 if the session's caller gets a rule set for topic[0..len) in
 * direction d under the policy enforced now (also when choosing fails:
 * masking fails closed), else 0.
 */
ngx_uint_t hoop_masking_applies(hoop_session_t *hs, hoop_mask_direction_t d,
    const u_char *topic, size_t len);

/*
 * A Produce request the policy allows (in whole or in part), req->root as
 * it will be forwarded: the records of every topic the caller has a
 * produce rule set for are masked in the tree (new bytes from req->pool).
 * What was masked is handed to the audit session (hoop_audit_masks())
 * and counted.  Returns
 *   NGX_OK        forward; *changed: encode the tree again first;
 *   NGX_DECLINED  a partition could not be masked (logged): nothing may
 *                 be forwarded; *answer is the Produce response to send
 *                 instead (the failed partitions INVALID_RECORD 87 or
 *                 CORRUPT_MESSAGE 2, the others REQUEST_TIMED_OUT 7 so a
 *                 producer sends them again, the entries plan denied
 *                 with their errors), or NULL for acks=0 (close);
 *   NGX_ERROR     out of memory.
 * Source: Kafka's ProduceRequest/ProduceResponse (v3-v13).
 */
ngx_int_t hoop_masking_produce(hoop_session_t *hs, hoop_request_t *req,
    hoop_authz_plan_t *plan, ngx_uint_t *changed,
    hoop_kafka_node_t **answer);

/*
 * A broker's Fetch response to slot's request, *frame a whole frame (size
 * prefix included): the records of every topic the caller has a fetch
 * rule set for are masked, a truncated last batch of such a partition is
 * left out.  The request's audit events that waited for this response
 * are completed with what was masked (hoop_audit_fetch_masked()).  On
 * NGX_OK *frame is unchanged or a new ngx_alloc() frame (the caller frees
 * the old one); NGX_ERROR closes (logged), *frame unchanged.
 * Source: Kafka's FetchResponse (v4-v17), KIP-516 topic ids.
 */
ngx_int_t hoop_masking_fetch(hoop_session_t *hs, hoop_slot_t *slot,
    u_char **frame, size_t *size);

/* exit_process: the worker's engine buffers */
void hoop_masking_exit(void);


#endif /* _HOOP_MASKING_H_INCLUDED_ */
