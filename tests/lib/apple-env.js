'use strict';
// What the App Store tests share: a test PKI, a catalog matched by Apple
// product ids, an Env serving /webhooks/appstore, and helpers to post
// notifications and read the user back.
const crypto = require('crypto');
const { Env } = require('./harness');
const A = require('./apple');

const PRO = 'com.example.pro.monthly';
const PRO_YEARLY = 'com.example.pro.yearly';
const PACK = 'com.example.credits100';

function appleConfig(pki, apple = {}) {
  return {
    apple: { bundle_id: A.BUNDLE, app_apple_id: A.APP_ID, sandbox: false, roots: [pki.root.pem], ...apple },
    policy: { grace_period: '7d', renewal_leeway: '1d' },
    products: {
      pro_monthly: { kind: 'subscription', entitlements: ['pro'], credits: 1000, trial_credits: 100, match: { apple: [PRO] } },
      pro_yearly: { kind: 'subscription', entitlements: ['pro'], credits: 12000, match: { apple: [PRO_YEARLY] } },
      credits_100: { kind: 'pack', credits: 100, match: { apple: [PACK] } },
    },
  };
}

async function startApple(pki, { apple, env, handlers } = {}) {
  return Env.start({ config: appleConfig(pki, apple), handlers: handlers || ['appstore'], env });
}

function post(env, body) {
  return env.request('POST', '/webhooks/appstore', body, { 'Content-Type': 'application/json' });
}

// Signed dates close to now and strictly increasing (the test certificates begin at their creation).
let last = 0;
function sd() {
  last = Math.max(Date.now(), last + 1);
  return last;
}

const userId = () => crypto.randomUUID();
const txId = () => String(2000000000000000 + Math.floor(Math.random() * 1e12));

module.exports = { appleConfig, startApple, post, sd, userId, txId, PRO, PRO_YEARLY, PACK };
