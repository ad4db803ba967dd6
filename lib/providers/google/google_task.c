/*
 * Google Play's share of tally's tasks: see google_task.h.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "providers/google/google_task.h"

/*
 * SubscriptionPurchaseV2.acknowledgementState is an enum name; ProductPurchase's
 * acknowledgementState and consumptionState are numbers (0 yet to be done,
 * 1 done), per the Android Publisher API reference.
 */
int
google_task_done_in(enum google_task op, const char *body, size_t n)
{
	const char *jwhy, *st;
	cJSON *root = NULL;
	int64_t v = 0;
	int done = 0;

	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK || !cJSON_IsObject(root))
		goto out;
	switch (op) {
	case GOOGLE_TASK_ACK_SUB:
		st = jstr(root, "acknowledgementState");
		done = st != NULL && strcmp(st, "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED") == 0;
		break;
	case GOOGLE_TASK_ACK_PRODUCT:
		done = jint(root, "acknowledgementState", &v) == 1 && v == 1;
		break;
	case GOOGLE_TASK_CONSUME: done = jint(root, "consumptionState", &v) == 1 && v == 1; break;
	}
out:
	cJSON_Delete(root);
	return done;
}

/* The purchase as Google has it now says op is done already: 1, else 0. */
static int
done_already(struct google_api *g, enum google_task op, const char *token, const char *product)
{
	char why[256];
	struct buf doc;
	enum terr rc;
	int done;

	buf_init(&doc, GOOGLE_ANSWER_MAX);
	if (op == GOOGLE_TASK_ACK_SUB)
		rc = google_sub_get(g, token, &doc, why, sizeof(why));
	else
		rc = google_product_get(g, product, token, &doc, why, sizeof(why));
	done =
	    rc == TERR_OK && doc.err == TERR_OK && google_task_done_in(op, buf_cstr(&doc), doc.len);
	buf_release(&doc);
	return done;
}

enum terr
google_task_run(struct google_api *g, enum google_task op, const char *token, const char *product,
    int *already, char *why, size_t whysize)
{
	static const char *const what[] = { "acknowledged", "acknowledged", "consumed" };
	enum terr rc;

	*already = 0;
	if (whysize > 0)
		why[0] = '\0';
	switch (op) {
	case GOOGLE_TASK_ACK_SUB: rc = google_sub_ack(g, product, token, why, whysize); break;
	case GOOGLE_TASK_ACK_PRODUCT:
		rc = google_product_ack(g, product, token, why, whysize);
		break;
	case GOOGLE_TASK_CONSUME:
		rc = google_product_consume(g, product, token, why, whysize);
		break;
	default: snprintf(why, whysize, "unknown Google task %d", (int)op); return TERR_INTERNAL;
	}
	if ((rc == TERR_INVAL || rc == TERR_NOTFOUND || rc == TERR_STALE) &&
	    done_already(g, op, token, product)) {
		snprintf(why, whysize, "Google Play had it %s already", what[op]);
		*already = 1;
		return TERR_OK;
	}
	return rc;
}
