'use strict';
// The jobs name their events by parts of one key (lib/base/text.h text_key, and
// lib/crypto/crypto.h crypto_key past an id's length): user ids holding ':' or '%'
// get their allowance reset and their credits expired under ids that no other
// user's parts can spell, and a user id too long once escaped still gets an id
// of its own (a digest of the whole key), never one cut short.
const { test, assert } = require('../lib/t');
const { startApi } = require('../lib/api');
const J = require('../lib/jobs');

const DAY = 86400e3;
const balance = (env, u) => env.user(u).balance.available;
const at = (u) => `/v1/users/${encodeURIComponent(u)}`;

test('the allowance resets for users with \':\' and \'%\' in their ids, under escaped ids, once', async (env) => {
  const users = ['ak:1', 'ak%3A1', 'ak'];
  for (const u of users) assert.strictEqual((await env.api('POST', at(u), {})).status, 200);
  const due = Math.max(...users.map((u) => env.sql(`SELECT free_next_at FROM users WHERE id = '${u}'`)[0].free_next_at));
  const r = J.job(env, 'renewals', ['--json'], { now: due + 1000 });
  assert.strictEqual(r.code, 0, r.stderr);
  const ids = Object.fromEntries(r.json.items.filter((i) => users.includes(i.user_id)).map((i) => [i.user_id, i.event_id]));
  const next = (u) => env.sql(`SELECT event_at FROM inbox WHERE user_id = '${u}' AND type = 'allowance.reset'`);
  assert.strictEqual(Object.keys(ids).length, 3, r.stdout);
  assert.match(ids['ak:1'], /^allowance:ak%3A1:\d+$/);
  assert.match(ids['ak%3A1'], /^allowance:ak%253A1:\d+$/);
  assert.match(ids.ak, /^allowance:ak:\d+$/);
  for (const u of users) assert.strictEqual(next(u).length, 1, u);
  const again = J.job(env, 'renewals', ['--json'], { now: due + 2000 });
  assert.ok(!again.json.items.some((i) => users.includes(i.user_id)), 'once');
});

test('credits expire for a user id of 128 \':\' (past an id once escaped): a digest id of its own, once', async (env) => {
  const long = ':'.repeat(128);
  const other = `${':'.repeat(127)}x`;
  const now = Date.now();
  for (const u of [long, other]) {
    assert.strictEqual((await env.api('POST', at(u), {})).status, 200);
    const p = await env.api('POST', `${at(u)}/promotions`, { credits: 9, reason: 'short-lived', expires_at: new Date(now + DAY).toISOString() });
    assert.strictEqual(p.status, 200, p.text);
  }
  const r = J.job(env, 'grace-expiry', ['--json'], { now: now + 2 * DAY });
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  const mine = r.json.items.filter((i) => i.action === 'credits.expire' && [long, other].includes(i.user_id));
  assert.strictEqual(mine.length, 2, r.stdout);
  for (const i of mine) {
    assert.strictEqual(i.result, 'applied');
    assert.match(i.event_id, /^credits-expire:#[0-9a-f]{32}$/);
  }
  assert.notStrictEqual(mine[0].event_id, mine[1].event_id);
  for (const u of [long, other]) {
    assert.strictEqual(env.sql(`SELECT -sum(amount) AS s FROM ledger WHERE user_id = '${u}' AND kind = 'expire'`)[0].s, 9);
  }
  const again = J.job(env, 'grace-expiry', ['--json'], { now: now + 2 * DAY + 1000 });
  assert.ok(!again.json.items.some((i) => i.action === 'credits.expire' && [long, other].includes(i.user_id)), 'once');
});

J.suite(() => startApi());
