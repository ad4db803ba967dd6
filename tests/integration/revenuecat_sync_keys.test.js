'use strict';
// `tally revenuecat sync` names the events it makes "sync", the user, the
// transaction and what happened, as parts of one key (lib/base/text.h text_key):
// user "sk" with transaction "b:1" and user "sk:b" with transaction "1" (a
// RevenueCat anonymous id holds ':') make two events, not one that the second
// sync takes for done. Against the fake RevenueCat REST API of revenuecat_sync.
const crypto = require('crypto');
const path = require('path');
const { spawn } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { Env, BIN } = require('../lib/harness');
const R = require('../lib/revenuecat-events');
const { FakeRevenueCat, purchase } = require('../fakes/revenuecat');

const AUTH = `Bearer whk_${crypto.randomBytes(18).toString('hex')}`;
const API_KEY = `sk_${crypto.randomBytes(16).toString('hex')}`;
const { DAY } = R;

let fake;

function sync(env, args) {
  return new Promise((resolve) => {
    const p = spawn(path.join(BIN, 'tally'), ['revenuecat', 'sync', ...args], { env: env.env() });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('sync-users-and-transactions-sharing-a-colon-make-two-events', async (env) => {
  const when = Date.now() - DAY;
  fake.set('sk', { original: 'sk', purchases: { 'com.tally.credits500': [purchase({ txn: 'b:1', purchased: when })] } });
  fake.set('sk:b', { original: 'sk:b', purchases: { 'com.tally.credits500': [purchase({ txn: '1', purchased: when })] } });
  const a = await sync(env, ['sk']);
  assert.strictEqual(a.code, 0, a.stderr + a.stdout);
  const b = await sync(env, ['sk:b']);
  assert.strictEqual(b.code, 0, b.stderr + b.stdout);
  assert.strictEqual(env.user('sk').balance.available, 500);
  const docB = env.user('sk:b');
  assert.ok(docB, `sk:b's purchase was not applied: ${b.stdout}`);
  assert.strictEqual(docB.balance.available, 500, "sk:b's purchase is its own");
  assert.match(a.stdout, /NON_RENEWING_PURCHASE sync:sk:b%3A1:purchase: applied/);
  assert.match(b.stdout, /NON_RENEWING_PURCHASE sync:sk%3Ab:1:purchase: applied/);
  // A second run of each applies nothing.
  for (const u of ['sk', 'sk:b']) {
    const again = await sync(env, [u]);
    assert.match(again.stdout, /in sync/, again.stdout);
    assert.strictEqual(env.user(u).balance.available, 500);
  }
});

run({
  before: async () => {
    fake = await new FakeRevenueCat({ apiKey: API_KEY }).start();
    return Env.start({
      handlers: ['revenuecat'],
      config: R.config({ revenuecat: { api_base: fake.url }, http: { timeout: '2s', connect_timeout: '1s' } }),
      env: { REVENUECAT_WEBHOOK_AUTH: AUTH, REVENUECAT_API_KEY: API_KEY },
    });
  },
  after: async (env, failed) => {
    await fake.close();
    await env.stop(failed > 0 && process.env.KEEP);
  },
});
