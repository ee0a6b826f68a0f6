/*
 * hoopctl: the access-review policy CLI (docs/hoopctl.md).
 *
 * Shared declarations of its parts:
 *
 *   hoopctl.c          main(), options, lint, push, show, history, rollback
 *   hoopctl_store.c    the Redis store (docs/redis-layout.md), hiredis
 *   hoopctl_rule.c     rules as text and JSON (show, diff, review)
 *   hoopctl_diff.c     the semantic diff of two compiled policies
 *   hoopctl_review.c   the access review of one compiled policy
 *   hoopctl_audit.c    the audit trail: who, what, denied, export, tail
 *   hoopctl_audit_event.c  audit times, events and index fields
 *   hoopctl_sessions.c     recorded sessions: list, show
 *   hoopctl_session_view.c their listing, timeline lines, payload dumps
 *   hoopctl_util.c     memory, buffers, files, times, compiling
 *
 * All policy logic (parsing, validation, canonical form, hash) is in
 * src/policy (hoop_policy.h); hoopctl only reads compiled policies through
 * its public introspection API.
 */

#ifndef _HOOPCTL_H_INCLUDED_
#define _HOOPCTL_H_INCLUDED_


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "hoop_policy.h"


/* exit statuses */
#define HOOPCTL_OK             0    /* done; no difference */
#define HOOPCTL_NO             1    /* refused, lint errors, difference */
#define HOOPCTL_ERROR          2    /* usage, I/O, Redis, corrupt store */

#define HOOPCTL_DEFAULT_REDIS  "127.0.0.1:6379"
#define HOOPCTL_DEFAULT_PREFIX "hoop:"

/*
 * The Redis names, after the prefix (docs/redis-layout.md; the nginx
 * workers read the same names: keep them stable).
 */
#define HOOPCTL_KEY_SEQ        "policy:seq"          /* string: INCR counter */
#define HOOPCTL_KEY_CURRENT    "policy:current"      /* string: version N */
#define HOOPCTL_KEY_VERSION    "policy:v:"           /* hash, + N */
#define HOOPCTL_KEY_HISTORY    "policy:history"      /* list of JSON events */
#define HOOPCTL_CHANNEL        "policy:notify"       /* pub/sub channel */
#define HOOPCTL_KEY_LAST_USED  "grant:last_used"     /* hash: id -> ms */

#define HOOPCTL_MAX_PREFIX     128
#define HOOPCTL_MAX_AUTHOR     256
#define HOOPCTL_MAX_COMMENT    4096

#define HOOPCTL_DAY            86400


/* ----------------------------------------------------------------------
 * Utilities (hoopctl_util.c)
 */

/* a growable byte buffer, always NUL-terminated once something was added */
typedef struct {
    char                        *data;
    size_t                       len;
    size_t                       size;
} hoopctl_buf_t;

/* malloc() and friends that print "out of memory" and exit(2) */
void *hoopctl_alloc(size_t size);
void *hoopctl_realloc(void *p, size_t size);
char *hoopctl_strndup(const char *s, size_t len);

void hoopctl_buf_add(hoopctl_buf_t *b, const char *data, size_t len);
void hoopctl_buf_adds(hoopctl_buf_t *b, const char *s);
void hoopctl_buf_printf(hoopctl_buf_t *b, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
const char *hoopctl_buf_str(hoopctl_buf_t *b);   /* "" when empty */
void hoopctl_buf_free(hoopctl_buf_t *b);

/* "hoopctl: MESSAGE\n" on stderr */
void hoopctl_error(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/*
 * The whole file ("-": standard input), at most HOOP_POLICY_MAX_TEXT + 1
 * bytes (the compiler reports a larger one).  Returns 0, or -1 (printed).
 */
int hoopctl_read_file(const char *path, char **data, size_t *len);

int64_t hoopctl_now_ms(void);

/* "2026-12-31T23:59:59Z" into buf (at least 32 bytes) */
const char *hoopctl_iso_time(int64_t sec, char *buf, size_t size);

/* positive decimal version number; 0 or -1 */
int hoopctl_parse_version(const char *s, uint64_t *v);
/* decimal 0..max; 0 or -1 */
int hoopctl_parse_uint(const char *s, unsigned max, unsigned *v);

/* s[0..len) with control characters and backslashes escaped (\n, \x01) */
void hoopctl_put_clean(FILE *f, const char *s, size_t len);
void hoopctl_buf_add_clean(hoopctl_buf_t *b, const char *s, size_t len);

/* valid UTF-8 without control characters, 1..max bytes: 0 or -1 */
int hoopctl_check_text(const char *s, size_t max);

/* a JSON string (invalid UTF-8 replaced), or JSON null for NULL */
json_t *hoopctl_json_str(const char *s);
json_t *hoopctl_json_strn(const char *s, size_t len);
/* print a JSON value (pretty, keys in insertion order) and a newline,
 * then release it */
void hoopctl_json_print(json_t *j);

/*
 * hoopctl_compile: compile a policy document with hoop_policy_compile_ex().
 *
 *   name        file name in diagnostics
 *   format      HOOP_POLICY_FORMAT_*
 *   soon_days   "expiring" warning horizon (0: the compiler's 14)
 *   out         every diagnostic is printed there as
 *               "NAME:LINE:COL: severity: message [code]" (NULL: not)
 *   jdiags      a JSON array the diagnostics are appended to (or NULL)
 *   nerrors, nwarnings   counts (may be NULL)
 *
 * Returns the compiled policy, or NULL when it has errors.
 */
hoop_policy_t *hoopctl_compile(const char *name, const char *text,
    size_t len, hoop_policy_format_t format, unsigned soon_days, FILE *out,
    json_t *jdiags, unsigned *nerrors, unsigned *nwarnings);


/* ----------------------------------------------------------------------
 * The Redis store (hoopctl_store.c)
 */

typedef struct {
    redisContext                *ctx;
    const char                  *prefix;
    char                         where[300];   /* for messages */
} hoopctl_store_t;

/* one stored version: views into reply (valid until hoopctl_version_free) */
typedef struct {
    uint64_t                     version;
    hoop_policy_str_t            text;
    hoop_policy_str_t            format;
    hoop_policy_str_t            canonical;
    hoop_policy_str_t            sha256;
    hoop_policy_str_t            author;
    hoop_policy_str_t            comment;
    hoop_policy_str_t            file;
    int64_t                      time_ms;
    redisReply                  *reply;
} hoopctl_version_t;

/* what push stores */
typedef struct {
    const char                  *text;
    size_t                       text_len;
    const char                  *format;       /* "yaml" or "json" */
    const char                  *canonical;
    size_t                       canonical_len;
    const char                  *sha256;       /* 64 hex digits */
    const char                  *author;
    const char                  *comment;      /* "" when none */
    const char                  *file;
    int64_t                      time_ms;
} hoopctl_push_t;

/*
 * addr: "HOST:PORT", "HOST" (port 6379), "[IPV6]:PORT", "/PATH" or
 * "unix:/PATH".  HOOP_REDIS_PASSWORD (and HOOP_REDIS_USER) in the
 * environment: AUTH.  All functions print their errors.
 */
int hoopctl_store_open(hoopctl_store_t *s, const char *addr,
    const char *prefix);
void hoopctl_store_close(hoopctl_store_t *s);

/* "PREFIX" NAME [NUMBER]: a key or channel name, allocated */
char *hoopctl_store_key(const hoopctl_store_t *s, const char *name,
    uint64_t n);

/* HOOPCTL_OK (*v set), HOOPCTL_NO (nothing pushed yet), HOOPCTL_ERROR */
int hoopctl_store_current(hoopctl_store_t *s, uint64_t *v);

/* HOOPCTL_OK, HOOPCTL_NO (no such version), HOOPCTL_ERROR */
int hoopctl_store_version(hoopctl_store_t *s, uint64_t n,
    hoopctl_version_t *out);
void hoopctl_version_free(hoopctl_version_t *v);

/*
 * Atomically (one Lua script): unless the current version has the same
 * sha256, allocate N = INCR seq, write version N, make it current, append
 * a "push" event to the history and publish a notice.  *created is 0 when
 * the current version was identical (*version is then that version).
 */
int hoopctl_store_push(hoopctl_store_t *s, const hoopctl_push_t *p,
    uint64_t *version, uint64_t *previous, int *created);

/*
 * Atomically make version n current again, record a "rollback" event and
 * publish.  HOOPCTL_OK (*changed 0 when n was current already),
 * HOOPCTL_NO (no such version), HOOPCTL_ERROR.
 */
int hoopctl_store_rollback(hoopctl_store_t *s, uint64_t n,
    const char *author, const char *comment, int64_t time_ms,
    uint64_t *previous, int *changed);

/* the history list (LRANGE 0 -1): an array reply, or NULL (printed) */
redisReply *hoopctl_store_history(hoopctl_store_t *s);

/*
 * Last use of the grants ids[0..n): ms[i] = milliseconds since the Epoch,
 * 0 when never used, -1 when the entry is not a number.  *present is 0
 * when the hash does not exist at all (no audit trail yet).
 */
int hoopctl_store_last_used(hoopctl_store_t *s, const char **ids, size_t n,
    int64_t *ms, int *present);


/* ----------------------------------------------------------------------
 * Rules as text and JSON (hoopctl_rule.c)
 */

/* "grant" or "deny" */
const char *hoopctl_kind_name(hoop_policy_kind_t kind);

/* "topic:invoices", "group:prefix:pii-", "topic:regex:orders\..*" */
void hoopctl_resource_text(hoopctl_buf_t *b, const hoop_policy_resource_t *r);

/* "read, describe" (Kafka's code order) */
void hoopctl_ops_text(hoopctl_buf_t *b, uint32_t ops, const char *sep);

/* the principals, resources, hosts of a rule, joined by sep */
void hoopctl_principals_text(hoopctl_buf_t *b, const hoop_policy_rule_t *r,
    const char *sep);
void hoopctl_resources_text(hoopctl_buf_t *b, const hoop_policy_rule_t *r,
    const char *sep);
void hoopctl_hosts_text(hoopctl_buf_t *b, const hoop_policy_rule_t *r,
    const char *sep);

/* a window bound as ISO-8601, or "-" when absent (TIME_MIN, TIME_MAX) */
const char *hoopctl_bound_text(int64_t t, char *buf, size_t size);

/* the rule as a JSON object (the canonical keys; absent values left out) */
json_t *hoopctl_rule_json(const hoop_policy_rule_t *r);

/* a grant's approval block as JSON (canonical keys), and as one line:
 * "by Group:sre, User:carol; grant 1h, hold 25s, expire after 1h" ("-"
 * for NULL) */
json_t *hoopctl_approval_json(const hoop_policy_approval_t *a);
void hoopctl_approval_text(hoopctl_buf_t *b, const hoop_policy_approval_t *a);
json_t *hoopctl_ops_json(uint32_t ops);


/* ----------------------------------------------------------------------
 * diff and review
 */

/*
 * hoopctl_diff: print what changes from policy a (labelled la) to b, as
 * text or JSON.  Returns HOOPCTL_OK (same grants, denies and document) or
 * HOOPCTL_NO (different).
 */
int hoopctl_diff(const hoop_policy_t *a, const char *la,
    const hoop_policy_t *b, const char *lb, int json);

typedef struct {
    int64_t                      now;           /* seconds */
    unsigned                     soon_days;     /* EXPIRES-SOON horizon */
    unsigned                     review_days;   /* REVIEW-OLD age */
    unsigned                     unused_days;   /* UNUSED age */
    const char                  *label;         /* "version 3", a file */
    const char                  *sha256;
    const int64_t               *last_used;     /* per grant, or NULL */
    int                          last_used_present;
    int                          json;
} hoopctl_review_t;

/* print the access review of every grant of p */
int hoopctl_review(const hoop_policy_t *p, const hoopctl_review_t *rv);


/* hoopctl jwks push FILE | fetch ISSUER_URL | show (hoopctl_jwks.c) */
int hoopctl_jwks(const char *redis, const char *prefix, char **args,
    int nargs, int json);


/* hoopctl credentials set USER [--groups A,B] | delete USER | list
 * (hoopctl_credentials.c); groups may be NULL */
int hoopctl_credentials(const char *redis, const char *prefix, char **args,
    int nargs, const char *groups, int json);


/* ----------------------------------------------------------------------
 * The audit trail (docs/audit.md): hoopctl_audit.c (the commands),
 * hoopctl_audit_event.c (what needs no Redis)
 */

/*
 * hoopctl audit who|what|denied|export|tail ...: argc, argv are main()'s,
 * untouched (the audit options are parsed there, not by main()); redis,
 * prefix, json: the global options as main() read them.
 */
int hoopctl_audit(const char *redis, const char *prefix, int json, int argc,
    char **argv);

/*
 * hoopctl approvals list|show|approve|deny|watch|expire ...
 * (hoopctl_approvals.c, docs/approvals.md): argc, argv as for
 * hoopctl_audit().
 */
int hoopctl_approvals(const char *redis, const char *prefix, int json,
    int argc, char **argv);

/* "YYYY-MM-DD" (1970..9999): *ms = its first millisecond (UTC); 0 or -1 */
int hoopctl_audit_parse_date(const char *s, int64_t *ms);

/*
 * A time argument, *ms since the Epoch: "now"; an age before now_ms,
 * N followed by s, m, h or d ("90m", "7d"); "YYYY-MM-DD" (its first ms,
 * or its last when end is 1); "YYYY-MM-DDTHH:MM[:SS[.fff]][Z]", UTC.
 * 0, or -1 for anything else (or an age before 1970).
 */
int hoopctl_audit_parse_time(const char *s, int end, int64_t now_ms,
    int64_t *ms);

/* "2026-12-06" and "2026-12-06T10:00:00.123Z" of ms ("-" when < 0) */
const char *hoopctl_audit_day(int64_t ms, char *buf, size_t size);
const char *hoopctl_audit_time(int64_t ms, char *buf, size_t size);

/* the milliseconds of a stream id "MS-SEQ"; 0 or -1 */
int hoopctl_audit_id_ms(const char *id, size_t len, int64_t *ms);

/*
 * One stream entry as a JSON object: "id" (the stream id), then the
 * fields in stream order, the numbers and arrays of format v1 back as
 * JSON numbers and arrays, everything else as strings (a field named
 * "id" becomes "_id"; invalid UTF-8 is replaced by "?").
 */
json_t *hoopctl_audit_event_json(const char *id, size_t idlen,
    size_t nfields, const char **keys, const size_t *klens,
    const char **vals, const size_t *vlens);

/* one field's value as hoopctl_audit_event_json() types it */
json_t *hoopctl_audit_field_value(const char *key, size_t klen,
    const char *val, size_t vlen);

/* the event's time: "ts", else the id's milliseconds, else -1 */
int64_t hoopctl_audit_event_ms(json_t *ev);

/*
 * A field of a who/what index hash: a JSON array of n strings or nulls
 * (["alice","read","allow"]), or NULL when it is not one.
 */
json_t *hoopctl_audit_index_field(const char *s, size_t len, size_t n);

/* a value as text: strings cleaned (quoted with quote when they hold a
 * blank or are empty), null or NULL as "-", others as compact JSON */
void hoopctl_audit_add_value(hoopctl_buf_t *b, json_t *v, int quote);

/* the one-line form of an event (hoopctl audit tail) */
void hoopctl_audit_event_line(hoopctl_buf_t *b, json_t *ev);


/* ----------------------------------------------------------------------
 * Recorded sessions (docs/audit.md, "Session recording"):
 * hoopctl_sessions.c (the commands), hoopctl_session_view.c (what needs
 * no Redis)
 */

/*
 * hoopctl sessions list|show ...: argc, argv are main()'s, untouched (the
 * options are parsed there, as for audit); redis, prefix, json: the
 * global options.  HOOPCTL_NO for an unknown session.
 */
int hoopctl_sessions(const char *redis, const char *prefix, int json,
    int argc, char **argv);

/*
 * A session's hash P audit:sessions:<sid> (its fields as HGETALL gives
 * them) as a JSON object: "sid", then node, principal, auth, client,
 * client_id, software, record, first, last, closed, requests, responses,
 * bytes, entries, bytes_in, bytes_out, duration_ms (those present;
 * decimal ones as integers), then any other field as a string.
 */
json_t *hoopctl_session_info_json(const char *sid, size_t sidlen,
    size_t nfields, const char **keys, const size_t *klens,
    const char **vals, const size_t *vlens);

/* an integer field of it >= 0 (ms), else -1 */
int64_t hoopctl_session_ms(json_t *info, const char *key);

/* the 8 cells of its `sessions list` row: SESSION START END PRINCIPAL
 * CLIENT REQUESTS BYTES RECORD (END "open" without a closed event) */
void hoopctl_session_row(hoopctl_buf_t *c, json_t *info);

/*
 * The 6 cells of a timeline line for one entry of a session's stream (as
 * hoopctl_audit_event_json() gives it): +MS (from start, ms), DIR
 * (request, response, or the event: closed), API and version,
 * CORRELATION, SIZE, CHECKS ("type:name operation decision", comma
 * separated; then mask=..., "(answered by the gateway)", and a closed
 * event's totals); "-" for what is absent.
 */
void hoopctl_session_cells(hoopctl_buf_t *c, json_t *ev, int64_t start);

/* strict base64 (RFC 4648, padded) into *out (malloc'ed, *outlen bytes);
 * 0, or -1 when it is not */
int hoopctl_session_payload(const char *b64, size_t len, unsigned char **out,
    size_t *outlen);

/* p[0..len) as hex dump lines: indent, offset, 16 bytes, |ASCII| */
void hoopctl_session_dump(hoopctl_buf_t *b, const unsigned char *p,
    size_t len, const char *indent);


#endif /* _HOOPCTL_H_INCLUDED_ */
