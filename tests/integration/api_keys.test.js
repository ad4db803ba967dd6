'use strict';
// Idempotency and dedup keys of the app-facing API when user ids and client
// keys hold ':' (or '%'): an event id is made of parts that cannot run into
// each other (lib/base/text.h text_key), and a request found under an earlier
// one's id is answered as that one only when every part of it is the same,
// the user included; otherwise 409 idempotency_conflict. Ids stored before
// the parts were escaped are still found by the request that made them, and
// by no other user's.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { startApi, apiCatalog } = require('../lib/api');

const bal = (env, u) => env.user(u).balance.available;
const sha = (s) => crypto.createHash('sha256').update(s).digest('hex');
const q = (s) => s.replace(/'/g, "''");
const spend = (env, u, body) => env.api('POST', `/v1/users/${encodeURIComponent(u)}/spend`, body);
const path = (u, what) => `/v1/users/${encodeURIComponent(u)}/${what}`;

async function register(env, u) {
  const r = await env.api('POST', `/v1/users/${encodeURIComponent(u)}`);
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

test('the attack: alice spends under x:k1, then alice:x under k1 is charged to alice:x, never answered with alice\'s balance', async (env) => {
  await register(env, 'alice');
  await register(env, 'alice:x');
  const a = await spend(env, 'alice', { amount: 5, idempotency_key: 'x:k1' });
  assert.strictEqual(a.status, 200, a.text);
  assert.deepStrictEqual(a.json, { ok: true, spent: 5, balance: 65 });
  // Another balance for alice:x, so an answer with alice's would show.
  const p = await env.api('POST', path('alice:x', 'promotions'), { credits: 30, reason: 'to tell them apart' });
  assert.strictEqual(p.status, 200, p.text);
  const b = await spend(env, 'alice:x', { amount: 5, idempotency_key: 'k1' });
  assert.strictEqual(b.status, 200, b.text);
  assert.deepStrictEqual(b.json, { ok: true, spent: 5, balance: 95 }, 'its own spend, its own balance');
  assert.strictEqual(bal(env, 'alice:x'), 95, 'alice:x was charged');
  assert.strictEqual(bal(env, 'alice'), 65, 'alice was not charged twice');
  const ids = env.sql("SELECT event_id, user_id FROM inbox WHERE type = 'credits.spend' AND user_id LIKE 'alice%' ORDER BY id");
  assert.deepStrictEqual(ids, [{ event_id: 'spend:alice:x%3Ak1', user_id: 'alice' }, { event_id: 'spend:alice%3Ax:k1', user_id: 'alice:x' }]);
  // Each retry gets its own first answer.
  assert.deepStrictEqual((await spend(env, 'alice', { amount: 5, idempotency_key: 'x:k1' })).json, a.json);
  assert.deepStrictEqual((await spend(env, 'alice:x', { amount: 5, idempotency_key: 'k1' })).json, b.json);
  assert.strictEqual(bal(env, 'alice'), 65);
  assert.strictEqual(bal(env, 'alice:x'), 95);
});

test('spend: the same user, key and body get the first answer; another amount or reason under the key is 409', async (env) => {
  await register(env, 'sp:u');
  const first = await spend(env, 'sp:u', { amount: 7, idempotency_key: 'o:1', reason: 'chat:long' });
  assert.strictEqual(first.status, 200, first.text);
  const again = await spend(env, 'sp:u', { amount: 7, idempotency_key: 'o:1', reason: 'chat:long' });
  assert.strictEqual(again.status, 200);
  assert.deepStrictEqual(again.json, first.json);
  for (const body of [{ amount: 8, idempotency_key: 'o:1', reason: 'chat:long' }, { amount: 7, idempotency_key: 'o:1', reason: 'chat' }, { amount: 7, idempotency_key: 'o:1' }]) {
    const r = await spend(env, 'sp:u', body);
    assert.strictEqual(r.status, 409, JSON.stringify(body));
    assert.strictEqual(r.json.error.code, 'idempotency_conflict');
  }
  assert.strictEqual(bal(env, 'sp:u'), 63);
});

test('spend: keys that differ only in \':\' against its escape "%3A" are two keys', async (env) => {
  await register(env, 'pc');
  await register(env, 'pc%3Ax');
  const a = await spend(env, 'pc', { amount: 1, idempotency_key: 'x:k' });
  const b = await spend(env, 'pc', { amount: 1, idempotency_key: 'x%3Ak' });
  assert.strictEqual(a.status, 200, a.text);
  assert.strictEqual(b.status, 200, b.text);
  assert.strictEqual(bal(env, 'pc'), 68, 'two spends');
  // User "pc%3Ax" with key "k" is not user "pc" with key "x:k" either.
  const c = await spend(env, 'pc%3Ax', { amount: 1, idempotency_key: 'k' });
  assert.deepStrictEqual(c.json, { ok: true, spent: 1, balance: 69 });
  assert.strictEqual(bal(env, 'pc'), 68);
});

test('spend: a key too long once escaped is 400, not cut into another key', async (env) => {
  await register(env, 'long');
  const before = env.counts();
  // 128 bytes of ':' escape to 384: past the 255 of an event id.
  const r = await spend(env, 'long', { amount: 1, idempotency_key: ':'.repeat(128) });
  assert.strictEqual(r.status, 400, r.text);
  assert.deepStrictEqual(env.counts(), before);
  assert.strictEqual(bal(env, 'long'), 70);
});

test('promotions: the user is part of the key; another promotion under one key is 409', async (env) => {
  await register(env, 'pr');
  await register(env, 'pr:x');
  const a = await env.api('POST', path('pr', 'promotions'), { credits: 10, reason: 'launch', idempotency_key: 'x:p1' });
  assert.strictEqual(a.status, 200, a.text);
  const b = await env.api('POST', path('pr:x', 'promotions'), { credits: 10, reason: 'launch', idempotency_key: 'p1' });
  assert.strictEqual(b.status, 200, b.text);
  assert.strictEqual(bal(env, 'pr'), 80);
  assert.strictEqual(bal(env, 'pr:x'), 80, 'pr:x got its promotion');
  const same = await env.api('POST', path('pr', 'promotions'), { credits: 10, reason: 'launch', idempotency_key: 'x:p1' });
  assert.strictEqual(same.status, 200, same.text);
  assert.strictEqual(bal(env, 'pr'), 80, 'a retry grants nothing twice');
  for (const body of [{ credits: 11, reason: 'launch' }, { credits: 10, reason: 'other' }, { entitlement: 'pro', reason: 'launch' }]) {
    const r = await env.api('POST', path('pr', 'promotions'), { ...body, idempotency_key: 'x:p1' });
    assert.strictEqual(r.status, 409, `${JSON.stringify(body)}: ${r.text}`);
    assert.strictEqual(r.json.error.code, 'idempotency_conflict');
  }
  assert.strictEqual(bal(env, 'pr'), 80);
  assert.ok(!env.user('pr').entitlements.some((e) => e.name === 'pro'));
});

test('plans: the user is part of the key; another product under one key is 409', async (env) => {
  await register(env, 'pl');
  await register(env, 'pl:x');
  for (const u of ['pl', 'pl:x']) {
    const g = await env.api('POST', path(u, 'promotions'), { credits: 930, reason: 'balance' });
    assert.strictEqual(g.status, 200, g.text);
  }
  const a = await env.api('POST', path('pl', 'plans'), { product: 'plan_balance', idempotency_key: 'x:k' });
  assert.strictEqual(a.status, 200, a.text);
  const b = await env.api('POST', path('pl:x', 'plans'), { product: 'plan_balance', idempotency_key: 'k' });
  assert.strictEqual(b.status, 200, b.text);
  assert.strictEqual(bal(env, 'pl'), 600);
  assert.strictEqual(bal(env, 'pl:x'), 600, 'pl:x paid for its plan');
  assert.ok(b.json.subscriptions.some((s) => s.provider === 'balance' && s.state === 'active'), 'and has it');
  const other = await env.api('POST', path('pl', 'plans'), { product: 'plus', idempotency_key: 'x:k' });
  assert.strictEqual(other.status, 409, other.text);
  assert.strictEqual(other.json.error.code, 'idempotency_conflict');
  const same = await env.api('POST', path('pl', 'plans'), { product: 'plan_balance', idempotency_key: 'x:k' });
  assert.strictEqual(same.status, 200);
  assert.strictEqual(bal(env, 'pl'), 600);
});

test('plans: the subscription\'s key holds the user and the product apart (user "pk" with "x:plus", user "pk:x" with "plus")', async (env) => {
  await register(env, 'pk');
  await register(env, 'pk:x');
  for (const u of ['pk', 'pk:x']) await env.api('POST', path(u, 'promotions'), { credits: 100, reason: 'balance' });
  const a = await env.api('POST', path('pk', 'plans'), { product: 'x:plus' });
  assert.strictEqual(a.status, 200, a.text);
  const b = await env.api('POST', path('pk:x', 'plans'), { product: 'plus' });
  assert.strictEqual(b.status, 200, b.text);
  const subs = env.sql("SELECT user_id, product_id AS product, ext_id FROM subscriptions WHERE provider = 'balance' AND user_id LIKE 'pk%' ORDER BY id");
  assert.deepStrictEqual(subs, [
    { user_id: 'pk', product: 'x:plus', ext_id: 'plan:pk:x%3Aplus' },
    { user_id: 'pk:x', product: 'plus', ext_id: 'plan:pk%3Ax:plus' },
  ]);
});

test('plans: a plan stored under the plain key of before is still extended by its own user, and by no other', async (env) => {
  await register(env, 'po');
  await register(env, 'po:x');
  for (const u of ['po', 'po:x']) await env.api('POST', path(u, 'promotions'), { credits: 200, reason: 'balance' });
  const a = await env.api('POST', path('po', 'plans'), { product: 'x:plus' });
  assert.strictEqual(a.status, 200, a.text);
  // As a database written before keys were escaped has it.
  env.sql("UPDATE subscriptions SET ext_id = 'plan:po:x:plus' WHERE user_id = 'po' AND provider = 'balance'");
  const end1 = env.user('po').subscriptions.find((s) => s.provider === 'balance').period_end;
  const again = await env.api('POST', path('po', 'plans'), { product: 'x:plus' });
  assert.strictEqual(again.status, 200, again.text);
  const subs = env.user('po').subscriptions.filter((s) => s.provider === 'balance');
  assert.strictEqual(subs.length, 1, 'the same subscription, extended');
  assert.strictEqual(subs[0].period_start, end1);
  const other = await env.api('POST', path('po:x', 'plans'), { product: 'plus' });
  assert.strictEqual(other.status, 200, other.text);
  assert.deepStrictEqual(env.sql("SELECT ext_id FROM subscriptions WHERE user_id = 'po:x'"), [{ ext_id: 'plan:po%3Ax:plus' }]);
});

test('referrer: the user and the referrer are two parts ("ra" by "b:c" is not "ra:b" by "c")', async (env) => {
  for (const u of ['ra', 'b:c', 'ra:b', 'c']) await register(env, u);
  const a = await env.api('POST', path('ra', 'referrer'), { referrer: 'b:c' });
  assert.strictEqual(a.status, 200, a.text);
  const b = await env.api('POST', path('ra:b', 'referrer'), { referrer: 'c' });
  assert.strictEqual(b.status, 200, b.text);
  assert.deepStrictEqual(env.sql("SELECT id, referrer_id FROM users WHERE id IN ('ra', 'ra:b') ORDER BY id"),
    [{ id: 'ra', referrer_id: 'b:c' }, { id: 'ra:b', referrer_id: 'c' }]);
  assert.strictEqual((await env.api('POST', path('ra', 'referrer'), { referrer: 'b:c' })).status, 200, 'a retry');
});

test('referrer: long ids full of \':\' get an event id of their own (a digest), not a cut one', async (env) => {
  const u1 = `${':'.repeat(100)}a`;
  const u2 = `${':'.repeat(100)}b`;
  const ref = `${':'.repeat(100)}r`;
  for (const u of [u1, u2, ref]) await register(env, u);
  for (const u of [u1, u2]) {
    const r = await env.api('POST', path(u, 'referrer'), { referrer: ref });
    assert.strictEqual(r.status, 200, r.text);
  }
  assert.deepStrictEqual(env.sql(`SELECT referrer_id FROM users WHERE id IN ('${u1}', '${u2}')`).map((x) => x.referrer_id), [ref, ref]);
  const ids = env.sql("SELECT event_id FROM inbox WHERE type = 'referrer.set' AND event_id LIKE 'referrer:#%'");
  assert.strictEqual(ids.length, 2);
  assert.notStrictEqual(ids[0].event_id, ids[1].event_id);
  assert.strictEqual((await env.api('POST', path(u1, 'referrer'), { referrer: ref })).status, 200, 'a retry');
});

test('an id stored before keys were escaped: its own request gets its answer, another user\'s never', async (env) => {
  await register(env, 'lg');
  await register(env, 'lg:x');
  // Another balance for lg:x, so an answer with lg's would show.
  assert.strictEqual((await env.api('POST', path('lg:x', 'promotions'), { credits: 10, reason: 'apart' })).status, 200);
  const a = await spend(env, 'lg', { amount: 4, idempotency_key: 'x:k1', reason: 'r' });
  assert.strictEqual(a.status, 200, a.text);
  // As a database written before keys were escaped has it: the plain id, a body that does not
  // name the key, the hash without the user.
  const row = env.sql("SELECT id FROM inbox WHERE event_id = 'spend:lg:x%3Ak1'")[0];
  env.sql(`UPDATE inbox SET event_id = 'spend:lg:x:k1' WHERE id = ${row.id}`);
  env.sql(`UPDATE inbox_bodies SET body = CAST(json_remove(CAST(body AS TEXT), '$.idempotency_key') AS BLOB) WHERE inbox_id = ${row.id}`);
  env.sql(`UPDATE answers SET request_hash = '${sha('4\nr')}' WHERE inbox_id = ${row.id}`);
  const retry = await spend(env, 'lg', { amount: 4, idempotency_key: 'x:k1', reason: 'r' });
  assert.strictEqual(retry.status, 200, retry.text);
  assert.deepStrictEqual(retry.json, a.json, 'the first answer');
  assert.strictEqual(bal(env, 'lg'), 66, 'charged once');
  const changed = await spend(env, 'lg', { amount: 5, idempotency_key: 'x:k1', reason: 'r' });
  assert.strictEqual(changed.status, 409, changed.text);
  assert.strictEqual(changed.json.error.code, 'idempotency_conflict');
  // The old id was also that of user lg:x with key k1: it is lg's, not lg:x's.
  const other = await spend(env, 'lg:x', { amount: 4, idempotency_key: 'k1', reason: 'r' });
  assert.strictEqual(other.status, 200, other.text);
  assert.deepStrictEqual(other.json, { ok: true, spent: 4, balance: 76 });
  assert.strictEqual(bal(env, 'lg:x'), 76);
  assert.strictEqual(bal(env, 'lg'), 66);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM inbox WHERE user_id = '${q('lg:x')}' AND type = 'credits.spend'`)[0].n, 1);
});

test('an id stored before whose plain parts spell this request\'s escaped ones is another request: 409, not its answer', async (env) => {
  await register(env, 'lh');
  // Before, user lh with key "x%3Ak" made the id "spend:lh:x%3Ak": now the id of key "x:k".
  const a = await spend(env, 'lh', { amount: 3, idempotency_key: 'x%3Ak' });
  assert.strictEqual(a.status, 200, a.text);
  const row = env.sql("SELECT id FROM inbox WHERE event_id = 'spend:lh:x%253Ak'")[0];
  env.sql(`UPDATE inbox SET event_id = 'spend:lh:x%3Ak' WHERE id = ${row.id}`);
  env.sql(`UPDATE inbox_bodies SET body = CAST(json_remove(CAST(body AS TEXT), '$.idempotency_key') AS BLOB) WHERE inbox_id = ${row.id}`);
  const other = await spend(env, 'lh', { amount: 3, idempotency_key: 'x:k' });
  assert.strictEqual(other.status, 409, other.text);
  assert.strictEqual(other.json.error.code, 'idempotency_conflict');
  // The request of before still finds its own.
  const retry = await spend(env, 'lh', { amount: 3, idempotency_key: 'x%3Ak' });
  assert.strictEqual(retry.status, 200, retry.text);
  assert.deepStrictEqual(retry.json, a.json);
  assert.strictEqual(bal(env, 'lh'), 67);
});

test('verify is clean after everything above', async (env) => {
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
});

run({
  before: () => {
    const cfg = apiCatalog();
    // Catalog ids may hold ':' too (the key of a plan bought from the balance names one).
    cfg.products['x:plus'] = { kind: 'subscription', entitlements: ['plus'], price_credits: 100, period: '1mo' };
    cfg.products.plus = { kind: 'subscription', entitlements: ['plus'], price_credits: 100, period: '1mo' };
    return startApi({ config: cfg });
  },
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
