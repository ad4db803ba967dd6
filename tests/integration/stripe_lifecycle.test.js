'use strict';
// The life of Stripe customers through nginx + tally-stripe, in both API shapes
// (before and since 2025-03-31.basil), checked against expectations written here:
// the credit policy (SET on subscribe, RESET on renewal and plan change, ADD for
// packs, KEEP on cancel until access ends), states, entitlements, refunds,
// ordering and deduplication.
const { test, run, assert } = require('../lib/t');
const { Env, DEFAULT_CATALOG } = require('../lib/harness');
const S = require('../lib/stripe-events');

const DAY = S.DAY;

async function ok(env, evt) {
  const r = await env.stripe(evt);
  assert.strictEqual(r.status, 200, `${evt.type}: ${r.status} ${r.text}`);
  return r.json;
}

function ent(doc, name) {
  return doc.entitlements.find((e) => e.name === name);
}

// A customer who subscribes through Checkout: checkout, subscription created, first invoice paid.
async function subscribe(env, v, o) {
  const c = {
    user: o.user, cus: S.rid('cus'), sub: S.rid('sub'), inv: S.rid('in'), pi: S.rid('pi'), ch: S.rid('ch'),
    price: o.price || 'price_pro_monthly', start: o.start || S.nowS(), t: o.t || S.nowS(),
  };
  c.end = c.start + 30 * DAY;
  await ok(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'subscription', customer: c.cus, subscription: c.sub, clientReferenceId: c.user, invoice: c.inv,
  }), { version: v, created: c.t }));
  await ok(env, S.event('customer.subscription.created', S.subscription({
    id: c.sub, customer: c.cus, price: c.price, status: 'active', periodStart: c.start, periodEnd: c.end, version: v,
  }), { version: v, created: c.t }));
  await ok(env, S.event('invoice.paid', S.invoice({
    id: c.inv, customer: c.cus, subscription: c.sub, price: c.price, billingReason: 'subscription_create',
    periodStart: c.start, periodEnd: c.end, paymentIntent: c.pi, charge: c.ch, version: v,
  }), { version: v, created: c.t }));
  if (v === S.BASIL) {
    await ok(env, S.event('invoice_payment.paid', S.invoicePayment({ invoice: c.inv, paymentIntent: c.pi }), { version: v, created: c.t }));
  }
  return c;
}

// The renewal of c for the next period: invoice.paid (subscription_cycle) and the subscription update.
async function renew(env, v, c, t) {
  const start = c.end;
  const end = start + 30 * DAY;
  const inv = S.rid('in');
  const pi = S.rid('pi');
  await ok(env, S.event('invoice.paid', S.invoice({
    id: inv, customer: c.cus, subscription: c.sub, price: c.price, billingReason: 'subscription_cycle',
    periodStart: start, periodEnd: end, paymentIntent: pi, version: v,
  }), { version: v, created: t }));
  await ok(env, S.event('customer.subscription.updated', S.subscription({
    id: c.sub, customer: c.cus, price: c.price, status: 'active', periodStart: start, periodEnd: end, version: v,
  }), { version: v, created: t, previous: { items: {} } }));
  c.start = start;
  c.end = end;
  return { inv, pi };
}

function revoke(env, user, amount) {
  const r = env.tally(['credits', 'revoke', user, String(amount), '--reason', 'usage in test', '--operator', 'test']);
  assert.strictEqual(r.code, 0, r.stderr);
}

function buyPack(env, v, user, t) {
  const pi = S.rid('pi');
  return ok(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: pi, clientReferenceId: user, metadata: { product: 'credits_500' }, amountTotal: 500,
  }), { version: v, created: t })).then((j) => ({ pi, inbox: j.inbox_id }));
}

for (const v of [S.PRE_BASIL, S.BASIL]) {
  const tag = v === S.BASIL ? 'basil' : 'pre-basil';

  test(`${tag}: subscribe sets credits, grants the entitlement, one grant for checkout + invoice`, async (env) => {
    const c = await subscribe(env, v, { user: `sub-${tag}` });
    const doc = env.user(c.user);
    assert.strictEqual(doc.balance.available, 1000);
    assert.strictEqual(doc.balance.grants.length, 1);
    assert.strictEqual(doc.subscriptions[0].state, 'active');
    assert.strictEqual(doc.subscriptions[0].product, 'pro_monthly');
    assert.strictEqual(doc.subscriptions[0].period_end, new Date(c.end * 1000).toISOString().replace('.000Z', 'Z'));
    assert.ok(ent(doc, 'pro'), 'pro entitlement');
    const payments = env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${c.user}'`);
    assert.strictEqual(payments[0].n, 1);
  });

  test(`${tag}: invoice.paid before checkout is kept, then applied when checkout links the customer`, async (env) => {
    const user = `early-inv-${tag}`;
    const cus = S.rid('cus');
    const sub = S.rid('sub');
    const inv = S.rid('in');
    const t = S.nowS();
    const j = await ok(env, S.event('invoice.paid', S.invoice({
      id: inv, customer: cus, subscription: sub, price: 'price_pro_monthly', version: v,
    }), { version: v, created: t }));
    assert.strictEqual(j.state, 'orphaned');
    assert.strictEqual(env.user(user), null);
    await ok(env, S.event('checkout.session.completed', S.checkoutSession({
      mode: 'subscription', customer: cus, subscription: sub, clientReferenceId: user,
    }), { version: v, created: t }));
    const doc = env.user(user);
    assert.strictEqual(doc.balance.available, 1000);
    assert.strictEqual(doc.subscriptions[0].state, 'active');
    assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${j.inbox_id}`)[0].state, 'applied');
  });

  test(`${tag}: invoice.paid and invoice.payment_succeeded of one invoice grant once`, async (env) => {
    const c = await subscribe(env, v, { user: `both-inv-${tag}` });
    const again = await ok(env, S.event('invoice.payment_succeeded', S.invoice({
      id: c.inv, customer: c.cus, subscription: c.sub, price: c.price, billingReason: 'subscription_create',
      periodStart: c.start, periodEnd: c.end, version: v,
    }), { version: v, created: c.t }));
    assert.strictEqual(again.state, 'applied');
    assert.match(again.reason, /already recorded/);
    assert.strictEqual(env.user(c.user).balance.available, 1000);
  });

  test(`${tag}: the user can come from the subscription's metadata alone`, async (env) => {
    const user = `meta-${tag}`;
    const j = await ok(env, S.event('invoice.paid', S.invoice({
      id: S.rid('in'), customer: S.rid('cus'), subscription: S.rid('sub'), price: 'price_pro_monthly',
      subMetadata: { user_id: user }, version: v,
    }), { version: v }));
    assert.strictEqual(j.state, 'applied', j.reason);
    assert.strictEqual(env.user(user).balance.available, 1000);
  });

  test(`${tag}: renewal resets subscription credits, packs are kept`, async (env) => {
    const c = await subscribe(env, v, { user: `renew-${tag}` });
    await buyPack(env, v, c.user, c.t);
    revoke(env, c.user, 300); // spends the subscription credits first: they expire soonest
    let doc = env.user(c.user);
    assert.strictEqual(doc.balance.available, 1200);
    await renew(env, v, c, c.t + 10);
    doc = env.user(c.user);
    assert.strictEqual(doc.balance.available, 1500, 'unused credits do not carry over; the pack stays');
    const sub = doc.balance.grants.find((g) => g.source === 'subscription');
    assert.strictEqual(sub.remaining, 1000);
    assert.strictEqual(sub.expires_at, new Date((c.end + DAY) * 1000).toISOString().replace('.000Z', 'Z'));
    const resets = env.sql(`SELECT sum(amount) AS s FROM ledger WHERE user_id = '${c.user}' AND kind = 'reset'`);
    assert.strictEqual(resets[0].s, -700);
    assert.strictEqual(doc.subscriptions[0].period_end, new Date(c.end * 1000).toISOString().replace('.000Z', 'Z'));
  });

  test(`${tag}: a renewal for a period already granted grants nothing`, async (env) => {
    const c = await subscribe(env, v, { user: `stale-renew-${tag}` });
    const firstEnd = c.end;
    await renew(env, v, c, c.t + 10);
    await renew(env, v, c, c.t + 20);
    assert.strictEqual(env.user(c.user).balance.available, 1000);
    // The first renewal's invoice again, as a different event (a late resend) — its period is behind.
    const j = await ok(env, S.event('invoice.paid', S.invoice({
      id: S.rid('in'), customer: c.cus, subscription: c.sub, price: c.price, billingReason: 'subscription_cycle',
      periodStart: firstEnd - 30 * DAY, periodEnd: firstEnd, version: v,
    }), { version: v, created: c.t + 5 }));
    assert.match(j.reason, /already granted/);
    assert.strictEqual(env.user(c.user).balance.available, 1000);
  });

  test(`${tag}: packs add and never expire`, async (env) => {
    const user = `packs-${tag}`;
    await buyPack(env, v, user);
    await buyPack(env, v, user);
    const doc = env.user(user);
    assert.strictEqual(doc.balance.available, 1000);
    assert.strictEqual(doc.balance.grants.length, 2);
    for (const g of doc.balance.grants) assert.strictEqual(g.expires_at, null);
    assert.strictEqual(doc.subscriptions.length, 0);
  });

  test(`${tag}: upgrade resets credits to the new plan at once, once`, async (env) => {
    const c = await subscribe(env, v, { user: `upgrade-${tag}` });
    revoke(env, c.user, 300);
    await ok(env, S.event('customer.subscription.updated', S.subscription({
      id: c.sub, customer: c.cus, price: 'price_team_monthly', status: 'active', periodStart: c.start, periodEnd: c.end, version: v,
    }), { version: v, created: c.t + 10, previous: { items: {} } }));
    let doc = env.user(c.user);
    assert.strictEqual(doc.balance.available, 5000);
    assert.strictEqual(doc.subscriptions[0].product, 'team_monthly');
    assert.ok(ent(doc, 'team') && ent(doc, 'pro'));
    // The proration invoice of the same change grants nothing more.
    await ok(env, S.event('invoice.paid', S.invoice({
      id: S.rid('in'), customer: c.cus, subscription: c.sub, billingReason: 'subscription_update', version: v,
      lines: [{ price: 'price_pro_monthly', amount: -700, proration: true }, { price: 'price_team_monthly', amount: 3000, proration: true }],
      amount: 2300, periodStart: c.start, periodEnd: c.end,
    }), { version: v, created: c.t + 11 }));
    doc = env.user(c.user);
    assert.strictEqual(doc.balance.available, 5000);
  });

  test(`${tag}: downgrade resets to the smaller plan and drops its entitlement`, async (env) => {
    const c = await subscribe(env, v, { user: `downgrade-${tag}`, price: 'price_team_monthly' });
    assert.strictEqual(env.user(c.user).balance.available, 5000);
    await ok(env, S.event('customer.subscription.updated', S.subscription({
      id: c.sub, customer: c.cus, price: 'price_pro_monthly', status: 'active', periodStart: c.start, periodEnd: c.end, version: v,
    }), { version: v, created: c.t + 10 }));
    const doc = env.user(c.user);
    assert.strictEqual(doc.balance.available, 1000);
    assert.ok(ent(doc, 'pro'));
    assert.strictEqual(ent(doc, 'team'), undefined);
  });

  test(`${tag}: cancel at period end keeps access and credits until the period ends`, async (env) => {
    const c = await subscribe(env, v, { user: `cancel-${tag}` });
    await ok(env, S.event('customer.subscription.updated', S.subscription({
      id: c.sub, customer: c.cus, price: c.price, status: 'active', cancelAtPeriodEnd: true, periodStart: c.start, periodEnd: c.end, version: v,
    }), { version: v, created: c.t + 10 }));
    let doc = env.user(c.user);
    const iso = new Date(c.end * 1000).toISOString().replace('.000Z', 'Z');
    assert.strictEqual(doc.subscriptions[0].state, 'canceled');
    assert.strictEqual(doc.subscriptions[0].access, true);
    assert.strictEqual(doc.subscriptions[0].access_until, iso);
    assert.strictEqual(ent(doc, 'pro').ends_at, iso);
    assert.strictEqual(doc.balance.available, 1000);
    assert.strictEqual(doc.balance.grants[0].expires_at, iso);
    // Changed their mind: renews again.
    await ok(env, S.event('customer.subscription.updated', S.subscription({
      id: c.sub, customer: c.cus, price: c.price, status: 'active', cancelAtPeriodEnd: false, periodStart: c.start, periodEnd: c.end, version: v,
    }), { version: v, created: c.t + 20 }));
    doc = env.user(c.user);
    assert.strictEqual(doc.subscriptions[0].state, 'active');
  });

  test(`${tag}: deletion ends access and expires subscription credits, packs stay`, async (env) => {
    const c = await subscribe(env, v, { user: `deleted-${tag}` });
    await buyPack(env, v, c.user, c.t);
    await ok(env, S.event('customer.subscription.deleted', S.subscription({
      id: c.sub, customer: c.cus, price: c.price, status: 'canceled', periodStart: c.start, periodEnd: c.end, endedAt: c.t + 10, version: v,
    }), { version: v, created: c.t + 10 }));
    const doc = env.user(c.user);
    assert.strictEqual(doc.subscriptions[0].state, 'expired');
    assert.strictEqual(doc.subscriptions[0].access, false);
    assert.strictEqual(doc.entitlements.length, 0);
    assert.strictEqual(doc.balance.available, 500);
    const exp = env.sql(`SELECT sum(amount) AS s FROM ledger WHERE user_id = '${c.user}' AND kind = 'expire'`);
    assert.strictEqual(exp[0].s, -1000);
  });

  test(`${tag}: free trial gets trial credits, converts to full credits on first paid invoice`, async (env) => {
    const user = `trial-${tag}`;
    const cus = S.rid('cus');
    const sub = S.rid('sub');
    const t = S.nowS();
    const trialEnd = t + 7 * DAY;
    await ok(env, S.event('checkout.session.completed', S.checkoutSession({
      mode: 'subscription', customer: cus, subscription: sub, clientReferenceId: user, paymentStatus: 'no_payment_required', amountTotal: 0,
    }), { version: v, created: t }));
    await ok(env, S.event('customer.subscription.created', S.subscription({
      id: sub, customer: cus, price: 'price_pro_monthly', status: 'trialing', trialStart: t, trialEnd, periodStart: t, periodEnd: trialEnd, version: v,
    }), { version: v, created: t }));
    await ok(env, S.event('invoice.paid', S.invoice({
      id: S.rid('in'), customer: cus, subscription: sub, price: 'price_pro_monthly', amount: 0, periodStart: t, periodEnd: trialEnd, version: v,
    }), { version: v, created: t }));
    let doc = env.user(user);
    assert.strictEqual(doc.subscriptions[0].state, 'trialing');
    assert.strictEqual(doc.balance.available, 100);
    assert.strictEqual(doc.balance.grants[0].source, 'trial');
    assert.ok(ent(doc, 'pro'));
    assert.strictEqual(ent(doc, 'pro').ends_at, new Date(trialEnd * 1000).toISOString().replace('.000Z', 'Z'));

    const before = env.sql(`SELECT count(*) AS n FROM outbox WHERE topic = 'trial_will_end' AND user_id = '${user}'`)[0].n;
    await ok(env, S.event('customer.subscription.trial_will_end', S.subscription({
      id: sub, customer: cus, price: 'price_pro_monthly', status: 'trialing', trialEnd, periodStart: t, periodEnd: trialEnd, version: v,
    }), { version: v, created: t + 1 }));
    const notes = env.sql(`SELECT kind, payload FROM outbox WHERE topic = 'trial_will_end' AND user_id = '${user}'`);
    assert.strictEqual(notes.length, before + 1);
    assert.strictEqual(notes[0].kind, 'notify');
    assert.strictEqual(JSON.parse(notes[0].payload).subscription, sub);

    await ok(env, S.event('invoice.paid', S.invoice({
      id: S.rid('in'), customer: cus, subscription: sub, price: 'price_pro_monthly', billingReason: 'subscription_cycle',
      periodStart: trialEnd, periodEnd: trialEnd + 30 * DAY, version: v,
    }), { version: v, created: t + 2 }));
    doc = env.user(user);
    assert.strictEqual(doc.subscriptions[0].state, 'active');
    assert.strictEqual(doc.balance.available, 1000);
  });

  test(`${tag}: a failed renewal keeps access through grace, recovery renews`, async (env) => {
    const c = await subscribe(env, v, { user: `pastdue-${tag}` });
    const t = c.t + 10;
    await ok(env, S.event('invoice.payment_failed', S.invoice({
      id: S.rid('in'), customer: c.cus, subscription: c.sub, price: c.price, billingReason: 'subscription_cycle',
      status: 'open', paid: false, periodStart: c.end, periodEnd: c.end + 30 * DAY, version: v,
    }), { version: v, created: t }));
    let doc = env.user(c.user);
    assert.strictEqual(doc.subscriptions[0].state, 'past_due');
    assert.strictEqual(doc.subscriptions[0].access, true);
    assert.strictEqual(doc.subscriptions[0].grace_until, new Date((t + 7 * DAY) * 1000).toISOString().replace('.000Z', 'Z'));
    assert.ok(ent(doc, 'pro'));
    const n = env.sql(`SELECT count(*) AS n FROM outbox WHERE topic = 'payment_failed' AND user_id = '${c.user}'`)[0].n;
    assert.strictEqual(n, 1);
    await renew(env, v, c, t + 10);
    doc = env.user(c.user);
    assert.strictEqual(doc.subscriptions[0].state, 'active');
    assert.strictEqual(doc.subscriptions[0].grace_until, null);
    assert.strictEqual(doc.balance.available, 1000);
  });

  test(`${tag}: a failed first payment never gives access`, async (env) => {
    const user = `incomplete-${tag}`;
    const cus = S.rid('cus');
    const sub = S.rid('sub');
    await ok(env, S.event('customer.subscription.created', S.subscription({
      id: sub, customer: cus, price: 'price_pro_monthly', status: 'incomplete', metadata: { user_id: user }, version: v,
    }), { version: v }));
    await ok(env, S.event('invoice.payment_failed', S.invoice({
      id: S.rid('in'), customer: cus, subscription: sub, price: 'price_pro_monthly', status: 'open', paid: false, version: v,
    }), { version: v }));
    const doc = env.user(user);
    assert.strictEqual(doc.subscriptions[0].state, 'incomplete');
    assert.strictEqual(doc.subscriptions[0].access, false);
    assert.strictEqual(doc.entitlements.length, 0);
    assert.strictEqual(doc.balance.available, 0);
  });

  test(`${tag}: a full refund revokes the plan and claws back its credits`, async (env) => {
    const c = await subscribe(env, v, { user: `refund-${tag}` });
    await buyPack(env, v, c.user, c.t);
    revoke(env, c.user, 200);
    await ok(env, S.event('charge.refunded', S.charge({
      id: c.ch, paymentIntent: c.pi, invoice: c.inv, amount: 1000, customer: c.cus, version: v,
    }), { version: v, created: c.t + 10 }));
    const doc = env.user(c.user);
    assert.strictEqual(doc.subscriptions[0].state, 'refunded');
    assert.strictEqual(doc.subscriptions[0].access, false);
    assert.strictEqual(doc.entitlements.length, 0);
    assert.strictEqual(doc.balance.available, 500, 'the pack stays');
    const claw = env.sql(`SELECT sum(amount) AS s FROM ledger WHERE user_id = '${c.user}' AND kind = 'clawback'`);
    assert.strictEqual(claw[0].s, -800);
    assert.strictEqual(env.sql(`SELECT state FROM payments WHERE user_id = '${c.user}' AND kind = 'initial'`)[0].state, 'refunded');
    // The same refund again (another event about it) changes nothing.
    const j = await ok(env, S.event('charge.refunded', S.charge({
      id: c.ch, paymentIntent: c.pi, invoice: c.inv, amount: 1000, customer: c.cus, version: v,
    }), { version: v, created: c.t + 11 }));
    assert.match(j.reason, /already refunded/);
    assert.strictEqual(env.user(c.user).balance.available, 500);
  });

  test(`${tag}: refund of a pack claws back that pack only`, async (env) => {
    const c = await subscribe(env, v, { user: `packrefund-${tag}` });
    const p = await buyPack(env, v, c.user, c.t);
    await ok(env, S.event('charge.refunded', S.charge({ paymentIntent: p.pi, amount: 500, customer: null, version: v }), { version: v }));
    const doc = env.user(c.user);
    assert.strictEqual(doc.balance.available, 1000);
    assert.strictEqual(doc.subscriptions[0].state, 'active');
  });

  test(`${tag}: a partial refund revokes nothing and raises an alert`, async (env) => {
    const c = await subscribe(env, v, { user: `partial-${tag}` });
    const j = await ok(env, S.event('charge.refunded', S.charge({
      id: c.ch, paymentIntent: c.pi, invoice: c.inv, amount: 1000, amountRefunded: 300, refunded: false, customer: c.cus, version: v,
    }), { version: v, created: c.t + 10 }));
    assert.match(j.reason, /partial refund/);
    const doc = env.user(c.user);
    assert.strictEqual(doc.subscriptions[0].state, 'active');
    assert.strictEqual(doc.balance.available, 1000);
    const alerts = env.sql(`SELECT count(*) AS n FROM outbox WHERE kind = 'alert' AND topic = 'payment.partial_refund' AND user_id = '${c.user}'`);
    assert.strictEqual(alerts[0].n, 1);
  });

  test(`${tag}: a dispute revokes at once and alerts`, async (env) => {
    const c = await subscribe(env, v, { user: `dispute-${tag}` });
    await ok(env, S.event('charge.dispute.created', S.dispute({ charge: c.ch, paymentIntent: c.pi, amount: 1000 }), { version: v, created: c.t + 10 }));
    const doc = env.user(c.user);
    assert.strictEqual(doc.subscriptions[0].state, 'revoked');
    assert.strictEqual(doc.entitlements.length, 0);
    assert.strictEqual(doc.balance.available, 0);
    const alerts = env.sql(`SELECT count(*) AS n FROM outbox WHERE kind = 'alert' AND topic = 'payment.disputed' AND user_id = '${c.user}'`);
    assert.strictEqual(alerts[0].n, 1);
  });

  test(`${tag}: an older update delivered late does not roll state back`, async (env) => {
    const c = await subscribe(env, v, { user: `order-${tag}` });
    await ok(env, S.event('customer.subscription.updated', S.subscription({
      id: c.sub, customer: c.cus, price: c.price, status: 'active', cancelAtPeriodEnd: true, periodStart: c.start, periodEnd: c.end, version: v,
    }), { version: v, created: c.t + 20 }));
    const late = await ok(env, S.event('customer.subscription.updated', S.subscription({
      id: c.sub, customer: c.cus, price: 'price_team_monthly', status: 'active', periodStart: c.start, periodEnd: c.end, version: v,
    }), { version: v, created: c.t + 10 }));
    assert.match(late.reason, /older than/);
    const doc = env.user(c.user);
    assert.strictEqual(doc.subscriptions[0].state, 'canceled');
    assert.strictEqual(doc.subscriptions[0].product, 'pro_monthly');
    assert.strictEqual(doc.balance.available, 1000);
  });
}

test('created and updated of the same second settle on the later state in any order', async (env) => {
  const user = 'same-second';
  const cus = S.rid('cus');
  const sub = S.rid('sub');
  const t = S.nowS();
  const base = { id: sub, customer: cus, price: 'price_pro_monthly', metadata: { user_id: user } };
  await ok(env, S.event('customer.subscription.updated', S.subscription({ ...base, status: 'active' }), { created: t }));
  await ok(env, S.event('customer.subscription.created', S.subscription({ ...base, status: 'incomplete' }), { created: t }));
  assert.strictEqual(env.user(user).subscriptions[0].state, 'active');
});

test('a first invoice that arrives after a newer update still counts as the first grant', async (env) => {
  // The older invoice changes no state, but its credits are granted once and remembered:
  // a later proration invoice must not SET the plan credits again.
  const user = 'stale-initial';
  const cus = S.rid('cus');
  const sub = S.rid('sub');
  const t = S.nowS();
  const base = { customer: cus, subscription: sub, price: 'price_pro_monthly', subMetadata: { user_id: user } };
  await ok(env, S.event('customer.subscription.updated', S.subscription({
    id: sub, customer: cus, price: 'price_pro_monthly', status: 'active', metadata: { user_id: user },
  }), { created: t + 20 }));
  const j = await ok(env, S.event('invoice.paid', S.invoice({ id: S.rid('in'), ...base }), { created: t + 10 }));
  assert.match(j.reason, /older than/);
  assert.strictEqual(env.user(user).balance.available, 1000);
  revoke(env, user, 800);
  await ok(env, S.event('invoice.paid', S.invoice({ id: S.rid('in'), ...base, billingReason: 'subscription_update', amount: 0 }), { created: t + 30 }));
  assert.strictEqual(env.user(user).balance.available, 200);
  const audit = env.user(user).audit.map((a) => a.action);
  assert.ok(!audit.includes('credits.reset'), audit.join(','));
});

test('credits that end with access leave an audit row', async (env) => {
  const c = await subscribe(env, S.BASIL, { user: 'audit-expire' });
  await ok(env, S.event('customer.subscription.deleted', S.subscription({
    id: c.sub, customer: c.cus, price: c.price, status: 'canceled', periodStart: c.start, periodEnd: c.end,
  }), { created: c.t + 10 }));
  const a = env.user(c.user).audit.find((x) => x.action === 'credits.expire');
  assert.ok(a, 'credits.expire audit row');
  assert.match(a.detail, /-1000 credits/);
  await renew(env, S.BASIL, await subscribe(env, S.BASIL, { user: 'audit-reset' }), S.nowS() + 5);
  assert.ok(env.user('audit-reset').audit.find((x) => x.action === 'credits.reset'));
});

test('the same event twice applies once', async (env) => {
  const user = 'twice';
  const evt = S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product: 'credits_500' },
  }));
  const a = await ok(env, evt);
  const b = await ok(env, evt);
  assert.strictEqual(a.duplicate, false);
  assert.strictEqual(b.duplicate, true);
  assert.strictEqual(b.inbox_id, a.inbox_id);
  assert.strictEqual(env.user(user).balance.available, 500);
  assert.strictEqual(env.sql(`SELECT attempts FROM inbox WHERE id = ${a.inbox_id}`)[0].attempts, 1);
});

test('two events about one payment grant once (business key)', async (env) => {
  const user = 'two-events-one-payment';
  const pi = S.rid('pi');
  const cs = S.checkoutSession({ mode: 'payment', paymentIntent: pi, clientReferenceId: user, metadata: { product: 'credits_500' } });
  await ok(env, S.event('checkout.session.completed', cs));
  const j = await ok(env, S.event('checkout.session.async_payment_succeeded', cs));
  assert.match(j.reason, /already recorded/);
  assert.strictEqual(env.user(user).balance.available, 500);
});

test('an unpaid checkout grants nothing', async (env) => {
  const user = 'unpaid-checkout';
  const j = await ok(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product: 'credits_500' }, paymentStatus: 'unpaid',
  })));
  assert.strictEqual(j.state, 'ignored');
  assert.strictEqual(env.user(user), null);
});

test('accumulating plans add each period and never expire', async (env) => {
  const c = await subscribe(env, S.BASIL, { user: 'rollover', price: 'price_rollover' });
  assert.strictEqual(env.user(c.user).balance.available, 300);
  await renew(env, S.BASIL, c, c.t + 10);
  const doc = env.user(c.user);
  assert.strictEqual(doc.balance.available, 600);
  for (const g of doc.balance.grants) assert.strictEqual(g.expires_at, null);
});

test('event types tally does not act on are stored and acknowledged', async (env) => {
  const j = await ok(env, S.event('customer.created', { id: S.rid('cus'), object: 'customer', metadata: {} }));
  assert.strictEqual(j.state, 'ignored');
  assert.match(j.reason, /not acted on/);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM inbox WHERE id = ${j.inbox_id}`)[0].n, 1);
});

test('verify is clean after every story above', async (env) => {
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
});

test('test-mode events are refused when test mode is off; live events apply', async () => {
  const cfg = JSON.parse(JSON.stringify(DEFAULT_CATALOG));
  cfg.stripe.test_mode = false;
  const env = await Env.start({ config: cfg });
  try {
    const mk = (live, user) => S.event('checkout.session.completed', S.checkoutSession({
      mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product: 'credits_500' }, livemode: live,
    }), { livemode: live });
    const t = await ok(env, mk(false, 'u_test_mode'));
    assert.strictEqual(t.state, 'ignored');
    assert.match(t.reason, /test mode/);
    assert.strictEqual(env.user('u_test_mode'), null);
    assert.strictEqual(env.sql(`SELECT live FROM inbox WHERE id = ${t.inbox_id}`)[0].live, 0);
    const l = await ok(env, mk(true, 'u_live_mode'));
    assert.strictEqual(l.state, 'applied');
    assert.strictEqual(env.user('u_live_mode').balance.available, 500);
  } finally {
    await env.stop();
  }
});

run({
  before: () => Env.start(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
