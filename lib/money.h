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

#include "err.h"

/* Digits after the decimal point of currency's smallest unit. */
int money_exponent(const char *currency);

/*
 * Parse a non-negative decimal "4.99", "10", "0.000001" into minor units of
 * currency. More fraction digits than the exponent allows, signs, exponents,
 * spaces or more than 10^15 minor units: TERR_INVAL.
 */
enum terr money_parse(const char *s, const char *currency, int64_t *minor);

/*
 * The same, and when it refuses s, why[whysize] says why in words a stored
 * reason can quote after the amount: "has more decimals than USDT's 8", "is
 * negative", "is not a plain decimal number (digits and one point)", "is
 * more than the 10^15 smallest units tally counts". "" when it parses.
 */
enum terr money_parse_why(const char *s, const char *currency, int64_t *minor, char *why,
    size_t whysize);

/* Format minor units as a decimal with exactly the currency's digits ("4.99", "1200"). */
void money_format(int64_t minor, const char *currency, char *out, size_t size);

/* A valid currency code: 3 to 8 upper-case letters or digits. */
int money_currency_valid(const char *s);

#endif
