'use strict';
// RevenueCat webhook bodies in RevenueCat's own shape: {"api_version":"1.0","event":{...}} with
// every field RevenueCat sends, following RevenueCat/docs @bf39a9c
// code_blocks/integrations/webhooks/sample-events_*.json and event-types-and-fields.mdx
// (nulls where RevenueCat sends nulls, aliases, subscriber_attributes, experiments ...).
const crypto = require('crypto');

const DAY = 86400 * 1000;
const rid = (p = '') => p + crypto.randomBytes(8).toString('hex');
const uuid = () => crypto.randomUUID().toUpperCase();
const txn = () => String(100000000000000 + Math.floor(Math.random() * 899999999999999));
const anon = () => `$RCAnonymousID:${crypto.randomBytes(16).toString('hex')}`;

// Fields every subscription lifecycle event carries (sample-events_1.json and friends).
function lifecycle(type, o) {
  const purchased = o.purchased !== undefined ? o.purchased : Date.now() - 1000;
  const expires = o.expires !== undefined ? o.expires : purchased + (o.trial ? 7 : 30) * DAY;
  const user = o.user !== undefined ? o.user : anon();
  const ev = {
    event_timestamp_ms: o.at !== undefined ? o.at : Date.now(),
    product_id: o.product || 'com.tally.pro.monthly',
    period_type: o.periodType || (o.trial ? 'TRIAL' : 'NORMAL'),
    purchased_at_ms: purchased,
    expiration_at_ms: expires,
    environment: o.environment || 'PRODUCTION',
    entitlement_id: null,
    entitlement_ids: o.entitlements === undefined ? ['pro'] : o.entitlements,
    presented_offering_id: o.offering === undefined ? 'default' : o.offering,
    transaction_id: o.txn || txn(),
    original_transaction_id: o.original || o.txn || txn(),
    is_family_share: false,
    country_code: o.country || 'US',
    app_user_id: user,
    aliases: o.aliases || [user],
    original_app_user_id: o.originalUser || user,
    currency: o.currency || 'USD',
    price: o.price !== undefined ? o.price : (o.trial ? 0 : 9.99),
    price_in_purchased_currency: o.pricePurchased !== undefined ? o.pricePurchased : (o.price !== undefined ? o.price : (o.trial ? 0 : 9.99)),
    subscriber_attributes: {
      $email: { updated_at_ms: 1662955084635, value: 'firstlast@example.com' },
    },
    store: o.store || 'APP_STORE',
    takehome_percentage: 0.7,
    tax_percentage: 0.0,
    commission_percentage: 0.3,
    offer_code: null,
    metadata: null,
    renewal_number: o.renewalNumber === undefined ? null : o.renewalNumber,
    type,
    id: o.id || uuid(),
    app_id: 'app1234567890',
    experiments: [{ experiment_id: 'prexp123', experiment_variant: 'b', enrolled_at_ms: 1762274791000 }],
  };
  if (o.extra) Object.assign(ev, o.extra);
  return { event: ev, api_version: '1.0' };
}

const initialPurchase = (o = {}) => lifecycle('INITIAL_PURCHASE', o);
const renewal = (o = {}) => lifecycle('RENEWAL', { ...o, extra: { is_trial_conversion: !!o.trialConversion, ...(o.extra || {}) } });
const cancellation = (o = {}) => lifecycle('CANCELLATION', { price: 0, ...o, extra: { cancel_reason: o.reason || 'UNSUBSCRIBE', ...(o.extra || {}) } });
const uncancellation = (o = {}) => lifecycle('UNCANCELLATION', { price: 0, ...o });
const expiration = (o = {}) => lifecycle('EXPIRATION', { price: 0, ...o, extra: { expiration_reason: o.reason || 'UNSUBSCRIBE', ...(o.extra || {}) } });
const billingIssue = (o = {}) => lifecycle('BILLING_ISSUE', {
  price: 0, ...o, extra: { grace_period_expiration_at_ms: o.grace === undefined ? null : o.grace, ...(o.extra || {}) },
});
const productChange = (o = {}) => lifecycle('PRODUCT_CHANGE', { price: 0, ...o, extra: { new_product_id: o.newProduct || null } });
const paused = (o = {}) => lifecycle('SUBSCRIPTION_PAUSED', { price: 0, ...o, extra: { auto_resume_at_ms: o.autoResume || null } });
const extended = (o = {}) => lifecycle('SUBSCRIPTION_EXTENDED', { price: 0, ...o });
const refundReversed = (o = {}) => lifecycle('REFUND_REVERSED', o);

// sample-events_5.json: a consumable; expiration_at_ms is null.
function nonRenewing(o = {}) {
  const b = lifecycle('NON_RENEWING_PURCHASE', { product: 'com.tally.credits500', entitlements: null, price: 4.99, ...o });
  if (o.expires === undefined) b.event.expiration_at_ms = null;
  return b;
}

// sample-events_8.json: no app_user_id; transferred_from / transferred_to.
function transfer(o) {
  return {
    event: {
      app_id: 'app1234567890',
      event_timestamp_ms: o.at !== undefined ? o.at : Date.now(),
      id: o.id || uuid(),
      store: o.store || 'APP_STORE',
      transferred_from: o.from,
      transferred_to: o.to,
      type: 'TRANSFER',
      environment: o.environment || 'PRODUCTION',
    },
    api_version: '1.0',
  };
}

// event-types-and-fields.mdx: guaranteed fields of TEMPORARY_ENTITLEMENT_GRANT.
function temporaryGrant(o) {
  const at = o.at !== undefined ? o.at : Date.now();
  return {
    event: {
      event_timestamp_ms: at,
      app_user_id: o.user,
      purchased_at_ms: at,
      expiration_at_ms: o.expires !== undefined ? o.expires : at + DAY,
      product_id: o.product || 'com.tally.pro.monthly',
      entitlement_ids: ['pro'],
      store: o.store || 'APP_STORE',
      transaction_id: o.txn,
      type: 'TEMPORARY_ENTITLEMENT_GRANT',
      id: o.id || uuid(),
      app_id: 'app1234567890',
    },
    api_version: '1.0',
  };
}

// sample-event-invoice-issuance.json
function invoiceIssuance(o) {
  const b = lifecycle('INVOICE_ISSUANCE', { store: 'RC_BILLING', price: 9, ...o });
  Object.assign(b.event, { period_type: null, expiration_at_ms: null, transaction_id: null, original_transaction_id: null, entitlement_ids: null });
  delete b.event.price;
  return b;
}

// sample-events_15.json
function virtualCurrency(o) {
  return {
    event: {
      adjustments: (o.adjustments || [[100, 'CRD']]).map(([amount, code]) => ({
        amount, currency: { code, description: 'The main currency unit', name: 'Credits' },
      })),
      aliases: [o.user],
      app_id: 'app1234567890',
      app_user_id: o.user,
      country_code: 'US',
      event_timestamp_ms: o.at !== undefined ? o.at : Date.now(),
      product_display_name: 'Monthly sub for 100 credits',
      product_id: o.product || '1M_100credits',
      purchase_environment: o.environment || 'PRODUCTION',
      source: o.source || 'in_app_purchase',
      store: 'APP_STORE',
      subscriber_attributes: {},
      transaction_id: o.txn || txn(),
      virtual_currency_transaction_id: o.vctx || rid('vatx'),
      type: 'VIRTUAL_CURRENCY_TRANSACTION',
      id: o.id || uuid(),
      experiments: [],
    },
    api_version: '1.0',
  };
}

// A dashboard test event: RevenueCat sends a minimal event of type TEST.
function testEvent(o = {}) {
  return {
    event: {
      event_timestamp_ms: Date.now(), app_user_id: o.user || anon(), aliases: [], original_app_user_id: o.user || null,
      type: 'TEST', id: o.id || uuid(), app_id: 'app1234567890', environment: 'PRODUCTION', store: 'APP_STORE',
    },
    api_version: '1.0',
  };
}

// sample-event-experiment-enrollment.json
function experimentEnrollment(o) {
  return {
    event: {
      event_timestamp_ms: Date.now(), app_user_id: o.user, aliases: [o.user], original_app_user_id: o.user,
      experiment_id: 'prexpca1234abcd', experiment_variant: 'b', offering_id: 'experiment_offering_b',
      experiment_enrolled_at_ms: Date.now(), type: 'EXPERIMENT_ENROLLMENT', id: uuid(),
    },
    api_version: '1.0',
  };
}

// The catalog the RevenueCat tests use: products matched per store (apple, google) and under
// "revenuecat" (stores without their own catalog name: Amazon, RC Billing, promotional ...).
function config(extra = {}) {
  return {
    policy: { grace_period: '7d', renewal_leeway: '1d' },
    revenuecat: { sandbox: false, ...(extra.revenuecat || {}) },
    ...(extra.http ? { http: extra.http } : {}),
    products: {
      pro_monthly: {
        kind: 'subscription', entitlements: ['pro'], credits: 1000, trial_credits: 100,
        match: { apple: ['com.tally.pro.monthly'], google: ['pro:monthly'], stripe: ['prod_rc_pro_monthly'], revenuecat: ['rc_pro_monthly'] },
      },
      pro_yearly: {
        kind: 'subscription', entitlements: ['pro'], credits: 12000,
        match: { apple: ['com.tally.pro.yearly'], google: ['pro:yearly'] },
      },
      team_monthly: {
        kind: 'subscription', entitlements: ['pro', 'team'], credits: 5000,
        match: { apple: ['com.tally.team.monthly'] },
      },
      basic: { kind: 'subscription', entitlements: ['basic'], credits: 300, match: { google: ['basic'] } },
      credits_500: {
        kind: 'pack', credits: 500,
        match: { apple: ['com.tally.credits500'], google: ['credits_500'], revenuecat: ['rc_credits_500'] },
      },
      ...(extra.products || {}),
    },
  };
}

// POST a body (an object, or raw text/bytes) to /webhooks/revenuecat with Authorization auth
// (null: no header).
function post(env, body, auth) {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const headers = { 'Content-Type': 'application/json' };
  if (auth !== null && auth !== undefined) headers.Authorization = auth;
  return env.request('POST', '/webhooks/revenuecat', data, headers);
}

module.exports = {
  config, post,
  DAY, rid, uuid, txn, anon,
  initialPurchase, renewal, cancellation, uncancellation, expiration, billingIssue, productChange,
  paused, extended, refundReversed, nonRenewing, transfer, temporaryGrant, invoiceIssuance,
  virtualCurrency, testEvent, experimentEnrollment,
};
