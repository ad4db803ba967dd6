'use strict';
// Tasks: the work tally owes Google Play after it commits a purchase (acknowledge, consume),
// against the fake Google. An event owing a task is applied and its task tried at once, as the
// Google handler does right after its commit (tests/tools/task_event: apply, then svc_tasks);
// then bin/tally-tasks with --now: failed tries again with backoff (1 min doubling), a 403
// alerted (the operator must grant a permission) and the run failing, "deadline near" alerted
// once, the deadline passed alerted once and given up, a refused call Google already has done
// counted done, a consumable consumed; two runners and the handler at once make each call
// once; a second event owing the same work adds no task; `tally tasks` lists them.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { test, assert } = require('../lib/t');
const { Env, DEFAULT_CATALOG } = require('../lib/harness');
const J = require('../lib/jobs');
const G = require('../lib/google');
const { FakeGoogle } = require('../fakes/google');

const ROOT = path.resolve(__dirname, '..', '..');
const TOOLS = process.env.TALLY_TOOLS || path.join(ROOT, 'build', 'release', 'tests');
const MIN = 60e3;
const DAY = 86400e3;
const PKG = 'com.example.tally';

let google;
let saDir;

// The tool, without blocking this process (the fake Google answers from it).
function taskEvent(env, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(TOOLS, 'task_event'), args, { env: env.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code) => {
      let json = null;
      try { json = JSON.parse(stdout); } catch (_) { /* none */ }
      resolve({ code, stdout, stderr, json });
    });
  });
}

// A subscription purchase event for user owing its acknowledgement (deadline: 3 days by default).
async function owe(env, { id = `m_${G.token().slice(0, 12)}`, user = 'ann', kind = 'google_ack_sub', token, product = 'pro_monthly',
  deadline = Date.now() + 3 * DAY, tryNow = true } = {}) {
  const r = await taskEvent(env, [...(tryNow ? [] : ['--no-try']), id, user, kind, token, product, String(deadline)]);
  assert.strictEqual(r.code, 0, r.stderr);
  return r.json;
}

const tasks = (env, { key } = {}) => env.sql(`SELECT * FROM tasks${key ? ` WHERE key = '${key}'` : ''} ORDER BY id`);
const task = (env, key) => {
  const rows = tasks(env, { key });
  assert.strictEqual(rows.length, 1, `one task for ${key}`);
  return rows[0];
};
const alerts = (env, topic) => env.sql(`SELECT dedup_key, payload FROM outbox WHERE kind = 'alert' AND topic = '${topic}'`);
const acksOf = (token) => google.acks.filter((a) => a.token === token).length;
const run = (env, now, args = []) => J.jobAsync(env, 'tasks', ['--json', ...args], { now });

function unacked(token, opts = {}) {
  google.setSubscription(token, G.subV2({ ack: false, ...opts }));
}

test('an acknowledgement is made right after the commit, once, and the task is done', async (env) => {
  const token = G.token();
  unacked(token);
  const r = await owe(env, { token });
  assert.strictEqual(r.state, 'applied');
  assert.strictEqual(acksOf(token), 1);
  assert.strictEqual(google.subscription(token).acknowledgementState, 'ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED');
  const t = task(env, token);
  assert.deepStrictEqual([t.state, t.attempts, t.provider, t.kind, t.arg, t.user_id, t.inbox_id],
    ['done', 1, 'google', 'google_ack_sub', 'pro_monthly', 'ann', r.inbox_id]);
  assert.ok(t.done_at > 0);
  // Nothing left for the job.
  const j = await run(env, Date.now() + 10 * MIN);
  assert.strictEqual(j.code, 0, j.stderr);
  assert.ok(!j.json.items.some((i) => i.subject === `task ${t.id} (google_ack_sub)`));
  assert.strictEqual(acksOf(token), 1);
});

test('a 503 then a 429: tried again after a minute, then two, until Google takes it', async (env) => {
  const token = G.token();
  unacked(token);
  google.failNext(new RegExp(`${token.slice(0, 16)}.*:acknowledge`), 503);
  await owe(env, { token });
  let t = task(env, token);
  assert.deepStrictEqual([t.state, t.attempts], ['pending', 1]);
  assert.match(t.last_error, /503/);
  const t0 = t.last_try_at;
  assert.strictEqual(t.due_at, t0 + MIN);
  // Not due yet: left alone.
  let j = await run(env, t0 + MIN - 1000);
  assert.ok(!j.json.items.some((i) => i.subject === `task ${t.id} (google_ack_sub)`), j.stdout);
  google.failNext(new RegExp(`${token.slice(0, 16)}.*:acknowledge`), 429);
  j = await run(env, t0 + MIN);
  assert.strictEqual(j.code, 0, j.stderr);
  const it = j.json.items.find((i) => i.subject === `task ${t.id} (google_ack_sub)`);
  assert.strictEqual(it.result, 'retry');
  assert.match(it.reason, /429.*attempt 2/);
  t = task(env, token);
  assert.deepStrictEqual([t.state, t.attempts, t.due_at], ['pending', 2, t0 + 3 * MIN]);
  j = await run(env, t0 + 3 * MIN);
  assert.strictEqual(j.json.items.find((i) => i.subject === `task ${t.id} (google_ack_sub)`).result, 'done');
  t = task(env, token);
  assert.deepStrictEqual([t.state, t.attempts], ['done', 3]);
  assert.strictEqual(acksOf(token), 1, 'one call Google took; the refused ones did not count');
  assert.strictEqual(alerts(env, 'task.blocked').length, 0, 'a provider down is no one\'s permission');
});

test('a 403 (a Play Console permission missing): retried, alerted once a day, and the run fails', async (env) => {
  const token = G.token();
  unacked(token);
  google.failNext(new RegExp(`${token.slice(0, 16)}.*:acknowledge`), 403, 2);
  await owe(env, { token });
  let t = task(env, token);
  assert.deepStrictEqual([t.state, t.attempts], ['pending', 1]);
  assert.match(t.last_error, /403/);
  const a = alerts(env, 'task.blocked');
  assert.strictEqual(a.length, 1);
  const p = JSON.parse(a[0].payload);
  assert.deepStrictEqual([p.provider, p.kind, p.task_id], ['google', 'google_ack_sub', t.id]);
  assert.ok(!a[0].payload.includes(token), 'an alert shows the start of a purchase token, not all of it');
  const later = t.last_try_at + MIN;
  let j = await run(env, later);
  assert.strictEqual(j.code, 1, 'blocked: the operator must act');
  assert.match(j.json.error, /blocked/);
  assert.strictEqual(j.json.items.find((i) => i.subject === `task ${t.id} (google_ack_sub)`).result, 'blocked');
  const days = new Set([t.last_try_at, later].map((ms) => new Date(ms).toISOString().slice(0, 10)));
  assert.strictEqual(alerts(env, 'task.blocked').length, days.size, 'one alert a day, not one a try');
  // Granted: the next try goes through.
  t = task(env, token);
  j = await run(env, t.due_at);
  assert.strictEqual(j.code, 0, j.stderr);
  assert.strictEqual(task(env, token).state, 'done');
  assert.strictEqual(acksOf(token), 1);
});

test('near its deadline still unacknowledged: alerted once; past it: alerted once and given up', async (env) => {
  const token = G.token();
  unacked(token);
  const t0 = Date.now();
  const deadline = t0 + 3 * DAY;
  google.failNext(new RegExp(`${token.slice(0, 16)}.*:acknowledge`), 500, 1000);
  await owe(env, { token, deadline, tryNow: false });
  const id = task(env, token).id;
  const near = `alert:task:${id}:near`;
  // A day before the deadline is not yet "near" for a three-day task.
  let j = await run(env, deadline - DAY - MIN);
  assert.strictEqual(alerts(env, 'task.deadline_near').filter((a) => a.dedup_key === near).length, 0);
  assert.strictEqual(j.json.items.find((i) => i.subject === `task ${id} (google_ack_sub)`).result, 'retry');
  j = await run(env, deadline - DAY + MIN);
  assert.strictEqual(j.json.items.find((i) => i.action === 'task.deadline_near' && i.subject === `task ${id} (google_ack_sub)`).result, 'alerted');
  j = await run(env, deadline - DAY + 90 * MIN);
  assert.ok(!j.json.items.some((i) => i.action === 'task.deadline_near' && i.subject === `task ${id} (google_ack_sub)`));
  assert.strictEqual(alerts(env, 'task.deadline_near').filter((a) => a.dedup_key === near).length, 1);
  // The last hours: tries squeezed in, none scheduled past the deadline.
  let t = task(env, token);
  assert.ok(t.due_at <= deadline);
  j = await run(env, deadline - 10 * MIN);
  t = task(env, token);
  assert.ok(t.due_at > deadline - 10 * MIN && t.due_at <= deadline - 5 * MIN, `halfway to the deadline: ${t.due_at - deadline}`);
  j = await run(env, deadline);
  assert.strictEqual(j.json.items.find((i) => i.subject === `task ${id} (google_ack_sub)`).result, 'deadline_passed');
  t = task(env, token);
  assert.strictEqual(t.state, 'given_up');
  assert.match(t.last_error, /deadline passed after \d+ tries; last error: .*500/);
  const late = alerts(env, 'task.deadline_passed').filter((a) => a.dedup_key === `alert:task:${id}:late`);
  assert.strictEqual(late.length, 1);
  j = await run(env, deadline + DAY);
  assert.ok(!j.json.items.some((i) => i.subject === `task ${id} (google_ack_sub)`));
  assert.strictEqual(alerts(env, 'task.deadline_passed').filter((a) => a.dedup_key === `alert:task:${id}:late`).length, 1);
  assert.strictEqual(acksOf(token), 0);
  google.failures = [];
});

test('a consumable pack is consumed after the grant', async (env) => {
  const token = G.token();
  google.setProduct('credits_500', token, G.productPurchase({ productId: 'credits_500', ack: false }));
  await owe(env, { token, kind: 'google_consume', product: 'credits_500', user: 'bea' });
  assert.strictEqual(google.consumes.filter((c) => c.token === token && c.productId === 'credits_500').length, 1);
  assert.strictEqual(google.product('credits_500', token).consumptionState, 1);
  assert.strictEqual(task(env, token).state, 'done');
});

test('a product acknowledged; a refused call Google already has done is done; an unknown purchase is given up', async (env) => {
  const token = G.token();
  google.setProduct('lifetime', token, G.productPurchase({ productId: 'lifetime', ack: false }));
  await owe(env, { token, kind: 'google_ack_product', product: 'lifetime' });
  assert.strictEqual(google.product('lifetime', token).acknowledgementState, 1);
  assert.strictEqual(task(env, token).state, 'done');

  // The app acknowledged it itself; Google refuses tally's call as made.
  const done = G.token();
  google.setSubscription(done, G.subV2({ ack: true }));
  google.failNext(new RegExp(`${done.slice(0, 16)}.*:acknowledge`), 400);
  await owe(env, { token: done });
  let t = task(env, done);
  assert.strictEqual(t.state, 'done');
  assert.match(t.last_error, /already/);
  assert.strictEqual(alerts(env, 'task.given_up').length, 0);

  // Google has no such purchase: given up, alerted once.
  const unknown = G.token();
  await owe(env, { token: unknown });
  t = task(env, unknown);
  assert.strictEqual(t.state, 'given_up');
  assert.match(t.last_error, /404/);
  const a = alerts(env, 'task.given_up');
  assert.strictEqual(a.length, 1);
  assert.strictEqual(a[0].dedup_key, `alert:task:${t.id}:given_up`);
});

test('two runners and the handlers at once: each task tried by one of them, each call made once', async (env) => {
  google.delayMs = 150;
  const owed = [];
  for (let i = 0; i < 4; i++) {
    const token = G.token();
    unacked(token);
    owed.push({ id: `race_${i}_${token.slice(0, 8)}`, token });
    await owe(env, { id: owed[i].id, token, tryNow: false, user: `race${i}` });
  }
  // Four more whose events commit while the jobs run, each tried at once by its handler.
  const more = [];
  for (let i = 0; i < 4; i++) {
    const token = G.token();
    unacked(token);
    more.push(token);
  }
  // The wall clock, as in production: a claim holds its task against runners of the same clock.
  const runs = [run(env, undefined), run(env, undefined)];
  // Pub/Sub delivering the first four again: each handler tries the same tasks as the jobs.
  const handlers = [...owed.map((o, i) => owe(env, { id: o.id, token: o.token, user: `race${i}` })),
    ...more.map((token, i) => owe(env, { token, user: `race_h${i}` }))];
  const results = await Promise.all(runs);
  await Promise.all(handlers);
  assert.ok(results.every((r) => r.code === 0), results.map((r) => r.stderr).join('\n'));
  assert.ok(results.some((r) => r.json.skipped), 'one job run held the lease, the other stood aside');
  // What none reached yet, a last run does; nothing twice.
  await run(env, undefined);
  google.delayMs = 0;
  for (const token of [...owed.map((o) => o.token), ...more]) {
    assert.strictEqual(acksOf(token), 1, `one acknowledgement of ${token.slice(0, 12)}`);
    assert.strictEqual(task(env, token).state, 'done');
  }
});

test('a duplicate event and a second event owing the same work add no task', async (env) => {
  const token = G.token();
  unacked(token);
  const r1 = await owe(env, { id: 'dup_1', token });
  const r2 = await owe(env, { id: 'dup_1', token });
  assert.strictEqual(r2.duplicate, true);
  assert.strictEqual(r2.inbox_id, r1.inbox_id);
  // The app handed the purchase in, then the push names it: another event, the same task.
  const r3 = await owe(env, { id: 'dup_2', token });
  assert.strictEqual(r3.state, 'applied');
  assert.notStrictEqual(r3.inbox_id, r1.inbox_id);
  const t = task(env, token);
  assert.strictEqual(t.inbox_id, r1.inbox_id);
  assert.strictEqual(acksOf(token), 1);
});

test('an event owing a task tally cannot do is stored failed and grants nothing', async (env) => {
  const r = await taskEvent(env, ['m_bad_kind', 'cal', 'google_refund', G.token(), 'pro_monthly', '0']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.json.state, 'failed');
  assert.match(r.json.reason, /google_refund/);
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM tasks WHERE kind = 'google_refund'")[0].n, 0);
});

test('tally tasks lists what is pending, --all everything; tally-tasks --dry-run tries nothing', async (env) => {
  const token = G.token();
  unacked(token);
  google.failNext(new RegExp(`${token.slice(0, 16)}.*:acknowledge`), 500);
  await owe(env, { token, user: 'dia' });
  const t = task(env, token);
  let r = await env.tallyAsync(['tasks', '--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout);
  const mine = list.find((x) => x.id === t.id);
  assert.deepStrictEqual([mine.kind, mine.key, mine.state, mine.attempts, mine.user_id],
    ['google_ack_sub', token, 'pending', 1, 'dia']);
  assert.match(mine.last_error, /500/);
  assert.ok(mine.deadline && mine.due_at);
  assert.ok(list.every((x) => x.state === 'pending'));
  r = await env.tallyAsync(['tasks']);
  assert.match(r.stdout, new RegExp(`#${t.id} google_ack_sub pending, attempts 1, due `));
  assert.match(r.stdout, /last error: .*500/);
  r = await env.tallyAsync(['tasks', '--all', '--json']);
  const all = JSON.parse(r.stdout);
  assert.ok(all.some((x) => x.state === 'done') && all.length > list.length);
  const dry = await run(env, t.due_at, ['--dry-run']);
  assert.strictEqual(dry.json.items.find((i) => i.subject === `task ${t.id} (google_ack_sub)`).result, 'would try');
  assert.strictEqual(task(env, token).attempts, 1);
  r = await env.tallyAsync(['tasks', 'extra']);
  assert.strictEqual(r.code, 2);
  await run(env, t.due_at);
  assert.strictEqual(task(env, token).state, 'done');
});

J.suite(async () => {
  google = await new FakeGoogle({ packageName: PKG }).start();
  saDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-sa-'));
  const sa = path.join(saDir, 'sa.json');
  fs.writeFileSync(sa, google.serviceAccountJson(), { mode: 0o600 });
  return Env.start({
    handlers: [],
    env: { GOOGLE_SERVICE_ACCOUNT_FILE: sa },
    config: {
      ...DEFAULT_CATALOG,
      google: {
        package_name: PKG, push_audience: google.audience, push_service_account: google.pushEmail,
        certs_url: google.certsUrl, api_base: google.apiBase, token_url: google.tokenUrl,
      },
    },
  });
}, async () => {
  await google.close();
  fs.rmSync(saDir, { recursive: true, force: true });
});
