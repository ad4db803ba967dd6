'use strict';
// The support console in a real browser: Debian's chromium (headless, a fresh
// profile) driven by playwright-core, against nginx on 127.0.0.1 in front of
// the real tally-console. A person logs in, finds a customer by a provider's
// id, grants credits and sees the ledger and audit rows, links the user an
// orphaned event waits for, replays an event after the catalog is fixed; a
// tampered CSRF token, an ended session, attacker-chosen ids, repeated failed
// logins and logout each behave as documented.
const { test, run, assert } = require('../lib/t');
const C = require('../lib/console');
const S = require('../lib/stripe-events');

const balance = (env, u) => env.user(u).balance.available;

async function login(ctx, name = C.ADMIN, secret = C.PASSWORD) {
  const { page, env } = ctx;
  await page.goto(`${env.base}/admin`);
  assert.match(page.url(), /\/admin\/login(\?ended=1)?$/);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=secret]', secret);
  const [resp] = await Promise.all([page.waitForNavigation(), page.click('button:has-text("Log in")')]);
  return resp;
}

// Fill and submit the form inside `scope` (a locator), waiting for the page it leads to.
async function submit(page, scope, fields, button) {
  for (const [name, value] of Object.entries(fields)) {
    const input = scope.locator(`[name=${name}]`);
    if ((await input.evaluate((el) => el.tagName)) === 'SELECT') await input.selectOption(value);
    else await input.fill(value);
  }
  const [resp] = await Promise.all([page.waitForNavigation(), scope.locator(`button:has-text("${button}")`).click()]);
  return resp;
}

const grantForm = (page) => page.locator('form:has(input[name=do][value="credits.grant"])');

test('log in through the login form', async (ctx) => {
  const resp = await login(ctx);
  assert.strictEqual(resp.status(), 200);
  assert.strictEqual(await ctx.page.textContent('h1'), 'Overview');
  const cookies = await ctx.page.context().cookies();
  const c = cookies.find((x) => x.name === 'tally_console');
  assert.ok(c && c.httpOnly && c.sameSite === 'Strict' && c.path === '/admin');
  assert.strictEqual(await ctx.page.evaluate(() => document.cookie), '', 'HttpOnly: the page cannot read it');
});

test('find a user by a provider id (a Stripe customer)', async (ctx) => {
  const { page, env } = ctx;
  ctx.cus = S.rid('cus');
  await C.subscribe(env, 'u_browser', { customer: ctx.cus });
  await page.fill('header input[name=q]', ctx.cus);
  await Promise.all([page.waitForNavigation(), page.press('header input[name=q]', 'Enter')]);
  assert.ok(page.url().endsWith('/admin/user?id=u_browser'), page.url());
  assert.strictEqual(await page.textContent('h1'), 'User u_browser');
  assert.ok((await page.textContent('main')).includes(ctx.cus), 'the linked customer is listed');
  assert.match(await page.textContent('main'), /pro_monthly/);
});

test('grant credits with a reason: the done page shows the audit and ledger rows, and so does the user page', async (ctx) => {
  const { page, env } = ctx;
  const before = balance(env, 'u_browser');
  const resp = await submit(page, grantForm(page), { amount: '42', reason: 'refund of a failed export' }, 'Grant');
  assert.strictEqual(resp.status(), 200);
  assert.match(page.url(), /\/admin\/done\?event=\d+$/);
  const done = await page.textContent('main');
  assert.match(done, /applied/);
  assert.match(done, /operator:alice/);
  assert.match(done, /refund of a failed export/);
  assert.match(done, /Ledger entries written/);
  assert.strictEqual(balance(env, 'u_browser'), before + 42);
  await Promise.all([page.waitForNavigation(), page.click('main a:has-text("u_browser")')]);
  const ledgerRow = page.locator('h2:has-text("Ledger") + div tr', { hasText: 'refund of a failed export' });
  assert.strictEqual(await ledgerRow.count(), 1);
  assert.match(await ledgerRow.textContent(), /\+42/);
  assert.match(await ledgerRow.textContent(), /operator:alice/);
  const auditRow = page.locator('h2:has-text("Audit trail") + div tr', { hasText: 'refund of a failed export' });
  assert.strictEqual(await auditRow.count(), 1);
  assert.match(await auditRow.textContent(), /operator:alice/);
});

test('an orphaned event: link its customer to the user from the event page, and it is applied', async (ctx) => {
  const { page, env } = ctx;
  const cus = S.rid('cus');
  const j = await C.post(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', customer: cus, paymentIntent: S.rid('pi'), metadata: { product: 'credits_500' },
  })));
  assert.strictEqual(j.state, 'orphaned');
  await page.goto(`${env.base}/admin/attention?state=orphaned`);
  const row = page.locator('tr', { hasText: cus });
  assert.strictEqual(await row.count(), 1, 'listed among orphaned events');
  await Promise.all([page.waitForNavigation(), row.locator(`a:has-text("#${j.inbox_id}")`).click()]);
  assert.match(await page.textContent('main'), new RegExp(`Waiting for\\s*customer ${cus}`));
  const before = balance(env, 'u_browser');
  const linkForm = page.locator('form:has(input[name=do][value="links.add"])');
  await submit(page, linkForm, { user: 'u_browser', reason: 'customer wrote in with the receipt' }, 'Link and apply');
  assert.match(page.url(), /\/admin\/done\?event=\d+$/);
  assert.match(await page.textContent('main'), /links\.add[\s\S]*applied/);
  assert.strictEqual(balance(env, 'u_browser'), before + 500);
  await page.goto(`${env.base}/admin/event?id=${j.inbox_id}`);
  assert.match(await page.textContent('dl'), /State\s*applied/);
});

test('replay: an unknown product is applied from the attention page once the catalog knows it', async (ctx) => {
  const { page, env } = ctx;
  const j = await C.post(env, S.event('invoice.paid', S.invoice({
    id: S.rid('in'), customer: S.rid('cus'), subscription: S.rid('sub'), price: 'price_new_plan',
    subMetadata: { user_id: 'u_browser_replay' },
  })));
  assert.strictEqual(j.state, 'unknown_product');
  // The fix: the catalog learns the price; the console reads the catalog at start.
  const cfg = JSON.parse(JSON.stringify(env.config));
  cfg.products.pro_monthly.match.stripe.push('price_new_plan');
  env.writeConfig(cfg);
  await C.restartConsole(env);
  await page.goto(`${env.base}/admin/attention?state=unknown_product`);
  const row = page.locator('tr', { hasText: `#${j.inbox_id}` });
  assert.strictEqual(await row.count(), 1);
  await submit(page, row, { reason: 'price_new_plan added to the catalog' }, 'Replay');
  assert.match(page.url(), new RegExp(`/admin/done\\?event=${j.inbox_id}&audit=\\d+$`));
  const done = await page.textContent('main');
  assert.match(done, /applied/);
  assert.match(done, /event\.replay/);
  assert.match(done, /unknown_product -> applied/);
  assert.match(done, /price_new_plan added to the catalog/);
  assert.strictEqual(balance(env, 'u_browser_replay'), 1000);
});

test('a form with a wrong or missing CSRF token is refused and changes nothing', async (ctx) => {
  const { page, env } = ctx;
  await page.goto(`${env.base}/admin/user?id=u_browser`);
  const before = env.counts();
  const csrf = grantForm(page).locator('input[name=csrf]');
  await csrf.evaluate((el) => { el.value = 'forged-token-forged-token-forged-token-xyz'; });
  let resp = await submit(page, grantForm(page), { amount: '1000', reason: 'csrf' }, 'Grant');
  assert.strictEqual(resp.status(), 403);
  assert.match(await page.textContent('main'), /Nothing was changed/);
  await page.goto(`${env.base}/admin/user?id=u_browser`);
  await grantForm(page).locator('input[name=csrf]').evaluate((el) => el.remove());
  resp = await submit(page, grantForm(page), { amount: '1000', reason: 'csrf' }, 'Grant');
  assert.strictEqual(resp.status(), 403);
  assert.deepStrictEqual(env.counts(), before);
});

test('a user id and a product id containing <script> render as text and run nothing', async (ctx) => {
  const { page, env } = ctx;
  await C.subscribe(env, C.XSS_USER);
  await C.pack(env, C.XSS_USER, C.XSS_PRODUCT);
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await page.fill('header input[name=q]', C.XSS_USER);
  await Promise.all([page.waitForNavigation(), page.press('header input[name=q]', 'Enter')]);
  assert.match(page.url(), /\/admin\/user\?id=/);
  const text = await page.textContent('main');
  assert.ok(text.includes(C.XSS_USER), 'the user id shown as text');
  assert.ok(text.includes(C.XSS_PRODUCT), 'the product id shown as text');
  assert.strictEqual(await page.evaluate(() => window.__xss), undefined, 'no script ran');
  assert.strictEqual(await page.locator('script').count(), 0);
  assert.strictEqual(await page.locator('main img').count(), 0);
  await page.waitForTimeout(200);
  assert.deepStrictEqual(dialogs, []);
});

test('a session past its expiry is sent to the login page', async (ctx) => {
  const { page, env } = ctx;
  const c = (await page.context().cookies()).find((x) => x.name === 'tally_console');
  const hash = require('crypto').createHash('sha256').update(c.value).digest('hex');
  env.sql(`UPDATE sessions SET expires_at = ${Date.now() - 1} WHERE token_hash = X'${hash}'`);
  await page.goto(`${env.base}/admin/user?id=u_browser`);
  assert.match(page.url(), /\/admin\/login\?ended=1$/);
  assert.match(await page.textContent('main'), /Your session has ended/);
  await login(ctx);
  assert.strictEqual(await page.textContent('h1'), 'Overview');
});

test('repeated failed logins are slowed down', async (ctx) => {
  const { env } = ctx;
  env.sql('DELETE FROM login_failures');
  const b = await C.browser();
  try {
    const other = { page: b.page, env };
    for (let i = 0; i < 5; i++) {
      const r = await login(other, C.ADMIN, `wrong guess ${i}`);
      assert.strictEqual(r.status(), 401);
      assert.match(await b.page.textContent('main'), /Wrong name or password/);
    }
    const r = await login(other);
    assert.strictEqual(r.status(), 429, 'even the right password waits');
    assert.match(await b.page.textContent('main'), /Too many failed logins: try again in (2\d|30) seconds/);
    assert.ok(!(await b.context.cookies()).some((x) => x.name === 'tally_console'));
  } finally {
    await b.close();
    env.sql('DELETE FROM login_failures');
  }
});

test('logout ends the session', async (ctx) => {
  const { page, env } = ctx;
  await page.goto(`${env.base}/admin`);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Log out")')]);
  assert.match(page.url(), /\/admin\/login\?out=1$/);
  assert.match(await page.textContent('main'), /You are logged out/);
  assert.ok(!(await page.context().cookies()).some((x) => x.name === 'tally_console'));
  await page.goto(`${env.base}/admin/user?id=u_browser`);
  assert.match(page.url(), /\/admin\/login$/);
});

run({
  before: async () => {
    const env = await C.startConsole();
    const b = await C.browser();
    return { env, b, page: b.page };
  },
  after: async (ctx, failed) => {
    await ctx.b.close();
    await ctx.env.stop(failed > 0 && process.env.KEEP);
  },
});
