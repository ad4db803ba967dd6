'use strict';
// The scheduled jobs in tests: run bin/tally-<job> (blocking or not, with --now),
// seed due work straight into SQLite (a fixture: thousands of rows without a
// process per row), and a small HTTP sink for the deliver job that records every
// request and answers as told.
const path = require('path');
const { spawn, spawnSync, execFileSync } = require('child_process');
const { BIN, sleep } = require('./harness');
const { FakeServer } = require('../fakes/base');
const { test, run, assert } = require('./t');

const DAY = 86400e3;
const iso = (ms) => new Date(ms).toISOString();

function parse(r) {
  let json = null;
  try { json = JSON.parse(r.stdout); } catch (_) { /* text */ }
  return { ...r, json };
}

// Run a job to its end. args: extra arguments; opts: { now (ms), env }.
function job(env, name, args = [], opts = {}) {
  const a = [...args];
  if (opts.now !== undefined) a.push('--now', iso(opts.now));
  const r = spawnSync(path.join(BIN, `tally-${name}`), a, { env: env.env(opts.env || {}), encoding: 'utf8' });
  return parse({ code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr });
}

// The same as a child process (several at once, kill -9, or a fake server in this process).
function spawnJob(env, name, args = [], opts = {}) {
  const a = [...args];
  if (opts.now !== undefined) a.push('--now', iso(opts.now));
  const p = spawn(path.join(BIN, `tally-${name}`), a, { env: env.env(opts.env || {}), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => { stdout += d; });
  p.stderr.on('data', (d) => { stderr += d; });
  p.done = new Promise((resolve) => p.on('close', (code, signal) => resolve(parse({ code, signal, stdout, stderr }))));
  return p;
}

const jobAsync = (env, name, args, opts) => spawnJob(env, name, args, opts).done;

// Run SQL statements against the test database (seeding fixtures).
function seed(env, sql) {
  if (env.pg) {
    env.pg.psql(env.pgDb, `BEGIN;\n${sql}\nCOMMIT;\n`);
    return;
  }
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', env.db], { input: `PRAGMA foreign_keys = ON;\nBEGIN;\n${sql}\nCOMMIT;\n` });
}

// n users "<prefix>0".."<prefix>n-1" with an active subscription each (provider, product,
// period [start, end]) and optional columns: credits_next_at, state, trial_end, grace_until,
// cancel_at_period_end, ext prefix. Returns nothing; ids are found by user.
function seedSubs(env, n, o) {
  const state = o.state || 'active';
  const rank = { incomplete: 1, trialing: 2, active: 3, past_due: 4, paused: 5, canceled: 6, expired: 7 }[state] || 3;
  seed(env, `
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ${n})
INSERT INTO users (id, created_at) SELECT '${o.prefix}' || i, ${o.start} FROM k;
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ${n})
INSERT INTO subscriptions (provider, ext_id, user_id, product_id, state, live, period_start, period_end,
  trial_end, grace_until, cancel_at_period_end, state_at, state_rank, created_at, updated_at, credits_next_at)
SELECT '${o.provider || 'stripe'}', '${o.ext || 'sub_'}${o.prefix}' || i, '${o.prefix}' || i, '${o.product}', '${state}', 1,
  ${o.start}, ${o.end}, ${o.trialEnd || 0}, ${o.graceUntil || 0}, ${o.cancel ? 1 : 0}, ${o.start}, ${rank},
  ${o.start}, ${o.start}, ${o.creditsNextAt || 0} FROM k;`);
}

// n users each with a grant (and its ledger entry) of amount credits expiring at expires.
function seedGrants(env, n, o) {
  seed(env, `
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ${n})
INSERT INTO users (id, created_at) SELECT '${o.prefix}' || i, ${o.at} FROM k;
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ${n})
INSERT INTO grants (user_id, source, amount, remaining, expires_at, created_at)
SELECT '${o.prefix}' || i, 'promo', ${o.amount}, ${o.amount}, ${o.expires}, ${o.at} FROM k;
INSERT INTO ledger (user_id, grant_id, amount, kind, reason, actor, created_at)
SELECT user_id, id, amount, 'grant', 'seeded', 'test', created_at FROM grants WHERE user_id LIKE '${o.prefix}%';`);
}

// A small HTTP sink: records { at, path, method, headers, body, status } of every request;
// answers with the next status planned for its path (plans[path]), else `status` (200), with
// `headers`, after `delayMs`.
class Sink extends FakeServer {
  constructor() {
    super();
    this.plans = {};
    this.status = 200;
    this.headers = {};
    this.delayMs = 0;
  }

  record(req, body) {
    const plan = this.plans[req.url];
    req.status = plan && plan.length ? plan.shift() : this.status;
    return { at: Date.now(), path: req.url, method: req.method, headers: req.headers, body, status: req.status };
  }

  route(req, res) {
    res.writeHead(req.status, { 'Content-Type': 'text/plain', ...this.headers });
    res.end(req.status >= 200 && req.status < 300 ? 'ok' : `failure ${req.status}`);
  }
}

// Wait until check() (sync) is true, polling.
async function until(check, what, ms = 20000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// The end of a job test file: `tally verify` over everything the tests above did, then run
// them against the environment start() makes (stopped after, kept with KEEP=1 on failure).
function suite(start, stop = async () => {}) {
  test('verify is clean after everything above', async (env) => {
    const v = env.verify();
    assert.ok(v.ok, JSON.stringify(v.doc));
  });
  run({
    before: start,
    after: async (env, failed) => {
      await stop();
      await env.stop(failed > 0 && process.env.KEEP);
    },
  });
}

module.exports = { DAY, iso, job, spawnJob, jobAsync, seed, seedSubs, seedGrants, Sink, until, suite };
