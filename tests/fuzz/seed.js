'use strict';
// Write the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/)
// from the test suite's own builders: real-shaped provider bodies, signed
// headers, tally's events, configs, requests. Run from tests/: node fuzz/seed.js [TARGET...]
// (targets named: only their corpora are written).
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const S = require('../lib/stripe-events');
const A = require('../lib/apple');
const R = require('../lib/revenuecat-events');
const { FakeGoogle } = require('../fakes/google');

const ROOT = path.join(__dirname, 'corpus');
const only = process.argv.slice(2);
function put(target, name, data) {
  if (only.length && !only.includes(target)) return;
  const dir = path.join(ROOT, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), data);
}

// Stripe: "header\nbody", signed for whsec_fuzz at 1700000000.
const t = 1700000000;
const stripeEvents = [
  S.event('checkout.session.completed', S.checkoutSession({ mode: 'payment', paymentIntent: 'pi_1', clientReferenceId: 'u1', metadata: { product: 'credits_500' } }), { created: t }),
  S.event('customer.subscription.created', S.subscription({ id: 'sub_1', customer: 'cus_1', price: 'price_pro_monthly' }), { created: t }),
  S.event('invoice.paid', S.invoice({ id: 'in_1', customer: 'cus_1', subscription: 'sub_1', price: 'price_pro_monthly', paymentIntent: 'pi_2' }), { created: t }),
  S.event('invoice.paid', S.invoice({ id: 'in_2', customer: 'cus_1', subscription: 'sub_1', price: 'price_pro_monthly', version: S.PRE_BASIL }), { created: t, version: S.PRE_BASIL }),
  S.event('charge.refunded', S.charge({ amount: 500, paymentIntent: 'pi_1' }), { created: t }),
  S.event('charge.dispute.created', S.dispute({ amount: 500, charge: 'ch_1' }), { created: t }),
  S.event('invoice_payment.paid', S.invoicePayment({ invoice: 'in_1', paymentIntent: 'pi_2' }), { created: t }),
];
stripeEvents.forEach((e, i) => {
  const body = JSON.stringify(e);
  put('fuzz_stripe', `event-${i}`, `${S.sign(body, 'whsec_fuzz', t)}\n${body}`);
  put('fuzz_json', `stripe-${i}`, body);
});
put('fuzz_stripe', 'bad-header', 't=1,v1=zz,v0=aa\n{}');

// App Store: notification bodies of a test chain (they map, and fail the chain to Apple's root).
const pki = A.makePki();
const types = [['SUBSCRIBED', 'INITIAL_BUY'], ['DID_RENEW', null], ['EXPIRED', 'VOLUNTARY'], ['REFUND', null],
  ['ONE_TIME_CHARGE', null], ['DID_FAIL_TO_RENEW', 'GRACE_PERIOD'], ['TEST', null]];
types.forEach(([type, sub], i) => {
  const tx = A.transaction({ appAccountToken: crypto.randomUUID(), now: t * 1000 });
  const n = A.notification(type, sub, { chain: pki.chains.good, tx: type === 'TEST' ? undefined : tx, renewal: A.renewalInfo(tx), signedDate: t * 1000, status: 1 });
  put('fuzz_appstore', `note-${i}`, n.body);
});
// tally's envelope of a transaction the app handed in (POST /v1/users/{id}/purchases).
put('fuzz_appstore', 'purchase-0', JSON.stringify({
  tally_purchase: { user: 'u_fuzz', by: '0123456789abcdef' },
  signedTransactionInfo: A.sign(A.transaction({ appAccountToken: 'u_fuzz', now: t * 1000 }), pki.chains.good),
}));
for (const f of ['testNotification', 'wrongBundleId', 'missingX5CHeaderClaim']) {
  put('fuzz_appstore', `apple-${f}`, JSON.stringify({ signedPayload: fs.readFileSync(path.join(__dirname, '..', 'vectors', 'apple', f), 'utf8').trim() }));
}
fs.rmSync(pki.dir, { recursive: true, force: true });

// User tokens.
const b64u = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
const secret = 'fuzz-secret-0123456789abcdef0123456789';
const jwt = (claims, alg = 'HS256') => {
  const h = b64u({ alg, typ: 'JWT' });
  const c = b64u(claims);
  return `${h}.${c}.${crypto.createHmac('sha256', secret).update(`${h}.${c}`).digest('base64url')}`;
};
put('fuzz_jwt', 'good', jwt({ sub: 'u_fuzz', exp: 2000000000 }));
put('fuzz_jwt', 'none', jwt({ sub: 'u_fuzz', exp: 2000000000 }, 'none'));
put('fuzz_jwt', 'expired', jwt({ sub: 'u_fuzz', exp: 1 }));

// RevenueCat events and a subscriber answer.
const rc = [R.initialPurchase({ user: 'u1', product: 'pro_monthly' }), R.renewal({ user: 'u1' }), R.cancellation({ user: 'u1' }),
  R.expiration({ user: 'u1' }), R.transfer({ from: ['a'], to: ['b'] }), R.virtualCurrency({ user: 'u1', adjustments: [[5, 'GEM']] }),
  R.testEvent()];
rc.forEach((e, i) => put('fuzz_revenuecat', `event-${i}`, JSON.stringify(e)));
put('fuzz_revenuecat', 'subscriber', JSON.stringify({
  request_date_ms: t * 1000, subscriber: { original_app_user_id: 'u1', subscriptions: { pro_monthly: { expires_date: '2030-01-01T00:00:00Z', purchase_date: '2029-12-01T00:00:00Z', store: 'app_store', is_sandbox: false, store_transaction_id: '1' } }, non_subscriptions: {}, entitlements: {} },
}));

// Configs.
for (const f of ['tally.example.json', 'tally.dev.json']) {
  put('fuzz_cfg', f, fs.readFileSync(path.join(__dirname, '..', '..', 'deploy', f)));
}
put('fuzz_cfg', 'full', JSON.stringify({
  stripe: { test_mode: true, tolerance: '5m' }, policy: { grace_period: '3d' }, http: { timeout: '5s' },
  apple: { bundle_id: 'com.x', app_apple_id: 1, sandbox: true }, revenuecat: { sandbox: false },
  free_tier: { signup_credits: 5, monthly_credits: 2, entitlements: ['basic'] }, trial: { product: 'pro', duration: '7d' },
  checkout: { success_url: 'https://x/ok', cancel_url: 'https://x/no' },
  products: { pro: { kind: 'subscription', credits: 10, credit_period: '1mo', entitlements: ['pro'], price_credits: 5, period: '1y', match: { stripe: ['p'] } } },
}));

// tally's own events: a source byte (0 operator, 1 app, 2 job), then the body.
const ops = [
  [0, { id: 'op_1', action: 'credits.grant', user_id: 'u1', amount: 5, expires_at: 0, reason: 'r', operator: 'alice', at: 1 }],
  [0, { id: 'op_2', action: 'links.add', user_id: 'u1', amount: 0, expires_at: 0, reason: '', operator: 'a', at: 1, link: { provider: 'stripe', kind: 'customer', id: 'cus_1' } }],
  [0, { id: 'op_3', action: 'subscription.set', user_id: 'u1', amount: 0, expires_at: 0, reason: 'x', operator: 'a', at: 1, sub_id: 3, state: 'revoked' }],
  [1, { id: 'spend:u1:k', action: 'credits.spend', user_id: 'u1', amount: 3, expires_at: 0, reason: '', operator: 'key', at: 1, request_hash: 'ab' }],
  [1, { id: 'o1', action: 'order.create', user_id: 'u1', amount: 0, expires_at: 0, reason: '', operator: 'key', at: 1, order: { id: 'ord_1', provider: 'razorpay', product: 'pack', amount: 49900, currency: 'INR', expires_at: 9 } }],
  [1, { id: 'r1', action: 'referrer.set', user_id: 'u1', amount: 0, expires_at: 0, reason: '', operator: 'key', at: 1, referrer: 'u2' }],
  [2, { id: 'reset:1:5', action: 'credits.reset', user_id: 'u1', amount: 0, expires_at: 0, reason: '', operator: 'renewals', at: 1, sub_id: 1, ends_at: 5 }],
  [2, { id: 'n1', action: 'notice', user_id: 'u1', amount: 0, expires_at: 0, reason: '', operator: 'reminders', at: 1, name: 'trial_ending', key: 'k', sub_id: 1 }],
];
ops.forEach(([src, body], i) => put('fuzz_op', `op-${i}`, Buffer.concat([Buffer.from([src]), Buffer.from(JSON.stringify(body))])));

// Requests in CGI form: METHOD \n PATH \n CONTENT_LENGTH \n headers \n \n body.
const body = JSON.stringify(stripeEvents[0]);
put('fuzz_http', 'post', `POST\n/webhooks/stripe\n${body.length}\nStripe-Signature: t=1,v1=00\nContent-Type: application/json\n\n${body}`);
put('fuzz_http', 'get', 'GET\n/v1/users/u1\n\nAuthorization: Bearer tk_x\n\n');
put('fuzz_http', 'short', 'POST\n/x\n100\n\nabc');
put('fuzz_json', 'nested', '{"a":[1,{"b":null,"c":"\\u00e9\\ud83d\\ude00"}],"d":-0.5e10}');

// The direct providers: a byte (0 Razorpay, 1 Telegram, 2 CryptoBot), then "header\nbody".
const rzpBody = JSON.stringify({ entity: 'event', account_id: 'acc_1', event: 'payment.captured', contains: ['payment'], created_at: t,
  payload: { payment: { entity: { id: 'pay_1', entity: 'payment', amount: 49900, currency: 'INR', status: 'captured', order_id: 'order_1', notes: { tally_order: 'ord_1' } } } } });
const rzpSub = JSON.stringify({ entity: 'event', event: 'subscription.charged', contains: ['subscription', 'payment'], created_at: t,
  payload: { subscription: { entity: { id: 'sub_1', plan_id: 'plan_1', status: 'active', current_start: t, current_end: t + 2592000, paid_count: 2, notes: { user_id: 'u1' } } },
    payment: { entity: { id: 'pay_2', amount: 99900, currency: 'INR', status: 'captured', invoice_id: 'inv_1' } } } });
for (const [i, b] of [rzpBody, rzpSub].entries()) {
  put('fuzz_direct', `razorpay-${i}`, Buffer.concat([Buffer.from([0]), Buffer.from(`${crypto.createHmac('sha256', 'rzp_fuzz_secret').update(b).digest('hex')}\n${b}`)]));
}
const tgPay = JSON.stringify({ update_id: 10, message: { message_id: 1, date: t, chat: { id: 7, type: 'private' }, from: { id: 7, is_bot: false, first_name: 'a' },
  successful_payment: { currency: 'XTR', total_amount: 250, invoice_payload: 'ord_1', telegram_payment_charge_id: 'ch_1', provider_payment_charge_id: '', subscription_expiration_date: t + 2592000, is_recurring: true, is_first_recurring: true } } });
const tgPre = JSON.stringify({ update_id: 11, pre_checkout_query: { id: 'q1', from: { id: 7 }, currency: 'XTR', total_amount: 250, invoice_payload: 'ord_1' } });
const tgRefund = JSON.stringify({ update_id: 12, message: { message_id: 2, date: t, chat: { id: 7, type: 'private' }, from: { id: 7 }, refunded_payment: { currency: 'XTR', total_amount: 250, invoice_payload: 'ord_1', telegram_payment_charge_id: 'ch_1' } } });
for (const [i, b] of [tgPay, tgPre, tgRefund].entries()) put('fuzz_direct', `telegram-${i}`, Buffer.concat([Buffer.from([1]), Buffer.from(`secret\n${b}`)]));
const cbBody = JSON.stringify({ update_id: 1, update_type: 'invoice_paid', request_date: new Date(t * 1000).toISOString(),
  payload: { invoice_id: 77, status: 'paid', currency_type: 'crypto', asset: 'USDT', amount: '4.99', payload: 'ord_1', paid_at: new Date(t * 1000).toISOString() } });
const cbKey = crypto.createHash('sha256').update('1:fuzz').digest();
put('fuzz_direct', 'cryptobot-0', Buffer.concat([Buffer.from([2]), Buffer.from(`${crypto.createHmac('sha256', cbKey).update(cbBody).digest('hex')}\n${cbBody}`)]));

// Google Play push tokens: a mode byte (0 a token, 1 "header\nclaims" signed by the target,
// 2 a JWK set, NUL, a Cache-Control value); the target's clock is 1700000000, its key "k1".
const g = new FakeGoogle({ audience: 'https://billing.example.com/webhooks/google', pushEmail: 'rtdn-push@tally-test.iam.gserviceaccount.com' });
const gput = (name, mode, text) => put('fuzz_google_oidc', name, Buffer.concat([Buffer.from([mode]), Buffer.from(text)]));
const claims = { iat: t, exp: t + 3600 };
gput('token-k1', 0, g.signPush(claims, { kid: 'k1' }));
gput('token-small', 0, g.signPush(claims, { kid: 'small' }));
gput('token-unknown-kid', 0, g.signPush(claims));
gput('token-none', 0, g.signPush(claims, { kid: 'k1', alg: 'none' }));
gput('token-hs256', 0, g.signPush(claims, { kid: 'k1', alg: 'HS256' }));
gput('token-rs512', 0, g.signPush(claims, { kid: 'k1', alg: 'RS512' }));
const good = JSON.parse(Buffer.from(g.signPush(claims).split('.')[1], 'base64url'));
const hdr = JSON.stringify({ alg: 'RS256', kid: 'k1', typ: 'JWT' });
gput('claims-good', 1, JSON.stringify(good));
gput('claims-iss-short', 1, JSON.stringify({ ...good, iss: 'accounts.google.com' }));
gput('claims-verified-string', 1, JSON.stringify({ ...good, email_verified: 'true' }));
gput('claims-expired', 1, JSON.stringify({ ...good, exp: t - 1 }));
gput('claims-future-iat', 1, JSON.stringify({ ...good, iat: t + 600 }));
gput('claims-aud-array', 1, JSON.stringify({ ...good, aud: [good.aud] }));
gput('claims-no-email', 1, JSON.stringify({ ...good, email: undefined }));
gput('header-claims', 1, `${hdr}\n${JSON.stringify(good)}`);
gput('header-none', 1, `${JSON.stringify({ alg: 'none', kid: 'k1' })}\n${JSON.stringify(good)}`);
gput('header-crit', 1, `${JSON.stringify({ alg: 'RS256', kid: 'k1', crit: ['exp'] })}\n${JSON.stringify(good)}`);
const jwks = JSON.stringify({ keys: g.published.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: 'RS256', use: 'sig' })) });
gput('jwks', 2, `${jwks}\0public, max-age=19845, must-revalidate, no-transform`);
gput('jwks-mixed', 2, `${JSON.stringify({ keys: [{ kid: 'ec', kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }, { kid: 'e', kty: 'RSA', n: 'AQAB', e: 'AQAB', use: 'enc' }] })}\0no-store, max-age=5`);

// Google Play: wrapped pushes of each notification kind, and tally's envelopes of purchases
// (the stored body the mapping reads), in Google's field names (tests/lib/google.js).
const GP = require('../lib/google');
const gToken = 'tok_fuzz.AO-J1Oaaaa';
const gNotes = [GP.subNotification(GP.SUB.PURCHASED, gToken), GP.subNotification(GP.SUB.REVOKED, gToken, { number: true }),
  GP.productNotification(GP.ONE_TIME.PURCHASED, gToken, 'credits_500'), GP.voidedNotification({ purchaseToken: gToken, orderId: 'GPA.1', refundType: 2 }),
  GP.developerNotification({ pendingRefundReviewNotification: { pendingRefundToken: 'r', orderId: 'GPA.1', refundReason: 1 } }), GP.testNotification()];
gNotes.forEach((n, i) => {
  const data = Buffer.from(JSON.stringify(n)).toString('base64');
  put('fuzz_google', `push-${i}`, JSON.stringify({ message: { attributes: {}, data, messageId: String(9000 + i), message_id: String(9000 + i), publishTime: '2023-11-14T22:13:20.123Z' }, subscription: 'projects/p/subscriptions/s' }));
});
const gEnvelope = (note, call, purchase, status = 200) => JSON.stringify({
  tally_google: { v: 1, message_id: 'm1', publish_time: '2023-11-14T22:13:20.123Z', subscription: 'projects/p/subscriptions/s', fetched_at: t * 1000, call, status, token: gToken, product: call === 'products' ? 'credits_500' : null },
  notification: note, purchase,
});
const gStart = t * 1000;
put('fuzz_google', 'envelope-sub', gEnvelope(gNotes[0], 'subscriptionsv2', GP.subV2({ start: gStart, orderId: 'GPA.1..2', account: 'u1', linked: 'tok_old', ack: false })));
put('fuzz_google', 'envelope-trial', gEnvelope(gNotes[0], 'subscriptionsv2', GP.subV2({ start: gStart, trial: true, test: true, state: 'IN_GRACE_PERIOD' })));
put('fuzz_google', 'envelope-hold', gEnvelope(gNotes[0], 'subscriptionsv2', GP.subV2({ start: gStart, state: 'ON_HOLD', prepaid: true })));
put('fuzz_google', 'envelope-product', gEnvelope(gNotes[2], 'products', GP.productPurchase({ time: gStart, orderId: 'GPA.2', quantity: 3, account: 'u1', ack: false })));
put('fuzz_google', 'envelope-fetched', gEnvelope(null, 'subscriptionsv2', GP.subV2({ start: gStart, state: 'CANCELED' })));
put('fuzz_google', 'envelope-404', gEnvelope(gNotes[1], 'subscriptionsv2', null, 404));
put('fuzz_google', 'unwrapped', JSON.stringify(gNotes[5]));
