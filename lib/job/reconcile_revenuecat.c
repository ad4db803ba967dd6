/*
 * tally-reconcile: the RevenueCat customers of stale RevenueCat
 * subscriptions, synced as `tally revenuecat sync` does (reconcile.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "job/reconcile.h"
#include "job/reconcile_revenuecat.h"
#include "job/revenuecat_sync.h"
#include "providers/revenuecat/revenuecat.h"
#include "providers/revenuecat/revenuecat_api.h"
#include "store/store.h"

/* -------------------------------------------------------------- revenuecat */

/* The app user id RevenueCat knows user by: its link, else the user id itself. */
static void
app_user_id(struct job *j, const char *user, char *out, size_t size)
{
	struct link_row links[16];
	size_t n = 0, i;

	text_copy(out, size, user);
	if (store_links_of(j->s, user, links, 16, &n) != TERR_OK)
		return;
	for (i = 0; i < n; i++)
		if (strcmp(links[i].provider, "revenuecat") == 0 &&
		    strcmp(links[i].kind, "app_user_id") == 0 &&
		    strncmp(links[i].ext_id, "$RCAnonymousID:", 15) != 0) {
			text_copy(out, size, links[i].ext_id);
			return;
		}
}

static void
revenuecat_report(struct job *j, const struct rc_sync *p)
{
	char subject[ID_MAX + 64];
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct rc_change *ch = &p->changes[i];
		struct job_item it = { .action = "drift",
			.subject = subject,
			.user = p->user,
			.provider = "revenuecat",
			.tally = ch->tally,
			.theirs = ch->revenuecat,
			.event_id = ch->event_id[0] != '\0' ? ch->event_id : NULL,
			.reason = ch->done ? ch->reason : ch->note };
		snprintf(subject, sizeof(subject), "%s %.200s", ch->what, ch->product);
		it.result = ch->event_type[0] == '\0' ? "reported"
		    : j->dry_run                      ? "would apply"
		    : !ch->done                       ? "not applied"
		    : ch->duplicate                   ? "duplicate"
						      : inbox_state_str(ch->state);
		reconcile_say(j, &it, "drift");
		if (ch->done && !ch->duplicate && ch->state != INBOX_APPLIED &&
		    ch->state != INBOX_IGNORED)
			job_fail(j, "revenuecat %s: %s", subject, ch->reason);
	}
}

void
reconcile_revenuecat(struct job *j)
{
	struct reconcile_stale st = { "revenuecat", NULL, 0, 0 };
	struct rc_subscriber *r = NULL;
	struct rc_sync *p = NULL;
	char who[ID_MAX], why[512];
	long retry;
	size_t i, k;
	enum terr rc;

	if (reconcile_stale_subs(j, &st) != 0 || (r = calloc(1, sizeof(*r))) == NULL ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		if (!j->stop)
			job_fail(j, "out of memory");
		goto out;
	}
	for (i = 0; i < st.n && job_more(j); i++) {
		for (k = 0; k < i && strcmp(st.rows[k].user, st.rows[i].user) != 0; k++)
			;
		if (k < i)
			continue; /* this user was synced already */
		j->done++;
		app_user_id(j, st.rows[i].user, who, sizeof(who));
		rc = revenuecat_subscriber(&j->cfg, who, r, &retry, why, sizeof(why));
		if (rc == TERR_NOTFOUND) {
			reconcile_drift(j, "revenuecat", "customer", st.rows[i].user, "subscribed",
			    "no such customer", "reported", NULL);
			continue;
		}
		if (rc != TERR_OK) {
			reconcile_result(j, "revenuecat", why);
			goto out;
		}
		if (r->request_ms == 0)
			r->request_ms = j->now;
		if ((rc = revenuecat_sync_plan(j->s, &j->cfg, who, r, "reconcile", p)) != TERR_OK ||
		    (!j->dry_run &&
			(rc = revenuecat_sync_apply(j->s, &j->cfg, p, j->now)) != TERR_OK)) {
			j->stop = 1;
			job_fail(j, "revenuecat %s: storage failed: %s", who, err_str(rc));
			goto out;
		}
		if (p->n == 0)
			job_count(j, "revenuecat.in_sync", 1);
		revenuecat_report(j, p);
	}
	if (!j->stop)
		reconcile_result(j, "revenuecat", NULL);
out:
	free(r);
	free(p);
	free(st.rows);
}
