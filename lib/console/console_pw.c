/*
 * Admins' passwords, kept as scrypt hashes (set by `tally admin
 * create|passwd`, checked at the console's login).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "console/console_pw.h"
#include "crypto/crypto.h"

/*
 * scrypt's parameters for new hashes: OWASP's Password Storage Cheat Sheet
 * gives N = 2^17, r = 8, p = 1 (128 MiB) and, as equivalent with less
 * memory, N = 2^15, r = 8, p = 3 (32 MiB: 128 * r * N bytes, RFC 7914 5;
 * the p lanes run one after another in one buffer). A login under plain
 * CGI is a process of its own: 32 MiB keeps it near 46 MB RSS.
 */
#define PW_LN       15
#define PW_R        8
#define PW_P        3
#define PW_SALT     16
#define PW_LEN      32
/*
 * What a stored hash may ask for: the memory of N = 2^17, r = 8 (128 MiB,
 * the parameters of hashes made before, which still verify) and the time of
 * N = 2^17, r = 8, p = 1 (N * r * p block mixes): no more, so that a row of
 * admins cannot make a login take more than the slots allow for
 * (console_req.h LOGIN_SLOTS).
 */
#define PW_LN_MAX   17
#define PW_R_MAX    8
#define PW_P_MAX    4
#define PW_MEM_MAX  ((uint64_t)128 << 20)
#define PW_WORK_MAX ((uint64_t)1 << 20)

/*
 * out[0..outlen) = scrypt(password, salt, 2^ln, r, p); 0 or -1. How many run
 * at once is the caller's to bound: a login holds one of the host's slots
 * (console_login); `tally admin create|passwd` hashes once per command.
 */
static int
scrypt(const char *password, const unsigned char *salt, size_t saltlen, int64_t ln, int64_t r,
    int64_t p, unsigned char *out, size_t outlen)
{
	uint64_t n = (uint64_t)1 << ln;
	/* RFC 7914: 128 * r * (N + p) bytes, and a margin OpenSSL counts in. */
	uint64_t maxmem = 128 * (uint64_t)r * (n + (uint64_t)p + 2) + (1u << 20);
	int ok;

	ok = EVP_PBE_scrypt(password, strlen(password), salt, saltlen, n, (uint64_t)r, (uint64_t)p,
	    maxmem, out, outlen);
	return ok == 1 ? 0 : -1;
}

enum terr
console_pw_hash(const char *password, char out[ADMIN_HASH_MAX])
{
	unsigned char salt[PW_SALT], h[PW_LEN];
	char s64[32], h64[48];
	enum terr rc = TERR_INTERNAL;

	if (crypto_random_bytes(salt, sizeof(salt)) != TERR_OK ||
	    scrypt(password, salt, sizeof(salt), PW_LN, PW_R, PW_P, h, sizeof(h)) != 0)
		goto out;
	text_b64enc(salt, sizeof(salt), 1, s64, sizeof(s64));
	text_b64enc(h, sizeof(h), 1, h64, sizeof(h64));
	if ((size_t)snprintf(out, ADMIN_HASH_MAX, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", PW_LN, PW_R,
		PW_P, s64, h64) < ADMIN_HASH_MAX)
		rc = TERR_OK;
out:
	crypto_wipe(h, sizeof(h));
	return rc;
}

/* The decimal number at *p up to the byte end, within [min, max]; *p moves past end. */
static int
param(const char **p, const char *key, char end, int64_t min, int64_t max, int64_t *out)
{
	size_t klen = strlen(key);
	const char *e;

	if (strncmp(*p, key, klen) != 0 || (e = strchr(*p + klen, end)) == NULL ||
	    text_i64(*p + klen, (size_t)(e - *p - klen), min, max, out) != TERR_OK)
		return -1;
	*p = e + 1;
	return 0;
}

int
console_pw_verify(const char *password, const char *stored)
{
	unsigned char salt[64], want[64], got[64];
	size_t saltlen, wantlen;
	const char *p = stored, *dollar;
	int64_t ln, r, par;
	int ok = 0;

	/* The parameters are bounded: a stored hash must not make a login take gigabytes. */
	if (strncmp(p, "$scrypt$", 8) != 0)
		return 0;
	p += 8;
	if (param(&p, "ln=", ',', 10, PW_LN_MAX, &ln) != 0 ||
	    param(&p, "r=", ',', 1, PW_R_MAX, &r) != 0 ||
	    param(&p, "p=", '$', 1, PW_P_MAX, &par) != 0 ||
	    128 * ((uint64_t)r << ln) > PW_MEM_MAX ||
	    ((uint64_t)r << ln) * (uint64_t)par > PW_WORK_MAX ||
	    (dollar = strchr(p, '$')) == NULL ||
	    text_b64dec(p, (size_t)(dollar - p), 1, salt, sizeof(salt), &saltlen) != TERR_OK ||
	    text_b64dec(dollar + 1, strlen(dollar + 1), 1, want, sizeof(want), &wantlen) !=
		TERR_OK ||
	    saltlen < 8 || wantlen < 16)
		return 0;
	if (scrypt(password, salt, saltlen, ln, r, par, got, wantlen) == 0)
		ok = crypto_ct_eq(got, want, wantlen);
	crypto_wipe(got, sizeof(got));
	return ok;
}

int
console_pw_outdated(const char *stored)
{
	char now[32];

	snprintf(now, sizeof(now), "$scrypt$ln=%d,r=%d,p=%d$", PW_LN, PW_R, PW_P);
	return strncmp(stored, now, strlen(now)) != 0;
}
