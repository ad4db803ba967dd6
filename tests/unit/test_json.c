/*
 * lib/base/json.h: json_parse adds to cJSON what RFC 8259 leaves to the reader
 * (duplicate keys, nesting, UTF-8, escaped NUL, trailing data); the getters
 * tell absent from wrong type; the writer's output must always be JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/tally_limits.h"
#include "base/text.h"
#include "t.h"

/* Parse a C string (its length without the NUL) at the project's depth limit. */
static enum terr
parse(const char *s, cJSON **out)
{
	const char *why = NULL;
	enum terr rc;

	rc = json_parse(s, strlen(s), JSON_DEPTH_MAX, out, &why);
	if (rc != TERR_OK && why == NULL)
		return TERR_INTERNAL; /* a failure must say why */
	return rc;
}

/* True when s fails to parse and leaves *out NULL. */
static int
rejects(const char *s)
{
	cJSON *root = (cJSON *)&root; /* not NULL: json_parse must clear it */
	enum terr rc = parse(s, &root);

	if (rc == TERR_OK) {
		cJSON_Delete(root);
		return 0;
	}
	return rc != TERR_INTERNAL && root == NULL;
}

/* 1 when s parses; the tree is freed. */
static int
accepts(const char *s)
{
	cJSON *root = NULL;

	if (parse(s, &root) != TERR_OK)
		return 0;
	cJSON_Delete(root);
	return 1;
}

/* ------------------------------------------------------------- json_parse */

TEST(json_accepts_plain_object)
{
	cJSON *root = NULL;

	CHECK_EQ(parse("{\"a\":1,\"b\":[true,null,\"x\"]}", &root), TERR_OK);
	CHECK(cJSON_IsObject(root));
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "b")) == 3);
	cJSON_Delete(root);
}

TEST(json_rejects_duplicate_keys)
{
	CHECK(rejects("{\"a\":1,\"a\":2}"));
}

TEST(json_rejects_duplicate_keys_with_different_values_types)
{
	CHECK(rejects("{\"a\":{},\"b\":1,\"a\":null}"));
}

TEST(json_rejects_duplicate_keys_spelled_with_escapes)
{
	/* "\u0061" is "a": the same key once decoded. */
	CHECK(rejects("{\"a\":1,\"\\u0061\":2}"));
}

TEST(json_rejects_nested_duplicate_keys)
{
	CHECK(rejects("{\"data\":{\"object\":{\"id\":\"x\",\"id\":\"y\"}}}"));
}

TEST(json_rejects_duplicate_keys_in_object_inside_array)
{
	CHECK(rejects("[{\"x\":1},{\"x\":1,\"y\":2,\"x\":3}]"));
}

TEST(json_accepts_same_key_in_sibling_objects)
{
	CHECK(accepts("{\"a\":{\"id\":1},\"b\":{\"id\":2},\"c\":[{\"id\":3},{\"id\":4}]}"));
}

/* An object with nkeys distinct keys k0..k(n-1), then the key dup if not NULL. */
static void
many_keys(struct buf *b, int nkeys, const char *dup)
{
	int i;

	buf_putc(b, '{');
	for (i = 0; i < nkeys; i++)
		buf_printf(b, "%s\"k%d\":%d", i ? "," : "", i, i);
	if (dup != NULL)
		buf_printf(b, ",\"%s\":0", dup);
	buf_putc(b, '}');
}

TEST(json_accepts_object_with_more_than_32_distinct_keys)
{
	struct buf b;
	int ok;

	buf_init(&b, 1 << 16);
	many_keys(&b, 40, NULL);
	CHECK_EQ(b.err, TERR_OK);
	ok = accepts(buf_cstr(&b));
	buf_release(&b);
	CHECK(ok);
}

TEST(json_rejects_duplicate_keys_in_object_with_more_than_32_keys)
{
	struct buf b;
	int bad;

	buf_init(&b, 1 << 16);
	many_keys(&b, 40, "k5");
	CHECK_EQ(b.err, TERR_OK);
	bad = rejects(buf_cstr(&b));
	buf_release(&b);
	CHECK(bad);
}

TEST(json_rejects_duplicate_first_and_last_of_many_keys)
{
	struct buf b;
	int bad;

	buf_init(&b, 1 << 16);
	many_keys(&b, 100, "k0");
	bad = rejects(buf_cstr(&b));
	buf_release(&b);
	CHECK(bad);
}

/* depth nested arrays around 1. */
static void
nested(struct buf *b, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		buf_putc(b, '[');
	buf_putc(b, '1');
	for (i = 0; i < depth; i++)
		buf_putc(b, ']');
}

TEST(json_accepts_depth_equal_to_max)
{
	struct buf b;
	int ok;

	buf_init(&b, 1024);
	nested(&b, JSON_DEPTH_MAX);
	ok = accepts(buf_cstr(&b));
	buf_release(&b);
	CHECK(ok);
}

TEST(json_rejects_depth_past_max)
{
	struct buf b;
	cJSON *root = NULL;
	const char *why = NULL;
	enum terr rc;

	buf_init(&b, 1024);
	nested(&b, JSON_DEPTH_MAX + 1);
	rc = json_parse(b.p, b.len, JSON_DEPTH_MAX, &root, &why);
	buf_release(&b);
	CHECK_EQ(rc, TERR_TOOBIG);
	CHECK(root == NULL);
	CHECK(why != NULL);
}

TEST(json_depth_limit_counts_objects_too)
{
	cJSON *root = NULL;
	const char *why = NULL;
	static const char s[] = "{\"a\":{\"b\":[{}]}}";

	CHECK_EQ(json_parse(s, sizeof(s) - 1, 4, &root, &why), TERR_OK);
	cJSON_Delete(root);
	root = NULL;
	CHECK(json_parse(s, sizeof(s) - 1, 3, &root, &why) != TERR_OK);
	CHECK(root == NULL);
}

/* An empty answer (a provider's 200 with no body) comes as NULL and 0. */
TEST(json_rejects_empty_text_without_a_buffer)
{
	cJSON *root = (cJSON *)&root;
	const char *why = NULL;

	CHECK_EQ(json_parse(NULL, 0, JSON_DEPTH_MAX, &root, &why), TERR_INVAL);
	CHECK(root == NULL);
	CHECK(why != NULL);
	CHECK(rejects(""));
}

TEST(json_rejects_raw_nul_byte)
{
	static const char s[] = "{\"a\":\"x\0y\"}";
	cJSON *root = NULL;
	const char *why = NULL;

	CHECK_EQ(json_parse(s, sizeof(s) - 1, JSON_DEPTH_MAX, &root, &why), TERR_INVAL);
	CHECK(root == NULL);
}

TEST(json_rejects_nul_byte_after_value)
{
	static const char s[] = "{}\0";
	cJSON *root = NULL;
	const char *why = NULL;

	CHECK_EQ(json_parse(s, sizeof(s) - 1, JSON_DEPTH_MAX, &root, &why), TERR_INVAL);
	CHECK(root == NULL);
}

TEST(json_rejects_escaped_nul)
{
	CHECK(rejects("{\"a\":\"x\\u0000y\"}"));
}

TEST(json_rejects_escaped_nul_in_key)
{
	CHECK(rejects("{\"a\\u0000b\":1}"));
}

TEST(json_rejects_escaped_nul_after_escaped_backslash)
{
	/* JSON text "\\\u0000": a backslash, then an escaped NUL. */
	CHECK(rejects("[\"\\\\\\u0000\"]"));
}

TEST(json_accepts_escaped_backslash_followed_by_u0000_text)
{
	cJSON *root = NULL;
	const cJSON *v;

	/* JSON text "\\u0000": an escaped backslash, then the letters u0000. */
	CHECK_EQ(parse("{\"a\":\"\\\\u0000\"}", &root), TERR_OK);
	v = cJSON_GetObjectItemCaseSensitive(root, "a");
	CHECK(cJSON_IsString(v));
	CHECK(strcmp(v->valuestring, "\\u0000") == 0);
	cJSON_Delete(root);
}

TEST(json_rejects_invalid_utf8)
{
	CHECK(rejects("{\"a\":\"\xff\"}"));
	CHECK(rejects("{\"a\":\"\xc3\"}"));
	CHECK(rejects("{\"a\":\"\xed\xa0\x80\"}"));
	CHECK(rejects("{\"\xc0\xaf\":1}"));
}

TEST(json_accepts_valid_utf8)
{
	cJSON *root = NULL;

	CHECK_EQ(parse("{\"name\":\"J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80\"}", &root),
	    TERR_OK);
	CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(root, "name")->valuestring,
		  "J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80") == 0);
	cJSON_Delete(root);
}

TEST(json_rejects_escaped_lone_surrogate)
{
	/* A lone surrogate would decode to invalid UTF-8 (RFC 8259 sections 7, 8.2). */
	CHECK(rejects("[\"\\ud800\"]"));
	CHECK(rejects("[\"\\udc00\"]"));
	CHECK(rejects("[\"\\ud800x\"]"));
}

TEST(json_decodes_escaped_surrogate_pair)
{
	cJSON *root = NULL;
	int ok;

	CHECK_EQ(parse("[\"\\ud83d\\ude00\"]", &root), TERR_OK);
	ok = strcmp(cJSON_GetArrayItem(root, 0)->valuestring, "\xf0\x9f\x98\x80") == 0;
	cJSON_Delete(root);
	CHECK(ok);
}

TEST(json_rejects_trailing_garbage)
{
	CHECK(rejects("{} x"));
	CHECK(rejects("{}{}"));
	CHECK(rejects("[1],"));
	CHECK(rejects("1 2"));
	CHECK(rejects("{}\f"));
}

TEST(json_accepts_trailing_whitespace)
{
	CHECK(accepts("{\"a\":1} \t\r\n"));
	CHECK(accepts("[]\n"));
}

TEST(json_rejects_malformed)
{
	CHECK(rejects(""));
	CHECK(rejects("   "));
	CHECK(rejects("{\"a\":}"));
	CHECK(rejects("{\"a\" 1}"));
	CHECK(rejects("[1,]"));
	CHECK(rejects("{'a':1}"));
	CHECK(rejects("\"unterminated"));
}

TEST(json_parse_reads_only_the_given_length)
{
	static const char s[] = "{\"a\":1}garbage";
	cJSON *root = NULL;
	const char *why = NULL;

	CHECK_EQ(json_parse(s, 7, JSON_DEPTH_MAX, &root, &why), TERR_OK);
	CHECK(cJSON_IsObject(root));
	cJSON_Delete(root);
}

/* ---------------------------------------------------------------- getters */

/* Parse s into a tree, or NULL. */
static cJSON *
tree(const char *s)
{
	cJSON *root = NULL;

	if (parse(s, &root) != TERR_OK)
		return NULL;
	return root;
}

TEST(jint_integral_value_returns_1)
{
	cJSON *o = tree("{\"a\":42,\"b\":-7,\"c\":1e2,\"d\":0}");
	int64_t v = 0;

	CHECK(o != NULL);
	CHECK_EQ(jint(o, "a", &v), 1);
	CHECK_EQ(v, 42);
	CHECK_EQ(jint(o, "b", &v), 1);
	CHECK_EQ(v, -7);
	CHECK_EQ(jint(o, "c", &v), 1);
	CHECK_EQ(v, 100);
	CHECK_EQ(jint(o, "d", &v), 1);
	CHECK_EQ(v, 0);
	cJSON_Delete(o);
}

TEST(jint_accepts_plus_minus_2_pow_53)
{
	cJSON *o = tree("{\"max\":9007199254740992,\"min\":-9007199254740992}");
	int64_t v = 0;

	CHECK(o != NULL);
	CHECK_EQ(jint(o, "max", &v), 1);
	CHECK_EQ(v, 9007199254740992LL);
	CHECK_EQ(jint(o, "min", &v), 1);
	CHECK_EQ(v, -9007199254740992LL);
	cJSON_Delete(o);
}

TEST(jint_rejects_past_2_pow_53)
{
	cJSON *o = tree("{\"a\":9007199254740994,\"b\":-9007199254740994,\"c\":1e300}");
	int64_t v = 0;

	CHECK(o != NULL);
	CHECK_EQ(jint(o, "a", &v), -1);
	CHECK_EQ(jint(o, "b", &v), -1);
	CHECK_EQ(jint(o, "c", &v), -1);
	cJSON_Delete(o);
}

TEST(jint_fraction_returns_minus_1)
{
	cJSON *o = tree("{\"a\":1.5,\"b\":-0.1}");
	int64_t v = 0;

	CHECK(o != NULL);
	CHECK_EQ(jint(o, "a", &v), -1);
	CHECK_EQ(jint(o, "b", &v), -1);
	cJSON_Delete(o);
}

TEST(jint_infinite_1e400_returns_minus_1)
{
	cJSON *o = tree("{\"a\":1e400,\"b\":-1e400}");
	int64_t v = 0;

	CHECK(o != NULL);
	CHECK_EQ(jint(o, "a", &v), -1);
	CHECK_EQ(jint(o, "b", &v), -1);
	cJSON_Delete(o);
}

TEST(jint_string_returns_minus_1)
{
	cJSON *o = tree("{\"a\":\"5\",\"b\":true,\"c\":[1],\"d\":{}}");
	int64_t v = 0;

	CHECK(o != NULL);
	CHECK_EQ(jint(o, "a", &v), -1);
	CHECK_EQ(jint(o, "b", &v), -1);
	CHECK_EQ(jint(o, "c", &v), -1);
	CHECK_EQ(jint(o, "d", &v), -1);
	cJSON_Delete(o);
}

TEST(jint_absent_or_null_returns_0)
{
	cJSON *o = tree("{\"a\":null}");
	int64_t v = 0;

	CHECK(o != NULL);
	CHECK_EQ(jint(o, "a", &v), 0);
	CHECK_EQ(jint(o, "missing", &v), 0);
	CHECK_EQ(jint(NULL, "a", &v), 0);
	cJSON_Delete(o);
}

TEST(jbool_reads_true_and_false)
{
	cJSON *o = tree("{\"t\":true,\"f\":false}");
	int v = -5;

	CHECK(o != NULL);
	CHECK_EQ(jbool(o, "t", &v), 1);
	CHECK_EQ(v, 1);
	CHECK_EQ(jbool(o, "f", &v), 1);
	CHECK_EQ(v, 0);
	cJSON_Delete(o);
}

TEST(jbool_wrong_type_returns_minus_1)
{
	cJSON *o = tree("{\"s\":\"true\",\"n\":1,\"o\":{}}");
	int v = 0;

	CHECK(o != NULL);
	CHECK_EQ(jbool(o, "s", &v), -1);
	CHECK_EQ(jbool(o, "n", &v), -1);
	CHECK_EQ(jbool(o, "o", &v), -1);
	cJSON_Delete(o);
}

TEST(jbool_absent_or_null_returns_0)
{
	cJSON *o = tree("{\"a\":null}");
	int v = 0;

	CHECK(o != NULL);
	CHECK_EQ(jbool(o, "a", &v), 0);
	CHECK_EQ(jbool(o, "b", &v), 0);
	cJSON_Delete(o);
}

TEST(jstr_returns_string_only)
{
	cJSON *o = tree("{\"s\":\"hi\",\"e\":\"\",\"n\":5,\"z\":null,\"b\":false}");

	CHECK(o != NULL);
	CHECK_STR(jstr(o, "s"), "hi");
	CHECK_STR(jstr(o, "e"), "");
	CHECK(jstr(o, "n") == NULL);
	CHECK(jstr(o, "z") == NULL);
	CHECK(jstr(o, "b") == NULL);
	CHECK(jstr(o, "missing") == NULL);
	cJSON_Delete(o);
}

TEST(jstr_keys_are_case_sensitive)
{
	cJSON *o = tree("{\"Id\":\"x\"}");

	CHECK(o != NULL);
	CHECK(jstr(o, "id") == NULL);
	CHECK_STR(jstr(o, "Id"), "x");
	cJSON_Delete(o);
}

TEST(jget_on_non_object_returns_null)
{
	cJSON *a = tree("[\"a\"]");

	CHECK(a != NULL);
	CHECK(jget(a, "0") == NULL);
	CHECK(jstr(a, "a") == NULL);
	CHECK(jget(NULL, "a") == NULL);
	cJSON_Delete(a);
}

TEST(jobj_and_jarr_check_type)
{
	cJSON *o = tree("{\"o\":{},\"a\":[],\"s\":\"x\",\"z\":null}");

	CHECK(o != NULL);
	CHECK(jobj(o, "o") != NULL);
	CHECK(jobj(o, "a") == NULL);
	CHECK(jobj(o, "s") == NULL);
	CHECK(jobj(o, "z") == NULL);
	CHECK(jobj(o, "missing") == NULL);
	CHECK(jarr(o, "a") != NULL);
	CHECK(jarr(o, "o") == NULL);
	CHECK(jarr(o, "z") == NULL);
	cJSON_Delete(o);
}

TEST(jpath_walks_dotted_keys)
{
	cJSON *o = tree("{\"data\":{\"object\":{\"id\":\"sub_1\",\"n\":3}}}");
	const cJSON *v;

	CHECK(o != NULL);
	v = jpath(o, "data.object.id");
	CHECK(cJSON_IsString(v));
	CHECK_STR(v->valuestring, "sub_1");
	CHECK(cJSON_IsObject(jpath(o, "data.object")));
	CHECK(jpath(o, "data") == jget(o, "data"));
	cJSON_Delete(o);
}

TEST(jpath_missing_step_returns_null)
{
	cJSON *o = tree("{\"data\":{\"object\":{\"id\":\"sub_1\"}}}");

	CHECK(o != NULL);
	CHECK(jpath(o, "data.missing.id") == NULL);
	CHECK(jpath(o, "nope.object") == NULL);
	CHECK(jpath(o, "data.object.idx") == NULL);
	cJSON_Delete(o);
}

TEST(jpath_through_non_object_returns_null)
{
	cJSON *o = tree("{\"data\":\"str\",\"arr\":[{\"id\":1}],\"z\":null}");

	CHECK(o != NULL);
	CHECK(jpath(o, "data.id") == NULL);
	CHECK(jpath(o, "arr.id") == NULL);
	CHECK(jpath(o, "z.id") == NULL);
	cJSON_Delete(o);
}

TEST(jpath_null_leaf_is_absent)
{
	cJSON *o = tree("{\"data\":{\"id\":null}}");

	CHECK(o != NULL);
	CHECK(jpath(o, "data.id") == NULL);
	cJSON_Delete(o);
}

/* ----------------------------------------------------------------- writer */

TEST(json_escape_control_char_as_u00xx)
{
	struct buf b;

	buf_init(&b, 100);
	json_escape(&b, "\x01", 1);
	CHECK_STR(buf_cstr(&b), "\"\\u0001\"");
	buf_release(&b);
}

TEST(json_escape_quotes_backslash_and_short_escapes)
{
	struct buf b;

	buf_init(&b, 100);
	json_escape(&b, "a\"b\\c\nd\re\tf", 11);
	CHECK_STR(buf_cstr(&b), "\"a\\\"b\\\\c\\nd\\re\\tf\"");
	buf_release(&b);
}

TEST(json_escape_keeps_valid_utf8)
{
	struct buf b;

	buf_init(&b, 100);
	json_escape(&b, "\xe2\x82\xac", 3);
	CHECK_STR(buf_cstr(&b), "\"\xe2\x82\xac\"");
	buf_release(&b);
}

TEST(json_escape_empty_string)
{
	struct buf b;

	buf_init(&b, 100);
	json_escape(&b, "", 0);
	CHECK_STR(buf_cstr(&b), "\"\"");
	buf_release(&b);
}

/* Every byte value 1..255 through json_escape must come out as valid JSON. */
TEST(json_escape_every_byte_gives_valid_json)
{
	struct buf b;
	char in[255];
	cJSON *root = NULL;
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)(i + 1);
	buf_init(&b, 4096);
	buf_putc(&b, '[');
	json_escape(&b, in, sizeof(in));
	buf_putc(&b, ']');
	CHECK_EQ(b.err, TERR_OK);
	CHECK_EQ(parse(buf_cstr(&b), &root), TERR_OK);
	CHECK(cJSON_IsString(cJSON_GetArrayItem(root, 0)));
	cJSON_Delete(root);
	buf_release(&b);
}

TEST(json_escape_invalid_utf8_gives_valid_json)
{
	struct buf b;
	cJSON *root = NULL;
	const cJSON *v;

	buf_init(&b, 100);
	buf_putc(&b, '[');
	json_escape(&b, "a\xff\xc3", 3);
	buf_putc(&b, ']');
	CHECK(text_utf8_valid(b.p, b.len));
	CHECK_EQ(parse(buf_cstr(&b), &root), TERR_OK);
	v = cJSON_GetArrayItem(root, 0);
	CHECK(cJSON_IsString(v));
	/* Read as Latin-1: U+00FF U+00C3. */
	CHECK(strcmp(v->valuestring, "a\xc3\xbf\xc3\x83") == 0);
	cJSON_Delete(root);
	buf_release(&b);
}

TEST(jw_nested_commas_exact)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_key(&w, "a");
	jw_arr(&w);
	jw_int(&w, 1);
	jw_arr(&w);
	jw_int(&w, 2);
	jw_int(&w, 3);
	jw_aend(&w);
	jw_arr(&w);
	jw_aend(&w);
	jw_obj(&w);
	jw_key(&w, "b");
	jw_arr(&w);
	jw_aend(&w);
	jw_end(&w);
	jw_aend(&w);
	jw_key(&w, "c");
	jw_obj(&w);
	jw_kint(&w, "d", 1);
	jw_key(&w, "e");
	jw_arr(&w);
	jw_bool(&w, 1);
	jw_bool(&w, 0);
	jw_null(&w);
	jw_aend(&w);
	jw_end(&w);
	jw_kstr(&w, "f", "g");
	jw_end(&w);
	CHECK_EQ(b.err, TERR_OK);
	CHECK_STR(buf_cstr(&b),
	    "{\"a\":[1,[2,3],[],{\"b\":[]}],\"c\":{\"d\":1,\"e\":[true,false,null]},\"f\":\"g\"}");
	buf_release(&b);
}

TEST(jw_empty_object_and_array)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 100);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_obj(&w);
	jw_end(&w);
	jw_arr(&w);
	jw_aend(&w);
	jw_aend(&w);
	CHECK_STR(buf_cstr(&b), "[{},[]]");
	buf_release(&b);
}

/* 1 when o[key] is the string s. */
static int
has_str(const cJSON *o, const char *key, const char *s)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && strcmp(v->valuestring, s) == 0;
}

TEST(jw_output_parses_back_with_cjson)
{
	static const char nasty[] = "q\"b\\s/\n\r\t\x01\x1f\x7f end";
	struct buf b;
	struct jw w;
	cJSON *root;
	const cJSON *v;
	int s_ok, key_ok, int_ok, big_ok, lit_ok, time_ok, raw_ok, strn_ok;

	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "s", nasty);
	jw_kstr(&w, "k\"ey\\", "v");
	jw_kint(&w, "i", -9007199254740992LL);
	jw_kint(&w, "big", INT64_MAX);
	jw_kbool(&w, "t", 1);
	jw_kbool(&w, "f", 0);
	jw_kstr(&w, "n", NULL);
	jw_ktime(&w, "none", 0);
	jw_ktime(&w, "at", 1795335165123LL);
	jw_key(&w, "raw");
	jw_raw(&w, "{\"x\":[1]}");
	jw_key(&w, "sn");
	jw_strn(&w, "abcdef", 3);
	jw_end(&w);

	root = cJSON_ParseWithLength(b.p, b.len);
	s_ok = has_str(root, "s", nasty);
	key_ok = has_str(root, "k\"ey\\", "v");
	v = cJSON_GetObjectItemCaseSensitive(root, "i");
	int_ok = cJSON_IsNumber(v) && v->valuedouble == -9007199254740992.0;
	big_ok = strstr(buf_cstr(&b), "\"big\":9223372036854775807,") != NULL;
	lit_ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "t")) &&
	    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "f")) &&
	    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "n")) &&
	    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "none"));
	time_ok = has_str(root, "at", "2026-11-22T08:12:45.123Z");
	raw_ok = cJSON_IsArray(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "raw"), "x"));
	strn_ok = has_str(root, "sn", "abc");
	cJSON_Delete(root);
	CHECK_EQ(b.err, TERR_OK);
	buf_release(&b);
	CHECK(root != NULL);
	CHECK(s_ok);
	CHECK(key_ok);
	CHECK(int_ok);
	CHECK(big_ok);
	CHECK(lit_ok);
	CHECK(time_ok);
	CHECK(raw_ok);
	CHECK(strn_ok);
}

TEST(jw_output_passes_json_parse)
{
	struct buf b;
	struct jw w;
	cJSON *root = NULL;
	const char *why = NULL;
	enum terr err, rc;
	int n;

	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_str(&w, "bad \xff utf8");
	jw_str(&w, "ctl \x02\x7f");
	jw_str(&w, "ok \xc3\xa9");
	jw_aend(&w);
	err = b.err;
	rc = json_parse(b.p, b.len, JSON_DEPTH_MAX, &root, &why);
	n = cJSON_GetArraySize(root);
	cJSON_Delete(root);
	buf_release(&b);
	CHECK_EQ(err, TERR_OK);
	CHECK_EQ(rc, TERR_OK);
	CHECK_EQ(n, 3);
}

TEST(jw_nests_to_json_depth_max)
{
	struct buf b;
	struct jw w;
	cJSON *root = NULL;
	const char *why = NULL;
	enum terr err, rc;
	int i;

	/* The writer's header promises nesting up to JSON_DEPTH_MAX, which json_parse accepts. */
	buf_init(&b, 4096);
	jw_init(&w, &b);
	for (i = 0; i < JSON_DEPTH_MAX; i++)
		jw_arr(&w);
	for (i = 0; i < JSON_DEPTH_MAX; i++)
		jw_aend(&w);
	err = b.err;
	rc = json_parse(b.p, b.len, JSON_DEPTH_MAX, &root, &why);
	cJSON_Delete(root);
	buf_release(&b);
	CHECK_EQ(err, TERR_OK);
	CHECK_EQ(rc, TERR_OK);
}

TEST(jw_nesting_past_limit_sets_error)
{
	struct buf b;
	struct jw w;
	int i;

	buf_init(&b, 4096);
	jw_init(&w, &b);
	for (i = 0; i < JSON_DEPTH_MAX + 1; i++)
		jw_arr(&w);
	CHECK_EQ(b.err, TERR_TOOBIG);
	buf_release(&b);
}

TEST(jw_output_past_buffer_max_sets_error)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 8);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "key", "a long value");
	jw_end(&w);
	CHECK_EQ(b.err, TERR_TOOBIG);
	CHECK(b.len <= 8);
	buf_release(&b);
}

int
main(void)
{
	RUN(json_accepts_plain_object);
	RUN(json_rejects_duplicate_keys);
	RUN(json_rejects_duplicate_keys_with_different_values_types);
	RUN(json_rejects_duplicate_keys_spelled_with_escapes);
	RUN(json_rejects_nested_duplicate_keys);
	RUN(json_rejects_duplicate_keys_in_object_inside_array);
	RUN(json_accepts_same_key_in_sibling_objects);
	RUN(json_accepts_object_with_more_than_32_distinct_keys);
	RUN(json_rejects_duplicate_keys_in_object_with_more_than_32_keys);
	RUN(json_rejects_duplicate_first_and_last_of_many_keys);
	RUN(json_accepts_depth_equal_to_max);
	RUN(json_rejects_depth_past_max);
	RUN(json_depth_limit_counts_objects_too);
	RUN(json_rejects_empty_text_without_a_buffer);
	RUN(json_rejects_raw_nul_byte);
	RUN(json_rejects_nul_byte_after_value);
	RUN(json_rejects_escaped_nul);
	RUN(json_rejects_escaped_nul_in_key);
	RUN(json_rejects_escaped_nul_after_escaped_backslash);
	RUN(json_accepts_escaped_backslash_followed_by_u0000_text);
	RUN(json_rejects_invalid_utf8);
	RUN(json_accepts_valid_utf8);
	RUN(json_rejects_escaped_lone_surrogate);
	RUN(json_decodes_escaped_surrogate_pair);
	RUN(json_rejects_trailing_garbage);
	RUN(json_accepts_trailing_whitespace);
	RUN(json_rejects_malformed);
	RUN(json_parse_reads_only_the_given_length);

	RUN(jint_integral_value_returns_1);
	RUN(jint_accepts_plus_minus_2_pow_53);
	RUN(jint_rejects_past_2_pow_53);
	RUN(jint_fraction_returns_minus_1);
	RUN(jint_infinite_1e400_returns_minus_1);
	RUN(jint_string_returns_minus_1);
	RUN(jint_absent_or_null_returns_0);
	RUN(jbool_reads_true_and_false);
	RUN(jbool_wrong_type_returns_minus_1);
	RUN(jbool_absent_or_null_returns_0);
	RUN(jstr_returns_string_only);
	RUN(jstr_keys_are_case_sensitive);
	RUN(jget_on_non_object_returns_null);
	RUN(jobj_and_jarr_check_type);
	RUN(jpath_walks_dotted_keys);
	RUN(jpath_missing_step_returns_null);
	RUN(jpath_through_non_object_returns_null);
	RUN(jpath_null_leaf_is_absent);

	RUN(json_escape_control_char_as_u00xx);
	RUN(json_escape_quotes_backslash_and_short_escapes);
	RUN(json_escape_keeps_valid_utf8);
	RUN(json_escape_empty_string);
	RUN(json_escape_every_byte_gives_valid_json);
	RUN(json_escape_invalid_utf8_gives_valid_json);
	RUN(jw_nested_commas_exact);
	RUN(jw_empty_object_and_array);
	RUN(jw_output_parses_back_with_cjson);
	RUN(jw_output_passes_json_parse);
	RUN(jw_nests_to_json_depth_max);
	RUN(jw_nesting_past_limit_sets_error);
	RUN(jw_output_past_buffer_max_sets_error);
	return t_done();
}
