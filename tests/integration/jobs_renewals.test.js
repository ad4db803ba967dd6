'use strict';
// bin/tally-renewals: credit resets inside yearly plans with monthly credits (Stripe webhooks
// through nginx, then the job with --now), the free tier's monthly allowance (API), plans
// bought from the balance (renewed, or ended with a notice), and what every job promises:
// a second run does nothing, two runs at once do the work once, kill -9 mid-run and a rerun
// completes without doubles, --dry-run changes nothing, --limit bounds, exit codes, the lease.
const { test, assert } = require('../lib/t');
const { startApi, apiCatalog } = require('../lib/api');
const S = require('../lib/stripe-events');
const J = require('../lib/jobs');

const { DAY } = J;
const MONTH = 31 * DAY; // past any calendar month from the same day

function catalog() {
  const cfg = apiCatalog();
  cfg.products.yearly_mc = {
    kind: 'subscription', entitlements: ['pro'], credits: 100, credit_period: '1mo',
    match: { stripe: ['price_yearly_mc'] },
  };
  return cfg;
}

async function ok(env, evt) {
  const r = await env.stripe(evt);
  assert.strictEqual(r.status, 200, `${evt.type}: ${r.status} ${r.text}`);
  assert.strictEqual(r.json.state, 'applied', r.text);
  return r.json;
}

// A yearly subscription through Stripe: checkout, subscription, first invoice.
async function yearly(env, user, startS) {
  const c = { user, cus: S.rid('cus'), sub: S.rid('sub'), inv: S.rid('in'), start: startS, end: startS + 365 * 86400 };
  await ok(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'subscription', customer: c.cus, subscription: c.sub, clientReferenceId: user, invoice: c.inv,
  }), { created: startS }));
  await ok(env, S.event('customer.subscription.created', S.subscription({
    id: c.sub, customer: c.cus, price: 'price_yearly_mc', periodStart: c.start, periodEnd: c.end,
  }), { created: startS }));
  await ok(env, S.event('invoice.paid', S.invoice({
    id: c.inv, customer: c.cus, subscription: c.sub, price: 'price_yearly_mc', periodStart: c.start, periodEnd: c.end,
    paymentIntent: S.rid('pi'),
  }), { created: startS }));
  return c;
}

const balance = (env, u) => env.user(u).balance.available;
const revoke = (env, u, n) => assert.strictEqual(env.tally(['credits', 'revoke', u, String(n), '--reason', 'used', '--operator', 't']).code, 0);
const grant = (env, u, n) => assert.strictEqual(env.tally(['credits', 'grant', u, String(n), '--reason', 'top up', '--operator', 't']).code, 0);
const count = (env, where) => env.sql(`SELECT count(*) AS n FROM ${where}`)[0].n;

test('a yearly plan with monthly credits is reset each month, once', async (env) => {
  const t0 = Date.now();
  const c = await yearly(env, 'ry_ann', Math.floor(t0 / 1000));
  const sub = env.sql("SELECT id, credits_next_at FROM subscriptions WHERE user_id = 'ry_ann'")[0];
  assert.ok(sub.credits_next_at > t0 + 27 * DAY && sub.credits_next_at <= t0 + MONTH, 'next reset a month on');
  revoke(env, 'ry_ann', 60);
  assert.strictEqual(balance(env, 'ry_ann'), 40);

  let r = J.job(env, 'renewals', ['--json'], { now: sub.credits_next_at - 60e3 });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(r.json.counts, {}, 'nothing due a minute early');

  r = J.job(env, 'renewals', ['--json'], { now: sub.credits_next_at + 60e3 });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.json.counts['credits.reset.applied'], 1, r.stdout);
  const item = r.json.items[0];
  assert.strictEqual(item.event_id, `reset:${sub.id}:${sub.credits_next_at}`);
  assert.strictEqual(item.user_id, 'ry_ann');
  assert.strictEqual(balance(env, 'ry_ann'), 100, 'RESET to the plan amount, unused credits gone');
  const again = J.job(env, 'renewals', ['--json'], { now: sub.credits_next_at + 120e3 });
  assert.deepStrictEqual(again.json.counts, {}, 'a second run finds nothing due');
  const next = env.sql(`SELECT credits_next_at FROM subscriptions WHERE id = ${sub.id}`)[0].credits_next_at;
  assert.ok(next > sub.credits_next_at + 27 * DAY, 'the next reset is scheduled');
  // The job's event is audited as the job.
  const doc = env.user('ry_ann');
  assert.ok(doc.ledger.some((l) => l.actor === 'job:renewals' && l.kind === 'grant' && l.amount === 100));
  assert.ok(doc.ledger.some((l) => l.actor === 'job:renewals' && l.kind === 'reset' && l.amount === -40));
  assert.strictEqual(c.user, 'ry_ann');
});

test('the free allowance resets monthly for a registered user', async (env) => {
  const reg = await env.api('POST', '/v1/users/ry_free', {});
  assert.ok(reg.status === 200 || reg.status === 201, reg.text);
  assert.strictEqual(balance(env, 'ry_free'), 70, 'signup 50 + monthly 20');
  const spend = await env.api('POST', '/v1/users/ry_free/spend', { amount: 15, idempotency_key: 'k1' });
  assert.strictEqual(spend.status, 200, spend.text);
  const due = env.sql("SELECT free_next_at FROM users WHERE id = 'ry_free'")[0].free_next_at;
  const r = J.job(env, 'renewals', ['--json'], { now: due + 1000 });
  assert.strictEqual(r.code, 0, r.stderr);
  const mine = r.json.items.filter((i) => i.user_id === 'ry_free');
  assert.strictEqual(mine.length, 1, r.stdout);
  assert.strictEqual(mine[0].action, 'allowance.reset');
  assert.strictEqual(mine[0].event_id, `allowance:ry_free:${due}`);
  assert.strictEqual(mine[0].result, 'applied');
  assert.strictEqual(balance(env, 'ry_free'), 70, 'the unused 5 gone, a new 20');
  assert.ok(env.sql("SELECT free_next_at FROM users WHERE id = 'ry_free'")[0].free_next_at > due);
  const again = J.job(env, 'renewals', ['--json'], { now: due + 2000 });
  assert.ok(!again.json.items.some((i) => i.user_id === 'ry_free'), 'once');
});

test('a plan bought from the balance renews from it, then ends with a notice when funds run short', async (env) => {
  const u = 'ry_plan';
  assert.ok([200, 201].includes((await env.api('POST', `/v1/users/${u}`, {})).status));
  grant(env, u, 900); // 50 signup + 20 monthly + 900: two purchases of 400
  const buy = await env.api('POST', `/v1/users/${u}/plans`, { product: 'plan_balance', idempotency_key: 'b1' });
  assert.strictEqual(buy.status, 200, buy.text);
  let sub = env.sql(`SELECT id, period_end FROM subscriptions WHERE user_id = '${u}' AND provider = 'balance'`)[0];
  const before = balance(env, u);
  let r = J.job(env, 'renewals', ['--json'], { now: sub.period_end + 1000 });
  assert.strictEqual(r.code, 0, r.stderr);
  const renewal = r.json.items.find((i) => i.action === 'plan.renew');
  assert.strictEqual(renewal.event_id, `renew:${sub.id}:${sub.period_end}`);
  assert.strictEqual(renewal.result, 'applied', JSON.stringify(renewal));
  const s2 = env.sql(`SELECT state, period_end FROM subscriptions WHERE id = ${sub.id}`)[0];
  assert.strictEqual(s2.state, 'active');
  assert.ok(s2.period_end > sub.period_end + 27 * DAY);
  assert.ok(balance(env, u) < before, 'paid from the balance');
  // Spend it down: the next renewal cannot be paid.
  revoke(env, u, balance(env, u) - 10);
  sub = env.sql(`SELECT id, period_end FROM subscriptions WHERE id = ${sub.id}`)[0];
  r = J.job(env, 'renewals', ['--json'], { now: sub.period_end + 1000 });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.json.items.find((i) => i.action === 'plan.renew').result, 'applied');
  assert.strictEqual(env.sql(`SELECT state FROM subscriptions WHERE id = ${sub.id}`)[0].state, 'expired');
  const notice = env.sql(`SELECT kind, topic FROM outbox WHERE user_id = '${u}' AND topic = 'renewal_failed'`);
  assert.deepStrictEqual(notice, [{ kind: 'notify', topic: 'renewal_failed' }]);
  r = J.job(env, 'renewals', ['--json'], { now: sub.period_end + 5000 });
  assert.ok(!r.json.items.some((i) => i.action === 'plan.renew'), 'an ended plan is not due');
});

// Seeded fixtures below: n subscriptions of yearly_mc with a credit reset due at `due`.
function seedDue(env, prefix, n, due) {
  const start = due - 40 * DAY;
  J.seedSubs(env, n, { prefix, product: 'yearly_mc', start, end: start + 365 * DAY, creditsNextAt: due });
}

function resetsOf(env, prefix) {
  return {
    events: count(env, `inbox WHERE provider = 'job' AND event_id LIKE 'reset:%' AND user_id LIKE '${prefix}%'`),
    grants: count(env, `grants WHERE user_id LIKE '${prefix}%'`),
    doubled: count(env, `(SELECT user_id FROM grants WHERE user_id LIKE '${prefix}%' GROUP BY user_id HAVING count(*) > 1) AS d`),
  };
}

test('--dry-run reports what is due and changes nothing', async (env) => {
  const due = Date.now() - DAY;
  seedDue(env, 'dry_', 5, due);
  const before = env.counts();
  const r = J.job(env, 'renewals', ['--dry-run', '--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.json.dry_run, true);
  assert.strictEqual(r.json.counts['credits.reset.would_apply'], 5, r.stdout);
  assert.deepStrictEqual(env.counts(), before);
  const text = J.job(env, 'renewals', ['--dry-run']);
  assert.match(text.stdout, /credits\.reset subscription \d+ \(user dry_0\): would apply \[reset:\d+:\d+\]/);
  assert.match(text.stdout, /\(dry run\): credits\.reset\.would_apply 5/);
  assert.deepStrictEqual(env.counts(), before);
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM jobs WHERE lease_owner != ''")[0].n, 0, 'no lease taken');
  // Now for real, so later tests start clean.
  assert.strictEqual(J.job(env, 'renewals').code, 0);
  assert.strictEqual(resetsOf(env, 'dry_').grants, 5);
});

test('--limit bounds a run; the next run does the rest', async (env) => {
  seedDue(env, 'lim_', 10, Date.now() - DAY);
  let r = J.job(env, 'renewals', ['--limit', '3', '--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.json.limit, 3);
  assert.strictEqual(r.json.counts['credits.reset.applied'], 3, r.stdout);
  assert.strictEqual(resetsOf(env, 'lim_').grants, 3);
  r = J.job(env, 'renewals', ['--json']);
  assert.strictEqual(r.json.counts['credits.reset.applied'], 7, r.stdout);
  assert.deepStrictEqual(resetsOf(env, 'lim_'), { events: 10, grants: 10, doubled: 0 });
});

test('two runs started at once do the work once', async (env) => {
  const n = 1500;
  seedDue(env, 'two_', n, Date.now() - DAY);
  const [a, b] = await Promise.all([J.jobAsync(env, 'renewals', ['--json']), J.jobAsync(env, 'renewals', ['--json'])]);
  assert.strictEqual(a.code, 0, a.stderr);
  assert.strictEqual(b.code, 0, b.stderr);
  const applied = (x) => (x.json.counts && x.json.counts['credits.reset.applied']) || 0;
  assert.strictEqual(applied(a) + applied(b), n, `${a.stdout.slice(0, 300)} | ${b.stdout.slice(0, 300)}`);
  const held = [a, b].filter((x) => x.json.skipped);
  if (held.length) assert.match(held[0].stderr, /another runner holds the lease/);
  assert.deepStrictEqual(resetsOf(env, 'two_'), { events: n, grants: n, doubled: 0 });
});

test('kill -9 mid-run, then a rerun completes without doubles (the lease of the dead runner is taken over)', async (env) => {
  const n = 4000;
  seedDue(env, 'kill_', n, Date.now() - DAY);
  const p = J.spawnJob(env, 'renewals');
  await J.until(() => resetsOf(env, 'kill_').events >= 200, 'the first run to make progress');
  p.kill('SIGKILL');
  const first = await p.done;
  assert.strictEqual(first.signal, 'SIGKILL');
  const mid = resetsOf(env, 'kill_');
  assert.ok(mid.events < n, `killed before the end (${mid.events})`);
  assert.strictEqual(mid.events, mid.grants, 'each committed event with its grant, nothing half-done');
  const owner = env.sql("SELECT lease_owner FROM jobs WHERE name = 'renewals'")[0].lease_owner;
  assert.notStrictEqual(owner, '', 'the dead runner still holds the lease');
  const r = J.job(env, 'renewals', ['--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, /took over the lease of a runner that is gone/);
  assert.strictEqual(r.json.counts['credits.reset.applied'], n - mid.events);
  assert.deepStrictEqual(resetsOf(env, 'kill_'), { events: n, grants: n, doubled: 0 });
  assert.strictEqual(env.sql("SELECT lease_owner FROM jobs WHERE name = 'renewals'")[0].lease_owner, '');
});

test('a lease held by a live runner elsewhere: exit 0, nothing done; expired: taken', async (env) => {
  seedDue(env, 'held_', 2, Date.now() - DAY);
  env.sql(`UPDATE jobs SET lease_owner = 'rdeadbeefdeadbeef', lease_until = ${Date.now() + 60e3} WHERE name = 'renewals'`);
  let r = J.job(env, 'renewals', ['--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.json.skipped, 'another runner holds the lease');
  assert.strictEqual(resetsOf(env, 'held_').grants, 0);
  r = J.job(env, 'renewals');
  assert.match(r.stdout, /another runner holds the lease until/);
  env.sql(`UPDATE jobs SET lease_until = ${Date.now() - 1} WHERE name = 'renewals'`);
  r = J.job(env, 'renewals', ['--json']);
  assert.strictEqual(r.json.counts['credits.reset.applied'], 2, r.stdout);
  const row = env.sql("SELECT lease_owner, last_success_at, last_result FROM jobs WHERE name = 'renewals'")[0];
  assert.strictEqual(row.lease_owner, '');
  assert.ok(row.last_success_at > Date.now() - 60e3, 'the run is recorded for /metrics');
  assert.match(row.last_result, /credits\.reset\.applied 2/);
});

test('exit codes: 2 for usage, 1 when the database cannot be opened', async (env) => {
  for (const args of [['--limit', '0'], ['--limit', 'x'], ['--now', 'yesterday'], ['--bogus'], ['extra']]) {
    const r = J.job(env, 'renewals', args);
    assert.strictEqual(r.code, 2, `${args.join(' ')}: ${r.code} ${r.stderr}`);
    assert.match(r.stderr, /usage|--limit|--now/);
  }
  const r = J.job(env, 'renewals', [], { env: { TALLY_DB: `${env.dir}/missing/tally.db` } });
  assert.strictEqual(r.code, 1, r.stderr);
  const logs = r.stderr.split('\n').filter(Boolean);
  assert.ok(logs.length >= 1);
});

test('logs: one JSON line at the start and one at the end with the counts', async (env) => {
  seedDue(env, 'log_', 2, Date.now() - DAY);
  const r = J.job(env, 'renewals');
  const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const start = lines.find((l) => l.msg === 'job start');
  const end = lines.find((l) => l.msg === 'job end');
  assert.strictEqual(start.job, 'renewals');
  assert.strictEqual(end['credits.reset.applied'], 2);
  assert.strictEqual(end.result, 'ok');
  assert.ok(Number.isInteger(end.ms));
});

J.suite(() => startApi({ config: catalog() }));
