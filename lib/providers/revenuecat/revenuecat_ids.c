/*
 * RevenueCat's names and tally's: which catalog provider a RevenueCat store
 * is, and which catalog product a product id bought there is. Field names
 * and values cite event-types-and-fields.mdx (RevenueCat/docs @bf39a9c).
 */
#include <string.h>

#include "base/text.h"
#include "providers/revenuecat/revenuecat_ids.h"

/* store → the catalog's provider name for that store's product ids (bev.match_provider). */
const char *
revenuecat_store_provider(const char *store)
{
	if (strcmp(store, "APP_STORE") == 0 || strcmp(store, "MAC_APP_STORE") == 0)
		return "apple";
	if (strcmp(store, "PLAY_STORE") == 0)
		return "google";
	if (strcmp(store, "STRIPE") == 0)
		return "stripe";
	if (strcmp(store, "AMAZON") == 0)
		return "amazon";
	return "";
}

/*
 * The catalog is matched per store (bev.match_provider, then the catalog's
 * "revenuecat" ids). Google Play products set up since February 2023 are
 * "<subscription_id>:<base_plan_id>": the whole id is matched first; when the
 * catalog has it under neither name, the subscription id alone is tried, so a
 * catalog may list a Play subscription as a whole or each base plan.
 * Returns id, or the subscription id written into sub.
 */
const char *
revenuecat_play_id(const struct cfg *c, const char *store, const char *id, char *sub, size_t size)
{
	const char *colon;

	if (strcmp(store, "PLAY_STORE") != 0 || (colon = strchr(id, ':')) == NULL ||
	    cfg_match(c, "google", id) != NULL || cfg_match(c, "revenuecat", id) != NULL ||
	    text_copyn(sub, size, id, (size_t)(colon - id)) != TERR_OK)
		return id;
	if (cfg_match(c, "google", sub) != NULL || cfg_match(c, "revenuecat", sub) != NULL)
		return sub;
	return id;
}

const struct product *
revenuecat_product(const struct cfg *c, const char *store, const char *product_id)
{
	const struct product *p = NULL;
	const char *mp = revenuecat_store_provider(store);
	char sub[ID_MAX];

	product_id = revenuecat_play_id(c, store, product_id, sub, sizeof(sub));
	if (mp[0] != '\0')
		p = cfg_match(c, mp, product_id);
	return p != NULL ? p : cfg_match(c, "revenuecat", product_id);
}
