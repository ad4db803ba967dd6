'use strict';
// The integration harness: a real SQLite file (or, with TALLY_TEST_ENGINE=pg,
// a database of the test process's own PostgreSQL server, tests/tools/pg.js), the real handler binaries as
// FastCGI processes, a real nginx in front (config rendered from deploy/nginx/),
// real HTTP on 127.0.0.1. Servers are stopped by PID.
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const net = require('net');
const { spawn, spawnSync, execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.TALLY_BIN || path.join(ROOT, 'bin');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The storage engine the tests run on: sqlite (a file per Env) or pg (a
// database per Env, on one server shared by the test process, started at
// the first Env and stopped by pg.js when the process exits).
const ENGINE = process.env.TALLY_TEST_ENGINE === 'pg' ? 'pg' : 'sqlite';
let pgServer = null;

async function pgDatabase() {
  if (!pgServer) pgServer = require('../tools/pg').start();
  const srv = await pgServer;
  return { srv, name: srv.createDb() };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(check, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

const DEFAULT_CATALOG = {
  stripe: { test_mode: true },
  policy: { grace_period: '7d', renewal_leeway: '1d' },
  products: {
    pro_monthly: {
      kind: 'subscription', entitlements: ['pro'], credits: 1000, trial_credits: 100,
      match: { stripe: ['price_pro_monthly'] },
    },
    pro_yearly: {
      kind: 'subscription', entitlements: ['pro'], credits: 1000,
      match: { stripe: ['price_pro_yearly'] },
    },
    team_monthly: {
      kind: 'subscription', entitlements: ['pro', 'team'], credits: 5000,
      match: { stripe: ['price_team_monthly'] },
    },
    rollover_monthly: {
      kind: 'subscription', entitlements: ['basic'], credits: 300, credit_policy: 'accumulate',
      match: { stripe: ['price_rollover'] },
    },
    credits_500: { kind: 'pack', credits: 500, match: { stripe: ['price_credits_500'] } },
  },
};

class Env {
  constructor(opts) {
    this.opts = opts;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-test-'));
    this.runDir = path.join(this.dir, 'run');
    this.db = path.join(this.dir, 'tally.db');
    this.configPath = path.join(this.dir, 'tally.json');
    this.secret = opts.secret === undefined ? 'whsec_test_' + Math.random().toString(36).slice(2) : opts.secret;
    this.handlers = {};
    this.procs = [];
    fs.mkdirSync(this.runDir);
  }

  env(extra = {}) {
    const e = {
      PATH: process.env.PATH, TALLY_DB: this.db, TALLY_CONFIG: this.configPath,
      ASAN_OPTIONS: process.env.ASAN_OPTIONS || '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '',
      ...this.opts.env, ...extra,
    };
    if (this.secret) e.STRIPE_WEBHOOK_SECRET = this.secret;
    for (const k of Object.keys(e)) if (e[k] === undefined || e[k] === null) delete e[k];
    return e;
  }

  writeConfig(cfg) {
    this.config = cfg;
    fs.writeFileSync(this.configPath, JSON.stringify(cfg, null, 2));
  }

  static async start(opts = {}) {
    const env = new Env(opts);
    if (ENGINE === 'pg') await env.usePostgres();
    env.writeConfig(opts.config || DEFAULT_CATALOG);
    const m = env.tally(['migrate']);
    if (m.code !== 0) throw new Error(`migrate failed: ${m.stderr}`);
    for (const h of opts.handlers || ['stripe']) await env.startHandler(h);
    await env.startNginx();
    return env;
  }

  async startHandler(name) {
    const sock = path.join(this.runDir, `${name}.sock`);
    try { fs.unlinkSync(sock); } catch (_) { /* not there */ }
    const log = fs.openSync(path.join(this.dir, `${name}.log`), 'a');
    const args = ['--listen', sock];
    if (this.opts.processes) args.push('--processes', String(this.opts.processes));
    const p = spawn(path.join(BIN, `tally-${name}`), args, {
      env: this.env(), stdio: ['ignore', 'ignore', log],
      ...(this.opts.uid !== undefined ? { uid: this.opts.uid, gid: this.opts.gid } : {}),
    });
    fs.closeSync(log);
    this.handlers[name] = p;
    this.procs.push(p);
    await waitFor(() => fs.existsSync(sock) || p.exitCode !== null, `${name} socket`);
    if (p.exitCode !== null) throw new Error(`tally-${name} exited: ${this.log(name)}`);
    return p;
  }

  log(name) {
    try { return fs.readFileSync(path.join(this.dir, `${name}.log`), 'utf8'); } catch (_) { return ''; }
  }

  async killHandler(name, signal = 'SIGKILL') {
    const p = this.handlers[name];
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await gone;
  }

  async startNginx() {
    this.port = await freePort();
    const ngdir = path.join(this.dir, 'nginx');
    fs.mkdirSync(ngdir, { recursive: true });
    const conf = execFileSync(path.join(ROOT, 'deploy/nginx/render.sh'), [this.runDir, String(this.port), ngdir, '1']);
    fs.writeFileSync(path.join(ngdir, 'nginx.conf'), conf);
    const p = spawn('nginx', ['-p', ngdir, '-c', path.join(ngdir, 'nginx.conf'), '-e', path.join(ngdir, 'error.log')], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.nginx = p;
    this.procs.push(p);
    await waitFor(() => canConnect(this.port), 'nginx');
  }

  request(method, urlPath, body, headers = {}) {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
      const h = { ...headers };
      if (data !== undefined && h['Content-Length'] === undefined) h['Content-Length'] = data.length;
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path: urlPath, headers: h, agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      });
      req.on('error', reject);
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  // POST a Stripe event signed with Stripe's SDK. opts: secret, timestamp, header (raw override), body (raw override).
  stripe(evt, opts = {}) {
    const { sign } = require('./stripe-events');
    const body = opts.body !== undefined ? opts.body : JSON.stringify(evt);
    const headers = { 'Content-Type': 'application/json' };
    const header = opts.header !== undefined ? opts.header
      : sign(body, opts.secret || this.secret, opts.timestamp);
    if (header !== null) headers['Stripe-Signature'] = header;
    return this.request(opts.method || 'POST', '/webhooks/stripe', body, headers);
  }

  tally(args, extraEnv = {}) {
    const r = spawnSync(path.join(BIN, 'tally'), args, { env: this.env(extraEnv), encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  // The same without blocking this process (for tests whose fake servers run in it).
  tallyAsync(args, extraEnv = {}) {
    return new Promise((resolve, reject) => {
      const p = spawn(path.join(BIN, 'tally'), args, { env: this.env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      p.on('error', reject);
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  tallyJson(args) {
    const r = this.tally([...args, '--json']);
    if (r.code !== 0) throw new Error(`tally ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  user(id) {
    const r = this.tally(['user', 'show', id, '--json']);
    if (r.code !== 0) return null;
    return JSON.parse(r.stdout);
  }

  // TALLY_DB names a new database of the process's PostgreSQL server instead of a file.
  async usePostgres() {
    const { srv, name } = await pgDatabase();
    this.pg = srv;
    this.pgDb = name;
    this.db = srv.uri(name);
  }

  // Rows of a query as objects (sqlite3 -json's shape; on PostgreSQL, json_agg's).
  sql(query) {
    if (this.pg) {
      const q = query.trim().replace(/;$/, '');
      if (!/^(select|with)\b/i.test(q)) {
        this.pg.psql(this.pgDb, q);
        return [];
      }
      return JSON.parse(this.pg.psql(this.pgDb, `SELECT coalesce(json_agg(q), '[]'::json) FROM (${q}) q`));
    }
    const out = execFileSync('sqlite3', ['-cmd', '.timeout 10000', '-json', this.db, query], { encoding: 'utf8' });
    return out.trim() === '' ? [] : JSON.parse(out);
  }

  // Row counts of every table: "changes nothing" is checked as equality of two of these.
  counts() {
    const tables = ['users', 'links', 'inbox', 'subscriptions', 'entitlements', 'payments', 'payment_keys', 'grants', 'ledger', 'audit', 'outbox'];
    const q = tables.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM ${t}`).join(' UNION ALL ');
    const out = {};
    for (const r of this.sql(q)) out[r.t] = r.n;
    return out;
  }

  verify() {
    const r = this.tally(['verify', '--json']);
    return { ok: r.code === 0, doc: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr };
  }

  async stop(keep) {
    for (const p of this.procs) {
      if (p.exitCode === null && p.signalCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([gone, sleep(3000)]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }
    }
    if (!keep && !process.env.TALLY_TEST_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// Stop a process group we started (detached) and wait for its leader.
async function stopGroup(p) {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  try { process.kill(-p.pid, 'SIGTERM'); } catch (_) { /* gone */ }
  await Promise.race([gone, sleep(5000)]);
  if (p.exitCode === null && p.signalCode === null) {
    try { process.kill(-p.pid, 'SIGKILL'); } catch (_) { /* gone */ }
    await gone;
  }
}

module.exports = { Env, DEFAULT_CATALOG, ROOT, BIN, ENGINE, sleep, waitFor, freePort, stopGroup };
