'use strict';
// Write N correctly signed Stripe events with unique ids, one request a line:
// "<Stripe-Signature>\t<body>" (JSON.stringify never emits a raw tab or newline).
// Each body is a pack purchase padded to about 2 KB, the size the benchmark
// of the issue tracker assumes. Usage: node gen-stripe.js N SECRET > FILE
const S = require('../lib/stripe-events');

const n = Number(process.argv[2] || 10000);
const secret = process.argv[3];
if (!secret) throw new Error('usage: gen-stripe.js N SECRET');
const pad = 'x'.repeat(1200);
const t = S.nowS();
const out = [];
for (let i = 0; i < n; i++) {
  const evt = S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: `pi_bench_${i}_${t}`, clientReferenceId: `bench_user_${i % 5000}`,
    metadata: { product: 'credits_500', note: pad }, amountTotal: 500,
  }), { id: `evt_bench_${i}_${t}`, created: t });
  const body = JSON.stringify(evt);
  out.push(`${S.sign(body, secret, t)}\t${body}`);
  if (out.length === 1000) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; }
}
if (out.length) process.stdout.write(out.join('\n') + '\n');
