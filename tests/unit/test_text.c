/*
 * lib/base/text.h and lib/base/tm.h: the bounded parsers every byte from outside goes
 * through (STYLE.md 9). Bad input is checked as carefully as good input.
 */
#include <stdint.h>
#include <string.h>

#include "base/text.h"
#include "base/tm.h"
#include "t.h"

/* ---------------------------------------------------------------- text_i64 */

TEST(i64_parses_int64_max)
{
	int64_t v = 0;

	CHECK_EQ(text_i64s("9223372036854775807", INT64_MIN, INT64_MAX, &v), TERR_OK);
	CHECK(v == INT64_MAX);
}

TEST(i64_parses_int64_min)
{
	int64_t v = 0;

	CHECK_EQ(text_i64s("-9223372036854775808", INT64_MIN, INT64_MAX, &v), TERR_OK);
	CHECK(v == INT64_MIN);
}

TEST(i64_rejects_int64_max_plus_one)
{
	int64_t v = 7;

	CHECK_EQ(text_i64s("9223372036854775808", INT64_MIN, INT64_MAX, &v), TERR_TOOBIG);
	CHECK_EQ(v, 7);
}

TEST(i64_rejects_int64_min_minus_one)
{
	int64_t v = 7;

	CHECK_EQ(text_i64s("-9223372036854775809", INT64_MIN, INT64_MAX, &v), TERR_TOOBIG);
	CHECK_EQ(v, 7);
}

TEST(i64_rejects_overflow_by_one_more_digit)
{
	int64_t v = 7;

	CHECK_EQ(text_i64s("92233720368547758070", INT64_MIN, INT64_MAX, &v), TERR_TOOBIG);
	CHECK_EQ(text_i64s("-92233720368547758080", INT64_MIN, INT64_MAX, &v), TERR_TOOBIG);
	CHECK_EQ(v, 7);
}

TEST(i64_rejects_value_outside_min_max)
{
	int64_t v = 7;

	CHECK_EQ(text_i64s("11", 0, 10, &v), TERR_TOOBIG);
	CHECK_EQ(text_i64s("-1", 0, 10, &v), TERR_TOOBIG);
	CHECK_EQ(v, 7);
}

TEST(i64_accepts_min_and_max_bounds_inclusive)
{
	int64_t v = 0;

	CHECK_EQ(text_i64s("-5", -5, 5, &v), TERR_OK);
	CHECK_EQ(v, -5);
	CHECK_EQ(text_i64s("5", -5, 5, &v), TERR_OK);
	CHECK_EQ(v, 5);
}

TEST(i64_parses_leading_minus)
{
	int64_t v = 0;

	CHECK_EQ(text_i64s("-42", INT64_MIN, INT64_MAX, &v), TERR_OK);
	CHECK_EQ(v, -42);
}

TEST(i64_rejects_lone_minus)
{
	int64_t v = 0;

	CHECK_EQ(text_i64s("-", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
}

TEST(i64_rejects_empty)
{
	int64_t v = 0;

	CHECK_EQ(text_i64s("", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
	CHECK_EQ(text_i64("123", 0, INT64_MIN, INT64_MAX, &v), TERR_INVAL);
}

TEST(i64_rejects_spaces)
{
	int64_t v = 0;

	CHECK_EQ(text_i64s(" 1", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
	CHECK_EQ(text_i64s("1 ", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
	CHECK_EQ(text_i64s("- 1", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
}

TEST(i64_rejects_plus_sign)
{
	int64_t v = 0;

	CHECK_EQ(text_i64s("+1", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
}

TEST(i64_rejects_non_digits)
{
	int64_t v = 0;

	CHECK_EQ(text_i64s("12a", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
	CHECK_EQ(text_i64s("0x10", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
	CHECK_EQ(text_i64s("1.0", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
	CHECK_EQ(text_i64s("1e3", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
	CHECK_EQ(text_i64s("--1", INT64_MIN, INT64_MAX, &v), TERR_INVAL);
}

TEST(i64_reads_only_the_given_length)
{
	int64_t v = 0;

	CHECK_EQ(text_i64("12345", 3, INT64_MIN, INT64_MAX, &v), TERR_OK);
	CHECK_EQ(v, 123);
}

TEST(i64_rejects_embedded_nul)
{
	int64_t v = 0;

	CHECK_EQ(text_i64("1\0002", 3, INT64_MIN, INT64_MAX, &v), TERR_INVAL);
}

/* -------------------------------------------------------- text_utf8_valid */

TEST(utf8_accepts_ascii_and_empty)
{
	CHECK_EQ(text_utf8_valid("", 0), 1);
	CHECK_EQ(text_utf8_valid("hello", 5), 1);
}

TEST(utf8_accepts_valid_multibyte)
{
	/* é (2 bytes), € (3), 😀 (4), U+10FFFF (largest), U+D7FF and U+E000 (around surrogates). */
	static const char s[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"
				"\xed\x9f\xbf\xee\x80\x80";

	CHECK_EQ(text_utf8_valid(s, sizeof(s) - 1), 1);
}

TEST(utf8_rejects_overlong_two_byte_nul)
{
	CHECK_EQ(text_utf8_valid("\xc0\x80", 2), 0);
	CHECK_EQ(text_utf8_valid("\xc1\xbf", 2), 0);
}

TEST(utf8_rejects_overlong_three_and_four_byte)
{
	CHECK_EQ(text_utf8_valid("\xe0\x80\xaf", 3), 0);
	CHECK_EQ(text_utf8_valid("\xf0\x80\x80\xaf", 4), 0);
}

TEST(utf8_rejects_surrogates)
{
	CHECK_EQ(text_utf8_valid("\xed\xa0\x80", 3), 0); /* U+D800 */
	CHECK_EQ(text_utf8_valid("\xed\xbf\xbf", 3), 0); /* U+DFFF */
}

TEST(utf8_rejects_code_points_past_10ffff)
{
	CHECK_EQ(text_utf8_valid("\xf4\x90\x80\x80", 4), 0);
	CHECK_EQ(text_utf8_valid("\xf5\x80\x80\x80", 4), 0);
	CHECK_EQ(text_utf8_valid("\xff", 1), 0);
}

TEST(utf8_rejects_truncated_sequences)
{
	CHECK_EQ(text_utf8_valid("\xc3", 1), 0);
	CHECK_EQ(text_utf8_valid("\xe2\x82", 2), 0);
	CHECK_EQ(text_utf8_valid("\xf0\x9f\x98", 3), 0);
	/* Truncated by the length, though the bytes continue past it. */
	CHECK_EQ(text_utf8_valid("a\xe2\x82\xac", 3), 0);
}

TEST(utf8_rejects_sequence_cut_by_ascii)
{
	CHECK_EQ(text_utf8_valid("\xe2\x82"
				 "A",
		     3),
	    0);
}

TEST(utf8_rejects_lone_continuation_byte)
{
	CHECK_EQ(text_utf8_valid("a\x80"
				 "b",
		     3),
	    0);
}

/* ---------------------------------------------------------- text_id_valid */

TEST(id_accepts_printable_and_utf8)
{
	CHECK_EQ(text_id_valid("user_42", 64), 1);
	CHECK_EQ(text_id_valid("J\xc3\xbcrgen", 64), 1);
}

TEST(id_rejects_empty)
{
	CHECK_EQ(text_id_valid("", 64), 0);
}

TEST(id_rejects_control_characters)
{
	CHECK_EQ(text_id_valid("a\tb", 64), 0);
	CHECK_EQ(text_id_valid("a\nb", 64), 0);
	CHECK_EQ(text_id_valid("\x1f", 64), 0);
	CHECK_EQ(text_id_valid("\x01user", 64), 0);
}

TEST(id_rejects_del)
{
	CHECK_EQ(text_id_valid("user\x7f", 64), 0);
}

TEST(id_length_limit_is_inclusive)
{
	CHECK_EQ(text_id_valid("abcd", 4), 1);
	CHECK_EQ(text_id_valid("abcde", 4), 0);
}

TEST(id_rejects_invalid_utf8)
{
	CHECK_EQ(text_id_valid("user\xff", 64), 0);
	CHECK_EQ(text_id_valid("\xed\xa0\x80", 64), 0);
}

/* ------------------------------------------------------ text_hex / unhex */

TEST(hex_round_trips_all_byte_values)
{
	unsigned char in[256], back[256];
	char hex[513];
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	text_hex(in, sizeof(in), hex);
	CHECK_EQ(strlen(hex), 512);
	CHECK_EQ(text_unhex(hex, 512, back, sizeof(back)), TERR_OK);
	CHECK(memcmp(in, back, sizeof(in)) == 0);
}

TEST(hex_encodes_lowercase)
{
	static const unsigned char in[] = { 0x00, 0xab, 0xff, 0x10 };
	char hex[9];

	text_hex(in, sizeof(in), hex);
	CHECK_STR(hex, "00abff10");
}

TEST(hex_of_nothing_is_empty_string)
{
	char hex[1] = { 'x' };

	text_hex((const unsigned char *)"", 0, hex);
	CHECK_EQ(hex[0], '\0');
}

TEST(unhex_accepts_uppercase)
{
	unsigned char out[2];

	CHECK_EQ(text_unhex("ABcd", 4, out, sizeof(out)), TERR_OK);
	CHECK_EQ(out[0], 0xab);
	CHECK_EQ(out[1], 0xcd);
}

TEST(unhex_rejects_odd_length)
{
	unsigned char out[4];

	CHECK_EQ(text_unhex("abc", 3, out, sizeof(out)), TERR_INVAL);
}

TEST(unhex_rejects_non_hex_digit)
{
	unsigned char out[4];

	CHECK_EQ(text_unhex("0g", 2, out, sizeof(out)), TERR_INVAL);
	CHECK_EQ(text_unhex("g0", 2, out, sizeof(out)), TERR_INVAL);
	CHECK_EQ(text_unhex(" 0", 2, out, sizeof(out)), TERR_INVAL);
	CHECK_EQ(text_unhex("0\0", 2, out, sizeof(out)), TERR_INVAL);
}

TEST(unhex_never_writes_past_outsize)
{
	unsigned char out[4] = { 0xee, 0xee, 0xee, 0xee };

	CHECK(text_unhex("00112233", 8, out, 2) != TERR_OK);
	CHECK_EQ(out[2], 0xee);
	CHECK_EQ(out[3], 0xee);
}

/* ------------------------------------------------------------- text_copy */

TEST(copy_fits_exactly)
{
	char dst[4];

	CHECK_EQ(text_copy(dst, sizeof(dst), "abc"), TERR_OK);
	CHECK_STR(dst, "abc");
}

TEST(copy_truncation_returns_toobig_and_leaves_empty)
{
	char dst[4] = "zzz";

	CHECK_EQ(text_copy(dst, sizeof(dst), "abcd"), TERR_TOOBIG);
	CHECK_STR(dst, "");
}

TEST(copy_into_zero_size_writes_nothing)
{
	char dst[1] = { 'x' };

	CHECK_EQ(text_copy(dst, 0, "a"), TERR_TOOBIG);
	CHECK_EQ(dst[0], 'x');
}

TEST(copyn_copies_only_n_bytes)
{
	char dst[8];

	CHECK_EQ(text_copyn(dst, sizeof(dst), "abcdef", 3), TERR_OK);
	CHECK_STR(dst, "abc");
	CHECK_EQ(text_copyn(dst, 3, "abcdef", 3), TERR_TOOBIG);
	CHECK_STR(dst, "");
}

TEST(eq_compares_length_and_bytes)
{
	CHECK_EQ(text_eq("abcd", 3, "abc"), 1);
	CHECK_EQ(text_eq("abcd", 4, "abc"), 0);
	CHECK_EQ(text_eq("ab", 2, "abc"), 0);
	CHECK_EQ(text_eq("abC", 3, "abc"), 0);
}

/* -------------------------------------------------------------- tm_parse */

TEST(tm_parse_accepts_datetime_z)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("2026-11-22T08:12:45Z", &ms), TERR_OK);
	CHECK_EQ(ms, 1795335165000LL);
}

TEST(tm_parse_accepts_milliseconds)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("2026-11-22T08:12:45.123Z", &ms), TERR_OK);
	CHECK_EQ(ms, 1795335165123LL);
}

TEST(tm_parse_accepts_date_as_midnight_utc)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("2026-11-22", &ms), TERR_OK);
	CHECK_EQ(ms, 1795305600000LL);
}

TEST(tm_parse_accepts_epoch)
{
	int64_t ms = 1;

	CHECK_EQ(tm_parse("1970-01-01T00:00:00Z", &ms), TERR_OK);
	CHECK_EQ(ms, 0);
}

TEST(tm_parse_accepts_leap_day_in_leap_year)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("2024-02-29", &ms), TERR_OK);
	CHECK_EQ(ms, 1709164800000LL);
}

TEST(tm_parse_accepts_at_seconds)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("@1700000000", &ms), TERR_OK);
	CHECK_EQ(ms, 1700000000000LL);
	CHECK_EQ(tm_parse("@0", &ms), TERR_OK);
	CHECK_EQ(ms, 0);
}

TEST(tm_parse_rejects_bad_at_seconds)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("@", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("@-1", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("@1.5", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("@ 1", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("@99999999999999999999", &ms), TERR_INVAL);
}

TEST(tm_parse_rejects_at_seconds_overflowing_ms)
{
	int64_t ms = 0;

	/* INT64_MAX / 1000 + 1 seconds do not fit in int64 ms. */
	CHECK_EQ(tm_parse("@9223372036854776", &ms), TERR_INVAL);
}

TEST(tm_parse_rejects_empty_and_garbage)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("yesterday", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("1700000000", &ms), TERR_INVAL);
}

TEST(tm_parse_rejects_missing_z)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("2026-11-22T08:12:45", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:12:45.123", &ms), TERR_INVAL);
}

TEST(tm_parse_rejects_numeric_offsets)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("2026-11-22T08:12:45+01:00", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:12:45-00:00", &ms), TERR_INVAL);
}

TEST(tm_parse_rejects_out_of_range_fields)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("2026-13-01", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-00-01", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-01-00", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-04-31", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T24:00:00Z", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:60:00Z", &ms), TERR_INVAL);
}

TEST(tm_parse_rejects_feb_29_in_common_year)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("2025-02-29", &ms), TERR_INVAL);
}

TEST(tm_parse_rejects_wrong_separators_and_lengths)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse("2026/11/22", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22Z", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22X08:12:45Z", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08-12-45Z", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:12:45.1Z", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:12:45.1234Z", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:12:45Zjunk", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:12:45.123Zjunk", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:12:45Z ", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("26-11-22", &ms), TERR_INVAL);
}

TEST(tm_parse_rejects_signed_time_fields)
{
	int64_t ms = 0;

	/* RFC 3339 section 5.6: every field is exactly 2DIGIT; a sign is not a digit. */
	CHECK_EQ(tm_parse("2026-11-22T-0:12:45Z", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:-0:45Z", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:12:-0Z", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse("2026-11-22T08:12:45.-00Z", &ms), TERR_INVAL);
}

/* ---------------------------------------------------------------- tm_iso */

TEST(tm_iso_without_ms)
{
	char out[TM_ISO_SIZE];

	tm_iso(1795335165000LL, out);
	CHECK_STR(out, "2026-11-22T08:12:45Z");
}

TEST(tm_iso_with_ms)
{
	char out[TM_ISO_SIZE];

	tm_iso(1795335165007LL, out);
	CHECK_STR(out, "2026-11-22T08:12:45.007Z");
}

TEST(tm_iso_before_epoch_borrows_a_second)
{
	char out[TM_ISO_SIZE];

	tm_iso(-1, out);
	CHECK_STR(out, "1969-12-31T23:59:59.999Z");
}

TEST(tm_iso_round_trips_through_tm_parse)
{
	char out[TM_ISO_SIZE];
	int64_t ms = 0;

	tm_iso(1709164800123LL, out);
	CHECK_EQ(tm_parse(out, &ms), TERR_OK);
	CHECK_EQ(ms, 1709164800123LL);
}

/* ----------------------------------------------------- tm_parse_duration */

TEST(duration_plain_integer_is_seconds)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse_duration("90", &ms), TERR_OK);
	CHECK_EQ(ms, 90000);
}

TEST(duration_units)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse_duration("90s", &ms), TERR_OK);
	CHECK_EQ(ms, 90000);
	CHECK_EQ(tm_parse_duration("15m", &ms), TERR_OK);
	CHECK_EQ(ms, 900000);
	CHECK_EQ(tm_parse_duration("12h", &ms), TERR_OK);
	CHECK_EQ(ms, 43200000);
	CHECK_EQ(tm_parse_duration("7d", &ms), TERR_OK);
	CHECK_EQ(ms, 604800000);
}

TEST(duration_zero_is_allowed)
{
	int64_t ms = 1;

	CHECK_EQ(tm_parse_duration("0", &ms), TERR_OK);
	CHECK_EQ(ms, 0);
}

TEST(duration_rejects_unknown_unit)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse_duration("1x", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse_duration("1w", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse_duration("1D", &ms), TERR_INVAL);
}

TEST(duration_rejects_empty_and_unit_alone)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse_duration("", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse_duration("d", &ms), TERR_INVAL);
}

TEST(duration_rejects_negative)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse_duration("-5", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse_duration("-1d", &ms), TERR_INVAL);
}

TEST(duration_rejects_spaces_and_two_units)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse_duration(" 5", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse_duration("5 m", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse_duration("1h30m", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse_duration("1.5h", &ms), TERR_INVAL);
}

TEST(duration_rejects_overflow)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse_duration("99999999999999999999", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse_duration("9223372036854775807d", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse_duration("9223372036854775807", &ms), TERR_INVAL);
}

TEST(duration_caps_at_about_ten_years)
{
	int64_t ms = 0;

	CHECK_EQ(tm_parse_duration("3660d", &ms), TERR_OK);
	CHECK_EQ(ms, 3660LL * 86400 * 1000);
	CHECK_EQ(tm_parse_duration("3661d", &ms), TERR_INVAL);
	CHECK_EQ(tm_parse_duration("316224001", &ms), TERR_INVAL);
}

int
main(void)
{
	RUN(i64_parses_int64_max);
	RUN(i64_parses_int64_min);
	RUN(i64_rejects_int64_max_plus_one);
	RUN(i64_rejects_int64_min_minus_one);
	RUN(i64_rejects_overflow_by_one_more_digit);
	RUN(i64_rejects_value_outside_min_max);
	RUN(i64_accepts_min_and_max_bounds_inclusive);
	RUN(i64_parses_leading_minus);
	RUN(i64_rejects_lone_minus);
	RUN(i64_rejects_empty);
	RUN(i64_rejects_spaces);
	RUN(i64_rejects_plus_sign);
	RUN(i64_rejects_non_digits);
	RUN(i64_reads_only_the_given_length);
	RUN(i64_rejects_embedded_nul);

	RUN(utf8_accepts_ascii_and_empty);
	RUN(utf8_accepts_valid_multibyte);
	RUN(utf8_rejects_overlong_two_byte_nul);
	RUN(utf8_rejects_overlong_three_and_four_byte);
	RUN(utf8_rejects_surrogates);
	RUN(utf8_rejects_code_points_past_10ffff);
	RUN(utf8_rejects_truncated_sequences);
	RUN(utf8_rejects_sequence_cut_by_ascii);
	RUN(utf8_rejects_lone_continuation_byte);

	RUN(id_accepts_printable_and_utf8);
	RUN(id_rejects_empty);
	RUN(id_rejects_control_characters);
	RUN(id_rejects_del);
	RUN(id_length_limit_is_inclusive);
	RUN(id_rejects_invalid_utf8);

	RUN(hex_round_trips_all_byte_values);
	RUN(hex_encodes_lowercase);
	RUN(hex_of_nothing_is_empty_string);
	RUN(unhex_accepts_uppercase);
	RUN(unhex_rejects_odd_length);
	RUN(unhex_rejects_non_hex_digit);
	RUN(unhex_never_writes_past_outsize);

	RUN(copy_fits_exactly);
	RUN(copy_truncation_returns_toobig_and_leaves_empty);
	RUN(copy_into_zero_size_writes_nothing);
	RUN(copyn_copies_only_n_bytes);
	RUN(eq_compares_length_and_bytes);

	RUN(tm_parse_accepts_datetime_z);
	RUN(tm_parse_accepts_milliseconds);
	RUN(tm_parse_accepts_date_as_midnight_utc);
	RUN(tm_parse_accepts_epoch);
	RUN(tm_parse_accepts_leap_day_in_leap_year);
	RUN(tm_parse_accepts_at_seconds);
	RUN(tm_parse_rejects_bad_at_seconds);
	RUN(tm_parse_rejects_at_seconds_overflowing_ms);
	RUN(tm_parse_rejects_empty_and_garbage);
	RUN(tm_parse_rejects_missing_z);
	RUN(tm_parse_rejects_numeric_offsets);
	RUN(tm_parse_rejects_out_of_range_fields);
	RUN(tm_parse_rejects_feb_29_in_common_year);
	RUN(tm_parse_rejects_wrong_separators_and_lengths);
	RUN(tm_parse_rejects_signed_time_fields);

	RUN(tm_iso_without_ms);
	RUN(tm_iso_with_ms);
	RUN(tm_iso_before_epoch_borrows_a_second);
	RUN(tm_iso_round_trips_through_tm_parse);

	RUN(duration_plain_integer_is_seconds);
	RUN(duration_units);
	RUN(duration_zero_is_allowed);
	RUN(duration_rejects_unknown_unit);
	RUN(duration_rejects_empty_and_unit_alone);
	RUN(duration_rejects_negative);
	RUN(duration_rejects_spaces_and_two_units);
	RUN(duration_rejects_overflow);
	RUN(duration_caps_at_about_ten_years);
	return t_done();
}
