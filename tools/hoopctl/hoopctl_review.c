/*
 * hoopctl review: the access review of one policy version, the list an
 * auditor asks for: every grant with who may do what on which resources,
 * who reviewed it and when, until when it is valid, when it was last used
 * (from the audit trail's PREFIX grant:last_used hash), and flags:
 *
 *   EXPIRED        after valid_until: it matches nothing any more
 *   EXPIRES-SOON   valid_until within soon_days
 *   NOT-YET-VALID  before valid_from
 *   REVIEW-OLD     reviewed_at more than review_days ago
 *   UNUSED         the audit trail exists and has no use of the grant, or
 *                  none within unused_days
 */

#include <stdlib.h>
#include <string.h>

#include "hoopctl.h"


#define HOOPCTL_REVIEW_COLS  10


static const char  *hoopctl_review_heads[HOOPCTL_REVIEW_COLS] = {
    "ID", "PRINCIPALS", "RESOURCES", "OPERATIONS", "HOSTS", "REVIEWER",
    "REVIEWED", "EXPIRES", "LAST-USED", "FLAGS"
};


/* the flags of grant r, as a JSON array */
static json_t *
hoopctl_review_flags(const hoop_policy_rule_t *r, int64_t last_used,
    const hoopctl_review_t *rv)
{
    int      window;
    json_t  *flags;

    flags = json_array();

    window = hoop_policy_rule_window(r, rv->now);

    if (window > 0) {
        json_array_append_new(flags, json_string("EXPIRED"));

    } else if (r->valid_until != HOOP_POLICY_TIME_MAX
               && r->valid_until - rv->now
                  <= (int64_t) rv->soon_days * HOOPCTL_DAY)
    {
        json_array_append_new(flags, json_string("EXPIRES-SOON"));
    }

    if (window < 0) {
        json_array_append_new(flags, json_string("NOT-YET-VALID"));
    }

    if (r->reviewed_at != NULL
        && r->reviewed_at_time
           < rv->now - (int64_t) rv->review_days * HOOPCTL_DAY)
    {
        json_array_append_new(flags, json_string("REVIEW-OLD"));
    }

    if (rv->last_used_present
        && (last_used == 0
            || (last_used > 0
                && last_used / 1000
                   < rv->now - (int64_t) rv->unused_days * HOOPCTL_DAY)))
    {
        json_array_append_new(flags, json_string("UNUSED"));
    }

    return flags;
}


/* "2026-11-02T10:00:00Z", "never" or "-" */
static const char *
hoopctl_last_used_text(int64_t ms, int present, char *buf, size_t size)
{
    if (!present) {
        return "-";
    }

    if (ms == 0) {
        return "never";
    }

    if (ms < 0) {
        return "invalid";
    }

    return hoopctl_iso_time(ms / 1000, buf, size);
}


int
hoopctl_review(const hoop_policy_t *p, const hoopctl_review_t *rv)
{
    char                       t[40];
    size_t                     i, k, n, nflagged, w[HOOPCTL_REVIEW_COLS];
    int64_t                    used;
    json_t                    *out, *grants, *g, *flags;
    hoopctl_buf_t             *cells, *c;
    const hoop_policy_rule_t  *r;

    n = hoop_policy_rule_count(p, HOOP_POLICY_GRANT);
    nflagged = 0;

    if (rv->json) {
        out = json_object();
        json_object_set_new(out, "policy", hoopctl_json_str(rv->label));
        json_object_set_new(out, "sha256", hoopctl_json_str(rv->sha256));
        json_object_set_new(out, "now",
                      json_string(hoopctl_iso_time(rv->now, t, sizeof(t))));
        json_object_set_new(out, "soon_days", json_integer(rv->soon_days));
        json_object_set_new(out, "review_days",
                            json_integer(rv->review_days));
        json_object_set_new(out, "unused_days",
                            json_integer(rv->unused_days));
        json_object_set_new(out, "last_used_available",
                            json_boolean(rv->last_used_present));

        grants = json_array();

        for (i = 0; i < n; i++) {
            r = hoop_policy_rule_at(p, HOOP_POLICY_GRANT, i);
            used = rv->last_used ? rv->last_used[i] : 0;

            g = hoopctl_rule_json(r);
            json_object_del(g, "kind");

            if (!rv->last_used_present || used == 0) {
                json_object_set_new(g, "last_used", json_null());

            } else {
                json_object_set_new(g, "last_used",
                    json_string(hoopctl_last_used_text(used, 1, t,
                                                       sizeof(t))));
            }

            flags = hoopctl_review_flags(r, used, rv);
            nflagged += json_array_size(flags) > 0;
            json_object_set_new(g, "flags", flags);
            json_array_append_new(grants, g);
        }

        json_object_set_new(out, "grants", grants);
        json_object_set_new(out, "flagged", json_integer((json_int_t) nflagged));
        hoopctl_json_print(out);

        return HOOPCTL_OK;
    }

    /* a table: every cell first, then the column widths */

    cells = hoopctl_alloc((n + 1) * HOOPCTL_REVIEW_COLS
                          * sizeof(hoopctl_buf_t));
    memset(cells, 0, (n + 1) * HOOPCTL_REVIEW_COLS * sizeof(hoopctl_buf_t));

    for (k = 0; k < HOOPCTL_REVIEW_COLS; k++) {
        hoopctl_buf_adds(&cells[k], hoopctl_review_heads[k]);
    }

    for (i = 0; i < n; i++) {
        r = hoop_policy_rule_at(p, HOOP_POLICY_GRANT, i);
        used = rv->last_used ? rv->last_used[i] : 0;
        c = &cells[(i + 1) * HOOPCTL_REVIEW_COLS];

        hoopctl_buf_add_clean(&c[0], r->id, strlen(r->id));
        hoopctl_principals_text(&c[1], r, ",");
        hoopctl_resources_text(&c[2], r, ",");
        hoopctl_ops_text(&c[3], r->ops, ",");
        if (r->approval != NULL) {
            hoopctl_buf_adds(&c[3], " (approval)");
        }
        hoopctl_hosts_text(&c[4], r, ",");

        if (r->reviewed_by != NULL) {
            hoopctl_buf_add_clean(&c[5], r->reviewed_by,
                                  strlen(r->reviewed_by));
        } else {
            hoopctl_buf_adds(&c[5], "-");
        }

        hoopctl_buf_adds(&c[6], r->reviewed_at ? r->reviewed_at : "-");
        hoopctl_buf_adds(&c[7], hoopctl_bound_text(r->valid_until, t,
                                                   sizeof(t)));
        hoopctl_buf_adds(&c[8], hoopctl_last_used_text(used,
                                  rv->last_used_present, t, sizeof(t)));

        flags = hoopctl_review_flags(r, used, rv);
        nflagged += json_array_size(flags) > 0;

        for (k = 0; k < json_array_size(flags); k++) {
            if (k) {
                hoopctl_buf_adds(&c[9], ",");
            }
            hoopctl_buf_adds(&c[9],
                             json_string_value(json_array_get(flags, k)));
        }

        if (json_array_size(flags) == 0) {
            hoopctl_buf_adds(&c[9], "-");
        }

        json_decref(flags);
    }

    for (k = 0; k < HOOPCTL_REVIEW_COLS; k++) {
        w[k] = 0;
        for (i = 0; i <= n; i++) {
            if (cells[i * HOOPCTL_REVIEW_COLS + k].len > w[k]) {
                w[k] = cells[i * HOOPCTL_REVIEW_COLS + k].len;
            }
        }
    }

    printf("access review of %s (sha256:%.12s) at %s: %zu grant%s, "
           "%zu flagged\n", rv->label, rv->sha256 ? rv->sha256 : "-",
           hoopctl_iso_time(rv->now, t, sizeof(t)), n, n == 1 ? "" : "s",
           nflagged);

    for (i = 0; i <= n; i++) {
        c = &cells[i * HOOPCTL_REVIEW_COLS];

        for (k = 0; k < HOOPCTL_REVIEW_COLS; k++) {
            if (k == HOOPCTL_REVIEW_COLS - 1) {
                printf("%s\n", hoopctl_buf_str(&c[k]));
            } else {
                printf("%-*s  ", (int) w[k], hoopctl_buf_str(&c[k]));
            }
            hoopctl_buf_free(&c[k]);
        }
    }

    free(cells);

    return HOOPCTL_OK;
}
