'use strict';
// A fake Telegram Bot API on 127.0.0.1 (Bot API 10.1, telegram-bot-api-spec api.json): POST
// /bot<token>/<method> with JSON, answering {"ok":true,"result":...} or {"ok":false,"error_code",
// "description"} as Telegram does (401 Unauthorized for a wrong token, 404 for an unknown method,
// 400 "Bad Request: ..." for refused parameters). Methods: createInvoiceLink (checked as the docs
// say: title 1-32, description 1-255, payload 1-128 bytes, one price for XTR with an empty
// provider_token, subscription_period only 2592000 and only with XTR), answerPreCheckoutQuery
// (recorded), refundStarPayment (CHARGE_ALREADY_REFUNDED the second time), getStarTransactions
// (offset, limit 1-100: {"transactions": [StarTransaction...]}, newest first; a Stars payment is an
// incoming transaction from a TransactionPartnerUser whose id is the telegram_payment_charge_id, its
// refund an outgoing one with the same id). And the updates
// Telegram would send to the bot's webhook: pre_checkout_query, message.successful_payment,
// message.refunded_payment, and plain chat messages. Controllable: failures and delays.
const crypto = require('crypto');
const { FakeServer } = require('./base');

const DAY = 86400 * 1000;
const secs = (ms) => Math.floor(ms / 1000);

class FakeTelegram extends FakeServer {
  constructor({ token }) {
    super();
    this.token = token;
    this.invoices = new Map(); // payload -> params
    this.answers = []; // answerPreCheckoutQuery bodies
    this.refunds = []; // refundStarPayment bodies
    this.refunded = new Set();
    this.charges = new Set();
    this.failures = []; // {method, status, times}
    this.delays = new Map(); // method -> ms
    this.updateId = 700000000 + Math.floor(Math.random() * 1000000);
    this.stars = []; // StarTransaction, oldest first (answered newest first)
  }

  // A StarTransaction of the bot's: incoming from a user (source) or outgoing to one (receiver).
  starTx({ id, amount, date, from = 1111, payload, period, outgoing, type = 'user', transactionType = 'invoice_payment' }) {
    const partner = type === 'user'
      ? { type, transaction_type: transactionType, user: { id: from, is_bot: false, first_name: 'Gaurav' } }
      : { type };
    if (payload !== undefined && type === 'user') partner.invoice_payload = payload;
    if (period) partner.subscription_period = period;
    const tx = { id: id || `stxa${crypto.randomBytes(18).toString('base64url')}`, amount, date: secs(date || Date.now()) };
    if (outgoing) tx.receiver = partner; else tx.source = partner;
    this.stars.push(tx);
    return tx;
  }

  getStarTransactions(res, p) {
    const offset = p.offset === undefined ? 0 : p.offset;
    const limit = p.limit === undefined ? 100 : p.limit;
    if (!Number.isInteger(offset) || offset < 0) return this.bad(res, 'offset is invalid');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return this.bad(res, 'limit must be between 1 and 100');
    const all = [...this.stars].sort((a, b) => b.date - a.date);
    return this.send(res, 200, { ok: true, result: { transactions: all.slice(offset, offset + limit) } });
  }

  failNext(method, status, times = 1) { this.failures.push({ method, status, times }); }
  delay(method, ms) { this.delays.set(method, ms); }
  reset() { this.failures = []; this.delays.clear(); this.requests = []; }

  bad(res, description) { this.send(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${description}` }); }

  record(req, body) {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url);
    return { method: m ? m[2] : null, tokenOk: !!m && m[1] === this.token, contentType: req.headers['content-type'], body, at: Date.now() };
  }

  delayFor(req) {
    const m = /\/([A-Za-z]+)$/.exec(req.url);
    return (m && this.delays.get(m[1])) || 0;
  }

  route(req, res, text) {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url);
    const method = m ? m[2] : null;
    if (!m || m[1] !== this.token) return this.send(res, m ? 401 : 404, { ok: false, error_code: m ? 401 : 404, description: m ? 'Unauthorized' : 'Not Found' });
    const f = this.failures.find((x) => x.times > 0 && x.method === method);
    if (f) {
      f.times--;
      return this.send(res, f.status, { ok: false, error_code: f.status, description: f.status === 429 ? 'Too Many Requests: retry after 5' : 'Internal Server Error', parameters: f.status === 429 ? { retry_after: 5 } : undefined });
    }
    let p;
    try { p = JSON.parse(text); } catch (_) { return this.bad(res, 'invalid JSON'); }
    if (method === 'createInvoiceLink') return this.createInvoiceLink(res, p);
    if (method === 'getStarTransactions') return this.getStarTransactions(res, p);
    if (method === 'answerPreCheckoutQuery') {
      if (typeof p.pre_checkout_query_id !== 'string' || typeof p.ok !== 'boolean') return this.bad(res, 'QUERY_ID_INVALID');
      if (p.ok === false && !p.error_message) return this.bad(res, 'error_message is required');
      this.answers.push(p);
      return this.send(res, 200, { ok: true, result: true });
    }
    if (method === 'refundStarPayment') {
      if (!Number.isInteger(p.user_id) || typeof p.telegram_payment_charge_id !== 'string') return this.bad(res, 'invalid parameters');
      if (!this.charges.has(`${p.user_id}:${p.telegram_payment_charge_id}`)) return this.bad(res, 'CHARGE_NOT_FOUND');
      if (this.refunded.has(p.telegram_payment_charge_id)) return this.bad(res, 'CHARGE_ALREADY_REFUNDED');
      this.refunded.add(p.telegram_payment_charge_id);
      this.refunds.push(p);
      const paid = this.stars.find((x) => x.id === p.telegram_payment_charge_id && x.source);
      if (paid) this.starTx({ id: paid.id, amount: paid.amount, from: p.user_id, payload: paid.source.invoice_payload, outgoing: true });
      return this.send(res, 200, { ok: true, result: true });
    }
    return this.send(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
  }

  createInvoiceLink(res, p) {
    const len = (s) => [...(s || '')].length;
    if (len(p.title) < 1 || len(p.title) > 32) return this.bad(res, 'title is invalid');
    if (len(p.description) < 1 || len(p.description) > 255) return this.bad(res, 'description is invalid');
    if (!p.payload || Buffer.byteLength(p.payload) > 128) return this.bad(res, 'INVOICE_PAYLOAD_INVALID');
    if (!Array.isArray(p.prices) || p.prices.length < 1 || !p.prices.every((x) => Number.isInteger(x.amount) && x.amount > 0)) return this.bad(res, 'CURRENCY_TOTAL_AMOUNT_INVALID');
    if (p.currency === 'XTR') {
      if (p.prices.length !== 1) return this.bad(res, 'exactly one price is allowed for XTR');
      if (p.provider_token) return this.bad(res, 'provider_token must be empty for XTR');
    } else if (!p.provider_token) return this.bad(res, 'PAYMENT_PROVIDER_INVALID');
    if (p.subscription_period !== undefined) {
      if (p.currency !== 'XTR') return this.bad(res, 'SUBSCRIPTION_PERIOD_INVALID');
      if (p.subscription_period !== 2592000) return this.bad(res, 'SUBSCRIPTION_PERIOD_INVALID');
      if (p.prices[0].amount > 10000) return this.bad(res, 'SUBSCRIPTION_PRICE_INVALID');
    }
    const slug = crypto.randomBytes(9).toString('base64url');
    this.invoices.set(p.payload, { ...p, link: `https://t.me/$${slug}` });
    return this.send(res, 200, { ok: true, result: `https://t.me/$${slug}` });
  }

  // --- updates Telegram sends to the bot ---

  nextUpdateId() { return ++this.updateId; }

  preCheckout({ payload, from = 1111, amount, currency = 'XTR', id } = {}) {
    const inv = this.invoices.get(payload);
    return {
      update_id: this.nextUpdateId(),
      pre_checkout_query: {
        id: id || String(BigInt.asUintN(63, BigInt(`0x${crypto.randomBytes(8).toString('hex')}`))),
        from: { id: from, is_bot: false, first_name: 'Gaurav', language_code: 'en' },
        currency: inv ? inv.currency : currency,
        total_amount: amount !== undefined ? amount : (inv ? inv.prices[0].amount : 1),
        invoice_payload: payload,
      },
    };
  }

  message(from, field, value, date) {
    return {
      update_id: this.nextUpdateId(),
      message: {
        message_id: Math.floor(Math.random() * 1e6), date: secs(date || Date.now()),
        chat: { id: from, first_name: 'Gaurav', type: 'private' },
        from: { id: from, is_bot: false, first_name: 'Gaurav', language_code: 'en' },
        [field]: value,
      },
    };
  }

  // message.successful_payment; a Stars subscription's payments carry expiration and recurring flags.
  paid({ payload, from = 1111, amount, currency, charge, expiration, recurring, first, date } = {}) {
    const inv = this.invoices.get(payload);
    const c = charge || `stxa${crypto.randomBytes(18).toString('base64url')}`;
    this.charges.add(`${from}:${c}`);
    const sp = {
      currency: currency || (inv ? inv.currency : 'XTR'),
      total_amount: amount !== undefined ? amount : (inv ? inv.prices[0].amount : 1),
      invoice_payload: payload,
      telegram_payment_charge_id: c,
      provider_payment_charge_id: '',
    };
    if (expiration) sp.subscription_expiration_date = secs(expiration);
    if (recurring) sp.is_recurring = true;
    if (first) sp.is_first_recurring = true;
    // A Stars payment is also one of the bot's Star transactions (its id the charge id).
    if (sp.currency === 'XTR') this.starTx({ id: c, amount: sp.total_amount, date, from, payload, period: expiration ? 2592000 : undefined });
    return this.message(from, 'successful_payment', sp, date);
  }

  refundedUpdate({ payload, from = 1111, amount, charge, currency = 'XTR' }) {
    return this.message(from, 'refunded_payment', {
      currency, total_amount: amount, invoice_payload: payload, telegram_payment_charge_id: charge,
    });
  }

  chat(from = 1111, text = 'hello') { return this.message(from, 'text', text); }
}

// POST an update to tally-telegram with the secret token (null: none).
function post(env, update, secret, opts = {}) {
  const body = opts.body !== undefined ? opts.body : JSON.stringify(update);
  const headers = { 'Content-Type': 'application/json' };
  if (secret !== null) headers['X-Telegram-Bot-Api-Secret-Token'] = secret;
  return env.request('POST', '/webhooks/telegram', body, headers);
}

module.exports = { FakeTelegram, post, DAY };
