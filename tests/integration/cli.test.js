'use strict';
// The admin CLI (bin/tally): its changes are operator events, audited with the
// operator's name; its exit codes are 0 success, 1 failure, 2 usage.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { Env, BIN } = require('../lib/harness');
const S = require('../lib/stripe-events');

async function seedUser(env, user) {
  const r = await env.stripe(S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product: 'credits_500' },
  })));
  assert.strictEqual(r.status, 200, r.text);
}

test('credits grant is audited with the operator and the reason', async (env) => {
  await seedUser(env, 'u_cli');
  const r = env.tally(['credits', 'grant', 'u_cli', '250', '--reason', 'goodwill: outage', '--operator', 'alice']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.match(r.stdout, /granted 250 credits to user u_cli/);
  const doc = env.user('u_cli');
  assert.strictEqual(doc.balance.available, 750);
  const a = doc.audit.find((x) => x.action === 'credits.grant' && x.actor === 'operator:alice');
  assert.ok(a, JSON.stringify(doc.audit));
  assert.strictEqual(a.reason, 'goodwill: outage');
  const l = doc.ledger.find((x) => x.actor === 'operator:alice');
  assert.strictEqual(l.amount, 250);
  const ev = env.sql("SELECT provider, type FROM inbox WHERE provider = 'operator' ORDER BY id DESC LIMIT 1")[0];
  assert.deepStrictEqual(ev, { provider: 'operator', type: 'credits.grant' });
});

test('the operator name comes from TALLY_OPERATOR when not given', async (env) => {
  const r = env.tally(['credits', 'grant', 'u_cli', '1', '--reason', 'env name'], { TALLY_OPERATOR: 'bob' });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.ok(env.user('u_cli').audit.find((x) => x.actor === 'operator:bob'));
});

test('credits revoke draws the soonest-expiring credits first and never below zero', async (env) => {
  const exp = new Date(Date.now() + 3 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
  let r = env.tally(['credits', 'grant', 'u_cli', '100', '--reason', 'promo', '--expires', exp]);
  assert.strictEqual(r.code, 0, r.stderr);
  const before = env.user('u_cli').balance.available;
  r = env.tally(['credits', 'revoke', 'u_cli', '60', '--reason', 'correction']);
  assert.strictEqual(r.code, 0, r.stderr);
  const doc = env.user('u_cli');
  assert.strictEqual(doc.balance.available, before - 60);
  const expiring = doc.balance.grants.find((g) => g.expires_at !== null);
  assert.strictEqual(expiring.remaining, 40, 'taken from the grant that expires first');
  const counts = env.counts();
  r = env.tally(['credits', 'revoke', 'u_cli', String(before), '--reason', 'too much']);
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /insufficient credits/);
  assert.strictEqual(env.user('u_cli').balance.available, before - 60);
  assert.deepStrictEqual(env.counts(), counts, 'a refused operator action leaves no trace');
});

test('credits: bad arguments are usage errors, unknown users failures', async (env) => {
  for (const args of [
    ['credits', 'grant', 'u_cli', '0', '--reason', 'x'],
    ['credits', 'grant', 'u_cli', '-5', '--reason', 'x'],
    ['credits', 'grant', 'u_cli', '12abc', '--reason', 'x'],
    ['credits', 'grant', 'u_cli', '1000000001', '--reason', 'x'],
    ['credits', 'grant', 'u_cli', '5'],
    ['credits', 'grant', 'u_cli'],
    ['credits', 'grant', 'u_cli', '5', '--reason'],
    ['credits', 'grant', 'u_cli', '5', '--reason', 'x', '--bogus'],
  ]) {
    const r = env.tally(args);
    assert.strictEqual(r.code, 2, `${args.join(' ')}: ${r.code} ${r.stderr}`);
  }
  const r = env.tally(['credits', 'grant', 'nobody_here', '5', '--reason', 'x']);
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /unknown user/);
});

test('user show: text and JSON, unknown user is exit 1', async (env) => {
  const t = env.tally(['user', 'show', 'u_cli']);
  assert.strictEqual(t.code, 0);
  assert.match(t.stdout, /^user u_cli/);
  assert.match(t.stdout, /balance: \d+ credits/);
  // Money for people: Stripe's 1000 cents of "usd" are 10.00 USD, next to the credits they bought.
  assert.match(t.stdout, /payment\.received payment:\d+ {2}one_off 10\.00 USD for credits_500/);
  assert.doesNotMatch(t.stdout, /\busd\b|\b1000 USD\b/);
  const j = env.tally(['user', 'show', 'u_cli', '--json']);
  const doc = JSON.parse(j.stdout);
  for (const k of ['user_id', 'created_at', 'entitlements', 'subscriptions', 'balance', 'links', 'ledger', 'audit']) assert.ok(k in doc, k);
  assert.strictEqual(env.tally(['user', 'show', 'nobody_here']).code, 1);
  assert.strictEqual(env.tally(['user', 'show']).code, 2);
});

test('money in text is in major units with the currency: yen without decimals, JSON in minor units', async (env) => {
  const cs = S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: 'u_cli_yen', metadata: { product: 'credits_500' }, amountTotal: 500,
  });
  cs.currency = 'jpy';
  const r = await env.stripe(S.event('checkout.session.completed', cs));
  assert.strictEqual(r.status, 200, r.text);
  const t = env.tally(['user', 'show', 'u_cli_yen']);
  assert.strictEqual(t.code, 0, t.stderr);
  assert.match(t.stdout, /payment\.received payment:\d+ {2}one_off 500 JPY for credits_500/, t.stdout);
  const h = env.tallyJson(['user', 'history', 'u_cli_yen']);
  assert.ok(h.some((x) => x.kind === 'audit' && / one_off 500 JPY for credits_500 /.test(x.text)), JSON.stringify(h));
  // The machine interface: the stored payment in minor units and the code as Stripe sent it.
  const pay = env.sql("SELECT amount, currency FROM payments WHERE user_id = 'u_cli_yen'");
  assert.deepStrictEqual(pay, [{ amount: 500, currency: 'jpy' }]);
});

test('events list, show and replay', async (env) => {
  const list = env.tallyJson(['events', 'list', '--limit', '1000']);
  assert.ok(list.length >= 2);
  const one = list[list.length - 1];
  const shown = env.tallyJson(['events', 'show', String(one.inbox_id)]);
  assert.strictEqual(shown.inbox_id, one.inbox_id);
  assert.strictEqual(typeof shown.body, 'object', 'the raw body is shown as JSON');
  const text = env.tally(['events', 'show', String(one.inbox_id)]);
  assert.match(text.stdout, /^event #\d+/);
  const rp = env.tally(['events', 'replay', String(one.inbox_id)]);
  assert.strictEqual(rp.code, 0);
  assert.match(rp.stdout, /nothing to replay/);
  assert.strictEqual(env.tally(['events', 'show', '999999']).code, 1);
  assert.strictEqual(env.tally(['events', 'list', '--state', 'bogus']).code, 2);
  assert.strictEqual(env.tally(['events', 'replay']).code, 2);
  assert.strictEqual(env.tally(['events', 'replay', '--state', 'applied']).code, 2);
});

test('verify finds a balance that no longer equals its ledger', async (env) => {
  assert.ok(env.verify().ok);
  const g = env.sql("SELECT id FROM grants WHERE user_id = 'u_cli' AND remaining >= 7 ORDER BY id LIMIT 1")[0].id;
  env.sql(`UPDATE grants SET remaining = remaining - 7 WHERE id = ${g}`);
  const v = env.verify();
  assert.strictEqual(v.ok, false);
  assert.ok(v.doc.violations.find((x) => x.check === 'grant_equals_ledger'), JSON.stringify(v.doc));
  const t = env.tally(['verify']);
  assert.strictEqual(t.code, 1);
  assert.match(t.stdout, /FAIL grant_equals_ledger/);
  env.sql(`UPDATE grants SET remaining = remaining + 7 WHERE id = ${g}`);
  assert.ok(env.verify().ok);
});

test('verify finds an entitlement left on after its subscription ended', async (env) => {
  const sub = S.rid('sub');
  const r = await env.stripe(S.event('invoice.paid', S.invoice({ id: S.rid('in'), customer: S.rid('cus'), subscription: sub, price: 'price_pro_monthly', subMetadata: { user_id: 'u_ent' } })));
  assert.strictEqual(r.status, 200);
  env.sql(`UPDATE subscriptions SET state = 'expired' WHERE ext_id = '${sub}'`);
  const v = env.verify();
  assert.ok(v.doc.violations.find((x) => x.check === 'entitlement_follows_subscription'));
  env.sql(`UPDATE subscriptions SET state = 'active' WHERE ext_id = '${sub}'`);
  assert.ok(env.verify().ok);
});

test('migrate is idempotent and handlers refuse a database that is not migrated', async (env) => {
  const r = env.tally(['migrate']);
  assert.strictEqual(r.code, 0);
  assert.match(r.stdout, /nothing to do/);
  const fresh = path.join(env.dir, 'fresh.db');
  fs.writeFileSync(fresh, '');
  const h = spawnSync(path.join(BIN, 'tally-stripe'), [], { env: { ...env.env(), TALLY_DB: fresh, REQUEST_METHOD: 'POST' }, encoding: 'utf8' });
  assert.strictEqual(h.status, 1);
  assert.match(h.stderr, /run tally migrate/);
  const u = env.tally(['user', 'show', 'x'], { TALLY_DB: fresh });
  assert.strictEqual(u.code, 1);
});

test('invalid configuration fails at start naming the key', async (env) => {
  const bad = path.join(env.dir, 'bad.json');
  const cfg = JSON.parse(JSON.stringify(env.config));
  cfg.products.pro_monthly.credits = -3;
  fs.writeFileSync(bad, JSON.stringify(cfg));
  const h = spawnSync(path.join(BIN, 'tally-stripe'), [], { env: { ...env.env(), TALLY_CONFIG: bad }, encoding: 'utf8' });
  assert.strictEqual(h.status, 1);
  assert.match(h.stderr, /products\.pro_monthly\.credits/);
  cfg.products.pro_monthly.credits = 1;
  cfg.products.pro_monthly.credit = 5;
  fs.writeFileSync(bad, JSON.stringify(cfg));
  const c = env.tally(['user', 'show', 'u_cli'], { TALLY_CONFIG: bad });
  assert.strictEqual(c.code, 1);
  assert.match(c.stderr, /products\.pro_monthly\.credit: unknown key/);
  const m = env.tally(['user', 'show', 'u_cli'], { TALLY_CONFIG: path.join(env.dir, 'missing.json') });
  assert.strictEqual(m.code, 1);
  assert.match(m.stderr, /TALLY_CONFIG/);
});

test('a handler runs as plain CGI: one request from the environment', async (env) => {
  const evt = S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: 'u_cgi', metadata: { product: 'credits_500' },
  }));
  const body = JSON.stringify(evt);
  const h = spawnSync(path.join(BIN, 'tally-stripe'), [], {
    env: { ...env.env(), REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(Buffer.byteLength(body)), HTTP_STRIPE_SIGNATURE: S.sign(body, env.secret) },
    input: body, encoding: 'utf8',
  });
  assert.strictEqual(h.status, 0, h.stderr);
  assert.match(h.stdout, /^Status: 200 OK\r\n/);
  assert.match(h.stdout, /Content-Type: application\/json\r\n/);
  assert.strictEqual(env.user('u_cgi').balance.available, 500);
  const bad = spawnSync(path.join(BIN, 'tally-stripe'), [], {
    env: { ...env.env(), REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(Buffer.byteLength(body)), HTTP_STRIPE_SIGNATURE: 't=1,v1=00' },
    input: body, encoding: 'utf8',
  });
  assert.match(bad.stdout, /^Status: 401/);
});

test('usage errors exit 2 with the usage on stderr and nothing on stdout', async (env) => {
  for (const args of [[], ['frobnicate'], ['frobnicate', '--help'], ['user', 'delete', 'x'], ['migrate', '--to', 'x'], ['--bogus']]) {
    const r = env.tally(args);
    assert.strictEqual(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^usage: tally COMMAND/m, args.join(' '));
    assert.strictEqual(r.stdout, '', args.join(' '));
  }
});

test('--help, -h and help print the commands and the environment on stdout and exit 0', async (env) => {
  // Without TALLY_DB or TALLY_CONFIG: help needs neither.
  const bare = { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS || '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '' };
  for (const args of [['--help'], ['-h'], ['help'], ['keys', '--help'], ['keys', 'create', '--help'], ['user', 'show', 'x', '-h']]) {
    const r = spawnSync(path.join(BIN, 'tally'), args, { env: bare, encoding: 'utf8', cwd: env.dir });
    assert.strictEqual(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.strictEqual(r.stderr, '', args.join(' '));
    assert.match(r.stdout, /^usage: tally COMMAND/, args.join(' '));
    assert.match(r.stdout, /^ {2}keys create --name NAME --scopes read,spend,admin/m);
    // Every variable the CLI reads (getenv in jobs/tally and lib/cfg) is named.
    for (const name of ['TALLY_DB', 'TALLY_CONFIG', 'TALLY_OPERATOR', 'TALLY_LOG_LEVEL', 'TALLY_SYNCHRONOUS',
      'APPLE_PRIVATE_KEY', 'REVENUECAT_API_KEY', 'RAZORPAY_KEY_SECRET', 'TELEGRAM_BOT_TOKEN',
      'TELEGRAM_PROVIDER_TOKEN', 'CRYPTOBOT_TOKEN', 'NAME_FILE']) {
      assert.ok(r.stdout.includes(name), `${args.join(' ')}: ${name} not named`);
    }
    assert.match(r.stdout, /^exit: 0 success, 1 failure .*, 2 usage$/m);
  }
});

run({
  before: () => Env.start(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
