#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "crypto/x5c.h"

#define CACHE_SIZE 32
/* One base64 certificate in x5c: Apple's are ~1.5 KB; 16 KB is generous. */
#define CERT_MAX   (16 * 1024)

struct chain_entry {
	unsigned char key[2 * SHA256_LEN]; /* fingerprints of leaf and intermediate */
	EVP_PKEY *pkey;                    /* the leaf's public key */
	int64_t valid_from, valid_until;   /* ms: every certificate of the chain valid inside */
	int used;
};

struct x5c_verifier {
	X509_STORE *store;
	ASN1_OBJECT *leaf_oid, *inter_oid;
	pthread_mutex_t mu;
	struct chain_entry cache[CACHE_SIZE];
	size_t next; /* the entry replaced next (round robin) */
	int64_t full, cached;
};

static X509 *
der_to_x509(struct x5c_cert c)
{
	const unsigned char *p = c.der;

	if (c.len == 0 || c.len > CERT_MAX)
		return NULL;
	return d2i_X509(NULL, &p, (long)c.len);
}

enum terr
x5c_verifier_new(struct x5c_verifier **out, const struct x5c_cert *roots, size_t n,
    const char *leaf_oid, const char *inter_oid)
{
	struct x5c_verifier *v;
	size_t i;
	X509 *x;

	*out = NULL;
	if (n == 0)
		return TERR_INVAL;
	/*
	 * Certificate signatures find their digest by NID in the table that
	 * crypto_init leaves empty (a lean start): add the ones ECDSA
	 * certificates use (Apple's chain: SHA-384 and SHA-256).
	 */
	EVP_add_digest(EVP_sha256());
	EVP_add_digest(EVP_sha384());
	EVP_add_digest(EVP_sha512());
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	pthread_mutex_init(&v->mu, NULL);
	if ((v->store = X509_STORE_new()) == NULL ||
	    (v->leaf_oid = OBJ_txt2obj(leaf_oid, 1)) == NULL ||
	    (v->inter_oid = OBJ_txt2obj(inter_oid, 1)) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		if ((x = der_to_x509(roots[i])) == NULL)
			goto fail;
		if (!X509_STORE_add_cert(v->store, x)) {
			X509_free(x);
			goto fail;
		}
		X509_free(x);
	}
	*out = v;
	return TERR_OK;
fail:
	x5c_verifier_free(v);
	return TERR_INVAL;
}

void
x5c_verifier_free(struct x5c_verifier *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < CACHE_SIZE; i++)
		EVP_PKEY_free(v->cache[i].pkey);
	X509_STORE_free(v->store);
	ASN1_OBJECT_free(v->leaf_oid);
	ASN1_OBJECT_free(v->inter_oid);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

void
x5c_stats(struct x5c_verifier *v, int64_t *full, int64_t *cached)
{
	pthread_mutex_lock(&v->mu);
	*full = v->full;
	*cached = v->cached;
	pthread_mutex_unlock(&v->mu);
}

/* ASN1_TIME to ms since the epoch. */
static int64_t
asn1_ms(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

/* The full walk: build and verify the chain at time at; fill e on success. */
static enum terr
verify_full(struct x5c_verifier *v, X509 *leaf, X509 *inter, int64_t at, struct chain_entry *e,
    const char **why)
{
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL, *chain;
	X509_VERIFY_PARAM *param;
	EVP_PKEY *pk;
	int64_t from = INT64_MIN, until = INT64_MAX, nb, na;
	int i, err;
	enum terr rc = TERR_AUTH;

	/* Apple's marker extensions: presence is what the libraries check. */
	if (X509_get_ext_by_OBJ(leaf, v->leaf_oid, -1) < 0) {
		*why = "leaf certificate lacks the required marker extension";
		return TERR_AUTH;
	}
	if (X509_get_ext_by_OBJ(inter, v->inter_oid, -1) < 0) {
		*why = "intermediate certificate lacks the required marker extension";
		return TERR_AUTH;
	}
	if ((untrusted = sk_X509_new_null()) == NULL || !sk_X509_push(untrusted, inter) ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, v->store, leaf, untrusted)) {
		*why = "out of memory verifying the certificate chain";
		rc = TERR_NOMEM;
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	/*
	 * OpenSSL's default checks (signatures, validity, CA constraints, names),
	 * not X509_V_FLAG_X509_STRICT: OpenSSL 3 then also demands an Authority
	 * Key Identifier, which Apple's own test chain lacks and Apple's Node
	 * library accepts. The effective date is the signed data's own (Apple,
	 * online checks off).
	 */
	X509_VERIFY_PARAM_set_time(param, (time_t)(at / 1000));
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID) {
			*why = "certificate chain not valid at the signed date";
			rc = TERR_STALE;
		} else {
			static _Thread_local char msg[160];
			snprintf(msg, sizeof(msg), "certificate chain does not verify: %s",
			    X509_verify_cert_error_string(err));
			*why = msg;
		}
		goto out;
	}
	/* Leaf, intermediate, root: nothing longer (x5c's third certificate is never trusted). */
	chain = X509_STORE_CTX_get0_chain(ctx);
	if (sk_X509_num(chain) != 3) {
		*why = "certificate chain is not leaf, intermediate, root";
		goto out;
	}
	for (i = 0; i < 3; i++) {
		X509 *c = sk_X509_value(chain, i);
		nb = asn1_ms(X509_get0_notBefore(c));
		na = asn1_ms(X509_get0_notAfter(c));
		if (nb > from)
			from = nb;
		if (na < until)
			until = na;
	}
	if ((pk = X509_get_pubkey(leaf)) == NULL) {
		*why = "leaf certificate without a public key";
		goto out;
	}
	if (!EVP_PKEY_is_a(pk, "EC") || EVP_PKEY_get_bits(pk) != 256) {
		EVP_PKEY_free(pk);
		*why = "leaf key is not P-256, as ES256 requires";
		goto out;
	}
	e->pkey = pk;
	e->valid_from = from;
	e->valid_until = until;
	rc = TERR_OK;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	return rc;
}

/* The leaf's key of a chain verified before under key, valid at at; 0 when none. */
static int
cache_hit(struct x5c_verifier *v, const unsigned char key[2 * SHA256_LEN], int64_t at, void **pkey)
{
	size_t i;

	pthread_mutex_lock(&v->mu);
	for (i = 0; i < CACHE_SIZE; i++) {
		struct chain_entry *c = &v->cache[i];
		if (c->used && memcmp(c->key, key, 2 * SHA256_LEN) == 0 && at >= c->valid_from &&
		    at <= c->valid_until) {
			EVP_PKEY_up_ref(c->pkey);
			*pkey = c->pkey;
			v->cached++;
			pthread_mutex_unlock(&v->mu);
			return 1;
		}
	}
	pthread_mutex_unlock(&v->mu);
	return 0;
}

/* Verify the chain in full and remember it under key (the fingerprints it is found by). */
static enum terr
verify_keyed(struct x5c_verifier *v, const unsigned char key[2 * SHA256_LEN], struct x5c_cert leaf,
    struct x5c_cert inter, int64_t at, void **pkey, const char **why)
{
	struct chain_entry fresh, *slot;
	X509 *lx = NULL, *ix = NULL;
	enum terr rc;

	if ((lx = der_to_x509(leaf)) == NULL || (ix = der_to_x509(inter)) == NULL) {
		*why = "unreadable certificate in x5c";
		rc = TERR_AUTH;
		goto out;
	}
	memset(&fresh, 0, sizeof(fresh));
	if ((rc = verify_full(v, lx, ix, at, &fresh, why)) != TERR_OK)
		goto out;
	memcpy(fresh.key, key, 2 * SHA256_LEN);
	fresh.used = 1;
	EVP_PKEY_up_ref(fresh.pkey);
	*pkey = fresh.pkey;
	pthread_mutex_lock(&v->mu);
	v->full++;
	slot = &v->cache[v->next];
	v->next = (v->next + 1) % CACHE_SIZE;
	EVP_PKEY_free(slot->pkey);
	*slot = fresh;
	pthread_mutex_unlock(&v->mu);
out:
	X509_free(lx);
	X509_free(ix);
	return rc;
}

enum terr
x5c_verify_chain(struct x5c_verifier *v, struct x5c_cert leaf, struct x5c_cert inter, int64_t at,
    void **pkey, const char **why)
{
	unsigned char key[2 * SHA256_LEN];

	*pkey = NULL;
	crypto_sha256(leaf.der, leaf.len, key);
	crypto_sha256(inter.der, inter.len, key + SHA256_LEN);
	if (cache_hit(v, key, at, pkey))
		return TERR_OK;
	return verify_keyed(v, key, leaf, inter, at, pkey, why);
}

/* Decode the i-th x5c entry (standard base64 DER, RFC 7515 4.1.6) into out. */
static enum terr
x5c_entry(const cJSON *x5c, int i, struct buf *out)
{
	const cJSON *c = cJSON_GetArrayItem(x5c, i);
	size_t len, n;
	char *dst;

	if (!cJSON_IsString(c))
		return TERR_INVAL;
	n = strlen(c->valuestring);
	buf_reset(out);
	if (n == 0 || n > CERT_MAX * 2 || (dst = buf_reserve(out, n)) == NULL)
		return TERR_INVAL;
	if (text_b64dec(c->valuestring, n, 0, (unsigned char *)dst, n, &len) != TERR_OK)
		return TERR_INVAL;
	buf_commit(out, len);
	return TERR_OK;
}

enum terr
x5c_verify_jws(struct x5c_verifier *v, const char *jws, size_t n, const char *date_field,
    int64_t now, struct buf *payload, const char **why)
{
	struct jose_parts parts;
	struct buf hbuf, lbuf, ibuf;
	struct x5c_cert leaf, inter;
	unsigned char sig[72];
	size_t siglen;
	cJSON *hdr = NULL, *pl = NULL;
	const cJSON *x5c, *l64, *i64;
	const char *alg, *jwhy;
	unsigned char key[2 * SHA256_LEN];
	void *pkey = NULL;
	int64_t at = now;
	enum terr rc = TERR_INVAL;

	buf_init(&hbuf, 64 * 1024);
	buf_init(&lbuf, CERT_MAX);
	buf_init(&ibuf, CERT_MAX);
	*why = "malformed JWS";
	if (jose_split(jws, n, &parts) != TERR_OK ||
	    jose_decode(parts.header, parts.header_len, &hbuf) != TERR_OK ||
	    json_parse(hbuf.p, hbuf.len, 4, &hdr, &jwhy) != TERR_OK || !cJSON_IsObject(hdr))
		goto out;
	/* The algorithm is pinned: none, HS256, RS256 ... are refused before any key is used. */
	alg = jstr(hdr, "alg");
	if (alg == NULL || strcmp(alg, "ES256") != 0) {
		*why = "JWS algorithm is not ES256";
		rc = TERR_AUTH;
		goto out;
	}
	x5c = jarr(hdr, "x5c");
	if (x5c == NULL || cJSON_GetArraySize(x5c) != 3) {
		*why = "JWS x5c header is missing or does not hold three certificates";
		rc = TERR_AUTH;
		goto out;
	}
	l64 = cJSON_GetArrayItem(x5c, 0);
	i64 = cJSON_GetArrayItem(x5c, 1);
	if (!cJSON_IsString(l64) || !cJSON_IsString(i64) ||
	    !cJSON_IsString(cJSON_GetArrayItem(x5c, 2))) {
		*why = "malformed certificate in x5c";
		rc = TERR_AUTH;
		goto out;
	}
	if (jose_decode(parts.payload, parts.payload_len, payload) != TERR_OK ||
	    json_parse(payload->p, payload->len, JSON_DEPTH_MAX, &pl, &jwhy) != TERR_OK ||
	    !cJSON_IsObject(pl)) {
		*why = "malformed JWS payload";
		goto out;
	}
	if (date_field != NULL && jget(pl, date_field) != NULL &&
	    (jint(pl, date_field, &at) != 1 || at <= 0)) {
		*why = "malformed signed date";
		goto out;
	}
	/*
	 * A chain seen before is found by the fingerprints of the certificates'
	 * text as sent, without decoding them again; a new one is decoded and
	 * verified in full, then remembered under the same fingerprints.
	 */
	crypto_sha256(l64->valuestring, strlen(l64->valuestring), key);
	crypto_sha256(i64->valuestring, strlen(i64->valuestring), key + SHA256_LEN);
	if (!cache_hit(v, key, at, &pkey)) {
		if (x5c_entry(x5c, 0, &lbuf) != TERR_OK || x5c_entry(x5c, 1, &ibuf) != TERR_OK ||
		    x5c_entry(x5c, 2, &hbuf) != TERR_OK) {
			/* Credentials that cannot be read are credentials that do not verify. */
			*why = "malformed certificate in x5c";
			rc = TERR_AUTH;
			goto out;
		}
		leaf.der = (const unsigned char *)lbuf.p;
		leaf.len = lbuf.len;
		inter.der = (const unsigned char *)ibuf.p;
		inter.len = ibuf.len;
		if ((rc = verify_keyed(v, key, leaf, inter, at, &pkey, why)) != TERR_OK)
			goto out;
	}
	if (text_b64dec(parts.sig, parts.sig_len, 1, sig, sizeof(sig), &siglen) != TERR_OK ||
	    jose_es256_verify(pkey, jws, parts.signing_len, sig, siglen) != TERR_OK) {
		*why = "JWS signature does not verify";
		rc = TERR_AUTH;
		goto out;
	}
	*why = NULL;
	rc = TERR_OK;
out:
	jose_key_free(pkey);
	cJSON_Delete(hdr);
	cJSON_Delete(pl);
	buf_release(&hbuf);
	buf_release(&lbuf);
	buf_release(&ibuf);
	return rc;
}

enum terr
x5c_read_file(const char *path, struct buf *out)
{
	BIO *bio;
	X509 *x = NULL;
	unsigned char *der = NULL;
	int len;
	enum terr rc = TERR_INVAL;

	if ((bio = BIO_new_file(path, "rb")) == NULL)
		return TERR_IO;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (x == NULL) {
		BIO_reset(bio);
		x = d2i_X509_bio(bio, NULL);
	}
	BIO_free(bio);
	if (x != NULL && (len = i2d_X509(x, &der)) > 0) {
		buf_append(out, der, (size_t)len);
		rc = out->err;
	}
	OPENSSL_free(der);
	X509_free(x);
	return rc;
}
