'use strict';
// The support console in tests: an Env serving tally-console (and tally-stripe,
// tally-api) behind nginx, an admin made with the CLI (password on stdin), a
// plain HTTP client that keeps the session cookie and reads forms, users with
// purchases made of Stripe's own events, and Debian's chromium driven by
// playwright-core.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { Env, BIN } = require('./harness');
const { apiCatalog } = require('./api');
const S = require('./stripe-events');

const ADMIN = 'alice';
const PASSWORD = 'correct horse battery staple';
// A catalog id and a user id an attacker could choose, shown on every page that names them.
const XSS_PRODUCT = '<script>window.__xss=1</script>';
const XSS_USER = '"><script>window.__xss=2</script><img src=x onerror=alert(3)>';

function consoleCatalog() {
  const cfg = apiCatalog();
  cfg.products[XSS_PRODUCT] = { kind: 'pack', credits: 7, match: { stripe: ['price_xss'] } };
  return cfg;
}

// `tally admin create|passwd NAME` with the password on standard input.
function adminSet(env, name, password, verb = 'create') {
  const r = spawnSync(path.join(BIN, 'tally'), ['admin', verb, name], {
    env: env.env({ TALLY_OPERATOR: 'root' }), input: `${password}\n`, encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function startConsole(opts = {}) {
  const env = await Env.start({
    config: opts.config || consoleCatalog(),
    handlers: opts.handlers || ['stripe', 'api', 'console'],
    env: opts.env,
  });
  const r = adminSet(env, ADMIN, PASSWORD);
  if (r.code !== 0) throw new Error(`admin create: ${r.stderr}`);
  env.base = `http://127.0.0.1:${env.port}`;
  return env;
}

async function restartConsole(env) {
  await env.killHandler('console', 'SIGTERM');
  await env.startHandler('console');
}

async function post(env, evt) {
  const r = await env.stripe(evt);
  if (r.status !== 200) throw new Error(`${evt.type}: ${r.status} ${r.text}`);
  return r.json;
}

// What Stripe sends for a Checkout subscription: the session, the subscription, its first invoice.
async function subscribe(env, user, { price = 'price_pro_monthly', status = 'active', customer } = {}) {
  const cus = customer || S.rid('cus'), sub = S.rid('sub'), inv = S.rid('in');
  await post(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'subscription', customer: cus, subscription: sub, clientReferenceId: user, invoice: inv,
  })));
  await post(env, S.event('customer.subscription.created', S.subscription({
    id: sub, customer: cus, price, status, metadata: { user_id: user },
  })));
  await post(env, S.event('invoice.paid', S.invoice({
    id: inv, customer: cus, subscription: sub, price, billingReason: 'subscription_create',
    subMetadata: { user_id: user },
  })));
  return { cus, sub, inv };
}

// A one-off pack bought through Checkout.
async function pack(env, user, product = 'credits_500') {
  return post(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product },
  })));
}

const decode = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<')
  .replace(/&gt;/g, '>').replace(/&amp;/g, '&');

// The forms of a page: { action, fields: {name: value} } for each, hidden inputs included.
function forms(html) {
  const out = [];
  const re = /<form method="post" action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g;
  let m;
  while ((m = re.exec(html)) !== null) {
    const fields = {};
    const inp = /<input type="hidden" name="([^"]*)" value="([^"]*)">/g;
    let i;
    while ((i = inp.exec(m[2])) !== null) fields[decode(i[1])] = decode(i[2]);
    out.push({ action: m[1], fields });
  }
  return out;
}

// A browser-less client: keeps the console's cookie, posts forms as a browser would.
class Client {
  constructor(env) {
    this.env = env;
    this.cookie = null;
  }

  headers(extra = {}) {
    const h = { ...extra };
    if (this.cookie) h.Cookie = `tally_console=${this.cookie}`;
    return h;
  }

  get(p, extra) {
    return this.env.request('GET', p, undefined, this.headers(extra));
  }

  post(p, fields, extra = {}) {
    const body = new URLSearchParams(fields).toString();
    return this.env.request('POST', p, body, this.headers({
      'Content-Type': 'application/x-www-form-urlencoded', ...extra,
    }));
  }

  async login(name = ADMIN, secret = PASSWORD, extra) {
    const r = await this.post('/admin/login', { name, secret }, extra);
    const set = [].concat(r.headers['set-cookie'] || []).find((c) => c.startsWith('tally_console='));
    if (set) this.cookie = set.split(';')[0].slice('tally_console='.length);
    r.setCookie = set;
    return r;
  }

  // The first form on page p that does `what` (the "do" field), or the form posting to action.
  async form(p, what) {
    const r = await this.get(p);
    if (r.status !== 200) throw new Error(`GET ${p}: ${r.status}`);
    const f = forms(r.text).find((x) => x.fields.do === what || x.action === what);
    if (!f) throw new Error(`no form ${what} on ${p}`);
    return f;
  }

  // Submit form f with more fields (as a person fills it in).
  submit(f, fields, extra) {
    return this.post(f.action, { ...f.fields, ...fields }, extra);
  }
}

// Debian's chromium, headless, a fresh profile each time; close() removes it.
async function browser() {
  const { chromium } = require('playwright-core');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  return {
    context,
    page,
    async close() {
      await context.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = {
  ADMIN, PASSWORD, XSS_PRODUCT, XSS_USER, consoleCatalog, adminSet, startConsole, restartConsole,
  subscribe, pack, post, forms, decode, Client, browser,
};
