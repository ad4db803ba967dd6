'use strict';
// A console form's nonce is its event's id: sent twice, it is done once. Sent
// again with other values (back, change the amount or the reason, send), it is
// another request under the same key: 409 saying nothing was done, never the
// first one's page as if this had been done.
const { test, run, assert } = require('../lib/t');
const C = require('../lib/console');

const balance = (env, u) => env.user(u).balance.available;

test('the same form sent again with other values is refused and changes nothing', async (env) => {
  await C.subscribe(env, 'u_replay');
  const c = new C.Client(env);
  assert.strictEqual((await c.login()).status, 303);
  const f = await c.form('/admin/user?id=u_replay', 'credits.grant');
  const before = balance(env, 'u_replay');
  const r = await c.submit(f, { amount: '25', reason: 'goodwill' });
  assert.strictEqual(r.status, 303, r.text);
  assert.strictEqual(balance(env, 'u_replay'), before + 25);
  for (const values of [{ amount: '40', reason: 'goodwill' }, { amount: '25', reason: 'another reason' }]) {
    const changed = await c.submit(f, values);
    assert.strictEqual(changed.status, 409, `${JSON.stringify(values)}: ${changed.status} ${changed.headers.location || ''}`);
    assert.match(changed.text, /already sent with other values/);
  }
  assert.strictEqual(balance(env, 'u_replay'), before + 25, 'nothing more granted');
  // The same values again: done once, the page of what it did.
  const same = await c.submit(f, { amount: '25', reason: 'goodwill' });
  assert.strictEqual(same.status, 303);
  assert.strictEqual(same.headers.location, r.headers.location);
  assert.strictEqual(balance(env, 'u_replay'), before + 25);
});

run({
  before: () => C.startConsole(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
