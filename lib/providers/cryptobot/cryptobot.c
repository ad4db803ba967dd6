/*
 * CryptoBot's Crypto Pay API: webhook signatures, updates, and the parsing
 * of the API's answers (cryptobot.h); the client that calls the API is
 * lib/providers/cryptobot/cryptobot_api.c, so that handlers which never call out do not link
 * libcurl. Field names cite help.crypt.bot/crypto-pay-api.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jread.h"
#include "base/json.h"
#include "base/money.h"
#include "base/text.h"
#include "base/tm.h"
#include "providers/cryptobot/cryptobot.h"

enum terr
cryptobot_verifier_init(struct cryptobot_verifier *v, const struct cfg_cryptobot *c)
{
	unsigned char key[SHA256_LEN];
	enum terr rc;

	memset(v, 0, sizeof(*v));
	v->tolerance = c->tolerance;
	if (c->token[0] == '\0')
		return TERR_OK;
	/* "secret = SHA256(<api_token>)": the digest's raw bytes are the HMAC key. */
	crypto_sha256(c->token, strlen(c->token), key);
	rc = crypto_hmac_init(&v->key, key, sizeof(key));
	crypto_wipe(key, sizeof(key));
	v->have = rc == TERR_OK;
	return rc;
}

void
cryptobot_verifier_release(struct cryptobot_verifier *v)
{
	if (v->have)
		crypto_hmac_release(&v->key);
	v->have = 0;
}

/*
 * An ISO 8601 UTC time as Crypto Pay writes it ("2024-02-02T12:11:02.720Z";
 * fractions of any length, "Z" or "+00:00"), to ms. 0 when it is not one.
 */
static int64_t
iso_ms(const char *s)
{
	char t[32];
	size_t n = strlen(s), i = 19, k;
	int64_t ms = 0, frac = 0, scale = 100;

	if (n < 20 || s[10] != 'T')
		return 0;
	memcpy(t, s, 19);
	t[19] = 'Z';
	t[20] = '\0';
	if (s[i] == '.')
		for (i++, k = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++) {
			if (k < 3)
				frac += (s[i] - '0') * scale;
			scale /= 10;
		}
	if (!(strcmp(s + i, "Z") == 0 || strcmp(s + i, "+00:00") == 0) ||
	    tm_parse(t, &ms) != TERR_OK)
		return 0;
	return ms + frac;
}

enum terr
cryptobot_verify(const struct cryptobot_verifier *v, const char *header, const char *body, size_t n,
    int64_t now, const char **why)
{
	struct iov part = { body, n };
	cJSON *root = NULL;
	const char *jwhy, *date;
	int64_t at = 0;

	if (!v->have) {
		*why = "no Crypto Pay token configured";
		return TERR_CONFIG;
	}
	if (header == NULL || *header == '\0') {
		*why = "missing crypto-pay-api-signature header";
		return TERR_AUTH;
	}
	switch (crypto_hmac_hex_match(&v->key, 1, &part, 1, header, strlen(header))) {
	case 1: break;
	case 0: *why = "the signature does not match the body"; return TERR_AUTH;
	default: *why = "signature computation failed"; return TERR_INTERNAL;
	}
	/* Signed: now the body may be read for its request_date. */
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) == TERR_OK &&
	    (date = jstr(root, "request_date")) != NULL)
		at = iso_ms(date);
	cJSON_Delete(root);
	if (at == 0) {
		*why = "no readable request_date";
		return TERR_INVAL;
	}
	if (at < now - v->tolerance || at > now + v->tolerance) {
		*why = "request_date outside the tolerance window";
		return TERR_STALE;
	}
	return TERR_OK;
}

enum terr
cryptobot_hook_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct cryptobot_verifier *v;
	enum terr rc;

	if ((*state = v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	rc = cryptobot_verifier_init(v, &c->cryptobot);
	return hook_ready(rc, v->have, "CRYPTOBOT_TOKEN", why, whysize);
}

void
cryptobot_hook_fini(void *state)
{
	cryptobot_verifier_release(state);
	free(state);
}

enum terr
cryptobot_hook_verify(void *state, const struct cfg *c, const struct hook_req *q, const char **why)
{
	(void)c;
	return cryptobot_verify(state, q->sig, q->body, q->n, q->now, why);
}

/*
 * An amount: a decimal string in units of currency, read exactly; -1 when it
 * cannot be (absent, or not an amount of currency: text[] keeps it as sent).
 */
static int64_t
decimal(struct jread *r, const cJSON *o, const char *key, const char *currency, char *text,
    size_t size)
{
	const cJSON *v = jget(o, key);
	int64_t minor;

	text[0] = '\0';
	if (v == NULL)
		return -1;
	if (!cJSON_IsString(v)) {
		jr_bad(r, "field %s: expected a decimal string", key);
		return -1;
	}
	if (strlen(v->valuestring) < size)
		text_copy(text, size, v->valuestring);
	else
		text_copyn(text, size, v->valuestring, size - 1);
	return money_parse(v->valuestring, currency, &minor) == TERR_OK ? minor : -1;
}

/* An Invoice object (the update's payload, getInvoices' items). */
static void
read_invoice(struct jread *r, const cJSON *inv, struct cb_invoice *out)
{
	char type[16], date[40];

	memset(out, 0, sizeof(*out));
	jr_id(r, inv, "invoice_id", out->invoice_id, sizeof(out->invoice_id));
	jr_str(r, inv, "status", out->status, sizeof(out->status));
	jr_str(r, inv, "currency_type", type, sizeof(type));
	jr_str(r, inv, strcmp(type, "fiat") == 0 ? "fiat" : "asset", out->currency,
	    sizeof(out->currency));
	out->amount =
	    decimal(r, inv, "amount", out->currency, out->amount_text, sizeof(out->amount_text));
	jr_str(r, inv, "payload", out->payload, sizeof(out->payload));
	jr_str(r, inv, "bot_invoice_url", out->url, sizeof(out->url));
	if (out->url[0] == '\0')
		jr_str(r, inv, "pay_url", out->url, sizeof(out->url)); /* deprecated name */
	jr_str(r, inv, "paid_at", date, sizeof(date));
	out->paid_at = date[0] != '\0' ? iso_ms(date) : 0;
	if (!r->bad && out->invoice_id[0] == '\0')
		jr_bad(r, "invoice without invoice_id");
}

enum terr
cryptobot_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize)
{
	struct jread r;
	struct cb_invoice inv;
	struct bev_order *o = &e->order;
	const cJSON *pl;
	cJSON *root = NULL;
	const char *jwhy;
	char date[40];
	int64_t uid;
	enum terr rc = TERR_INVAL;

	jr_init(&r, why, whysize);
	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	text_copy(e->provider, sizeof(e->provider), "cryptobot");
	e->live = !c->cryptobot.testnet;
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "%s", jwhy);
		return TERR_INVAL;
	}
	uid = jr_int(&r, root, "update_id", 0, INT64_MAX);
	jr_str(&r, root, "update_type", e->type, sizeof(e->type));
	jr_str(&r, root, "request_date", date, sizeof(date));
	pl = jr_obj(&r, root, "payload");
	if (!r.bad && (e->type[0] == '\0' || pl == NULL || jget(root, "update_id") == NULL))
		jr_bad(&r, "not a Crypto Pay update: update_id, update_type and payload");
	if (r.bad)
		goto out;
	read_invoice(&r, pl, &inv);
	if (r.bad)
		goto out;
	e->at = inv.paid_at != 0 ? inv.paid_at : iso_ms(date);
	if (strcmp(e->type, "invoice_paid") != 0) {
		char num[24];
		/* Parts of a text_key, not cut: Crypto Pay's types give "<type>:<update_id>". */
		snprintf(num, sizeof(num), "%lld", (long long)uid);
		if (text_key(e->id, sizeof(e->id), e->type, num, NULL) != TERR_OK) {
			jr_bad(&r, "update_type too long for an event id");
			goto out;
		}
		snprintf(e->note, sizeof(e->note), "update type %s: nothing to apply", e->type);
		rc = TERR_OK;
		goto out;
	}
	/* An invoice is paid once: its id is the dedup key and the charge. */
	snprintf(e->id, sizeof(e->id), "invoice_paid:%s", inv.invoice_id);
	text_copy(o->id, sizeof(o->id), inv.payload);
	text_copy(o->provider_ref, sizeof(o->provider_ref), inv.invoice_id);
	text_copy(o->charge_id, sizeof(o->charge_id), inv.invoice_id);
	text_copy(o->currency, sizeof(o->currency), inv.currency);
	o->amount = inv.amount;
	if (inv.amount < 0) {
		/*
		 * Signed, so kept (invariant 1), but its amount is no amount of its
		 * asset (more decimals than the asset has, a sign, not a number):
		 * apply refuses it as malformed, and the reason quotes the amount as
		 * sent rather than a number it was never equal to.
		 */
		const char *sent = jstr(pl, "amount");
		char quoted[80], what[96];
		int64_t unused;
		if (sent == NULL)
			snprintf(e->note, sizeof(e->note), "the invoice has no amount");
		else {
			text_quote(quoted, sizeof(quoted), sent, 40);
			money_parse_why(sent, inv.currency, &unused, what, sizeof(what));
			snprintf(e->note, sizeof(e->note), "amount %s %s", quoted, what);
		}
	}
	o->captured = strcmp(inv.status, "paid") == 0;
	if (e->at <= 0)
		e->at = 1; /* no readable time at all: order it first */
	e->aspects |= BEV_ORDER;
	rc = TERR_OK;
out:
	cJSON_Delete(root);
	return rc;
}

/* --- API answers (the client is lib/providers/cryptobot/cryptobot_api.c) --- */

enum terr
cryptobot_invoice_parse(const char *body, size_t len, struct cb_invoice *out, char *why,
    size_t whysize)
{
	struct jread r;
	cJSON *root = NULL;
	const cJSON *res;
	const char *jwhy;

	jr_init(&r, why, whysize);
	if (json_parse(body, len, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK ||
	    (res = jobj(root, "result")) == NULL) {
		cJSON_Delete(root);
		snprintf(why, whysize, "Crypto Pay's answer has no invoice");
		return TERR_INVAL;
	}
	read_invoice(&r, res, out);
	cJSON_Delete(root);
	return r.bad ? TERR_INVAL : TERR_OK;
}

enum terr
cryptobot_invoices_parse(const char *body, size_t len, struct cb_invoice *out, size_t max,
    size_t *n, char *why, size_t whysize)
{
	struct jread r;
	cJSON *root = NULL;
	const cJSON *items, *it;
	const char *jwhy;

	*n = 0;
	jr_init(&r, why, whysize);
	if (json_parse(body, len, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK ||
	    (items = jarr(jobj(root, "result"), "items")) == NULL) {
		cJSON_Delete(root);
		snprintf(why, whysize, "Crypto Pay's getInvoices answer has no items");
		return TERR_INVAL;
	}
	cJSON_ArrayForEach (it, items) {
		if (*n == max)
			break;
		read_invoice(&r, it, &out[*n]);
		if (r.bad)
			break;
		(*n)++;
	}
	cJSON_Delete(root);
	return r.bad ? TERR_INVAL : TERR_OK;
}
