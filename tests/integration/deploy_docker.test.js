'use strict';
// The container's processes without a Docker engine: deploy/docker/entrypoint.sh
// run here on exactly the files deploy/docker/Dockerfile copies into the image
// (laid out under a temp dir standing for /opt/tally), with the built
// executables: migrate, every handler behind nginx, the job runner; and the
// runner's choice of jobs per minute (deploy/docker/jobs.sh --once).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync, execFileSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { Env, ROOT, BIN, DEFAULT_CATALOG, freePort, waitFor, sleep } = require('../lib/harness');
const S = require('../lib/stripe-events');
const D = require('../lib/dockerfile');

const HANDLERS = fs.readdirSync(path.join(ROOT, 'handlers')).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();

// /opt/tally of the image under dir: the runtime stage's COPYs, bin/ from the build.
function layout(dir) {
  const home = path.join(dir, 'opt-tally');
  const [, runtime] = D.stages();
  for (const c of D.copies(runtime)) {
    if (!c.dest.startsWith('/opt/tally/') && c.dest !== '/opt/tally') continue;
    const dest = path.join(home, c.dest.slice('/opt/tally/'.length));
    fs.mkdirSync(path.dirname(dest.replace(/\/$/, '')), { recursive: true });
    if (c.from === 'build') {
      if (c.srcs[0] === '/src/bin/') fs.symlinkSync(BIN, dest.replace(/\/$/, ''));
      else if (c.srcs[0] === '/src/handlers.list') fs.writeFileSync(dest, `${HANDLERS.join('\n')}\n`);
      else throw new Error(`unknown COPY --from=build ${c.srcs}`);
      continue;
    }
    for (const s of c.srcs) {
      const target = c.dest.endsWith('/') && !s.endsWith('/') ? path.join(dest, path.basename(s)) : dest;
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.cpSync(path.join(ROOT, s), target, { recursive: true });
    }
  }
  return home;
}

function children(pid) {
  const r = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map((l) => { const m = /^\s*(\d+)\s+(.*)$/.exec(l); return { pid: Number(m[1]), args: m[2] }; });
}

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (_) { return false; } };

// Start the entrypoint as the image would, in its own directory; resolves once nginx answers.
async function startContainer(t, name) {
  const dir = path.join(t.dir, name);
  fs.mkdirSync(dir);
  const c = {
    dir, port: await freePort(), db: path.join(dir, 'tally.db'), configPath: path.join(dir, 'tally.json'),
    secret: `whsec_docker_${name}`, opts: { env: {} },
  };
  fs.writeFileSync(c.configPath, JSON.stringify(DEFAULT_CATALOG));
  const log = fs.openSync(path.join(dir, 'container.log'), 'a');
  c.proc = spawn(path.join(t.home, 'deploy', 'docker', 'entrypoint.sh'), [], {
    env: {
      PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS || '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '',
      TALLY_HOME: t.home, TALLY_RUN_DIR: path.join(dir, 'run'), NGINX_DIR: path.join(dir, 'nginx'),
      TALLY_PORT: String(c.port), NGINX_WORKERS: '1', TALLY_DB: c.db, TALLY_CONFIG: c.configPath,
      STRIPE_WEBHOOK_SECRET: c.secret,
    },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  c.log = () => fs.readFileSync(path.join(dir, 'container.log'), 'utf8').slice(-3000);
  c.exited = new Promise((r) => c.proc.once('exit', (code, sig) => r({ code, sig })));
  // The harness's request, user and stripe, pointed at this container.
  c.v = Object.assign(Object.create(Env.prototype), c);
  t.containers.push(c);
  await waitFor(async () => c.proc.exitCode !== null || (await c.v.request('GET', '/nothing').catch(() => ({ status: 0 }))).status === 404,
    `the container on ${c.port}`, 15000);
  if (c.proc.exitCode !== null) throw new Error(`entrypoint exited ${c.proc.exitCode}: ${c.log()}`);
  return c;
}

test('entrypoint: on the image\'s files it migrates, serves every handler behind nginx, and applies a signed event', async (t) => {
  const c = t.c1;
  await waitFor(() => HANDLERS.every((h) => fs.existsSync(path.join(c.dir, 'run', `${h}.sock`))),
    `a socket per handler (${HANDLERS.join(', ')})`);
  const evt = S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: 'u_docker', metadata: { product: 'credits_500' },
  }));
  const r = await c.v.stripe(evt);
  assert.strictEqual(r.status, 200, `${r.text} ${c.log()}`);
  assert.strictEqual(c.v.user('u_docker').balance.available, 500);
  const kids = children(c.proc.pid).map((k) => k.args);
  for (const h of HANDLERS) assert.ok(kids.some((a) => a.includes(`tally-${h} --listen`)), `tally-${h}: ${kids.join(' | ')}`);
  assert.ok(kids.some((a) => a.startsWith('nginx')), kids.join(' | '));
  assert.ok(kids.some((a) => a.includes('jobs.sh')), kids.join(' | '));
});

test('entrypoint: SIGTERM (docker stop) stops every process it started and exits 0', async (t) => {
  const c = t.c1;
  const kids = children(c.proc.pid);
  assert.ok(kids.length >= HANDLERS.length + 2, JSON.stringify(kids));
  c.proc.kill('SIGTERM');
  const end = await Promise.race([c.exited, sleep(10000).then(() => null)]);
  assert.ok(end, 'still running 10 s after SIGTERM');
  assert.strictEqual(end.code, 0, c.log());
  await waitFor(() => kids.every((k) => !alive(k.pid)), 'its processes to end', 5000);
});

test('entrypoint: when a handler dies the others are stopped and it exits 1 (the container restarts)', async (t) => {
  const c = await startContainer(t, 'c2');
  const kids = children(c.proc.pid);
  const stripe = kids.find((k) => k.args.includes('tally-stripe --listen'));
  assert.ok(stripe, JSON.stringify(kids));
  process.kill(stripe.pid, 'SIGKILL');
  const end = await Promise.race([c.exited, sleep(10000).then(() => null)]);
  assert.ok(end, 'still running 10 s after a handler died');
  assert.strictEqual(end.code, 1, c.log());
  await waitFor(() => kids.every((k) => !alive(k.pid)), 'the other processes to end', 5000);
});

// The jobs of a schedules file that jobs.sh --once starts at a time, read from what the stubs record.
function runOnce(t, iso, names, table) {
  const bin = path.join(t.dir, `bin-${names.length}`);
  const ran = path.join(t.dir, 'ran');
  fs.mkdirSync(bin, { recursive: true });
  for (const n of names) {
    fs.writeFileSync(path.join(bin, `tally-${n}`), `#!/bin/sh\necho "${n} $*" >>"${ran}"\n`, { mode: 0o755 });
  }
  fs.rmSync(ran, { force: true });
  const args = ['--bin', bin, '--once', String(Date.parse(iso) / 1000)];
  if (table) args.push('--schedules', table);
  execFileSync(path.join(t.home, 'deploy', 'docker', 'jobs.sh'), args);
  return fs.existsSync(ran) ? fs.readFileSync(ran, 'utf8').trim().split('\n').sort() : [];
}

test('job runner: at each minute it starts the jobs whose period divides it, once, and only those built', (t) => {
  const table = fs.readFileSync(path.join(t.home, 'deploy', 'schedules'), 'utf8').split('\n')
    .map((l) => l.replace(/#.*/, '').trim()).filter(Boolean).map((l) => l.split(/\s+/));
  const minutes = (e) => Number(e.slice(0, -1)) * { m: 1, h: 60, d: 1440 }[e.slice(-1)];
  const built = table.slice(1).map((x) => x[0]); // the first job of the table is "not built"
  for (const iso of ['2026-01-01T00:00:00Z', '2026-01-01T06:00:00Z', '2026-01-01T06:15:00Z', '2026-01-01T06:07:00Z']) {
    const m = Date.parse(iso) / 60000;
    const due = table.filter(([n, e]) => built.includes(n) && m % minutes(e) === 0).map(([n]) => n).sort();
    assert.deepStrictEqual(runOnce(t, iso, built).map((l) => l.trim()), due, iso);
  }
  // ARGS of a line reach the job as they are.
  const custom = path.join(t.dir, 'schedules-args');
  fs.writeFileSync(custom, 'sweep 5m --limit 100 --dry-run\n');
  assert.deepStrictEqual(runOnce(t, '2026-01-01T06:05:00Z', ['sweep'], custom), ['sweep --limit 100 --dry-run']);
  assert.deepStrictEqual(runOnce(t, '2026-01-01T06:06:00Z', ['sweep'], custom), []);
});

run({
  before: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-docker-'));
    const t = { dir, containers: [] };
    try {
      t.home = layout(dir);
      t.c1 = await startContainer(t, 'c1');
    } catch (e) {
      await stopContainers(t);
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return t;
  },
  after: async (t, failed) => {
    await stopContainers(t);
    if (!(failed && process.env.KEEP)) fs.rmSync(t.dir, { recursive: true, force: true });
  },
});

async function stopContainers(t) {
  for (const c of t.containers) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) {
      c.proc.kill('SIGTERM');
      await Promise.race([c.exited, sleep(5000)]);
    }
  }
}
