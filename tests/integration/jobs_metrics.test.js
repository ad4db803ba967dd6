'use strict';
// The revenue and subscription metrics (docs/metrics.md) over 75 simulated days, with the
// machinery of jobs_year: about thirty users across Stripe (USD), the App Store (JPY),
// RevenueCat (KWD) and the app's own trial go through what moves the figures (trials that
// convert and that lapse, renewals, a yearly plan, an upgrade and a downgrade, failed
// payments that recover or run out of grace, cancellations, a resubscription, full and
// partial refunds, packs, credits spent) plus sandbox and test-mode events that must stay
// out of the live figures. The real handlers take the providers' events; tally-grace-expiry
// runs each simulated day with --now, as cron would.
//
// The model below never reads tally's answers: each scenario says what its events mean in
// business terms (this subscription starts paying 1000 USD a month today; that trial lapses;
// this one churns for a billing failure) and the model sums those facts by day, provider,
// product and currency as docs/metrics.md defines them, credits by the rules jobs_year's
// model keeps. `tally metrics` must give the same rows day by day (and by week, by month,
// in a reporting currency), the API and the CSV the same numbers, /metrics the same
// gauges; and again in a database rebuilt by `tally rebuild`, and after
// `tally rebuild --metrics`. tally verify checks the rollups against their history, and
// finds one edited by hand.
//
// Clock: as jobs_year, events carry simulated times from an hour after the test starts, so
// the handlers' own "now" is never later than the simulated one; what the API does (trials,
// spends) happens at the wall clock, on the day the test runs.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const S = require('../lib/stripe-events');
const A = require('../lib/apple');
const { post: applePost, PRO: APPLE_PRO, PRO_YEARLY: APPLE_YEARLY } = require('../lib/apple-env');
const R = require('../lib/revenuecat-events');
const J = require('../lib/jobs');

const H = 3600e3;
const DAY = 86400e3;
const LEEWAY = DAY;
const GRACE = 7 * DAY;
const DAYS = 75;
const RC_PRO = 'com.tally.pro.monthly';
const RC_PACK = 'com.tally.credits500';
const RC_AUTH = `Bearer whk_${crypto.randomBytes(12).toString('hex')}`;
const JWT_SECRET = 'jwt-secret-for-tests-0123456789abcdef';

const T0 = Math.floor(Date.now() / 1000) * 1000;
const at = (d) => T0 + H + d * DAY;
const dayOf = (t) => Math.floor(t / DAY);
const date = (day) => new Date(day * DAY).toISOString().slice(0, 10);
const FIRST = dayOf(T0) - 1;
const LAST = dayOf(at(DAYS - 1)) + 1;

const COLS = ['mrr', 'paying', 'trials', 'new_subs', 'trial_starts', 'conversions', 'converted',
  'churn_voluntary', 'churn_billing', 'reactivations', 'payments', 'revenue', 'refunds', 'refunded',
  'credits_granted', 'credits_spent', 'credits_expired', 'credits_revoked'];
const STOCKS = 3;
const col = (name) => { const i = COLS.indexOf(name); if (i < 0) throw new Error(name); return i; };
const EXP = { USD: 2, JPY: 0, KWD: 3 };

// The reporting currency's rates, by simulated day: JPY from day 0 (changed on day 40), KWD only
// from day 20 (before it the KWD money is left out of the totals, which say so).
const RATES = { JPY: [[dayOf(at(0)), '0.0067'], [dayOf(at(40)), '0.0065']], KWD: [[dayOf(at(20)), '3.25']] };

// ------------------------------------------------------------------------- the model's figures

class Figures {
  constructor() { this.m = new Map(); }

  add(live, t, provider, product, currency, name, v) {
    if (v === 0) return;
    const k = `${live ? 1 : 0}|${dayOf(t)}|${provider}|${product}|${currency}`;
    if (!this.m.has(k)) this.m.set(k, new Array(COLS.length).fill(0));
    this.m.get(k)[col(name)] += v;
  }

  // Rows as `tally metrics --json` gives them: periods of `by` over [from, to], grouped by
  // `group` (provider, product) and currency, stocks as of each period's last day.
  rows(live, from, to, by = 'day', group = ['provider', 'product']) {
    const start = (d) => (by === 'day' ? d : by === 'week' ? d - (((d + 3) % 7) + 7) % 7 : monthStart(d));
    const end = (s) => Math.min(to, by === 'day' ? s : by === 'week' ? s + 6 : monthEnd(s));
    const stock = new Map();
    const flows = new Map();
    const out = [];
    const gkey = (p, q, c) => `${group.includes('provider') ? p : ''}|${group.includes('product') ? q : ''}|${c}`;
    const entries = [...this.m.entries()].map(([k, v]) => { const [l, d, p, q, c] = k.split('|'); return { live: l === '1', day: Number(d), p, q, c, v }; })
      .filter((e) => e.live === live).sort((a, b) => a.day - b.day);
    let i = 0;
    for (; i < entries.length && entries[i].day < from; i++) {
      const g = gkey(entries[i].p, entries[i].q, entries[i].c);
      const s = stock.get(g) || new Array(STOCKS).fill(0);
      for (let c = 0; c < STOCKS; c++) s[c] += entries[i].v[c];
      stock.set(g, s);
    }
    for (let p = from; p <= to; p = end(start(p)) + 1) {
      const e = end(start(p));
      flows.clear();
      for (; i < entries.length && entries[i].day <= e; i++) {
        const g = gkey(entries[i].p, entries[i].q, entries[i].c);
        const s = stock.get(g) || new Array(STOCKS).fill(0);
        for (let c = 0; c < STOCKS; c++) s[c] += entries[i].v[c];
        stock.set(g, s);
        const f = flows.get(g) || new Array(COLS.length).fill(0);
        for (let c = STOCKS; c < COLS.length; c++) f[c] += entries[i].v[c];
        flows.set(g, f);
      }
      for (const g of new Set([...stock.keys(), ...flows.keys()])) {
        const v = [...(stock.get(g) || new Array(STOCKS).fill(0)), ...(flows.get(g) || new Array(COLS.length).fill(0)).slice(STOCKS)];
        if (v.every((x) => x === 0)) continue;
        const [pv, qv, cv] = g.split('|');
        out.push({ start: date(p), end: date(e), provider: pv, product: qv, currency: cv, v });
      }
    }
    return out;
  }
}

function civil(day) { const d = new Date(day * DAY); return [d.getUTCFullYear(), d.getUTCMonth()]; }
function monthStart(day) { const [y, m] = civil(day); return Date.UTC(y, m, 1) / DAY; }
function monthEnd(day) { const [y, m] = civil(day); return Date.UTC(y, m + 1, 1) / DAY - 1; }

// tally's rows as the same shape (provider/product "" when not grouped, currency "" for none).
function tallyRows(doc) {
  return doc.rows.map((r) => ({
    start: r.start, end: r.end, provider: r.provider || '', product: r.product || '', currency: r.currency || '',
    v: COLS.map((c) => r[c]),
  }));
}

function compareRows(want, got, what) {
  const key = (r) => `${r.start}|${r.provider}|${r.product}|${r.currency}`;
  const w = new Map(want.map((r) => [key(r), r]));
  const g = new Map(got.map((r) => [key(r), r]));
  const diffs = [];
  for (const k of new Set([...w.keys(), ...g.keys()])) {
    const a = w.get(k);
    const b = g.get(k);
    if (a && b && a.end === b.end && a.v.every((x, i) => x === b.v[i])) continue;
    const show = (r) => (r ? COLS.map((c, i) => (r.v[i] ? `${c}=${r.v[i]}` : '')).filter(Boolean).join(' ') || '(zero)' : '(none)');
    diffs.push(`${k}: model ${show(a)} | tally ${show(b)}`);
  }
  diffs.sort();
  assert.deepStrictEqual(diffs, [], `${what}: ${diffs.length} rows differ:\n${diffs.slice(0, 25).join('\n')}`);
  return want.length;
}

// ------------------------------------------------------------------------- a subscription

const F = new Figures();

// What one subscription counts for, moved by the facts a scenario states.
class Sub {
  constructor(provider, live, product, o = {}) {
    Object.assign(this, { provider, live, product, status: 'none', mrr: 0, currency: '', trialAt: 0, trialProduct: '', paid: false, churned: false });
    Object.assign(this, { state: 'none', periodStart: 0, periodEnd: 0, trialEnd: 0, graceEnd: 0, app: !!o.app, key: o.key || '' });
  }

  f(t, product, currency, name, v) { F.add(this.live, t, this.provider, product, currency, name, v); }

  stocks(t, sign) {
    if (this.status === 'paying') {
      this.f(t, this.product, this.currency, 'paying', sign);
      this.f(t, this.product, this.currency, 'mrr', sign * this.mrr);
    } else if (this.status === 'trial') this.f(t, this.product, '', 'trials', sign);
  }

  // A trial begins.
  trial(t) {
    this.stocks(t, -1);
    this.status = 'trial';
    this.stocks(t, 1);
    this.f(t, this.product, '', 'trial_starts', 1);
    this.trialAt = t;
    this.trialProduct = this.product;
  }

  // It pays mrr a month in currency from t: the first time (a conversion when it was a
  // trial), again after a churn (a reactivation), or at a new price.
  pay(t, mrr, currency) {
    const was = this.status;
    this.stocks(t, -1);
    this.status = 'paying';
    this.mrr = mrr;
    this.currency = currency;
    this.stocks(t, 1);
    if (was === 'paying') return;
    if (!this.paid) {
      this.f(t, this.product, currency, 'new_subs', 1);
      if (this.trialAt) this.conversion(t);
      this.paid = true;
    } else if (this.churned) {
      this.f(t, this.product, currency, 'reactivations', 1);
      this.churned = false;
    }
  }

  conversion(t) {
    this.f(t, this.trialProduct, '', 'conversions', 1);
    F.add(this.live, this.trialAt, this.provider, this.trialProduct, '', 'converted', 1);
  }

  // The plan changes: its figures move to the new product (the price changes when a full
  // period is paid at it).
  changeProduct(t, product) {
    this.stocks(t, -1);
    this.product = product;
    this.stocks(t, 1);
  }

  // It ends: churn ('voluntary' or 'billing') when it was paying, a lapse when a trial.
  end(t, kind) {
    if (this.status === 'paying') {
      this.f(t, this.product, this.currency, kind === 'billing' ? 'churn_billing' : 'churn_voluntary', 1);
      this.churned = true;
    }
    this.stocks(t, -1);
    this.status = 'none';
  }

  // The app-managed trial, ended because the user paid elsewhere: converted.
  convertedElsewhere(t) {
    this.stocks(t, -1);
    this.status = 'none';
    this.conversion(t);
  }
}

function money(live, t, provider, product, currency, amount) {
  if (amount > 0) F.add(live, t, provider, product, currency, 'payments', 1);
  F.add(live, t, provider, product, currency, 'revenue', amount);
}

function refund(live, t, provider, product, currency, amount) {
  F.add(live, t, provider, product, currency, 'refunds', 1);
  F.add(live, t, provider, product, currency, 'refunded', amount);
}

// ------------------------------------------------------------------------- credits (jobs_year's rules)

const PRODUCTS = {
  pro_monthly: { credits: 1000, trial: 100 },
  team_monthly: { credits: 5000, trial: 5000 },
  pro_yearly: { credits: 1000, trial: 1000 },
};

class Credits {
  constructor() { this.users = new Map(); this.gid = 0; }

  user(id) {
    if (!this.users.has(id)) this.users.set(id, { id, grants: [], subs: [] });
    return this.users.get(id);
  }

  move(g, t, name, v) { F.add(g.live, t, g.provider, g.product, '', name, v); }

  grant(u, t, o) {
    const g = { id: ++this.gid, remaining: o.amount, expires: o.expires || 0, source: o.source, sub: o.sub || null, pay: o.pay || null, live: o.live, provider: o.provider, product: o.product };
    if (o.amount > 0) {
      u.grants.push(g);
      this.move(g, t, 'credits_granted', o.amount);
    }
  }

  zero(g, t, name) {
    if (g.remaining > 0) this.move(g, t, name, g.remaining);
    g.remaining = 0;
  }

  static live(u, t) { return u.grants.filter((g) => g.remaining > 0 && (g.expires === 0 || g.expires > t)); }
  balance(u, t) { return Credits.live(u, t).reduce((s, g) => s + g.remaining, 0); }

  spend(u, amount, t, tday) {
    const gs = Credits.live(u, t).sort((a, b) => ((a.expires || Infinity) - (b.expires || Infinity)) || a.id - b.id);
    for (const g of gs) {
      const take = Math.min(g.remaining, amount);
      g.remaining -= take;
      amount -= take;
      this.move(g, tday, 'credits_spent', take);
      if (!amount) break;
    }
    assert.strictEqual(amount, 0, `model: ${u.id} cannot spend`);
  }

  static accessEnd(s) {
    switch (s.state) {
      case 'trialing': return s.trialEnd;
      case 'active': return s.periodEnd + LEEWAY;
      case 'canceled': return s.periodEnd;
      case 'past_due': return s.graceEnd;
      default: return 0;
    }
  }

  finish(u, s, t) {
    const access = ['trialing', 'active', 'canceled', 'past_due'].includes(s.state);
    for (const g of u.grants) {
      if (g.sub !== s || g.remaining === 0) continue;
      if (!access) this.zero(g, t, ['refunded', 'revoked'].includes(s.state) ? 'credits_revoked' : 'credits_expired');
      else g.expires = Credits.accessEnd(s);
    }
  }

  plan(u, s, { trial = false, replaceAll = false, pay = null, t }) {
    for (const g of u.grants) {
      const isPlan = g.expires !== 0 && ['subscription', 'trial'].includes(g.source);
      if (replaceAll ? isPlan : g.sub === s) this.zero(g, t, 'credits_expired');
    }
    const p = PRODUCTS[s.product];
    this.grant(u, t, { amount: trial ? p.trial : p.credits, expires: Credits.accessEnd(s), source: trial ? 'trial' : 'subscription', sub: s, pay, live: s.live, provider: s.provider, product: s.product });
  }

  refund(u, s, pay, t) {
    for (const g of u.grants) if (g.pay === pay) this.zero(g, t, 'credits_revoked');
    s.state = 'refunded';
    this.finish(u, s, t);
  }

  static expiryEnd(s) {
    switch (s.state) {
      case 'past_due': return s.graceEnd;
      case 'canceled': return s.periodEnd;
      case 'trialing': return s.app ? s.trialEnd : s.trialEnd + LEEWAY;
      case 'active': return s.app ? s.periodEnd : 0;
      default: return 0;
    }
  }

  // tally-grace-expiry at t: subscriptions past their end, then credits past their expiry.
  graceExpiry(t) {
    for (const u of this.users.values()) {
      for (const s of u.subs) {
        const e = Credits.expiryEnd(s);
        if (!e || e > t) continue;
        s.end(t, s.state === 'past_due' ? 'billing' : 'voluntary');
        s.state = 'expired';
        this.finish(u, s, t);
      }
      for (const g of u.grants) if (g.expires !== 0 && g.expires <= t) this.zero(g, t, 'credits_expired');
    }
  }
}

const C = new Credits();
const plan = [];
const spends = [];
const on = (d, fn) => { if (d < DAYS) (plan[d] = plan[d] || []).push(fn); };
const spendOn = (d, user, amount) => { if (d < DAYS) (spends[d] = spends[d] || []).push([user, amount]); };

// ------------------------------------------------------------------------- Stripe (USD)

let env;
const sec = (ms) => Math.floor(ms / 1000);
const PRICE = { pro_monthly: 'price_pro_monthly', team_monthly: 'price_team_monthly', pro_yearly: 'price_pro_yearly' };
const USD = { pro_monthly: 1000, team_monthly: 5000, pro_yearly: 12000 };

async function stripe(type, object, t, o = {}) {
  const r = await env.stripe(S.event(type, object, { created: sec(t), ...o }));
  assert.strictEqual(r.status, 200, `${type}: ${r.text}`);
  assert.ok(r.json.state === 'applied', `${type} ${object.id}: ${r.json.state} ${r.json.reason}`);
}

function stripeUser(name, kind, s0, { test: testMode = false, user: given } = {}) {
  const user = given || `st_${name}`;
  const live = !testMode;
  const u = C.user(user);
  const c = { cus: S.rid('cus'), sub: S.rid('sub'), version: kind === 'refund' || kind === 'partial' ? S.PRE_BASIL : S.BASIL };
  let product = kind === 'yearly' ? 'pro_yearly' : kind === 'downgrade' ? 'team_monthly' : 'pro_monthly';
  const ms = new Sub('stripe', live, product, { key: c.sub });
  const opts = { version: c.version, livemode: live };
  const subObj = (o) => S.subscription({ id: c.sub, customer: c.cus, price: PRICE[product], version: c.version, livemode: live, ...o });
  let lastPay = null;
  const trial = kind === 'trial_converts' || kind === 'trial_lapses';

  on(s0, async (t) => {
    const len = kind === 'yearly' ? 365 * DAY : trial ? 7 * DAY : 30 * DAY;
    const end = t + len;
    await stripe('checkout.session.completed', S.checkoutSession({
      mode: 'subscription', customer: c.cus, subscription: c.sub, clientReferenceId: user, livemode: live,
      ...(trial ? { paymentStatus: 'no_payment_required', amountTotal: 0 } : {}),
    }), t, opts);
    await stripe('customer.subscription.created', subObj({
      status: trial ? 'trialing' : 'active', periodStart: sec(t), periodEnd: sec(end),
      ...(trial ? { trialStart: sec(t), trialEnd: sec(end) } : {}),
    }), t, opts);
    const pi = S.rid('pi');
    const ch = S.rid('ch');
    const amount = trial ? 0 : USD[product];
    await stripe('invoice.paid', S.invoice({
      id: S.rid('in'), customer: c.cus, subscription: c.sub, price: PRICE[product], version: c.version, amount,
      periodStart: sec(t), periodEnd: sec(end), paymentIntent: pi, charge: ch, livemode: live,
    }), t, opts);
    lastPay = { pi, ch };
    Object.assign(ms, { state: trial ? 'trialing' : 'active', periodStart: t, periodEnd: end, trialEnd: trial ? end : 0 });
    u.subs.push(ms);
    C.plan(u, ms, { trial, replaceAll: true, t, pay: pi });
    money(live, t, 'stripe', product, 'USD', amount);
    if (trial) ms.trial(t);
    else ms.pay(t, kind === 'yearly' ? USD[product] / 12 : USD[product], 'USD');
  });

  const renewAt = (d, o = {}) => on(d, async (t) => {
    if (!['active', 'trialing', 'past_due'].includes(ms.state)) return;
    const pi = S.rid('pi');
    const ch = S.rid('ch');
    const start = ms.state === 'past_due' ? ms.failedAt : t;
    const end = start + 30 * DAY;
    if (o.product) product = o.product;
    await stripe('invoice.paid', S.invoice({
      id: S.rid('in'), customer: c.cus, subscription: c.sub, price: PRICE[product], version: c.version, billingReason: 'subscription_cycle',
      amount: USD[product], periodStart: sec(start), periodEnd: sec(end), paymentIntent: pi, charge: ch, livemode: live,
    }), t, opts);
    await stripe('customer.subscription.updated', subObj({ status: 'active', periodStart: sec(start), periodEnd: sec(end) }), t, { ...opts, previous: { items: {} } });
    lastPay = { pi, ch };
    if (product !== ms.product) ms.changeProduct(t, product);
    Object.assign(ms, { state: 'active', periodStart: start, periodEnd: end, trialEnd: 0 });
    C.plan(u, ms, { t, pay: pi });
    C.finish(u, ms, t);
    money(live, t, 'stripe', product, 'USD', USD[product]);
    ms.pay(t, USD[product], 'USD');
  });
  const monthly = (from) => { for (let d = from; d < DAYS; d += 30) renewAt(d); };
  const fail = (d) => on(d, async (t) => {
    await stripe('invoice.payment_failed', S.invoice({
      id: S.rid('in'), customer: c.cus, subscription: c.sub, price: PRICE[product], version: c.version, billingReason: 'subscription_cycle',
      status: 'open', paid: false, periodStart: sec(t), periodEnd: sec(t + 30 * DAY), livemode: live,
    }), t, opts);
    Object.assign(ms, { state: 'past_due', graceEnd: t + GRACE, failedAt: t });
    C.finish(u, ms, t);
  });

  switch (kind) {
    case 'loyal': case 'test': monthly(s0 + 30); break;
    case 'yearly': break;
    case 'trial_converts': renewAt(s0 + 7); monthly(s0 + 37); break;
    case 'trial_lapses': break; // tally-grace-expiry ends it a day (the leeway) after the trial
    case 'recovers': fail(s0 + 30); renewAt(s0 + 33); break;
    case 'grace_ends': fail(s0 + 30); break; // tally-grace-expiry ends it: a billing failure
    case 'cancels':
      on(s0 + 10, async (t) => {
        await stripe('customer.subscription.updated', subObj({ status: 'active', periodStart: sec(ms.periodStart), periodEnd: sec(ms.periodEnd), cancelAtPeriodEnd: true }), t, { ...opts, previous: { cancel_at_period_end: false } });
        Object.assign(ms, { state: 'canceled' });
        C.finish(u, ms, t);
      });
      break;
    case 'upgrade':
      on(s0 + 10, async (t) => {
        product = 'team_monthly';
        await stripe('customer.subscription.updated', subObj({ status: 'active', periodStart: sec(ms.periodStart), periodEnd: sec(ms.periodEnd) }), t, { ...opts, previous: { items: {} } });
        await stripe('invoice.paid', S.invoice({
          id: S.rid('in'), customer: c.cus, subscription: c.sub, billingReason: 'subscription_update', version: c.version, livemode: live,
          lines: [{ price: 'price_pro_monthly', amount: -700, proration: true }, { price: 'price_team_monthly', amount: 3000, proration: true }],
          amount: 2300, periodStart: sec(ms.periodStart), periodEnd: sec(ms.periodEnd),
        }), t + 1000, opts);
        ms.changeProduct(t, 'team_monthly');
        C.plan(u, ms, { t });
        money(live, t + 1000, 'stripe', 'team_monthly', 'USD', 2300);
      });
      monthly(s0 + 30);
      break;
    case 'downgrade': renewAt(s0 + 30, { product: 'pro_monthly' }); monthly(s0 + 60); break;
    case 'refund':
      renewAt(s0 + 30);
      on(s0 + 35, async (t) => {
        await stripe('charge.refunded', S.charge({ id: lastPay.ch, paymentIntent: lastPay.pi, amount: 1000, customer: c.cus, version: c.version, livemode: live }), t, opts);
        C.refund(u, ms, lastPay.pi, t);
        refund(live, t, 'stripe', product, 'USD', 1000);
        ms.end(t, 'voluntary');
      });
      break;
    case 'partial':
      // Stripe's amount_refunded is the charge's total: 300, then 500 in all (200 more).
      on(s0 + 12, async (t) => {
        await stripe('charge.refunded', S.charge({ id: lastPay.ch, paymentIntent: lastPay.pi, amount: 1000, amountRefunded: 300, refunded: false, customer: c.cus, version: c.version, livemode: live }), t, opts);
        refund(live, t, 'stripe', product, 'USD', 300);
      });
      on(s0 + 14, async (t) => {
        await stripe('charge.refunded', S.charge({ id: lastPay.ch, paymentIntent: lastPay.pi, amount: 1000, amountRefunded: 500, refunded: false, customer: c.cus, version: c.version, livemode: live }), t, opts);
        refund(live, t, 'stripe', product, 'USD', 200);
      });
      monthly(s0 + 30);
      break;
    default: throw new Error(kind);
  }
  return user;
}

function packUser(name, days) {
  const user = `st_${name}`;
  const u = C.user(user);
  for (const d of days) {
    on(d, async (t) => {
      const pi = S.rid('pi');
      await stripe('checkout.session.completed', S.checkoutSession({
        mode: 'payment', paymentIntent: pi, clientReferenceId: user, metadata: { product: 'credits_500' }, amountTotal: 500, livemode: true,
      }), t, { livemode: true });
      C.grant(u, t, { amount: 500, source: 'pack', pay: pi, live: true, provider: 'stripe', product: 'credits_500' });
      money(true, t, 'stripe', 'credits_500', 'USD', 500);
    });
  }
  return user;
}

// ------------------------------------------------------------------------- App Store (JPY)

let pki;
async function appleSend(type, subtype, o) {
  const n = A.notification(type, subtype, { chain: pki.chains.good, ...o });
  const r = await applePost(env, n.body);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied', `${type}/${subtype}: ${r.json.reason}`);
}

let appleSeq = 0;
function appleUser(i, kind, s0, { sandbox = false } = {}) {
  const user = crypto.randomUUID();
  const otid = String(1000000000000000 + i);
  const u = C.user(user);
  const live = !sandbox;
  const yearly = kind === 'yearly';
  const product = yearly ? 'pro_yearly' : 'pro_monthly';
  const yen = yearly ? 12000 : 1200;
  const len = yearly ? 365 * DAY : 30 * DAY;
  const ms = new Sub('apple', live, product, { key: otid });
  const environment = sandbox ? 'Sandbox' : 'Production';
  let last = null;
  const tx = (start, end) => A.transaction({
    originalTransactionId: otid, transactionId: String(2000000000000000 + i * 1000 + (appleSeq++ % 1000)), appAccountToken: user,
    productId: yearly ? APPLE_YEARLY : APPLE_PRO, purchaseDate: start, originalPurchaseDate: at(s0), expiresDate: end, signedDate: start,
    price: yen * 1000, currency: 'JPY', environment,
  });
  const send = (type, subtype, t, x, o = {}) => appleSend(type, subtype, { tx: x, renewal: A.renewalInfo(x, o.renewal || {}), signedDate: t, environment, ...(o.status ? { status: o.status } : {}) });
  // A period bought with transaction x: its credits (none again when a SUBSCRIBED comes back
  // to an original transaction that already had them: tally grants an initial purchase once).
  const buy = (t, x, credits) => {
    last = x;
    Object.assign(ms, { state: 'active', periodStart: t, periodEnd: t + len });
    if (credits) C.plan(u, ms, { replaceAll: credits === 'all', t, pay: x.transactionId });
    C.finish(u, ms, t);
    money(live, t, 'apple', product, 'JPY', yen);
    ms.pay(t, yearly ? yen / 12 : yen, 'JPY');
  };
  on(s0, async (t) => {
    const x = tx(t, t + len);
    await send('SUBSCRIBED', 'INITIAL_BUY', t, x);
    u.subs.push(ms);
    buy(t, x, 'all');
  });
  const renewAt = (d) => on(d, async (t) => {
    if (!['active', 'past_due'].includes(ms.state)) return;
    const x = tx(t, t + len);
    await send('DID_RENEW', null, t, x);
    buy(t, x, 'own');
  });
  const cancel = (d) => on(d, async (t) => {
    await send('DID_CHANGE_RENEWAL_STATUS', 'AUTO_RENEW_DISABLED', t, last, { renewal: { autoRenewStatus: 0 } });
    ms.state = 'canceled';
    C.finish(u, ms, t);
  });
  const expire = (d, subtype) => on(d, async (t) => {
    await send('EXPIRED', subtype, t, last, { status: 2 });
    ms.end(t, subtype === 'BILLING_RETRY' ? 'billing' : 'voluntary');
    ms.state = 'expired';
    C.finish(u, ms, t);
  });
  switch (kind) {
    case 'renews': case 'sandbox': for (let d = s0 + 30; d < DAYS; d += 30) renewAt(d); break;
    case 'yearly': break;
    case 'cancels': cancel(s0 + 10); expire(s0 + 30, 'VOLUNTARY'); break;
    case 'billing':
      on(s0 + 30, async (t) => {
        await send('DID_FAIL_TO_RENEW', 'GRACE_PERIOD', t, last, { renewal: { gracePeriodExpiresDate: t + 6 * DAY, isInBillingRetryPeriod: true } });
        Object.assign(ms, { state: 'past_due', graceEnd: t + 6 * DAY });
        C.finish(u, ms, t);
      });
      expire(s0 + 36, 'BILLING_RETRY');
      break;
    case 'refund':
      renewAt(s0 + 30);
      on(s0 + 40, async (t) => {
        const refunded = { ...last, revocationDate: t, revocationReason: 0, signedDate: t };
        await send('REFUND', null, t, refunded, { status: 5 });
        C.refund(u, ms, last.transactionId, t);
        refund(live, t, 'apple', product, 'JPY', yen);
        ms.end(t, 'voluntary');
      });
      break;
    case 'resubscribes':
      cancel(s0 + 10);
      expire(s0 + 30, 'VOLUNTARY');
      on(s0 + 45, async (t) => {
        const x = tx(t, t + len);
        await send('SUBSCRIBED', 'RESUBSCRIBE', t, x);
        buy(t, x, null);
      });
      break;
    default: throw new Error(kind);
  }
  return user;
}

// ------------------------------------------------------------------------- RevenueCat (KWD)

async function rcSend(body) {
  const r = await R.post(env, body, RC_AUTH);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied', `${body.event.type}: ${r.json.reason}`);
}

const KWD = 3500; // 3.500 KWD a month
function rcUser(i, kind, s0) {
  const user = `rc_${kind}_${i}`;
  const u = C.user(user);
  const original = R.txn();
  const ms = new Sub('revenuecat', true, 'pro_monthly', { key: original });
  const ev = (t, o) => ({ user, original, product: RC_PRO, at: t, currency: 'KWD', price: 3.5, ...o });
  if (kind === 'pack') {
    on(s0, async (t) => {
      const txn = R.txn();
      await rcSend(R.nonRenewing({ user, txn, product: RC_PACK, at: t, purchased: t, currency: 'KWD', price: 1.25 }));
      C.grant(u, t, { amount: 500, source: 'pack', pay: txn, live: true, provider: 'revenuecat', product: 'credits_500' });
      money(true, t, 'revenuecat', 'credits_500', 'KWD', 1250);
    });
    return user;
  }
  on(s0, async (t) => {
    const trial = kind === 'trial';
    const end = t + (trial ? 7 : 30) * DAY;
    await rcSend(R.initialPurchase(ev(t, { txn: original, purchased: t, expires: end, ...(trial ? { trial: true, price: 0 } : {}) })));
    Object.assign(ms, { state: trial ? 'trialing' : 'active', periodStart: t, periodEnd: end, trialEnd: trial ? end : 0 });
    u.subs.push(ms);
    C.plan(u, ms, { trial, replaceAll: true, t, pay: original });
    money(true, t, 'revenuecat', 'pro_monthly', 'KWD', trial ? 0 : KWD);
    if (trial) ms.trial(t);
    else ms.pay(t, KWD, 'KWD');
  });
  const renewAt = (d) => on(d, async (t) => {
    if (!['active', 'trialing'].includes(ms.state)) return;
    const txn = R.txn();
    await rcSend(R.renewal(ev(t, { txn, purchased: t, expires: t + 30 * DAY, trialConversion: ms.state === 'trialing' })));
    Object.assign(ms, { state: 'active', periodStart: t, periodEnd: t + 30 * DAY, trialEnd: 0 });
    C.plan(u, ms, { t, pay: txn });
    C.finish(u, ms, t);
    money(true, t, 'revenuecat', 'pro_monthly', 'KWD', KWD);
    ms.pay(t, KWD, 'KWD');
  });
  switch (kind) {
    case 'renews': for (let d = s0 + 30; d < DAYS; d += 30) renewAt(d); break;
    case 'trial': renewAt(s0 + 7); for (let d = s0 + 37; d < DAYS; d += 30) renewAt(d); break;
    case 'cancels':
      on(s0 + 10, async (t) => {
        await rcSend(R.cancellation(ev(t, { txn: original, purchased: ms.periodStart, expires: ms.periodEnd, price: 0 })));
        ms.state = 'canceled';
        C.finish(u, ms, t);
      });
      on(s0 + 30, async (t) => {
        await rcSend(R.expiration(ev(t, { txn: original, purchased: ms.periodStart, expires: ms.periodEnd, price: 0 })));
        ms.end(t, 'voluntary');
        ms.state = 'expired';
        C.finish(u, ms, t);
      });
      break;
    default: throw new Error(kind);
  }
  return user;
}

// ------------------------------------------------------------------------- the app's trial

async function appTrial(user) {
  const r0 = await env.api('POST', `/v1/users/${user}`, {});
  assert.strictEqual(r0.status, 200, r0.text);
  const before = Date.now();
  const r = await env.api('POST', `/v1/users/${user}/trial`, {});
  assert.strictEqual(r.status, 200, r.text);
  const t = Date.now();
  assert.strictEqual(dayOf(before), dayOf(t), 'the trial began on one day');
  const u = C.user(user);
  const ms = new Sub('app', true, 'pro_monthly', { app: true, key: `trial:${user}` });
  Object.assign(ms, { state: 'trialing', periodStart: t, periodEnd: t + 7 * DAY, trialEnd: t + 7 * DAY });
  // tally's own time of the trial is between before and t; every job runs on the hour after.
  ms.trialEnd = before + 7 * DAY;
  u.subs.push(ms);
  C.plan(u, ms, { trial: true, replaceAll: true, t });
  ms.trial(t);
  return ms;
}

// ------------------------------------------------------------------------- the run

let spendSeq = 0;
async function spend(user, amount) {
  const u = C.user(user);
  const r = await env.api('POST', `/v1/users/${encodeURIComponent(user)}/spend`, { amount, idempotency_key: `m${++spendSeq}` });
  assert.strictEqual(r.status, 200, `spend ${amount} of ${user}: ${r.text}`);
  const t = Date.now();
  C.spend(u, amount, t, t);
}

const users = {};

async function simulate() {
  stripeUser('loyal_0', 'loyal', 0);
  stripeUser('loyal_1', 'loyal', 3);
  stripeUser('yearly_0', 'yearly', 1);
  stripeUser('trialc_0', 'trial_converts', 2);
  stripeUser('trialc_1', 'trial_converts', 5);
  stripeUser('triall_0', 'trial_lapses', 4);
  stripeUser('grace_0', 'grace_ends', 2);
  stripeUser('recover_0', 'recovers', 6);
  stripeUser('cancel_0', 'cancels', 1);
  stripeUser('upgrade_0', 'upgrade', 3);
  stripeUser('downgrade_0', 'downgrade', 2);
  stripeUser('refund_0', 'refund', 0);
  stripeUser('partial_0', 'partial', 8);
  stripeUser('test_0', 'test', 1, { test: true });
  users.pack = packUser('pack_0', [2, 40]);
  users.appleRenews = appleUser(0, 'renews', 0);
  appleUser(1, 'renews', 7);
  appleUser(2, 'yearly', 2);
  appleUser(3, 'cancels', 4);
  appleUser(4, 'billing', 5);
  appleUser(5, 'refund', 3);
  appleUser(6, 'resubscribes', 1);
  appleUser(7, 'sandbox', 2, { sandbox: true });
  users.rc = rcUser(0, 'renews', 1);
  rcUser(1, 'trial', 3);
  rcUser(2, 'cancels', 6);
  rcUser(3, 'pack', 9);

  // The app's trials, at the wall clock before day 0: one converts when its user pays through Stripe.
  const conv = await appTrial('api_trial_conv');
  await appTrial('api_trial_lapse_0');
  await appTrial('api_trial_lapse_1');
  assert.ok(Date.now() < T0 + H, 'the app\'s trials began before day 0');
  stripeUser('conv', 'loyal', 3, { user: 'api_trial_conv' });
  on(3, async (t) => conv.convertedElsewhere(t)); // the Stripe payment ends the app's trial
  on(3, async () => { conv.state = 'expired'; });

  spendOn(5, users.pack, 120);
  spendOn(6, 'st_loyal_0', 30);
  spendOn(12, users.appleRenews, 45);
  spendOn(20, users.rc, 15);
  spendOn(45, users.pack, 700);
  spendOn(50, 'st_trialc_0', 60);

  for (let d = 0; d < DAYS; d++) {
    const t = at(d);
    for (const fn of plan[d] || []) await fn(t);
    const r = await J.jobAsync(env, 'grace-expiry', [], { now: t });
    assert.strictEqual(r.code, 0, `grace-expiry at ${J.iso(t)}: ${r.stderr}${r.stdout}`);
    C.graceExpiry(t);
    for (const [user, amount] of spends[d] || []) await spend(user, amount);
  }
}

function metricsJson(args, extraEnv) {
  const r = env.tally(['metrics', ...args, '--json'], extraEnv);
  assert.strictEqual(r.code, 0, `tally metrics ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const RANGE = ['--from', date(FIRST), '--to', date(LAST)];

// Every figure, day by day, live and test, by provider and product; returns the rows compared.
function checkDaily(extraEnv, what) {
  let n = 0;
  for (const live of [true, false]) {
    const doc = metricsJson([...RANGE, '--by', 'day', '--group', 'provider,product', ...(live ? [] : ['--test'])], extraEnv);
    assert.strictEqual(doc.live, live);
    n += compareRows(F.rows(live, FIRST, LAST), tallyRows(doc), `${what}, ${live ? 'live' : 'test'}, by day`);
  }
  return n;
}

test('75 days of four providers: every figure day by day equals the model', async () => {
  await simulate();
  const n = checkDaily({}, 'live database');
  assert.ok(n > 150, `${n} rows`);
  // What the year went through, so the comparison above is about something.
  const all = F.rows(true, FIRST, LAST, 'month', []);
  const sum = (c) => all.reduce((s, r) => s + r.v[col(c)], 0);
  for (const c of ['new_subs', 'trial_starts', 'conversions', 'converted', 'churn_voluntary', 'churn_billing', 'reactivations', 'refunds', 'credits_spent', 'credits_expired', 'credits_revoked']) {
    assert.ok(sum(c) > 0, `the run saw ${c}`);
  }
  assert.ok(F.rows(false, FIRST, LAST).length > 0, 'test-mode figures exist');
  for (const cur of ['USD', 'JPY', 'KWD']) assert.ok(all.some((r) => r.currency === cur && r.v[col('revenue')] > 0), cur);
});

test('by week and by month, with filters, the model\'s sums', async () => {
  compareRows(F.rows(true, FIRST, LAST, 'week', ['provider']), tallyRows(metricsJson([...RANGE, '--by', 'week', '--group', 'provider'])), 'by week, by provider');
  compareRows(F.rows(true, FIRST, LAST, 'month', []), tallyRows(metricsJson([...RANGE, '--by', 'month'])), 'by month');
  // --provider narrows the rows; --currency keeps the rows of no currency (trials, credits).
  const apple = F.rows(true, FIRST, LAST, 'month', ['provider']).filter((r) => r.provider === 'apple').map((r) => ({ ...r, provider: '' }));
  compareRows(apple, tallyRows(metricsJson([...RANGE, '--by', 'month', '--provider', 'apple'])), 'apple alone');
  const jpy = F.rows(true, FIRST, LAST, 'week', []).filter((r) => r.currency === 'JPY' || r.currency === '');
  compareRows(jpy, tallyRows(metricsJson([...RANGE, '--by', 'week', '--currency', 'jpy'])), 'JPY and no currency');
  // A range that starts late: the stocks carried into it.
  const mid = dayOf(at(50));
  compareRows(F.rows(true, mid, LAST, 'day', ['product']), tallyRows(metricsJson(['--from', date(mid), '--to', date(LAST), '--group', 'product'])), 'from day 50');
});

// A figure in the reporting currency, as docs/metrics.md says: round half away from zero.
function convert(v, cur, rate) {
  const [ip, fp = ''] = rate.split('.');
  const num = BigInt(ip + fp);
  let n = BigInt(v) * num * 10n ** 2n;
  const d = 10n ** BigInt(fp.length + EXP[cur]);
  const neg = n < 0n;
  if (neg) n = -n;
  let q = n / d;
  if ((n % d) * 2n >= d) q += 1n;
  return Number(neg ? -q : q);
}

test('in a reporting currency: each currency at the rate of the period\'s last day, named', async () => {
  const doc = metricsJson([...RANGE, '--by', 'week']);
  assert.strictEqual(doc.reporting.currency, 'USD');
  const rows = F.rows(true, FIRST, LAST, 'week', []);
  const starts = [...new Set(rows.map((r) => r.start))];
  assert.strictEqual(doc.reporting.totals.length, starts.length);
  let incomplete = 0;
  for (const s of starts) {
    const t = doc.reporting.totals.find((x) => x.start === s);
    const want = { mrr: 0, revenue: 0, refunded: 0, complete: true, rates: [] };
    const end = rows.find((r) => r.start === s).end;
    const endDay = Date.parse(`${end}T00:00:00Z`) / DAY;
    for (const r of rows.filter((x) => x.start === s && x.currency)) {
      if (r.currency === 'USD') {
        for (const k of ['mrr', 'revenue', 'refunded']) want[k] += r.v[col(k)];
        continue;
      }
      const rate = RATES[r.currency].filter(([day]) => day <= endDay).pop();
      want.rates.push({ currency: r.currency, rate: rate ? rate[1] : null, date: rate ? date(rate[0]) : null });
      if (!rate) { want.complete = false; continue; }
      for (const k of ['mrr', 'revenue', 'refunded']) want[k] += convert(r.v[col(k)], r.currency, rate[1]);
    }
    if (!want.complete) incomplete++;
    assert.deepStrictEqual({ mrr: t.mrr, arr: t.arr, revenue: t.revenue, refunded: t.refunded, complete: t.complete, rates: t.rates },
      { ...want, arr: want.mrr * 12, rates: want.rates.sort((a, b) => a.currency.localeCompare(b.currency)) }, `week of ${s}`);
  }
  assert.ok(incomplete > 0 && incomplete < starts.length, `${incomplete} of ${starts.length} weeks lack the KWD rate`);
  assert.ok(doc.reporting.totals.some((t) => t.rates.some((r) => r.currency === 'JPY' && r.rate === '0.0065')), 'the JPY rate changed');
});

// money_text: major units with the currency's digits and its code.
function moneyText(v, cur) {
  const e = EXP[cur];
  const a = Math.abs(v);
  const s = e ? `${Math.floor(a / 10 ** e)}.${String(a % 10 ** e).padStart(e, '0')}` : String(a);
  return `${v < 0 ? '-' : ''}${s} ${cur}`;
}

test('the table for people and the CSV say what the JSON says', async () => {
  const args = [...RANGE, '--by', 'month'];
  const doc = metricsJson(args);
  const csv = env.tally(['metrics', ...args, '--csv']);
  assert.strictEqual(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  const head = lines[0].split(',');
  assert.deepStrictEqual(head.slice(0, 6), ['kind', 'start', 'end', 'provider', 'product', 'currency']);
  const figs = lines.slice(1).filter((l) => l.startsWith('figures,')).map((l) => {
    const f = l.split(',');
    const o = Object.fromEntries(head.map((h, i) => [h, f[i]]));
    return { start: o.start, end: o.end, provider: '', product: '', currency: o.currency, v: COLS.map((c) => Number(o[c])) };
  });
  compareRows(tallyRows(doc), figs, 'CSV against JSON');
  assert.strictEqual(lines.filter((l) => /^total(_incomplete)?,/.test(l)).length, doc.reporting.totals.length);
  const text = env.tally(['metrics', ...args]);
  assert.strictEqual(text.code, 0, text.stderr);
  assert.match(text.stdout, /^live metrics \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d by month\n/);
  assert.match(text.stdout, /\n *period +currency +MRR +ARR +paying/);
  for (const r of doc.rows.filter((x) => x.currency)) {
    const line = text.stdout.split('\n').find((l) => l.includes(r.start) && l.includes(` ${r.currency} `));
    assert.ok(line, `a line for ${r.start} ${r.currency}`);
    assert.ok(line.includes(moneyText(r.mrr, r.currency)) && line.includes(moneyText(r.revenue, r.currency)), `${line} shows ${moneyText(r.mrr, r.currency)}`);
  }
  assert.match(text.stdout, /\nin USD \(each currency at the rate in force on the period's last day\):\n/);
  assert.match(text.stdout, /rates: JPY 0\.006[57] \d{4}-\d\d-\d\d/);
  const none = env.tally(['metrics', '--from', '2001-01-01', '--to', '2001-01-31']);
  assert.strictEqual(none.code, 0);
  assert.match(none.stdout, /nothing recorded in this range/);
});

test('the CLI refuses bad options with a usage error that says which', async () => {
  const bad = [
    [['--by', 'year'], /by: expected day, week or month/],
    [['--from', '2026-13-01'], /from: expected a date/],
    [['--to', 'yesterday'], /to: expected a date/],
    [['--currency', 'US$'], /currency: expected a currency code/],
    [['--group', 'user'], /group: expected provider, product/],
    [['--from', '2026-02-01', '--to', '2026-01-01'], /from is after to/],
    [['--from', '2000-01-01', '--to', '2026-01-01'], /more than 3660 days/],
    [['--json', '--csv'], /choose one/],
    [['--limit', '5'], /./],
    [['--user', 'x'], /does not take this option/],
  ];
  for (const [args, re] of bad) {
    const r = env.tally(['metrics', ...args]);
    assert.strictEqual(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('GET /v1/metrics: the same report; admin scope; bad parameters 400 with the reason', async () => {
  const qs = `from=${date(FIRST)}&to=${date(LAST)}&by=week&group=provider%2Cproduct&currency=JPY`;
  const r = await env.api('GET', `/v1/metrics?${qs}`);
  assert.strictEqual(r.status, 200, r.text);
  assert.deepStrictEqual(r.json, metricsJson([...RANGE, '--by', 'week', '--group', 'provider,product', '--currency', 'JPY']));
  const t = await env.api('GET', `/v1/metrics?from=${date(FIRST)}&to=${date(LAST)}&test`);
  assert.strictEqual(t.status, 200, t.text);
  assert.strictEqual(t.json.live, false);
  compareRows(F.rows(false, FIRST, LAST, 'day', []), tallyRows(t.json), 'API, test data');
  const read = await env.api('GET', '/v1/metrics', undefined, env.keys.read);
  assert.strictEqual(read.status, 403, read.text);
  assert.match(read.json.error.message, /admin/);
  const none = await env.request('GET', '/v1/metrics');
  assert.strictEqual(none.status, 401);
  const post = await env.api('POST', '/v1/metrics', {});
  assert.strictEqual(post.status, 405);
  const bad = [
    ['by=year', /by: expected day, week or month, not "year"/],
    ['from=2026-13-01', /from: expected a date/],
    ['currency=US%24', /currency: expected a currency code/],
    ['from=2026-01-01&from=2026-01-02', /"from": given twice/],
    ['limit=5', /unknown option "limit"/],
    ['from=2026-02-01&to=2026-01-01', /from is after to/],
    ['test=maybe', /test: expected true or false/],
    ['from=%zz', /malformed/],
    ['to', /to: a value is missing/],
  ];
  for (const [q, re] of bad) {
    const b = await env.api('GET', `/v1/metrics?${q}`);
    assert.strictEqual(b.status, 400, `${q}: ${b.text}`);
    assert.strictEqual(b.json.error.code, 'bad_parameter', q);
    assert.match(b.json.error.message, re, q);
  }
});

test('GET /metrics: today\'s MRR per currency, paying subscriptions and trials per provider', async () => {
  const r = await env.request('GET', '/metrics', undefined, { Authorization: `Bearer ${env.keys.admin}` });
  assert.strictEqual(r.status, 200, r.text);
  const today = dayOf(Date.now());
  const rows = F.rows(true, today, today, 'day', ['provider']);
  const gauge = (name, label, value) => {
    const m = new RegExp(`^${name}\\{${label}="${value}"\\} (-?\\d+)$`, 'm').exec(r.text);
    return m ? Number(m[1]) : 0;
  };
  for (const cur of ['USD', 'JPY', 'KWD']) {
    const want = rows.filter((x) => x.currency === cur).reduce((s, x) => s + x.v[col('mrr')], 0);
    assert.strictEqual(gauge('tally_mrr_minor_units', 'currency', cur), want, `MRR ${cur}`);
  }
  for (const p of ['stripe', 'apple', 'revenuecat', 'app']) {
    assert.strictEqual(gauge('tally_subscriptions_paying', 'provider', p), rows.filter((x) => x.provider === p).reduce((s, x) => s + x.v[col('paying')], 0), `paying ${p}`);
    assert.strictEqual(gauge('tally_subscriptions_trialing', 'provider', p), rows.filter((x) => x.provider === p).reduce((s, x) => s + x.v[col('trials')], 0), `trials ${p}`);
  }
  assert.ok(gauge('tally_subscriptions_trialing', 'provider', 'app') > 0, 'the app\'s trials are today\'s');
  assert.match(r.text, /^# TYPE tally_events_total counter$/m, 'the counters are still there');
});

test('tally rebuild: the replayed database gives the same figures; rebuild --metrics too', async () => {
  const into = `${env.dir}/rebuilt.db`;
  const rb = env.tally(['rebuild', '--into', into, '--json']);
  const doc = JSON.parse(rb.stdout);
  const kpi = doc.differences.filter((d) => ['kpi_daily', 'kpi_subs', 'sub_history', 'refunds'].includes(d.table));
  assert.deepStrictEqual(kpi, [], 'the metrics\' tables replay to the same rows');
  assert.strictEqual(doc.identical, true, JSON.stringify(doc.differences.slice(0, 5)));
  assert.strictEqual(rb.code, 0);
  checkDaily({ TALLY_DB: into }, 'rebuilt database');
  const before = metricsJson([...RANGE, '--by', 'week', '--group', 'provider,product']);
  const again = env.tally(['rebuild', '--metrics']);
  assert.strictEqual(again.code, 0, again.stderr);
  assert.match(again.stdout, /computed again from their history: \d+ rows/);
  assert.deepStrictEqual(metricsJson([...RANGE, '--by', 'week', '--group', 'provider,product']), before);
  assert.ok(env.verify().ok, JSON.stringify(env.verify().doc));
});

test('tally verify: a rollup edited by hand no longer equals its history; rebuild --metrics mends it', async () => {
  env.sql('UPDATE kpi_daily SET mrr = mrr + 1 WHERE (live, day, provider, product_id, currency) = (SELECT live, day, provider, product_id, currency FROM kpi_daily WHERE mrr != 0 LIMIT 1)');
  env.sql("UPDATE kpi_daily SET revenue = revenue + 7 WHERE currency = 'JPY' AND revenue > 0 AND day = (SELECT max(day) FROM kpi_daily WHERE currency = 'JPY' AND revenue > 0)");
  const v = env.verify();
  assert.strictEqual(v.ok, false);
  const found = v.doc.violations.filter((x) => x.check === 'kpi_rollups_equal_history');
  assert.strictEqual(found.length, 4, JSON.stringify(v.doc)); // each edited row, from both sides
  assert.ok(found.some((x) => / live apple\/pro_yearly\/JPY: | live apple\/pro_monthly\/JPY: /.test(x.detail)), JSON.stringify(found));
  env.sql("UPDATE kpi_levels SET trials = trials + 1 WHERE (live, provider, product_id, currency) = (SELECT live, provider, product_id, currency FROM kpi_levels WHERE live = 1 LIMIT 1)");
  assert.ok(env.verify().doc.violations.some((x) => x.check === 'kpi_levels_equal_rollups'));
  env.sql("UPDATE kpi_subs SET status = 'none', mrr = 0 WHERE status = 'paying' AND rowid = (SELECT min(rowid) FROM kpi_subs WHERE status = 'paying')");
  assert.ok(env.verify().doc.violations.some((x) => x.check === 'kpi_subs_equal_history'));
  assert.ok(env.verify().doc.violations.some((x) => x.check === 'kpi_subs_follow_subscription'));
  env.sql("UPDATE kpi_subs SET status = 'paying', mrr = (SELECT SUM(mrr) FROM sub_history h WHERE h.subscription_id = kpi_subs.subscription_id) WHERE status = 'none' AND subscription_id IN (SELECT subscription_id FROM sub_history GROUP BY subscription_id HAVING SUM(paying) = 1)");
  assert.strictEqual(env.tally(['rebuild', '--metrics']).code, 0);
  const after = env.verify();
  assert.ok(after.ok, JSON.stringify(after.doc));
  checkDaily({}, 'after rebuild --metrics');
});

run({
  before: async () => {
    pki = A.makePki();
    const rates = {};
    for (const [cur, list] of Object.entries(RATES)) rates[cur] = Object.fromEntries(list.map(([d, r]) => [date(d), r]));
    const cfg = {
      stripe: { test_mode: true },
      apple: { bundle_id: A.BUNDLE, app_apple_id: A.APP_ID, sandbox: true, roots: [pki.root.pem] },
      revenuecat: { sandbox: false },
      policy: { grace_period: '7d', renewal_leeway: '1d' },
      trial: { product: 'pro_monthly', duration: '7d' },
      metrics: { currency: 'USD', rates },
      products: {
        pro_monthly: { kind: 'subscription', entitlements: ['pro'], credits: 1000, trial_credits: 100, match: { stripe: ['price_pro_monthly'], apple: [APPLE_PRO, RC_PRO] } },
        team_monthly: { kind: 'subscription', entitlements: ['pro', 'team'], credits: 5000, match: { stripe: ['price_team_monthly'] } },
        pro_yearly: { kind: 'subscription', entitlements: ['pro'], credits: 1000, match: { stripe: ['price_pro_yearly'], apple: [APPLE_YEARLY] } },
        credits_500: { kind: 'pack', credits: 500, match: { stripe: ['price_credits_500'], apple: [RC_PACK] } },
      },
    };
    env = await Env.start({
      config: cfg, handlers: ['api', 'stripe', 'appstore', 'revenuecat'],
      env: { TALLY_JWT_SECRET: JWT_SECRET, REVENUECAT_WEBHOOK_AUTH: RC_AUTH },
    });
    env.keys = {};
    for (const [name, scopes] of [['admin', 'read,spend,admin'], ['read', 'read']]) env.keys[name] = env.tallyJson(['keys', 'create', '--name', name, '--scopes', scopes]).key;
    env.api = (method, path, body, key = env.keys.admin) => env.request(method, path, body === undefined ? undefined : JSON.stringify(body), {
      Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    });
    return env;
  },
  after: async (e, failed) => { await e.stop(failed > 0 && process.env.KEEP); },
});
