'use strict';
// Write N App Store notifications with unique ids, one body a line, signed by
// a test chain made here (tests/lib/apple.js): ONE_TIME_CHARGE of a credit
// pack for one of 5000 users, the App Store twin of gen-stripe.js's pack
// purchases. The test root is written to ROOT_PEM for the config.
// Usage: node gen-apple.js N OUT_FILE ROOT_PEM
const crypto = require('crypto');
const fs = require('fs');
const A = require('../lib/apple');

const [n, outFile, rootOut] = [Number(process.argv[2] || 1000), process.argv[3], process.argv[4]];
if (!outFile || !rootOut) throw new Error('usage: gen-apple.js N OUT_FILE ROOT_PEM');
const pki = A.makePki();
fs.copyFileSync(pki.root.pem, rootOut);
const users = Array.from({ length: 5000 }, () => crypto.randomUUID());
const fd = fs.openSync(outFile, 'w');
const t = Date.now();
let out = [];
for (let i = 0; i < n; i++) {
  const tx = A.transaction({
    transactionId: String(3000000000000000 + i), originalTransactionId: String(3000000000000000 + i),
    productId: 'com.example.credits100', type: 'Consumable', expiresDate: null, appAccountToken: users[i % users.length],
    signedDate: t, purchaseDate: t, price: 1990,
  });
  out.push(A.notification('ONE_TIME_CHARGE', null, { chain: pki.chains.good, tx, signedDate: t }).body);
  if (out.length === 1000) { fs.writeSync(fd, out.join('\n') + '\n'); out = []; }
}
if (out.length) fs.writeSync(fd, out.join('\n') + '\n');
fs.closeSync(fd);
fs.rmSync(pki.dir, { recursive: true, force: true });
