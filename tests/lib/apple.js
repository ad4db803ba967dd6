'use strict';
// App Store notifications for tests: a test PKI made with openssl (root,
// intermediate and leaf with Apple's marker extensions, and broken variants),
// ES256 JWS signed with Node's crypto (raw r||s, as JOSE requires), and
// notification/transaction/renewal payloads in the shape of Apple's models
// (app-store-server-library: ResponseBodyV2DecodedPayload,
// JWSTransactionDecodedPayload, JWSRenewalInfoDecodedPayload).
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const LEAF_OID = '1.2.840.113635.100.6.11.1';
const INTER_OID = '1.2.840.113635.100.6.2.1';

function openssl(args, cwd) {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function derB64(pemFile) {
  const pem = fs.readFileSync(pemFile, 'utf8');
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

// One CA or end-entity certificate signed by issuer (or self-signed).
function cert(dir, name, { issuer, ca, oid, days = 3650, subject }) {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  openssl(['pkcs8', '-topk8', '-nocrypt', '-in', `${name}.key`, '-out', `${name}.p8`], dir);
  const ext = [`[ext]`,
    ca ? 'basicConstraints=critical,CA:TRUE' : 'basicConstraints=critical,CA:FALSE',
    ca ? 'keyUsage=critical,keyCertSign,cRLSign' : 'keyUsage=critical,digitalSignature',
    'subjectKeyIdentifier=hash'];
  if (issuer) ext.push('authorityKeyIdentifier=keyid');
  if (oid) ext.push(`${oid}=ASN1:NULL`);
  fs.writeFileSync(path.join(dir, `${name}.cnf`), ext.join('\n') + '\n');
  const subj = subject || `/C=US/O=tally tests/CN=${name}`;
  if (!issuer) {
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', subj, '-config', '/dev/null', '-out', `${name}.csr`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-days', String(days),
      '-extfile', `${name}.cnf`, '-extensions', 'ext', '-out', `${name}.pem`], dir);
  } else {
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', subj, '-config', '/dev/null', '-out', `${name}.csr`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`,
      '-CAcreateserial', '-days', String(days), '-extfile', `${name}.cnf`, '-extensions', 'ext',
      '-out', `${name}.pem`], dir);
  }
  return {
    name, pem: path.join(dir, `${name}.pem`), der: Buffer.from(derB64(path.join(dir, `${name}.pem`)), 'base64'),
    b64: derB64(path.join(dir, `${name}.pem`)), key: crypto.createPrivateKey(fs.readFileSync(path.join(dir, `${name}.p8`), 'utf8')),
  };
}

// The test PKI: a good chain and every broken variant the tests refuse.
function makePki() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-apple-pki-'));
  const root = cert(dir, 'root', { ca: true });
  const inter = cert(dir, 'inter', { issuer: 'root', ca: true, oid: INTER_OID });
  const leaf = cert(dir, 'leaf', { issuer: 'inter', oid: LEAF_OID });
  const leafNoOid = cert(dir, 'leafnooid', { issuer: 'inter' });
  const interNoOid = cert(dir, 'internooid', { issuer: 'root', ca: true });
  const leafUnderNoOid = cert(dir, 'leafundernooid', { issuer: 'internooid', oid: LEAF_OID });
  const otherRoot = cert(dir, 'otherroot', { ca: true });
  const otherInter = cert(dir, 'otherinter', { issuer: 'otherroot', ca: true, oid: INTER_OID });
  const otherLeaf = cert(dir, 'otherleaf', { issuer: 'otherinter', oid: LEAF_OID });
  const shortLeaf = cert(dir, 'shortleaf', { issuer: 'inter', oid: LEAF_OID, days: 1 });
  return {
    dir, root, inter, leaf, otherRoot,
    chains: {
      good: { key: leaf.key, x5c: [leaf.b64, inter.b64, root.b64] },
      leafNoOid: { key: leafNoOid.key, x5c: [leafNoOid.b64, inter.b64, root.b64] },
      interNoOid: { key: leafUnderNoOid.key, x5c: [leafUnderNoOid.b64, interNoOid.b64, root.b64] },
      otherRoot: { key: otherLeaf.key, x5c: [otherLeaf.b64, otherInter.b64, otherRoot.b64] },
      // A chain that names our root as its third certificate but was issued by another: x5c[2] is never trusted.
      claimsOurRoot: { key: otherLeaf.key, x5c: [otherLeaf.b64, otherInter.b64, root.b64] },
      short: { key: shortLeaf.key, x5c: [shortLeaf.b64, inter.b64, root.b64] },
    },
  };
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// A compact JWS: header {alg, x5c} (alg overridable), ES256 over "header.payload".
function sign(payload, chain, { alg = 'ES256', header } = {}) {
  const h = header || { alg, x5c: chain.x5c };
  const input = `${b64url(JSON.stringify(h))}.${b64url(JSON.stringify(payload))}`;
  let sig;
  if (alg === 'ES256') {
    sig = crypto.sign('sha256', Buffer.from(input), { key: chain.key, dsaEncoding: 'ieee-p1363' });
  } else if (alg === 'HS256') {
    sig = crypto.createHmac('sha256', 'secret').update(input).digest();
  } else if (alg === 'none') {
    sig = Buffer.alloc(0);
  } else {
    sig = crypto.randomBytes(256);
  }
  return `${input}.${b64url(sig)}`;
}

const BUNDLE = 'com.example.tally';
const APP_ID = 1234567890;

function transaction(o = {}) {
  const now = o.now || Date.now();
  return {
    transactionId: o.transactionId || String(2000000000000000 + Math.floor(Math.random() * 1e12)),
    originalTransactionId: o.originalTransactionId || String(1000000000000000 + Math.floor(Math.random() * 1e12)),
    webOrderLineItemId: '2000000012345678',
    bundleId: o.bundleId || BUNDLE,
    productId: o.productId || 'com.example.pro.monthly',
    subscriptionGroupIdentifier: '21000001',
    purchaseDate: o.purchaseDate || now,
    originalPurchaseDate: o.originalPurchaseDate || now,
    expiresDate: o.expiresDate === undefined ? now + 30 * 86400e3 : o.expiresDate,
    quantity: o.quantity || 1,
    type: o.type || 'Auto-Renewable Subscription',
    appAccountToken: o.appAccountToken,
    inAppOwnershipType: o.ownership || 'PURCHASED',
    signedDate: o.signedDate || now,
    environment: o.environment || 'Production',
    transactionReason: o.transactionReason || 'PURCHASE',
    storefront: 'USA',
    storefrontId: '143441',
    price: o.price === undefined ? 9990 : o.price,
    currency: o.currency || 'USD',
    offerType: o.offerType,
    offerDiscountType: o.offerDiscountType,
    revocationDate: o.revocationDate,
    revocationReason: o.revocationReason,
    revocationType: o.revocationType,
  };
}

function renewalInfo(tx, o = {}) {
  return {
    originalTransactionId: tx.originalTransactionId,
    autoRenewProductId: o.autoRenewProductId || tx.productId,
    productId: tx.productId,
    autoRenewStatus: o.autoRenewStatus === undefined ? 1 : o.autoRenewStatus,
    isInBillingRetryPeriod: !!o.isInBillingRetryPeriod,
    gracePeriodExpiresDate: o.gracePeriodExpiresDate,
    expirationIntent: o.expirationIntent,
    signedDate: o.signedDate || tx.signedDate,
    environment: tx.environment,
    recentSubscriptionStartDate: tx.purchaseDate,
    renewalDate: tx.expiresDate,
  };
}

// A notification body {"signedPayload": ...}; tx and renewal are signed and nested.
function notification(type, subtype, { tx, renewal, status, chain, signedDate, uuid, environment, bundleId, appAppleId, txChain, mutateTxJws } = {}) {
  const env = environment || (tx && tx.environment) || 'Production';
  const data = {
    appAppleId: appAppleId === undefined ? APP_ID : appAppleId,
    bundleId: bundleId || BUNDLE,
    bundleVersion: '42',
    environment: env,
  };
  if (tx) {
    data.signedTransactionInfo = sign(tx, txChain || chain);
    if (mutateTxJws) data.signedTransactionInfo = mutateTxJws(data.signedTransactionInfo);
  }
  if (renewal) data.signedRenewalInfo = sign(renewal, txChain || chain);
  if (status !== undefined) data.status = status;
  const payload = {
    notificationType: type,
    subtype: subtype || undefined,
    notificationUUID: uuid || crypto.randomUUID(),
    data,
    version: '2.0',
    signedDate: signedDate || Date.now(),
  };
  const signedPayload = sign(payload, chain);
  return { payload, signedPayload, body: JSON.stringify({ signedPayload }) };
}

module.exports = { makePki, sign, transaction, renewalInfo, notification, BUNDLE, APP_ID, LEAF_OID, INTER_OID, b64url };
