'use strict';
// Group commit through nginx: concurrent deliveries share transactions, each
// is answered for itself, a bad one fails alone, a crash mid-batch loses
// nothing that was answered 2xx and commits nothing half-way, and two handler
// processes writing one database stay correct.
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const S = require('../lib/stripe-events');

function pack(user, pi) {
  return S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', customer: null, paymentIntent: pi || S.rid('pi'), clientReferenceId: user, metadata: { product: 'credits_500' },
  }));
}

function writerStats(log) {
  const m = [...log.matchAll(/"msg":"writer stopped","events":(\d+),"transactions":(\d+)/g)];
  return m.map((x) => ({ events: Number(x[1]), transactions: Number(x[2]) }));
}

test('concurrent deliveries share transactions; a bad one fails alone; duplicates in a batch apply once', async () => {
  const env = await Env.start();
  try {
    // The owner of a customer first, so that claims by others conflict.
    const cus = S.rid('cus');
    const owner = await env.stripe(S.event('checkout.session.completed', S.checkoutSession({
      mode: 'payment', customer: cus, paymentIntent: S.rid('pi'), clientReferenceId: 'gc_owner', metadata: { product: 'credits_500' },
    })));
    assert.strictEqual(owner.status, 200);
    const good = Array.from({ length: 60 }, (_, i) => pack(`gc_user_${i % 20}`));
    const bad = Array.from({ length: 3 }, (_, i) => S.event('checkout.session.completed', S.checkoutSession({
      mode: 'payment', customer: cus, paymentIntent: S.rid('pi'), clientReferenceId: `gc_thief_${i}`, metadata: { product: 'credits_500' },
    })));
    const dup = pack('gc_dup');
    const all = [...good, ...bad, ...Array(10).fill(dup)];
    const rs = await Promise.all(all.map((e) => env.stripe(e)));
    for (const r of rs) assert.strictEqual(r.status, 200, r.text);
    rs.slice(0, 60).forEach((r) => assert.strictEqual(r.json.state, 'applied', r.text));
    rs.slice(60, 63).forEach((r) => {
      assert.strictEqual(r.json.state, 'failed');
      assert.match(r.json.reason, /conflict/);
    });
    const dupAnswers = rs.slice(63);
    assert.strictEqual(dupAnswers.filter((r) => !r.json.duplicate).length, 1);
    for (let i = 0; i < 20; i++) assert.strictEqual(env.user(`gc_user_${i}`).balance.available, 1500);
    assert.strictEqual(env.user('gc_dup').balance.available, 500);
    for (let i = 0; i < 3; i++) assert.strictEqual(env.user(`gc_thief_${i}`), null);
    assert.ok(env.verify().ok);
    await env.killHandler('stripe', 'SIGTERM');
    const stats = writerStats(env.log('stripe'));
    assert.strictEqual(stats.length, 1, env.log('stripe').slice(-500));
    assert.ok(stats[0].transactions < stats[0].events, `batched: ${JSON.stringify(stats[0])}`);
  } finally {
    await env.stop();
  }
});

test('kill -9 mid-batch: every delivery answered 2xx survives, nothing half-applied, retries apply once', async () => {
  const env = await Env.start({ processes: 2 });
  try {
    const events = [];
    for (let i = 0; i < 400; i++) events.push(pack(`gck_${i % 40}`));
    const acked = new Set();
    let next = 0;
    let killed = false;
    async function provider() {
      while (next < events.length) {
        const i = next++;
        const r = await env.stripe(events[i]).catch(() => ({ status: 0 }));
        if (r.status === 200) acked.add(i);
        if (!killed && acked.size >= 120) {
          killed = true;
          await env.killHandler('stripe', 'SIGKILL');
        }
      }
    }
    await Promise.all(Array.from({ length: 32 }, provider));
    assert.ok(killed);
    // Nothing answered 2xx was lost: each is in the inbox, applied, before any retry.
    const ackedIds = [...acked].map((i) => `'${events[i].id}'`).join(',');
    const stored = env.sql(`SELECT count(*) AS n FROM inbox WHERE state = 'applied' AND event_id IN (${ackedIds})`)[0].n;
    assert.strictEqual(stored, acked.size);
    // Nothing half-way: every payment has its grant and ledger entry, balances equal ledgers.
    const orphanPay = env.sql('SELECT count(*) AS n FROM payments p WHERE NOT EXISTS (SELECT 1 FROM grants g WHERE g.payment_id = p.id)')[0].n;
    assert.strictEqual(orphanPay, 0);
    assert.ok(env.verify().ok);
    await env.startHandler('stripe');
    for (let round = 0; round < 5; round++) {
      const left = events.map((_, i) => i).filter((i) => !acked.has(i));
      if (!left.length) break;
      const rs = await Promise.all(left.map((i) => env.stripe(events[i])));
      rs.forEach((r, k) => { if (r.status === 200) acked.add(left[k]); });
    }
    assert.strictEqual(acked.size, events.length);
    // The provider also redelivers what was answered: still exactly once.
    await Promise.all(events.slice(0, 50).map((e) => env.stripe(e)));
    for (let u = 0; u < 40; u++) assert.strictEqual(env.user(`gck_${u}`).balance.available, 5000);
    assert.ok(env.verify().ok);
  } finally {
    await env.stop();
  }
});

run();
