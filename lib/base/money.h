/*
 * Money: integer amounts in a currency's smallest unit, never floats. The
 * exponent of each currency (ISO 4217: 2 for most, 0 for JPY and the like, 3
 * for BHD and the like; Telegram Stars XTR 0; the crypto assets CryptoBot
 * takes, counted in 10^-8 of a coin), and exact conversion between decimal
 * strings ("4.99") and minor units.
 */
#ifndef TALLY_MONEY_H
#define TALLY_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/*
 * The largest amount tally records, in a currency's smallest unit: 10^15
 * (ten trillion dollars in cents, ten million coins in 10^-8). Every sum of
 * amounts tally makes stays far inside int64 (2^63 is about 9.2 * 10^18).
 */
#define MONEY_MINOR_MAX 1000000000000000LL

/* Digits after the decimal point of currency's smallest unit. */
int money_exponent(const char *currency);

/*
 * Parse a non-negative decimal "4.99", "10", "0.000001" into minor units of
 * currency. More fraction digits than the exponent allows, signs, exponents,
 * spaces or more than 10^15 minor units: TERR_INVAL.
 */
enum terr money_parse(const char *s, const char *currency, int64_t *minor);

/*
 * An integer amount v counted in 10^-from_exp of currency's major unit
 * (Apple's prices: milliunits, from_exp 3) into the currency's smallest unit:
 * digits finer than the currency has are dropped (toward zero). Negative, or
 * more than MONEY_MINOR_MAX minor units: TERR_INVAL and *minor untouched
 * (never a product that overflowed). *max_v says the largest v that fits,
 * for the caller's reason.
 */
enum terr money_rescale(int64_t v, int from_exp, const char *currency, int64_t *minor,
    int64_t *max_v);

/*
 * money_parse, and when it refuses s, why[whysize] says why in words a stored
 * reason can quote after the amount: "has more decimals than USDT's 8", "is
 * negative", "is not a plain decimal number (digits and one point)", "is
 * more than the 10^15 smallest units tally counts". "" when it parses.
 */
enum terr money_parse_why(const char *s, const char *currency, int64_t *minor, char *why,
    size_t whysize);

/* Format minor units as a decimal with exactly the currency's digits ("4.99", "1200"). */
void money_format(int64_t minor, const char *currency, char *out, size_t size);

/*
 * An amount for people (command output, audit details, reasons, the
 * console): major units with the currency's digits and its code in capitals,
 * "10.00 USD", "500 JPY", "1.500 KWD", "4.99000000 USDT". Machines read
 * integer minor units and the code as stored (JSON). A code longer than 15
 * characters is cut there; MONEY_TEXT_SIZE holds any amount with any code.
 */
#define MONEY_TEXT_SIZE 48
void money_text(int64_t minor, const char *currency, char *out, size_t size);

/* A valid currency code: 3 to 8 upper-case letters or digits. */
int money_currency_valid(const char *s);

#endif
