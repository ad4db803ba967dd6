/*
 * lib/console/console_html.c, console_form.c and console_pw.c: what the support console does
 * with bytes from outside (escaping for HTML, form decoding, a raw body
 * shown exactly) and with passwords (scrypt hashes, their bounded format).
 */
#include <stdint.h>
#include <string.h>

#include "console/console_form.h"
#include "console/console_html.h"
#include "console/console_pw.h"
#include "crypto/crypto.h"
#include "t.h"

static char storage[8192];

/* ch_text of s, as a C string. */
static const char *
esc(const char *s, size_t n)
{
	struct buf b;

	buf_init_fixed(&b, storage, sizeof(storage));
	ch_textn(&b, s, n);
	return buf_cstr(&b);
}

/* ---------------------------------------------------------------- escaping */

TEST(text_escapes_the_five_html_characters)
{
	CHECK_STR(esc("<script>a&b\"c'd</script>", 24),
	    "&lt;script&gt;a&amp;b&quot;c&#39;d&lt;/script&gt;");
}

TEST(text_keeps_valid_utf8)
{
	CHECK_STR(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST(text_replaces_control_characters_and_nul)
{
	CHECK_STR(esc("a\x01"
		      "b\nc\x7f"
		      "d\0e",
		      9),
	    "a\xef\xbf\xbd"
	    "b\xef\xbf\xbd"
	    "c\xef\xbf\xbd"
	    "d\xef\xbf\xbd"
	    "e");
}

TEST(text_replaces_invalid_utf8_byte_by_byte)
{
	/* An overlong '<' (C0 BC), a lone continuation, a surrogate, a truncated sequence. */
	CHECK_STR(esc("\xc0\xbc|\x80|\xed\xa0\x80|\xe2\x82", 11),
	    "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(url_leaves_only_unreserved_characters)
{
	struct buf b;

	buf_init_fixed(&b, storage, sizeof(storage));
	ch_url(&b, "a b\"<&>/?#=%");
	CHECK_STR(buf_cstr(&b), "a%20b%22%3C%26%3E%2F%3F%23%3D%25");
}

TEST(int_groups_thousands)
{
	struct buf b;

	buf_init_fixed(&b, storage, sizeof(storage));
	ch_int(&b, -1234567);
	CHECK_STR(buf_cstr(&b),
	    "-1\xe2\x80\xaf"
	    "234\xe2\x80\xaf"
	    "567");
	buf_init_fixed(&b, storage, sizeof(storage));
	ch_int(&b, INT64_MIN);
	CHECK(strncmp(buf_cstr(&b),
		  "-9\xe2\x80\xaf"
		  "223",
		  7) == 0);
}

/* ------------------------------------------------------------------- forms */

TEST(form_decodes_plus_and_percent)
{
	struct form f;
	const char *q = "name=a+b&reason=caf%C3%A9%20%3Cx%3E&empty=&flag";

	form_parse(&f, q, strlen(q));
	CHECK(!f.bad);
	CHECK_EQ(f.n, 4);
	CHECK_STR(form_get(&f, "name"), "a b");
	CHECK_STR(form_get(&f, "reason"), "caf\xc3\xa9 <x>");
	CHECK_STR(form_get(&f, "empty"), "");
	CHECK_STR(form_get(&f, "flag"), "");
	CHECK(form_get(&f, "missing") == NULL);
	form_release(&f);
}

/* The first of qs[] (NULL-terminated) that form_parse accepts, or NULL when it refuses them all. */
static const char *
accepted(const char *const *qs)
{
	struct form f;
	int bad;

	for (; *qs != NULL; qs++) {
		form_parse(&f, *qs, strlen(*qs));
		bad = f.bad;
		form_release(&f);
		if (!bad)
			return *qs;
	}
	return NULL;
}

TEST(form_refuses_bad_escapes)
{
	const char *const bad[] = { "a=%", "a=%4", "a=%zz", "a=%4g&b=1", NULL };

	CHECK(accepted(bad) == NULL);
}

TEST(form_refuses_nul_controls_and_invalid_utf8)
{
	const char *const bad[] = { "a=x%00y", "a=%0A", "a=%C0%BC", "%01=x", "a=%ED%A0%80", NULL };

	CHECK(accepted(bad) == NULL);
}

TEST(form_refuses_too_many_fields)
{
	char q[6 * (FORM_FIELDS_MAX + 1) + 1];
	struct form f;
	size_t i;

	/* Distinct names a00=1&a01=1&...: only the count can be wrong. */
	for (i = 0; i <= FORM_FIELDS_MAX; i++)
		snprintf(q + 6 * i, 7, "a%02zu=1&", i);
	q[6 * (FORM_FIELDS_MAX + 1) - 1] = '\0';
	form_parse(&f, q, strlen(q));
	CHECK(f.bad);
	form_release(&f);
	q[6 * FORM_FIELDS_MAX - 1] = '\0';
	form_parse(&f, q, strlen(q));
	CHECK(!f.bad);
	CHECK_EQ(f.n, FORM_FIELDS_MAX);
	form_release(&f);
}

TEST(form_refuses_a_name_given_twice)
{
	const char *const bad[] = { "amount=5&amount=7", "a=1&b=2&a=1", "a&a", "a%3D=1&a%3d=2",
		NULL };
	const char *const good[] = { "a=1&A=1&aa=1", NULL };

	CHECK(accepted(bad) == NULL);
	CHECK(accepted(good) != NULL);
}

TEST(form_of_one_byte_fields_fits_its_buffer)
{
	/* The worst case of the decoding buffer: many fields of one character. */
	struct form f;
	const char *q = "a&b&c&d&e&f&g&h&i&j&k&l&m&n&o&p";

	form_parse(&f, q, strlen(q));
	CHECK(!f.bad);
	CHECK_EQ(f.n, 16);
	CHECK_STR(f.name[15], "p");
	form_release(&f);
}

/* --------------------------------------------------------------- raw bodies */

TEST(body_json_is_indented_with_its_bytes_unchanged)
{
	const char *j =
	    "{\"a\":[1,2.50e3,{}],\"b\":\"x\\\"<y>\",\"c\":{\"d\":[]},\"n\":123456789012345678901}";
	struct buf b;

	buf_init_fixed(&b, storage, sizeof(storage));
	ch_body(&b, j, strlen(j));
	CHECK_STR(buf_cstr(&b),
	    "{\n  &quot;a&quot;: [\n    1,\n    2.50e3,\n    {}\n  ],\n"
	    "  &quot;b&quot;: &quot;x\\&quot;&lt;y&gt;&quot;,\n"
	    "  &quot;c&quot;: {\n    &quot;d&quot;: []\n  },\n"
	    "  &quot;n&quot;: 123456789012345678901\n}");
}

TEST(body_not_json_is_shown_escaped_with_its_lines)
{
	struct buf b;

	buf_init_fixed(&b, storage, sizeof(storage));
	ch_body(&b, "a=1&b=<2>\nc\r", 12);
	CHECK_STR(buf_cstr(&b), "a=1&amp;b=&lt;2&gt;\nc\xef\xbf\xbd");
}

/* --------------------------------------------------------------- passwords */

TEST(password_hash_verifies_and_names_its_parameters)
{
	char h[ADMIN_HASH_MAX], h2[ADMIN_HASH_MAX];

	CHECK_EQ(console_pw_hash("correct horse battery", h), TERR_OK);
	CHECK(strncmp(h, "$scrypt$ln=15,r=8,p=3$", 22) == 0);
	CHECK(console_pw_verify("correct horse battery", h) == 1);
	CHECK(console_pw_verify("correct horse batterY", h) == 0);
	CHECK(console_pw_verify("", h) == 0);
	/* Salted: the same password hashes differently. */
	CHECK_EQ(console_pw_hash("correct horse battery", h2), TERR_OK);
	CHECK(strcmp(h, h2) != 0);
}

TEST(password_verify_refuses_malformed_and_unbounded_hashes)
{
	const char *bad[] = {
		"",
		"plain",
		"$scrypt$ln=17,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=17,r=99,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=17,r=8,p=1$!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=17,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
		"$pbkdf2$ln=17,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		NULL,
	};
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		CHECK(console_pw_verify("anything at all", bad[i]) == 0);
}

TEST(password_verify_reads_the_parameters_of_the_stored_hash)
{
	/* Made with Python's hashlib.scrypt: "password", salt "saltsalt", N = 2^10, r = 8, p = 1. */
	const char *h =
	    "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$AOLXEESCcPmf2DxU3D47ZJxp5ZTcHC0S2Mb2eFXc4tI";

	CHECK(console_pw_verify("password", h) == 1);
	CHECK(console_pw_verify("passwore", h) == 0);
	/* RFC 7914's p = 16 is past the bound (4), its 4-byte salt under the minimum (8). */
	CHECK(
	    console_pw_verify("password",
		"$scrypt$ln=10,r=8,p=16$TmFDbA$_bq-HJ00cgB4VucZDQHp_nxq18vII3gw53N2Y0s3MWI") == 0);
	CHECK(console_pw_verify("password",
		  "$scrypt$ln=10,r=8,p=1$TmFDbA$J7QYxnTHadElAfux9TusMt9lFMDyjQQ4crFIs0iWGnk") == 0);
}

int
main(void)
{
	crypto_init();
	RUN(text_escapes_the_five_html_characters);
	RUN(text_keeps_valid_utf8);
	RUN(text_replaces_control_characters_and_nul);
	RUN(text_replaces_invalid_utf8_byte_by_byte);
	RUN(url_leaves_only_unreserved_characters);
	RUN(int_groups_thousands);
	RUN(form_decodes_plus_and_percent);
	RUN(form_refuses_bad_escapes);
	RUN(form_refuses_nul_controls_and_invalid_utf8);
	RUN(form_refuses_too_many_fields);
	RUN(form_refuses_a_name_given_twice);
	RUN(form_of_one_byte_fields_fits_its_buffer);
	RUN(body_json_is_indented_with_its_bytes_unchanged);
	RUN(body_not_json_is_shown_escaped_with_its_lines);
	RUN(password_hash_verifies_and_names_its_parameters);
	RUN(password_verify_refuses_malformed_and_unbounded_hashes);
	RUN(password_verify_reads_the_parameters_of_the_stored_hash);
	return t_done();
}
