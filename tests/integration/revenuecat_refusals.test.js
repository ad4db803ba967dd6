'use strict';
// What the RevenueCat endpoint refuses, through nginx: a missing or wrong Authorization
// (401), bodies that are not RevenueCat events (400), oversized bodies (413), other methods
// (405), no secret configured (503): each changes nothing (DESIGN.md invariants 5 and 6).
// And what it keeps without applying: sandbox events while sandbox is off, unknown products
// and users that cannot be found, each stored, alerted and replayable once fixed.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const R = require('../lib/revenuecat-events');

const AUTH = `Bearer whk_${crypto.randomBytes(18).toString('hex')}`;

async function refused(env, sendFn, status, code) {
  const before = env.counts();
  const r = await sendFn();
  assert.strictEqual(r.status, status, `status ${r.status} body ${r.text}`);
  if (code) assert.strictEqual(r.json && r.json.error && r.json.error.code, code, r.text);
  assert.deepStrictEqual(env.counts(), before, 'the database changed');
  return r;
}

const purchase = (user) => R.initialPurchase({ user });

// The alert apply writes for an event left in state (its dedup key is alert:inbox:<id>:<state>).
function alerts(env, inboxId, state) {
  return env.sql(`SELECT count(*) AS n FROM outbox WHERE kind = 'alert' AND topic = 'event.attention' AND dedup_key = 'alert:inbox:${inboxId}:${state}'`)[0].n;
}

test('rc-accepts-the-configured-authorization', async (env) => {
  const r = await R.post(env, purchase('rc_ok'), AUTH);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied');
  assert.strictEqual(env.user('rc_ok').balance.available, 1000);
});

test('rc-missing-authorization', async (env) => {
  const r = await refused(env, () => R.post(env, purchase('rc_noauth'), null), 401, 'bad_authorization');
  assert.match(r.json.error.message, /missing/);
  assert.strictEqual(env.user('rc_noauth'), null);
});

test('rc-wrong-authorization', async (env) => {
  await refused(env, () => R.post(env, purchase('rc_wrong'), 'Bearer not-the-secret'), 401, 'bad_authorization');
  // Same length, one byte off; a prefix of it; it with more after it; without its "Bearer ".
  const flipped = AUTH.slice(0, -1) + (AUTH.endsWith('a') ? 'b' : 'a');
  await refused(env, () => R.post(env, purchase('rc_wrong'), flipped), 401, 'bad_authorization');
  await refused(env, () => R.post(env, purchase('rc_wrong'), AUTH.slice(0, -1)), 401, 'bad_authorization');
  await refused(env, () => R.post(env, purchase('rc_wrong'), `${AUTH}x`), 401, 'bad_authorization');
  await refused(env, () => R.post(env, purchase('rc_wrong'), AUTH.replace('Bearer ', '')), 401, 'bad_authorization');
  assert.strictEqual(env.user('rc_wrong'), null);
});

test('rc-authorization-is-never-logged', async (env) => {
  await R.post(env, purchase('rc_logged'), AUTH);
  await R.post(env, purchase('rc_logged2'), `${AUTH}-forged`);
  const log = env.log('revenuecat');
  assert.ok(log.includes('"status":401'), 'the refusal is logged');
  assert.ok(!log.includes(AUTH.slice(7)), 'the secret is not');
});

test('rc-malformed-json', async (env) => {
  await refused(env, () => R.post(env, '{"event": {"id": "x", "type": ', AUTH), 400, 'malformed_event');
});

test('rc-not-a-revenuecat-event', async (env) => {
  await refused(env, () => R.post(env, { api_version: '1.0' }, AUTH), 400, 'malformed_event');
  await refused(env, () => R.post(env, { object: 'event', id: 'evt_1', type: 'invoice.paid' }, AUTH), 400, 'malformed_event');
  await refused(env, () => R.post(env, '[1,2,3]', AUTH), 400, 'malformed_event');
  const noId = purchase('rc_noid');
  delete noId.event.id;
  await refused(env, () => R.post(env, noId, AUTH), 400, 'malformed_event');
});

test('rc-wrong-field-types', async (env) => {
  const a = purchase('rc_types');
  a.event.event_timestamp_ms = String(a.event.event_timestamp_ms);
  await refused(env, () => R.post(env, a, AUTH), 400, 'malformed_event');
  const b = purchase('rc_types');
  b.event.aliases = 'rc_types';
  await refused(env, () => R.post(env, b, AUTH), 400, 'malformed_event');
  const c = purchase('rc_types');
  c.event.environment = 'STAGING';
  await refused(env, () => R.post(env, c, AUTH), 400, 'malformed_event');
  const d = purchase('rc_types');
  d.event.price_in_purchased_currency = '9.99';
  await refused(env, () => R.post(env, d, AUTH), 400, 'malformed_event');
});

test('rc-duplicate-keys-and-invalid-utf8', async (env) => {
  const body = JSON.stringify(purchase('rc_dup')).replace('"environment":"PRODUCTION"', '"environment":"SANDBOX","environment":"PRODUCTION"');
  await refused(env, () => R.post(env, body, AUTH), 400, 'malformed_event');
  const bad = Buffer.concat([Buffer.from('{"api_version":"1.0","event":{"id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
  await refused(env, () => R.post(env, bad, AUTH), 400, 'malformed_event');
});

test('rc-oversized-body', async (env) => {
  const b = purchase('rc_big');
  b.event.subscriber_attributes.pad = { value: 'x'.repeat(1100 * 1024), updated_at_ms: 1 };
  await refused(env, () => R.post(env, b, AUTH), 413, 'body_too_large');
});

test('rc-wrong-method', async (env) => {
  const before = env.counts();
  const r = await env.request('GET', '/webhooks/revenuecat', undefined, { Authorization: AUTH });
  assert.strictEqual(r.status, 405);
  assert.strictEqual(r.headers.allow, 'POST');
  assert.deepStrictEqual(env.counts(), before);
});

test('rc-sandbox-refused-while-disabled', async (env) => {
  const before = env.counts();
  const b = R.initialPurchase({ user: 'rc_sandbox', environment: 'SANDBOX' });
  const r = await R.post(env, b, AUTH);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'ignored');
  assert.match(r.json.reason, /test-mode event refused/);
  const after = env.counts();
  assert.strictEqual(after.inbox, before.inbox + 1, 'stored');
  assert.deepStrictEqual({ ...after, inbox: before.inbox }, before, 'and nothing else');
  assert.strictEqual(env.sql(`SELECT live FROM inbox WHERE id = ${r.json.inbox_id}`)[0].live, 0);
  assert.strictEqual(env.user('rc_sandbox'), null);
  // A sandbox virtual currency grant (purchase_environment) is refused the same way.
  const vc = await R.post(env, R.virtualCurrency({ user: 'rc_sandbox', environment: 'SANDBOX' }), AUTH);
  assert.strictEqual(vc.json.state, 'ignored');
  assert.strictEqual(env.user('rc_sandbox'), null);
});

test('rc-unknown-product-is-stored-alerted-and-replayable-after-the-catalog-is-fixed', async (env) => {
  const b = R.initialPurchase({ user: 'rc_newprod', product: 'com.tally.max.monthly' });
  const r = await R.post(env, b, AUTH);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'unknown_product');
  assert.match(r.json.reason, /com.tally.max.monthly is not in the catalog/);
  assert.strictEqual(alerts(env, r.json.inbox_id, 'unknown_product'), 1);
  assert.strictEqual(env.user('rc_newprod'), null, 'nothing applied');
  // Fix the catalog, replay with the CLI.
  const cfg = R.config({ products: { max_monthly: { kind: 'subscription', entitlements: ['max'], credits: 9000, match: { apple: ['com.tally.max.monthly'] } } } });
  env.writeConfig(cfg);
  const rp = env.tally(['events', 'replay', String(r.json.inbox_id)]);
  assert.strictEqual(rp.code, 0, rp.stderr + rp.stdout);
  assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${r.json.inbox_id}`)[0].state, 'applied');
  const doc = env.user('rc_newprod');
  assert.strictEqual(doc.balance.available, 9000);
  assert.ok(doc.entitlements.some((e) => e.name === 'max'));
  env.writeConfig(R.config());
});

test('rc-unknown-user-is-stored-alerted-and-applied-when-linked', async (env) => {
  // An app user id tally cannot take as its own user id (over 128 bytes): kept, waiting for a link.
  const long = `user-${'x'.repeat(150)}`;
  const r = await R.post(env, R.initialPurchase({ user: long }), AUTH);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'orphaned');
  assert.match(r.json.reason, /unknown user/);
  assert.strictEqual(alerts(env, r.json.inbox_id, 'orphaned'), 1);
  // The operator links the RevenueCat id to the app's user; the waiting event applies at once.
  await R.post(env, R.nonRenewing({ user: 'rc_erin' }), AUTH);
  const link = env.tally(['links', 'add', 'rc_erin', 'revenuecat', 'app_user_id', long, '--operator', 'test']);
  assert.strictEqual(link.code, 0, link.stderr);
  assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${r.json.inbox_id}`)[0].state, 'applied');
  const doc = env.user('rc_erin');
  assert.strictEqual(doc.balance.available, 1500);
  assert.strictEqual(doc.subscriptions.length, 1);
});

// Separate endpoints with another configuration, each started and stopped by its test.
test('rc-no-secret-configured-refuses-everything', async () => {
  const env = await Env.start({ handlers: ['revenuecat'], config: R.config(), env: { REVENUECAT_WEBHOOK_AUTH: undefined } });
  try {
    const r = await refused(env, () => R.post(env, purchase('rc_unconf'), AUTH), 503, 'not_configured');
    assert.ok(r.json.error);
    await refused(env, () => R.post(env, purchase('rc_unconf'), null), 503, 'not_configured');
    assert.match(env.log('revenuecat'), /REVENUECAT_WEBHOOK_AUTH is not set/);
  } finally {
    await env.stop();
  }
});

test('rc-sandbox-applied-when-enabled-and-kept-apart', async () => {
  const env = await Env.start({ handlers: ['revenuecat'], config: R.config({ revenuecat: { sandbox: true } }), env: { REVENUECAT_WEBHOOK_AUTH: AUTH } });
  try {
    const r = await R.post(env, R.initialPurchase({ user: 'rc_sbx', environment: 'SANDBOX' }), AUTH);
    assert.strictEqual(r.json.state, 'applied', r.text);
    await R.post(env, R.initialPurchase({ user: 'rc_sbx' }), AUTH);
    const doc = env.user('rc_sbx');
    assert.deepStrictEqual(doc.subscriptions.map((s) => s.live).sort(), [false, true], 'a sandbox and a production subscription');
  } finally {
    await env.stop();
  }
});

test('rc-transfer-moves-packs-when-configured', async () => {
  const env = await Env.start({ handlers: ['revenuecat'], config: R.config({ revenuecat: { transfer_packs: true } }), env: { REVENUECAT_WEBHOOK_AUTH: AUTH } });
  try {
    await R.post(env, R.initialPurchase({ user: 'rc_tp_from' }), AUTH);
    await R.post(env, R.nonRenewing({ user: 'rc_tp_from' }), AUTH);
    const r = await R.post(env, R.transfer({ from: ['rc_tp_from'], to: ['rc_tp_to'] }), AUTH);
    assert.strictEqual(r.json.state, 'applied', r.text);
    assert.strictEqual(env.user('rc_tp_to').balance.available, 1500);
    assert.strictEqual(env.user('rc_tp_from').balance.available, 0);
    assert.ok(env.user('rc_tp_from').audit.some((a) => a.action === 'credits.transfer'));
  } finally {
    await env.stop();
  }
});

run({
  before: () => Env.start({ handlers: ['revenuecat'], config: R.config(), env: { REVENUECAT_WEBHOOK_AUTH: AUTH } }),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
