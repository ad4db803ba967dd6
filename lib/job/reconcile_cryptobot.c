/*
 * tally-reconcile: CryptoBot's pending invoices (reconcile.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/money.h"
#include "base/text.h"
#include "job/reconcile.h"
#include "job/reconcile_cryptobot.h"
#include "job/reconcile_int.h"
#include "providers/cryptobot/cryptobot_api.h"
#include "providers/cryptobot/cryptobot_sync.h"

/* ---------------------------------------------------------------- cryptobot */

/* The fetched invoice of order o, or NULL. */
static const struct cb_invoice *
invoice_of(const struct cb_invoice *v, size_t n, const struct order_row *o)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].invoice_id, o->provider_ref) == 0)
			return &v[i];
	return NULL;
}

/* 1 when id is one of list's comma-separated ids. */
static int
asked(const char *list, const char *id)
{
	size_t k = strlen(id);
	const char *p;

	for (p = list; k > 0 && (p = strstr(p, id)) != NULL; p += k)
		if ((p == list || p[-1] == ',') && (p[k] == ',' || p[k] == '\0'))
			return 1;
	return 0;
}

/* One order compared with its invoice; a paid one queued. 0, or -1 (storage). */
static int
cryptobot_compare(struct job *j, const struct order_row *o, const struct cb_invoice *inv,
    struct buf *body)
{
	char subject[ID_MAX * 2 + 32], tally[64], theirs[128], amount[64];

	reconcile_order_words(o, "invoice", subject, sizeof(subject), tally, sizeof(tally));
	if (inv == NULL) {
		reconcile_drift(j, "cryptobot", subject, o->user, tally, "no such invoice",
		    "reported", NULL);
		return 0;
	}
	if (strcmp(inv->status, "active") == 0) {
		job_count(j, "cryptobot.in_sync", 1);
		return 0;
	}
	if (strcmp(inv->status, "paid") != 0) {
		/* Expired there: the grace-expiry job expires the order (the one way it is done). */
		reconcile_drift(j, "cryptobot", subject, o->user, tally, inv->status, "reported",
		    strcmp(inv->status, "expired") == 0 ? "the grace-expiry job expires the order"
							: NULL);
		return 0;
	}
	/* An amount that is none of the asset's is quoted as sent, never shown as a number. */
	if (inv->amount >= 0) {
		money_text(inv->amount, inv->currency, amount, sizeof(amount));
		snprintf(theirs, sizeof(theirs), "paid %s", amount);
	} else {
		text_quote(amount, sizeof(amount), inv->amount_text, 40);
		snprintf(theirs, sizeof(theirs), "paid %s %.15s (not an amount of it)", amount,
		    inv->currency);
	}
	reconcile_drift(j, "cryptobot", subject, o->user, tally, theirs, "found", NULL);
	if (cryptobot_sync_update(inv, j->now, body) != TERR_OK) {
		job_fail(j, "cryptobot %s: the update does not fit", subject);
		return 0;
	}
	return job_apply_raw(j, "cryptobot", buf_cstr(body), body->len, "cryptobot invoice",
	    subject);
}

void
reconcile_cryptobot(struct job *j)
{
	struct order_row *o = NULL;
	struct cb_invoice *inv = NULL;
	struct buf ids, body;
	char why[512];
	size_t n = 0, ninv = 0, got, i, k, end;
	enum terr rc;

	buf_init(&ids, 16 * CB_INVOICES_MAX);
	buf_init(&body, BODY_MAX);
	if (reconcile_pending_orders(j, "cryptobot", 1, NULL, &o, &n) != 0)
		goto out;
	if (n > 0 && (inv = calloc(n, sizeof(*inv))) == NULL) {
		job_fail(j, "out of memory");
		goto out;
	}
	/* Every invoice fetched (CB_INVOICES_MAX a call) before anything is applied. */
	for (i = 0; i < n; i = end) {
		end = i + CB_INVOICES_MAX < n ? i + CB_INVOICES_MAX : n;
		buf_reset(&ids);
		for (k = i; k < end; k++) {
			/* getInvoices' invoice_ids: comma-separated integers. */
			if (strspn(o[k].provider_ref, "0123456789") != strlen(o[k].provider_ref))
				continue;
			buf_printf(&ids, "%s%s", ids.len > 0 ? "," : "", o[k].provider_ref);
		}
		j->done += (int64_t)(end - i);
		if (ids.len == 0)
			continue;
		rc = cryptobot_get_invoices(&j->cfg, buf_cstr(&ids), NULL, 0, CB_INVOICES_MAX,
		    inv + ninv, n - ninv, &got, why, sizeof(why));
		for (k = 0; rc == TERR_OK && k < got; k++)
			if (!asked(buf_cstr(&ids), inv[ninv + k].invoice_id)) {
				snprintf(why, sizeof(why),
				    "Crypto Pay answered invoice %.32s, not one asked for",
				    inv[ninv + k].invoice_id);
				rc = TERR_INVAL;
			}
		if (rc != TERR_OK) {
			reconcile_failed(j, "cryptobot", "Crypto Pay", why);
			goto out;
		}
		ninv += got;
		if (job_tick(j) != 0)
			goto out;
	}
	job_count(j, "cryptobot.fetched", (int64_t)ninv);
	for (i = 0; i < n && !j->stop; i++)
		if (cryptobot_compare(j, &o[i], invoice_of(inv, ninv, &o[i]), &body) != 0)
			goto out;
	if (job_flush(j) == 0 && !j->stop)
		reconcile_result(j, "cryptobot", NULL);
out:
	free(o);
	free(inv);
	buf_release(&ids);
	buf_release(&body);
}
