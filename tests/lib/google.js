'use strict';
// Google Play documents for tests, in Google's exact field names (developers.google.com
// android-publisher api-ref v3: purchases.subscriptionsv2 SubscriptionPurchaseV2,
// purchases.products ProductPurchase, purchases.voidedpurchases VoidedPurchase; Play
// billing's rtdn-reference: DeveloperNotification). Times: a Date, ms since the epoch, or an
// RFC 3339 string. The fake Google (tests/fakes/google.js) answers these documents verbatim.
const crypto = require('crypto');

const DAY = 86400000;
const ms = (t) => (t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : t);
const iso = (t) => new Date(ms(t)).toISOString();
const token = () => `${crypto.randomBytes(12).toString('base64url')}.AO-J1O${crypto.randomBytes(60).toString('base64url')}`;
const orderId = () => `GPA.${[4, 4, 4, 5].map((n) => String(crypto.randomInt(10 ** n)).padStart(n, '0')).join('-')}`;

// A price as Google's Money: {currencyCode, units (int64 as a string), nanos}, from a decimal string.
function money(amount, currencyCode = 'USD') {
  const [whole, frac = ''] = String(amount).split('.');
  return { currencyCode, units: whole, nanos: Number((frac + '000000000').slice(0, 9)) };
}

const STATES = ['PENDING', 'ACTIVE', 'PAUSED', 'IN_GRACE_PERIOD', 'ON_HOLD', 'CANCELED', 'EXPIRED', 'PENDING_PURCHASE_CANCELED'];

// A SubscriptionPurchaseV2 (purchases.subscriptionsv2.get's answer).
//   state: 'ACTIVE' ... or the full 'SUBSCRIPTION_STATE_ACTIVE'; productId, basePlanId, offerId;
//   expiry (default start + 30 days), start (default now; left out for PENDING, as Google does);
//   orderId (lineItems[0].latestSuccessfulOrderId and the deprecated latestOrderId; null: none);
//   autoRenew (autoRenewingPlan.autoRenewEnabled); price ('9.99') and currency; trial
//   (offerPhase.freeTrial, else basePrice); test (testPurchase {}); account
//   (externalAccountIdentifiers.obfuscatedExternalAccountId), profile; linked
//   (linkedPurchaseToken); ack (true: ACKNOWLEDGED, false: PENDING); prepaid (a prepaidPlan
//   instead of an autoRenewingPlan); region; extra (members merged at the top level).
function subV2({
  state = 'ACTIVE', productId = 'pro_monthly', basePlanId = 'monthly', offerId, expiry, start = Date.now(),
  orderId: order = orderId(), autoRenew, price = '9.99', currency = 'USD', trial = false, test = false,
  account, profile, linked, ack = true, prepaid = false, region = 'US', extra = {},
} = {}) {
  const name = state.startsWith('SUBSCRIPTION_STATE_') ? state : `SUBSCRIPTION_STATE_${state}`;
  const short = name.slice('SUBSCRIPTION_STATE_'.length);
  if (!STATES.includes(short)) throw new Error(`subV2: unknown state ${state}`);
  const renewing = autoRenew !== undefined ? autoRenew : !['CANCELED', 'EXPIRED', 'PENDING_PURCHASE_CANCELED'].includes(short);
  const item = { productId, expiryTime: iso(expiry !== undefined ? expiry : ms(start) + 30 * DAY) };
  if (prepaid) item.prepaidPlan = { allowExtendAfterTime: iso(ms(item.expiryTime) - 3 * DAY) };
  else item.autoRenewingPlan = { autoRenewEnabled: renewing, recurringPrice: money(price, currency) };
  item.offerDetails = { basePlanId, offerTags: [] };
  if (offerId) item.offerDetails.offerId = offerId;
  if (order && short !== 'PENDING') item.latestSuccessfulOrderId = order;
  item.offerPhase = trial ? { freeTrial: {} } : { basePrice: {} };
  const doc = { kind: 'androidpublisher#subscriptionPurchaseV2', regionCode: region, lineItems: [item] };
  if (short !== 'PENDING') doc.startTime = iso(start);
  doc.subscriptionState = name;
  if (order && short !== 'PENDING') doc.latestOrderId = order;
  if (linked) doc.linkedPurchaseToken = linked;
  if (short === 'PAUSED') doc.pausedStateContext = { autoResumeTime: iso(ms(item.expiryTime) + 30 * DAY) };
  if (short === 'CANCELED' || (short === 'EXPIRED' && !renewing)) {
    doc.canceledStateContext = { userInitiatedCancellation: { cancelSurveyResult: { reason: 'CANCEL_SURVEY_REASON_NOT_ENOUGH_USAGE' }, cancelTime: iso(Date.now()) } };
  }
  if (test) doc.testPurchase = {};
  doc.acknowledgementState = ack ? 'ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED' : 'ACKNOWLEDGEMENT_STATE_PENDING';
  if (account !== undefined || profile !== undefined) {
    doc.externalAccountIdentifiers = {};
    if (account !== undefined) doc.externalAccountIdentifiers.obfuscatedExternalAccountId = account;
    if (profile !== undefined) doc.externalAccountIdentifiers.obfuscatedExternalProfileId = profile;
  }
  return { ...doc, ...extra };
}

// A ProductPurchase (purchases.products.get's answer).
//   state: purchaseState 0 purchased, 1 canceled, 2 pending; consumed (consumptionState);
//   ack (acknowledgementState 1/0); orderId (null: none, as for some promo codes); time
//   (purchaseTimeMillis); quantity, refundable (refundableQuantity); account, profile;
//   purchaseType: 0 test, 1 promo, 2 rewarded (left out for a normal purchase; test: true is 0);
//   productId, token (purchaseToken, left out unless given: Google says it may be absent).
function productPurchase({
  productId = 'credits_500', token: tok, state = 0, consumed = false, ack = true, orderId: order = orderId(),
  time = Date.now(), quantity, refundable, account, profile, test = false, purchaseType, region = 'US',
  developerPayload = '', extra = {},
} = {}) {
  const doc = {
    kind: 'androidpublisher#productPurchase', purchaseTimeMillis: String(ms(time)), purchaseState: state,
    consumptionState: consumed ? 1 : 0, developerPayload,
  };
  if (order) doc.orderId = order;
  const type = purchaseType !== undefined ? purchaseType : test ? 0 : undefined;
  if (type !== undefined) doc.purchaseType = type;
  doc.acknowledgementState = ack ? 1 : 0;
  if (tok) doc.purchaseToken = tok;
  doc.productId = productId;
  if (quantity !== undefined) doc.quantity = quantity;
  if (account !== undefined) doc.obfuscatedExternalAccountId = account;
  if (profile !== undefined) doc.obfuscatedExternalProfileId = profile;
  doc.regionCode = region;
  if (refundable !== undefined || quantity !== undefined) doc.refundableQuantity = refundable !== undefined ? refundable : quantity;
  return { ...doc, ...extra };
}

// A VoidedPurchase (an element of voidedpurchases.list's voidedPurchases).
//   source: voidedSource 0 user, 1 developer, 2 Google; reason: voidedReason 0 other ...
//   7 chargeback, 8 unacknowledged purchase; quantity: voidedQuantity (quantity-based partial refund).
function voided({ token: tok = token(), orderId: order = orderId(), purchaseTime = Date.now() - 2 * DAY,
  voidedTime = Date.now() - DAY, source = 0, reason = 0, quantity } = {}) {
  const doc = {
    kind: 'androidpublisher#voidedPurchase', purchaseToken: tok, purchaseTimeMillis: String(ms(purchaseTime)),
    voidedTimeMillis: String(ms(voidedTime)), orderId: order, voidedSource: source, voidedReason: reason,
  };
  if (quantity !== undefined) doc.voidedQuantity = quantity;
  return doc;
}

// DeveloperNotifications (the decoded data of a push). eventTimeMillis arrives as a string in
// practice; number: true sends a JSON number instead.
function developerNotification(part, { packageName = 'com.example.tally', eventTime = Date.now(), number = false } = {}) {
  const t = ms(eventTime);
  return { version: '1.0', packageName, eventTimeMillis: number ? t : String(t), ...part };
}
const subNotification = (notificationType, purchaseToken, opts = {}) =>
  developerNotification({ subscriptionNotification: { version: '1.0', notificationType, purchaseToken, ...(opts.subscriptionId ? { subscriptionId: opts.subscriptionId } : {}) } }, opts);
const productNotification = (notificationType, purchaseToken, sku, opts = {}) =>
  developerNotification({ oneTimeProductNotification: { version: '1.0', notificationType, purchaseToken, sku } }, opts);
// productType 1 subscription, 2 one-time; refundType 1 full, 2 quantity-based partial.
const voidedNotification = ({ purchaseToken, orderId: order, productType = 1, refundType = 1 }, opts = {}) =>
  developerNotification({ voidedPurchaseNotification: { purchaseToken, orderId: order, productType, refundType } }, opts);
const testNotification = (opts = {}) => developerNotification({ testNotification: { version: '1.0' } }, opts);

// The notification codes (rtdn-reference; all SUBSCRIPTION_-prefixed).
const SUB = {
  RECOVERED: 1, RENEWED: 2, CANCELED: 3, PURCHASED: 4, ON_HOLD: 5, IN_GRACE_PERIOD: 6, RESTARTED: 7,
  PRICE_CHANGE_CONFIRMED: 8, DEFERRED: 9, PAUSED: 10, PAUSE_SCHEDULE_CHANGED: 11, REVOKED: 12, EXPIRED: 13,
  ITEMS_CHANGED: 17, CANCELLATION_SCHEDULED: 18, PRICE_CHANGE_UPDATED: 19, PENDING_PURCHASE_CANCELED: 20,
  PRICE_STEP_UP_CONSENT_UPDATED: 22,
};
const ONE_TIME = { PURCHASED: 1, CANCELED: 2 };

module.exports = {
  subV2, productPurchase, voided, money, token, orderId,
  developerNotification, subNotification, productNotification, voidedNotification, testNotification, SUB, ONE_TIME,
};
