/*
 * bin/tally: RevenueCat commands.
 *
 *   tally revenuecat sync USER [--json] [--dry-run] [--operator NAME]
 *
 * Asks RevenueCat's REST API for what it knows of app user id USER (GET
 * /v1/subscribers/USER with REVENUECAT_API_KEY, base revenuecat.api_base,
 * timeouts http.timeout), compares it with tally's user (or the user USER was
 * merged into) and applies each difference as a RevenueCat event through the
 * apply path (stored, audited, replayable; a second run applies nothing
 * twice). --dry-run prints the plan and changes nothing. A 429 whose
 * Retry-After is at most RETRY_WAIT_MAX seconds is waited for, twice at most.
 * Exit: 0 done (or nothing to do); 1 RevenueCat unreachable, refusing, rate
 * limiting or not knowing USER, storage failure, or a change that did not
 * finish (orphaned, unknown_product, failed: see `tally events list`); 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "base/tm.h"
#include "cli.h"
#include "job/revenuecat_sync.h"

#define RETRY_WAIT_MAX 10
#define RETRIES_MAX    2

static const char *
outcome(const struct rc_change *ch, int dry)
{
	if (ch->event_type[0] == '\0')
		return "reported only";
	if (!ch->done)
		return dry ? "would apply" : "not applied";
	return inbox_state_str(ch->state);
}

static void
print_json(const struct rc_sync *p, const struct rc_subscriber *r, const char *asked, int dry,
    struct buf *b)
{
	struct jw w;
	size_t i;

	jw_init(&w, b);
	jw_obj(&w);
	jw_kstr(&w, "user", asked);
	jw_kstr(&w, "tally_user", p->user);
	jw_kstr(&w, "original_app_user_id",
	    r->original_app_user_id[0] != '\0' ? r->original_app_user_id : NULL);
	jw_ktime(&w, "as_of", p->as_of);
	jw_kbool(&w, "dry_run", dry);
	jw_kbool(&w, "created_by_request", r->created);
	jw_key(&w, "changes");
	jw_arr(&w);
	for (i = 0; i < p->n; i++) {
		const struct rc_change *ch = &p->changes[i];
		jw_obj(&w);
		jw_kstr(&w, "what", ch->what);
		jw_kstr(&w, "product", ch->product);
		jw_kstr(&w, "transaction_id", ch->txn[0] != '\0' ? ch->txn : NULL);
		jw_kstr(&w, "tally", ch->tally);
		jw_kstr(&w, "revenuecat", ch->revenuecat);
		jw_kstr(&w, "note", ch->note);
		jw_kstr(&w, "event_type", ch->event_type[0] != '\0' ? ch->event_type : NULL);
		jw_kstr(&w, "event_id", ch->event_id[0] != '\0' ? ch->event_id : NULL);
		jw_kstr(&w, "result", outcome(ch, dry));
		jw_kbool(&w, "duplicate", ch->duplicate);
		jw_kstr(&w, "reason", ch->done ? ch->reason : NULL);
		jw_end(&w);
	}
	jw_aend(&w);
	jw_kint(&w, "dropped", (int64_t)(p->dropped + r->dropped));
	jw_end(&w);
	buf_putc(b, '\n');
}

static void
print_text(const struct rc_sync *p, const struct rc_subscriber *r, const char *asked, int dry,
    struct buf *b)
{
	char iso[TM_ISO_SIZE];
	size_t i, applied = 0, reported = 0;

	tm_iso(p->as_of, iso);
	buf_printf(b, "revenuecat sync %s", asked);
	if (strcmp(asked, p->user) != 0)
		buf_printf(b, " (tally user %s)", p->user);
	buf_printf(b, ": RevenueCat as of %s%s\n", iso,
	    r->created ? " (RevenueCat did not know this customer and created it)" : "");
	for (i = 0; i < p->n; i++) {
		const struct rc_change *ch = &p->changes[i];
		buf_printf(b, "  %s %s%s%s%s: tally %s, RevenueCat %s: %s\n", ch->what, ch->product,
		    ch->txn[0] != '\0' ? " (" : "", ch->txn, ch->txn[0] != '\0' ? ")" : "",
		    ch->tally, ch->revenuecat, ch->note);
		if (ch->event_type[0] == '\0') {
			reported++;
			continue;
		}
		buf_printf(b, "    -> %s %s: %s%s%s\n", ch->event_type, ch->event_id,
		    outcome(ch, dry), ch->done && ch->reason[0] != '\0' ? ": " : "",
		    ch->done ? ch->reason : "");
		applied += !ch->duplicate;
	}
	if (p->dropped + r->dropped > 0)
		buf_printf(b, "  (%zu entries past the limits were not compared: run sync again)\n",
		    p->dropped + r->dropped);
	if (p->n == 0)
		buf_puts(b, "in sync: nothing to change\n");
	else if (dry)
		buf_printf(b,
		    "dry run: %zu events would be applied, %zu differences reported only\n",
		    applied, reported);
	else
		buf_printf(b, "%zu events applied, %zu differences reported only\n", applied,
		    reported);
}

/* GET the subscriber, waiting out a short Retry-After at most RETRIES_MAX times. */
static enum terr
fetch(struct cli *c, const char *user, struct rc_subscriber *r, char *why, size_t whysize)
{
	long retry = -1;
	int attempt;
	enum terr rc;

	for (attempt = 0;; attempt++) {
		rc = revenuecat_subscriber(&c->cfg, user, r, &retry, why, whysize);
		if (rc != TERR_BUSY || attempt == RETRIES_MAX || retry < 0 ||
		    retry > RETRY_WAIT_MAX)
			return rc;
		sleep(retry > 0 ? (unsigned)retry : 1);
	}
}

int
cmd_revenuecat_sync(struct cli *c)
{
	struct rc_subscriber *r = NULL;
	struct rc_sync *p = NULL;
	struct buf b;
	char why[512];
	const char *user;
	int dry = cli_flag(c, "dry-run"), ret = 1;
	size_t i;
	enum terr rc;

	if (c->npos != 1)
		return cli_usage();
	user = c->pos[0];
	if (user[0] == '\0' || strlen(user) > USER_ID_MAX)
		return cli_bad_arg("USER must be 1 to 128 bytes", NULL);
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	buf_init(&b, OUT_MAX);
	if ((r = calloc(1, sizeof(*r))) == NULL || (p = calloc(1, sizeof(*p))) == NULL) {
		cli_fail("out of memory", NULL);
		goto out;
	}
	if ((rc = fetch(c, user, r, why, sizeof(why))) != TERR_OK) {
		cli_fail(rc == TERR_NOTFOUND ? "RevenueCat has no such customer"
			: rc == TERR_CONFIG  ? "not configured"
			: rc == TERR_BUSY    ? "RevenueCat is rate limiting; try later"
					     : "cannot read the customer from RevenueCat",
		    why);
		goto out;
	}
	if (r->request_ms == 0)
		r->request_ms = c->now;
	if ((rc = revenuecat_sync_plan(c->s, &c->cfg, user, r, cli_operator(c), p)) != TERR_OK) {
		cli_fail("cannot compare with tally", err_str(rc));
		goto out;
	}
	if (!dry && (rc = revenuecat_sync_apply(c->s, &c->cfg, p, c->now)) != TERR_OK) {
		cli_fail("not committed", err_str(rc));
		goto out;
	}
	if (c->json)
		print_json(p, r, user, dry, &b);
	else
		print_text(p, r, user, dry, &b);
	cli_outb(&b);
	ret = 0;
	/* A change that did not finish is stored and alerted; the exit status says so too. */
	for (i = 0; i < p->n; i++)
		if (p->changes[i].done && p->changes[i].state != INBOX_APPLIED &&
		    p->changes[i].state != INBOX_IGNORED)
			ret = 1;
out:
	buf_release(&b);
	free(r);
	free(p);
	return ret;
}
