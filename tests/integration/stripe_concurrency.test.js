'use strict';
// Many deliveries at once and a handler killed mid-stream: nothing is lost,
// nothing is applied twice (invariants 1, 2, 5). Two handler processes share
// the database, so writers of different processes meet here too.
const { test, run, assert } = require('../lib/t');
const { Env, sleep } = require('../lib/harness');
const S = require('../lib/stripe-events');

function pack(user) {
  return S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product: 'credits_500' },
  }));
}

test('50 concurrent deliveries of one event grant once', async (env) => {
  const evt = pack('u_fifty');
  const rs = await Promise.all(Array.from({ length: 50 }, () => env.stripe(evt)));
  for (const r of rs) assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(rs.filter((r) => r.json.duplicate === false).length, 1);
  assert.strictEqual(new Set(rs.map((r) => r.json.inbox_id)).size, 1);
  assert.strictEqual(env.user('u_fifty').balance.available, 500);
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM inbox WHERE event_id = '" + evt.id + "'")[0].n, 1);
});

test('concurrent different events about one payment grant once', async (env) => {
  const cs = S.checkoutSession({ mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: 'u_keyrace', metadata: { product: 'credits_500' } });
  const evts = Array.from({ length: 20 }, (_, i) => S.event(i % 2 ? 'checkout.session.completed' : 'checkout.session.async_payment_succeeded', cs));
  const rs = await Promise.all(evts.map((e) => env.stripe(e)));
  for (const r of rs) assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(env.user('u_keyrace').balance.available, 500);
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM payments WHERE user_id = 'u_keyrace'")[0].n, 1);
});

test('kill -9 of the handler mid-stream, then the provider retries: nothing lost, nothing doubled', async (env) => {
  const users = Array.from({ length: 20 }, (_, i) => `u_crash_${i}`);
  const events = [];
  for (let k = 0; k < 10; k++) for (const u of users) events.push(pack(u));
  const acked = new Set();
  let sent = 0;
  let killed = false;
  // The provider: 8 deliveries in flight; after 60 answers the handler is killed.
  async function worker() {
    for (;;) {
      const i = sent++;
      if (i >= events.length) return;
      const r = await env.stripe(events[i]).catch(() => ({ status: 0 }));
      if (r.status === 200) acked.add(i);
      if (!killed && acked.size >= 60) {
        killed = true;
        await env.killHandler('stripe', 'SIGKILL');
      }
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker));
  assert.ok(killed, 'the handler was killed');
  assert.ok(acked.size < events.length, 'some deliveries failed while it was down');
  await env.startHandler('stripe');
  // Retries: every delivery not answered 2xx, plus some that were (providers deliver twice).
  const retry = events.map((_, i) => i).filter((i) => !acked.has(i));
  for (let i = 0; i < events.length; i += 9) retry.push(i);
  for (let round = 0; round < 5 && retry.length; round++) {
    const left = [];
    for (const i of retry) {
      const r = await env.stripe(events[i]);
      if (r.status === 200) acked.add(i); else left.push(i);
    }
    retry.splice(0, retry.length, ...left);
    if (left.length) await sleep(200);
  }
  assert.strictEqual(retry.length, 0, 'every delivery eventually answered 200');
  for (const u of users) assert.strictEqual(env.user(u).balance.available, 5000, u);
  const ids = events.map((e) => `'${e.id}'`).join(',');
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM inbox WHERE event_id IN (${ids})`)[0].n, events.length);
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM payments WHERE user_id LIKE 'u_crash_%'")[0].n, events.length);
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
});

run({
  before: () => Env.start({ processes: 2 }),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
