/*
 * A Google Play purchase read from the Android Publisher API into tally's
 * envelope (google_fetch.h). Apart from google_push.c so that only what
 * calls Google links the client (and libcurl).
 */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "providers/google/google_api.h"
#include "providers/google/google_fetch.h"

enum terr
google_fetch(struct google_api *api, enum google_call call, const char *product, const char *token,
    struct buf *answer, int *status, char *why, size_t whysize)
{
	enum terr rc;

	*status = 0;
	buf_reset(answer);
	if (call == GOOGLE_CALL_SUB)
		rc = google_sub_get(api, token, answer, why, whysize);
	else if (call == GOOGLE_CALL_PRODUCT)
		rc = google_product_get(api, product, token, answer, why, whysize);
	else
		return TERR_OK;
	switch (rc) {
	case TERR_OK: *status = 200; break;
	/* Answers about the purchase itself (google_api.h): kept, and mapped to nothing. */
	case TERR_NOTFOUND: *status = 404; break;
	case TERR_STALE: *status = 410; break;
	case TERR_INVAL: *status = 400; break;
	default: return rc;
	}
	/* A 200's answer is a JSON object nesting less than an envelope may (google_api.c checked). */
	if (*status != 200)
		buf_reset(answer);
	return TERR_OK;
}

static enum terr
envelope_fetch(struct google_api *api, struct google_envelope *v, struct buf *out, char *why,
    size_t whysize)
{
	struct buf answer;
	int status = 0;
	enum terr rc;

	buf_init(&answer, GOOGLE_ANSWER_MAX);
	if ((rc = google_fetch(api, v->call, v->product, v->token, &answer, &status, why,
		 whysize)) == TERR_OK) {
		v->status = status;
		v->purchase = answer.len > 0 ? answer.p : NULL;
		v->purchase_n = answer.len;
		if ((rc = google_envelope_write(v, out)) != TERR_OK)
			snprintf(why, whysize, "the envelope is past %zu bytes", out->max);
	}
	buf_release(&answer);
	return rc;
}

enum terr
google_envelope_push(struct google_api *api, const struct google_push *p, const char *id,
    int64_t now, struct buf *out, char *why, size_t whysize)
{
	struct google_envelope v;

	memset(&v, 0, sizeof(v));
	v.message_id = id;
	v.publish_time = p->publish_time;
	v.subscription = p->subscription;
	v.fetched_at = now;
	v.call = google_note_call(&p->note);
	v.token = p->note.token;
	v.product = p->note.kind == GOOGLE_NOTE_PRODUCT ? p->note.sku : NULL;
	v.notification = p->data.p;
	v.notification_n = p->data.len;
	return envelope_fetch(api, &v, out, why, whysize);
}

enum terr
google_envelope_purchase(struct google_api *api, enum google_call call, const char *product,
    const char *token, const char *id, int64_t now, struct buf *out, char *why, size_t whysize)
{
	struct google_envelope v;

	if (call == GOOGLE_CALL_NONE || token == NULL || !text_id_valid(token, ID_MAX - 1) ||
	    id == NULL || !text_id_valid(id, ID_MAX - 1) ||
	    (product != NULL && product[0] != '\0' && !text_id_valid(product, ID_MAX - 1)) ||
	    (call == GOOGLE_CALL_PRODUCT && (product == NULL || product[0] == '\0'))) {
		snprintf(why, whysize,
		    "a purchase is read by its token (and a one-time product's id), each at "
		    "most %d bytes of text",
		    ID_MAX - 1);
		return TERR_INVAL;
	}
	memset(&v, 0, sizeof(v));
	v.message_id = id;
	v.fetched_at = now;
	v.call = call;
	v.token = token;
	v.product = product;
	return envelope_fetch(api, &v, out, why, whysize);
}
