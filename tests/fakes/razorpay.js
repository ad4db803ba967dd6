'use strict';
// A fake Razorpay on 127.0.0.1: the REST API tally calls (POST /v1/orders, POST /v1/subscriptions,
// GET /v1/orders/{id}, /v1/orders/{id}/payments, /v1/payments/{id}, /v1/subscriptions/{id}) with HTTP Basic key_id:key_secret,
// answering with Razorpay's entities and errors (razorpay/markdown-docs api/orders/create.md,
// api/payments/fetch-with-id.md, api/payments/subscriptions/create-subscription.md: an unknown id
// is 400 BAD_REQUEST_ERROR "The id provided does not exist"), and the webhooks Razorpay would send
// about them (webhooks/payments.md, orders.md, refunds.md, subscriptions.md), signed as Razorpay
// signs them and checked with the razorpay npm package's own validateWebhookSignature.
// Controllable: the next N answers failing with a status, a delay before answering (timeouts).
const crypto = require('crypto');
const { FakeServer } = require('./base');
const { validateWebhookSignature, validatePaymentVerification } = require('razorpay/dist/utils/razorpay-utils');

const rid = (prefix) => prefix + crypto.randomBytes(7).toString('base64url').replace(/[-_]/g, 'x').slice(0, 14);
const now = () => Math.floor(Date.now() / 1000);

class FakeRazorpay extends FakeServer {
  constructor({ keyId, keySecret, webhookSecret }) {
    super();
    this.keyId = keyId;
    this.keySecret = keySecret;
    this.webhookSecret = webhookSecret;
    this.orders = new Map();
    this.payments = new Map();
    this.subscriptions = new Map();
    this.failures = []; // {match: RegExp, status, times}
    this.delayMs = 0;
  }

  failNext(match, status, times = 1) { this.failures.push({ match, status, times }); }
  reset() { this.failures = []; this.delayMs = 0; this.requests = []; }

  error(res, status, description, code = 'BAD_REQUEST_ERROR') {
    this.send(res, status, { error: { code, description, source: 'NA', step: 'NA', reason: 'NA', metadata: {} } });
  }

  record(req, body) { return { method: req.method, url: req.url, authorization: req.headers.authorization, body }; }

  route(req, res, body) {
    const expected = `Basic ${Buffer.from(`${this.keyId}:${this.keySecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return this.error(res, 401, 'Authentication failed', 'BAD_REQUEST_ERROR');
    const f = this.failures.find((x) => x.times > 0 && x.match.test(`${req.method} ${req.url}`));
    if (f) {
      f.times--;
      return this.error(res, f.status, f.status >= 500 ? 'We are facing some trouble completing your request at the moment. Please try again shortly.' : 'Too many requests', 'SERVER_ERROR');
    }
    let m;
    if (req.method === 'POST' && req.url === '/v1/orders') return this.createOrder(res, body);
    if (req.method === 'POST' && req.url === '/v1/subscriptions') return this.createSubscription(res, body);
    // api/orders/fetch-payments.md: {"entity":"collection","count":N,"items":[payment...]}.
    if (req.method === 'GET' && (m = /^\/v1\/orders\/([^/?]+)\/payments$/.exec(req.url))) {
      const id = decodeURIComponent(m[1]);
      if (!this.orders.has(id)) return this.error(res, 400, 'The id provided does not exist');
      const items = [...this.payments.values()].filter((p) => p.order_id === id && !p.invoice_id);
      return this.send(res, 200, { entity: 'collection', count: items.length, items });
    }
    if (req.method === 'GET' && (m = /^\/v1\/(orders|payments|subscriptions)\/([^/?]+)$/.exec(req.url))) {
      const map = this[m[1]];
      const e = map.get(decodeURIComponent(m[2]));
      if (!e) return this.error(res, 400, 'The id provided does not exist');
      return this.send(res, 200, e);
    }
    return this.error(res, 404, 'The requested URL was not found on the server.');
  }

  createOrder(res, text) {
    let o;
    try { o = JSON.parse(text); } catch (_) { return this.error(res, 400, 'invalid JSON'); }
    if (!Number.isInteger(o.amount) || o.amount < 100) return this.error(res, 400, 'The amount must be atleast INR 1.00');
    if (typeof o.currency !== 'string') return this.error(res, 400, 'The currency field is required.');
    if (o.receipt !== undefined && String(o.receipt).length > 40) return this.error(res, 400, 'The receipt may not be greater than 40 characters.');
    const order = {
      id: rid('order_'), entity: 'order', amount: o.amount, amount_paid: 0, amount_due: o.amount,
      currency: o.currency, receipt: o.receipt || null, offer_id: null, status: 'created', attempts: 0,
      notes: o.notes && Object.keys(o.notes).length ? o.notes : [], created_at: now(),
    };
    this.orders.set(order.id, order);
    return this.send(res, 200, order);
  }

  createSubscription(res, text) {
    let o;
    try { o = JSON.parse(text); } catch (_) { return this.error(res, 400, 'invalid JSON'); }
    if (typeof o.plan_id !== 'string') return this.error(res, 400, 'The plan id field is required.');
    if (!Number.isInteger(o.total_count)) return this.error(res, 400, 'The total count field is required.');
    const sub = {
      id: rid('sub_'), entity: 'subscription', plan_id: o.plan_id, customer_id: null, status: 'created',
      current_start: null, current_end: null, ended_at: null, quantity: o.quantity || 1,
      notes: o.notes || [], charge_at: null, start_at: null, end_at: null, auth_attempts: 0,
      total_count: o.total_count, paid_count: 0, customer_notify: true, created_at: now(),
      expire_by: null, short_url: `https://rzp.io/i/${crypto.randomBytes(4).toString('hex')}`,
      has_scheduled_changes: false, change_scheduled_at: null, source: 'api', remaining_count: o.total_count,
    };
    this.subscriptions.set(sub.id, sub);
    return this.send(res, 200, sub);
  }

  // --- what happens at Razorpay ---

  // A payment of an order (or of nothing: orderId null). opts: amount, currency, status.
  pay(orderId, opts = {}) {
    const order = orderId ? this.orders.get(orderId) : null;
    const status = opts.status || 'captured';
    const p = {
      id: opts.id || rid('pay_'), entity: 'payment', amount: opts.amount !== undefined ? opts.amount : order.amount,
      currency: opts.currency || (order ? order.currency : 'INR'), base_amount: opts.amount !== undefined ? opts.amount : (order ? order.amount : 100),
      status, order_id: orderId || null, invoice_id: opts.invoiceId || null, international: false,
      method: 'upi', amount_refunded: 0, amount_transferred: 0, refund_status: null,
      captured: status === 'captured', description: null, card_id: null, bank: null, wallet: null,
      vpa: 'gaurav.kumar@upi', email: 'gaurav.kumar@example.com', contact: '+919876543210',
      customer_id: opts.customerId || null, notes: [], fee: 2, tax: 0, error_code: null,
      error_description: null, error_source: null, error_step: null, error_reason: null,
      acquirer_data: { rrn: '0125836177' }, created_at: now(),
    };
    this.payments.set(p.id, p);
    if (order && status === 'captured') {
      order.status = 'paid';
      order.amount_paid = p.amount;
      order.amount_due = 0;
      order.attempts++;
    }
    return p;
  }

  refund(paymentId, amount) {
    const p = this.payments.get(paymentId);
    p.amount_refunded += amount;
    p.refund_status = p.amount_refunded >= p.amount ? 'full' : 'partial';
    if (p.refund_status === 'full') p.status = 'refunded';
    return { id: rid('rfnd_'), entity: 'refund', amount, currency: p.currency, payment_id: p.id, notes: [], receipt: null, acquirer_data: { arn: null }, created_at: now(), batch_id: null, status: 'processed', speed_processed: 'normal', speed_requested: 'optimum' };
  }

  // A charge of a subscription: the period, paid_count, and a payment of an invoice.
  charge(subId, { amount = 99900, start, end, customerId } = {}) {
    const s = this.subscriptions.get(subId);
    s.status = 'active';
    s.customer_id = customerId || s.customer_id || rid('cust_');
    s.current_start = start || now();
    s.current_end = end || s.current_start + 30 * 86400;
    s.charge_at = s.current_end;
    s.start_at = s.start_at || s.current_start;
    s.paid_count++;
    s.remaining_count = s.total_count - s.paid_count;
    const p = this.pay(null, { amount, invoiceId: rid('inv_'), customerId: s.customer_id });
    p.description = 'Recurring Payment via Subscription';
    p.order_id = rid('order_');
    return p;
  }

  // --- webhooks, in Razorpay's envelope ---

  event(name, payload, contains) {
    return { entity: 'event', account_id: 'acc_BFQ7uQEaa7j2z7', event: name, contains, payload, created_at: now() };
  }

  paymentCaptured(p) { return this.event('payment.captured', { payment: { entity: p } }, ['payment']); }
  orderPaid(orderId, p) { return this.event('order.paid', { payment: { entity: p }, order: { entity: this.orders.get(orderId) } }, ['payment', 'order']); }
  refundProcessed(r) { return this.event('refund.processed', { refund: { entity: r }, payment: { entity: this.payments.get(r.payment_id) } }, ['refund', 'payment']); }
  subscriptionEvent(name, subId, p) {
    const payload = { subscription: { entity: { ...this.subscriptions.get(subId) } } };
    if (p) payload.payment = { entity: p };
    return this.event(name, payload, p ? ['subscription', 'payment'] : ['subscription']);
  }

  // X-Razorpay-Signature, made as Razorpay does and checked with the SDK's own validator.
  sign(body, secret = this.webhookSecret) {
    const sig = crypto.createHmac('sha256', secret).update(body).digest('hex');
    if (!validateWebhookSignature(body, sig, secret)) throw new Error('razorpay SDK disagrees with the signature');
    return sig;
  }

  // Checkout's callback signature (order_id|payment_id, or payment_id|subscription_id), SDK-checked.
  checkoutSignature({ orderId, subscriptionId, paymentId }, secret = this.keySecret) {
    const msg = orderId ? `${orderId}|${paymentId}` : `${paymentId}|${subscriptionId}`;
    const sig = crypto.createHmac('sha256', secret).update(msg).digest('hex');
    const params = orderId ? { order_id: orderId, payment_id: paymentId } : { subscription_id: subscriptionId, payment_id: paymentId };
    if (validatePaymentVerification(params, sig, this.keySecret) !== (secret === this.keySecret)) throw new Error('razorpay SDK disagrees');
    return sig;
  }
}

// POST a webhook to tally-razorpay. opts: body (raw override), signature (override; null: none), id, secret.
async function post(env, fake, evt, opts = {}) {
  const body = opts.body !== undefined ? opts.body : JSON.stringify(evt);
  const headers = { 'Content-Type': 'application/json' };
  const sig = opts.signature !== undefined ? opts.signature : fake.sign(body, opts.secret);
  if (sig !== null) headers['X-Razorpay-Signature'] = sig;
  const id = opts.id !== undefined ? opts.id : rid('evt_');
  if (id !== null) headers['X-Razorpay-Event-Id'] = id;
  const r = await env.request('POST', '/webhooks/razorpay', body, headers);
  r.eventId = id;
  return r;
}

module.exports = { FakeRazorpay, post, rid, validateWebhookSignature };
