'use strict';
// bin/tally-retry with --now: events left unknown_product, orphaned or failed are replayed oldest
// first once their backoff has passed (15 min, doubling with each attempt, at most a day), and
// apply once their cause is fixed (here: the catalog gains the product); still-broken ones wait
// longer each time; --dry-run replays nothing; --limit bounds; counts in the report and the log.
const fs = require('fs');
const path = require('path');
const { test, assert } = require('../lib/t');
const { Env, DEFAULT_CATALOG } = require('../lib/harness');
const S = require('../lib/stripe-events');
const J = require('../lib/jobs');

const MIN = 60e3;

const retry = (env, now, args = [], opts = {}) => J.job(env, 'retry', ['--json', ...args], { now, ...opts });
const inbox = (env, id) => env.sql(`SELECT state, attempts, updated_at FROM inbox WHERE id = ${id}`)[0];

// A pack bought with a Stripe price the catalog does not know yet.
async function unknownPack(env, user) {
  const r = await env.stripe(S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product: 'price_new_pack' }, amountTotal: 900,
  })));
  assert.strictEqual(r.json.state, 'unknown_product', r.text);
  return r.json.inbox_id;
}

function fixedCatalog(env) {
  const cfg = JSON.parse(JSON.stringify(DEFAULT_CATALOG));
  cfg.products.new_pack = { kind: 'pack', credits: 900, match: { stripe: ['price_new_pack'] } };
  const p = path.join(env.dir, 'fixed.json');
  fs.writeFileSync(p, JSON.stringify(cfg));
  return { env: { TALLY_CONFIG: p } };
}

test('an unknown product, then the catalog gains it: replayed after its backoff and applied once', async (env) => {
  const id = await unknownPack(env, 'rt_ann');
  const t0 = inbox(env, id).updated_at;
  const fixed = fixedCatalog(env);
  let r = retry(env, t0 + 14 * MIN, [], fixed);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.ok(r.json.counts['replay.waiting'] >= 1, r.stdout);
  assert.strictEqual(inbox(env, id).state, 'unknown_product');
  r = retry(env, t0 + 15 * MIN, [], fixed);
  const it = r.json.items.find((i) => i.subject.startsWith(`inbox ${id} `));
  assert.deepStrictEqual([it.action, it.result, it.user_id], ['replay', 'applied', 'rt_ann']);
  assert.strictEqual(inbox(env, id).state, 'applied');
  assert.strictEqual(env.user('rt_ann').balance.available, 900);
  r = retry(env, t0 + 60 * MIN, [], fixed);
  assert.ok(!r.json.items.some((i) => i.subject.startsWith(`inbox ${id} `)), 'applied events are left alone');
  assert.strictEqual(env.user('rt_ann').balance.available, 900);
});

test('still broken: replayed with a growing wait (15 min, then 30, then 60)', async (env) => {
  const id = await unknownPack(env, 'rt_bob');
  const t0 = inbox(env, id).updated_at;
  let r = retry(env, t0 + 15 * MIN);
  assert.strictEqual(r.json.items.find((i) => i.subject.startsWith(`inbox ${id} `)).result, 'still_unknown_product');
  assert.strictEqual(inbox(env, id).attempts, 2);
  const t1 = t0 + 15 * MIN;
  r = retry(env, t1 + 29 * MIN);
  assert.ok(!r.json.items.some((i) => i.subject.startsWith(`inbox ${id} `)));
  r = retry(env, t1 + 30 * MIN);
  assert.ok(r.json.items.some((i) => i.subject.startsWith(`inbox ${id} `)));
  assert.strictEqual(inbox(env, id).attempts, 3);
  const t2 = t1 + 30 * MIN;
  r = retry(env, t2 + 59 * MIN);
  assert.ok(!r.json.items.some((i) => i.subject.startsWith(`inbox ${id} `)));
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM outbox WHERE dedup_key LIKE 'alert:inbox:${id}:%'`)[0].n, 1, 'one alert, not one per replay');
});

test('an orphan stays orphaned until its user is known; --dry-run replays nothing; --limit bounds', async (env) => {
  const r0 = await env.stripe(S.event('invoice.paid', S.invoice({ id: S.rid('in'), customer: S.rid('cus'), subscription: S.rid('sub'), price: 'price_pro_monthly' })));
  assert.strictEqual(r0.json.state, 'orphaned');
  const ids = [await unknownPack(env, 'rt_c1'), await unknownPack(env, 'rt_c2'), r0.json.inbox_id];
  const later = Date.now() + 2 * 86400e3;
  const before = env.counts();
  const dry = retry(env, later, ['--dry-run']);
  assert.ok(ids.every((id) => dry.json.items.some((i) => i.subject.startsWith(`inbox ${id} `) && i.result === 'would replay')));
  assert.deepStrictEqual(env.counts(), before);
  const lim = retry(env, later, ['--limit', '1']);
  assert.strictEqual(lim.json.items.length, 1);
  const all = retry(env, later);
  const orphan = all.json.items.find((i) => i.subject.startsWith(`inbox ${r0.json.inbox_id} `));
  assert.strictEqual(orphan.result, 'still_orphaned');
  assert.ok(all.stderr.split('\n').some((l) => l.includes('"msg":"job end"') && l.includes('replay.still_orphaned')));
});

J.suite(() => Env.start());
