#!/usr/bin/env node
'use strict';
// Send Stripe events signed with Stripe's own SDK to a tally endpoint.
//   node tests/tools/stripe-send.js --url URL (--secret S | --secret-file F) subscribe --user ID [--price PRICE]
//   node tests/tools/stripe-send.js --url URL --secret-file F pack --user ID [--product PRODUCT]
//   node tests/tools/stripe-send.js --url URL --secret-file F file EVENT.json
// "subscribe" sends what Stripe sends for a Checkout subscription: the session,
// the subscription, and its first paid invoice (the events are test mode).
const fs = require('fs');
const S = require('../lib/stripe-events');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

async function send(url, secret, evt) {
  const body = typeof evt === 'string' ? evt : JSON.stringify(evt);
  const r = await fetch(url, {
    method: 'POST', body, headers: { 'Content-Type': 'application/json', 'Stripe-Signature': S.sign(body, secret) },
  });
  const text = await r.text();
  const type = typeof evt === 'string' ? JSON.parse(evt).type : evt.type;
  console.log(`${type} -> ${r.status} ${text.trim()}`);
  if (r.status >= 300) process.exitCode = 1;
}

(async () => {
  const url = arg('url', 'http://127.0.0.1:8080/webhooks/stripe');
  const secret = arg('secret') || (arg('secret-file') && fs.readFileSync(arg('secret-file'), 'utf8').trim());
  const words = process.argv.slice(2).filter((w, i, a) => !w.startsWith('--') && !(a[i - 1] || '').startsWith('--'));
  const cmd = words[0];
  if (!secret || !cmd) {
    console.error('usage: stripe-send.js --url URL (--secret S | --secret-file F) subscribe|pack|file ...');
    process.exit(2);
  }
  const user = arg('user');
  if (cmd === 'subscribe') {
    const cus = S.rid('cus'), sub = S.rid('sub'), inv = S.rid('in'), price = arg('price', 'price_pro_monthly');
    await send(url, secret, S.event('checkout.session.completed', S.checkoutSession({ mode: 'subscription', customer: cus, subscription: sub, clientReferenceId: user, invoice: inv })));
    await send(url, secret, S.event('customer.subscription.created', S.subscription({ id: sub, customer: cus, price, status: 'active' })));
    await send(url, secret, S.event('invoice.paid', S.invoice({ id: inv, customer: cus, subscription: sub, price, billingReason: 'subscription_create' })));
  } else if (cmd === 'pack') {
    await send(url, secret, S.event('checkout.session.completed', S.checkoutSession({ mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product: arg('product', 'credits_500') } })));
  } else if (cmd === 'file') {
    await send(url, secret, fs.readFileSync(words[1], 'utf8'));
  } else {
    console.error(`unknown command ${cmd}`);
    process.exit(2);
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
