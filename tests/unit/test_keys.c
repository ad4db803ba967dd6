/*
 * Keys made of several parts (lib/base/text.h text_key, lib/crypto/crypto.h crypto_key)
 * and the replay check of tally's own events (lib/core/op.h op_same_request).
 * A user id may hold ':': no two different lists of parts may give one key,
 * and a request found under an earlier one's key is that request only when
 * every part of it is the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/text.h"
#include "core/op.h"
#include "crypto/crypto.h"
#include "t.h"

/* ---------------------------------------------------------------- text_key */

TEST(key_without_separators_is_the_plain_join_of_before)
{
	char k[64];

	/* Keys already stored (no ':' or '%' in a part) keep matching. */
	CHECK_EQ(text_key(k, sizeof(k), "spend", "alice", "k1", NULL), TERR_OK);
	CHECK_STR(k, "spend:alice:k1");
	CHECK_EQ(text_key(k, sizeof(k), "status", "2000000123456789", "0a1b", NULL), TERR_OK);
	CHECK_STR(k, "status:2000000123456789:0a1b");
	CHECK_EQ(text_key(k, sizeof(k), "one", NULL), TERR_OK);
	CHECK_STR(k, "one");
}

TEST(key_the_attack_user_and_key_sharing_a_colon_differ)
{
	char a[64], b[64];

	/* User "alice" with key "x:k1", user "alice:x" with key "k1": once one id. */
	CHECK_EQ(text_key(a, sizeof(a), "spend", "alice", "x:k1", NULL), TERR_OK);
	CHECK_EQ(text_key(b, sizeof(b), "spend", "alice:x", "k1", NULL), TERR_OK);
	CHECK_STR(a, "spend:alice:x%3Ak1");
	CHECK_STR(b, "spend:alice%3Ax:k1");
	CHECK(strcmp(a, b) != 0);
}

TEST(key_parts_split_at_another_colon_differ)
{
	char a[32], b[32];

	CHECK_EQ(text_key(a, sizeof(a), "a:b", "c", NULL), TERR_OK);
	CHECK_EQ(text_key(b, sizeof(b), "a", "b:c", NULL), TERR_OK);
	CHECK(strcmp(a, b) != 0);
	/* Fewer parts holding the separator are not more parts. */
	CHECK_EQ(text_key(a, sizeof(a), "a", "b", NULL), TERR_OK);
	CHECK_EQ(text_key(b, sizeof(b), "a:b", NULL), TERR_OK);
	CHECK(strcmp(a, b) != 0);
}

TEST(key_percent_is_escaped_so_an_escape_in_a_part_is_not_a_colon)
{
	char a[32], b[32];

	CHECK_EQ(text_key(a, sizeof(a), "a%3Ab", "c", NULL), TERR_OK);
	CHECK_EQ(text_key(b, sizeof(b), "a:b", "c", NULL), TERR_OK);
	CHECK_STR(a, "a%253Ab:c");
	CHECK_STR(b, "a%3Ab:c");
	CHECK_EQ(text_key(a, sizeof(a), "%", NULL), TERR_OK);
	CHECK_STR(a, "%25");
}

TEST(key_empty_parts_are_parts)
{
	char a[16], b[16], c[16], d[16];

	CHECK_EQ(text_key(a, sizeof(a), "a", NULL), TERR_OK);
	CHECK_EQ(text_key(b, sizeof(b), "a", "", NULL), TERR_OK);
	CHECK_EQ(text_key(c, sizeof(c), "", "a", NULL), TERR_OK);
	CHECK_EQ(text_key(d, sizeof(d), "a", "", "", NULL), TERR_OK);
	CHECK_STR(a, "a");
	CHECK_STR(b, "a:");
	CHECK_STR(c, ":a");
	CHECK_STR(d, "a::");
}

/*
 * Every list of 1 or 2 parts of 0 to 3 bytes of "a:%3A" (so that a part may
 * spell an escape itself) and every list of 3 parts of 0 to 2 bytes gives a
 * key of its own.
 */
#define ALPHA  "a:%3A"
#define NALPHA 5
#define NSTR2  (1 + NALPHA + NALPHA * NALPHA)
#define NSTR3  (NSTR2 + NALPHA * NALPHA * NALPHA)

static void
nth_part(int i, char out[4])
{
	size_t len = i == 0 ? 0 : i <= NALPHA ? 1 : i < NSTR2 ? 2 : 3;
	int k = i - (len == 0 ? 0 : len == 1 ? 1 : len == 2 ? 1 + NALPHA : NSTR2);
	size_t j;

	for (j = len; j > 0; j--) {
		out[j - 1] = ALPHA[k % NALPHA];
		k /= NALPHA;
	}
	out[len] = '\0';
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(a, b);
}

TEST(key_no_two_lists_of_parts_give_one_key)
{
	enum { KEYLEN = 32, NKEYS = NSTR3 + NSTR3 * NSTR3 + NSTR2 * NSTR2 * NSTR2 };
	char(*keys)[KEYLEN] = calloc(NKEYS, KEYLEN), p[3][4];
	size_t n = 0, i;
	int x, y, z, bad = 0;

	CHECK(keys != NULL);
	for (x = 0; x < NSTR3; x++) {
		nth_part(x, p[0]);
		bad |= text_key(keys[n++], KEYLEN, p[0], NULL) != TERR_OK;
		for (y = 0; y < NSTR3; y++) {
			nth_part(y, p[1]);
			bad |= text_key(keys[n++], KEYLEN, p[0], p[1], NULL) != TERR_OK;
			for (z = 0; x < NSTR2 && y < NSTR2 && z < NSTR2; z++) {
				nth_part(z, p[2]);
				bad |=
				    text_key(keys[n++], KEYLEN, p[0], p[1], p[2], NULL) != TERR_OK;
			}
		}
	}
	qsort(keys, n, KEYLEN, cmp_key);
	for (i = 1; i < n && !bad; i++)
		if (strcmp(keys[i - 1], keys[i]) == 0)
			bad = 1;
	free(keys);
	CHECK_EQ(n, NKEYS);
	CHECK_EQ(bad, 0);
}

TEST(key_that_does_not_fit_fails_and_is_never_cut)
{
	char k[8];

	/* "ab:cd" and its NUL: 6 bytes fit in 6, not in 5. */
	CHECK_EQ(text_key(k, 6, "ab", "cd", NULL), TERR_OK);
	CHECK_STR(k, "ab:cd");
	CHECK_EQ(text_key(k, 5, "ab", "cd", NULL), TERR_TOOBIG);
	CHECK_STR(k, "");
	/* An escape counts three bytes: "a%3A" and its NUL need 5. */
	CHECK_EQ(text_key(k, 5, "a:", NULL), TERR_OK);
	CHECK_STR(k, "a%3A");
	CHECK_EQ(text_key(k, 4, "a:", NULL), TERR_TOOBIG);
	CHECK_STR(k, "");
	/* The separator too. */
	CHECK_EQ(text_key(k, 3, "a", "", NULL), TERR_OK);
	CHECK_EQ(text_key(k, 2, "a", "", NULL), TERR_TOOBIG);
	CHECK_EQ(text_key(k, 0, "a", NULL), TERR_TOOBIG);
	CHECK_EQ(text_key(k, sizeof(k), NULL, NULL), TERR_INVAL);
}

/* -------------------------------------------------------------- crypto_key */

TEST(crypto_key_is_the_text_key_when_it_fits)
{
	char k[64];

	CHECK_EQ(crypto_key(k, sizeof(k), "allowance", "tg:42", "1700000000000", NULL), TERR_OK);
	CHECK_STR(k, "allowance:tg%3A42:1700000000000");
}

TEST(crypto_key_past_its_size_is_a_digest_of_the_whole_key_not_a_cut_one)
{
	char a[64], b[64], user1[129], user2[129];

	/* 128 bytes of ':' escape to 384: past 64, the key is "credits-expire:#<32 hex>". */
	memset(user1, ':', 128);
	user1[128] = '\0';
	memcpy(user2, user1, sizeof(user2));
	user2[127] = 'x';
	CHECK_EQ(crypto_key(a, sizeof(a), "credits-expire", user1, "7", NULL), TERR_OK);
	CHECK_EQ(crypto_key(b, sizeof(b), "credits-expire", user2, "7", NULL), TERR_OK);
	CHECK_EQ(strlen(a), strlen("credits-expire:#") + 32);
	CHECK(strncmp(a, "credits-expire:#", 16) == 0);
	CHECK(strcmp(a, b) != 0);
	CHECK_EQ(crypto_key(b, sizeof(b), "credits-expire", user1, "8", NULL), TERR_OK);
	CHECK(strcmp(a, b) != 0);
	CHECK_EQ(crypto_key(b, sizeof(b), "credits-expire", user1, "7", NULL), TERR_OK);
	CHECK_STR(a, b);
	CHECK_EQ(crypto_key(a, 20, "credits-expire", user1, "7", NULL), TERR_TOOBIG);
}

/* --------------------------------------------------------- op_same_request */

static int
same(const struct op_action *x, const struct op_action *y)
{
	struct buf a, b;
	int r;

	buf_init(&a, 65536);
	buf_init(&b, 65536);
	r = op_build(x, &a) == TERR_OK && op_build(y, &b) == TERR_OK
	    ? op_same_request(buf_cstr(&a), a.len, buf_cstr(&b), b.len)
	    : -1;
	buf_release(&a);
	buf_release(&b);
	return r;
}

static struct op_action
spend(const char *user, int64_t amount, const char *reason)
{
	struct op_action a;

	memset(&a, 0, sizeof(a));
	a.source = OP_APP;
	a.id = "spend:alice:k1";
	a.action = "credits.spend";
	a.user = user;
	a.amount = amount;
	a.reason = reason;
	a.operator_ = "key_1";
	a.at = 1000;
	a.request_hash = "aa";
	return a;
}

TEST(same_request_when_only_the_sending_differs)
{
	struct op_action a = spend("alice", 5, "chat"), b = spend("alice", 5, "chat");

	/* Another key of the app, another moment, the hash of another version: one request. */
	b.operator_ = "key_2";
	b.at = 2000;
	b.request_hash = "bb";
	CHECK_EQ(same(&a, &b), 1);
}

TEST(another_request_when_the_user_differs)
{
	struct op_action a = spend("alice", 5, "chat"), b = spend("alice:x", 5, "chat");

	CHECK_EQ(same(&a, &b), 0);
}

TEST(another_request_when_amount_reason_or_action_differs)
{
	struct op_action a = spend("alice", 5, "chat"), b = spend("alice", 6, "chat");

	CHECK_EQ(same(&a, &b), 0);
	b = spend("alice", 5, "image");
	CHECK_EQ(same(&a, &b), 0);
	b = spend("alice", 5, "chat");
	b.action = "promo.credits";
	CHECK_EQ(same(&a, &b), 0);
	b = spend("alice", 5, "chat");
	b.expires_at = 99;
	CHECK_EQ(same(&a, &b), 0);
	b = spend("alice", 5, "chat");
	b.name = "pro";
	CHECK_EQ(same(&a, &b), 0);
}

TEST(another_request_when_a_body_is_not_an_event)
{
	CHECK_EQ(op_same_request("{}", 2, "[]", 2), 0);
	CHECK_EQ(op_same_request("{", 1, "{", 1), 0);
	CHECK_EQ(op_same_request("{\"a\":1}", 7, "{\"a\":1}", 7), 1);
}

int
main(void)
{
	crypto_init();
	RUN(key_without_separators_is_the_plain_join_of_before);
	RUN(key_the_attack_user_and_key_sharing_a_colon_differ);
	RUN(key_parts_split_at_another_colon_differ);
	RUN(key_percent_is_escaped_so_an_escape_in_a_part_is_not_a_colon);
	RUN(key_empty_parts_are_parts);
	RUN(key_no_two_lists_of_parts_give_one_key);
	RUN(key_that_does_not_fit_fails_and_is_never_cut);
	RUN(crypto_key_is_the_text_key_when_it_fits);
	RUN(crypto_key_past_its_size_is_a_digest_of_the_whole_key_not_a_cut_one);
	RUN(same_request_when_only_the_sending_differs);
	RUN(another_request_when_the_user_differs);
	RUN(another_request_when_amount_reason_or_action_differs);
	RUN(another_request_when_a_body_is_not_an_event);
	return t_done();
}
