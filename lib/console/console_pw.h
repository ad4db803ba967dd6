/*
 * Admins' passwords (console_pw.c), for the console's login and `tally admin
 * create|passwd` (through console.h).
 */
#ifndef TALLY_CONSOLE_PW_H
#define TALLY_CONSOLE_PW_H

#include "store/store_console.h" /* ADMIN_HASH_MAX */

/* Passwords: at least this long (a passphrase), at most this long (scrypt reads it all). */
#define CONSOLE_PW_MIN 12
#define CONSOLE_PW_MAX 1024

/*
 * Hash password for storage in out: scrypt (RFC 7914) with N = 2^15, r = 8,
 * p = 3 (32 MiB; measured about half the time of the former N = 2^17, r = 8,
 * p = 1, whose V no longer fits a cache), a 16-byte random salt and a
 * 32-byte result, written "$scrypt$ln=15,r=8,p=3$<salt>$<hash>" (base64url,
 * unpadded). TERR_INTERNAL when OpenSSL fails.
 */
enum terr console_pw_hash(const char *password, char out[ADMIN_HASH_MAX]);

/*
 * 1 when password matches stored (parameters read from it, result compared
 * in constant time), 0 when it does not or stored is malformed or asks for
 * more than the bound (128 MiB, the time of N = 2^17, r = 8, p = 1).
 */
int console_pw_verify(const char *password, const char *stored);

/* 1 when stored was made with other parameters than console_pw_hash uses now. */
int console_pw_outdated(const char *stored);

#endif
