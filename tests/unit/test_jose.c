/*
 * lib/crypto/jose.c and base64 of lib/base/text.c: compact JWS splitting, the pinned
 * algorithms, ES256's raw r||s signatures, HS256 in constant time.
 */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/text.h"
#include "crypto/jose.h"
#include "t.h"

/* A P-256 key made fresh for each run. */
static void *
new_key(void)
{
	return EVP_EC_gen("P-256");
}

TEST(b64_round_trips_both_alphabets_and_refuses_garbage)
{
	const unsigned char in[] = { 0xfb, 0xff, 0xbf, 0x00, 0x41 };
	unsigned char out[16];
	char enc[16];
	size_t n, len;

	n = text_b64enc(in, sizeof(in), 1, enc, sizeof(enc));
	CHECK_STR(enc, "-_-_AEE");
	CHECK_EQ(n, 7);
	CHECK(text_b64dec(enc, n, 1, out, sizeof(out), &len) == TERR_OK);
	CHECK_EQ(len, sizeof(in));
	CHECK(memcmp(out, in, len) == 0);
	n = text_b64enc(in, sizeof(in), 0, enc, sizeof(enc));
	CHECK_STR(enc, "+/+/AEE=");
	CHECK(text_b64dec(enc, n, 0, out, sizeof(out), &len) == TERR_OK);
	CHECK_EQ(len, sizeof(in));
	CHECK(
	    text_b64dec("+/+/AEE=", 8, 1, out, sizeof(out), &len) != TERR_OK); /* wrong alphabet */
	CHECK(text_b64dec("-_-_AEE", 7, 0, out, sizeof(out), &len) != TERR_OK);
	CHECK(text_b64dec("QQ=A", 4, 0, out, sizeof(out), &len) != TERR_OK);
	CHECK(text_b64dec("Q", 1, 1, out, sizeof(out), &len) != TERR_OK);
	CHECK(text_b64dec("QUFBQUFBQUFBQUFBQUFBQUFBQUFB", 28, 0, out, 4, &len) != TERR_OK);
}

TEST(split_wants_exactly_three_nonempty_parts)
{
	struct jose_parts p;

	CHECK(jose_split("a.b.c", 5, &p) == TERR_OK);
	CHECK_EQ(p.signing_len, 3);
	CHECK_EQ(p.sig_len, 1);
	CHECK(jose_split("a.b", 3, &p) == TERR_INVAL);
	CHECK(jose_split("a.b.c.d", 7, &p) == TERR_INVAL);
	CHECK(jose_split("a..c", 4, &p) == TERR_INVAL);
	CHECK(jose_split("a.b.", 4, &p) == TERR_INVAL);
	CHECK(jose_split(".b.c", 4, &p) == TERR_INVAL);
}

TEST(es256_signs_raw_r_s_and_verifies_only_the_signed_bytes)
{
	void *k = new_key(), *other = new_key();
	unsigned char sig[64], der[72];
	const char msg[] = "header.payload";

	CHECK(k != NULL && other != NULL);
	CHECK(jose_es256_sign(k, msg, sizeof(msg) - 1, sig) == TERR_OK);
	CHECK(jose_es256_verify(k, msg, sizeof(msg) - 1, sig, 64) == TERR_OK);
	CHECK(jose_es256_verify(other, msg, sizeof(msg) - 1, sig, 64) == TERR_AUTH);
	CHECK(jose_es256_verify(k, "header.payloaX", sizeof(msg) - 1, sig, 64) == TERR_AUTH);
	sig[10] ^= 1;
	CHECK(jose_es256_verify(k, msg, sizeof(msg) - 1, sig, 64) == TERR_AUTH);
	sig[10] ^= 1;
	/* Not 64 bytes (a DER signature, a truncated one): refused, never parsed as DER. */
	memset(der, 0x30, sizeof(der));
	CHECK(jose_es256_verify(k, msg, sizeof(msg) - 1, der, sizeof(der)) == TERR_AUTH);
	CHECK(jose_es256_verify(k, msg, sizeof(msg) - 1, sig, 63) == TERR_AUTH);
	jose_key_free(k);
	jose_key_free(other);
}

TEST(es256_token_verifies_with_its_own_key)
{
	void *k = new_key();
	struct buf tok, dec;
	struct jose_parts p;
	unsigned char sig[64];
	size_t len;

	buf_init(&tok, 4096);
	buf_init(&dec, 4096);
	CHECK(jose_es256_token(k, "{\"alg\":\"ES256\",\"kid\":\"K\",\"typ\":\"JWT\"}",
		  "{\"iss\":\"i\",\"aud\":\"appstoreconnect-v1\"}", &tok) == TERR_OK);
	CHECK(jose_split(tok.p, tok.len, &p) == TERR_OK);
	CHECK(jose_decode(p.header, p.header_len, &dec) == TERR_OK);
	CHECK_STR(buf_cstr(&dec), "{\"alg\":\"ES256\",\"kid\":\"K\",\"typ\":\"JWT\"}");
	CHECK(text_b64dec(p.sig, p.sig_len, 1, sig, sizeof(sig), &len) == TERR_OK);
	CHECK_EQ(len, 64);
	CHECK(jose_es256_verify(k, tok.p, p.signing_len, sig, len) == TERR_OK);
	buf_release(&tok);
	buf_release(&dec);
	jose_key_free(k);
}

/* An HS256 token over header and claims with key (test helper, independent of jose.c's signer). */
static void
hs256(const char *header, const char *claims, const char *key, struct buf *out)
{
	unsigned char mac[64];
	unsigned int maclen = 0;
	char enc[1024];
	size_t start;

	buf_reset(out);
	text_b64enc((const unsigned char *)header, strlen(header), 1, enc, sizeof(enc));
	buf_puts(out, enc);
	buf_putc(out, '.');
	text_b64enc((const unsigned char *)claims, strlen(claims), 1, enc, sizeof(enc));
	buf_puts(out, enc);
	start = out->len;
	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)out->p, start, mac,
	    &maclen);
	text_b64enc(mac, maclen, 1, enc, sizeof(enc));
	buf_putc(out, '.');
	buf_puts(out, enc);
}

TEST(hs256_pins_the_algorithm_and_checks_the_mac)
{
	struct buf t, claims;
	const char *why = NULL;

	buf_init(&t, 4096);
	buf_init(&claims, 4096);
	hs256("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"sub\":\"u1\"}", "k3y", &t);
	CHECK(jose_hs256_verify(t.p, t.len, "k3y", 3, &claims, &why) == TERR_OK);
	CHECK_STR(buf_cstr(&claims), "{\"sub\":\"u1\"}");
	CHECK(jose_hs256_verify(t.p, t.len, "k3Y", 3, &claims, &why) == TERR_AUTH);
	hs256("{\"alg\":\"none\"}", "{\"sub\":\"u1\"}", "k3y", &t);
	CHECK(jose_hs256_verify(t.p, t.len, "k3y", 3, &claims, &why) == TERR_AUTH);
	hs256("{\"alg\":\"HS512\"}", "{\"sub\":\"u1\"}", "k3y", &t);
	CHECK(jose_hs256_verify(t.p, t.len, "k3y", 3, &claims, &why) == TERR_AUTH);
	hs256("{\"typ\":\"JWT\"}", "{\"sub\":\"u1\"}", "k3y", &t);
	CHECK(jose_hs256_verify(t.p, t.len, "k3y", 3, &claims, &why) == TERR_AUTH);
	buf_release(&t);
	buf_release(&claims);
}

TEST(hs256_token_is_the_independent_mac_and_verifies)
{
	const char *h = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", *c = "{\"sub\":\"u1\",\"exp\":2}";
	struct buf mine, theirs, claims;
	const char *why = NULL;

	buf_init(&mine, 4096);
	buf_init(&theirs, 4096);
	buf_init(&claims, 4096);
	buf_puts(&mine, "kept:");
	CHECK(jose_hs256_token("k3y", 3, h, c, &mine) == TERR_OK);
	hs256(h, c, "k3y", &theirs);
	/* Appended after what out held, and byte for byte the MAC made without jose.c. */
	CHECK(strncmp(mine.p, "kept:", 5) == 0);
	CHECK_STR(buf_cstr(&mine) + 5, buf_cstr(&theirs));
	CHECK(jose_hs256_verify(mine.p + 5, mine.len - 5, "k3y", 3, &claims, &why) == TERR_OK);
	CHECK_STR(buf_cstr(&claims), c);
	CHECK(jose_hs256_verify(mine.p + 5, mine.len - 5, "k3z", 3, &claims, &why) == TERR_AUTH);
	buf_release(&mine);
	buf_release(&theirs);
	buf_release(&claims);
}

TEST(load_ec_key_refuses_what_is_not_a_p256_private_key)
{
	void *k = NULL;

	CHECK(jose_load_ec_key("not a key", &k) != TERR_OK);
	CHECK(k == NULL);
	CHECK(jose_load_ec_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		  &k) != TERR_OK);
	CHECK(k == NULL);
}

/* The PEM text of a private key (test helper); free with free(). */
static char *
pem_of(void *k)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL, *out = NULL;
	long n;

	if (bio != NULL && PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &p)) > 0 && (out = calloc(1, (size_t)n + 1)) != NULL)
		memcpy(out, p, (size_t)n);
	BIO_free(bio);
	return out;
}

TEST(rs256_signs_pkcs1_verifies_and_pins_the_algorithm)
{
	EVP_PKEY *gen = EVP_RSA_gen(2048), *small = EVP_RSA_gen(1024), *ec = new_key();
	void *k = NULL, *pub = NULL, *tmp = NULL;
	char *pem = pem_of(gen), *pem_small = pem_of(small), *pem_ec = pem_of(ec);
	BIGNUM *n = NULL, *e = NULL;
	unsigned char nb[512], eb[8], sig[512];
	int nlen, elen;
	size_t siglen;
	struct buf tok, claims;
	const char *why = NULL;
	const char msg[] = "header.payload";

	buf_init(&tok, 1 << 16);
	buf_init(&claims, 1 << 16);
	CHECK(gen != NULL && small != NULL && ec != NULL && pem && pem_small && pem_ec);
	CHECK(jose_load_rsa_key(pem, &k) == TERR_OK);
	CHECK_EQ(jose_rsa_bits(k), 2048);
	/* 1024 bits and P-256 are not RS256 keys. */
	CHECK(jose_load_rsa_key(pem_small, &tmp) == TERR_CONFIG && tmp == NULL);
	CHECK(jose_load_rsa_key(pem_ec, &tmp) == TERR_CONFIG && tmp == NULL);
	CHECK(jose_load_rsa_key("not a key", &tmp) == TERR_CONFIG && tmp == NULL);
	/* The public half from its JWK numbers, as a key set gives them. */
	CHECK(EVP_PKEY_get_bn_param(gen, "n", &n) == 1 && EVP_PKEY_get_bn_param(gen, "e", &e) == 1);
	nlen = BN_bn2bin(n, nb);
	elen = BN_bn2bin(e, eb);
	CHECK(jose_rsa_public(nb, (size_t)nlen, eb, (size_t)elen, &pub) == TERR_OK);
	CHECK(jose_rsa_public(nb, (size_t)nlen, (const unsigned char *)"\x02", 1, &tmp) ==
	    TERR_INVAL);
	CHECK(jose_rsa_public(nb, (size_t)nlen, (const unsigned char *)"\x01", 1, &tmp) ==
	    TERR_INVAL);
	CHECK(tmp == NULL);

	CHECK(jose_rs256_sign(k, msg, sizeof(msg) - 1, sig, sizeof(sig), &siglen) == TERR_OK);
	CHECK_EQ(siglen, 256);
	CHECK(jose_rs256_sign(k, msg, sizeof(msg) - 1, sig, 255, &siglen) == TERR_TOOBIG);
	CHECK(
	    jose_rs256_sign(small, msg, sizeof(msg) - 1, sig, sizeof(sig), &siglen) == TERR_CONFIG);
	CHECK(jose_rs256_sign(k, msg, sizeof(msg) - 1, sig, sizeof(sig), &siglen) == TERR_OK);
	CHECK(jose_rs256_verify(pub, msg, sizeof(msg) - 1, sig, siglen) == TERR_OK);
	CHECK(jose_rs256_verify(pub, "header.payloaX", sizeof(msg) - 1, sig, siglen) == TERR_AUTH);
	CHECK(jose_rs256_verify(pub, msg, sizeof(msg) - 1, sig, siglen - 1) == TERR_AUTH);
	CHECK(jose_rs256_verify(ec, msg, sizeof(msg) - 1, sig, siglen) == TERR_AUTH);
	sig[100] ^= 1;
	CHECK(jose_rs256_verify(pub, msg, sizeof(msg) - 1, sig, siglen) == TERR_AUTH);

	CHECK(jose_rs256_token(k, "{\"alg\":\"RS256\"}", "{\"sub\":\"u1\"}", &tok) == TERR_OK);
	CHECK(jose_rs256_verify_token(tok.p, tok.len, pub, &claims, &why) == TERR_OK);
	CHECK_STR(buf_cstr(&claims), "{\"sub\":\"u1\"}");
	CHECK(jose_rs256_verify_token(tok.p, tok.len, small, &claims, &why) == TERR_AUTH);
	CHECK_STR(why, "token key is shorter than 2048 bits");
	CHECK(jose_rs256_verify_token(tok.p, tok.len, ec, &claims, &why) == TERR_AUTH);
	CHECK_STR(why, "token key is not an RSA key");
	/* Signed with the right key, but the header names another alg: refused before any key. */
	buf_reset(&tok);
	CHECK(jose_rs256_token(k, "{\"alg\":\"HS256\"}", "{\"sub\":\"u1\"}", &tok) == TERR_OK);
	CHECK(jose_rs256_verify_token(tok.p, tok.len, pub, &claims, &why) == TERR_AUTH);
	CHECK_STR(why, "token algorithm is not RS256");
	buf_reset(&tok);
	CHECK(jose_rs256_token(k, "{\"alg\":\"none\"}", "{\"sub\":\"u1\"}", &tok) == TERR_OK);
	CHECK(jose_rs256_verify_token(tok.p, tok.len, pub, &claims, &why) == TERR_AUTH);
	CHECK_STR(why, "token algorithm is not RS256");
	buf_reset(&tok);
	CHECK(jose_rs256_token(k, "{\"alg\":\"ES256\"}", "{\"sub\":\"u1\"}", &tok) == TERR_OK);
	CHECK(jose_rs256_verify_token(tok.p, tok.len, pub, &claims, &why) == TERR_AUTH);
	CHECK_STR(why, "token algorithm is not RS256");
	BN_free(n);
	BN_free(e);
	free(pem);
	free(pem_small);
	free(pem_ec);
	jose_key_free(k);
	jose_key_free(pub);
	jose_key_free(gen);
	jose_key_free(small);
	jose_key_free(ec);
	buf_release(&tok);
	buf_release(&claims);
}

int
main(void)
{
	RUN(b64_round_trips_both_alphabets_and_refuses_garbage);
	RUN(split_wants_exactly_three_nonempty_parts);
	RUN(es256_signs_raw_r_s_and_verifies_only_the_signed_bytes);
	RUN(es256_token_verifies_with_its_own_key);
	RUN(hs256_pins_the_algorithm_and_checks_the_mac);
	RUN(hs256_token_is_the_independent_mac_and_verifies);
	RUN(load_ec_key_refuses_what_is_not_a_p256_private_key);
	RUN(rs256_signs_pkcs1_verifies_and_pins_the_algorithm);
	return t_done();
}
