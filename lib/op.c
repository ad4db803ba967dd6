#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "json.h"
#include "op.h"
#include "text.h"

enum terr
op_build(const struct op_action *a, struct buf *body)
{
	unsigned char rnd[12];
	char id[32] = "op_";
	struct jw w;

	if (random_bytes(rnd, sizeof(rnd)) != TERR_OK)
		return TERR_INTERNAL;
	text_hex(rnd, sizeof(rnd), id + 3);
	jw_init(&w, body);
	jw_obj(&w);
	jw_kstr(&w, "id", id);
	jw_kstr(&w, "action", a->action);
	jw_kstr(&w, "user_id", a->user);
	jw_kint(&w, "amount", a->amount);
	jw_kint(&w, "expires_at", a->expires_at);
	jw_kstr(&w, "reason", a->reason != NULL ? a->reason : "");
	jw_kstr(&w, "operator", a->operator_);
	jw_kint(&w, "at", a->at);
	if (a->link_provider != NULL) {
		jw_key(&w, "link");
		jw_obj(&w);
		jw_kstr(&w, "provider", a->link_provider);
		jw_kstr(&w, "kind", a->link_kind);
		jw_kstr(&w, "id", a->link_id);
		jw_end(&w);
	}
	jw_end(&w);
	return body->err;
}

enum terr
op_parse(const char *body, size_t n, struct bev *e, char *why, size_t whysize)
{
	cJSON *root = NULL;
	const char *jwhy, *id, *action, *user, *reason, *who;
	int64_t amount = 0, expires = 0, at = 0;
	enum terr rc = TERR_INVAL;

	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	text_copy(e->provider, sizeof(e->provider), "operator");
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "%s", jwhy);
		return TERR_INVAL;
	}
	id = jstr(root, "id");
	action = jstr(root, "action");
	user = jstr(root, "user_id");
	reason = jstr(root, "reason");
	who = jstr(root, "operator");
	if (id == NULL || action == NULL || user == NULL || who == NULL ||
	    jint(root, "amount", &amount) != 1 || jint(root, "at", &at) != 1 ||
	    jint(root, "expires_at", &expires) < 0) {
		snprintf(why, whysize, "operator event: missing or mistyped field");
		goto out;
	}
	if (text_copy(e->id, sizeof(e->id), id) != TERR_OK ||
	    text_copy(e->type, sizeof(e->type), action) != TERR_OK ||
	    text_copy(e->user, sizeof(e->user), user) != TERR_OK ||
	    text_copy(e->reason, sizeof(e->reason), reason != NULL ? reason : "") != TERR_OK) {
		snprintf(why, whysize, "operator event: field too long");
		goto out;
	}
	snprintf(e->actor, sizeof(e->actor), "operator:%s", who);
	e->at = at;
	e->user_must_exist = 1;
	e->atomic = 1;
	if (strcmp(action, "credits.grant") == 0 || strcmp(action, "credits.revoke") == 0) {
		e->aspects = BEV_CREDIT;
		e->credit.op = action[8] == 'g' ? CREDIT_GRANT : CREDIT_REVOKE;
		e->credit.amount = amount;
		e->credit.expires_at = expires;
		e->credit.source = GRANT_ADMIN;
	} else if (strcmp(action, "links.add") == 0 || strcmp(action, "links.remove") == 0) {
		const cJSON *l = jobj(root, "link");
		const char *lp = jstr(l, "provider"), *lk = jstr(l, "kind"), *li = jstr(l, "id");
		if (lp == NULL || lk == NULL || li == NULL || !text_id_valid(li, ID_MAX - 1) ||
		    text_copy(e->link_provider, sizeof(e->link_provider), lp) != TERR_OK ||
		    bev_link(e, lk, li) != TERR_OK) {
			snprintf(why, whysize, "operator event: malformed link");
			goto out;
		}
		e->aspects = action[6] == 'a' ? BEV_LINKONLY : BEV_UNLINK;
	} else {
		snprintf(why, whysize, "operator event: unknown action %s", action);
		goto out;
	}
	rc = TERR_OK;
out:
	cJSON_Delete(root);
	return rc;
}
