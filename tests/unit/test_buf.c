/*
 * lib/base/buf.h: the one bounded buffer (STYLE.md 7). The invariants in the
 * header are what is tested: NUL after the content, len <= max, a sticky
 * error that leaves the content unchanged, fixed storage never reallocated.
 */
#include <string.h>

#include "base/buf.h"
#include "t.h"

TEST(buf_empty_cstr_is_empty_string)
{
	struct buf b;

	buf_init(&b, 100);
	CHECK(buf_cstr(&b) != NULL);
	CHECK_STR(buf_cstr(&b), "");
	CHECK_EQ(b.len, 0);
	CHECK_EQ(b.err, TERR_OK);
	buf_release(&b);
}

TEST(buf_append_nothing_leaves_empty_string)
{
	struct buf b;

	buf_init(&b, 100);
	buf_append(&b, "", 0);
	CHECK_EQ(b.err, TERR_OK);
	CHECK_EQ(b.len, 0);
	CHECK_STR(buf_cstr(&b), "");
	buf_release(&b);
}

TEST(buf_grows_past_initial_allocation)
{
	struct buf b;
	char chunk[100];
	size_t i;

	memset(chunk, 'x', sizeof(chunk));
	buf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++) {
		chunk[0] = (char)('a' + i % 26);
		buf_append(&b, chunk, sizeof(chunk));
	}
	CHECK_EQ(b.err, TERR_OK);
	CHECK_EQ(b.len, 100000);
	CHECK(b.cap >= b.len + 1);
	CHECK_EQ(b.p[b.len], '\0');
	CHECK_EQ(strlen(buf_cstr(&b)), 100000);
	for (i = 0; i < 1000; i++)
		if (b.p[i * 100] != (char)('a' + i % 26) || b.p[i * 100 + 99] != 'x')
			break;
	CHECK_EQ(i, 1000);
	buf_release(&b);
}

TEST(buf_keeps_nul_after_every_append)
{
	struct buf b;

	buf_init(&b, 100);
	buf_puts(&b, "abc");
	CHECK_EQ(b.p[3], '\0');
	buf_putc(&b, 'd');
	CHECK_EQ(b.p[4], '\0');
	CHECK_STR(buf_cstr(&b), "abcd");
	buf_release(&b);
}

TEST(buf_append_up_to_max_exactly_succeeds)
{
	struct buf b;

	buf_init(&b, 10);
	buf_puts(&b, "0123456789");
	CHECK_EQ(b.err, TERR_OK);
	CHECK_EQ(b.len, 10);
	CHECK_STR(buf_cstr(&b), "0123456789");
	buf_release(&b);
}

TEST(buf_append_past_max_sets_toobig)
{
	struct buf b;

	buf_init(&b, 10);
	buf_puts(&b, "01234567890");
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK_EQ(b.len, 0);
	buf_release(&b);
}

TEST(buf_failed_append_leaves_content_unchanged)
{
	struct buf b;

	buf_init(&b, 10);
	buf_puts(&b, "12345678");
	buf_puts(&b, "abc");
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK_EQ(b.len, 8);
	CHECK_STR(buf_cstr(&b), "12345678");
	buf_release(&b);
}

TEST(buf_error_is_sticky_later_appends_are_noops)
{
	struct buf b;

	buf_init(&b, 10);
	buf_puts(&b, "12345678");
	buf_puts(&b, "abc");
	buf_putc(&b, 'x');
	buf_puts(&b, "y");
	buf_append(&b, "z", 1);
	buf_printf(&b, "%d", 1);
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK_EQ(b.len, 8);
	CHECK_STR(buf_cstr(&b), "12345678");
	buf_release(&b);
}

TEST(buf_reserve_after_error_returns_null)
{
	struct buf b;

	buf_init(&b, 4);
	buf_puts(&b, "12345");
	CHECK(buf_reserve(&b, 1) == NULL);
	CHECK_EQ(b.err, TERR_TOOBIG);
	buf_release(&b);
}

TEST(buf_zero_max_accepts_nothing)
{
	struct buf b;

	buf_init(&b, 0);
	buf_putc(&b, 'a');
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK_EQ(b.len, 0);
	CHECK_STR(buf_cstr(&b), "");
	buf_release(&b);
}

TEST(buf_reserve_and_commit_append)
{
	struct buf b;
	char *p;

	buf_init(&b, 100);
	buf_puts(&b, "ab");
	p = buf_reserve(&b, 3);
	CHECK(p != NULL);
	memcpy(p, "cde", 3);
	buf_commit(&b, 3);
	CHECK_EQ(b.len, 5);
	CHECK_STR(buf_cstr(&b), "abcde");
	buf_release(&b);
}

TEST(buf_reserve_past_max_fails)
{
	struct buf b;

	buf_init(&b, 10);
	buf_puts(&b, "abcdef");
	CHECK(buf_reserve(&b, 5) == NULL);
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK_STR(buf_cstr(&b), "abcdef");
	buf_release(&b);
}

TEST(buf_embedded_nuls_are_content)
{
	struct buf b;

	buf_init(&b, 100);
	buf_append(&b, "a\0b", 3);
	buf_append(&b, "\0", 1);
	buf_puts(&b, "c");
	CHECK_EQ(b.err, TERR_OK);
	CHECK_EQ(b.len, 5);
	CHECK(memcmp(b.p, "a\0b\0c", 5) == 0);
	CHECK_EQ(b.p[5], '\0');
	buf_release(&b);
}

TEST(buf_printf_short)
{
	struct buf b;

	buf_init(&b, 100);
	buf_printf(&b, "%s=%d", "n", -42);
	buf_printf(&b, ";%lld", 9223372036854775807LL);
	CHECK_EQ(b.err, TERR_OK);
	CHECK_STR(buf_cstr(&b), "n=-42;9223372036854775807");
	buf_release(&b);
}

TEST(buf_printf_long_output)
{
	struct buf b;
	char big[5001];
	size_t i;

	for (i = 0; i < 5000; i++)
		big[i] = (char)('a' + i % 26);
	big[5000] = '\0';
	buf_init(&b, 1 << 20);
	buf_puts(&b, "<");
	buf_printf(&b, "[%s|%d]", big, 7);
	CHECK_EQ(b.err, TERR_OK);
	CHECK_EQ(b.len, 1 + 1 + 5000 + 3);
	CHECK_EQ(b.p[0], '<');
	CHECK_EQ(b.p[1], '[');
	CHECK(memcmp(b.p + 2, big, 5000) == 0);
	CHECK_STR(b.p + 5002, "|7]");
	CHECK_EQ(b.p[b.len], '\0');
	buf_release(&b);
}

TEST(buf_printf_long_output_past_max_leaves_content)
{
	struct buf b;
	char big[1001];

	memset(big, 'q', 1000);
	big[1000] = '\0';
	buf_init(&b, 600);
	buf_puts(&b, "keep");
	buf_printf(&b, "%s", big);
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK_EQ(b.len, 4);
	CHECK_STR(buf_cstr(&b), "keep");
	buf_release(&b);
}

TEST(buf_printf_short_output_past_max_leaves_content)
{
	struct buf b;

	buf_init(&b, 6);
	buf_puts(&b, "keep");
	buf_printf(&b, "%d", 123);
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK_STR(buf_cstr(&b), "keep");
	buf_release(&b);
}

TEST(buf_reset_empties_and_clears_error_keeping_allocation)
{
	struct buf b;
	char *p;
	size_t cap;

	buf_init(&b, 8);
	buf_puts(&b, "1234");
	buf_puts(&b, "56789");
	CHECK_EQ(b.err, TERR_TOOBIG);
	p = b.p;
	cap = b.cap;
	buf_reset(&b);
	CHECK_EQ(b.err, TERR_OK);
	CHECK_EQ(b.len, 0);
	CHECK_STR(buf_cstr(&b), "");
	CHECK(b.p == p);
	CHECK_EQ(b.cap, cap);
	buf_puts(&b, "again");
	CHECK_EQ(b.err, TERR_OK);
	CHECK_STR(buf_cstr(&b), "again");
	buf_release(&b);
}

TEST(buf_reset_of_unallocated_buffer_is_safe)
{
	struct buf b;

	buf_init(&b, 8);
	buf_reset(&b);
	CHECK_EQ(b.len, 0);
	CHECK_STR(buf_cstr(&b), "");
	buf_release(&b);
}

TEST(buf_release_leaves_empty_reusable_buffer_with_same_max)
{
	struct buf b;

	buf_init(&b, 8);
	buf_puts(&b, "123456789");
	buf_puts(&b, "1234");
	buf_release(&b);
	CHECK_EQ(b.len, 0);
	CHECK_EQ(b.cap, 0);
	CHECK_EQ(b.max, 8);
	CHECK_EQ(b.err, TERR_OK);
	CHECK_STR(buf_cstr(&b), "");
	buf_puts(&b, "12345678");
	CHECK_EQ(b.err, TERR_OK);
	CHECK_STR(buf_cstr(&b), "12345678");
	buf_puts(&b, "9");
	CHECK_EQ(b.err, TERR_TOOBIG);
	buf_release(&b);
}

TEST(buf_release_twice_is_safe)
{
	struct buf b;

	buf_init(&b, 8);
	buf_puts(&b, "abc");
	buf_release(&b);
	buf_release(&b);
	CHECK_STR(buf_cstr(&b), "");
}

TEST(buf_fixed_starts_as_empty_string)
{
	struct buf b;
	char st[8] = "garbage";

	buf_init_fixed(&b, st, sizeof(st));
	CHECK_EQ(st[0], '\0');
	CHECK_STR(buf_cstr(&b), "");
	CHECK_EQ(b.max, 7);
}

TEST(buf_fixed_uses_caller_storage)
{
	struct buf b;
	char st[8];

	buf_init_fixed(&b, st, sizeof(st));
	buf_puts(&b, "abc");
	buf_puts(&b, "defg");
	CHECK_EQ(b.err, TERR_OK);
	CHECK(b.p == st);
	CHECK_EQ(b.cap, sizeof(st));
	CHECK_STR(st, "abcdefg");
	CHECK_EQ(st[7], '\0');
	buf_release(&b);
}

TEST(buf_fixed_overflow_never_reallocs_and_keeps_nul)
{
	struct buf b;
	char st[9];

	memset(st, '#', sizeof(st));
	buf_init_fixed(&b, st, 8); /* st[8] is a guard the buffer must not touch */
	buf_puts(&b, "abc");
	buf_puts(&b, "defgh");
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK(b.p == st);
	CHECK_EQ(b.cap, 8);
	CHECK_EQ(b.len, 3);
	CHECK_STR(st, "abc");
	CHECK_EQ(st[8], '#');
	buf_putc(&b, 'x');
	CHECK_STR(st, "abc");
	buf_release(&b);
}

TEST(buf_fixed_printf_long_output_within_storage)
{
	struct buf b;
	char st[1024], big[601];

	memset(big, 'z', 600);
	big[600] = '\0';
	buf_init_fixed(&b, st, sizeof(st));
	buf_printf(&b, "%s!", big);
	CHECK_EQ(b.err, TERR_OK);
	CHECK(b.p == st);
	CHECK_EQ(b.len, 601);
	CHECK_EQ(st[600], '!');
	CHECK_EQ(st[601], '\0');
}

TEST(buf_fixed_printf_past_storage_fails)
{
	struct buf b;
	char st[300], big[400];

	memset(big, 'z', 399);
	big[399] = '\0';
	buf_init_fixed(&b, st, sizeof(st));
	buf_puts(&b, "ok");
	buf_printf(&b, "%s", big);
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK(b.p == st);
	CHECK_STR(st, "ok");
}

TEST(buf_fixed_release_keeps_storage_and_empties)
{
	struct buf b;
	char st[8];

	buf_init_fixed(&b, st, sizeof(st));
	buf_puts(&b, "abc");
	buf_release(&b); /* must not free st (ASan would report) */
	CHECK(b.p == st);
	CHECK_EQ(b.len, 0);
	CHECK_STR(st, "");
	buf_puts(&b, "xy");
	CHECK_STR(st, "xy");
}

TEST(buf_fixed_of_size_one_holds_only_nul)
{
	struct buf b;
	char st[2] = { 'q', '#' };

	buf_init_fixed(&b, st, 1);
	CHECK_EQ(b.max, 0);
	buf_putc(&b, 'a');
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK_EQ(st[0], '\0');
	CHECK_EQ(st[1], '#');
}

int
main(void)
{
	RUN(buf_empty_cstr_is_empty_string);
	RUN(buf_append_nothing_leaves_empty_string);
	RUN(buf_grows_past_initial_allocation);
	RUN(buf_keeps_nul_after_every_append);
	RUN(buf_append_up_to_max_exactly_succeeds);
	RUN(buf_append_past_max_sets_toobig);
	RUN(buf_failed_append_leaves_content_unchanged);
	RUN(buf_error_is_sticky_later_appends_are_noops);
	RUN(buf_reserve_after_error_returns_null);
	RUN(buf_zero_max_accepts_nothing);
	RUN(buf_reserve_and_commit_append);
	RUN(buf_reserve_past_max_fails);
	RUN(buf_embedded_nuls_are_content);
	RUN(buf_printf_short);
	RUN(buf_printf_long_output);
	RUN(buf_printf_long_output_past_max_leaves_content);
	RUN(buf_printf_short_output_past_max_leaves_content);
	RUN(buf_reset_empties_and_clears_error_keeping_allocation);
	RUN(buf_reset_of_unallocated_buffer_is_safe);
	RUN(buf_release_leaves_empty_reusable_buffer_with_same_max);
	RUN(buf_release_twice_is_safe);
	RUN(buf_fixed_starts_as_empty_string);
	RUN(buf_fixed_uses_caller_storage);
	RUN(buf_fixed_overflow_never_reallocs_and_keeps_nul);
	RUN(buf_fixed_printf_long_output_within_storage);
	RUN(buf_fixed_printf_past_storage_fails);
	RUN(buf_fixed_release_keeps_storage_and_empties);
	RUN(buf_fixed_of_size_one_holds_only_nul);
	return t_done();
}
