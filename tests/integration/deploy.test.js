'use strict';
// deploy/: every configuration rendered with real paths and put to its own
// tool's validation (nginx -t, lighttpd -tt, apache2 -t, caddy validate,
// systemd-analyze verify, crontab -n, shellcheck), each validator first shown
// to refuse a broken copy; the schedule table against the jobs that exist;
// and the Dockerfile read and its build stage replayed (no Docker engine here).
// deploy_servers.test.js runs the web servers; deploy_docker.test.js the image's processes.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync, execFileSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { ROOT, BIN } = require('../lib/harness');
const W = require('../lib/webservers');
const D = require('../lib/dockerfile');

const DEPLOY = path.join(ROOT, 'deploy');

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (is it installed? ./build.sh deps)`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

// Names of jobs/*.c (bin/tally-NAME) and handlers/*.c, as build.sh builds them.
const sources = (dir) => fs.readdirSync(path.join(ROOT, dir)).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();
const JOBS = sources('jobs');
const HANDLERS = sources('handlers');

// deploy/schedules: [{ name, every, args }].
function schedules() {
  return fs.readFileSync(path.join(DEPLOY, 'schedules'), 'utf8').split('\n')
    .map((l) => l.replace(/#.*/, '').trim()).filter(Boolean)
    .map((l) => { const [name, every, ...args] = l.split(/\s+/); return { name, every, args }; });
}

// A bin/ of stub executables, one per name (for job units before the jobs land).
function stubBin(dir, names) {
  fs.mkdirSync(dir, { recursive: true });
  for (const n of names) fs.writeFileSync(path.join(dir, `tally-${n}`), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return dir;
}

// The tool's validation passes on cfg without a warning; and refuses it (or
// warns) once a broken line is appended, so the check is seen to check.
function validates(cfg, broken) {
  const [cmd, args] = cfg.check;
  let r = sh(cmd, args, { env: cfg.env || process.env });
  assert.strictEqual(r.code, 0, `${cmd} ${args.join(' ')}:\n${r.out}`);
  assert.doesNotMatch(r.out, cfg.complaint, `${cmd} ${args.join(' ')} warns:\n${r.out}`);
  const good = fs.readFileSync(cfg.file, 'utf8');
  fs.writeFileSync(cfg.file, `${good}\n${broken}\n`);
  r = sh(cmd, args, { env: cfg.env || process.env });
  fs.writeFileSync(cfg.file, good);
  assert.ok(r.code !== 0 || cfg.complaint.test(r.out), `${cmd} accepted a broken config: the check checks nothing`);
}

test('nginx -t accepts deploy/nginx rendered with real paths', (t) => {
  validates(W.render('nginx', t.run, 18080, path.join(t.dir, 'nginx')), 'no_such_directive on;');
});

test('lighttpd -tt accepts deploy/lighttpd rendered with real paths', (t) => {
  validates(W.render('lighttpd', t.run, 18080, path.join(t.dir, 'lighttpd')), 'no.such-option = "x"');
});

test('apache2 -t accepts deploy/apache/tally.conf (mod_proxy_fcgi) rendered with real paths', (t) => {
  validates(W.render('apache', t.run, 18080, path.join(t.dir, 'apache')), 'NoSuchDirective on');
});

test('apache2 -t accepts deploy/apache/tally-fcgid.conf (mod_fcgid) with the built handlers', (t) => {
  const cfg = W.render('apache-fcgid', t.run, 18080, path.join(t.dir, 'apache-fcgid'), { bin: BIN, etc: t.dir, db: t.dir });
  validates(cfg, 'FcgidCmdOptions /nonexistent/tally-nothing InitialEnv A=b');
});

test('caddy validate accepts deploy/caddy rendered with real paths', (t) => {
  validates(W.render('caddy', t.run, 18080, path.join(t.dir, 'caddy')), 'http://127.0.0.1:1 {\n\tno_such_directive\n}');
});

test('the renderers refuse bad arguments (usage, exit 2)', (t) => {
  for (const s of ['lighttpd', 'apache', 'caddy']) assert.strictEqual(sh(path.join(DEPLOY, s, 'render.sh'), []).code, 2, s);
  assert.strictEqual(sh(path.join(DEPLOY, 'systemd', 'render.sh'), []).code, 2);
  assert.strictEqual(sh(path.join(DEPLOY, 'systemd', 'render.sh'), [path.join(t.dir, 'x'), '--bin', 'relative/bin']).code, 2);
  assert.strictEqual(sh(path.join(DEPLOY, 'cron', 'render.sh'), ['--bogus', 'x']).code, 2);
});

// systemd-analyze verify: exit 0 and nothing said about a tally unit.
function verifyUnits(files) {
  const r = sh('systemd-analyze', ['verify', ...files]);
  const about = r.out.split('\n').filter((l) => /tally/.test(l));
  assert.strictEqual(r.code, 0, r.out);
  assert.deepStrictEqual(about, [], `systemd-analyze verify:\n${r.out}`);
}

function renderUnits(out, bin, extra = []) {
  return execFileSync(path.join(DEPLOY, 'systemd', 'render.sh'), [out, '--bin', bin, ...extra], { encoding: 'utf8' })
    .trim().split('\n');
}

test('systemd: a socket-activated unit pair per handler passes systemd-analyze verify', (t) => {
  const out = path.join(t.dir, 'units');
  renderUnits(out, BIN, ['--db-dir', path.join(t.dir, 'db')]);
  // A unit that cannot start is reported: the check checks.
  const r = sh('systemd-analyze', ['verify', path.join(out, 'tally@no-such-handler.service')]);
  assert.match(r.out, /tally-no-such-handler.*not executable/);
  for (const h of HANDLERS) verifyUnits([path.join(out, `tally@${h}.socket`), path.join(out, `tally@${h}.service`)]);
});

test('systemd: the handler runs FastCGI on the activated socket, as its own user, sandboxed', (t) => {
  const out = path.join(t.dir, 'units-h');
  const db = path.join(t.dir, 'db');
  renderUnits(out, BIN, ['--db-dir', db, '--run-dir', path.join(t.dir, 'run2')]);
  const sock = fs.readFileSync(path.join(out, 'tally@.socket'), 'utf8');
  const svc = fs.readFileSync(path.join(out, 'tally@.service'), 'utf8');
  assert.match(sock, new RegExp(`^ListenStream=${t.dir}/run2/%i\\.sock$`, 'm'));
  assert.match(sock, /^SocketMode=0660$/m);
  assert.match(svc, new RegExp(`^ExecStart=${BIN}/tally-%i$`, 'm'));
  for (const line of ['StandardInput=socket', 'StandardOutput=journal', 'User=tally', 'NoNewPrivileges=yes',
    'ProtectSystem=strict', 'PrivateTmp=yes', `ReadWritePaths=${db}`, 'CapabilityBoundingSet=']) {
    assert.ok(svc.split('\n').includes(line), `tally@.service lacks ${line}`);
  }
  // SQLite writes beside the database (-wal, -shm, tally's .lock): its directory is the writable one.
  const env = /^Environment=TALLY_DB=(\S+)/m.exec(svc);
  assert.strictEqual(path.dirname(env[1]), db);
});

test('systemd: a timer and a one-shot service per scheduled job that exists, none for one that does not', (t) => {
  const sched = schedules();
  const some = sched.filter((_, i) => i % 2 === 0).map((s) => s.name);
  const bin = stubBin(path.join(t.dir, 'stub-bin'), some);
  const out = path.join(t.dir, 'units-j');
  const files = renderUnits(out, bin);
  const jobUnits = files.filter((f) => /^tally-.*\.(service|timer)$/.test(f)).sort();
  assert.deepStrictEqual(jobUnits, some.flatMap((n) => [`tally-${n}.service`, `tally-${n}.timer`]).sort());
  for (const n of some) {
    verifyUnits([path.join(out, `tally-${n}.service`), path.join(out, `tally-${n}.timer`)]);
    const timer = fs.readFileSync(path.join(out, `tally-${n}.timer`), 'utf8');
    const cal = /^OnCalendar=(.*)$/m.exec(timer)[1];
    const r = sh('systemd-analyze', ['calendar', '--iterations=3', cal]);
    assert.strictEqual(r.code, 0, r.out);
    // Consecutive elapses are the schedule's period apart.
    const times = [...r.out.matchAll(/(?:Next elapse|Iter\. #\d+):\s+\w+ (\S+ \S+)/g)].map((m) => Date.parse(`${m[1].replace(' ', 'T')}Z`));
    const every = sched.find((s) => s.name === n).every;
    const ms = { m: 60e3, h: 3600e3, d: 86400e3 }[every.slice(-1)] * Number(every.slice(0, -1));
    assert.strictEqual(times[1] - times[0], ms, `${n}: ${cal} is not every ${every}: ${r.out}`);
    assert.match(fs.readFileSync(path.join(out, `tally-${n}.service`), 'utf8'), /^Type=oneshot$/m);
  }
  // A job gone: its units go with it on the next render; nothing else of OUT_DIR is touched.
  fs.writeFileSync(path.join(out, 'tally-by-hand.service'), '[Service]\nExecStart=/bin/true\n');
  fs.unlinkSync(path.join(bin, `tally-${some[0]}`));
  renderUnits(out, bin);
  assert.ok(!fs.existsSync(path.join(out, `tally-${some[0]}.timer`)));
  assert.ok(!fs.existsSync(path.join(out, `tally-${some[0]}.service`)));
  assert.ok(fs.existsSync(path.join(out, 'tally-by-hand.service')), 'a unit it did not render is kept');
});

test('systemd and cron: with the built executables, exactly the jobs of jobs/*.c are scheduled', (t) => {
  const files = renderUnits(path.join(t.dir, 'units-real'), BIN);
  const timers = files.filter((f) => f.endsWith('.timer')).map((f) => f.slice(6, -6)).sort();
  assert.deepStrictEqual(timers, JOBS);
  const cron = execFileSync(path.join(DEPLOY, 'cron', 'render.sh'), ['--bin', BIN], { encoding: 'utf8' });
  const jobs = [...cron.matchAll(/\/tally-([a-z0-9-]+) /g)].map((m) => m[1]).sort();
  assert.deepStrictEqual(jobs, JOBS);
});

test('every job of jobs/*.c has a line in deploy/schedules, and the table is well formed', () => {
  const names = schedules().map((s) => s.name);
  for (const j of JOBS) assert.ok(names.includes(j), `jobs/${j}.c has no line in deploy/schedules`);
  assert.strictEqual(new Set(names).size, names.length, 'a job named twice');
  for (const s of schedules()) assert.match(s.every, /^([1-9][0-9]?[mh]|1d)$/, s.name);
});

test('a malformed schedule line stops every renderer (exit 2), even for a job not built', (t) => {
  const bad = path.join(t.dir, 'bad-schedules');
  fs.writeFileSync(bad, 'deliver 1m\nnot-built 7m\n');
  const bin = stubBin(path.join(t.dir, 'stub-bin2'), ['deliver']);
  assert.strictEqual(sh(path.join(DEPLOY, 'systemd', 'render.sh'), [path.join(t.dir, 'u'), '--bin', bin, '--schedules', bad]).code, 2);
  assert.strictEqual(sh(path.join(DEPLOY, 'cron', 'render.sh'), ['--bin', bin, '--schedules', bad]).code, 2);
  assert.strictEqual(sh(path.join(DEPLOY, 'docker', 'jobs.sh'), ['--bin', bin, '--schedules', bad, '--once', '0']).code, 2);
});

test('cron: the rendered crontab passes crontab -n, one line per job that exists, no flock', (t) => {
  const sched = schedules();
  const bin = stubBin(path.join(t.dir, 'stub-bin3'), sched.slice(1).map((s) => s.name));
  const envFile = path.join(t.dir, 'tally.env');
  fs.writeFileSync(envFile, '# paths only\nSTRIPE_API_KEY_FILE=/etc/tally/secrets/stripe-api-key\n');
  const text = execFileSync(path.join(DEPLOY, 'cron', 'render.sh'), ['--bin', bin, '--env-file', envFile, '--log-dir', t.dir], { encoding: 'utf8' });
  const file = path.join(t.dir, 'tally.crontab');
  fs.writeFileSync(file, text);
  let r = sh('crontab', ['-n', file]);
  assert.strictEqual(r.code, 0, r.out);
  fs.writeFileSync(`${file}.bad`, `${text}* * * * /bin/true\n`);
  r = sh('crontab', ['-n', `${file}.bad`]);
  assert.notStrictEqual(r.code, 0, 'crontab -n accepted a line with four time fields');
  const lines = text.split('\n').filter((l) => /^[*0-9]/.test(l));
  assert.strictEqual(lines.length, sched.length - 1);
  assert.ok(!text.includes(`tally-${sched[0].name} `), 'a line for a job that does not exist');
  assert.ok(!/flock/.test(text));
  assert.match(text, /^STRIPE_API_KEY_FILE=\/etc\/tally\/secrets\/stripe-api-key$/m);
  assert.match(text, /^TALLY_DB=\/var\/lib\/tally\/tally\.db$/m);
  const every = { '1m': '* * * * *', '15m': '*/15 * * * *', '1h': '0 * * * *', '6h': '0 */6 * * *', '1d': '0 0 * * *' };
  for (const s of sched.slice(1)) {
    const l = lines.find((x) => x.includes(`/tally-${s.name} `) || x.includes(`/tally-${s.name}\t`));
    assert.ok(l, s.name);
    if (every[s.every]) assert.ok(l.startsWith(`${every[s.every]} ${bin}/tally-${s.name}`), l);
    assert.ok(l.endsWith(`>>${t.dir}/${s.name}.log 2>&1`), l);
  }
});

test('the shell scripts of deploy/ pass bash -n and shellcheck', () => {
  const scripts = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else if (e.name.endsWith('.sh')) scripts.push(p);
    }
  };
  walk(DEPLOY);
  assert.ok(scripts.length >= 8, scripts.join(' '));
  for (const s of scripts) {
    const shell = fs.readFileSync(s, 'utf8').startsWith('#!/bin/sh') ? 'sh' : 'bash';
    let r = sh(shell, ['-n', s]);
    assert.strictEqual(r.code, 0, `${shell} -n ${s}: ${r.out}`);
    r = sh('shellcheck', ['-x', path.relative(ROOT, s)], { cwd: ROOT });
    assert.strictEqual(r.code, 0, `shellcheck ${s}:\n${r.out}`);
    if (!s.endsWith('lib.sh')) assert.ok(fs.statSync(s).mode & 0o100, `${s} is not executable`);
  }
});

test('Dockerfile: a debian:12 build stage running ./build.sh build, a debian:12-slim runtime as non-root', () => {
  const st = D.stages();
  assert.strictEqual(st.length, 2);
  assert.deepStrictEqual([st[0].from, st[0].as, st[1].from], ['debian:12', 'build', 'debian:12-slim']);
  assert.ok(st[0].ins.some((i) => i.op === 'RUN' && /\.\/build\.sh build\b/.test(i.args)));
  const users = st[1].ins.filter((i) => i.op === 'USER');
  assert.strictEqual(users.length, 1);
  assert.ok(!/^(root|0)(:|$)/.test(users[0].args), `runs as ${users[0].args}`);
  // The user it names is created in the image.
  const name = users[0].args.split(':')[0];
  assert.ok(st[1].ins.some((i) => i.op === 'RUN' && new RegExp(`useradd .*\\b${name}\\b`).test(i.args)), `no useradd of ${name}`);
  const ep = JSON.parse(st[1].ins.find((i) => i.op === 'ENTRYPOINT').args);
  const copied = D.copies(st[1]).map((c) => c.dest);
  for (const p of ep.filter((x) => x.startsWith('/opt/tally/'))) {
    assert.ok(copied.some((d) => p.startsWith(d)), `${p} is not copied into the image`);
  }
  // No compiler in the runtime.
  assert.ok(!D.aptPackages(st[1]).some((p) => /^(gcc|make|.*-dev)$/.test(p)), D.aptPackages(st[1]).join(' '));
});

test('Dockerfile: the build stage installs what build.sh builds with, and its COPYs suffice to build every executable', (t) => {
  const st = D.stages();
  const buildSh = fs.readFileSync(path.join(ROOT, 'build.sh'), 'utf8');
  const apt = buildSh.match(/APT_PACKAGES=\(([^)]*)\)/)[1].trim().split(/\s+/);
  const build = D.aptPackages(st[0]);
  for (const p of build) assert.ok(apt.includes(p), `${p} is not in build.sh APT_PACKAGES`);
  // What ./build.sh build links with: the pkg-config modules of PKGS and the -l libraries
  // of the executables, each from the -dev package that ships its .pc file or .so.
  const owner = (file) => {
    // The link itself first (libfcgi.so is libfcgi-dev's; what it points to, the runtime's).
    const p = path.resolve(file);
    for (const f of [p, p.replace(/^\/usr/, ''), `/usr${p}`]) {
      const r = sh('dpkg', ['-S', f]);
      if (r.code === 0) return r.out.split(':')[0];
    }
    throw new Error(`no package owns ${file}`);
  };
  const need = new Set(['gcc', 'pkg-config']);
  for (const m of /^PKGS="([^"]*)"/m.exec(buildSh)[1].split(/\s+/)) {
    need.add(owner(execFileSync('pkg-config', ['--path', m], { encoding: 'utf8' }).trim()));
  }
  for (const [, l] of /ldlibs="[^"]*"/.exec(buildSh)[0].matchAll(/(?:^|\s)-l([a-z0-9_]+)/g)) {
    // gcc prints the bare name of what it cannot find (libpthread is only an archive now).
    const file = ['so', 'a'].map((x) => execFileSync('gcc', [`-print-file-name=lib${l}.${x}`], { encoding: 'utf8' }).trim())
      .find((f) => f.startsWith('/'));
    assert.ok(file, `-l${l}: gcc finds no lib${l}`);
    need.add(owner(file));
  }
  assert.ok(need.has('libsqlite3-dev') && need.has('libfcgi-dev'), [...need].join(' '));
  for (const p of need) assert.ok(build.includes(p), `the build stage lacks ${p}`);
  // Replay the stage here: its COPYs into an empty directory, then its RUN commands but apt-get.
  const ctx = path.join(t.dir, 'docker-build');
  fs.mkdirSync(ctx);
  for (const c of D.copies(st[0])) {
    assert.strictEqual(c.from, null);
    for (const src of c.srcs) {
      fs.cpSync(path.join(ROOT, src), path.join(ctx, c.dest.endsWith('/') && !src.endsWith('/') ? path.join(c.dest, path.basename(src)) : c.dest), { recursive: true });
    }
  }
  for (const i of st[0].ins.filter((x) => x.op === 'RUN' && !/apt-get/.test(x.args))) {
    const r = sh('bash', ['-euo', 'pipefail', '-c', i.args], { cwd: ctx, env: { ...process.env, CC: process.env.CC || 'gcc' } });
    assert.strictEqual(r.code, 0, `RUN ${i.args}:\n${r.out}`);
  }
  const expected = ['tally', ...HANDLERS.map((h) => `tally-${h}`), ...JOBS.map((j) => `tally-${j}`)].sort();
  assert.deepStrictEqual(fs.readdirSync(path.join(ctx, 'bin')).sort(), expected);
  assert.deepStrictEqual(fs.readFileSync(path.join(ctx, 'handlers.list'), 'utf8').trim().split('\n'), HANDLERS);
  // The runtime takes bin/ whole from there, and handlers.list.
  const from = D.copies(st[1]).filter((c) => c.from === 'build');
  assert.ok(from.some((c) => c.srcs.includes('/src/bin/') && c.dest === '/opt/tally/bin/'), JSON.stringify(from));
  assert.ok(from.some((c) => c.srcs.includes('/src/handlers.list')));
});

test('Dockerfile: the runtime installs the library package of every library the executables link', () => {
  const runtime = D.aptPackages(D.stages()[1]);
  // The release build, as in the image (the ASan one links the sanitizers too).
  const bin = path.join(ROOT, 'bin');
  const needed = new Set();
  for (const f of fs.readdirSync(bin)) {
    const out = execFileSync('readelf', ['-d', path.join(bin, f)], { encoding: 'utf8' });
    for (const m of out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)) needed.add(m[1]);
  }
  assert.ok(needed.has('libsqlite3.so.0'), [...needed].join(' '));
  for (const lib of needed) {
    const where = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n').find((l) => l.trim().startsWith(`${lib} `));
    assert.ok(where, `${lib} not found by ldconfig`);
    const file = fs.realpathSync(where.split('=>')[1].trim());
    let owner = sh('dpkg', ['-S', file]);
    if (owner.code !== 0) owner = sh('dpkg', ['-S', file.replace(/^\/usr/, '')]);
    assert.strictEqual(owner.code, 0, `${file}: ${owner.out}`);
    const pkg = owner.out.split(':')[0];
    if (pkg === 'libc6') continue; // in every Debian image
    assert.ok(runtime.includes(pkg), `${lib} comes from ${pkg}, which the runtime stage does not install`);
  }
  for (const p of ['nginx', 'tini', 'ca-certificates']) assert.ok(runtime.includes(p), p);
  // Every file the runtime copies from the context exists.
  for (const c of D.copies(D.stages()[1]).filter((x) => x.from === null)) {
    for (const s of c.srcs) assert.ok(fs.existsSync(path.join(ROOT, s)), s);
  }
});

test('Dockerfile: its .dockerignore lets in what the stages copy and keeps var/, bin/, build/ and tests/ out', () => {
  const rules = fs.readFileSync(`${D.FILE}.dockerignore`, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.strictEqual(rules[0], '*', 'an allowlist: everything out, then what is needed');
  const allowed = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, ''));
  const excluded = rules.slice(1).filter((r) => !r.startsWith('!'));
  for (const st of D.stages()) {
    for (const c of D.copies(st).filter((x) => x.from === null)) {
      for (const s of c.srcs) {
        const clean = s.replace(/\/$/, '');
        assert.ok(allowed.some((a) => clean === a || clean.startsWith(`${a}/`)), `${s} is not in the build context`);
        assert.ok(!excluded.includes(clean), `${s} is excluded`);
      }
    }
  }
  for (const d of ['var', 'bin', 'build', 'tests', '.git']) assert.ok(!allowed.some((a) => a === d || a.startsWith(`${d}/`)), d);
});

test('Litestream replicates the database the systemd units and the crontab use', () => {
  const yml = fs.readFileSync(path.join(DEPLOY, 'litestream', 'litestream.yml'), 'utf8');
  const p = /^\s+- path: (\S+)$/m.exec(yml)[1];
  assert.strictEqual(p, '/var/lib/tally/tally.db');
  const cron = execFileSync(path.join(DEPLOY, 'cron', 'render.sh'), ['--bin', BIN], { encoding: 'utf8' });
  assert.match(cron, new RegExp(`^TALLY_DB=${p}$`, 'm'));
  assert.ok(!/secret-access-key|access-key-id/.test(yml.replace(/#.*$/gm, '')), 'credentials belong in the environment');
});

run({
  before: () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-deploy-'));
    const r = path.join(dir, 'run');
    fs.mkdirSync(r);
    return { dir, run: r };
  },
  after: (t, failed) => {
    if (!(failed && process.env.KEEP)) fs.rmSync(t.dir, { recursive: true, force: true });
  },
});
