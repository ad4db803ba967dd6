'use strict';
// A fake Crypto Pay API (CryptoBot) on 127.0.0.1: POST /api/createInvoice and /api/getInvoices
// with the header Crypto-Pay-API-Token, answering {"ok":true,"result":...} or {"ok":false,
// "error":{"code","name"}} (help.crypt.bot/crypto-pay-api), invoices in Crypto Pay's Invoice shape
// with decimal strings for amounts; and the webhook updates it would send ({update_id,
// update_type:"invoice_paid", request_date, payload: Invoice}) signed with crypto-pay-api-signature
// = hex HMAC-SHA256 keyed with SHA-256 of the token ("Verifying webhook updates").
// Controllable: the next N answers failing, a delay before answering.
const crypto = require('crypto');
const { FakeServer } = require('./base');

const iso = (ms) => new Date(ms).toISOString();

class FakeCryptoPay extends FakeServer {
  constructor({ token }) {
    super();
    this.token = token;
    this.invoices = new Map();
    this.nextId = 528000 + Math.floor(Math.random() * 1000);
    this.updateId = 1;
    this.failures = []; // {method, status, times}
    this.delayMs = 0;
  }

  failNext(method, status, times = 1) { this.failures.push({ method, status, times }); }
  reset() { this.failures = []; this.delayMs = 0; this.requests = []; }

  fail(res, code, name) { this.send(res, code, { ok: false, error: { code, name } }); }

  record(req, body) {
    const m = /^\/api\/([A-Za-z]+)$/.exec(req.url);
    return { method: m ? m[1] : null, token: req.headers['crypto-pay-api-token'], body };
  }

  route(req, res, text) {
    const m = /^\/api\/([A-Za-z]+)$/.exec(req.url);
    const method = m ? m[1] : null;
    if (req.headers['crypto-pay-api-token'] !== this.token) return this.fail(res, 401, 'UNAUTHORIZED');
    const f = this.failures.find((x) => x.times > 0 && x.method === method);
    if (f) {
      f.times--;
      return this.fail(res, f.status, f.status === 429 ? 'FLOOD_WAIT' : 'INTERNAL_ERROR');
    }
    let p;
    try { p = JSON.parse(text || '{}'); } catch (_) { return this.fail(res, 400, 'PARAMS_INVALID'); }
    if (method === 'createInvoice') return this.createInvoice(res, p);
    if (method === 'getInvoices') {
      let items = [...this.invoices.values()];
      if (p.invoice_ids) {
        const ids = String(p.invoice_ids).split(',').map(Number);
        items = items.filter((i) => ids.includes(i.invoice_id));
      }
      if (p.status) items = items.filter((i) => i.status === p.status);
      items = items.slice(p.offset || 0, (p.offset || 0) + (p.count || 100));
      return this.send(res, 200, { ok: true, result: { items } });
    }
    return this.fail(res, 405, 'METHOD_NOT_FOUND');
  }

  createInvoice(res, p) {
    if ((p.currency_type || 'crypto') !== 'crypto' || !p.asset) return this.fail(res, 400, 'ASSET_INVALID');
    if (typeof p.amount !== 'string' || !/^\d+(\.\d+)?$/.test(p.amount)) return this.fail(res, 400, 'AMOUNT_INVALID');
    if (p.payload !== undefined && Buffer.byteLength(p.payload) > 4096) return this.fail(res, 400, 'PAYLOAD_TOO_LONG');
    if (p.expires_in !== undefined && (p.expires_in < 1 || p.expires_in > 2678400)) return this.fail(res, 400, 'EXPIRES_IN_INVALID');
    const id = ++this.nextId;
    const hash = `IV${crypto.randomBytes(6).toString('base64url')}`;
    const inv = {
      invoice_id: id, hash, currency_type: 'crypto', asset: p.asset, amount: p.amount,
      pay_url: `https://t.me/CryptoBot?start=${hash}`, bot_invoice_url: `https://t.me/CryptoBot?start=${hash}`,
      mini_app_invoice_url: `https://t.me/CryptoBot/app?startapp=invoice-${hash}`,
      web_app_invoice_url: `https://app.send.tg/invoices/${hash}`,
      description: p.description, status: 'active', created_at: iso(Date.now()),
      allow_comments: true, allow_anonymous: true, payload: p.payload,
    };
    if (p.expires_in) inv.expiration_date = iso(Date.now() + p.expires_in * 1000);
    this.invoices.set(id, inv);
    this.lastCreate = p;
    return this.send(res, 200, { ok: true, result: inv });
  }

  // The invoice paid (opts: amount string override, status) and the update Crypto Pay sends.
  paid(invoiceId, opts = {}) {
    const inv = this.invoices.get(Number(invoiceId));
    inv.status = opts.status || 'paid';
    if (inv.status === 'paid') {
      inv.paid_at = iso(Date.now());
      inv.paid_anonymously = false;
      inv.fee_asset = inv.asset;
      inv.fee_amount = '0.01';
      inv.paid_usd_rate = '1.0';
    }
    const payload = { ...inv, fee: '0.01', usd_rate: '1.0' };
    if (opts.amount !== undefined) payload.amount = opts.amount;
    if (opts.asset !== undefined) payload.asset = opts.asset;
    if (opts.invoicePayload !== undefined) payload.payload = opts.invoicePayload;
    return {
      update_id: this.updateId++, update_type: 'invoice_paid',
      request_date: iso(opts.requestDate !== undefined ? opts.requestDate : Date.now()), payload,
    };
  }

  sign(body, token = this.token) {
    const key = crypto.createHash('sha256').update(token).digest();
    return crypto.createHmac('sha256', key).update(body).digest('hex');
  }
}

function post(env, fake, update, opts = {}) {
  const body = opts.body !== undefined ? opts.body : JSON.stringify(update);
  const headers = { 'Content-Type': 'application/json' };
  const sig = opts.signature !== undefined ? opts.signature : fake.sign(body, opts.token);
  if (sig !== null) headers['crypto-pay-api-signature'] = sig;
  return env.request('POST', '/webhooks/cryptobot', body, headers);
}

module.exports = { FakeCryptoPay, post };
