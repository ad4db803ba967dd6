/*
 * What refusals say: the words lib gives a stored reason or a refusal must
 * name what was received and what was expected. money_parse_why (why an
 * amount is none of its currency), text_quote (what was received, shown
 * safely), cryptobot_parse of an amount the asset cannot have (kept for
 * apply to refuse as malformed, quoted), and op_parse naming the field.
 */
#include <stdint.h>
#include <string.h>

#include "base/event.h"
#include "base/money.h"
#include "base/text.h"
#include "cfg/cfg.h"
#include "core/op.h"
#include "providers/cryptobot/cryptobot.h"
#include "t.h"

/* ------------------------------------------------------------ money_parse_why */

TEST(money_why_more_decimals_names_the_currency_and_its_digits)
{
	char why[96];
	int64_t v = 7;

	CHECK_EQ(money_parse_why("4.990000001", "USDT", &v, why, sizeof(why)), TERR_INVAL);
	CHECK_STR(why, "has more decimals than USDT's 8");
	CHECK_EQ(v, 7);
	CHECK_EQ(money_parse_why("4.999", "USD", &v, why, sizeof(why)), TERR_INVAL);
	CHECK_STR(why, "has more decimals than USD's 2");
	CHECK_EQ(money_parse_why("1.5", "XTR", &v, why, sizeof(why)), TERR_INVAL);
	CHECK_STR(why, "has more decimals than XTR's 0");
}

TEST(money_why_negative_and_not_a_number)
{
	char why[96];
	int64_t v = 0;

	CHECK_EQ(money_parse_why("-4.99", "USD", &v, why, sizeof(why)), TERR_INVAL);
	CHECK_STR(why, "is negative");
	CHECK_EQ(money_parse_why("4,99", "USD", &v, why, sizeof(why)), TERR_INVAL);
	CHECK_STR(why, "is not a plain decimal number (digits and one point)");
	CHECK_EQ(money_parse_why("", "USD", &v, why, sizeof(why)), TERR_INVAL);
	CHECK_STR(why, "is not a plain decimal number (digits and one point)");
	CHECK_EQ(money_parse_why("1e3", "USD", &v, why, sizeof(why)), TERR_INVAL);
	CHECK_STR(why, "is not a plain decimal number (digits and one point)");
	CHECK_EQ(money_parse_why("99999999999999", "USD", &v, why, sizeof(why)), TERR_INVAL);
	CHECK_STR(why, "is more than the 10^15 smallest units tally counts");
}

TEST(money_why_is_empty_when_it_parses)
{
	char why[96] = "stale";
	int64_t v = 0;

	CHECK_EQ(money_parse_why("4.99", "USDT", &v, why, sizeof(why)), TERR_OK);
	CHECK_EQ(v, 499000000);
	CHECK_STR(why, "");
}

TEST(money_exponent_ignores_case)
{
	char out[40];

	/* Stripe writes currencies in lower case: 500 yen are 500, not 5.00. */
	CHECK_EQ(money_exponent("jpy"), 0);
	CHECK_EQ(money_exponent("kwd"), 3);
	CHECK_EQ(money_exponent("usdt"), 8);
	money_format(500, "jpy", out, sizeof(out));
	CHECK_STR(out, "500");
}

/* ------------------------------------------------------------------ text_quote */

TEST(quote_keeps_text_and_utf8)
{
	char out[64];

	text_quote(out, sizeof(out), "4.990000001", 40);
	CHECK_STR(out, "\"4.990000001\"");
	text_quote(out, sizeof(out), "caf\xc3\xa9", 40);
	CHECK_STR(out, "\"caf\xc3\xa9\"");
}

TEST(quote_masks_controls_quotes_and_bad_utf8)
{
	char out[64];

	text_quote(out, sizeof(out),
	    "a\"b\\c\nd\x7f"
	    "e\xff"
	    "f\xc3",
	    40);
	CHECK_STR(out, "\"a?b?c?d?e?f?\"");
}

TEST(quote_cuts_at_max_and_at_the_buffer)
{
	char out[64], tiny[8];

	text_quote(out, sizeof(out), "0123456789", 4);
	CHECK_STR(out, "\"0123\"...");
	text_quote(tiny, sizeof(tiny), "0123456789", 40);
	CHECK_STR(tiny, "\"01\"...");
	CHECK(strlen(tiny) < sizeof(tiny));
	text_quote(tiny, 7, "0123456789", 40);
	CHECK_STR(tiny, "\"0\"...");
	text_quote(tiny, 6, "x", 40);
	CHECK_STR(tiny, "");
}

/* ------------------------------------------------------ cryptobot_parse amounts */

static const char *const cb_body =
    "{\"update_id\":1,\"update_type\":\"invoice_paid\",\"request_date\":"
    "\"2024-02-02T12:11:02.720Z\",\"payload\":{\"invoice_id\":528,\"status\":\"paid\","
    "\"currency_type\":\"crypto\",\"asset\":\"USDT\",\"amount\":\"%s\",\"payload\":"
    "\"ord_1\",\"paid_at\":\"2024-02-02T12:11:01Z\"}}";

static struct cfg cb_cfg;
static struct bev cb_ev;

TEST(cryptobot_amount_past_the_assets_decimals_is_kept_quoted_not_zero)
{
	char body[512], why[256];

	snprintf(body, sizeof(body), cb_body, "1.123456789");
	CHECK_EQ(cryptobot_parse(&cb_cfg, body, strlen(body), &cb_ev, why, sizeof(why)), TERR_OK);
	CHECK(cb_ev.aspects & BEV_ORDER);
	CHECK_EQ(cb_ev.order.amount, -1);
	CHECK_STR(cb_ev.note, "amount \"1.123456789\" has more decimals than USDT's 8");
	/* One the asset can have is read exactly, with nothing to say. */
	snprintf(body, sizeof(body), cb_body, "4.99");
	CHECK_EQ(cryptobot_parse(&cb_cfg, body, strlen(body), &cb_ev, why, sizeof(why)), TERR_OK);
	CHECK_EQ(cb_ev.order.amount, 499000000);
	CHECK_STR(cb_ev.note, "");
}

/* --------------------------------------------------------------- op_parse why */

static struct bev op_ev;

TEST(op_refusal_names_the_field)
{
	static const char body[] = "{\"action\":\"credits.grant\",\"id\":\"g1\",\"user_id\":\"u1\","
				   "\"at\":1,\"operator\":\"ann\"}";
	char why[256];

	CHECK_EQ(op_parse(OP_OPERATOR, body, strlen(body), &op_ev, why, sizeof(why)), TERR_INVAL);
	CHECK_STR(why, "operator event credits.grant: missing field amount (an integer)");
}

TEST(op_refusal_says_the_amount_and_the_range)
{
	static const char body[] = "{\"action\":\"credits.grant\",\"id\":\"g1\",\"user_id\":\"u1\","
				   "\"at\":1,\"operator\":\"ann\",\"amount\":-5}";
	char why[256];

	CHECK_EQ(op_parse(OP_OPERATOR, body, strlen(body), &op_ev, why, sizeof(why)), TERR_INVAL);
	CHECK(strstr(why, "amount -5: expected 1 to ") != NULL);
}

TEST(op_refusal_quotes_an_unknown_state)
{
	static const char body[] = "{\"action\":\"subscription.set\",\"id\":\"s1\",\"user_id\":"
				   "\"u1\",\"at\":1,\"operator\":\"ann\",\"sub_id\":3,\"state\":"
				   "\"gone\"}";
	char why[256];

	CHECK_EQ(op_parse(OP_OPERATOR, body, strlen(body), &op_ev, why, sizeof(why)), TERR_INVAL);
	CHECK(strstr(why, "unknown subscription state \"gone\" (expected incomplete,") != NULL);
}

int
main(void)
{
	RUN(money_why_more_decimals_names_the_currency_and_its_digits);
	RUN(money_why_negative_and_not_a_number);
	RUN(money_why_is_empty_when_it_parses);
	RUN(money_exponent_ignores_case);
	RUN(quote_keeps_text_and_utf8);
	RUN(quote_masks_controls_quotes_and_bad_utf8);
	RUN(quote_cuts_at_max_and_at_the_buffer);
	RUN(cryptobot_amount_past_the_assets_decimals_is_kept_quoted_not_zero);
	RUN(op_refusal_names_the_field);
	RUN(op_refusal_says_the_amount_and_the_range);
	RUN(op_refusal_quotes_an_unknown_state);
	return t_done();
}
