'use strict';
// Web servers in front of tally's FastCGI sockets, for the deploy tests: each
// configuration rendered by its own deploy/<server>/render.sh, started on a
// free port of 127.0.0.1 with every file of it in a temp dir (no root-only
// path, no default site), and stopped by PID.
const fs = require('fs');
const path = require('path');
const net = require('net');
const { spawn, execFileSync } = require('child_process');
const { ROOT, freePort, waitFor, sleep } = require('./harness');

const TOOLS = process.env.TALLY_TOOLS || path.join(ROOT, 'build', 'release', 'tests');
const IS_ROOT = process.getuid() === 0;

// Every endpoint of deploy/nginx/tally.conf, the reference the other servers
// must match: { location, exact, socket, path (a request path it takes), method }.
function nginxEndpoints() {
  const conf = fs.readFileSync(path.join(ROOT, 'deploy/nginx/tally.conf'), 'utf8');
  const re = /location\s+(=\s+)?(\S+)\s*\{[^}]*?fastcgi_pass\s+unix:\/run\/tally\/([a-z0-9-]+)\.sock;/g;
  const out = [];
  let m;
  while ((m = re.exec(conf)) !== null) {
    const [, exact, location, socket] = m;
    let p = location;
    if (!exact) p = location.endsWith('/') ? `${location}users/u_1` : `${location}/users/u_1`;
    out.push({ location, exact: !!exact, socket, path: p, method: location.startsWith('/webhooks/') ? 'POST' : 'GET' });
  }
  if (out.length < 3) throw new Error('could not read the endpoints of deploy/nginx/tally.conf');
  return out;
}

// Apache, started as root, serves as www-data: that user's ids, or null when not root.
function wwwData() {
  if (!IS_ROOT) return null;
  const uid = Number(execFileSync('id', ['-u', 'www-data'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'www-data'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

// Let www-data (as root) reach dir and the sockets in it: traverse, and the sockets' group.
function openToWebUser(dir) {
  const w = wwwData();
  if (!w) return;
  fs.chmodSync(dir, 0o755);
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith('.sock')) fs.chownSync(path.join(dir, f), 0, w.gid);
  }
}

function chownTree(dir, w) {
  fs.chownSync(dir, w.uid, w.gid);
  for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, f.name);
    if (f.isDirectory()) chownTree(p, w); else if (!f.isSymbolicLink()) fs.chownSync(p, w.uid, w.gid);
  }
}

// The fcgi_echo tool on a socket per name in runDir (tests/tools/fcgi_echo.c).
async function startEcho(runDir, names) {
  const socks = names.map((n) => path.join(runDir, `${n}.sock`));
  const p = spawn(path.join(TOOLS, 'fcgi_echo'), socks, { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(() => p.exitCode !== null || socks.every((s) => fs.existsSync(s)), 'fcgi_echo sockets');
  if (p.exitCode !== null) throw new Error(`fcgi_echo exited with ${p.exitCode}`);
  return p;
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function stopProc(p) {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([gone, sleep(5000)]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

// Render KIND's configuration into dir: { file, check (the tool's own validation),
// complaint (what in its output is a warning), run }.
// kind: nginx, lighttpd, apache, apache-fcgid (opts: bin, etc, db), caddy.
function render(kind, runDir, port, dir, opts = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const r = (script, args) => execFileSync(path.join(ROOT, 'deploy', script), args, { encoding: 'utf8' });
  const env = { ...process.env, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, HOME: dir };
  let file;
  switch (kind) {
    case 'nginx':
      file = path.join(dir, 'nginx.conf');
      fs.writeFileSync(file, r('nginx/render.sh', [runDir, String(port), dir, '1']));
      return {
        file,
        check: ['nginx', ['-t', '-p', dir, '-c', file, '-e', path.join(dir, 'error.log')]],
        complaint: /\[(warn|emerg|alert|crit)\]/,
        run: ['nginx', ['-p', dir, '-c', file, '-e', path.join(dir, 'error.log')]],
      };
    case 'lighttpd':
      file = path.join(dir, 'lighttpd.conf');
      fs.writeFileSync(file, r('lighttpd/render.sh', [runDir, String(port), dir]));
      // lighttpd -tt exits 0 on an unknown key, with a WARNING: a typo must fail too.
      return { file, check: ['lighttpd', ['-tt', '-f', file]], complaint: /WARNING|ERROR/, run: ['lighttpd', ['-D', '-f', file]] };
    case 'apache':
    case 'apache-fcgid': {
      file = path.join(dir, 'apache2.conf');
      const extra = kind === 'apache-fcgid' ? ['--fcgid', opts.bin, opts.etc, opts.db] : [];
      fs.writeFileSync(file, r('apache/render.sh', [runDir, String(port), dir, ...extra]));
      const w = wwwData();
      if (w) chownTree(dir, w);
      return {
        file,
        check: ['apache2', ['-t', '-d', dir, '-f', file]],
        complaint: /AH\d{5}|warn/i,
        run: ['apache2', ['-d', dir, '-f', file, '-DFOREGROUND']],
      };
    }
    case 'caddy':
      file = path.join(dir, 'Caddyfile');
      fs.writeFileSync(file, r('caddy/render.sh', [runDir, String(port), dir]));
      return {
        file,
        env,
        check: ['caddy', ['validate', '--config', file, '--adapter', 'caddyfile']],
        // Warnings but the one the render's own "auto_https off" causes.
        complaint: /"level":"(warn|error)"(?!.*automatic HTTPS is completely disabled)/,
        run: ['caddy', ['run', '--config', file, '--adapter', 'caddyfile']],
      };
    default:
      throw new Error(`no such server: ${kind}`);
  }
}

class Server {
  static async start(kind, runDir, dir, opts = {}) {
    const s = new Server();
    s.kind = kind;
    s.dir = dir;
    s.port = await freePort();
    s.conf = render(kind, runDir, s.port, dir, opts);
    const log = fs.openSync(path.join(dir, 'server.log'), 'a');
    s.proc = spawn(s.conf.run[0], s.conf.run[1], { env: s.conf.env || process.env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    await waitFor(async () => s.proc.exitCode !== null || await canConnect(s.port), `${kind} on ${s.port}`);
    if (s.proc.exitCode !== null) throw new Error(`${kind} exited: ${s.log()}`);
    return s;
  }

  log() {
    let t = '';
    for (const f of ['server.log', 'error.log']) {
      try { t += fs.readFileSync(path.join(this.dir, f), 'utf8'); } catch (_) { /* none */ }
    }
    return t.slice(-3000);
  }

  stop() { return stopProc(this.proc); }
}

module.exports = { TOOLS, IS_ROOT, nginxEndpoints, wwwData, openToWebUser, chownTree, startEcho, stopProc, render, Server };
