'use strict';
// The app-facing API in tests: an Env serving tally-api (and tally-stripe),
// keys made with the CLI, user tokens signed here (HS256, or forged).
const crypto = require('crypto');
const { Env, DEFAULT_CATALOG } = require('./harness');

const JWT_SECRET = 'jwt-secret-for-tests-0123456789abcdef';

function apiCatalog(extra = {}) {
  const cfg = JSON.parse(JSON.stringify(DEFAULT_CATALOG));
  cfg.free_tier = { signup_credits: 50, monthly_credits: 20, entitlements: ['basic'] };
  cfg.trial = { product: 'pro_monthly', duration: '7d' };
  cfg.products.plan_balance = {
    kind: 'subscription', entitlements: ['plus'], price_credits: 400, period: '1mo',
  };
  return { ...cfg, ...extra };
}

async function startApi(opts = {}) {
  const env = await Env.start({
    config: opts.config || apiCatalog(),
    handlers: opts.handlers || ['api', 'stripe'],
    processes: opts.processes,
    env: { TALLY_JWT_SECRET: JWT_SECRET, ...(opts.env || {}) },
  });
  env.keys = {};
  for (const [name, scopes] of Object.entries(opts.keys || { admin: 'read,spend,admin', read: 'read', spend: 'spend' })) {
    const k = env.tallyJson(['keys', 'create', '--name', name, '--scopes', scopes]);
    env.keys[name] = k.key;
    env.keys[`${name}_id`] = k.id;
  }
  env.api = (method, path, body, key = env.keys.admin, headers = {}) => {
    const h = { ...headers };
    if (key !== null) h.Authorization = key.startsWith('Bearer ') ? key : `Bearer ${key}`;
    if (body !== undefined) h['Content-Type'] = 'application/json';
    return env.request(method, path, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), h);
  };
  return env;
}

const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

// A user token: HS256 over header.claims with secret (or another alg / no signature to forge one).
function jwt(claims, { secret = JWT_SECRET, alg = 'HS256', header } = {}) {
  const h = b64url(header || { alg, typ: 'JWT' });
  const c = b64url(claims);
  let sig = '';
  if (alg === 'HS256') sig = crypto.createHmac('sha256', secret).update(`${h}.${c}`).digest('base64url');
  else if (alg === 'HS512') sig = crypto.createHmac('sha512', secret).update(`${h}.${c}`).digest('base64url');
  else if (alg === 'RS256') sig = crypto.randomBytes(256).toString('base64url');
  return `${h}.${c}.${sig}`;
}

const nowS = () => Math.floor(Date.now() / 1000);

module.exports = { startApi, apiCatalog, jwt, nowS, JWT_SECRET };
