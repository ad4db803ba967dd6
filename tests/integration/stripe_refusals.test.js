'use strict';
// Unauthenticated or malformed requests to the Stripe endpoint, through nginx:
// each gets a clear 4xx and changes nothing (DESIGN.md invariant 5).
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const S = require('../lib/stripe-events');

function packEvent(user) {
  return S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user,
    metadata: { product: 'credits_500' }, amountTotal: 500,
  }));
}

// Send, expect status and error code, and that no table changed.
async function refused(env, sendFn, status, code) {
  const before = env.counts();
  const r = await sendFn();
  assert.strictEqual(r.status, status, `status ${r.status} body ${r.text}`);
  if (code) assert.strictEqual(r.json && r.json.error && r.json.error.code, code, r.text);
  assert.deepStrictEqual(env.counts(), before, 'the database changed');
  return r;
}

test('stripe-accepts-sdk-signed-event', async (env) => {
  const r = await env.stripe(packEvent('u_ok'));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied');
  assert.strictEqual(env.user('u_ok').balance.available, 500);
});

test('stripe-bad-signature', async (env) => {
  const evt = packEvent('u_bad_sig');
  const body = JSON.stringify(evt);
  const t = S.nowS();
  await refused(env, () => env.stripe(evt, { body, header: `t=${t},v1=${'0'.repeat(64)}` }), 401, 'bad_signature');
  assert.strictEqual(env.user('u_bad_sig'), null);
});

test('stripe-signed-with-another-secret', async (env) => {
  await refused(env, () => env.stripe(packEvent('u_other_secret'), { secret: 'whsec_not_ours' }), 401, 'bad_signature');
});

test('stripe-tampered-body', async (env) => {
  const evt = packEvent('u_tamper');
  const body = JSON.stringify(evt);
  const header = S.sign(body, env.secret);
  const tampered = body.replace('"amount_total":500', '"amount_total":5');
  assert.notStrictEqual(tampered, body);
  await refused(env, () => env.stripe(evt, { body: tampered, header }), 401, 'bad_signature');
});

test('stripe-tampered-user-id', async (env) => {
  const evt = packEvent('u_victim');
  const body = JSON.stringify(evt);
  const header = S.sign(body, env.secret);
  await refused(env, () => env.stripe(evt, { body: body.replace('u_victim', 'u_thief_'), header }), 401, 'bad_signature');
});

test('stripe-stale-timestamp', async (env) => {
  await refused(env, () => env.stripe(packEvent('u_stale'), { timestamp: S.nowS() - 301 }), 401, 'stale_timestamp');
});

test('stripe-future-timestamp', async (env) => {
  await refused(env, () => env.stripe(packEvent('u_future'), { timestamp: S.nowS() + 3600 }), 401, 'stale_timestamp');
});

test('stripe-replayed-old-delivery', async (env) => {
  // A captured request (valid signature, old timestamp) replayed later is refused.
  const evt = packEvent('u_replay');
  const body = JSON.stringify(evt);
  const old = S.nowS() - 3600;
  await refused(env, () => env.stripe(evt, { body, header: S.sign(body, env.secret, old) }), 401, 'stale_timestamp');
});

test('stripe-missing-signature-header', async (env) => {
  await refused(env, () => env.stripe(packEvent('u_nosig'), { header: null }), 401, 'bad_signature');
});

test('stripe-v0-only-is-refused', async (env) => {
  // Test-mode deliveries carry a dummy v0; only v1 counts (downgrade protection).
  const evt = packEvent('u_v0');
  const body = JSON.stringify(evt);
  const v1 = S.sign(body, env.secret).split(',').find((p) => p.startsWith('v1=')).slice(3);
  await refused(env, () => env.stripe(evt, { body, header: `t=${S.nowS()},v0=${v1}` }), 401, 'bad_signature');
});

test('stripe-malformed-signature-header', async (env) => {
  const evt = packEvent('u_malformed_hdr');
  await refused(env, () => env.stripe(evt, { header: 'garbage' }), 400, 'bad_signature_header');
  await refused(env, () => env.stripe(evt, { header: `t=notanumber,v1=${'a'.repeat(64)}` }), 400, 'bad_signature_header');
});

test('stripe-one-of-several-v1-matches', async (env) => {
  const evt = packEvent('u_rotation');
  const body = JSON.stringify(evt);
  const good = S.sign(body, env.secret);
  const header = good.replace(',v1=', `,v1=${'f'.repeat(64)},v1=`);
  const r = await env.stripe(evt, { body, header });
  assert.strictEqual(r.status, 200, r.text);
});

test('stripe-oversized-body', async (env) => {
  const evt = packEvent('u_big');
  evt.data.object.metadata.pad = 'x'.repeat(1100 * 1024);
  await refused(env, () => env.stripe(evt), 413, 'body_too_large');
});

test('stripe-malformed-json-with-valid-signature', async (env) => {
  const body = '{"id": "evt_x", "object": "event", "type": ';
  await refused(env, () => env.stripe(null, { body }), 400, 'malformed_event');
});

test('stripe-duplicate-keys-with-valid-signature', async (env) => {
  const evt = packEvent('u_dupkey');
  const body = JSON.stringify(evt).replace('"livemode":false', '"livemode":false,"livemode":true');
  await refused(env, () => env.stripe(null, { body }), 400, 'malformed_event');
});

test('stripe-not-an-event-object', async (env) => {
  await refused(env, () => env.stripe(null, { body: JSON.stringify({ object: 'charge', id: 'ch_1' }) }), 400, 'malformed_event');
  await refused(env, () => env.stripe(null, { body: JSON.stringify({ object: 'v2.core.event', id: 'evt_1', type: 'x' }) }), 400, 'malformed_event');
});

test('stripe-wrong-field-types', async (env) => {
  const evt = packEvent('u_types');
  evt.data.object.amount_total = '500';
  await refused(env, () => env.stripe(evt), 400, 'malformed_event');
  const evt2 = packEvent('u_types2');
  evt2.created = -5;
  await refused(env, () => env.stripe(evt2), 400, 'malformed_event');
});

test('stripe-invalid-utf8-body', async (env) => {
  const body = Buffer.concat([Buffer.from('{"id":"evt_'), Buffer.from([0xff, 0xfe]), Buffer.from('","object":"event"}')]);
  // The SDK signs strings; sign these exact bytes the way it does (HMAC-SHA256 over "t.body").
  const crypto = require('crypto');
  const t = S.nowS();
  const mac = crypto.createHmac('sha256', env.secret).update(`${t}.`).update(body).digest('hex');
  await refused(env, () => env.request('POST', '/webhooks/stripe', body, { 'Stripe-Signature': `t=${t},v1=${mac}` }), 400, 'malformed_event');
});

test('stripe-wrong-method', async (env) => {
  const before = env.counts();
  const r = await env.request('GET', '/webhooks/stripe');
  assert.strictEqual(r.status, 405, r.text);
  assert.strictEqual(r.headers.allow, 'POST');
  assert.strictEqual(r.json.error.code, 'method_not_allowed');
  const r2 = await env.request('PUT', '/webhooks/stripe', '{}', { 'Content-Type': 'application/json' });
  assert.strictEqual(r2.status, 405);
  assert.deepStrictEqual(env.counts(), before);
});

test('stripe-empty-body', async (env) => {
  await refused(env, () => env.request('POST', '/webhooks/stripe', '', { 'Stripe-Signature': `t=${S.nowS()},v1=${'0'.repeat(64)}` }), 401, 'bad_signature');
});

test('unknown-path-is-404', async (env) => {
  const r = await env.request('POST', '/webhooks/nope', '{}');
  assert.strictEqual(r.status, 404);
});

test('stripe-handler-without-secret-refuses-everything', async () => {
  // Invariant 6: no secret configured means nothing is accepted, signed or not.
  const env = await Env.start({ secret: null });
  try {
    const before = env.counts();
    const evt = packEvent('u_nosecret');
    const r = await env.stripe(evt, { secret: 'whsec_anything' });
    assert.strictEqual(r.status, 503, r.text);
    assert.strictEqual(r.json.error.code, 'not_configured');
    const r2 = await env.stripe(evt, { header: null });
    assert.strictEqual(r2.status, 503);
    assert.deepStrictEqual(env.counts(), before);
    assert.match(env.log('stripe'), /STRIPE_WEBHOOK_SECRET is not set/);
  } finally {
    await env.stop();
  }
});

test('stripe-secret-from-file', async () => {
  const fs = require('fs');
  const path = require('path');
  const os = require('os');
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tally-secret-')), 'secret');
  fs.writeFileSync(f, 'whsec_from_file_123\n', { mode: 0o600 });
  const env = await Env.start({ secret: null, env: { STRIPE_WEBHOOK_SECRET_FILE: f } });
  try {
    const r = await env.stripe(packEvent('u_file'), { secret: 'whsec_from_file_123' });
    assert.strictEqual(r.status, 200, r.text);
    const r2 = await env.stripe(packEvent('u_file2'), { secret: 'whsec_from_file_12' });
    assert.strictEqual(r2.status, 401);
  } finally {
    await env.stop();
  }
});

test('secrets-never-in-logs', async (env) => {
  const log = env.log('stripe');
  assert.ok(log.length > 0);
  assert.ok(!log.includes(env.secret), 'the webhook secret appears in the log');
  assert.ok(!/v1=[0-9a-f]{64}/.test(log), 'a signature appears in the log');
});

run({
  before: () => Env.start(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
