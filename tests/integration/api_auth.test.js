'use strict';
// Who may call the API, through nginx: API keys (hashed, scoped, revocable)
// and user tokens (HS256 pinned, sub and exp checked). Every refusal is a
// 401 or 403 with a clear code, logs no secret, and changes nothing.
const { test, run, assert } = require('../lib/t');
const { startApi, jwt, nowS } = require('../lib/api');

async function refused(env, send, status, code) {
  const before = env.counts();
  const r = await send();
  assert.strictEqual(r.status, status, `${r.status} ${r.text}`);
  if (code) assert.strictEqual(r.json && r.json.error && r.json.error.code, code, r.text);
  assert.deepStrictEqual(env.counts(), before, 'the database changed');
  return r;
}

test('an admin key registers and reads a user; the keys are stored only as hashes', async (env) => {
  const r = await env.api('POST', '/v1/users/u_auth');
  assert.strictEqual(r.status, 200, r.text);
  const g = await env.api('GET', '/v1/users/u_auth', undefined, env.keys.read);
  assert.strictEqual(g.status, 200);
  assert.strictEqual(g.json.user_id, 'u_auth');
  const rows = env.sql('SELECT id, hex(secret_hash) AS h, scopes FROM api_keys');
  assert.strictEqual(rows.length, 3);
  for (const row of rows) {
    assert.strictEqual(row.h.length, 64);
    for (const k of [env.keys.admin, env.keys.read, env.keys.spend]) assert.ok(!k.includes(row.h.toLowerCase()));
  }
  assert.ok(!JSON.stringify(env.sql('SELECT * FROM api_keys')).includes(env.keys.admin.slice(20)));
});

test('missing, malformed, unknown and wrong keys are 401', async (env) => {
  await refused(env, () => env.api('POST', '/v1/users/u_nokey', undefined, null), 401, 'unauthorized');
  await refused(env, () => env.api('POST', '/v1/users/u_nokey', undefined, 'tk_nothex_xyz'), 401, 'unauthorized');
  await refused(env, () => env.api('POST', '/v1/users/u_nokey', undefined, 'Basic abc'), 401, 'unauthorized');
  const k = env.keys.admin;
  const unknown = `tk_0000000000000000_${k.slice(20)}`;
  await refused(env, () => env.api('POST', '/v1/users/u_nokey', undefined, unknown), 401, 'unauthorized');
  const wrong = k.slice(0, -1) + (k.endsWith('A') ? 'B' : 'A');
  const r = await refused(env, () => env.api('POST', '/v1/users/u_nokey', undefined, wrong), 401, 'unauthorized');
  assert.match(r.json.error.message, /wrong API key/);
  assert.ok(!env.log('api').includes(k.slice(20)), 'a key reached the log');
});

test('scopes: read cannot spend or write, spend cannot read or register; 403', async (env) => {
  await env.api('POST', '/v1/users/u_scope');
  await env.api('POST', '/v1/users/u_scope/promotions', { credits: 100, reason: 'test' });
  await refused(env, () => env.api('POST', '/v1/users/u_scope/spend', { amount: 1, idempotency_key: 'a' }, env.keys.read), 403, 'forbidden');
  await refused(env, () => env.api('POST', '/v1/users/u_other', undefined, env.keys.read), 403, 'forbidden');
  await refused(env, () => env.api('GET', '/v1/users/u_scope', undefined, env.keys.spend), 403, 'forbidden');
  await refused(env, () => env.api('POST', '/v1/users/u_scope/trial', undefined, env.keys.spend), 403, 'forbidden');
  await refused(env, () => env.api('GET', '/metrics', undefined, env.keys.read), 403, 'forbidden');
  const ok = await env.api('POST', '/v1/users/u_scope/spend', { amount: 1, idempotency_key: 'a' }, env.keys.spend);
  assert.strictEqual(ok.status, 200, ok.text);
});

test('a revoked key is refused at once', async (env) => {
  const k = env.tallyJson(['keys', 'create', '--name', 'temp', '--scopes', 'read']);
  assert.strictEqual((await env.api('GET', '/v1/users/u_auth', undefined, k.key)).status, 200);
  const rv = env.tally(['keys', 'revoke', k.id, '--reason', 'test']);
  assert.strictEqual(rv.code, 0, rv.stderr);
  await refused(env, () => env.api('GET', '/v1/users/u_auth', undefined, k.key), 401, 'unauthorized');
  assert.strictEqual(env.tally(['keys', 'revoke', k.id]).code, 1, 'a second revoke finds no live key');
  const audit = env.sql(`SELECT action FROM audit WHERE object = 'api_key:${k.id}' ORDER BY id`).map((a) => a.action);
  assert.deepStrictEqual(audit, ['api_key.create', 'api_key.revoke']);
  const list = env.tallyJson(['keys', 'list']);
  assert.ok(list.find((x) => x.id === k.id).revoked_at);
});

test('a user token reads its own user; expired, no exp, other secret, alg none/HS512/RS256 are 401; another user\'s 403', async (env) => {
  await env.api('POST', '/v1/users/u_jwt');
  const good = jwt({ sub: 'u_jwt', exp: nowS() + 60 });
  const r = await env.api('GET', '/v1/users/u_jwt', undefined, good);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.user_id, 'u_jwt');
  // A good token of another user is a credential, just not for this user.
  await refused(env, () => env.api('GET', '/v1/users/u_jwt', undefined, jwt({ sub: 'u_other', exp: nowS() + 60 })), 403, 'forbidden');
  const bad = [
    jwt({ sub: 'u_other', exp: nowS() - 1 }),
    jwt({ exp: nowS() + 60 }),
    jwt({ sub: 'u_jwt', exp: nowS() - 1 }),
    jwt({ sub: 'u_jwt' }),
    jwt({ sub: 'u_jwt', exp: nowS() + 60 }, { secret: 'another-secret-of-enough-length-123' }),
    jwt({ sub: 'u_jwt', exp: nowS() + 60 }, { alg: 'none' }),
    jwt({ sub: 'u_jwt', exp: nowS() + 60 }, { alg: 'HS512' }),
    jwt({ sub: 'u_jwt', exp: nowS() + 60 }, { alg: 'RS256' }),
    jwt({ sub: 'u_jwt', exp: nowS() + 60 }, { header: { typ: 'JWT' } }),
    'not.a.jwt',
    `${good}x`,
  ];
  for (const t of bad) await refused(env, () => env.api('GET', '/v1/users/u_jwt', undefined, t), 401, 'unauthorized');
  // A user token cannot write, even for its own user.
  await refused(env, () => env.api('POST', '/v1/users/u_jwt/spend', { amount: 1, idempotency_key: 'x' }, good), 401, 'unauthorized');
  await refused(env, () => env.api('POST', '/v1/users/u_jwt/trial', undefined, good), 401, 'unauthorized');
});

test('unknown routes are 404, wrong methods 405, malformed user ids 404', async (env) => {
  assert.strictEqual((await env.api('GET', '/v1/nothing')).status, 404);
  assert.strictEqual((await env.api('GET', '/v1/users/u_auth/nothing')).status, 404);
  assert.strictEqual((await env.api('DELETE', '/v1/users/u_auth')).status, 405);
  assert.strictEqual((await env.api('GET', '/v1/users/u_auth/spend')).status, 405);
  assert.strictEqual((await env.api('POST', '/metrics')).status, 405);
  assert.strictEqual((await env.api('GET', `/v1/users/${'x'.repeat(200)}`)).status, 404);
  assert.strictEqual((await env.api('GET', '/v1/users/a/b/c')).status, 404);
});

test('/metrics is Prometheus text with event counts, attention gauges and request latency', async (env) => {
  const r = await env.api('GET', '/metrics');
  assert.strictEqual(r.status, 200);
  assert.match(r.headers['content-type'], /text\/plain/);
  assert.match(r.text, /^tally_events_total\{provider="app",outcome="applied"\} \d+$/m);
  assert.match(r.text, /^tally_request_duration_ms_bucket\{service="api",route="POST user",le="\+Inf"\} \d+$/m);
  assert.match(r.text, /# TYPE tally_request_duration_ms histogram/);
  assert.match(r.text, /# TYPE tally_inbox_attention gauge/);
});

run({
  before: () => startApi(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
