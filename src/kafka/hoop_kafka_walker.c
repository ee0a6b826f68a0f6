/*
 * The table-driven Kafka body decoder/encoder; see hoop_kafka_walker.h.
 *
 * Wire encodings (Kafka protocol guide, KIP-482):
 *   int8..int64, uint16, uint32, float64: big endian, fixed width
 *   bool: one byte (kept raw: Kafka reads any non-zero byte as true)
 *   uuid: 16 bytes
 *   string: int16 length (-1 null) | compact: uvarint length+1 (0 null)
 *   bytes, records: int32 length (-1 null) | compact: uvarint length+1
 *   array: int32 count (-1 null) | compact: uvarint count+1 (0 null)
 *   nullable struct: int8 -1 (null) or 1, then the struct
 *   struct in a flexible version: its fields, then uvarint count of
 *     tagged fields, each uvarint tag, uvarint size, value
 * Schema nesting is static, so recursion depth never depends on input.
 */

#include <string.h>

#include "hoop_kafka_walker.h"


typedef struct {
    const uint8_t               *start;
    const uint8_t               *p;
    const uint8_t               *end;
    const hoop_kafka_alloc_t    *a;
    hoop_kafka_err_t            *err;
    int16_t                      version;
} hoop_kafka_dec_t;


static int hoop_kafka_dec_struct(hoop_kafka_dec_t *d,
    const hoop_kafka_field_t *f, uint8_t flags, hoop_kafka_node_t **out);
static int hoop_kafka_dec_field(hoop_kafka_dec_t *d,
    const hoop_kafka_field_t *f, hoop_kafka_node_t **out);
static int hoop_kafka_dec_value(hoop_kafka_dec_t *d,
    const hoop_kafka_field_t *f, uint8_t type, hoop_kafka_node_t *n);
static int hoop_kafka_build_value(const hoop_kafka_alloc_t *a,
    hoop_kafka_node_t *n);
static int hoop_kafka_build_struct(const hoop_kafka_alloc_t *a,
    hoop_kafka_node_t *n);


static const uint8_t  hoop_kafka_zero_uuid[16];


static int
hoop_kafka_fail(hoop_kafka_dec_t *d, int rc, const char *msg,
    const hoop_kafka_field_t *f)
{
    if (d->err) {
        d->err->offset = (size_t) (d->p - d->start);
        d->err->msg = msg;
        d->err->field = f ? f->name : NULL;
    }

    return rc;
}


static hoop_kafka_node_t *
hoop_kafka_node_alloc(const hoop_kafka_alloc_t *a,
    const hoop_kafka_field_t *f, uint8_t type, uint8_t flags,
    int16_t version)
{
    hoop_kafka_node_t  *n;

    n = a->alloc(a->ctx, sizeof(hoop_kafka_node_t));
    if (n == NULL) {
        return NULL;
    }

    memset(n, 0, sizeof(hoop_kafka_node_t));
    n->field = f;
    n->type = type;
    n->flags = flags;
    n->version = version;

    return n;
}


/* Flags a field's node gets from the field's version ranges. */
static uint8_t
hoop_kafka_field_flags(const hoop_kafka_field_t *f, int16_t v)
{
    uint8_t  flags;

    flags = 0;

    if (hoop_kafka_versions_has(f->nullable, v)) {
        flags |= HOOP_KAFKA_NODE_NULLABLE;
    }

    if (hoop_kafka_versions_has(f->flexible, v)) {
        flags |= HOOP_KAFKA_NODE_COMPACT;
    }

    return flags;
}


/*
 * Unsigned varints: lengths, counts and tags of flexible versions.
 */

int
hoop_kafka_uvarint_decode(const uint8_t *p, size_t len, uint32_t *v)
{
    int       i;
    uint8_t   b;
    uint32_t  r;

    r = 0;

    for (i = 0; i < 5; i++) {
        if ((size_t) i == len) {
            return 0;
        }

        b = p[i];

        /* the 5th byte holds bits 28..31 and ends the varint */
        if (i == 4 && b > 0x0f) {
            return -1;
        }

        /* a last byte of 0 after others pads the value */
        if (b == 0 && i > 0) {
            return -1;
        }

        r |= (uint32_t) (b & 0x7f) << (7 * i);

        if ((b & 0x80) == 0) {
            *v = r;
            return i + 1;
        }
    }

    return -1;  /* not reached */
}


size_t
hoop_kafka_uvarint_size(uint64_t v)
{
    size_t  n;

    for (n = 1; v >= 0x80; n++) {
        v >>= 7;
    }

    return n;
}


uint8_t *
hoop_kafka_uvarint_encode(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t) (v | 0x80);
        v >>= 7;
    }

    *p++ = (uint8_t) v;

    return p;
}


/*
 * Reading primitives.  Each checks the remaining length first.
 */

static size_t
hoop_kafka_left(const hoop_kafka_dec_t *d)
{
    return (size_t) (d->end - d->p);
}


static uint64_t
hoop_kafka_get_be(hoop_kafka_dec_t *d, size_t n)
{
    uint64_t  v;

    v = 0;

    while (n--) {
        v = (v << 8) | *d->p++;
    }

    return v;
}


static int
hoop_kafka_get_uvarint(hoop_kafka_dec_t *d, const hoop_kafka_field_t *f,
    uint32_t *out)
{
    int  n;

    n = hoop_kafka_uvarint_decode(d->p, hoop_kafka_left(d), out);

    if (n == 0) {
        return hoop_kafka_fail(d, HOOP_KAFKA_ETRUNCATED, "truncated varint",
                               f);
    }

    if (n < 0) {
        return hoop_kafka_fail(d, HOOP_KAFKA_EINVALID,
                               "varint too long or not minimal", f);
    }

    d->p += n;

    return HOOP_KAFKA_OK;
}


/*
 * Reads a length or count prefix.  *len is -1 for null.  Non-compact
 * prefixes are width bytes (int16 for strings, int32 otherwise).
 */
static int
hoop_kafka_get_length(hoop_kafka_dec_t *d, const hoop_kafka_field_t *f,
    uint8_t flags, size_t width, int64_t *len)
{
    int       rc;
    int64_t   v;
    uint32_t  uv;

    if (flags & HOOP_KAFKA_NODE_COMPACT) {
        rc = hoop_kafka_get_uvarint(d, f, &uv);
        if (rc != HOOP_KAFKA_OK) {
            return rc;
        }

        v = (int64_t) uv - 1;

    } else {
        if (hoop_kafka_left(d) < width) {
            return hoop_kafka_fail(d, HOOP_KAFKA_ETRUNCATED,
                                   "truncated length", f);
        }

        v = (int64_t) hoop_kafka_get_be(d, width);

        /* sign-extend */
        v = (width == 2) ? (int16_t) v : (int32_t) v;

        if (v < -1) {
            return hoop_kafka_fail(d, HOOP_KAFKA_EINVALID,
                                   "negative length", f);
        }
    }

    if (v == -1 && !(flags & HOOP_KAFKA_NODE_NULLABLE)) {
        return hoop_kafka_fail(d, HOOP_KAFKA_EINVALID,
                               "null in a non-nullable field", f);
    }

    *len = v;

    return HOOP_KAFKA_OK;
}


/* A primitive value (field or array element) into n. */
static int
hoop_kafka_dec_value(hoop_kafka_dec_t *d, const hoop_kafka_field_t *f,
    uint8_t type, hoop_kafka_node_t *n)
{
    int      rc;
    size_t   width;
    int64_t  len;

    switch (type) {

    case HOOP_KAFKA_T_BOOL:
    case HOOP_KAFKA_T_INT8:
        width = 1;
        break;

    case HOOP_KAFKA_T_INT16:
    case HOOP_KAFKA_T_UINT16:
        width = 2;
        break;

    case HOOP_KAFKA_T_INT32:
    case HOOP_KAFKA_T_UINT32:
        width = 4;
        break;

    case HOOP_KAFKA_T_INT64:
    case HOOP_KAFKA_T_FLOAT64:
        width = 8;
        break;

    case HOOP_KAFKA_T_UUID:
        if (hoop_kafka_left(d) < 16) {
            return hoop_kafka_fail(d, HOOP_KAFKA_ETRUNCATED,
                                   "truncated uuid", f);
        }

        n->u.bytes.data = d->p;
        n->u.bytes.len = 16;
        d->p += 16;
        return HOOP_KAFKA_OK;

    case HOOP_KAFKA_T_STRING:
    case HOOP_KAFKA_T_BYTES:
    case HOOP_KAFKA_T_RECORDS:
        rc = hoop_kafka_get_length(d, f, n->flags,
                                   type == HOOP_KAFKA_T_STRING ? 2 : 4,
                                   &len);
        if (rc != HOOP_KAFKA_OK) {
            return rc;
        }

        if (len == -1) {
            n->flags |= HOOP_KAFKA_NODE_NULL;
            return HOOP_KAFKA_OK;
        }

        /* Kafka refuses longer strings in both encodings */
        if (type == HOOP_KAFKA_T_STRING && len > 0x7fff) {
            return hoop_kafka_fail(d, HOOP_KAFKA_EINVALID,
                                   "string longer than 32767 bytes", f);
        }

        if ((uint64_t) len > hoop_kafka_left(d)) {
            return hoop_kafka_fail(d, HOOP_KAFKA_ETRUNCATED,
                                   type == HOOP_KAFKA_T_STRING
                                   ? "string length exceeds frame"
                                   : "bytes length exceeds frame", f);
        }

        n->u.bytes.data = d->p;
        n->u.bytes.len = (size_t) len;
        d->p += len;
        return HOOP_KAFKA_OK;

    default:
        return hoop_kafka_fail(d, HOOP_KAFKA_EINVALID, "bad field type", f);
    }

    if (hoop_kafka_left(d) < width) {
        return hoop_kafka_fail(d, HOOP_KAFKA_ETRUNCATED,
                               "truncated integer", f);
    }

    n->u.bits = hoop_kafka_get_be(d, width);

    switch (type) {
    case HOOP_KAFKA_T_INT8:
        n->u.i = (int8_t) n->u.bits;
        break;
    case HOOP_KAFKA_T_INT16:
        n->u.i = (int16_t) n->u.bits;
        break;
    case HOOP_KAFKA_T_INT32:
        n->u.i = (int32_t) n->u.bits;
        break;
    default:
        /* bool (raw byte), unsigned: already zero-extended; int64 and
         * float64 keep all 64 bits */
        break;
    }

    return HOOP_KAFKA_OK;
}


static int
hoop_kafka_dec_array(hoop_kafka_dec_t *d, const hoop_kafka_field_t *f,
    hoop_kafka_node_t *n)
{
    int                 rc;
    int64_t             count, i;
    uint8_t             eflags;
    hoop_kafka_node_t  *e, **tail;

    rc = hoop_kafka_get_length(d, f, n->flags, 4, &count);
    if (rc != HOOP_KAFKA_OK) {
        return rc;
    }

    if (count == -1) {
        n->flags |= HOOP_KAFKA_NODE_NULL;
        return HOOP_KAFKA_OK;
    }

    /* as Kafka: refuse before allocating; every element takes a byte */
    if ((uint64_t) count > hoop_kafka_left(d)) {
        return hoop_kafka_fail(d, HOOP_KAFKA_ETRUNCATED,
                               "array length exceeds frame", f);
    }

    eflags = (n->flags & HOOP_KAFKA_NODE_COMPACT) | HOOP_KAFKA_NODE_ELEMENT;
    tail = &n->u.list.first;

    for (i = 0; i < count; i++) {

        if (f->elem_type == HOOP_KAFKA_T_STRUCT) {
            rc = hoop_kafka_dec_struct(d, f, HOOP_KAFKA_NODE_ELEMENT, &e);
            if (rc != HOOP_KAFKA_OK) {
                return rc;
            }

        } else {
            e = hoop_kafka_node_alloc(d->a, f, f->elem_type, eflags,
                                      d->version);
            if (e == NULL) {
                return hoop_kafka_fail(d, HOOP_KAFKA_ENOMEM,
                                       "out of memory", f);
            }

            rc = hoop_kafka_dec_value(d, f, f->elem_type, e);
            if (rc != HOOP_KAFKA_OK) {
                return rc;
            }
        }

        *tail = e;
        tail = &e->next;
    }

    n->u.list.count = (size_t) count;

    return HOOP_KAFKA_OK;
}


/* A field of a struct, as present in the decoder's version. */
static int
hoop_kafka_dec_field(hoop_kafka_dec_t *d, const hoop_kafka_field_t *f,
    hoop_kafka_node_t **out)
{
    int                 rc;
    uint8_t             flags, presence;
    hoop_kafka_node_t  *n;

    flags = hoop_kafka_field_flags(f, d->version);

    if (f->type == HOOP_KAFKA_T_STRUCT) {

        if (flags & HOOP_KAFKA_NODE_NULLABLE) {
            if (hoop_kafka_left(d) < 1) {
                return hoop_kafka_fail(d, HOOP_KAFKA_ETRUNCATED,
                                       "truncated struct", f);
            }

            presence = *d->p;

            if (presence == 0xff) {
                d->p++;
                n = hoop_kafka_node_alloc(d->a, f, HOOP_KAFKA_T_STRUCT,
                                          flags | HOOP_KAFKA_NODE_NULL,
                                          d->version);
                if (n == NULL) {
                    return hoop_kafka_fail(d, HOOP_KAFKA_ENOMEM,
                                           "out of memory", f);
                }

                *out = n;
                return HOOP_KAFKA_OK;
            }

            /* Kafka writes 1; it would read any other byte >= 0 as 1 */
            if (presence != 1) {
                return hoop_kafka_fail(d, HOOP_KAFKA_EINVALID,
                                       "bad struct presence byte", f);
            }

            d->p++;
        }

        return hoop_kafka_dec_struct(d, f, flags & HOOP_KAFKA_NODE_NULLABLE,
                                     out);
    }

    n = hoop_kafka_node_alloc(d->a, f, f->type, flags, d->version);
    if (n == NULL) {
        return hoop_kafka_fail(d, HOOP_KAFKA_ENOMEM, "out of memory", f);
    }

    if (f->type == HOOP_KAFKA_T_ARRAY) {
        rc = hoop_kafka_dec_array(d, f, n);

    } else {
        rc = hoop_kafka_dec_value(d, f, f->type, n);
    }

    if (rc != HOOP_KAFKA_OK) {
        return rc;
    }

    *out = n;

    return HOOP_KAFKA_OK;
}


static const hoop_kafka_field_t *
hoop_kafka_find_tag(const hoop_kafka_struct_t *st, uint32_t tag, int16_t v)
{
    uint16_t                   i;
    const hoop_kafka_field_t  *f;

    for (i = 0; i < st->nfields; i++) {
        f = &st->fields[i];

        if (f->tag >= 0 && (uint32_t) f->tag == tag
            && hoop_kafka_versions_has(f->versions, v)
            && hoop_kafka_versions_has(f->tagged, v))
        {
            return f;
        }
    }

    return NULL;
}


/*
 * A struct: the struct field f itself, an element of array f, or the root.
 * The tagged section exists in f's flexible versions.
 */
static int
hoop_kafka_dec_struct(hoop_kafka_dec_t *d, const hoop_kafka_field_t *f,
    uint8_t flags, hoop_kafka_node_t **out)
{
    int                        rc;
    uint16_t                   i;
    uint32_t                   ntagged, tag, size, t;
    const uint8_t             *end;
    hoop_kafka_node_t         *n, *c, **tail;
    const hoop_kafka_struct_t *st;
    const hoop_kafka_field_t  *cf;

    st = f->type_struct;

    if (hoop_kafka_versions_has(f->flexible, d->version)) {
        flags |= HOOP_KAFKA_NODE_FLEXIBLE;
    }

    n = hoop_kafka_node_alloc(d->a, f, HOOP_KAFKA_T_STRUCT, flags,
                              d->version);
    if (n == NULL) {
        return hoop_kafka_fail(d, HOOP_KAFKA_ENOMEM, "out of memory", f);
    }

    tail = &n->u.list.first;

    for (i = 0; i < st->nfields; i++) {
        cf = &st->fields[i];

        if (!hoop_kafka_versions_has(cf->versions, d->version)
            || hoop_kafka_versions_has(cf->tagged, d->version))
        {
            continue;
        }

        rc = hoop_kafka_dec_field(d, cf, &c);
        if (rc != HOOP_KAFKA_OK) {
            return rc;
        }

        *tail = c;
        tail = &c->next;
        n->u.list.count++;
    }

    if (!(flags & HOOP_KAFKA_NODE_FLEXIBLE)) {
        *out = n;
        return HOOP_KAFKA_OK;
    }

    rc = hoop_kafka_get_uvarint(d, f, &ntagged);
    if (rc != HOOP_KAFKA_OK) {
        return rc;
    }

    /* each iteration consumes at least two bytes or fails */
    for (t = 0; t < ntagged; t++) {

        rc = hoop_kafka_get_uvarint(d, f, &tag);
        if (rc != HOOP_KAFKA_OK) {
            return rc;
        }

        rc = hoop_kafka_get_uvarint(d, f, &size);
        if (rc != HOOP_KAFKA_OK) {
            return rc;
        }

        if (size > hoop_kafka_left(d)) {
            return hoop_kafka_fail(d, HOOP_KAFKA_ETRUNCATED,
                                   "tagged field size exceeds frame", f);
        }

        cf = hoop_kafka_find_tag(st, tag, d->version);

        if (cf == NULL) {
            c = hoop_kafka_node_alloc(d->a, NULL, HOOP_KAFKA_T_TAGGED_RAW,
                                      HOOP_KAFKA_NODE_TAGGED, d->version);
            if (c == NULL) {
                return hoop_kafka_fail(d, HOOP_KAFKA_ENOMEM,
                                       "out of memory", f);
            }

            c->tag = tag;
            c->u.bytes.data = d->p;
            c->u.bytes.len = size;
            d->p += size;

        } else {
            /* decode within exactly size bytes */
            end = d->end;
            d->end = d->p + size;

            rc = hoop_kafka_dec_field(d, cf, &c);
            if (rc != HOOP_KAFKA_OK) {
                return rc;
            }

            if (d->p != d->end) {
                return hoop_kafka_fail(d, HOOP_KAFKA_EINVALID,
                                       "tagged field shorter than its size",
                                       cf);
            }

            d->end = end;
            c->flags |= HOOP_KAFKA_NODE_TAGGED;
        }

        *tail = c;
        tail = &c->next;
        n->u.list.count++;
    }

    *out = n;

    return HOOP_KAFKA_OK;
}


/*
 * Tables
 */

const hoop_kafka_message_t *
hoop_kafka_message(int16_t api_key, int is_response)
{
    if (api_key < 0 || api_key > HOOP_KAFKA_API_KEY_MAX) {
        return NULL;
    }

    return is_response ? hoop_kafka_response_messages[api_key]
                       : hoop_kafka_request_messages[api_key];
}


int
hoop_kafka_message_supported(int16_t api_key, int16_t version,
    int is_response)
{
    const hoop_kafka_message_t  *m;

    m = hoop_kafka_message(api_key, is_response);

    return m != NULL && hoop_kafka_versions_has(m->valid, version);
}


int
hoop_kafka_api_versions(int16_t api_key, int16_t *min, int16_t *max)
{
    const hoop_kafka_message_t  *m;

    m = hoop_kafka_message(api_key, 0);

    if (m == NULL || m->valid.lo > m->valid.hi) {
        return -1;
    }

    *min = m->valid.lo;
    *max = m->valid.hi;

    return 0;
}


const char *
hoop_kafka_api_name(int16_t api_key)
{
    const hoop_kafka_message_t  *m;

    m = hoop_kafka_message(api_key, 0);

    return m ? m->api_name : NULL;
}


int
hoop_kafka_version_is_flexible(int16_t api_key, int16_t version,
    int is_response)
{
    const hoop_kafka_message_t  *m;

    m = hoop_kafka_message(api_key, is_response);

    if (m == NULL) {
        return -1;
    }

    return hoop_kafka_versions_has(m->flexible, version);
}


/*
 * Decode
 */

int
hoop_kafka_decode(const hoop_kafka_alloc_t *a, int16_t api_key,
    int16_t version, int is_response, const uint8_t *body, size_t len,
    hoop_kafka_node_t **root, hoop_kafka_err_t *err)
{
    int     rc;
    size_t  used;

    rc = hoop_kafka_decode_prefix(a, api_key, version, is_response, body,
                                  len, root, &used, err);
    if (rc != HOOP_KAFKA_OK) {
        return rc;
    }

    if (used != len) {
        if (err) {
            err->msg = "trailing bytes after message";
            err->field = NULL;
            err->offset = used;
        }

        return HOOP_KAFKA_EINVALID;
    }

    return HOOP_KAFKA_OK;
}


int
hoop_kafka_decode_prefix(const hoop_kafka_alloc_t *a, int16_t api_key,
    int16_t version, int is_response, const uint8_t *body, size_t len,
    hoop_kafka_node_t **root, size_t *used, hoop_kafka_err_t *err)
{
    int                          rc;
    hoop_kafka_dec_t             d;
    const hoop_kafka_message_t  *m;

    d.start = body;
    d.p = body;
    d.end = body + len;
    d.a = a;
    d.err = err;
    d.version = version;

    if (!hoop_kafka_message_supported(api_key, version, is_response)) {
        return hoop_kafka_fail(&d, HOOP_KAFKA_EUNSUPPORTED,
                               "unsupported ApiKey or version", NULL);
    }

    m = hoop_kafka_message(api_key, is_response);

    rc = hoop_kafka_dec_struct(&d, m->root, 0, root);
    if (rc != HOOP_KAFKA_OK) {
        return rc;
    }

    *used = (size_t) (d.p - d.start);

    return HOOP_KAFKA_OK;
}


/*
 * Encode
 */

static uint8_t *
hoop_kafka_put_be(uint8_t *p, uint64_t v, size_t n)
{
    size_t  i;

    for (i = n; i > 0; i--) {
        p[i - 1] = (uint8_t) v;
        v >>= 8;
    }

    return p + n;
}


/* Width of a non-compact length prefix. */
static size_t
hoop_kafka_length_width(uint8_t type)
{
    return type == HOOP_KAFKA_T_STRING ? 2 : 4;
}


/* Size of a length/count prefix; n is the length or count. */
static size_t
hoop_kafka_length_size(const hoop_kafka_node_t *node, size_t n)
{
    if (!(node->flags & HOOP_KAFKA_NODE_COMPACT)) {
        return hoop_kafka_length_width(node->type);
    }

    return hoop_kafka_uvarint_size((node->flags & HOOP_KAFKA_NODE_NULL)
                                   ? 0 : (uint64_t) n + 1);
}


static uint8_t *
hoop_kafka_put_length(uint8_t *p, const hoop_kafka_node_t *node, size_t n)
{
    if (node->flags & HOOP_KAFKA_NODE_COMPACT) {
        return hoop_kafka_uvarint_encode(p, (node->flags & HOOP_KAFKA_NODE_NULL)
                                         ? 0 : (uint64_t) n + 1);
    }

    return hoop_kafka_put_be(p, (node->flags & HOOP_KAFKA_NODE_NULL)
                                ? (uint64_t) -1 : (uint64_t) n,
                             hoop_kafka_length_width(node->type));
}


static int
hoop_kafka_is_tagged(const hoop_kafka_node_t *n)
{
    return (n->flags & HOOP_KAFKA_NODE_TAGGED) != 0;
}


/* Size of a tagged field's value (after its tag and size varints). */
static size_t
hoop_kafka_tagged_value_size(const hoop_kafka_node_t *c)
{
    return c->type == HOOP_KAFKA_T_TAGGED_RAW ? c->u.bytes.len
                                             : hoop_kafka_encoded_size(c);
}


size_t
hoop_kafka_encoded_size(const hoop_kafka_node_t *node)
{
    size_t                    size, ntagged, vsize;
    const hoop_kafka_node_t  *c;

    switch (node->type) {

    case HOOP_KAFKA_T_BOOL:
    case HOOP_KAFKA_T_INT8:
        return 1;

    case HOOP_KAFKA_T_INT16:
    case HOOP_KAFKA_T_UINT16:
        return 2;

    case HOOP_KAFKA_T_INT32:
    case HOOP_KAFKA_T_UINT32:
        return 4;

    case HOOP_KAFKA_T_INT64:
    case HOOP_KAFKA_T_FLOAT64:
        return 8;

    case HOOP_KAFKA_T_UUID:
        return 16;

    case HOOP_KAFKA_T_STRING:
    case HOOP_KAFKA_T_BYTES:
    case HOOP_KAFKA_T_RECORDS:
        return hoop_kafka_length_size(node, node->u.bytes.len)
               + node->u.bytes.len;

    case HOOP_KAFKA_T_ARRAY:
        size = hoop_kafka_length_size(node, node->u.list.count);

        for (c = node->u.list.first; c; c = c->next) {
            size += hoop_kafka_encoded_size(c);
        }

        return size;

    case HOOP_KAFKA_T_TAGGED_RAW:
        /* a whole tagged field: tag, size, value */
        return hoop_kafka_uvarint_size(node->tag)
               + hoop_kafka_uvarint_size(node->u.bytes.len)
               + node->u.bytes.len;

    case HOOP_KAFKA_T_STRUCT:
        break;

    default:
        return 0;
    }

    size = (node->flags & HOOP_KAFKA_NODE_NULLABLE) ? 1 : 0;

    if (node->flags & HOOP_KAFKA_NODE_NULL) {
        return size;
    }

    ntagged = 0;

    for (c = node->u.list.first; c; c = c->next) {
        if (!hoop_kafka_is_tagged(c)) {
            size += hoop_kafka_encoded_size(c);
            continue;
        }

        ntagged++;
        vsize = hoop_kafka_tagged_value_size(c);
        size += hoop_kafka_uvarint_size(c->type == HOOP_KAFKA_T_TAGGED_RAW
                                        ? c->tag : (uint32_t) c->field->tag)
                + hoop_kafka_uvarint_size(vsize) + vsize;
    }

    if (node->flags & HOOP_KAFKA_NODE_FLEXIBLE) {
        size += hoop_kafka_uvarint_size(ntagged);
    }

    return size;
}


static uint8_t *
hoop_kafka_put(const hoop_kafka_node_t *node, uint8_t *p)
{
    size_t                    ntagged;
    const hoop_kafka_node_t  *c;

    switch (node->type) {

    case HOOP_KAFKA_T_BOOL:
    case HOOP_KAFKA_T_INT8:
        return hoop_kafka_put_be(p, (uint64_t) node->u.i, 1);

    case HOOP_KAFKA_T_INT16:
    case HOOP_KAFKA_T_UINT16:
        return hoop_kafka_put_be(p, (uint64_t) node->u.i, 2);

    case HOOP_KAFKA_T_INT32:
    case HOOP_KAFKA_T_UINT32:
        return hoop_kafka_put_be(p, (uint64_t) node->u.i, 4);

    case HOOP_KAFKA_T_INT64:
    case HOOP_KAFKA_T_FLOAT64:
        return hoop_kafka_put_be(p, node->u.bits, 8);

    case HOOP_KAFKA_T_UUID:
        memcpy(p, node->u.bytes.data, 16);
        return p + 16;

    case HOOP_KAFKA_T_STRING:
    case HOOP_KAFKA_T_BYTES:
    case HOOP_KAFKA_T_RECORDS:
        p = hoop_kafka_put_length(p, node, node->u.bytes.len);
        if (node->u.bytes.len) {
            memcpy(p, node->u.bytes.data, node->u.bytes.len);
        }
        return p + node->u.bytes.len;

    case HOOP_KAFKA_T_ARRAY:
        p = hoop_kafka_put_length(p, node, node->u.list.count);

        for (c = node->u.list.first; c; c = c->next) {
            p = hoop_kafka_put(c, p);
        }

        return p;

    case HOOP_KAFKA_T_TAGGED_RAW:
        p = hoop_kafka_uvarint_encode(p, node->tag);
        p = hoop_kafka_uvarint_encode(p, node->u.bytes.len);
        if (node->u.bytes.len) {
            memcpy(p, node->u.bytes.data, node->u.bytes.len);
        }
        return p + node->u.bytes.len;

    case HOOP_KAFKA_T_STRUCT:
        break;

    default:
        return p;
    }

    if (node->flags & HOOP_KAFKA_NODE_NULLABLE) {
        *p++ = (node->flags & HOOP_KAFKA_NODE_NULL) ? 0xff : 0x01;
    }

    if (node->flags & HOOP_KAFKA_NODE_NULL) {
        return p;
    }

    ntagged = 0;

    for (c = node->u.list.first; c; c = c->next) {
        if (hoop_kafka_is_tagged(c)) {
            ntagged++;

        } else {
            p = hoop_kafka_put(c, p);
        }
    }

    if (!(node->flags & HOOP_KAFKA_NODE_FLEXIBLE)) {
        return p;
    }

    p = hoop_kafka_uvarint_encode(p, ntagged);

    for (c = node->u.list.first; c; c = c->next) {
        if (!hoop_kafka_is_tagged(c)) {
            continue;
        }

        if (c->type == HOOP_KAFKA_T_TAGGED_RAW) {
            p = hoop_kafka_put(c, p);
            continue;
        }

        p = hoop_kafka_uvarint_encode(p, (uint32_t) c->field->tag);
        p = hoop_kafka_uvarint_encode(p, hoop_kafka_encoded_size(c));
        p = hoop_kafka_put(c, p);
    }

    return p;
}


size_t
hoop_kafka_encode(const hoop_kafka_node_t *node, uint8_t *out)
{
    return (size_t) (hoop_kafka_put(node, out) - out);
}


/*
 * Build
 */

/* Default value of a non-struct, non-array field or element node. */
static int
hoop_kafka_build_value(const hoop_kafka_alloc_t *a, hoop_kafka_node_t *n)
{
    const hoop_kafka_field_t  *f;

    f = n->field;

    switch (n->type) {

    case HOOP_KAFKA_T_STRUCT:
        return hoop_kafka_build_struct(a, n);

    case HOOP_KAFKA_T_UUID:
        n->u.bytes.data = hoop_kafka_zero_uuid;
        n->u.bytes.len = 16;
        return HOOP_KAFKA_OK;

    case HOOP_KAFKA_T_STRING:
    case HOOP_KAFKA_T_BYTES:
    case HOOP_KAFKA_T_RECORDS:
    case HOOP_KAFKA_T_ARRAY:
        /* Kafka's defaults: records null, others empty unless "null" */
        if ((n->flags & HOOP_KAFKA_NODE_NULLABLE)
            && !(n->flags & HOOP_KAFKA_NODE_ELEMENT)
            && ((f->flags & HOOP_KAFKA_FIELD_DEFAULT_NULL)
                || n->type == HOOP_KAFKA_T_RECORDS))
        {
            n->flags |= HOOP_KAFKA_NODE_NULL;
        }

        if (n->type != HOOP_KAFKA_T_ARRAY) {
            n->u.bytes.data = (const uint8_t *) "";
        }

        return HOOP_KAFKA_OK;

    default:
        /* integers, bool, float64 (no float defaults in the specs) */
        if (!(n->flags & HOOP_KAFKA_NODE_ELEMENT)) {
            n->u.i = f->def;
        }

        return HOOP_KAFKA_OK;
    }
}


/* Fills struct node n with the default of every untagged field. */
static int
hoop_kafka_build_struct(const hoop_kafka_alloc_t *a, hoop_kafka_node_t *n)
{
    int                         rc;
    uint8_t                     flags;
    uint16_t                    i;
    hoop_kafka_node_t          *c, **tail;
    const hoop_kafka_field_t   *cf;
    const hoop_kafka_struct_t  *st;

    if (hoop_kafka_versions_has(n->field->flexible, n->version)) {
        n->flags |= HOOP_KAFKA_NODE_FLEXIBLE;
    }

    if ((n->flags & HOOP_KAFKA_NODE_NULLABLE)
        && (n->field->flags & HOOP_KAFKA_FIELD_DEFAULT_NULL))
    {
        n->flags |= HOOP_KAFKA_NODE_NULL;
        return HOOP_KAFKA_OK;
    }

    st = n->field->type_struct;
    tail = &n->u.list.first;

    for (i = 0; i < st->nfields; i++) {
        cf = &st->fields[i];

        if (!hoop_kafka_versions_has(cf->versions, n->version)
            || hoop_kafka_versions_has(cf->tagged, n->version))
        {
            continue;
        }

        flags = hoop_kafka_field_flags(cf, n->version);

        if (cf->type == HOOP_KAFKA_T_STRUCT) {
            flags &= ~HOOP_KAFKA_NODE_COMPACT;    /* as decoded */
        }

        c = hoop_kafka_node_alloc(a, cf, cf->type, flags, n->version);
        if (c == NULL) {
            return HOOP_KAFKA_ENOMEM;
        }

        rc = hoop_kafka_build_value(a, c);
        if (rc != HOOP_KAFKA_OK) {
            return rc;
        }

        *tail = c;
        tail = &c->next;
        n->u.list.count++;
    }

    return HOOP_KAFKA_OK;
}


int
hoop_kafka_build(const hoop_kafka_alloc_t *a, int16_t api_key,
    int16_t version, int is_response, hoop_kafka_node_t **root)
{
    hoop_kafka_node_t           *n;
    const hoop_kafka_message_t  *m;

    if (!hoop_kafka_message_supported(api_key, version, is_response)) {
        return HOOP_KAFKA_EUNSUPPORTED;
    }

    m = hoop_kafka_message(api_key, is_response);

    n = hoop_kafka_node_alloc(a, m->root, HOOP_KAFKA_T_STRUCT, 0, version);
    if (n == NULL) {
        return HOOP_KAFKA_ENOMEM;
    }

    *root = n;

    return hoop_kafka_build_struct(a, n);
}


hoop_kafka_node_t *
hoop_kafka_array_append(const hoop_kafka_alloc_t *a, hoop_kafka_node_t *array)
{
    hoop_kafka_node_t         *e, **tail;
    const hoop_kafka_field_t  *f;

    if (array->type != HOOP_KAFKA_T_ARRAY) {
        return NULL;
    }

    f = array->field;

    e = hoop_kafka_node_alloc(a, f, f->elem_type,
                              (array->flags & HOOP_KAFKA_NODE_COMPACT)
                              | HOOP_KAFKA_NODE_ELEMENT,
                              array->version);
    if (e == NULL) {
        return NULL;
    }

    if (hoop_kafka_build_value(a, e) != HOOP_KAFKA_OK) {
        return NULL;
    }

    for (tail = &array->u.list.first; *tail; tail = &(*tail)->next) {
        /* void */
    }

    *tail = e;
    array->u.list.count++;
    array->flags &= ~HOOP_KAFKA_NODE_NULL;

    return e;
}


/*
 * Accessors
 */

hoop_kafka_node_t *
hoop_kafka_node_first(const hoop_kafka_node_t *node)
{
    if (node->type != HOOP_KAFKA_T_STRUCT
        && node->type != HOOP_KAFKA_T_ARRAY)
    {
        return NULL;
    }

    return node->u.list.first;
}


hoop_kafka_node_t *
hoop_kafka_node_next(const hoop_kafka_node_t *node)
{
    return node->next;
}


hoop_kafka_node_t *
hoop_kafka_node_child(const hoop_kafka_node_t *node, const char *name)
{
    hoop_kafka_node_t  *c;

    if (node->type != HOOP_KAFKA_T_STRUCT) {
        return NULL;
    }

    for (c = node->u.list.first; c; c = c->next) {
        if (c->field && strcmp(c->field->name, name) == 0) {
            return c;
        }
    }

    return NULL;
}


size_t
hoop_kafka_node_count(const hoop_kafka_node_t *node)
{
    if (node->type != HOOP_KAFKA_T_STRUCT
        && node->type != HOOP_KAFKA_T_ARRAY)
    {
        return 0;
    }

    return node->u.list.count;
}


const char *
hoop_kafka_node_name(const hoop_kafka_node_t *node)
{
    return node->field ? node->field->name : "";
}


const hoop_kafka_struct_t *
hoop_kafka_node_struct(const hoop_kafka_node_t *node)
{
    if (node->type != HOOP_KAFKA_T_STRUCT) {
        return NULL;
    }

    return node->field->type_struct;
}


int
hoop_kafka_node_is_null(const hoop_kafka_node_t *node)
{
    return (node->flags & HOOP_KAFKA_NODE_NULL) != 0;
}


int64_t
hoop_kafka_node_int(const hoop_kafka_node_t *node)
{
    switch (node->type) {
    case HOOP_KAFKA_T_BOOL:
    case HOOP_KAFKA_T_INT8:
    case HOOP_KAFKA_T_INT16:
    case HOOP_KAFKA_T_UINT16:
    case HOOP_KAFKA_T_INT32:
    case HOOP_KAFKA_T_UINT32:
    case HOOP_KAFKA_T_INT64:
        return node->u.i;
    default:
        return 0;
    }
}


double
hoop_kafka_node_float(const hoop_kafka_node_t *node)
{
    double  v;

    if (node->type != HOOP_KAFKA_T_FLOAT64) {
        return 0.0;
    }

    memcpy(&v, &node->u.bits, sizeof(double));

    return v;
}


const uint8_t *
hoop_kafka_node_bytes(const hoop_kafka_node_t *node, size_t *len)
{
    *len = 0;

    switch (node->type) {
    case HOOP_KAFKA_T_UUID:
    case HOOP_KAFKA_T_STRING:
    case HOOP_KAFKA_T_BYTES:
    case HOOP_KAFKA_T_RECORDS:
    case HOOP_KAFKA_T_TAGGED_RAW:
        break;
    default:
        return NULL;
    }

    if (node->flags & HOOP_KAFKA_NODE_NULL) {
        return NULL;
    }

    *len = node->u.bytes.len;

    return node->u.bytes.data;
}


int
hoop_kafka_node_set_string(hoop_kafka_node_t *node, const uint8_t *data,
    size_t len)
{
    size_t  max;

    switch (node->type) {
    case HOOP_KAFKA_T_STRING:
        max = 0x7fff;
        break;
    case HOOP_KAFKA_T_BYTES:
    case HOOP_KAFKA_T_RECORDS:
        max = 0x7ffffffe;
        break;
    default:
        return -1;
    }

    if (data == NULL) {
        if (!(node->flags & HOOP_KAFKA_NODE_NULLABLE)) {
            return -1;
        }

        node->flags |= HOOP_KAFKA_NODE_NULL;
        node->u.bytes.data = (const uint8_t *) "";
        node->u.bytes.len = 0;
        return 0;
    }

    if (len > max) {
        return -1;
    }

    node->flags &= ~HOOP_KAFKA_NODE_NULL;
    node->u.bytes.data = data;
    node->u.bytes.len = len;

    return 0;
}


int
hoop_kafka_node_set_int(hoop_kafka_node_t *node, int64_t v)
{
    int64_t  lo, hi;

    switch (node->type) {
    case HOOP_KAFKA_T_BOOL:
        lo = 0;
        hi = 1;
        break;
    case HOOP_KAFKA_T_INT8:
        lo = INT8_MIN;
        hi = INT8_MAX;
        break;
    case HOOP_KAFKA_T_INT16:
        lo = INT16_MIN;
        hi = INT16_MAX;
        break;
    case HOOP_KAFKA_T_UINT16:
        lo = 0;
        hi = UINT16_MAX;
        break;
    case HOOP_KAFKA_T_INT32:
        lo = INT32_MIN;
        hi = INT32_MAX;
        break;
    case HOOP_KAFKA_T_UINT32:
        lo = 0;
        hi = UINT32_MAX;
        break;
    case HOOP_KAFKA_T_INT64:
        lo = INT64_MIN;
        hi = INT64_MAX;
        break;
    default:
        return -1;
    }

    if (v < lo || v > hi) {
        return -1;
    }

    node->u.i = v;

    return 0;
}


/*
 * Walk
 */

static int
hoop_kafka_walk_node(hoop_kafka_node_t *node, hoop_kafka_node_t *parent,
    hoop_kafka_walk_pt cb, void *ctx)
{
    int                 rc;
    hoop_kafka_node_t  *c;

    rc = cb(node, node->field, parent, ctx);

    if (rc < 0) {
        return rc;
    }

    if (rc == HOOP_KAFKA_WALK_SKIP
        || (node->type != HOOP_KAFKA_T_STRUCT
            && node->type != HOOP_KAFKA_T_ARRAY))
    {
        return 0;
    }

    for (c = node->u.list.first; c; c = c->next) {
        rc = hoop_kafka_walk_node(c, node, cb, ctx);
        if (rc < 0) {
            return rc;
        }
    }

    return 0;
}


int
hoop_kafka_walk(hoop_kafka_node_t *root, hoop_kafka_walk_pt cb, void *ctx)
{
    return hoop_kafka_walk_node(root, NULL, cb, ctx);
}
