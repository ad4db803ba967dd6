/*
 * Telegram Stars reconciliation: Star transactions read, and one as its
 * successful_payment update (telegram_sync.h). Field names cite the Bot
 * API 10.1 (StarTransaction, TransactionPartnerUser, SuccessfulPayment).
 */
#include <stdio.h>
#include <string.h>

#include "base/jread.h"
#include "base/json.h"
#include "base/text.h"
#include "providers/telegram/telegram_sync.h"

/* The transaction's partner: source (incoming) or receiver (outgoing), TransactionPartner. */
static void
read_partner(struct jread *r, const cJSON *p, struct tg_star_tx *t)
{
	const char *type = jstr(p, "type"), *tt = jstr(p, "transaction_type"),
		   *payload = jstr(p, "invoice_payload");

	if (p == NULL || type == NULL || strcmp(type, "user") != 0)
		return; /* Fragment, Telegram Ads, a chat ...: not a user's payment */
	t->user = 1;
	jr_id(r, jr_obj(r, p, "user"), "id", t->from, sizeof(t->from));
	/* "invoice_payment" for payments via invoices (Bot API 9.0; absent before). */
	t->invoice = tt == NULL || strcmp(tt, "invoice_payment") == 0;
	/* A payload longer than tally's order ids is not one of tally's invoices. */
	if (payload != NULL && strlen(payload) < sizeof(t->payload))
		text_copy(t->payload, sizeof(t->payload), payload);
	t->period = jr_int(r, p, "subscription_period", 0, INT32_MAX);
}

enum terr
telegram_star_transactions_parse(const char *result, size_t len, struct tg_star_tx *out, size_t max,
    size_t *n, char *why, size_t whysize)
{
	struct jread r;
	cJSON *root = NULL;
	const cJSON *txs, *it, *src, *rcv;
	const char *jwhy;
	struct tg_star_tx *t;

	*n = 0;
	jr_init(&r, why, whysize);
	if (json_parse(result, len, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK ||
	    !cJSON_IsObject(root) || (txs = jarr(root, "transactions")) == NULL ||
	    !cJSON_IsArray(txs)) {
		cJSON_Delete(root);
		snprintf(why, whysize, "Telegram's getStarTransactions answer has no transactions");
		return TERR_INVAL;
	}
	cJSON_ArrayForEach (it, txs) {
		if (*n == max)
			break;
		t = &out[*n];
		memset(t, 0, sizeof(*t));
		if (!cJSON_IsObject(it)) {
			jr_bad(&r, "a Star transaction that is not an object");
			break;
		}
		jr_str(&r, it, "id", t->id, sizeof(t->id));
		t->amount = jr_int(&r, it, "amount", 0, (int64_t)1 << 50);
		t->date = jr_secs(&r, it, "date");
		src = jr_obj(&r, it, "source");
		rcv = jr_obj(&r, it, "receiver");
		t->incoming = src != NULL;
		read_partner(&r, src != NULL ? src : rcv, t);
		if (!r.bad && (t->id[0] == '\0' || jget(it, "amount") == NULL || t->date <= 0))
			jr_bad(&r, "a Star transaction without id, amount or date");
		if (r.bad)
			break;
		(*n)++;
	}
	cJSON_Delete(root);
	if (r.bad) {
		char inner[256];
		text_copy(inner, sizeof(inner), why);
		snprintf(why, whysize, "Telegram's getStarTransactions answer cannot be read: %s",
		    inner);
		return TERR_INVAL;
	}
	return TERR_OK;
}

enum terr
telegram_sync_update(const struct tg_star_tx *t, int renewal, struct buf *out)
{
	struct jw w;
	int64_t uid;

	if (text_i64s(t->from, 1, INT64_MAX, &uid) != TERR_OK)
		return TERR_INVAL;
	buf_reset(out);
	jw_init(&w, out);
	jw_obj(&w);
	jw_key(&w, "tally_reconcile");
	jw_obj(&w);
	jw_end(&w);
	jw_key(&w, "message");
	jw_obj(&w);
	jw_kint(&w, "date", t->date / 1000);
	jw_key(&w, "from");
	jw_obj(&w);
	jw_kint(&w, "id", uid);
	jw_end(&w);
	jw_key(&w, "successful_payment");
	jw_obj(&w);
	jw_kstr(&w, "currency", "XTR");
	jw_kint(&w, "total_amount", t->amount);
	jw_kstr(&w, "invoice_payload", t->payload);
	jw_kstr(&w, "telegram_payment_charge_id", t->id);
	jw_kstr(&w, "provider_payment_charge_id", "");
	if (t->period > 0) {
		jw_kint(&w, "subscription_expiration_date", t->date / 1000 + t->period);
		jw_kbool(&w, "is_recurring", 1);
		jw_kbool(&w, "is_first_recurring", !renewal);
	}
	jw_end(&w);
	jw_end(&w);
	jw_end(&w);
	return out->err;
}
