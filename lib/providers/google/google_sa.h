/*
 * The Android Publisher API's credentials (PROVIDERS.md 7.4): a service
 * account's JSON key file gives an RSA private key, its id and the
 * account's email; tally signs an RS256 assertion with them and trades it
 * at Google's token endpoint for an OAuth2 access token (the JWT bearer
 * grant, RFC 7523 2.1). This module reads the key file and builds the
 * assertion and the form body; it is pure: posting the form and caching
 * the access token are the caller's.
 */
#ifndef TALLY_GOOGLE_SA_H
#define TALLY_GOOGLE_SA_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "providers/google/google_oidc.h"

/* A service account's email, with its NUL (RFC 5321 4.5.3.1.3 caps a path at 256). */
#define GOOGLE_EMAIL_MAX   256
/* The largest key file read (a 2048-bit key file is about 2.3 KB). */
#define GOOGLE_SA_FILE_MAX (64 * 1024)
/* An assertion lives this long, the most Google accepts (7.4: exp <= iat + 3600). Seconds. */
#define GOOGLE_SA_LIFETIME 3600

#define GOOGLE_SA_SCOPE     "https://www.googleapis.com/auth/androidpublisher"
#define GOOGLE_SA_TOKEN_URL "https://oauth2.googleapis.com/token"

struct google_sa {
	char client_email[GOOGLE_EMAIL_MAX];
	char key_id[GOOGLE_KID_MAX]; /* private_key_id: the assertion's kid */
	void *pkey;                  /* EVP_PKEY*, the private key; owned */
};

/*
 * Read a service account key file json[0..n) ({"type":"service_account",
 * "client_email", "private_key" (PEM), "private_key_id", ...}) into sa. The
 * private key is loaded at once (RSA, 2048 bits or more) and the PEM text
 * parsed from json wiped; json itself is the caller's to wipe. TERR_INVAL or
 * TERR_CONFIG with *why (static text, never key material); TERR_TOOBIG past
 * GOOGLE_SA_FILE_MAX. On failure sa holds no key. Release with
 * google_sa_release.
 */
enum terr google_sa_load(struct google_sa *sa, const char *json, size_t n, const char **why);

/* Free the private key (OpenSSL clears it) and wipe sa. */
void google_sa_release(struct google_sa *sa);

/*
 * Append to jwt the assertion issued at now (Unix seconds): header
 * {"alg":"RS256","typ":"JWT","kid":key_id}, claims {"iss":client_email,
 * "scope":GOOGLE_SA_SCOPE,"aud":GOOGLE_SA_TOKEN_URL,"iat":now,
 * "exp":now+GOOGLE_SA_LIFETIME}, signed with the key. TERR_CONFIG without a
 * key; the buffer's error when it overflows.
 */
enum terr google_sa_assertion(const struct google_sa *sa, int64_t now, struct buf *jwt);

/*
 * Append to body the token request's form (application/x-www-form-urlencoded):
 * grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=<jwt>
 * (the assertion's characters need no escaping: base64url and dots).
 */
enum terr google_sa_token_body(const struct google_sa *sa, int64_t now, struct buf *body);

#endif
