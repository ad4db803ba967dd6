'use strict';
// The Android Publisher client (lib/providers/google/google_api.c) against the fake Google,
// through tests/tools/google_api_call (one client per run, so steps share its access token):
// the token exchange as Google checks it, one exchange for many calls and threads, renewal
// before expiry, a 401 answered with a new token and one retry, what every status means, the
// answers verbatim, acknowledge and consume, the voided list's pages and 30-day window, key
// files that cannot be used, and no token or key in anything tally prints.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { ROOT } = require('../lib/harness');
const { FakeGoogle } = require('../fakes/google');
const G = require('../lib/google');

const TOOLS = process.env.TALLY_TOOLS || path.join(ROOT, 'build', 'release', 'tests');
const PKG = 'com.example.tally';
const DAY = 86400000;
const MARGIN = 300; // GOOGLE_TOKEN_MARGIN
const printed = []; // everything the tool printed, for the last test

const ctx = {};

function writeConfig(dir, g, over = {}) {
  const cfg = {
    google: {
      package_name: PKG, push_audience: g.audience, push_service_account: g.pushEmail,
      certs_url: g.certsUrl, api_base: g.apiBase, token_url: g.tokenUrl, ...over,
    },
    http: { timeout: '5s', connect_timeout: '2s' },
    products: {},
  };
  const p = path.join(dir, `tally-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(p, JSON.stringify(cfg));
  return p;
}

// Run the tool without blocking the fake (same process); its JSON lines, stderr and status.
function call(args, { config = ctx.config, keyFile = ctx.keyFile, during } = {}) {
  const env = { PATH: process.env.PATH, TALLY_CONFIG: config };
  if (keyFile !== null) env.GOOGLE_SERVICE_ACCOUNT_FILE = keyFile; // null: unset
  if (process.env.ASAN_OPTIONS) env.ASAN_OPTIONS = process.env.ASAN_OPTIONS;
  if (process.env.UBSAN_OPTIONS) env.UBSAN_OPTIONS = process.env.UBSAN_OPTIONS;
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(TOOLS, 'google_api_call'), args, { env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    if (during) during(p);
    p.on('error', reject);
    p.on('close', (code) => {
      printed.push(out, err);
      if (/Sanitizer|runtime error/.test(err)) return reject(new Error(`google_api_call: ${err}`));
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      resolve({ code, lines, err });
    });
  });
}

// The publisher requests the fake saw since mark (tokens excluded).
const apiRequests = (g, mark) => g.requests.slice(mark).filter((r) => r.url.startsWith('/androidpublisher/'));

async function fresh(opts = {}) {
  const g = ctx.g;
  g.reset();
  g.tokenTtl = opts.tokenTtl || 3599;
  g.voidedPageSize = 1000;
  g.voided = [];
  return g;
}

test('the assertion is what Google checks, and the answer comes back verbatim', async () => {
  const g = await fresh();
  const doc = G.subV2({ account: 'u_1', ack: false, trial: true });
  g.setSubscription('tok.sub.1', doc);
  const r = await call(['sub', 'tok.sub.1']);
  assert.strictEqual(r.code, 0, r.err);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['OK']);
  assert.strictEqual(r.lines[0].body, JSON.stringify(doc));
  assert.strictEqual(g.tokenRequests.length, 1);
  const t = g.tokenRequests[0];
  assert.ok(t.ok, t.why);
  assert.deepStrictEqual(Object.keys(t.header).sort(), ['alg', 'kid', 'typ']);
  assert.strictEqual(t.header.kid, g.saKeyId);
  assert.strictEqual(t.claims.iss, g.clientEmail);
  assert.strictEqual(t.claims.scope, 'https://www.googleapis.com/auth/androidpublisher');
  assert.strictEqual(t.claims.aud, 'https://oauth2.googleapis.com/token');
  assert.strictEqual(t.claims.exp - t.claims.iat, 3600);
  assert.ok(Math.abs(t.claims.iat - Date.now() / 1000) < 60);
  const tokenReq = g.requests.find((x) => x.url === '/token');
  assert.match(tokenReq.contentType, /^application\/x-www-form-urlencoded/);
  const api = apiRequests(g, 0);
  assert.strictEqual(api.length, 1);
  assert.strictEqual(api[0].url, `/androidpublisher/v3/applications/${PKG}/purchases/subscriptionsv2/tokens/tok.sub.1`);
  assert.match(api[0].authorization, /^Bearer ya29\./);
});

test('one token exchange serves many calls, and many threads at once', async () => {
  const g = await fresh();
  g.setSubscription('tok.many', G.subV2({}));
  g.setProduct('credits_500', 'tok.p.many', G.productPurchase({}));
  g.tokenDelayMs = 300; // threads that find no token wait for the one exchange under way
  try {
    const r = await call(['par', '8', 'sub', 'tok.many', 'sub', 'tok.many', 'product', 'credits_500', 'tok.p.many',
      'par', '4', 'product', 'credits_500', 'tok.p.many', 'exchanges']);
    assert.strictEqual(r.code, 0, r.err);
    const calls = r.lines.filter((l) => l.call !== 'exchanges');
    assert.strictEqual(calls.length, 14);
    assert.ok(calls.every((l) => l.rc === 'OK'), JSON.stringify(calls.filter((l) => l.rc !== 'OK')));
    assert.strictEqual(r.lines.at(-1).why, '1');
    assert.strictEqual(g.tokenRequests.length, 1);
    assert.strictEqual(new Set(apiRequests(g, 0).map((x) => x.authorization)).size, 1);
  } finally {
    g.tokenDelayMs = 0;
  }
});

test(`a token is renewed ${MARGIN} s before it expires; one shorter than that serves its own call only`, async () => {
  let g = await fresh({ tokenTtl: MARGIN + 2 }); // fresh for 2 s
  g.setSubscription('tok.renew', G.subV2({}));
  let r = await call(['sub', 'tok.renew', 'sub', 'tok.renew', 'sleep', '2500', 'sub', 'tok.renew', 'sub', 'tok.renew', 'exchanges']);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['OK', 'OK', 'OK', 'OK', 'OK']);
  assert.strictEqual(r.lines.at(-1).why, '2');
  assert.strictEqual(g.tokensIssued, 2);
  const auths = apiRequests(g, 0).map((x) => x.authorization);
  assert.strictEqual(auths[0], auths[1]);
  assert.notStrictEqual(auths[1], auths[2]);
  assert.strictEqual(auths[2], auths[3]);
  g = await fresh({ tokenTtl: 60 });
  r = await call(['sub', 'tok.renew', 'sub', 'tok.renew', 'sub', 'tok.renew', 'exchanges']);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['OK', 'OK', 'OK', 'OK']);
  assert.strictEqual(r.lines.at(-1).why, '3');
});

test('a 401 drops the token: one new exchange and one retry, never a second', async () => {
  let g = await fresh();
  g.setSubscription('tok.401', G.subV2({}));
  g.failNext(/subscriptionsv2/, 401, 1);
  let r = await call(['sub', 'tok.401', 'sub', 'tok.401']);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['OK', 'OK']);
  assert.strictEqual(g.tokensIssued, 2);
  assert.strictEqual(apiRequests(g, 0).length, 3);

  g = await fresh();
  g.failNext(/subscriptionsv2/, 401, 2);
  r = await call(['sub', 'tok.401']);
  assert.strictEqual(r.lines[0].rc, 'AUTH');
  assert.match(r.lines[0].why, /^Google Play answered 401: Request had invalid authentication credentials/);
  assert.strictEqual(apiRequests(g, 0).length, 2);
  assert.strictEqual(g.tokensIssued, 2);

  // Tokens the fake stops honouring between two calls (revoked, or Google's clock): the same.
  g = await fresh();
  r = await call(['sub', 'tok.401', 'sleep', '1500', 'sub', 'tok.401', 'exchanges'], {
    during: () => {
      const t = setInterval(() => {
        if (apiRequests(g, 0).length) { g.expireTokens(); clearInterval(t); }
      }, 20);
    },
  });
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['OK', 'OK', 'OK']);
  assert.strictEqual(r.lines.at(-1).why, '2');
  assert.deepStrictEqual(apiRequests(g, 0).map((x) => x.url.split('/').pop()), ['tok.401', 'tok.401', 'tok.401']);
});

test('every status means what google_api.h says, with Google\'s message', async () => {
  const g = await fresh();
  g.setSubscription('tok.st', G.subV2({}));
  const cases = [
    [403, 'AUTH', /^Google Play answered 403: The current user has insufficient permissions/],
    [404, 'NOTFOUND', /^Google Play answered 404: The purchase token was not found\.$/],
    [410, 'STALE', /^Google Play answered 410: The subscription purchase is no longer available/],
    [400, 'INVAL', /^Google Play answered 400: Invalid Value$/],
    [429, 'IO', /^Google Play answered 429: Quota exceeded/],
    [500, 'IO', /^Google Play answered 500: Internal error encountered\.$/],
    [503, 'IO', /^Google Play answered 503: /],
  ];
  for (const [status, rc, why] of cases) {
    g.failNext(/subscriptionsv2/, status, 1);
    const r = await call(['sub', 'tok.st']);
    assert.strictEqual(r.lines[0].rc, rc, `${status}: ${JSON.stringify(r.lines[0])}`);
    assert.match(r.lines[0].why, why);
    assert.strictEqual(r.lines[0].body, '');
  }
  // Acknowledge and consume read statuses the same way.
  g.failNext(/:acknowledge$/, 403, 1);
  g.failNext(/:consume$/, 410, 1);
  const r = await call(['sub-ack', 'pro_monthly', 'tok.st', 'consume', 'credits_500', 'tok.none']);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['AUTH', 'STALE']);
  // A message as long as Google may send is cut, and the why stays one line.
  g.failNext(/subscriptionsv2/, 400, 1, { error: { code: 400, message: `${'x'.repeat(5000)}\n`, status: 'INVALID_ARGUMENT' } });
  const long = await call(['sub', 'tok.st']);
  assert.strictEqual(long.lines[0].rc, 'INVAL');
  assert.ok(long.lines[0].why.length < 256, long.lines[0].why.length);
});

test('no answer, a dropped connection, a body that is not JSON: IO', async () => {
  const g = await fresh();
  g.setSubscription('tok.io', G.subV2({}));
  g.failNext(/subscriptionsv2/, 0, 1);
  g.failNext(/subscriptionsv2/, 200, 1, '<html>not json</html>');
  let r = await call(['sub', 'tok.io', 'sub', 'tok.io']);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['IO', 'IO']);
  assert.match(r.lines[0].why, /^Google Play: /);
  assert.match(r.lines[1].why, /not a JSON object/);
  // No server at all, for the API and for the token endpoint.
  const dead = 'http://127.0.0.1:9';
  r = await call(['sub', 'tok.io'], { config: writeConfig(ctx.dir, g, { api_base: dead }) });
  assert.strictEqual(r.lines[0].rc, 'IO');
  assert.match(r.lines[0].why, /^Google Play: /);
  r = await call(['sub', 'tok.io'], { config: writeConfig(ctx.dir, g, { token_url: `${dead}/token` }) });
  assert.strictEqual(r.lines[0].rc, 'IO');
  assert.match(r.lines[0].why, /^Google's token endpoint: /);
  // The token endpoint busy or down: retry later; its answer without a token: the same.
  g.failNext(/^\/token$/, 503, 1);
  g.failNext(/^\/token$/, 200, 1, { token_type: 'Bearer', expires_in: 3599 });
  g.failNext(/^\/token$/, 200, 1, { access_token: 'ya29.bad token\r\nX-Injected: 1', expires_in: 3599, token_type: 'Bearer' });
  r = await call(['sub', 'tok.io', 'sub', 'tok.io', 'sub', 'tok.io']);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['IO', 'IO', 'IO']);
  assert.match(r.lines[0].why, /^Google's token endpoint answered 503/);
  assert.match(r.lines[1].why, /without a usable bearer token/);
  assert.ok(!printed.join('').includes('X-Injected'));
  // Threads that waited for a failed exchange share its failure instead of each trying again.
  g.reset();
  g.tokenDelayMs = 300;
  g.failNext(/^\/token$/, 503, 1);
  try {
    r = await call(['par', '6', 'sub', 'tok.io', 'sub', 'tok.io']);
  } finally {
    g.tokenDelayMs = 0;
  }
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['IO', 'IO', 'IO', 'IO', 'IO', 'IO', 'OK']);
  assert.ok(r.lines.slice(0, 6).every((l) => /^Google's token endpoint answered 503/.test(l.why)));
  assert.strictEqual(g.requests.filter((x) => x.url === '/token').length, 2);
});

test('the token endpoint refusing the assertion is tally\'s credentials: AUTH with Google\'s error', async () => {
  const g = await fresh();
  // A key file of another service account key: the signature does not verify under this kid.
  const other = JSON.parse(g.serviceAccountJson());
  other.private_key = require('crypto').generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' });
  const f = path.join(ctx.dir, 'other-key.json');
  fs.writeFileSync(f, JSON.stringify(other), { mode: 0o600 });
  let r = await call(['sub', 'tok.x'], { keyFile: f });
  assert.strictEqual(r.lines[0].rc, 'AUTH');
  assert.strictEqual(r.lines[0].why, 'Google\'s token endpoint answered 400: invalid_grant: Invalid JWT Signature.');
  assert.strictEqual(apiRequests(g, 0).length, 0);
  // A deleted key's account: 401 invalid_client.
  g.failNext(/^\/token$/, 401, 1, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
  r = await call(['sub', 'tok.x']);
  assert.strictEqual(r.lines[0].rc, 'AUTH');
  assert.match(r.lines[0].why, /401: invalid_client: The OAuth client was not found\.$/);
});

test('products.get verbatim; acknowledge and consume reach Google with an empty body', async () => {
  const g = await fresh();
  const sub = G.subV2({ productId: 'pro_monthly', ack: false });
  const prod = G.productPurchase({ productId: 'credits_500', ack: false, quantity: 2 });
  g.setSubscription('tok.ack', sub);
  g.setProduct('credits_500', 'tok.p.ack', prod);
  g.setProduct('premium_unlock', 'tok.p.unlock', G.productPurchase({ productId: 'premium_unlock', ack: false }));
  const before = JSON.stringify(prod);
  const r = await call(['product', 'credits_500', 'tok.p.ack', 'sub-ack', 'pro_monthly', 'tok.ack',
    'consume', 'credits_500', 'tok.p.ack', 'product-ack', 'premium_unlock', 'tok.p.unlock', 'sub', 'tok.ack',
    'sub-ack', 'other_sub', 'tok.ack', 'product-ack', 'credits_500', 'tok.nothing']);
  assert.deepStrictEqual(r.lines.map((l) => [l.call, l.rc]), [['product', 'OK'], ['sub-ack', 'OK'], ['consume', 'OK'],
    ['product-ack', 'OK'], ['sub', 'OK'], ['sub-ack', 'NOTFOUND'], ['product-ack', 'NOTFOUND']]);
  assert.strictEqual(r.lines[0].body, before);
  assert.ok(!('body' in r.lines[1]));
  assert.deepStrictEqual(g.acks.map((a) => [a.kind, a.productId, a.token, a.body]),
    [['subscription', 'pro_monthly', 'tok.ack', ''], ['product', 'premium_unlock', 'tok.p.unlock', '']]);
  assert.deepStrictEqual(g.consumes.map((c) => [c.productId, c.token]), [['credits_500', 'tok.p.ack']]);
  assert.strictEqual(JSON.parse(r.lines[4].body).acknowledgementState, 'ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED');
  assert.strictEqual(g.product('credits_500', 'tok.p.ack').consumptionState, 1);
  const posts = apiRequests(g, 0).filter((x) => x.method === 'POST');
  assert.deepStrictEqual(posts.map((x) => x.url.replace(`/androidpublisher/v3/applications/${PKG}/purchases/`, '')), [
    'subscriptions/pro_monthly/tokens/tok.ack:acknowledge', 'products/credits_500/tokens/tok.p.ack:consume',
    'products/premium_unlock/tokens/tok.p.unlock:acknowledge', 'subscriptions/other_sub/tokens/tok.ack:acknowledge',
    'products/credits_500/tokens/tok.nothing:acknowledge']);
});

test('path segments are percent-encoded; an empty token or product is refused before any call', async () => {
  const g = await fresh();
  const token = 'a/b c?d#e%f:g';
  g.setProduct('pack/10 x', token, G.productPurchase({ productId: 'pack/10 x' }));
  g.setSubscription(token, G.subV2({}));
  let r = await call(['product', 'pack/10 x', token, 'sub', token]);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['OK', 'OK']);
  assert.deepStrictEqual(apiRequests(g, 0).map((x) => x.path.split('/purchases/')[1]), [
    'products/pack%2F10%20x/tokens/a%2Fb%20c%3Fd%23e%25f%3Ag', 'subscriptionsv2/tokens/a%2Fb%20c%3Fd%23e%25f%3Ag']);
  const mark = g.requests.length;
  r = await call(['sub', '', 'product', '', 'tok', 'consume', 'credits_500', '', 'sub', 'x'.repeat(5000)]);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['INVAL', 'INVAL', 'INVAL', 'TOOBIG']);
  assert.strictEqual(g.requests.length, mark);
});

test('voidedpurchases.list: every page in turn, subscriptions and partial refunds included', async () => {
  const g = await fresh();
  g.voidedPageSize = 2;
  const now = Date.now();
  const docs = [
    [G.voided({ orderId: 'GPA.1111-1111-1111-11111', voidedTime: now - 20 * DAY, reason: 7 }), 1],
    [G.voided({ orderId: 'GPA.1111-1111-1111-11111..0', voidedTime: now - 10 * DAY }), 1],
    [G.voided({ orderId: 'GPA.2222-2222-2222-22222', voidedTime: now - 5 * DAY, source: 1 }), 2],
    [G.voided({ orderId: 'GPA.3333-3333-3333-33333', voidedTime: now - 2 * DAY, quantity: 1 }), 2],
    [G.voided({ orderId: 'GPA.4444-4444-4444-44444', voidedTime: now - DAY }), 2],
    [G.voided({ orderId: 'GPA.old', voidedTime: now - 40 * DAY }), 2],
  ];
  for (const [d, productType] of docs) g.addVoided(d, { productType });
  const r = await call(['voided-all', String(now - 25 * DAY), '0']);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['OK', 'OK', 'OK']);
  const pages = r.lines.map((l) => JSON.parse(l.body));
  assert.deepStrictEqual(pages.map((p) => p.voidedPurchases.length), [2, 2, 1]);
  assert.deepStrictEqual(pages.flatMap((p) => p.voidedPurchases), docs.slice(0, 5).map(([d]) => d));
  assert.ok(r.lines[0].next && r.lines[1].next && r.lines[0].next !== r.lines[1].next);
  assert.strictEqual(r.lines[2].next, '');
  const reqs = apiRequests(g, 0).map((x) => new URL(x.url, g.url).searchParams);
  assert.strictEqual(reqs[0].get('type'), '1');
  assert.strictEqual(reqs[0].get('includeQuantityBasedPartialRefund'), 'true');
  assert.strictEqual(reqs[0].get('token'), null);
  assert.strictEqual(reqs[0].get('startTime'), String(now - 25 * DAY));
  assert.strictEqual(reqs[1].get('token'), r.lines[0].next);
  assert.strictEqual(reqs[2].get('token'), r.lines[1].next);
  // One page by its token.
  const one = await call(['voided', '0', '0', r.lines[0].next]);
  assert.deepStrictEqual(JSON.parse(one.lines[0].body).voidedPurchases, pages[1].voidedPurchases);
});

test('voidedpurchases.list: the window is clamped to 30 days back and to now', async () => {
  const g = await fresh();
  const now = Date.now();
  g.addVoided(G.voided({ orderId: 'GPA.recent', voidedTime: now - 3 * DAY }));
  let r = await call(['voided', String(now - 90 * DAY), String(now + 30 * DAY), '-', 'voided', '0', '0', '-']);
  assert.deepStrictEqual(r.lines.map((l) => l.rc), ['OK', 'OK']);
  for (const l of r.lines) assert.strictEqual(JSON.parse(l.body).voidedPurchases[0].orderId, 'GPA.recent');
  const after = Date.now();
  for (const q of apiRequests(g, 0).map((x) => new URL(x.url, g.url).searchParams)) {
    const start = Number(q.get('startTime'));
    const end = Number(q.get('endTime'));
    assert.ok(start >= now - 30 * DAY && start <= after - 30 * DAY + MARGIN * 1000, `startTime ${start}`);
    assert.ok(end >= now && end <= after, `endTime ${end}`);
  }
  // An empty window is no voided purchase: Google leaves the list out.
  g.voided = [];
  r = await call(['voided', '0', '0', '-']);
  assert.strictEqual(r.lines[0].body, '{}');
  assert.strictEqual(r.lines[0].next, '');
  // A window that ends before it starts is refused without a call.
  const mark = g.requests.length;
  r = await call(['voided', String(now - DAY), String(now - 2 * DAY), '-']);
  assert.strictEqual(r.lines[0].rc, 'INVAL');
  assert.strictEqual(g.requests.length, mark);
});

test('a key file that is missing, unset or not a service account\'s: a clear error, no call', async () => {
  const g = await fresh();
  const bad = (name, text) => {
    const f = path.join(ctx.dir, name);
    fs.writeFileSync(f, text, { mode: 0o600 });
    return f;
  };
  const sa = JSON.parse(g.serviceAccountJson());
  const cases = [
    [path.join(ctx.dir, 'missing.json'), 'CONFIG', /^GOOGLE_SERVICE_ACCOUNT_FILE cannot be read: No such file/],
    [null, 'CONFIG', /^GOOGLE_SERVICE_ACCOUNT_FILE is not set$/],
    [ctx.dir, 'CONFIG', /not a regular file/],
    [bad('user.json', JSON.stringify({ type: 'authorized_user', client_id: 'x', client_secret: 'y', refresh_token: 'z' })), 'INVAL', /not a service account's/],
    [bad('notjson.json', 'not json at all'), 'INVAL', /not a JSON object/],
    [bad('nokey.json', JSON.stringify({ ...sa, private_key: undefined })), 'INVAL', /no private_key/],
    [bad('badkey.json', JSON.stringify({ ...sa, private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' })), 'INVAL', /not an RSA key/],
    [bad('huge.json', `{"type":"service_account","pad":"${'x'.repeat(70000)}"}`), 'INVAL', /larger than/],
  ];
  for (const [keyFile, rc, why] of cases) {
    const r = await call(['sub', 'tok'], { keyFile });
    assert.strictEqual(r.code, 1, `${keyFile}: ${JSON.stringify(r.lines)}`);
    assert.deepStrictEqual(r.lines.map((l) => [l.call, l.rc]), [['new', rc]], keyFile);
    assert.match(r.lines[0].why, why);
  }
  // No google section at all.
  const cfg = path.join(ctx.dir, 'nogoogle.json');
  fs.writeFileSync(cfg, JSON.stringify({ products: {} }));
  const r = await call(['sub', 'tok'], { config: cfg });
  assert.deepStrictEqual(r.lines.map((l) => [l.call, l.rc]), [['new', 'CONFIG']]);
  assert.strictEqual(g.requests.length, 0);
});

test('no access token, assertion or key in anything the tool printed', async () => {
  const g = ctx.g;
  const tokens = [...g.accessTokens.keys()];
  assert.ok(tokens.length > 5);
  const all = printed.join('\n');
  assert.ok(all.length > 1000);
  for (const t of tokens) assert.ok(!all.includes(t), 'an access token was printed');
  assert.ok(!all.includes('ya29.'));
  assert.ok(!/PRIVATE KEY|eyJhbGciOi/.test(all));
  const pem = JSON.parse(g.serviceAccountJson()).private_key.replace(/-----[^-]+-----|\s/g, '');
  for (let i = 0; i + 40 <= pem.length; i += 40) assert.ok(!all.includes(pem.slice(i, i + 40)), 'key material printed');
});

run({
  before: async () => {
    ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-google-api-'));
    ctx.g = await new FakeGoogle({ packageName: PKG }).start();
    ctx.keyFile = path.join(ctx.dir, 'service-account.json');
    fs.writeFileSync(ctx.keyFile, ctx.g.serviceAccountJson(), { mode: 0o600 });
    ctx.config = writeConfig(ctx.dir, ctx.g);
    return ctx;
  },
  after: async () => {
    await ctx.g.close();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  },
});
