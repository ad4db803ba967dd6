#include <string.h>

#include "base/err.h"
#include "base/event.h"
#include "base/text.h"

static const char *const sub_states[SUB__MAX] = {
	[SUB_NONE] = "none",
	[SUB_INCOMPLETE] = "incomplete",
	[SUB_TRIALING] = "trialing",
	[SUB_ACTIVE] = "active",
	[SUB_CANCELED] = "canceled",
	[SUB_PAST_DUE] = "past_due",
	[SUB_PAUSED] = "paused",
	[SUB_EXPIRED] = "expired",
	[SUB_REVOKED] = "revoked",
	[SUB_REFUNDED] = "refunded",
};

static const unsigned sub_ranks[SUB__MAX] = {
	[SUB_NONE] = 0,
	[SUB_INCOMPLETE] = 1,
	[SUB_TRIALING] = 2,
	[SUB_ACTIVE] = 3,
	[SUB_PAST_DUE] = 4,
	[SUB_PAUSED] = 5,
	[SUB_CANCELED] = 6,
	[SUB_EXPIRED] = 7,
	[SUB_REFUNDED] = 8,
	[SUB_REVOKED] = 9,
};

static const char *const pay_kinds[PAY__MAX] = {
	[PAY_INITIAL] = "initial",
	[PAY_RENEWAL] = "renewal",
	[PAY_CHANGE] = "change",
	[PAY_OTHER] = "other",
	[PAY_ONE_OFF] = "one_off",
};

static const char *const refund_kinds[REFUND__MAX] = {
	[REFUND_FULL] = "full",
	[REFUND_PARTIAL] = "partial",
	[REFUND_DISPUTE] = "dispute",
};

void
bev_init(struct bev *e)
{
	memset(e, 0, sizeof(*e));
	e->live = 1;
	e->sub.cancel_at_period_end = -1;
}

int
bev_link(struct bev *e, const char *kind, const char *id)
{
	size_t i;

	if (id == NULL || *id == '\0')
		return TERR_OK;
	for (i = 0; i < e->nlinks; i++)
		if (strcmp(e->links[i].kind, kind) == 0 && strcmp(e->links[i].id, id) == 0)
			return TERR_OK;
	if (e->nlinks == BEV_LINKS_MAX)
		return TERR_TOOBIG;
	if (text_copy(e->links[e->nlinks].kind, KIND_MAX, kind) != TERR_OK ||
	    text_copy(e->links[e->nlinks].id, ID_MAX, id) != TERR_OK)
		return TERR_TOOBIG;
	e->nlinks++;
	return TERR_OK;
}

int
bev_key(struct bev_keys *k, const char *key)
{
	size_t i;

	if (key == NULL || *key == '\0')
		return TERR_OK;
	for (i = 0; i < k->n; i++)
		if (strcmp(k->k[i], key) == 0)
			return TERR_OK;
	if (k->n == PAY_KEYS_MAX)
		return TERR_TOOBIG;
	if (text_copy(k->k[k->n], ID_MAX, key) != TERR_OK)
		return TERR_TOOBIG;
	k->n++;
	return TERR_OK;
}

const char *
sub_state_str(enum sub_state s)
{
	return (unsigned)s < SUB__MAX ? sub_states[s] : "none";
}

enum sub_state
sub_state_parse(const char *s)
{
	int i;

	for (i = 0; i < SUB__MAX; i++)
		if (strcmp(sub_states[i], s) == 0)
			return (enum sub_state)i;
	return SUB_NONE;
}

unsigned
sub_state_rank(enum sub_state s)
{
	return (unsigned)s < SUB__MAX ? sub_ranks[s] : 0;
}

const char *
pay_kind_str(enum pay_kind k)
{
	return (unsigned)k < PAY__MAX ? pay_kinds[k] : "other";
}

enum pay_kind
pay_kind_parse(const char *s)
{
	int i;

	for (i = 0; i < PAY__MAX; i++)
		if (strcmp(pay_kinds[i], s) == 0)
			return (enum pay_kind)i;
	return PAY_OTHER;
}

const char *
refund_kind_str(enum refund_kind k)
{
	return (unsigned)k < REFUND__MAX ? refund_kinds[k] : "full";
}
