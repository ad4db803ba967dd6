'use strict';
// Stripe event bodies in Stripe's own shapes, for two API versions:
//   PRE_BASIL (2024-06-20): subscription period on the subscription, invoice.subscription,
//     invoice.payment_intent/charge, line.price, charge.invoice;
//   BASIL (2025-03-31.basil): period on subscription items, invoice.parent.subscription_details,
//     line.pricing.price_details, no invoice.payment_intent/charge, no charge.invoice.
// Signatures are made with the stripe package itself (webhooks.generateTestHeaderString),
// so tally's verification is checked against Stripe's.
const crypto = require('crypto');
const Stripe = require('stripe');

const PRE_BASIL = '2024-06-20';
const BASIL = '2025-03-31.basil';
const stripe = new Stripe('sk_test_tally_tests_only');

function rid(prefix) {
  return `${prefix}_${crypto.randomBytes(10).toString('hex')}`;
}

const nowS = () => Math.floor(Date.now() / 1000);
const DAY = 86400;

function event(type, object, opts = {}) {
  return {
    id: opts.id || rid('evt'),
    object: 'event',
    api_version: opts.version || BASIL,
    created: opts.created || nowS(),
    data: opts.previous ? { object, previous_attributes: opts.previous } : { object },
    livemode: opts.livemode === undefined ? false : opts.livemode,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

function price(id, amount = 1000, interval = 'month') {
  return {
    id, object: 'price', active: true, currency: 'usd', product: `prod_${id}`,
    recurring: interval ? { interval, interval_count: 1 } : null,
    type: interval ? 'recurring' : 'one_time', unit_amount: amount,
  };
}

function subscription(o) {
  const version = o.version || BASIL;
  const start = o.periodStart || nowS();
  const end = o.periodEnd || start + 30 * DAY;
  const item = {
    id: o.itemId || rid('si'), object: 'subscription_item', price: price(o.price, o.amount),
    quantity: 1, subscription: o.id,
  };
  const sub = {
    id: o.id, object: 'subscription', customer: o.customer, status: o.status || 'active',
    cancel_at_period_end: !!o.cancelAtPeriodEnd, cancel_at: o.cancelAt || null,
    canceled_at: o.canceledAt || null, ended_at: o.endedAt || null, currency: 'usd',
    livemode: !!o.livemode, metadata: o.metadata || {}, trial_end: o.trialEnd || null,
    trial_start: o.trialStart || null, latest_invoice: o.latestInvoice || null,
    items: { object: 'list', data: [item], has_more: false, url: `/v1/subscription_items?subscription=${o.id}` },
  };
  if (version === BASIL) {
    item.current_period_start = start;
    item.current_period_end = end;
  } else {
    sub.current_period_start = start;
    sub.current_period_end = end;
  }
  return sub;
}

function invoice(o) {
  const version = o.version || BASIL;
  const start = o.periodStart || nowS();
  const end = o.periodEnd || start + 30 * DAY;
  const amount = o.amount === undefined ? 1000 : o.amount;
  const lines = (o.lines || [{ price: o.price, amount, start, end, proration: false }]).map((l) => {
    const line = {
      id: rid('il'), object: 'line_item', amount: l.amount, currency: 'usd',
      period: { start: l.start || start, end: l.end || end }, quantity: 1,
    };
    if (version === BASIL) {
      line.pricing = { type: 'price_details', price_details: { price: l.price, product: `prod_${l.price}` }, unit_amount_decimal: String(l.amount) };
      line.parent = o.subscription
        ? { type: 'subscription_item_details', subscription_item_details: { subscription: o.subscription, subscription_item: rid('si'), proration: !!l.proration, invoice_item: null } }
        : { type: 'invoice_item_details', invoice_item_details: { invoice_item: rid('ii'), proration: false, subscription: null } };
    } else {
      line.price = price(l.price, l.amount);
      line.plan = { id: l.price, object: 'plan' };
      line.proration = !!l.proration;
      line.subscription = o.subscription || null;
      line.type = o.subscription ? 'subscription' : 'invoiceitem';
    }
    return line;
  });
  const inv = {
    id: o.id, object: 'invoice', customer: o.customer, amount_due: amount, amount_paid: o.paid === false ? 0 : amount,
    amount_remaining: 0, attempt_count: o.attemptCount || 1, billing_reason: o.billingReason || 'subscription_create',
    currency: 'usd', livemode: !!o.livemode, metadata: {}, status: o.status || 'paid',
    period_start: start, period_end: start, next_payment_attempt: o.nextPaymentAttempt || null,
    lines: { object: 'list', data: lines, has_more: false, url: `/v1/invoices/${o.id}/lines` },
  };
  if (version === BASIL) {
    inv.parent = o.subscription
      ? { type: 'subscription_details', quote_details: null, subscription_details: { subscription: o.subscription, metadata: o.subMetadata || {} } }
      : null;
  } else {
    inv.subscription = o.subscription || null;
    inv.subscription_details = { metadata: o.subMetadata || {} };
    inv.payment_intent = o.paymentIntent || null;
    inv.charge = o.charge || null;
    inv.paid = o.paid !== false;
  }
  return inv;
}

function checkoutSession(o) {
  return {
    id: o.id || rid('cs_test'), object: 'checkout.session', mode: o.mode || 'subscription',
    customer: o.customer || null, subscription: o.subscription || null,
    payment_intent: o.paymentIntent || null, invoice: o.invoice || null,
    client_reference_id: o.clientReferenceId === undefined ? null : o.clientReferenceId,
    amount_total: o.amountTotal === undefined ? 1000 : o.amountTotal, currency: 'usd',
    payment_status: o.paymentStatus || 'paid', status: 'complete', livemode: !!o.livemode,
    metadata: o.metadata || {}, success_url: 'https://example.com/ok', cancel_url: 'https://example.com/cancel',
  };
}

function charge(o) {
  const version = o.version || BASIL;
  const c = {
    id: o.id || rid('ch'), object: 'charge', amount: o.amount, amount_captured: o.amount,
    amount_refunded: o.amountRefunded === undefined ? o.amount : o.amountRefunded,
    refunded: o.refunded === undefined ? true : o.refunded, captured: true, currency: 'usd',
    customer: o.customer || null, payment_intent: o.paymentIntent || null, livemode: !!o.livemode,
    metadata: {}, paid: true, status: 'succeeded',
  };
  if (version !== BASIL) c.invoice = o.invoice || null;
  return c;
}

function dispute(o) {
  return {
    id: o.id || rid('dp'), object: 'dispute', amount: o.amount, currency: 'usd',
    charge: o.charge, payment_intent: o.paymentIntent || null, reason: 'fraudulent',
    status: 'needs_response', livemode: !!o.livemode, metadata: {},
  };
}

function invoicePayment(o) {
  return {
    id: o.id || rid('inpay'), object: 'invoice_payment', amount_paid: o.amount || 1000,
    currency: 'usd', invoice: o.invoice, is_default: true, livemode: !!o.livemode,
    payment: { type: 'payment_intent', payment_intent: o.paymentIntent }, status: 'paid',
  };
}

// The Stripe-Signature header for payload, made by Stripe's own SDK.
function sign(payload, secret, timestamp) {
  return stripe.webhooks.generateTestHeaderString({
    payload, secret, timestamp: timestamp === undefined ? nowS() : timestamp,
  });
}

module.exports = {
  PRE_BASIL, BASIL, DAY, nowS, rid, event, subscription, invoice, checkoutSession, charge,
  dispute, invoicePayment, sign, stripe,
};
