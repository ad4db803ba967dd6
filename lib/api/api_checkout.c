/*
 * The API's checkout routes: POST checkout opens a Stripe Checkout session
 * or the customer portal, or starts a purchase through a direct provider
 * (Razorpay, Telegram, CryptoBot: checkout.h); POST checkout/verify applies
 * Razorpay Checkout's callback like its webhook.
 */
#include <string.h>

#include "api/api_action.h"
#include "api/api_checkout.h"
#include "api/checkout.h"
#include "base/json.h"
#include "base/text.h"
#include "core/op.h"
#include "providers/stripe/stripe_api.h"
#include "store/store_rows.h"

/* A Stripe session: a checkout says whether it is a subscription, as the direct providers' do. */
static void
reply_session(struct api_req *q, const char *provider, const struct stripe_session *ss,
    int checkout)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "provider", provider);
	jw_kstr(&w, "id", ss->id);
	jw_kstr(&w, "url", ss->url);
	if (checkout)
		jw_kbool(&w, "subscription", ss->subscription);
	jw_end(&w);
	buf_putc(&b, '\n');
	http_reply_json(q->r, 200, &b);
	buf_release(&b);
}

/* checkout_ctx.apply: one of tally's own actions through the writer. */
static enum terr
checkout_apply(void *arg, const struct op_action *a, struct apply_result *res)
{
	struct api_req *q = arg;
	char why[256];
	enum terr rc;

	if ((rc = op_event(a, &q->evbody, q->e, why, sizeof(why))) != TERR_OK) {
		memset(res, 0, sizeof(*res));
		res->err = rc;
		return rc;
	}
	svc_apply(q->sv, q->e, res);
	return res->err;
}

static void
checkout_ctx_init(struct api_req *q, struct checkout_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->cfg = q->c;
	x->store = svc_store(q->sv);
	x->source = OP_APP;
	x->who = q->who;
	x->apply = checkout_apply;
	x->arg = q;
}

/* A purchase through a direct provider: tally's order first, then the provider's. */
static void
checkout_direct(struct api_req *q, const char *provider, const char *product)
{
	struct checkout_ctx x;
	struct checkout_result out;
	struct buf b;
	struct jw w;
	char why[256];
	enum terr rc;

	checkout_ctx_init(q, &x);
	rc = checkout_start(&x, provider, q->user, product, q->sv->now, &out, why, sizeof(why));
	if (rc != TERR_OK && out.provider_failed) {
		/* The provider's fault, never the app's request: a gateway error. */
		if (rc == TERR_CONFIG)
			http_error(q->r, 503, "not_configured", why);
		else
			http_error(q->r, 502,
			    rc == TERR_IO         ? "provider_unavailable"
				: rc == TERR_AUTH ? "provider_refused"
						  : "provider_error",
			    why);
		return;
	}
	switch (rc) {
	case TERR_OK: break;
	case TERR_NOTFOUND: http_error(q->r, 400, "unknown_product", why); return;
	case TERR_INVAL: http_error(q->r, 400, "bad_request", why); return;
	case TERR_CONFIG: http_error(q->r, 503, "not_configured", why); return;
	case TERR_CONFLICT: http_error(q->r, 409, "refused", why); return;
	case TERR_IO: http_error(q->r, 502, "provider_unavailable", why); return;
	case TERR_AUTH: http_error(q->r, 502, "provider_refused", why); return;
	default: http_error(q->r, 503, "storage_unavailable", why); return;
	}
	buf_init(&b, 8192);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "provider", out.provider);
	jw_kstr(&w, "order_id", out.order_id);
	jw_kstr(&w, "product", out.product);
	jw_kint(&w, "amount", out.amount);
	jw_kstr(&w, "currency", out.currency);
	jw_ktime(&w, "expires_at", out.expires_at);
	jw_kstr(&w, "provider_ref", out.provider_ref[0] ? out.provider_ref : NULL);
	jw_kbool(&w, "subscription", out.subscription);
	jw_kstr(&w, "url", out.url[0] ? out.url : NULL);
	jw_kstr(&w, "key_id", out.key_id[0] ? out.key_id : NULL);
	jw_end(&w);
	buf_putc(&b, '\n');
	http_reply_json(q->r, 200, &b);
	buf_release(&b);
}

/* Razorpay Checkout's callback: verified with Razorpay, then applied like its webhook. */
void
api_route_checkout_verify(struct api_req *q)
{
	struct checkout_ctx x;
	struct checkout_rzp_callback cb;
	struct checkout_refusal ref;
	const char *provider;
	int bad = 0;
	enum terr rc;

	provider = api_field(q, "provider", PROVIDER_MAX - 1, &bad);
	memset(&cb, 0, sizeof(cb));
	cb.order_id = api_field(q, "razorpay_order_id", ID_MAX - 1, &bad);
	cb.subscription_id = api_field(q, "razorpay_subscription_id", ID_MAX - 1, &bad);
	cb.payment_id = api_field(q, "razorpay_payment_id", ID_MAX - 1, &bad);
	cb.signature = api_field(q, "razorpay_signature", 128, &bad);
	if (bad || provider == NULL || strcmp(provider, "razorpay") != 0) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"provider\": \"razorpay\", \"razorpay_order_id\" or "
		    "\"razorpay_subscription_id\", \"razorpay_payment_id\", "
		    "\"razorpay_signature\"}");
		return;
	}
	checkout_ctx_init(q, &x);
	memset(&ref, 0, sizeof(ref));
	rc = checkout_razorpay_verify(&x, q->user, &cb, q->sv->now, &q->evbody, q->e, &ref);
	if (rc != TERR_OK) {
		http_error(q->r, ref.status != 0 ? ref.status : 503,
		    ref.code != NULL ? ref.code : "storage_unavailable", ref.message);
		return;
	}
	svc_apply(q->sv, q->e, &q->res);
	if (q->res.err != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "not committed; retry");
		return;
	}
	if (q->res.state != INBOX_APPLIED && q->res.state != INBOX_IGNORED) {
		http_error(q->r, 409, "refused", q->res.reason);
		return;
	}
	api_reply_user(q, 200);
}

void
api_route_checkout(struct api_req *q)
{
	const struct product *p = NULL;
	struct stripe_session ss;
	struct store *s;
	char why[256], customer[ID_MAX] = "";
	const char *product, *provider;
	struct link_row links[32];
	size_t n = 0, i;
	int bad = 0, portal = 0;
	enum terr rc;

	product = api_field(q, "product", CFG_NAME_MAX - 1, &bad);
	provider = api_field(q, "provider", PROVIDER_MAX - 1, &bad);
	if (jbool(q->body, "portal", &portal) < 0)
		bad = 1;
	if (bad || provider == NULL || (product == NULL && !portal) ||
	    (product != NULL && (p = cfg_product(q->c, product)) == NULL)) {
		http_error(q->r, 400,
		    product != NULL && !bad && p == NULL ? "unknown_product" : "bad_request",
		    "expected {\"provider\": \"stripe\", \"product\": CATALOG_ID} or "
		    "{\"provider\": "
		    "\"stripe\", \"portal\": true}");
		return;
	}
	if (strcmp(provider, "razorpay") == 0 || strcmp(provider, "telegram") == 0 ||
	    strcmp(provider, "cryptobot") == 0) {
		if (product == NULL) {
			http_error(q->r, 400, "bad_request", "a direct checkout needs a product");
			return;
		}
		if ((s = svc_store(q->sv)) == NULL ||
		    (rc = store_user_exists(s, q->user)) != TERR_OK) {
			http_error(q->r, s == NULL || rc != TERR_NOTFOUND ? 503 : 404,
			    s == NULL || rc != TERR_NOTFOUND ? "storage_unavailable"
							     : "unknown_user",
			    "no such user");
			return;
		}
		checkout_direct(q, provider, product);
		return;
	}
	if (strcmp(provider, "stripe") != 0) {
		http_error(q->r, 400, "unsupported_provider",
		    "checkout through this provider is not available");
		return;
	}
	if ((s = svc_store(q->sv)) == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return;
	}
	if ((rc = store_user_exists(s, q->user)) != TERR_OK) {
		http_error(q->r, rc == TERR_NOTFOUND ? 404 : 503,
		    rc == TERR_NOTFOUND ? "unknown_user" : "storage_unavailable",
		    rc == TERR_NOTFOUND ? "no such user" : "the database cannot be read");
		return;
	}
	/* A Stripe customer already linked to the user: the session (and the portal) use it. */
	if (store_links_of(s, q->user, links, 32, &n) == TERR_OK)
		for (i = 0; i < n; i++)
			if (strcmp(links[i].provider, "stripe") == 0 &&
			    strcmp(links[i].kind, "customer") == 0) {
				text_copy(customer, sizeof(customer), links[i].ext_id);
				break;
			}
	if (portal) {
		if (customer[0] == '\0') {
			http_error(q->r, 409, "no_customer",
			    "the user has no Stripe customer yet: start a checkout first");
			return;
		}
		rc = stripe_portal_session(q->c, customer, &ss, why, sizeof(why));
	} else
		rc = stripe_checkout_session(q->c, q->user, p, customer, &ss, why, sizeof(why));
	if (rc == TERR_CONFIG)
		http_error(q->r, 503, "not_configured", why);
	else if (rc == TERR_IO)
		http_error(q->r, 502, "provider_unavailable", why);
	else if (rc != TERR_OK)
		http_error(q->r, 502, "provider_refused", why);
	else
		reply_session(q, "stripe", &ss, !portal);
}
