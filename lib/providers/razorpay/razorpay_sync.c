/*
 * Razorpay entities fetched from its API (the Checkout callback, reconcile)
 * turned into the events its webhooks would have carried (razorpay_sync.h). Field
 * names cite razorpay/markdown-docs @ab3bda5 webhooks/ and api/orders/.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "providers/razorpay/razorpay_sync.h"

void
razorpay_fetched_event(struct buf *body, const char *id, const char *type, const char *payment,
    const char *what, const char *ent, int64_t now)
{
	struct jw w;

	buf_reset(body);
	jw_init(&w, body);
	jw_obj(&w);
	jw_kstr(&w, "entity", "event");
	jw_kstr(&w, "id", id);
	jw_kstr(&w, "event", type);
	jw_key(&w, "contains");
	jw_arr(&w);
	if (payment != NULL)
		jw_str(&w, "payment");
	jw_str(&w, what);
	jw_aend(&w);
	jw_key(&w, "payload");
	jw_obj(&w);
	if (payment != NULL) {
		jw_key(&w, "payment");
		jw_obj(&w);
		jw_key(&w, "entity");
		jw_raw(&w, payment);
		jw_end(&w);
	}
	jw_key(&w, what);
	jw_obj(&w);
	jw_key(&w, "entity");
	jw_raw(&w, ent);
	jw_end(&w);
	jw_end(&w);
	jw_kint(&w, "created_at", now / 1000);
	jw_end(&w);
}

enum terr
razorpay_collection_item(const char *collection, size_t n, size_t i, struct buf *out)
{
	cJSON *root = NULL;
	const cJSON *items, *it;
	const char *jwhy;
	char *text;
	enum terr rc;

	if (json_parse(collection, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK ||
	    (items = jarr(root, "items")) == NULL) {
		cJSON_Delete(root);
		return TERR_INVAL;
	}
	if ((it = cJSON_GetArrayItem(items, (int)i)) == NULL || i > (size_t)INT32_MAX)
		rc = TERR_NOTFOUND;
	else if ((text = cJSON_PrintUnformatted(it)) == NULL)
		rc = TERR_NOMEM;
	else {
		buf_reset(out);
		buf_puts(out, text);
		cJSON_free(text);
		rc = out->err;
	}
	cJSON_Delete(root);
	return rc;
}

enum terr
razorpay_entity_fields(const char *ent, size_t n, char *id, size_t idsize, char *status,
    size_t size)
{
	cJSON *root = NULL;
	const char *jwhy, *v;

	status[0] = '\0';
	if (id != NULL)
		id[0] = '\0';
	if (json_parse(ent, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK)
		return TERR_INVAL;
	if (id != NULL && (v = jstr(root, "id")) != NULL && text_id_valid(v, idsize - 1))
		text_copy(id, idsize, v);
	/* payments/subscriptions/states.md, payments: lowercase words ("active", "captured" ...). */
	if ((v = jstr(root, "status")) != NULL && strlen(v) < size && strlen(v) < 24 &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyz_") == strlen(v))
		text_copy(status, size, v);
	cJSON_Delete(root);
	return TERR_OK;
}
