#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "crypto.h"
#include "json.h"
#include "text.h"
#include "tm.h"

#define DEFAULT_DB     "/var/lib/tally/tally.db"
#define DEFAULT_CONFIG "/etc/tally/tally.json"

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

static enum terr
fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return TERR_CONFIG;
}

void
cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	text_copy(c->db_path, sizeof(c->db_path), DEFAULT_DB);
	text_copy(c->config_path, sizeof(c->config_path), DEFAULT_CONFIG);
	c->stripe.tolerance = (int64_t)STRIPE_TOLERANCE_DEFAULT * 1000;
	text_copy(c->stripe.user_key, sizeof(c->stripe.user_key), "user_id");
	text_copy(c->stripe.product_key, sizeof(c->stripe.product_key), "product");
	c->policy.grace = (int64_t)7 * 86400 * 1000;
	c->policy.leeway = (int64_t)86400 * 1000;
	c->http.timeout = 10 * 1000;
	c->http.connect_timeout = 5 * 1000;
	text_copy(c->apple.api_base, sizeof(c->apple.api_base), "https://api.storekit.apple.com");
	text_copy(c->apple.api_sandbox_base, sizeof(c->apple.api_sandbox_base),
	    "https://api.storekit-sandbox.apple.com");
	text_copy(c->revenuecat.api_base, sizeof(c->revenuecat.api_base),
	    "https://api.revenuecat.com");
}

void
cfg_release(struct cfg *c)
{
	wipe(c->apple.private_key, sizeof(c->apple.private_key));
	wipe(c->revenuecat.auth, sizeof(c->revenuecat.auth));
	wipe(c->revenuecat.api_key, sizeof(c->revenuecat.api_key));
	wipe(c->stripe.secrets, sizeof(c->stripe.secrets));
	c->stripe.nsecrets = 0;
	free(c->products);
	c->products = NULL;
	c->nproducts = 0;
}

/* Reject keys of o not in allowed[] (typos in a billing catalog must not pass silently). */
static enum terr
only_keys(const cJSON *o, const char *path, const char *const *allowed, char *why, size_t size)
{
	const cJSON *c;
	size_t i;

	for (c = o->child; c != NULL; c = c->next) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(c->string, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return fail(why, size, "config: %s%s%s: unknown key", path,
			    *path ? "." : "", c->string);
	}
	return TERR_OK;
}

static enum terr
get_int(const cJSON *o, const char *key, const char *path, int64_t min, int64_t max, int64_t *out,
    char *why, size_t size)
{
	int64_t v;
	int r = jint(o, key, &v);

	if (r == 0)
		return TERR_OK; /* keep the default */
	if (r < 0 || v < min || v > max)
		return fail(why, size, "config: %s.%s: expected an integer from %lld to %lld", path,
		    key, (long long)min, (long long)max);
	*out = v;
	return TERR_OK;
}

static enum terr
get_bool(const cJSON *o, const char *key, const char *path, int *out, char *why, size_t size)
{
	int r = jbool(o, key, out);

	if (r < 0)
		return fail(why, size, "config: %s.%s: expected true or false", path, key);
	return TERR_OK;
}

static enum terr
get_name(const cJSON *o, const char *key, const char *path, char *out, size_t outsize, char *why,
    size_t size)
{
	const cJSON *v = jget(o, key);

	if (v == NULL)
		return TERR_OK;
	if (!cJSON_IsString(v) || !text_id_valid(v->valuestring, outsize - 1))
		return fail(why, size,
		    "config: %s.%s: expected a non-empty string of at most %zu bytes", path, key,
		    outsize - 1);
	return text_copy(out, outsize, v->valuestring);
}

/* A string of printable text (a URL, a path): non-empty, no control characters. */
static enum terr
get_text(const cJSON *o, const char *key, const char *path, char *out, size_t outsize, char *why,
    size_t size)
{
	const cJSON *v = jget(o, key);

	if (v == NULL)
		return TERR_OK;
	if (!cJSON_IsString(v) || !text_id_valid(v->valuestring, outsize - 1))
		return fail(why, size,
		    "config: %s.%s: expected a non-empty string of at most %zu bytes", path, key,
		    outsize - 1);
	return text_copy(out, outsize, v->valuestring);
}

/* An http(s) URL. */
static enum terr
get_url(const cJSON *o, const char *key, const char *path, char *out, size_t outsize, char *why,
    size_t size)
{
	enum terr rc = get_text(o, key, path, out, outsize, why, size);

	if (rc == TERR_OK && jget(o, key) != NULL && strncmp(out, "https://", 8) != 0 &&
	    strncmp(out, "http://", 7) != 0)
		return fail(why, size, "config: %s.%s: expected an http:// or https:// URL", path,
		    key);
	return rc;
}

/* A duration: seconds as an integer, or a string "90s", "15m", "12h", "7d". */
static enum terr
get_duration(const cJSON *o, const char *key, const char *path, int64_t *out, char *why,
    size_t size)
{
	const cJSON *v = jget(o, key);
	int64_t secs;

	if (v == NULL)
		return TERR_OK;
	if (cJSON_IsString(v) && tm_parse_duration(v->valuestring, out) == TERR_OK)
		return TERR_OK;
	if (jint(o, key, &secs) == 1 && secs >= 0 && secs <= (int64_t)3660 * 86400) {
		*out = secs * 1000;
		return TERR_OK;
	}
	return fail(why, size,
	    "config: %s.%s: expected a duration (seconds, or a string like \"30m\", \"7d\")", path,
	    key);
}

static enum terr
parse_stripe(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = {
		"test_mode",
		"tolerance",
		"user_metadata_key",
		"product_metadata_key",
		NULL,
	};
	enum terr rc;

	if (!cJSON_IsObject(o))
		return fail(why, size, "config: stripe: expected an object");
	if ((rc = only_keys(o, "stripe", keys, why, size)) != TERR_OK ||
	    (rc = get_bool(o, "test_mode", "stripe", &c->stripe.test_mode, why, size)) != TERR_OK ||
	    (rc = get_duration(o, "tolerance", "stripe", &c->stripe.tolerance, why, size)) !=
		TERR_OK ||
	    (rc = get_name(o, "user_metadata_key", "stripe", c->stripe.user_key,
		 sizeof(c->stripe.user_key), why, size)) != TERR_OK ||
	    (rc = get_name(o, "product_metadata_key", "stripe", c->stripe.product_key,
		 sizeof(c->stripe.product_key), why, size)) != TERR_OK)
		return rc;
	if (c->stripe.tolerance < 1000)
		return fail(why, size, "config: stripe.tolerance: must be at least 1 second");
	return TERR_OK;
}

static enum terr
parse_policy(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "grace_period", "renewal_leeway", NULL };
	enum terr rc;

	if (!cJSON_IsObject(o))
		return fail(why, size, "config: policy: expected an object");
	if ((rc = only_keys(o, "policy", keys, why, size)) != TERR_OK ||
	    (rc = get_duration(o, "grace_period", "policy", &c->policy.grace, why, size)) !=
		TERR_OK ||
	    (rc = get_duration(o, "renewal_leeway", "policy", &c->policy.leeway, why, size)) !=
		TERR_OK)
		return rc;
	return TERR_OK;
}

static enum terr
parse_http(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "proxy", "timeout", "connect_timeout", NULL };
	enum terr rc;

	if (!cJSON_IsObject(o))
		return fail(why, size, "config: http: expected an object");
	if ((rc = only_keys(o, "http", keys, why, size)) != TERR_OK ||
	    (rc = get_url(o, "proxy", "http", c->http.proxy, sizeof(c->http.proxy), why, size)) !=
		TERR_OK ||
	    (rc = get_duration(o, "timeout", "http", &c->http.timeout, why, size)) != TERR_OK ||
	    (rc = get_duration(o, "connect_timeout", "http", &c->http.connect_timeout, why,
		 size)) != TERR_OK)
		return rc;
	if (c->http.timeout < 100 || c->http.connect_timeout < 100)
		return fail(why, size, "config: http: timeouts must be at least 100 ms");
	return TERR_OK;
}

static enum terr
parse_apple(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "bundle_id", "app_apple_id", "sandbox", "roots",
		"api_base", "api_sandbox_base", "key_id", "issuer_id", "account_token_is_user_id",
		NULL };
	const cJSON *roots, *r;
	enum terr rc;

	if (!cJSON_IsObject(o))
		return fail(why, size, "config: apple: expected an object");
	c->apple.enabled = 1;
	c->apple.token_is_user = 1;
	if ((rc = only_keys(o, "apple", keys, why, size)) != TERR_OK ||
	    (rc = get_bool(o, "account_token_is_user_id", "apple", &c->apple.token_is_user, why,
		 size)) != TERR_OK ||
	    (rc = get_name(o, "bundle_id", "apple", c->apple.bundle_id, sizeof(c->apple.bundle_id),
		 why, size)) != TERR_OK ||
	    (rc = get_int(o, "app_apple_id", "apple", 1, INT64_MAX / 2, &c->apple.app_apple_id, why,
		 size)) != TERR_OK ||
	    (rc = get_bool(o, "sandbox", "apple", &c->apple.sandbox, why, size)) != TERR_OK ||
	    (rc = get_url(o, "api_base", "apple", c->apple.api_base, sizeof(c->apple.api_base), why,
		 size)) != TERR_OK ||
	    (rc = get_url(o, "api_sandbox_base", "apple", c->apple.api_sandbox_base,
		 sizeof(c->apple.api_sandbox_base), why, size)) != TERR_OK ||
	    (rc = get_name(o, "key_id", "apple", c->apple.key_id, sizeof(c->apple.key_id), why,
		 size)) != TERR_OK ||
	    (rc = get_name(o, "issuer_id", "apple", c->apple.issuer_id, sizeof(c->apple.issuer_id),
		 why, size)) != TERR_OK)
		return rc;
	if (c->apple.bundle_id[0] == '\0')
		return fail(why, size, "config: apple.bundle_id: required");
	if ((roots = jget(o, "roots")) != NULL) {
		if (!cJSON_IsArray(roots))
			return fail(why, size,
			    "config: apple.roots: expected an array of file paths");
		cJSON_ArrayForEach (r, roots) {
			if (!cJSON_IsString(r) || !text_id_valid(r->valuestring, CFG_PATH_MAX - 1))
				return fail(why, size,
				    "config: apple.roots: paths must be strings");
			if (c->apple.nroots == ROOTS_MAX)
				return fail(why, size, "config: apple.roots: more than %d",
				    ROOTS_MAX);
			text_copy(c->apple.roots[c->apple.nroots++], CFG_PATH_MAX, r->valuestring);
		}
	}
	return TERR_OK;
}

static enum terr
parse_revenuecat(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "sandbox", "transfer_packs", "api_base", NULL };
	enum terr rc;

	if (!cJSON_IsObject(o))
		return fail(why, size, "config: revenuecat: expected an object");
	if ((rc = only_keys(o, "revenuecat", keys, why, size)) != TERR_OK ||
	    (rc = get_bool(o, "sandbox", "revenuecat", &c->revenuecat.sandbox, why, size)) !=
		TERR_OK ||
	    (rc = get_bool(o, "transfer_packs", "revenuecat", &c->revenuecat.transfer_packs, why,
		 size)) != TERR_OK ||
	    (rc = get_url(o, "api_base", "revenuecat", c->revenuecat.api_base,
		 sizeof(c->revenuecat.api_base), why, size)) != TERR_OK)
		return rc;
	return TERR_OK;
}

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
		return fail(why, size, "config: %s.match: expected an object of provider: [ids]",
		    path);
	for (prov = m->child; prov != NULL; prov = prov->next) {
		if (!known_provider(prov->string))
			return fail(why, size, "config: %s.match.%s: unknown provider", path,
			    prov->string);
		if (!cJSON_IsArray(prov))
			return fail(why, size, "config: %s.match.%s: expected an array of ids",
			    path, prov->string);
		cJSON_ArrayForEach (id, prov) {
			struct product_match *pm;
			if (!cJSON_IsString(id) || !text_id_valid(id->valuestring, ID_MAX - 1))
				return fail(why, size,
				    "config: %s.match.%s: ids must be non-empty strings", path,
				    prov->string);
			if (p->nmatch == PRODUCT_MATCH_MAX)
				return fail(why, size, "config: %s.match: more than %d ids", path,
				    PRODUCT_MATCH_MAX);
			pm = &p->match[p->nmatch++];
			text_copy(pm->provider, sizeof(pm->provider), prov->string);
			text_copy(pm->id, sizeof(pm->id), id->valuestring);
		}
	}
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
		NULL,
	};
	char path[CFG_NAME_MAX + 16];
	const char *kind, *policy;
	const cJSON *ents, *e;
	enum terr rc;

	snprintf(path, sizeof(path), "products.%s", o->string);
	if (!text_id_valid(o->string, CFG_NAME_MAX - 1))
		return fail(why, size, "config: products: product ids must be 1 to %d bytes",
		    CFG_NAME_MAX - 1);
	if (!cJSON_IsObject(o))
		return fail(why, size, "config: %s: expected an object", path);
	if ((rc = only_keys(o, path, keys, why, size)) != TERR_OK)
		return rc;
	text_copy(p->id, sizeof(p->id), o->string);

	kind = jstr(o, "kind");
	if (kind != NULL && strcmp(kind, "subscription") == 0)
		p->kind = PRODUCT_SUBSCRIPTION;
	else if (kind != NULL && strcmp(kind, "pack") == 0)
		p->kind = PRODUCT_PACK;
	else
		return fail(why, size, "config: %s.kind: expected \"subscription\" or \"pack\"",
		    path);

	p->policy = CREDIT_RESET;
	if ((policy = jstr(o, "credit_policy")) != NULL) {
		if (strcmp(policy, "reset") == 0)
			p->policy = CREDIT_RESET;
		else if (strcmp(policy, "accumulate") == 0)
			p->policy = CREDIT_ACCUMULATE;
		else
			return fail(why, size,
			    "config: %s.credit_policy: expected \"reset\" or \"accumulate\"", path);
	} else if (jget(o, "credit_policy") != NULL)
		return fail(why, size, "config: %s.credit_policy: expected a string", path);
	if (p->kind == PRODUCT_PACK && jget(o, "credit_policy") != NULL)
		return fail(why, size, "config: %s.credit_policy: packs always add credits", path);

	p->credits = 0;
	if ((rc = get_int(o, "credits", path, 0, CREDITS_MAX, &p->credits, why, size)) != TERR_OK)
		return rc;
	p->trial_credits = p->credits;
	if ((rc = get_int(o, "trial_credits", path, 0, CREDITS_MAX, &p->trial_credits, why,
		 size)) != TERR_OK)
		return rc;
	if ((rc = get_duration(o, "credits_expire_after", path, &p->credits_expire, why, size)) !=
	    TERR_OK)
		return rc;
	if (p->kind == PRODUCT_SUBSCRIPTION && p->credits_expire != 0)
		return fail(why, size,
		    "config: %s.credits_expire_after: subscription credits expire with their "
		    "period",
		    path);

	if ((ents = jget(o, "entitlements")) != NULL) {
		if (!cJSON_IsArray(ents))
			return fail(why, size,
			    "config: %s.entitlements: expected an array of names", path);
		cJSON_ArrayForEach (e, ents) {
			if (!cJSON_IsString(e) || !text_id_valid(e->valuestring, CFG_NAME_MAX - 1))
				return fail(why, size,
				    "config: %s.entitlements: names must be 1 to %d bytes", path,
				    CFG_NAME_MAX - 1);
			if (p->nents == PRODUCT_ENT_MAX)
				return fail(why, size, "config: %s.entitlements: more than %d",
				    path, PRODUCT_ENT_MAX);
			text_copy(p->ents[p->nents++], CFG_NAME_MAX, e->valuestring);
		}
	}
	if ((e = jget(o, "match")) != NULL && (rc = parse_match(p, e, path, why, size)) != TERR_OK)
		return rc;
	if (p->credits == 0 && p->nents == 0)
		return fail(why, size, "config: %s: grants nothing (no credits, no entitlements)",
		    path);
	return TERR_OK;
}

static enum terr
parse_products(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	const cJSON *p;
	size_t n = 0, i, j, k, l;
	enum terr rc;

	if (!cJSON_IsObject(o))
		return fail(why, size, "config: products: expected an object of product id: {...}");
	for (p = o->child; p != NULL; p = p->next)
		n++;
	if (n > PRODUCTS_MAX)
		return fail(why, size, "config: products: more than %d products", PRODUCTS_MAX);
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
						return fail(why, size,
						    "config: products.%s.match.%s: id %s also "
						    "matches products.%s",
						    c->products[k].id, b->provider, b->id,
						    c->products[i].id);
				}
	return TERR_OK;
}

enum terr
cfg_parse(struct cfg *c, const char *text, size_t n, char *why, size_t size)
{
	static const char *const keys[] = { "stripe", "policy", "http", "apple", "revenuecat",
		"products", NULL };
	cJSON *root = NULL;
	const cJSON *o;
	const char *jwhy;
	enum terr rc;

	if (json_parse(text, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		rc = fail(why, size, "config: %s: %s", c->config_path, jwhy);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = fail(why, size, "config: %s: expected a JSON object", c->config_path);
		goto out;
	}
	if ((rc = only_keys(root, "", keys, why, size)) != TERR_OK)
		goto out;
	if ((o = jget(root, "stripe")) != NULL && (rc = parse_stripe(c, o, why, size)) != TERR_OK)
		goto out;
	if ((o = jget(root, "policy")) != NULL && (rc = parse_policy(c, o, why, size)) != TERR_OK)
		goto out;
	if ((o = jget(root, "http")) != NULL && (rc = parse_http(c, o, why, size)) != TERR_OK)
		goto out;
	if ((o = jget(root, "apple")) != NULL && (rc = parse_apple(c, o, why, size)) != TERR_OK)
		goto out;
	if ((o = jget(root, "revenuecat")) != NULL &&
	    (rc = parse_revenuecat(c, o, why, size)) != TERR_OK)
		goto out;
	if ((o = jget(root, "products")) != NULL &&
	    (rc = parse_products(c, o, why, size)) != TERR_OK)
		goto out;
	rc = TERR_OK;
out:
	cJSON_Delete(root);
	return rc;
}

static enum terr
read_file(const char *path, struct buf *b, char *why, size_t size)
{
	char chunk[8192];
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return TERR_IO;
	}
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf_append(b, chunk, (size_t)r);
	}
	close(fd);
	if (r < 0) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return TERR_IO;
	}
	if (b->err != TERR_OK) {
		snprintf(why, size, "%s: larger than %zu bytes", path, b->max);
		return b->err;
	}
	return TERR_OK;
}

enum terr
cfg_secret(const char *name, char *out, size_t outsize, char *why, size_t size)
{
	char fname[CFG_NAME_MAX + 8];
	const char *v, *f;
	struct buf b;
	enum terr rc;

	out[0] = '\0';
	snprintf(fname, sizeof(fname), "%s_FILE", name);
	v = getenv(name);
	f = getenv(fname);
	if (v != NULL && *v != '\0' && f != NULL && *f != '\0')
		return fail(why, size, "%s and %s are both set: set one", name, fname);
	if (v != NULL && *v != '\0') {
		if (text_copy(out, outsize, v) != TERR_OK)
			return fail(why, size, "%s: longer than %zu bytes", name, outsize - 1);
		return TERR_OK;
	}
	if (f == NULL || *f == '\0')
		return TERR_OK;
	/* Room for the secret and one line ending, which is not part of it. */
	buf_init(&b, outsize + 1);
	if ((rc = read_file(f, &b, why, size)) != TERR_OK) {
		wipe(b.p, b.cap);
		buf_release(&b);
		return rc == TERR_TOOBIG ? fail(why, size, "%s: secret file too large", fname) : rc;
	}
	if (b.len > 0 && b.p[b.len - 1] == '\n')
		b.len--;
	if (b.len > 0 && b.p[b.len - 1] == '\r')
		b.len--;
	if (b.len >= outsize) {
		wipe(b.p, b.cap);
		buf_release(&b);
		return fail(why, size, "%s: secret file too large", fname);
	}
	text_copyn(out, outsize, buf_cstr(&b), b.len);
	wipe(b.p, b.cap);
	buf_release(&b);
	return TERR_OK;
}

/* Split "a,b" into up to SECRETS_MAX secrets (rotation: old and new at once). */
static enum terr
split_secrets(const char *name, const char *all, char out[][SECRET_MAX], size_t *n, char *why,
    size_t size)
{
	const char *p = all, *comma;
	size_t len;

	*n = 0;
	while (*p != '\0') {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (len > 0 && (*p == ' ')) {
			p++;
			len--;
		}
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len > 0) {
			if (*n == SECRETS_MAX)
				return fail(why, size, "%s: more than %d secrets", name,
				    SECRETS_MAX);
			text_copyn(out[(*n)++], SECRET_MAX, p, len);
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return TERR_OK;
}

enum terr
cfg_load_env(struct cfg *c, char *why, size_t size)
{
	char secret[SECRET_MAX];
	const char *v;
	enum terr rc;

	cfg_defaults(c);
	if ((v = getenv("TALLY_DB")) != NULL && *v != '\0' &&
	    text_copy(c->db_path, sizeof(c->db_path), v) != TERR_OK)
		return fail(why, size, "TALLY_DB: path too long");
	if ((v = getenv("TALLY_CONFIG")) != NULL && *v != '\0' &&
	    text_copy(c->config_path, sizeof(c->config_path), v) != TERR_OK)
		return fail(why, size, "TALLY_CONFIG: path too long");

	if ((rc = cfg_secret("STRIPE_WEBHOOK_SECRET", secret, sizeof(secret), why, size)) !=
	    TERR_OK)
		return rc;
	rc = split_secrets("STRIPE_WEBHOOK_SECRET", secret, c->stripe.secrets, &c->stripe.nsecrets,
	    why, size);
	wipe(secret, sizeof(secret));
	if (rc != TERR_OK ||
	    (rc = cfg_secret("APPLE_PRIVATE_KEY", c->apple.private_key,
		 sizeof(c->apple.private_key), why, size)) != TERR_OK ||
	    (rc = cfg_secret("REVENUECAT_WEBHOOK_AUTH", c->revenuecat.auth,
		 sizeof(c->revenuecat.auth), why, size)) != TERR_OK ||
	    (rc = cfg_secret("REVENUECAT_API_KEY", c->revenuecat.api_key,
		 sizeof(c->revenuecat.api_key), why, size)) != TERR_OK)
		return rc;
	return TERR_OK;
}

enum terr
cfg_load(struct cfg *c, char *why, size_t size)
{
	struct buf b;
	enum terr rc;

	if ((rc = cfg_load_env(c, why, size)) != TERR_OK)
		return rc;
	buf_init(&b, CONFIG_MAX);
	if ((rc = read_file(c->config_path, &b, why, size)) != TERR_OK) {
		char inner[256];
		snprintf(inner, sizeof(inner), "%s", why);
		snprintf(why, size, "TALLY_CONFIG: cannot read the config file: %s", inner);
		buf_release(&b);
		return TERR_CONFIG;
	}
	rc = cfg_parse(c, buf_cstr(&b), b.len, why, size);
	buf_release(&b);
	return rc;
}

const struct product *
cfg_match(const struct cfg *c, const char *provider, const char *ext_id)
{
	size_t i, j;

	for (i = 0; i < c->nproducts; i++)
		for (j = 0; j < c->products[i].nmatch; j++)
			if (strcmp(c->products[i].match[j].id, ext_id) == 0 &&
			    strcmp(c->products[i].match[j].provider, provider) == 0)
				return &c->products[i];
	return NULL;
}

const struct product *
cfg_product(const struct cfg *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->nproducts; i++)
		if (strcmp(c->products[i].id, id) == 0)
			return &c->products[i];
	return NULL;
}

const char *
product_kind_str(enum product_kind k)
{
	return k == PRODUCT_PACK ? "pack" : "subscription";
}
