/*
 * Google Play's pushes read and tally's envelope written (google_push.h). Field names: Pub/Sub's push format
 * (docs.cloud.google.com/pubsub/docs/push) and Play Billing's
 * rtdn-reference (PROVIDERS.md 7.1, 7.3).
 */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "base/tm.h"
#include "crypto/crypto.h"
#include "providers/google/google_push.h"

/* --- the notification --- */

/* eventTimeMillis: "long", sent as a JSON string in practice; a number is taken too (7.3). */
static int64_t
event_ms(const cJSON *o, struct jread *r)
{
	const cJSON *v = jget(o, "eventTimeMillis");
	int64_t ms = 0;

	if (v == NULL)
		return 0;
	if (cJSON_IsString(v) ? text_i64s(v->valuestring, 0, INT64_MAX / 2, &ms) != TERR_OK
			      : jint(o, "eventTimeMillis", &ms) != 1 || ms < 0)
		jr_bad(r, "field eventTimeMillis: expected milliseconds, as a string or a number");
	return ms;
}

/* A token or product id tally keys on: present, text, shorter than ID_MAX. */
static void
key_field(const cJSON *o, const char *member, const char *key, char *out, struct jread *r)
{
	const cJSON *v = jget(o, key);

	out[0] = '\0';
	if (v == NULL || !cJSON_IsString(v) || v->valuestring[0] == '\0')
		jr_bad(r, "%s without %s", member, key);
	else if (!text_id_valid(v->valuestring, ID_MAX - 1))
		jr_bad(r, "%s.%s: expected at most %d bytes of text (tally keys on it)", member,
		    key, ID_MAX - 1);
	else
		text_copy(out, ID_MAX, v->valuestring);
}

void
google_note_read(const cJSON *o, const char *package, struct google_note *n, struct jread *r)
{
	static const struct {
		const char *member;
		enum google_note_kind kind;
	} members[] = {
		{ "subscriptionNotification", GOOGLE_NOTE_SUB },
		{ "oneTimeProductNotification", GOOGLE_NOTE_PRODUCT },
		{ "voidedPurchaseNotification", GOOGLE_NOTE_VOIDED },
		{ "pendingRefundReviewNotification", GOOGLE_NOTE_REFUND_REVIEW },
		{ "testNotification", GOOGLE_NOTE_TEST },
	};
	const cJSON *m = NULL, *v;
	const char *pkg, *name = NULL;
	char q[96];
	size_t i;

	memset(n, 0, sizeof(*n));
	if (!cJSON_IsObject(o)) {
		jr_bad(r, "the notification is not a JSON object");
		return;
	}
	pkg = jstr(o, "packageName");
	if (pkg == NULL || strcmp(pkg, package) != 0) {
		text_quote(q, sizeof(q), pkg != NULL ? pkg : "", 64);
		jr_bad(r, "the notification is for package %s, not google.package_name %s",
		    pkg != NULL ? q : "(none)", package);
		return;
	}
	n->event_ms = event_ms(o, r);
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		if ((v = jget(o, members[i].member)) == NULL)
			continue;
		if (m != NULL) {
			jr_bad(r, "the notification holds both %s and %s", name, members[i].member);
			return;
		}
		if (!cJSON_IsObject(v)) {
			jr_bad(r, "field %s: expected an object", members[i].member);
			return;
		}
		m = v;
		name = members[i].member;
		n->kind = members[i].kind;
	}
	switch (n->kind) {
	case GOOGLE_NOTE_NONE:
		jr_bad(r,
		    "no notification tally knows (subscription, one-time product, voided "
		    "purchase, pending refund review, test)");
		break;
	case GOOGLE_NOTE_SUB:
	case GOOGLE_NOTE_PRODUCT:
		n->code = jr_int(r, m, "notificationType", 1, 1000);
		if (n->code == 0)
			jr_bad(r, "%s without notificationType", name);
		key_field(m, name, "purchaseToken", n->token, r);
		if (n->kind == GOOGLE_NOTE_PRODUCT)
			key_field(m, name, "sku", n->sku, r);
		break;
	case GOOGLE_NOTE_VOIDED:
		key_field(m, name, "purchaseToken", n->token, r);
		if (jget(m, "orderId") != NULL)
			key_field(m, name, "orderId", n->order, r);
		n->product_type = jr_int(r, m, "productType", 0, 1000);
		n->refund_type = jr_int(r, m, "refundType", 0, 1000);
		break;
	case GOOGLE_NOTE_REFUND_REVIEW:
		if (jget(m, "orderId") != NULL)
			key_field(m, name, "orderId", n->order, r);
		break;
	case GOOGLE_NOTE_TEST: break;
	}
}

enum google_call
google_note_call(const struct google_note *n)
{
	switch (n->kind) {
	case GOOGLE_NOTE_SUB: return GOOGLE_CALL_SUB;
	case GOOGLE_NOTE_PRODUCT: return GOOGLE_CALL_PRODUCT;
	default: return GOOGLE_CALL_NONE;
	}
}

/* --- the push --- */

/* message.messageId (Pub/Sub's JSON), else message_id (its older spelling): both are sent. */
static const char *
message_id(const cJSON *root)
{
	const cJSON *m = jobj(root, "message");
	const char *id = jstr(m, "messageId");

	return id != NULL ? id : jstr(m, "message_id");
}

void
google_push_event_id(const char *body, size_t n, char *id, size_t idsize)
{
	unsigned char h[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	cJSON *root = NULL;
	const char *jwhy, *mid = NULL;

	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) == TERR_OK)
		mid = message_id(root);
	if (mid == NULL || !text_id_valid(mid, idsize - 1) ||
	    strncmp(mid, GOOGLE_PUSH_ID_PREFIX, sizeof(GOOGLE_PUSH_ID_PREFIX) - 1) == 0 ||
	    text_copy(id, idsize, mid) != TERR_OK) {
		crypto_sha256(body, n, h);
		text_hex(h, SHA256_LEN, hex);
		snprintf(id, idsize, "%s%.32s", GOOGLE_PUSH_ID_PREFIX, hex);
	}
	cJSON_Delete(root);
}

/* A text field of the push (absent: ""); too long or not text: bad. */
static void
push_text(const cJSON *o, const char *key, char *out, size_t size, struct jread *r)
{
	const char *s = jstr(o, key);

	out[0] = '\0';
	if (jget(o, key) != NULL && (s == NULL || !text_id_valid(s, size - 1)))
		jr_bad(r, "field message.%s: expected text of at most %zu bytes", key, size - 1);
	else if (s != NULL)
		text_copy(out, size, s);
}

enum terr
google_push_read(const struct cfg_google *g, const char *body, size_t n, struct google_push *p,
    char *why, size_t whysize)
{
	struct jread r;
	cJSON *root = NULL, *note = NULL;
	const cJSON *m;
	const char *data, *jwhy, *mid;
	size_t dn, len = 0;
	char *out;
	enum terr rc = TERR_INVAL;

	memset(p, 0, sizeof(*p));
	buf_init(&p->data, GOOGLE_NOTE_MAX);
	jr_init(&r, why, whysize);
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "the push is not JSON: %s", jwhy);
		goto out;
	}
	/* Pub/Sub's wrapped format (7.1); an unwrapped push would be the bare data. */
	if ((m = jobj(root, "message")) == NULL || jget(root, "tally_google") != NULL) {
		snprintf(why, whysize,
		    "the push is not Pub/Sub's wrapped format {\"message\": {\"data\": ...}} "
		    "(is the subscription's payload unwrapping on?)");
		goto out;
	}
	if ((data = jstr(m, "data")) == NULL) {
		snprintf(why, whysize, "the push has no message.data");
		goto out;
	}
	mid = message_id(root);
	if (mid == NULL || !text_id_valid(mid, ID_MAX - 1)) {
		snprintf(why, whysize, "the push has no message.messageId tally can keep");
		goto out;
	}
	text_copy(p->message_id, sizeof(p->message_id), mid);
	push_text(m, jstr(m, "publishTime") != NULL ? "publishTime" : "publish_time",
	    p->publish_time, sizeof(p->publish_time), &r);
	push_text(root, "subscription", p->subscription, sizeof(p->subscription), &r);
	if (r.bad)
		goto out;
	/* message.data: base64 (RFC 4648 4) of the DeveloperNotification's JSON. */
	dn = strlen(data);
	if (dn / 4 * 3 > GOOGLE_NOTE_MAX) {
		snprintf(why, whysize, "message.data decodes to more than %d bytes",
		    GOOGLE_NOTE_MAX);
		goto out;
	}
	if ((out = buf_reserve(&p->data, dn / 4 * 3 + 3)) == NULL) {
		rc = p->data.err;
		snprintf(why, whysize, "message.data: %s", err_str(rc));
		goto out;
	}
	if (text_b64dec(data, dn, 0, (unsigned char *)out, dn / 4 * 3 + 3, &len) != TERR_OK) {
		snprintf(why, whysize, "message.data is not base64");
		goto out;
	}
	buf_commit(&p->data, len);
	/* One level less than an envelope may nest: the envelope holds it. */
	if (json_parse(p->data.p, p->data.len, JSON_DEPTH_MAX - 1, &note, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "message.data is not JSON: %s", jwhy);
		goto out;
	}
	google_note_read(note, g->package_name, &p->note, &r);
	if (!r.bad)
		rc = TERR_OK;
out:
	cJSON_Delete(note);
	cJSON_Delete(root);
	return rc;
}

void
google_push_release(struct google_push *p)
{
	buf_release(&p->data);
}

/* --- times --- */

enum terr
google_time(const char *s, int64_t *ms)
{
	char t[32];
	size_t n = strlen(s), i = 19, k;

	/* "YYYY-MM-DDTHH:MM:SS", then ".f" to ".fffffffff", then "Z" (protobuf's Timestamp JSON). */
	if (n < 20 || n > 30 || s[n - 1] != 'Z')
		return TERR_INVAL;
	memcpy(t, s, 19);
	memcpy(t + 19, ".000Z", 6);
	if (s[19] == '.') {
		for (i = 20, k = 20; i < n - 1; i++, k++) {
			if (s[i] < '0' || s[i] > '9')
				return TERR_INVAL;
			if (k < 23)
				t[k] = s[i];
		}
		if (i == 20)
			return TERR_INVAL;
	} else if (n != 20)
		return TERR_INVAL;
	return tm_parse(t, ms);
}

/* --- the envelope --- */

int
google_is_envelope(const cJSON *root)
{
	return jobj(root, "tally_google") != NULL && jget(root, "message") == NULL;
}

enum terr
google_forged_write(const char *body, size_t n, struct buf *out)
{
	size_t keep = n < GOOGLE_FORGED_KEEP ? n : GOOGLE_FORGED_KEEP,
	       room = (keep + 2) / 3 * 4 + 1;
	char *p;

	buf_puts(out, "{\"message\":{},\"" GOOGLE_FORGED_KEY "\":\"");
	if ((p = buf_reserve(out, room)) == NULL)
		return out->err;
	buf_commit(out, text_b64enc((const unsigned char *)body, keep, 0, p, room));
	buf_puts(out, "\"}");
	return out->err;
}

static const char *
call_name(enum google_call call)
{
	switch (call) {
	case GOOGLE_CALL_SUB: return "subscriptionsv2";
	case GOOGLE_CALL_PRODUCT: return "products";
	default: return "none";
	}
}

/* A text member, null when s is NULL or "". */
static void
kstr_or_null(struct jw *w, const char *k, const char *s)
{
	jw_kstr(w, k, s != NULL && s[0] != '\0' ? s : NULL);
}

enum terr
google_envelope_write(const struct google_envelope *v, struct buf *out)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj(&w);
	jw_key(&w, "tally_google");
	jw_obj(&w);
	jw_kint(&w, "v", GOOGLE_ENVELOPE_V);
	kstr_or_null(&w, "message_id", v->message_id);
	kstr_or_null(&w, "publish_time", v->publish_time);
	kstr_or_null(&w, "subscription", v->subscription);
	jw_kint(&w, "fetched_at", v->fetched_at);
	jw_kstr(&w, "call", call_name(v->call));
	jw_kint(&w, "status", v->status);
	kstr_or_null(&w, "token", v->token);
	kstr_or_null(&w, "product", v->product);
	jw_end(&w);
	jw_key(&w, "notification");
	if (v->notification != NULL && v->notification_n > 0)
		jw_rawn(&w, v->notification, v->notification_n);
	else
		jw_null(&w);
	jw_key(&w, "purchase");
	if (v->purchase != NULL && v->purchase_n > 0)
		jw_rawn(&w, v->purchase, v->purchase_n);
	else
		jw_null(&w);
	jw_end(&w);
	return out->err;
}
