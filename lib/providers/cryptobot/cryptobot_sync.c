/*
 * CryptoBot reconciliation: a fetched invoice as its webhook update
 * (cryptobot_sync.h). Field names cite help.crypt.bot/crypto-pay-api.
 */
#include "providers/cryptobot/cryptobot_sync.h"
#include "base/json.h"
#include "base/money.h"
#include "base/text.h"

enum terr
cryptobot_sync_update(const struct cb_invoice *inv, int64_t now, struct buf *out)
{
	char amount[48];
	struct jw w;

	/*
	 * A decimal string in units of the asset, exact (money_parse reads it
	 * back); one that could not be read, as Crypto Pay sent it, so that the
	 * event's reason quotes what was received.
	 */
	if (inv->amount >= 0)
		money_format(inv->amount, inv->currency, amount, sizeof(amount));
	else
		text_copy(amount, sizeof(amount), inv->amount_text);
	buf_reset(out);
	jw_init(&w, out);
	jw_obj(&w);
	jw_kint(&w, "update_id", 0);
	jw_kstr(&w, "update_type", "invoice_paid");
	jw_ktime(&w, "request_date", now);
	jw_key(&w, "payload");
	jw_obj(&w);
	jw_kstr(&w, "invoice_id", inv->invoice_id);
	jw_kstr(&w, "status", inv->status);
	jw_kstr(&w, "currency_type", "crypto");
	jw_kstr(&w, "asset", inv->currency);
	jw_kstr(&w, "amount", amount);
	jw_kstr(&w, "payload", inv->payload);
	if (inv->url[0] != '\0')
		jw_kstr(&w, "bot_invoice_url", inv->url);
	if (inv->paid_at != 0)
		jw_ktime(&w, "paid_at", inv->paid_at);
	jw_end(&w);
	jw_end(&w);
	return out->err;
}
