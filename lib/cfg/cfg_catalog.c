/*
 * The product catalog (config key "products"): what each product grants,
 * its prices, and the providers' ids it is matched by.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/money.h"
#include "base/text.h"
#include "cfg/cfg_catalog.h"
#include "cfg/cfg_read.h"

/* Providers whose ids may appear under a product's "match". */
static const char *const providers[] = {
	"stripe",
	"apple",
	"revenuecat",
	"google",
	"razorpay",
	"telegram",
	"cryptobot",
	NULL,
};

static int
known_provider(const char *name)
{
	size_t i;

	for (i = 0; providers[i] != NULL; i++)
		if (strcmp(providers[i], name) == 0)
			return 1;
	return 0;
}

static enum terr
parse_match(struct product *p, const cJSON *m, const char *path, char *why, size_t size)
{
	const cJSON *prov, *id;

	if (!cJSON_IsObject(m))
		return cfg_fail(why, size,
		    "config: %s.match: expected an object of provider: [ids]", path);
	for (prov = m->child; prov != NULL; prov = prov->next) {
		if (!known_provider(prov->string))
			return cfg_fail(why, size, "config: %s.match.%s: unknown provider", path,
			    prov->string);
		if (!cJSON_IsArray(prov))
			return cfg_fail(why, size, "config: %s.match.%s: expected an array of ids",
			    path, prov->string);
		cJSON_ArrayForEach (id, prov) {
			struct product_match *pm;
			if (!cJSON_IsString(id) || !text_id_valid(id->valuestring, ID_MAX - 1))
				return cfg_fail(why, size,
				    "config: %s.match.%s: ids must be non-empty strings", path,
				    prov->string);
			if (p->nmatch == PRODUCT_MATCH_MAX)
				return cfg_fail(why, size, "config: %s.match: more than %d ids",
				    path, PRODUCT_MATCH_MAX);
			pm = &p->match[p->nmatch++];
			text_copy(pm->provider, sizeof(pm->provider), prov->string);
			text_copy(pm->id, sizeof(pm->id), id->valuestring);
		}
	}
	return TERR_OK;
}

/* A list of entitlement names at key into ents (products, free tier). */
static enum terr
parse_ents(const cJSON *o, const char *path, char ents[][CFG_NAME_MAX], size_t *n, char *why,
    size_t size)
{
	const cJSON *list = jget(o, "entitlements"), *e;

	if (list == NULL)
		return TERR_OK;
	if (!cJSON_IsArray(list))
		return cfg_fail(why, size, "config: %s.entitlements: expected an array of names",
		    path);
	cJSON_ArrayForEach (e, list) {
		if (!cJSON_IsString(e) || !text_id_valid(e->valuestring, CFG_NAME_MAX - 1))
			return cfg_fail(why, size,
			    "config: %s.entitlements: names must be 1 to %d bytes", path,
			    CFG_NAME_MAX - 1);
		if (*n == PRODUCT_ENT_MAX)
			return cfg_fail(why, size, "config: %s.entitlements: more than %d", path,
			    PRODUCT_ENT_MAX);
		text_copy(ents[(*n)++], CFG_NAME_MAX, e->valuestring);
	}
	return TERR_OK;
}

static enum terr
get_period(const cJSON *o, const char *key, const char *path, struct tm_period *out, char *why,
    size_t size)
{
	const cJSON *v = jget(o, key);

	if (v == NULL)
		return TERR_OK;
	if (!cJSON_IsString(v) || tm_parse_period(v->valuestring, out) != TERR_OK)
		return cfg_fail(why, size,
		    "config: %s.%s: expected a period: months (\"1mo\", \"12mo\", \"1y\") or a "
		    "duration (\"30d\")",
		    path, key);
	return TERR_OK;
}

/* "prices": {"INR": 49900, "XTR": 250, "USDT": "4.99"}: integers in minor units, strings in major units. */
static enum terr
parse_prices(struct product *p, const cJSON *m, const char *path, char *why, size_t size)
{
	const cJSON *v;

	if (!cJSON_IsObject(m))
		return cfg_fail(why, size,
		    "config: %s.prices: expected an object of currency: amount", path);
	cJSON_ArrayForEach (v, m) {
		struct product_price *pp;
		int64_t amount = 0;
		if (!money_currency_valid(v->string))
			return cfg_fail(why, size,
			    "config: %s.prices.%s: expected a currency code (USD, INR, XTR, USDT "
			    "...)",
			    path, v->string);
		if (p->nprices == PRICES_MAX)
			return cfg_fail(why, size, "config: %s.prices: more than %d", path,
			    PRICES_MAX);
		if (cJSON_IsString(v) ? money_parse(v->valuestring, v->string, &amount) != TERR_OK
				      : jint(m, v->string, &amount) != 1)
			amount = 0;
		if (amount <= 0)
			return cfg_fail(why, size,
			    "config: %s.prices.%s: expected an amount in minor units (499) or a "
			    "decimal string (\"4.99\") with at most %d decimals, more than zero",
			    path, v->string, money_exponent(v->string));
		pp = &p->prices[p->nprices++];
		text_copy(pp->currency, sizeof(pp->currency), v->string);
		pp->amount = amount;
	}
	return TERR_OK;
}

/*
 * A low-balance threshold at o[key]: credits as an integer (100), or a
 * percentage of the period's allowance as a string ("20%"); *out keeps
 * none when the key is absent.
 */
static enum terr
get_threshold(const cJSON *o, const char *key, const char *path, struct cfg_threshold *out,
    char *why, size_t size)
{
	const cJSON *v = jget(o, key);
	const char *t;
	size_t n;
	int64_t x;

	if (v == NULL)
		return TERR_OK;
	memset(out, 0, sizeof(*out));
	if (cJSON_IsString(v)) {
		t = v->valuestring;
		n = strlen(t);
		if (n >= 2 && t[n - 1] == '%' && text_i64(t, n - 1, 1, 100, &x) == TERR_OK) {
			out->percent = x;
			return TERR_OK;
		}
	} else if (jint(o, key, &x) == 1 && x >= 1 && x <= CREDITS_MAX) {
		out->credits = x;
		return TERR_OK;
	}
	return cfg_fail(why, size,
	    "config: %s.%s: expected credits (an integer from 1 to %lld) or a percentage of the "
	    "period's allowance (a string from \"1%%\" to \"100%%\")",
	    path, key, (long long)CREDITS_MAX);
}

/* What tally itself sells the product for: prices, period, credit period, price in credits. */
static enum terr
parse_sale(struct product *p, const cJSON *o, const char *path, char *why, size_t size)
{
	const cJSON *m;
	enum terr rc;

	if ((m = jget(o, "prices")) != NULL &&
	    (rc = parse_prices(p, m, path, why, size)) != TERR_OK)
		return rc;
	if ((rc = get_period(o, "period", path, &p->period, why, size)) != TERR_OK ||
	    (rc = get_period(o, "credit_period", path, &p->credit_period, why, size)) != TERR_OK ||
	    (rc = cfg_get_int(o, "price_credits", path, 1, CREDITS_MAX, &p->price_credits, why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "stripe_price", path, p->stripe_price, sizeof(p->stripe_price),
		 why, size)) != TERR_OK)
		return rc;
	if (p->kind == PRODUCT_PACK &&
	    (jget(o, "period") != NULL || jget(o, "credit_period") != NULL ||
		jget(o, "price_credits") != NULL))
		return cfg_fail(why, size,
		    "config: %s: period, credit_period and price_credits are for subscriptions",
		    path);
	if (p->price_credits > 0 && p->period.months == 0 && p->period.ms == 0)
		return cfg_fail(why, size, "config: %s.price_credits: needs a period", path);
	return TERR_OK;
}

static enum terr
parse_product(struct product *p, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = {
		"kind",
		"credits",
		"trial_credits",
		"credit_policy",
		"credits_expire_after",
		"entitlements",
		"match",
		"prices",
		"period",
		"credit_period",
		"price_credits",
		"stripe_price",
		"balance_low",
		NULL,
	};
	char path[CFG_NAME_MAX + 16];
	const char *kind, *policy;
	const cJSON *e;
	enum terr rc;

	snprintf(path, sizeof(path), "products.%s", o->string);
	if (!text_id_valid(o->string, CFG_NAME_MAX - 1))
		return cfg_fail(why, size, "config: products: product ids must be 1 to %d bytes",
		    CFG_NAME_MAX - 1);
	if (!cJSON_IsObject(o))
		return cfg_fail(why, size, "config: %s: expected an object", path);
	if ((rc = cfg_only_keys(o, path, keys, why, size)) != TERR_OK)
		return rc;
	text_copy(p->id, sizeof(p->id), o->string);

	kind = jstr(o, "kind");
	if (kind != NULL && strcmp(kind, "subscription") == 0)
		p->kind = PRODUCT_SUBSCRIPTION;
	else if (kind != NULL && strcmp(kind, "pack") == 0)
		p->kind = PRODUCT_PACK;
	else
		return cfg_fail(why, size, "config: %s.kind: expected \"subscription\" or \"pack\"",
		    path);

	p->policy = CREDIT_RESET;
	if ((policy = jstr(o, "credit_policy")) != NULL) {
		if (strcmp(policy, "reset") == 0)
			p->policy = CREDIT_RESET;
		else if (strcmp(policy, "accumulate") == 0)
			p->policy = CREDIT_ACCUMULATE;
		else
			return cfg_fail(why, size,
			    "config: %s.credit_policy: expected \"reset\" or \"accumulate\"", path);
	} else if (jget(o, "credit_policy") != NULL)
		return cfg_fail(why, size, "config: %s.credit_policy: expected a string", path);
	if (p->kind == PRODUCT_PACK && jget(o, "credit_policy") != NULL)
		return cfg_fail(why, size, "config: %s.credit_policy: packs always add credits",
		    path);

	p->credits = 0;
	if ((rc = cfg_get_int(o, "credits", path, 0, CREDITS_MAX, &p->credits, why, size)) !=
	    TERR_OK)
		return rc;
	p->trial_credits = p->credits;
	if ((rc = cfg_get_int(o, "trial_credits", path, 0, CREDITS_MAX, &p->trial_credits, why,
		 size)) != TERR_OK)
		return rc;
	if ((rc = cfg_get_duration(o, "credits_expire_after", path, &p->credits_expire, why,
		 size)) != TERR_OK)
		return rc;
	if (p->kind == PRODUCT_SUBSCRIPTION && p->credits_expire != 0)
		return cfg_fail(why, size,
		    "config: %s.credits_expire_after: subscription credits expire with their "
		    "period",
		    path);

	if ((rc = parse_ents(o, path, p->ents, &p->nents, why, size)) != TERR_OK)
		return rc;
	if ((e = jget(o, "match")) != NULL && (rc = parse_match(p, e, path, why, size)) != TERR_OK)
		return rc;
	if ((rc = parse_sale(p, o, path, why, size)) != TERR_OK)
		return rc;
	if ((rc = get_threshold(o, "balance_low", path, &p->balance_low, why, size)) != TERR_OK)
		return rc;
	if (p->kind == PRODUCT_PACK && jget(o, "balance_low") != NULL)
		return cfg_fail(why, size,
		    "config: %s.balance_low: for subscriptions (a pack has no period); "
		    "balance_alerts.low covers users of packs",
		    path);
	if (p->credits == 0 && p->nents == 0)
		return cfg_fail(why, size,
		    "config: %s: grants nothing (no credits, no entitlements)", path);
	return TERR_OK;
}

enum terr
cfg_parse_products(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	const cJSON *p;
	size_t n = 0, i, j, k, l;
	enum terr rc;

	if (!cJSON_IsObject(o))
		return cfg_fail(why, size,
		    "config: products: expected an object of product id: {...}");
	for (p = o->child; p != NULL; p = p->next)
		n++;
	if (n > PRODUCTS_MAX)
		return cfg_fail(why, size, "config: products: more than %d products", PRODUCTS_MAX);
	if (n == 0)
		return TERR_OK;
	if ((c->products = calloc(n, sizeof(*c->products))) == NULL)
		return TERR_NOMEM;
	for (p = o->child; p != NULL; p = p->next) {
		if ((rc = parse_product(&c->products[c->nproducts], p, why, size)) != TERR_OK)
			return rc;
		c->nproducts++;
	}
	/* One provider id must map to one product, or the catalog is ambiguous. */
	for (i = 0; i < c->nproducts; i++)
		for (j = 0; j < c->products[i].nmatch; j++)
			for (k = i; k < c->nproducts; k++)
				for (l = k == i ? j + 1 : 0; l < c->products[k].nmatch; l++) {
					const struct product_match *a = &c->products[i].match[j];
					const struct product_match *b = &c->products[k].match[l];
					if (strcmp(a->provider, b->provider) == 0 &&
					    strcmp(a->id, b->id) == 0)
						return cfg_fail(why, size,
						    "config: products.%s.match.%s: id %s also "
						    "matches products.%s",
						    c->products[k].id, b->provider, b->id,
						    c->products[i].id);
				}
	return TERR_OK;
}

enum terr
cfg_parse_policy(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "grace_period", "renewal_leeway", NULL };
	enum terr rc;

	if (!cJSON_IsObject(o))
		return cfg_fail(why, size, "config: policy: expected an object");
	if ((rc = cfg_only_keys(o, "policy", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_duration(o, "grace_period", "policy", &c->policy.grace, why, size)) !=
		TERR_OK ||
	    (rc = cfg_get_duration(o, "renewal_leeway", "policy", &c->policy.leeway, why, size)) !=
		TERR_OK)
		return rc;
	return TERR_OK;
}

enum terr
cfg_parse_free_tier(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "signup_credits", "monthly_credits", "entitlements",
		NULL };
	struct cfg_free_tier *f = &c->free_tier;
	enum terr rc;

	if ((rc = cfg_section(o, "free_tier", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_int(o, "signup_credits", "free_tier", 0, CREDITS_MAX, &f->signup_credits,
		 why, size)) != TERR_OK ||
	    (rc = cfg_get_int(o, "monthly_credits", "free_tier", 0, CREDITS_MAX,
		 &f->monthly_credits, why, size)) != TERR_OK ||
	    (rc = parse_ents(o, "free_tier", f->ents, &f->nents, why, size)) != TERR_OK)
		return rc;
	f->enabled = 1;
	return TERR_OK;
}

enum terr
cfg_parse_trial(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "product", "duration", NULL };
	struct cfg_trial *t = &c->trial;
	enum terr rc;

	if ((rc = cfg_section(o, "trial", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "product", "trial", t->product, sizeof(t->product), why, size)) !=
		TERR_OK ||
	    (rc = cfg_get_duration(o, "duration", "trial", &t->duration, why, size)) != TERR_OK)
		return rc;
	if (t->product[0] == '\0' || t->duration <= 0)
		return cfg_fail(why, size, "config: trial: needs a product and a duration");
	t->enabled = 1;
	return TERR_OK;
}

enum terr
cfg_parse_balance_alerts(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "low", NULL };
	struct cfg_balance_alerts *b = &c->balance_alerts;
	enum terr rc;

	if ((rc = cfg_section(o, "balance_alerts", keys, why, size)) != TERR_OK ||
	    (rc = get_threshold(o, "low", "balance_alerts", &b->low, why, size)) != TERR_OK)
		return rc;
	b->enabled = 1;
	return TERR_OK;
}
