#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/text.h"
#include "core/apply.h"
#include "core/provider.h"
#include "core/rebuild.h"
#include "store/store_rebuild.h"
#include "store/store_rows.h"

/* Inbox rows read per page. */
#define PAGE 256

enum terr
rebuild_run(struct store *live, const struct cfg *c, const char *path, size_t max_rows,
    void (*fn)(void *arg, const char *table, const char *only_in, const char *row), void *arg,
    struct rebuild_stats *st, char *why, size_t whysize)
{
	struct store *fresh = NULL;
	struct inbox_row *rows = NULL;
	struct bev *ev = NULL;
	struct apply_result res;
	struct buf body;
	struct stat sb;
	char pwhy[256];
	int64_t after = 0;
	size_t n, i;
	int from, to;
	enum terr rc;

	memset(st, 0, sizeof(*st));
	if (stat(path, &sb) == 0 || errno != ENOENT) {
		snprintf(why, whysize, "%s exists: the rebuild needs a new file", path);
		return TERR_CONFLICT;
	}
	buf_init(&body, BODY_MAX);
	if ((rows = calloc(PAGE, sizeof(*rows))) == NULL || (ev = malloc(sizeof(*ev))) == NULL) {
		rc = TERR_NOMEM;
		goto out;
	}
	if ((rc = store_open(&fresh, path, STORE_MIGRATE)) != TERR_OK ||
	    (rc = store_migrate(fresh, 0, &from, &to)) != TERR_OK ||
	    (rc = store_fast_writes(fresh)) != TERR_OK) {
		snprintf(why, whysize, "cannot create %s", path);
		goto out;
	}
	for (;;) {
		if ((rc = store_inbox_list(live, -1, NULL, after, rows, PAGE, &n)) != TERR_OK) {
			snprintf(why, whysize, "cannot read the live inbox");
			goto out;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			buf_reset(&body);
			if ((rc = store_inbox_get(live, rows[i].id, &rows[i], &body)) != TERR_OK) {
				snprintf(why, whysize, "cannot read inbox row %lld",
				    (long long)rows[i].id);
				goto out;
			}
			if (provider_parse(c, rows[i].provider, buf_cstr(&body), body.len, ev, pwhy,
				sizeof(pwhy)) != TERR_OK) {
				st->unparsed++;
				continue;
			}
			if (ev->id[0] == '\0') /* an id from a header (Razorpay): the stored one */
				text_copy(ev->id, sizeof(ev->id), rows[i].event_id);
			/* Each event at the time it arrived: the decisions it met are the same. */
			if ((rc = apply_batch(fresh, c, ev, 1, &res, rows[i].received_at)) !=
			    TERR_OK) {
				snprintf(why, whysize, "replay of inbox row %lld not committed: %s",
				    (long long)rows[i].id, err_str(rc));
				goto out;
			}
			st->events++;
		}
		after = rows[n - 1].id;
	}
	store_close(fresh);
	fresh = NULL;
	if ((rc = store_diff(live, path, max_rows, fn, arg, &st->diffs)) != TERR_OK)
		snprintf(why, whysize, "cannot compare the databases");
out:
	store_close(fresh);
	free(ev);
	free(rows);
	buf_release(&body);
	return rc;
}
