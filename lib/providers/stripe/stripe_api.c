#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "http/httpc.h"
#include "providers/stripe/stripe_api.h"

const char *
stripe_price_of(const struct product *p)
{
	size_t i;

	if (p->stripe_price[0] != '\0')
		return p->stripe_price;
	for (i = 0; i < p->nmatch; i++)
		if (strcmp(p->match[i].provider, "stripe") == 0)
			return p->match[i].id;
	return NULL;
}

/* key=value& (value percent-encoded). */
static void
form(struct buf *b, const char *key, const char *value)
{
	if (b->len > 0)
		buf_putc(b, '&');
	httpc_escape(b, key);
	buf_putc(b, '=');
	httpc_escape(b, value);
}

/* POST form to path; a 200's id and url into out. */
static enum terr
post(const struct cfg *c, const char *path, const struct buf *body, struct stripe_session *out,
    char *why, size_t whysize)
{
	struct httpc_req req;
	struct httpc_resp r;
	struct buf url, auth;
	const char *headers[3], *jwhy, *msg;
	cJSON *root = NULL;
	enum terr rc;

	if (c->stripe.api_key[0] == '\0') {
		snprintf(why, whysize, "STRIPE_API_KEY is not set");
		return TERR_CONFIG;
	}
	buf_init(&url, URL_MAX * 2);
	buf_init(&auth, SECRET_MAX + 32);
	httpc_resp_init(&r, 256 * 1024);
	buf_printf(&url, "%s%s", c->stripe.api_base, path);
	buf_printf(&auth, "Authorization: Bearer %s", c->stripe.api_key);
	headers[0] = buf_cstr(&auth);
	headers[1] = "Content-Type: application/x-www-form-urlencoded";
	headers[2] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = buf_cstr(&url);
	req.headers = headers;
	req.body = buf_cstr(body);
	req.body_len = body->len;
	if ((rc = httpc_do(&c->http, &req, &r, why, whysize)) != TERR_OK) {
		char inner[200];
		text_copy(inner, sizeof(inner), why);
		snprintf(why, whysize, "Stripe did not answer: %s", inner);
		rc = TERR_IO;
		goto out;
	}
	if (json_parse(r.body.p, r.body.len, 16, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "Stripe answered %ld with a body that is not JSON",
		    r.status);
		rc = TERR_IO;
		goto out;
	}
	if (r.status != 200) {
		msg = jstr(jobj(root, "error"), "message");
		snprintf(why, whysize, "Stripe answered %ld: %.200s", r.status,
		    msg != NULL ? msg : "(no message)");
		rc = r.status == 429 || r.status >= 500 ? TERR_IO : TERR_INVAL;
		goto out;
	}
	if (jstr(root, "id") == NULL || jstr(root, "url") == NULL ||
	    text_copy(out->id, sizeof(out->id), jstr(root, "id")) != TERR_OK ||
	    text_copy(out->url, sizeof(out->url), jstr(root, "url")) != TERR_OK) {
		snprintf(why, whysize, "Stripe's answer has no session id or url");
		rc = TERR_IO;
		goto out;
	}
	rc = TERR_OK;
out:
	cJSON_Delete(root);
	httpc_resp_release(&r);
	crypto_wipe(auth.p, auth.cap);
	buf_release(&auth);
	buf_release(&url);
	return rc;
}

enum terr
stripe_checkout_session(const struct cfg *c, const char *user, const struct product *p,
    const char *customer, struct stripe_session *out, char *why, size_t whysize)
{
	const char *price = stripe_price_of(p);
	struct buf b;
	char key[CFG_NAME_MAX + 32];
	enum terr rc;

	if (price == NULL) {
		snprintf(why, whysize,
		    "product %s has no Stripe price (stripe_price or match.stripe)", p->id);
		return TERR_CONFIG;
	}
	if (c->checkout.success_url[0] == '\0' || c->checkout.cancel_url[0] == '\0') {
		snprintf(why, whysize, "checkout.success_url and checkout.cancel_url are not set");
		return TERR_CONFIG;
	}
	out->subscription = p->kind == PRODUCT_SUBSCRIPTION;
	buf_init(&b, 8192);
	form(&b, "mode", out->subscription ? "subscription" : "payment");
	form(&b, "line_items[0][price]", price);
	form(&b, "line_items[0][quantity]", "1");
	form(&b, "success_url", c->checkout.success_url);
	form(&b, "cancel_url", c->checkout.cancel_url);
	form(&b, "client_reference_id", user);
	snprintf(key, sizeof(key), "metadata[%s]", c->stripe.user_key);
	form(&b, key, user);
	snprintf(key, sizeof(key), "metadata[%s]", c->stripe.product_key);
	form(&b, key, p->id);
	if (p->kind == PRODUCT_SUBSCRIPTION) {
		snprintf(key, sizeof(key), "subscription_data[metadata][%s]", c->stripe.user_key);
		form(&b, key, user);
	} else {
		snprintf(key, sizeof(key), "payment_intent_data[metadata][%s]", c->stripe.user_key);
		form(&b, key, user);
	}
	if (customer != NULL && customer[0] != '\0')
		form(&b, "customer", customer);
	rc = b.err != TERR_OK ? b.err : post(c, "/v1/checkout/sessions", &b, out, why, whysize);
	buf_release(&b);
	return rc;
}

enum terr
stripe_portal_session(const struct cfg *c, const char *customer, struct stripe_session *out,
    char *why, size_t whysize)
{
	struct buf b;
	enum terr rc;

	if (c->checkout.portal_return_url[0] == '\0') {
		snprintf(why, whysize, "checkout.portal_return_url is not set");
		return TERR_CONFIG;
	}
	out->subscription = 0;
	buf_init(&b, 2048);
	form(&b, "customer", customer);
	form(&b, "return_url", c->checkout.portal_return_url);
	rc = b.err != TERR_OK ? b.err
			      : post(c, "/v1/billing_portal/sessions", &b, out, why, whysize);
	buf_release(&b);
	return rc;
}
