'use strict';
// A fake Google on 127.0.0.1 for Google Play: the three services tally talks to, answering in
// Google's formats (PROVIDERS.md 7; developers.google.com android-publisher api-ref v3,
// the OAuth2 service-account flow, Pub/Sub push authentication).
//   GET  /oauth2/v3/certs                     the JWK set push tokens are signed under
//                                             (Cache-Control max-age = certsMaxAge)
//   POST /token                               the JWT bearer grant: the service account's
//                                             assertion checked as Google checks it
//   GET  /androidpublisher/v3/applications/{pkg}/purchases/subscriptionsv2/tokens/{token}
//   POST .../purchases/subscriptions/{subscriptionId}/tokens/{token}:acknowledge
//   GET  .../purchases/products/{productId}/tokens/{token}
//   POST .../purchases/products/{productId}/tokens/{token}:acknowledge | :consume
//   GET  .../purchases/voidedpurchases?startTime=&endTime=&type=&token=&maxResults=
//        &includeQuantityBasedPartialRefund=
// The publisher endpoints want "Authorization: Bearer <an access token this fake issued, not
// expired>", else 401 as Google answers it. Errors are Google's JSON error format
// {"error":{"code","message","errors":[...],"status"}}.
// Two RSA-2048 keys are made at construction: the service account's (its key file from
// serviceAccountJson()) and Google's push-signing key (tokens from signPush()).
// Controllable: failNext(regex, status, times, body) for the next answers of matching requests
// (status 0: the connection is dropped mid-answer, a few bytes of its body sent: no answer a client
// can use; not before any byte, which a client that keeps connections takes for a stale kept-alive
// connection and sends the request again, as libcurl does for tally's GETs), tokenTtl (the access tokens' expires_in),
// expireTokens() (every issued access token refused from now on), certsMaxAge, delayMs,
// tokenDelayMs (the token endpoint only), voidedPageSize (the largest page it answers).
// autoSubscription (the benchmark): subscriptionsv2.get of a token it does not hold answers a
// generated ACTIVE subscription instead of 404: true (tests/lib/google.js subV2 of pro_monthly,
// its order id and obfuscatedExternalAccountId derived from the token: the account is the
// token's part before its first '.'), or a function (token) -> the document. Nothing is kept:
// the same token gets the same document while the clock stays in one second.
const crypto = require('crypto');
const { FakeServer } = require('./base');

const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const SCOPE = 'https://www.googleapis.com/auth/androidpublisher';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const DAY_MS = 86400000;

const hex = (n) => crypto.randomBytes(n).toString('hex');
const b64u = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

// Google's error answers, by status: message, status name, errors[0].reason (what the API says).
const ERRORS = {
  400: ['Invalid Value', 'INVALID_ARGUMENT', 'invalid'],
  401: ['Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    'UNAUTHENTICATED', 'authError'],
  403: ['The current user has insufficient permissions to perform the requested operation.', 'PERMISSION_DENIED', 'permissionDenied'],
  404: ['The purchase token was not found.', 'NOT_FOUND', 'purchaseTokenNotFound'],
  // 410 has no canonical status name; Google's answer carries only code, message and reason.
  410: ['The subscription purchase is no longer available for query because it has been expired for too long.', undefined, 'subscriptionPurchaseNoLongerAvailable'],
  429: ["Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service 'androidpublisher.googleapis.com'.", 'RESOURCE_EXHAUSTED', 'rateLimitExceeded'],
  500: ['Internal error encountered.', 'INTERNAL', 'backendError'],
  503: ['The service is currently unavailable.', 'UNAVAILABLE', 'backendError'],
};

function googleError(status, message) {
  const [m, name, reason] = ERRORS[status] || ['Backend Error', 'UNKNOWN', 'backendError'];
  const e = { code: status, message: message || m, errors: [{ message: message || m, domain: 'global', reason }] };
  if (name) e.status = name;
  return { error: e };
}

function jwk(publicKey, kid) {
  const j = publicKey.export({ format: 'jwk' });
  return { e: j.e, alg: 'RS256', kid, n: j.n, kty: 'RSA', use: 'sig' };
}

class FakeGoogle extends FakeServer {
  constructor({
    packageName = 'com.example.tally',
    audience = 'https://billing.example.com/webhooks/google',
    pushEmail = 'rtdn-push@tally-test.iam.gserviceaccount.com',
    clientEmail = 'tally-api@tally-test.iam.gserviceaccount.com',
    tokenTtl = 3599,
  } = {}) {
    super();
    Object.assign(this, { packageName, audience, pushEmail, clientEmail, tokenTtl });
    this.sa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.saKeyId = hex(20);
    this.pushKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.pushKid = hex(20);
    this.published = [{ kid: this.pushKid, publicKey: this.pushKey.publicKey }];
    this.certsMaxAge = 3600;
    this.certsFetches = 0;
    this.subscriptions = new Map(); // token -> SubscriptionPurchaseV2
    this.products = new Map();      // `${productId}\n${token}` -> ProductPurchase
    this.voided = [];               // { doc, productType }
    this.voidedPages = new Map();   // page token -> { rows, offset }
    this.voidedPageSize = 1000;
    this.accessTokens = new Map();  // access token -> expiry (ms)
    this.tokenRequests = [];        // { ok, why, header, claims }
    this.acks = [];                 // { kind: 'subscription'|'product', productId, token, body }
    this.consumes = [];             // { productId, token, body }
    this.failures = [];             // { match, status, times, body }
    this.delayMs = 0;
    this.tokenDelayMs = 0;
    this.autoSubscription = false;
  }

  get certsUrl() { return `${this.url}/oauth2/v3/certs`; }
  get tokenUrl() { return `${this.url}/token`; }
  get apiBase() { return this.url; }

  // The service account's key file, as the Cloud console downloads it.
  serviceAccountJson() {
    return JSON.stringify({
      type: 'service_account',
      project_id: 'tally-test',
      private_key_id: this.saKeyId,
      private_key: this.sa.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: this.clientEmail,
      client_id: '104857600000000000001',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: GOOGLE_TOKEN_URL,
      auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(this.clientEmail)}`,
      universe_domain: 'googleapis.com',
    }, null, 2);
  }

  // --- push tokens ---

  // A new push key, published beside the old ones and used by signPush from now on (rotation).
  rotatePushKey() {
    this.pushKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.pushKid = hex(20);
    this.published.push({ kid: this.pushKid, publicKey: this.pushKey.publicKey });
    return this.pushKid;
  }

  // A key pair Google never published (tokens signed under it are forgeries).
  strangerKey() {
    if (!this.stranger) this.stranger = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    return this.stranger.privateKey;
  }

  // A push OIDC token: claims and header as Google makes them, overridden by the arguments (a
  // value undefined removes the member). header.alg 'none' signs nothing, 'HS256' signs with
  // the public key's PEM as the HMAC secret (the classic confusion), 'RS512' with SHA-512;
  // key: the private key to sign with (default the published push key).
  signPush(claims = {}, { key, ...header } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const c = {
      aud: this.audience, azp: '110463539470001234567', email: this.pushEmail, email_verified: true,
      exp: now + 3600, iat: now, iss: 'https://accounts.google.com', sub: '110463539470001234567', ...claims,
    };
    const h = { alg: 'RS256', kid: this.pushKid, typ: 'JWT', ...header };
    for (const o of [c, h]) for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    const input = `${b64u(h)}.${b64u(c)}`;
    const priv = key || this.pushKey.privateKey;
    let sig = Buffer.alloc(0);
    if (h.alg === 'RS256') sig = crypto.sign('sha256', Buffer.from(input), priv);
    else if (h.alg === 'RS512') sig = crypto.sign('sha512', Buffer.from(input), priv);
    else if (h.alg === 'HS256') {
      const pem = crypto.createPublicKey(priv).export({ type: 'spki', format: 'pem' });
      sig = crypto.createHmac('sha256', pem).update(input).digest();
    }
    return `${input}.${sig.toString('base64url')}`;
  }

  // The wrapped Pub/Sub push body carrying notification (an object, or a string sent as is).
  pushBody(notification, { messageId = String(10000000000 + crypto.randomInt(1e9)), publishTime = new Date().toISOString(),
    subscription = 'projects/tally-test/subscriptions/play-rtdn', attributes = {} } = {}) {
    const data = Buffer.from(typeof notification === 'string' ? notification : JSON.stringify(notification)).toString('base64');
    return JSON.stringify({
      message: { attributes, data, messageId, message_id: messageId, publishTime, publish_time: publishTime },
      subscription,
    });
  }

  // --- state ---

  setSubscription(token, doc) { this.subscriptions.set(token, doc); }
  setProduct(productId, token, doc) { this.products.set(`${productId}\n${token}`, doc); }
  // productType as in voidedPurchaseNotification: 1 subscription, 2 one-time product.
  addVoided(doc, { productType = 2 } = {}) { this.voided.push({ doc, productType }); }
  subscription(token) { return this.subscriptions.get(token); }
  product(productId, token) { return this.products.get(`${productId}\n${token}`); }

  // --- faults ---

  failNext(match, status, times = 1, body) { this.failures.push({ match, status, times, body }); }
  expireTokens() { for (const t of this.accessTokens.keys()) this.accessTokens.set(t, 0); }
  reset() { this.failures = []; this.delayMs = 0; this.requests = []; this.tokenRequests = []; }
  get tokensIssued() { return this.tokenRequests.filter((r) => r.ok).length; }

  record(req, body) {
    return { method: req.method, url: req.url, path: req.url.split('?')[0], authorization: req.headers.authorization,
      contentType: req.headers['content-type'], body };
  }

  error(res, status, message) { this.send(res, status, googleError(status, message)); }

  delayFor(req) { return req.url === '/token' && this.tokenDelayMs ? this.tokenDelayMs : this.delayMs; }

  route(req, res, body) {
    const f = this.failures.find((x) => x.times > 0 && x.match.test(req.url));
    if (f) {
      f.times--;
      if (f.status === 0) {
        req.socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 512\r\n\r\n{"kind":');
        return req.socket.destroy();
      }
      if (typeof f.body === 'string') {
        res.writeHead(f.status, { 'Content-Type': 'application/json' });
        return res.end(f.body);
      }
      return this.send(res, f.status, f.body !== undefined ? f.body : googleError(f.status));
    }
    // Google's front end refuses a POST without a length (an empty body must say 0).
    if (req.method === 'POST' && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
      res.writeHead(411, { 'Content-Type': 'text/html; charset=UTF-8' });
      return res.end('<p><b>411.</b> <ins>That\u2019s an error.</ins><p>POST requests require a <code>Content-length</code> header.');
    }
    const url = new URL(req.url, this.url);
    if (req.method === 'GET' && url.pathname === '/oauth2/v3/certs') return this.certs(res);
    if (req.method === 'POST' && url.pathname === '/token') return this.token(req, res, body);
    const prefix = `/androidpublisher/v3/applications/`;
    if (!url.pathname.startsWith(prefix)) return this.error(res, 404, 'Not Found');
    if (!this.authorized(req)) return this.error(res, 401);
    // Path segments are matched on the raw path and decoded one by one, as Google does.
    const rest = url.pathname.slice(prefix.length).split('/');
    const pkg = decodeURIComponent(rest[0]);
    if (pkg !== this.packageName) return this.error(res, 404, 'No application was found for the given package name.');
    const p = rest.slice(1);
    const dec = (s) => decodeURIComponent(s);
    let m;
    if (req.method === 'GET' && p.length === 4 && p[0] === 'purchases' && p[1] === 'subscriptionsv2' && p[2] === 'tokens') {
      return this.getSubscription(res, dec(p[3]));
    }
    if (req.method === 'POST' && p.length === 5 && p[0] === 'purchases' && p[1] === 'subscriptions' && p[3] === 'tokens' &&
      (m = /^(.+):acknowledge$/.exec(p[4]))) {
      return this.ackSubscription(res, dec(p[2]), dec(m[1]), body);
    }
    if (p.length === 5 && p[0] === 'purchases' && p[1] === 'products' && p[3] === 'tokens') {
      if (req.method === 'GET' && !p[4].includes(':')) return this.getProduct(res, dec(p[2]), dec(p[4]));
      if (req.method === 'POST' && (m = /^(.+):(acknowledge|consume)$/.exec(p[4]))) {
        return this.productAction(res, m[2], dec(p[2]), dec(m[1]), body);
      }
    }
    if (req.method === 'GET' && p.length === 2 && p[0] === 'purchases' && p[1] === 'voidedpurchases') return this.listVoided(res, url);
    return this.error(res, 404, 'Not Found');
  }

  certs(res) {
    this.certsFetches++;
    const body = JSON.stringify({ keys: this.published.map((k) => jwk(k.publicKey, k.kid)) });
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(body),
      'Cache-Control': `public, max-age=${this.certsMaxAge}, must-revalidate, no-transform`,
    });
    res.end(body);
  }

  // The JWT bearer grant (RFC 7523 2.1; Google's service-account flow): a form with the
  // grant type and an assertion RS256-signed by the service account's key, kid its
  // private_key_id, iss its email, scope naming androidpublisher, aud Google's token URL, and
  // iat/exp at most an hour apart around now.
  token(req, res, body) {
    const refuse = (why, error = 'invalid_grant', extra = {}) => {
      this.tokenRequests.push({ ok: false, why, ...extra });
      return this.send(res, 400, { error, error_description: why });
    };
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] || '')) {
      return refuse('Bad Request', 'invalid_request');
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== JWT_BEARER) return refuse(`Invalid grant_type: ${form.get('grant_type') || ''}`, 'unsupported_grant_type');
    const parts = (form.get('assertion') || '').split('.');
    if (parts.length !== 3) return refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    let header;
    let claims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
    } catch (_) {
      return refuse('Invalid JWT Signature.');
    }
    const seen = { header, claims };
    const sig = Buffer.from(parts[2], 'base64url');
    if (header.alg !== 'RS256' || header.kid !== this.saKeyId ||
      !crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.sa.publicKey, sig)) {
      return refuse('Invalid JWT Signature.', 'invalid_grant', seen);
    }
    if (claims.iss !== this.clientEmail) return refuse('Invalid email or User ID', 'invalid_grant', seen);
    if (claims.aud !== GOOGLE_TOKEN_URL) return refuse('Invalid JWT: Failed audience check.', 'invalid_grant', seen);
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(SCOPE)) {
      return refuse('Invalid OAuth scope or ID token audience provided.', 'invalid_scope', seen);
    }
    const now = Math.floor(Date.now() / 1000);
    if (!Number.isInteger(claims.iat) || !Number.isInteger(claims.exp) || claims.exp <= claims.iat ||
      claims.exp - claims.iat > 3600 || claims.iat > now + 300 || claims.exp < now) {
      return refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.', 'invalid_grant', seen);
    }
    const accessToken = `ya29.c.${crypto.randomBytes(48).toString('base64url')}`;
    this.accessTokens.set(accessToken, Date.now() + this.tokenTtl * 1000);
    this.tokenRequests.push({ ok: true, ...seen });
    return this.send(res, 200, { access_token: accessToken, expires_in: this.tokenTtl, token_type: 'Bearer' });
  }

  authorized(req) {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
    const exp = m && this.accessTokens.get(m[1]);
    return !!exp && exp > Date.now();
  }

  getSubscription(res, token) {
    const doc = this.subscriptions.get(token) || (this.autoSubscription ? this.generated(token) : null);
    if (!doc) return this.error(res, 404);
    return this.send(res, 200, doc);
  }

  // autoSubscription's document for token (see the top of this file).
  generated(token) {
    if (typeof this.autoSubscription === 'function') return this.autoSubscription(token);
    const h = crypto.createHash('sha256').update(token).digest();
    const digits = (i, n) => String(h.readUInt32BE(i) % 10 ** n).padStart(n, '0');
    const start = Math.floor(Date.now() / 1000) * 1000;
    const dot = token.indexOf('.');
    // Required here, not at the top: tests/lib/google.js is the documents' one source.
    return require('../lib/google').subV2({
      productId: 'pro_monthly', start, orderId: `GPA.${digits(0, 4)}-${digits(4, 4)}-${digits(8, 4)}-${digits(12, 5)}`,
      account: dot > 0 ? token.slice(0, dot) : undefined,
    });
  }

  // subscriptions.acknowledge: the request body is optional ({"developerPayload": ...}); the
  // answer is empty. A subscription id the purchase does not hold is 404.
  ackSubscription(res, subscriptionId, token, body) {
    const doc = this.subscriptions.get(token);
    if (!doc || !(doc.lineItems || []).some((li) => li.productId === subscriptionId)) return this.error(res, 404);
    this.acks.push({ kind: 'subscription', productId: subscriptionId, token, body });
    doc.acknowledgementState = 'ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED';
    res.writeHead(200, { 'Content-Length': 0 });
    return res.end();
  }

  getProduct(res, productId, token) {
    const doc = this.products.get(`${productId}\n${token}`);
    if (!doc) return this.error(res, 404);
    return this.send(res, 200, doc);
  }

  productAction(res, action, productId, token, body) {
    const doc = this.products.get(`${productId}\n${token}`);
    if (!doc) return this.error(res, 404);
    if (action === 'acknowledge') {
      this.acks.push({ kind: 'product', productId, token, body });
      doc.acknowledgementState = 1;
    } else {
      this.consumes.push({ productId, token, body });
      doc.consumptionState = 1;
    }
    res.writeHead(200, { 'Content-Length': 0 });
    return res.end();
  }

  // voidedpurchases.list: startTime at most 30 days back (default now - 30 days), endTime at
  // most now (default now), both ignored with a page token; type 0 (default) one-time products
  // only, 1 subscriptions too; quantity-based partial refunds only with
  // includeQuantityBasedPartialRefund=true; pages of at most voidedPageSize. Empty members are
  // left out, as Google's JSON does.
  listVoided(res, url) {
    const q = url.searchParams;
    const now = Date.now();
    const token = q.get('token');
    const asked = q.has('maxResults') ? Number(q.get('maxResults')) : this.voidedPageSize;
    if (!Number.isInteger(asked) || asked < 1) return this.error(res, 400);
    const maxResults = Math.min(asked, this.voidedPageSize);
    let rows;
    let offset = 0;
    if (token) {
      const p = this.voidedPages.get(token);
      if (!p) return this.error(res, 400, 'Invalid page token.');
      ({ rows, offset } = p);
    } else {
      const start = q.has('startTime') ? Number(q.get('startTime')) : now - 30 * DAY_MS;
      const end = q.has('endTime') ? Number(q.get('endTime')) : now;
      const type = q.has('type') ? Number(q.get('type')) : 0;
      if (!Number.isInteger(start) || !Number.isInteger(end) || ![0, 1].includes(type)) return this.error(res, 400);
      // A minute of slack for the request's own transit.
      if (start < now - 30 * DAY_MS - 60000) return this.error(res, 400, 'Start time cannot be older than 30 days.');
      if (end > now + 60000) return this.error(res, 400, 'End time cannot be in the future.');
      if (start > end) return this.error(res, 400, 'Start time must be before end time.');
      const partial = q.get('includeQuantityBasedPartialRefund') === 'true';
      rows = this.voided.filter((v) => (type === 1 || v.productType !== 1) && (partial || v.doc.voidedQuantity === undefined))
        .map((v) => v.doc).filter((d) => Number(d.voidedTimeMillis) >= start && Number(d.voidedTimeMillis) <= end);
    }
    const page = rows.slice(offset, offset + maxResults);
    const out = {};
    if (rows.length) out.pageInfo = { totalResults: rows.length, resultPerPage: maxResults, startIndex: offset };
    if (offset + maxResults < rows.length) {
      const next = crypto.randomBytes(12).toString('base64url');
      this.voidedPages.set(next, { rows, offset: offset + maxResults });
      out.tokenPagination = { nextPageToken: next };
    }
    if (page.length) out.voidedPurchases = page;
    return this.send(res, 200, out);
  }
}

module.exports = { FakeGoogle, GOOGLE_TOKEN_URL, SCOPE, googleError };
