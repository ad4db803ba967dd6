/*
 * lib/providers/stripe/stripe.h stripe_verify. The expected signatures are computed here,
 * independently of lib/crypto/crypto.c, with OpenSSL's one-shot HMAC() exactly as
 * Stripe documents it (docs.stripe.com/webhooks#verify-manually): lowercase
 * hex HMAC-SHA256, keyed with the secret string ("whsec_" included), of
 * "<t>.<raw body>".
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/tally_limits.h"
#include "providers/stripe/stripe.h"
#include "t.h"

#define NOW_MS 1700000000000LL
#define NOW_S  1700000000LL
#define TOL_MS 300000LL

static const char body[] = "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"invoice.paid\"}";
static const char secret[] = "whsec_test_secret_one";
static const char secret2[] = "whsec_test_secret_two";

/* hex[65] = lowercase hex HMAC-SHA256(key, "<t>.<body>"). */
static void
sign(const char *key, long long t, const char *msg, size_t n, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char signed_payload[4096];
	int len;
	unsigned int i;

	len = snprintf(signed_payload, sizeof(signed_payload), "%lld.", t);
	memcpy(signed_payload + len, msg, n);
	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)signed_payload,
	    (size_t)len + n, md, &mdlen);
	for (i = 0; i < mdlen && i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * i] = '\0';
}

/* A verifier with the given secrets (none when n == 0). 1 on success. */
static int
verifier(struct stripe_verifier *v, const char *const *secrets, size_t n)
{
	struct cfg_stripe cs;
	size_t i;

	memset(&cs, 0, sizeof(cs));
	for (i = 0; i < n; i++)
		snprintf(cs.secrets[i], sizeof(cs.secrets[i]), "%s", secrets[i]);
	cs.nsecrets = n;
	cs.tolerance = TOL_MS;
	return stripe_verifier_init(v, &cs) == TERR_OK;
}

/* Verify header over body at NOW_MS with one configured secret. */
static enum terr
verify1(const char *header, const char *msg, size_t n)
{
	static const char *const one[] = { secret };
	struct stripe_verifier v;
	const char *why = NULL;
	enum terr rc;

	if (!verifier(&v, one, 1))
		return TERR_INTERNAL;
	rc = stripe_verify(&v, header, msg, n, NOW_MS, &why);
	stripe_verifier_release(&v);
	if (rc != TERR_OK && why == NULL)
		return TERR_INTERNAL; /* every failure must say why */
	return rc;
}

/* "t=<t>,v1=<sig of body at t by key>" */
static void
header_for(char *out, size_t size, const char *key, long long t)
{
	char hex[65];

	sign(key, t, body, sizeof(body) - 1, hex);
	snprintf(out, size, "t=%lld,v1=%s", t, hex);
}

TEST(stripe_sig_accepts_valid_signature)
{
	char h[256];

	header_for(h, sizeof(h), secret, NOW_S);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_OK);
}

TEST(stripe_sig_accepts_valid_among_several_v1)
{
	char h[512], good[65], other[65];

	sign(secret, NOW_S, body, sizeof(body) - 1, good);
	sign(secret2, NOW_S, body, sizeof(body) - 1, other);
	snprintf(h, sizeof(h), "t=%lld,v1=%s,v1=%s,v0=%s", NOW_S, other, good, other);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_OK);
}

TEST(stripe_sig_accepts_second_configured_secret)
{
	static const char *const two[] = { secret2, secret };
	struct stripe_verifier v;
	const char *why = NULL;
	char h[256];
	enum terr rc;

	CHECK(verifier(&v, two, 2));
	header_for(h, sizeof(h), secret, NOW_S);
	rc = stripe_verify(&v, h, body, sizeof(body) - 1, NOW_MS, &why);
	stripe_verifier_release(&v);
	CHECK_EQ(rc, TERR_OK);
}

TEST(stripe_sig_accepts_first_configured_secret_during_rotation)
{
	static const char *const two[] = { secret2, secret };
	struct stripe_verifier v;
	const char *why = NULL;
	char h[256];
	enum terr rc;

	CHECK(verifier(&v, two, 2));
	header_for(h, sizeof(h), secret2, NOW_S);
	rc = stripe_verify(&v, h, body, sizeof(body) - 1, NOW_MS, &why);
	stripe_verifier_release(&v);
	CHECK_EQ(rc, TERR_OK);
}

TEST(stripe_sig_accepts_empty_body)
{
	char h[256], hex[65];

	sign(secret, NOW_S, "", 0, hex);
	snprintf(h, sizeof(h), "t=%lld,v1=%s", NOW_S, hex);
	CHECK_EQ(verify1(h, "", 0), TERR_OK);
}

TEST(stripe_sig_rejects_v0_only)
{
	char h[256], hex[65];

	/* A correct HMAC under the v0 scheme name must not count (downgrade). */
	sign(secret, NOW_S, body, sizeof(body) - 1, hex);
	snprintf(h, sizeof(h), "t=%lld,v0=%s", NOW_S, hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_AUTH);
}

TEST(stripe_sig_rejects_missing_header)
{
	CHECK_EQ(verify1(NULL, body, sizeof(body) - 1), TERR_AUTH);
}

TEST(stripe_sig_rejects_empty_header)
{
	CHECK_EQ(verify1("", body, sizeof(body) - 1), TERR_AUTH);
}

TEST(stripe_sig_rejects_tampered_body)
{
	char h[256], tampered[sizeof(body)];

	header_for(h, sizeof(h), secret, NOW_S);
	memcpy(tampered, body, sizeof(body));
	tampered[11] ^= 1; /* "evt_1" becomes "evt_0" */
	CHECK_EQ(verify1(h, tampered, sizeof(body) - 1), TERR_AUTH);
}

TEST(stripe_sig_rejects_body_with_extra_trailing_byte)
{
	char h[256], longer[sizeof(body) + 1];

	header_for(h, sizeof(h), secret, NOW_S);
	memcpy(longer, body, sizeof(body) - 1);
	longer[sizeof(body) - 1] = '\n';
	longer[sizeof(body)] = '\0';
	CHECK_EQ(verify1(h, longer, sizeof(body)), TERR_AUTH);
}

TEST(stripe_sig_rejects_truncated_body)
{
	char h[256];

	header_for(h, sizeof(h), secret, NOW_S);
	CHECK_EQ(verify1(h, body, sizeof(body) - 2), TERR_AUTH);
}

TEST(stripe_sig_rejects_signature_by_another_secret)
{
	char h[256];

	header_for(h, sizeof(h), secret2, NOW_S);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_AUTH);
}

TEST(stripe_sig_rejects_signature_for_another_timestamp)
{
	char h[256], hex[65];

	/* Signed at t-1 but the header claims t: the timestamp is covered by the MAC. */
	sign(secret, NOW_S - 1, body, sizeof(body) - 1, hex);
	snprintf(h, sizeof(h), "t=%lld,v1=%s", NOW_S, hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_AUTH);
}

TEST(stripe_sig_rejects_stale_timestamp)
{
	char h[256];

	header_for(h, sizeof(h), secret, NOW_S - TOL_MS / 1000 - 1);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_STALE);
}

TEST(stripe_sig_accepts_timestamp_at_tolerance_edge)
{
	char h[256];

	header_for(h, sizeof(h), secret, NOW_S - TOL_MS / 1000);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_OK);
	header_for(h, sizeof(h), secret, NOW_S + TOL_MS / 1000);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_OK);
}

TEST(stripe_sig_rejects_future_timestamp)
{
	char h[256];

	header_for(h, sizeof(h), secret, NOW_S + TOL_MS / 1000 + 1);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_STALE);
}

TEST(stripe_sig_forged_stale_reports_auth_not_stale)
{
	char h[256];

	header_for(h, sizeof(h), secret2, NOW_S - 3600);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_AUTH);
}

TEST(stripe_sig_rejects_item_without_equals)
{
	char h[256], hex[65];

	sign(secret, NOW_S, body, sizeof(body) - 1, hex);
	snprintf(h, sizeof(h), "t=%lld,v1=%s,garbage", NOW_S, hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_INVAL);
}

TEST(stripe_sig_rejects_non_numeric_timestamp)
{
	char h[256], hex[65];

	sign(secret, NOW_S, body, sizeof(body) - 1, hex);
	snprintf(h, sizeof(h), "t=17OOOOOOOO,v1=%s", hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_INVAL);
	snprintf(h, sizeof(h), "t=,v1=%s", hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_INVAL);
	snprintf(h, sizeof(h), "t=-1,v1=%s", hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_INVAL);
	snprintf(h, sizeof(h), "t=%lld.5,v1=%s", NOW_S, hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_INVAL);
}

TEST(stripe_sig_rejects_overflowing_timestamp)
{
	char h[256], hex[65];

	sign(secret, NOW_S, body, sizeof(body) - 1, hex);
	snprintf(h, sizeof(h), "t=99999999999999999999,v1=%s", hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_INVAL);
}

TEST(stripe_sig_rejects_two_timestamps)
{
	char h[256], hex[65];

	sign(secret, NOW_S, body, sizeof(body) - 1, hex);
	snprintf(h, sizeof(h), "t=%lld,t=%lld,v1=%s", NOW_S, NOW_S, hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_INVAL);
}

TEST(stripe_sig_rejects_missing_timestamp)
{
	char h[256], hex[65];

	sign(secret, NOW_S, body, sizeof(body) - 1, hex);
	snprintf(h, sizeof(h), "v1=%s", hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_INVAL);
}

TEST(stripe_sig_ignores_v1_of_wrong_length)
{
	char h[256], hex[65];

	sign(secret, NOW_S, body, sizeof(body) - 1, hex);
	hex[62] = '\0'; /* a valid prefix, one byte short */
	snprintf(h, sizeof(h), "t=%lld,v1=%s", NOW_S, hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_AUTH);
}

TEST(stripe_sig_ignores_overlong_v1)
{
	char h[256], hex[65];

	sign(secret, NOW_S, body, sizeof(body) - 1, hex);
	snprintf(h, sizeof(h), "t=%lld,v1=%s00", NOW_S, hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_AUTH);
}

TEST(stripe_sig_ignores_non_hex_v1)
{
	char h[256];

	snprintf(h, sizeof(h), "t=%lld,v1=%064d", NOW_S, 0);
	h[strlen(h) - 1] = 'g';
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_AUTH);
}

TEST(stripe_sig_bad_v1_next_to_good_one_is_ignored)
{
	char h[512], hex[65];

	sign(secret, NOW_S, body, sizeof(body) - 1, hex);
	snprintf(h, sizeof(h), "t=%lld,v1=zz,v1=%s", NOW_S, hex);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_OK);
}

/* A valid header padded with v0 items to exactly len bytes. */
static void
padded_header(char *out, size_t len)
{
	size_t n;

	header_for(out, len + 1, secret, NOW_S);
	n = strlen(out);
	while (n < len) {
		size_t room = len - n;
		if (room >= 5) {
			memcpy(out + n, ",v0=x", 5);
			n += 5;
		} else {
			memset(out + n, 'x', room); /* extends the last v0 value */
			n += room;
		}
	}
	out[n] = '\0';
}

TEST(stripe_sig_accepts_header_of_header_max)
{
	static char h[HEADER_MAX + 1];

	padded_header(h, HEADER_MAX);
	CHECK_EQ(strlen(h), HEADER_MAX);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_OK);
}

TEST(stripe_sig_rejects_header_longer_than_header_max)
{
	static char h[HEADER_MAX + 2];

	padded_header(h, HEADER_MAX + 1);
	CHECK_EQ(strlen(h), HEADER_MAX + 1);
	CHECK_EQ(verify1(h, body, sizeof(body) - 1), TERR_INVAL);
}

TEST(stripe_sig_no_secret_configured_is_config_error)
{
	struct stripe_verifier v;
	const char *why = NULL;
	char h[256];
	enum terr rc;

	CHECK(verifier(&v, NULL, 0));
	CHECK_EQ(v.n, 0);
	header_for(h, sizeof(h), secret, NOW_S);
	rc = stripe_verify(&v, h, body, sizeof(body) - 1, NOW_MS, &why);
	stripe_verifier_release(&v);
	CHECK_EQ(rc, TERR_CONFIG);
}

TEST(stripe_sig_release_leaves_no_keys)
{
	static const char *const one[] = { secret };
	struct stripe_verifier v;

	CHECK(verifier(&v, one, 1));
	CHECK_EQ(v.n, 1);
	stripe_verifier_release(&v);
	CHECK_EQ(v.n, 0);
}

int
main(void)
{
	RUN(stripe_sig_accepts_valid_signature);
	RUN(stripe_sig_accepts_valid_among_several_v1);
	RUN(stripe_sig_accepts_second_configured_secret);
	RUN(stripe_sig_accepts_first_configured_secret_during_rotation);
	RUN(stripe_sig_accepts_empty_body);
	RUN(stripe_sig_rejects_v0_only);
	RUN(stripe_sig_rejects_missing_header);
	RUN(stripe_sig_rejects_empty_header);
	RUN(stripe_sig_rejects_tampered_body);
	RUN(stripe_sig_rejects_body_with_extra_trailing_byte);
	RUN(stripe_sig_rejects_truncated_body);
	RUN(stripe_sig_rejects_signature_by_another_secret);
	RUN(stripe_sig_rejects_signature_for_another_timestamp);
	RUN(stripe_sig_rejects_stale_timestamp);
	RUN(stripe_sig_accepts_timestamp_at_tolerance_edge);
	RUN(stripe_sig_rejects_future_timestamp);
	RUN(stripe_sig_forged_stale_reports_auth_not_stale);
	RUN(stripe_sig_rejects_item_without_equals);
	RUN(stripe_sig_rejects_non_numeric_timestamp);
	RUN(stripe_sig_rejects_overflowing_timestamp);
	RUN(stripe_sig_rejects_two_timestamps);
	RUN(stripe_sig_rejects_missing_timestamp);
	RUN(stripe_sig_ignores_v1_of_wrong_length);
	RUN(stripe_sig_ignores_overlong_v1);
	RUN(stripe_sig_ignores_non_hex_v1);
	RUN(stripe_sig_bad_v1_next_to_good_one_is_ignored);
	RUN(stripe_sig_accepts_header_of_header_max);
	RUN(stripe_sig_rejects_header_longer_than_header_max);
	RUN(stripe_sig_no_secret_configured_is_config_error);
	RUN(stripe_sig_release_leaves_no_keys);
	return t_done();
}
