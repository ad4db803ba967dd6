/*
 * Configuration sections of the providers and of outbound HTTP: see cfg.h
 * for the fields and docs/<provider>.md for the keys.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "cfg/cfg_providers.h"
#include "cfg/cfg_read.h"

enum terr
cfg_parse_stripe(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = {
		"test_mode",
		"tolerance",
		"user_metadata_key",
		"product_metadata_key",
		"api_base",
		"portal_login_url",
		NULL,
	};
	enum terr rc;

	if (!cJSON_IsObject(o))
		return cfg_fail(why, size, "config: stripe: expected an object");
	if ((rc = cfg_only_keys(o, "stripe", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_bool(o, "test_mode", "stripe", &c->stripe.test_mode, why, size)) !=
		TERR_OK ||
	    (rc = cfg_get_duration(o, "tolerance", "stripe", &c->stripe.tolerance, why, size)) !=
		TERR_OK ||
	    (rc = cfg_get_name(o, "user_metadata_key", "stripe", c->stripe.user_key,
		 sizeof(c->stripe.user_key), why, size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "product_metadata_key", "stripe", c->stripe.product_key,
		 sizeof(c->stripe.product_key), why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "api_base", "stripe", c->stripe.api_base,
		 sizeof(c->stripe.api_base), why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "portal_login_url", "stripe", c->stripe.portal_login_url,
		 sizeof(c->stripe.portal_login_url), why, size)) != TERR_OK)
		return rc;
	if (c->stripe.tolerance < 1000)
		return cfg_fail(why, size, "config: stripe.tolerance: must be at least 1 second");
	return TERR_OK;
}

enum terr
cfg_parse_http(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "proxy", "timeout", "connect_timeout", NULL };
	enum terr rc;

	if (!cJSON_IsObject(o))
		return cfg_fail(why, size, "config: http: expected an object");
	if ((rc = cfg_only_keys(o, "http", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "proxy", "http", c->http.proxy, sizeof(c->http.proxy), why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_duration(o, "timeout", "http", &c->http.timeout, why, size)) != TERR_OK ||
	    (rc = cfg_get_duration(o, "connect_timeout", "http", &c->http.connect_timeout, why,
		 size)) != TERR_OK)
		return rc;
	if (c->http.timeout < 100 || c->http.connect_timeout < 100)
		return cfg_fail(why, size, "config: http: timeouts must be at least 100 ms");
	return TERR_OK;
}

enum terr
cfg_parse_apple(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "bundle_id", "app_apple_id", "sandbox", "roots",
		"api_base", "api_sandbox_base", "key_id", "issuer_id", "account_token_is_user_id",
		NULL };
	const cJSON *roots, *r;
	enum terr rc;

	if (!cJSON_IsObject(o))
		return cfg_fail(why, size, "config: apple: expected an object");
	c->apple.enabled = 1;
	c->apple.token_is_user = 1;
	if ((rc = cfg_only_keys(o, "apple", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_bool(o, "account_token_is_user_id", "apple", &c->apple.token_is_user, why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "bundle_id", "apple", c->apple.bundle_id,
		 sizeof(c->apple.bundle_id), why, size)) != TERR_OK ||
	    (rc = cfg_get_int(o, "app_apple_id", "apple", 1, INT64_MAX / 2, &c->apple.app_apple_id,
		 why, size)) != TERR_OK ||
	    (rc = cfg_get_bool(o, "sandbox", "apple", &c->apple.sandbox, why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "api_base", "apple", c->apple.api_base, sizeof(c->apple.api_base),
		 why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "api_sandbox_base", "apple", c->apple.api_sandbox_base,
		 sizeof(c->apple.api_sandbox_base), why, size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "key_id", "apple", c->apple.key_id, sizeof(c->apple.key_id), why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "issuer_id", "apple", c->apple.issuer_id,
		 sizeof(c->apple.issuer_id), why, size)) != TERR_OK)
		return rc;
	if (c->apple.bundle_id[0] == '\0')
		return cfg_fail(why, size, "config: apple.bundle_id: required");
	if ((roots = jget(o, "roots")) != NULL) {
		if (!cJSON_IsArray(roots))
			return cfg_fail(why, size,
			    "config: apple.roots: expected an array of file paths");
		cJSON_ArrayForEach (r, roots) {
			if (!cJSON_IsString(r) || !text_id_valid(r->valuestring, CFG_PATH_MAX - 1))
				return cfg_fail(why, size,
				    "config: apple.roots: paths must be strings");
			if (c->apple.nroots == ROOTS_MAX)
				return cfg_fail(why, size, "config: apple.roots: more than %d",
				    ROOTS_MAX);
			text_copy(c->apple.roots[c->apple.nroots++], CFG_PATH_MAX, r->valuestring);
		}
	}
	return TERR_OK;
}

enum terr
cfg_parse_revenuecat(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "sandbox", "transfer_packs", "api_base", NULL };
	enum terr rc;

	if (!cJSON_IsObject(o))
		return cfg_fail(why, size, "config: revenuecat: expected an object");
	if ((rc = cfg_only_keys(o, "revenuecat", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_bool(o, "sandbox", "revenuecat", &c->revenuecat.sandbox, why, size)) !=
		TERR_OK ||
	    (rc = cfg_get_bool(o, "transfer_packs", "revenuecat", &c->revenuecat.transfer_packs,
		 why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "api_base", "revenuecat", c->revenuecat.api_base,
		 sizeof(c->revenuecat.api_base), why, size)) != TERR_OK)
		return rc;
	return TERR_OK;
}

enum terr
cfg_parse_checkout(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "success_url", "cancel_url", "portal_return_url",
		NULL };
	struct cfg_checkout *k = &c->checkout;
	enum terr rc;

	if ((rc = cfg_section(o, "checkout", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "success_url", "checkout", k->success_url, sizeof(k->success_url),
		 why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "cancel_url", "checkout", k->cancel_url, sizeof(k->cancel_url),
		 why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "portal_return_url", "checkout", k->portal_return_url,
		 sizeof(k->portal_return_url), why, size)) != TERR_OK)
		return rc;
	return TERR_OK;
}

/*
 * An Android application id (the Play Store's package name): two or more
 * segments separated by dots, each a letter then letters, digits or '_'.
 */
static int
package_name_valid(const char *s)
{
	size_t segments = 0;

	for (;;) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return 0;
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_')
			s++;
		segments++;
		if (*s == '\0')
			return segments >= 2;
		if (*s++ != '.')
			return 0;
	}
}

/* local@domain: one '@', both sides non-empty, printable ASCII without spaces, a dot in the domain. */
static int
email_valid(const char *s)
{
	const char *at = strchr(s, '@'), *p;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL || strchr(at + 1, '.') == NULL ||
	    at[1] == '.' || at[1] == '\0' || s[strlen(s) - 1] == '.')
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

enum terr
cfg_parse_google(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "package_name", "push_audience", "push_service_account",
		"certs_url", "api_base", "token_url", "test_mode", "identity", NULL };
	struct cfg_google *g = &c->google;
	char identity[16] = "";
	enum terr rc;

	if ((rc = cfg_section(o, "google", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "package_name", "google", g->package_name,
		 sizeof(g->package_name), why, size)) != TERR_OK ||
	    (rc = cfg_get_text(o, "push_audience", "google", g->push_audience,
		 sizeof(g->push_audience), why, size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "push_service_account", "google", g->push_service_account,
		 sizeof(g->push_service_account), why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "certs_url", "google", g->certs_url, sizeof(g->certs_url), why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "api_base", "google", g->api_base, sizeof(g->api_base), why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "token_url", "google", g->token_url, sizeof(g->token_url), why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_bool(o, "test_mode", "google", &g->test_mode, why, size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "identity", "google", identity, sizeof(identity), why, size)) !=
		TERR_OK)
		return rc;
	g->enabled = 1;
	if (identity[0] == '\0' || strcmp(identity, "user_id") == 0)
		g->identity = GOOGLE_IDENTITY_USER_ID;
	else if (strcmp(identity, "hmac") == 0)
		g->identity = GOOGLE_IDENTITY_HMAC;
	else
		return cfg_fail(why, size, "config: google.identity: expected user_id or hmac");
	/* RFC 2104 3: a key shorter than the hash output is "strongly discouraged". */
	if (g->identity == GOOGLE_IDENTITY_HMAC && strlen(g->identity_key) < 32)
		return cfg_fail(why, size,
		    "config: google.identity: hmac needs GOOGLE_IDENTITY_KEY (or "
		    "GOOGLE_IDENTITY_KEY_FILE) of at least 32 bytes");
	if (g->package_name[0] == '\0')
		return cfg_fail(why, size, "config: google.package_name: required");
	if (!package_name_valid(g->package_name))
		return cfg_fail(why, size,
		    "config: google.package_name: expected an application id like "
		    "com.example.app");
	if (g->push_audience[0] == '\0')
		return cfg_fail(why, size,
		    "config: google.push_audience: required (the push subscription's audience)");
	if (g->push_service_account[0] == '\0')
		return cfg_fail(why, size,
		    "config: google.push_service_account: required (the push subscription's "
		    "service account)");
	if (!email_valid(g->push_service_account))
		return cfg_fail(why, size,
		    "config: google.push_service_account: expected a service account's email");
	return TERR_OK;
}
