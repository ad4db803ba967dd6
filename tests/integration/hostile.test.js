'use strict';
// Hostile requests to every endpoint, through nginx, each correctly signed so
// it reaches the parser behind the verification: bodies at and past the size
// limit, headers past theirs, invalid UTF-8, NUL bytes raw and escaped,
// duplicated keys, numbers out of range, nesting past the depth bound, ids
// past their length. Each gets a 4xx with a JSON error code, and the database
// is unchanged (a body at the limit is not refused for its size). The support
// console, whose requests are forms from a logged-in admin, gets the same in
// its own shape: a 4xx page saying why.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { Env, DEFAULT_CATALOG } = require('../lib/harness');
const S = require('../lib/stripe-events');
const A = require('../lib/apple');
const R = require('../lib/revenuecat-events');
const C = require('../lib/console');

const BODY_MAX = 1024 * 1024;
const SECRETS = {
  stripe: `whsec_${crypto.randomBytes(12).toString('hex')}`,
  razorpay: `rzp_whsec_${crypto.randomBytes(8).toString('hex')}`,
  telegram: `tg_${crypto.randomBytes(12).toString('hex')}`,
  cryptobot: `12345:${crypto.randomBytes(16).toString('hex')}`,
  revenuecat: `Bearer rc_${crypto.randomBytes(12).toString('hex')}`,
};
let pki;
let adminKey;

const hmacHex = (key, body) => crypto.createHmac('sha256', key).update(body).digest('hex');
// Stripe's SDK signs text (as UTF-8); bytes that are not UTF-8 are signed here the same way.
const signBytes = (body) => {
  if (!Buffer.isBuffer(body)) return S.sign(body, SECRETS.stripe);
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${hmacHex(SECRETS.stripe, Buffer.concat([Buffer.from(`${t}.`), body]))}`;
};

// Each endpoint: a valid body (text), where its ids and numbers are, and how to send a body signed.
function endpoints() {
  const now = Math.floor(Date.now() / 1000);
  return {
    stripe: {
      path: '/webhooks/stripe',
      body: () => JSON.stringify(S.event('customer.created', { id: 'cus_h', object: 'customer' })),
      idField: ['id'],
      numField: ['created'],
      send: (env, body, extra = {}) => env.request('POST', '/webhooks/stripe', body, { 'Content-Type': 'application/json', 'Stripe-Signature': signBytes(body), ...extra }),
    },
    appstore: {
      path: '/webhooks/appstore',
      // The hostile part sits in the signed payload: the outer body is the JWS.
      body: () => JSON.stringify({ notificationType: 'TEST', notificationUUID: crypto.randomUUID(), signedDate: Date.now(), data: { bundleId: A.BUNDLE, appAppleId: A.APP_ID, environment: 'Production' } }),
      idField: ['notificationUUID'],
      numField: ['signedDate'],
      send: (env, payloadText, extra = {}) => {
        const h = A.b64url(JSON.stringify({ alg: 'ES256', x5c: pki.chains.good.x5c }));
        const p = Buffer.from(payloadText).toString('base64url');
        const sig = crypto.sign('sha256', Buffer.from(`${h}.${p}`), { key: pki.chains.good.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
        return env.request('POST', '/webhooks/appstore', JSON.stringify({ signedPayload: `${h}.${p}.${sig}` }), { 'Content-Type': 'application/json', ...extra });
      },
    },
    revenuecat: {
      path: '/webhooks/revenuecat',
      body: () => JSON.stringify(R.testEvent()),
      idField: ['event', 'id'],
      numField: ['event', 'event_timestamp_ms'],
      send: (env, body, extra = {}) => env.request('POST', '/webhooks/revenuecat', body, { 'Content-Type': 'application/json', Authorization: SECRETS.revenuecat, ...extra }),
    },
    razorpay: {
      path: '/webhooks/razorpay',
      body: () => JSON.stringify({ entity: 'event', account_id: 'acc_h', event: 'payment.captured', contains: ['payment'], created_at: now, payload: { payment: { entity: { id: 'pay_h', entity: 'payment', amount: 100, currency: 'INR', status: 'captured', order_id: 'order_h', notes: {} } } } }),
      idField: ['payload', 'payment', 'entity', 'id'],
      numField: ['payload', 'payment', 'entity', 'amount'],
      send: (env, body, extra = {}) => env.request('POST', '/webhooks/razorpay', body, { 'Content-Type': 'application/json', 'X-Razorpay-Signature': hmacHex(SECRETS.razorpay, body), 'X-Razorpay-Event-Id': `evt_${crypto.randomBytes(6).toString('hex')}`, ...extra }),
    },
    telegram: {
      path: '/webhooks/telegram',
      body: () => JSON.stringify({ update_id: 1000 + Math.floor(Math.random() * 1e6), message: { message_id: 1, date: now, chat: { id: 7, type: 'private' }, from: { id: 7, is_bot: false, first_name: 'h' }, successful_payment: { currency: 'XTR', total_amount: 250, invoice_payload: 'ord_000000000000000000000000', telegram_payment_charge_id: 'tg_charge_h', provider_payment_charge_id: '' } } }),
      idField: ['message', 'successful_payment', 'telegram_payment_charge_id'],
      numField: ['update_id'],
      send: (env, body, extra = {}) => env.request('POST', '/webhooks/telegram', body, { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': SECRETS.telegram, ...extra }),
    },
    cryptobot: {
      path: '/webhooks/cryptobot',
      body: () => JSON.stringify({ update_id: 1, update_type: 'invoice_paid', request_date: new Date().toISOString(), payload: { invoice_id: 77, status: 'paid', currency_type: 'crypto', asset: 'USDT', amount: '4.99', payload: 'ord_000000000000000000000000', paid_at: new Date().toISOString() } }),
      idField: ['payload', 'payload'],
      numField: ['payload', 'invoice_id'],
      send: (env, body, extra = {}) => env.request('POST', '/webhooks/cryptobot', body, { 'Content-Type': 'application/json', 'crypto-pay-api-signature': hmacHex(crypto.createHash('sha256').update(SECRETS.cryptobot).digest(), body), ...extra }),
    },
    api: {
      path: '/v1/users/h_user/spend',
      body: () => JSON.stringify({ amount: 1, idempotency_key: crypto.randomUUID(), reason: 'r' }),
      idField: ['idempotency_key'],
      numField: ['amount'],
      send: (env, body, extra = {}) => env.request('POST', '/v1/users/h_user/spend', body, { 'Content-Type': 'application/json', Authorization: `Bearer ${adminKey}`, ...extra }),
    },
  };
}

function setAt(obj, path, value) {
  let o = obj;
  for (const k of path.slice(0, -1)) o = o[k];
  o[path[path.length - 1]] = value;
}

// The hostile variants of a valid body text.
function variants(ep) {
  const base = ep.body();
  const withField = (path, value) => { const d = JSON.parse(base); setAt(d, path, value); return JSON.stringify(d); };
  const deep = (n) => `${'['.repeat(n)}1${']'.repeat(n)}`;
  const marker = '"__h":"x",';
  const put = (text) => `{${text}${base.slice(1)}`;
  const num = (text) => withField(ep.numField, 987654321).replace('987654321', text);
  return [
    // Bytes, not text: a JS string would be sent as (valid) UTF-8.
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"__h":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(`",${base.slice(1)}`)])],
    ['a raw NUL byte', Buffer.concat([Buffer.from('{"__h":"a'), Buffer.from([0]), Buffer.from(`b",${base.slice(1)}`)])],
    ['an escaped NUL', put('"__h":"a\\u0000b",')],
    ['a duplicated key', put(`${marker}"__h":"y",`)],
    ['a number out of range', num('1e400')],
    ['a number past 2^53', num('123456789012345678901234567890')],
    ['a negative number where a count is', num('-5')],
    ['nesting past the depth bound', put(`"__h":${deep(40)},`)],
    ['very deep nesting', put(`"__h":${deep(100000)},`)],
    ['an id past its length', withField(ep.idField, 'i'.repeat(10000))],
    ['not JSON', 'not json at all'],
    ['a JSON array', '[1,2,3]'],
    ['an empty body', ''],
  ];
}

async function unchanged(env, fn) {
  const before = env.counts();
  const r = await fn();
  assert.deepStrictEqual(env.counts(), before, 'the database changed');
  return r;
}

for (const name of ['stripe', 'appstore', 'revenuecat', 'razorpay', 'telegram', 'cryptobot', 'api']) {
  test(`${name}: every hostile body is a 4xx with a JSON error and changes nothing`, async (env) => {
    const ep = endpoints()[name];
    const wrong = [];
    for (const [what, body] of variants(ep)) {
      const r = await unchanged(env, () => ep.send(env, body));
      if (r.status < 400 || r.status >= 500 || !r.json || !r.json.error || !r.json.error.code) wrong.push(`${what}: ${r.status} ${r.text.slice(0, 160)}`);
    }
    assert.deepStrictEqual(wrong, []);
  });

  test(`${name}: a body past the limit is 413, a header past its limit 431, a body at the limit is not refused for its size`, async (env) => {
    const ep = endpoints()[name];
    const big = `{"pad":"${'p'.repeat(BODY_MAX)}"}`;
    const r413 = await unchanged(env, () => ep.send(env, big));
    assert.strictEqual(r413.status, 413, r413.text.slice(0, 200));
    assert.strictEqual(r413.json.error.code, 'body_too_large');
    const r431 = await unchanged(env, () => ep.send(env, ep.body(), { 'X-Padding': 'h'.repeat(5000) }));
    assert.strictEqual(r431.status, 431, r431.text.slice(0, 200));
    assert.strictEqual(r431.json.error.code, 'header_too_large');
    if (name === 'appstore' || name === 'api') return; // their own smaller bounds: the JWS payload, the API's 16 KiB
    const d = JSON.parse(ep.body());
    d.__pad = '';
    const room = BODY_MAX - Buffer.byteLength(JSON.stringify(d));
    d.__pad = 'p'.repeat(room);
    const atLimit = JSON.stringify(d);
    assert.strictEqual(Buffer.byteLength(atLimit), BODY_MAX);
    const r = await ep.send(env, atLimit);
    assert.notStrictEqual(r.status, 413, `a body of exactly ${BODY_MAX} bytes: ${r.text.slice(0, 200)}`);
    assert.ok(r.status < 500, r.text.slice(0, 200));
  });
}

test('the API: bodies past its 16 KiB, ids and keys past their length, bad numbers: 4xx, nothing changed', async (env) => {
  const send = (path, body) => env.request('POST', path, body, { 'Content-Type': 'application/json', Authorization: `Bearer ${adminKey}` });
  const cases = [
    ['/v1/users/h_user/spend', JSON.stringify({ amount: 1, idempotency_key: 'k', reason: 'r'.repeat(17000) }), 413],
    ['/v1/users/h_user/spend', JSON.stringify({ amount: 1, idempotency_key: 'k'.repeat(200) }), 400],
    ['/v1/users/h_user/spend', '{"amount":1e400,"idempotency_key":"k"}', 400],
    ['/v1/users/h_user/spend', '{"amount":-9223372036854775809,"idempotency_key":"k"}', 400],
    ['/v1/users/h_user/promotions', JSON.stringify({ credits: 5, reason: 'r'.repeat(300) }), 400],
    ['/v1/users/h_user/links', JSON.stringify({ provider: 'stripe', kind: 'customer', id: 'c'.repeat(300) }), 400],
    ['/v1/users/h_user/referrer', JSON.stringify({ referrer: 'u'.repeat(200) }), 400],
    [`/v1/users/${'u'.repeat(300)}/spend`, JSON.stringify({ amount: 1, idempotency_key: 'k' }), 404],
  ];
  for (const [path, body, status] of cases) {
    const r = await unchanged(env, () => send(path, body));
    assert.strictEqual(r.status, status, `${path} ${body.slice(0, 60)}: ${r.status} ${r.text.slice(0, 120)}`);
  }
});

// The console takes forms, not JSON: each hostile form is a 4xx page with its reason, nothing changed.
test('the console: hostile forms, bodies and headers past their limits: 4xx, nothing changed', async (env) => {
  const c = new C.Client(env);
  const login = await c.login();
  assert.strictEqual(login.status, 303, login.text.slice(0, 200));
  const f = await c.form('/admin/user?id=h_user', 'credits.grant');
  const good = { ...f.fields, amount: '5', reason: 'hostile test' };
  const enc = (fields) => new URLSearchParams(fields).toString();
  const raw = (text) => env.request('POST', f.action, text, c.headers({ 'Content-Type': 'application/x-www-form-urlencoded' }));
  const many = {};
  for (let i = 0; i < 40; i++) many[`f${i}`] = 'x';
  const cases = [
    ['invalid UTF-8, percent-encoded', `${enc(good)}&reason=%C3%28%FF`.replace('reason=hostile+test&', '')],
    ['invalid UTF-8, raw', Buffer.concat([Buffer.from(enc({ ...good, reason: '' }).replace('reason=', 'reason=a')), Buffer.from([0xc3, 0x28, 0xff])])],
    ['an encoded NUL', enc({ ...good, reason: 'a\u0000b' })],
    ['a raw NUL', `${enc(good)}\u0000`],
    ['a duplicated field', `${enc(good)}&amount=7`],
    ['a malformed escape', `${enc(good)}&x=%zz`],
    ['an amount out of range', enc({ ...good, amount: '1e400' })],
    ['an amount past 2^63', enc({ ...good, amount: '99999999999999999999' })],
    ['a negative amount', enc({ ...good, amount: '-5' })],
    ['an amount past the bound', enc({ ...good, amount: String(1e9 + 1) })],
    ['a user id past its length', enc({ ...good, user: 'u'.repeat(10000) })],
    ['a reason past its length', enc({ ...good, reason: 'r'.repeat(600) })],
    ['too many fields', enc({ ...good, ...many })],
    ['a body past the 16 KiB bound', enc({ ...good, pad: 'p'.repeat(17000) })],
    ['not a form', JSON.stringify(good)],
    ['an empty body', ''],
  ];
  const wrong = [];
  for (const [what, body] of cases) {
    const before = env.counts();
    const r = await raw(body);
    if (JSON.stringify(env.counts()) !== JSON.stringify(before)) { wrong.push(`${what}: changed the database (${r.status})`); continue; }
    if (r.status < 400 || r.status >= 500 || !/<p[^>]*>[^<]{8,}/.test(r.text)) wrong.push(`${what}: ${r.status} ${r.text.slice(0, 160)}`);
  }
  assert.deepStrictEqual(wrong, []);
  // The limits of the request layer hold here too.
  const r413 = await unchanged(env, () => raw(enc({ ...good, pad: 'p'.repeat(BODY_MAX + 10) })));
  assert.strictEqual(r413.status, 413);
  const r431 = await unchanged(env, () => env.request('POST', f.action, enc(good), c.headers({ 'Content-Type': 'application/x-www-form-urlencoded', 'X-Padding': 'h'.repeat(5000) })));
  assert.strictEqual(r431.status, 431);
  // Searches and page parameters past their bounds are refused or find nothing, never a 5xx.
  for (const q of [`/admin/user?id=${'u'.repeat(10000)}`, '/admin/event?id=99999999999999999999', '/admin/event?id=-1', `/admin/search?q=${'%C3%28'.repeat(100)}`, '/admin/attention?after=1e400']) {
    const r = await unchanged(env, () => c.get(q));
    assert.ok(r.status < 500, `${q.slice(0, 60)}: ${r.status}`);
    assert.ok(!r.text.includes('<script'), q.slice(0, 60));
  }
  // The good form still works afterwards: the refusals were about the input, not the session.
  const ok = await raw(enc(good));
  assert.strictEqual(ok.status, 303, ok.text.slice(0, 200));
  assert.strictEqual(env.tallyJson(['user', 'show', 'h_user', '--json']).balance.available, 1005);
});

run({
  before: async () => {
    pki = A.makePki();
    const cfg = JSON.parse(JSON.stringify(DEFAULT_CATALOG));
    cfg.apple = { bundle_id: A.BUNDLE, app_apple_id: A.APP_ID, roots: [pki.root.pem] };
    cfg.razorpay = { key_id: 'rzp_live_Hostile000001' };
    cfg.products.credits_100 = { kind: 'pack', credits: 100, prices: { INR: 100, XTR: 250, USDT: '4.99' } };
    const env = await Env.start({
      config: cfg,
      secret: SECRETS.stripe,
      handlers: ['stripe', 'appstore', 'revenuecat', 'razorpay', 'telegram', 'cryptobot', 'api', 'console'],
      env: {
        RAZORPAY_WEBHOOK_SECRET: SECRETS.razorpay, TELEGRAM_WEBHOOK_SECRET: SECRETS.telegram, TELEGRAM_BOT_TOKEN: '1:test',
        CRYPTOBOT_TOKEN: SECRETS.cryptobot, REVENUECAT_WEBHOOK_AUTH: SECRETS.revenuecat,
      },
    });
    adminKey = env.tallyJson(['keys', 'create', '--name', 'h', '--scopes', 'admin']).key;
    if (C.adminSet(env, C.ADMIN, C.PASSWORD).code !== 0) throw new Error('admin create failed');
    await env.request('POST', '/v1/users/h_user', '', { Authorization: `Bearer ${adminKey}` });
    await env.request('POST', '/v1/users/h_user/promotions', JSON.stringify({ credits: 1000, reason: 'test' }), { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' });
    return env;
  },
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
