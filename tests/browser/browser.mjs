// The browsable API and the API docs, driven in Debian's Chromium.
//
//   node tests/browser/browser.mjs --base http://127.0.0.1:PORT --artifacts DIR [--chromium /usr/bin/chromium]
//                                  [--auth-base http://127.0.0.1:PORT2]   (token in USERS_API_BROWSER_TOKEN)
//
// (tests/browser/check.sh installs Chromium and playwright-core and starts the
// servers with empty databases.) The scenario of the open server (--base), in order:
//  1. /api/users/ is an HTML page with table#users and form#create.
//  2. A user created through the form is listed, with p#notice.   -> list.png
//  3. A blank dni and a 31-character name come back as DRF's messages beside
//     the fields, with what was typed kept.                          -> validation-errors.png
//  4. A user named <script>alert(1)</script> renders as text: no dialog, the
//     table cell's textContent is the raw string, no <script> element in it.
//  5. The item page shows the user in form#edit; an invalid PUT shows its
//     error beside the field; a valid one changes the name, seen after a
//     reload.                                                         -> item.png
//  6. #delete, with its confirm accepted, lands on the list without the user.
//  7. ?format=json and Accept: application/json give, in the browser, the
//     same bytes as a plain HTTP fetch (JSON, not HTML).
//  8. /api/docs/ renders one Swagger UI .opblock per operation of
//     /api/schema/, without errors.                                    -> docs.png
//  9. Every HTML page (the browsable ones and /api/docs/) carries the
//     Content-Security-Policy, its stylesheet applies under it, and the policy
//     is in force: markup with an inline style attribute, added on purpose at
//     the end, is refused and reported.
// Then, with --auth-base, the scenario of a server with AUTH_MODE=token whose
// API_TOKENS_FILE lists the token of USERS_API_BROWSER_TOKEN (users:read and
// users:write):
// 10. A browser's GET /api/users/ without credentials is DRF's 401 as a page:
//     HTML, WWW-Authenticate: Token, the policy, the message on screen, no
//     user data.                                                     -> auth-401.png
// 11. /api/docs/ stays open; Swagger UI has the Authorize button; GET
//     /api/users/ tried out before authorizing answers 401; the token entered
//     for bearerAuth in the Authorize dialog (Swagger UI adds "Bearer "
//     itself), the dialog closed, the same Execute sends
//     "Authorization: Bearer TOKEN" and shows 200.                  -> docs-authorized.png
// (check.sh then checks the token is in neither server's log.)
// Throughout: no page error (uncaught exception), no request to a host other
// than the servers', no dialog but the one confirm, no Content-Security-Policy
// violation (the securitypolicyviolation event, in every document) and no
// console error (but the "Failed to load resource" of the 401s asked for).
// Prints PASS/FAIL lines and "browser: N passed, M failed"; exits 1 on failure.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    artifacts: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    'auth-base': { type: 'string' },
  },
});
const authToken = process.env.USERS_API_BROWSER_TOKEN || '';
if (!args.base || !args.artifacts || (args['auth-base'] && !authToken)) {
  console.error(
    'usage: browser.mjs --base http://127.0.0.1:PORT --artifacts DIR [--chromium PATH] [--auth-base http://127.0.0.1:PORT2]\n' +
      '       (--auth-base needs the token in USERS_API_BROWSER_TOKEN)',
  );
  process.exit(2);
}
const base = args.base.replace(/\/$/, '');
const baseHost = new URL(base).host;
const authBase = args['auth-base'] ? args['auth-base'].replace(/\/$/, '') : null;
const authHost = authBase ? new URL(authBase).host : null;
fs.mkdirSync(args.artifacts, { recursive: true });

let passed = 0;
let failed = 0;
function check(condition, what, detail) {
  if (condition) {
    passed += 1;
    console.log(`PASS ${what}`);
  } else {
    failed += 1;
    console.log(`FAIL ${what}${detail !== undefined && detail !== '' ? `\n    ${String(detail).replace(/\n/g, '\n    ')}` : ''}`);
  }
  return condition;
}

const screenshots = [];
async function screenshot(page, name) {
  const file = path.join(args.artifacts, name);
  await page.screenshot({ path: file, fullPage: true });
  screenshots.push(file);
}

async function plainFetch(urlPath, headers = {}) {
  const response = await fetch(base + urlPath, { headers, redirect: 'manual', signal: AbortSignal.timeout(5000) });
  return { status: response.status, type: response.headers.get('content-type'), body: Buffer.from(await response.arrayBuffer()) };
}

const startedAt = Date.now();
const seconds = () => ((Date.now() - startedAt) / 1000).toFixed(1);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'users-api-chromium-'));
let context;
const requests = [];
const pageErrors = [];
const dialogs = [];
const violations = [];
const consoleErrors = [];
const cspHeaders = new Map(); // HTML page path -> its Content-Security-Policy header
let expectConfirm = false;
let probingCsp = false; // only the deliberate probe of step 9 may cause a violation

async function scenario() {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: args.chromium,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
    viewport: { width: 1200, height: 900 },
    timeout: 30000,
  });
  context.setDefaultTimeout(10000);
  context.setDefaultNavigationTimeout(15000);
  context.on('request', (request) => requests.push(request.url()));
  context.on('response', (response) => {
    if (response.request().resourceType() !== 'document') return;
    if (!(response.headers()['content-type'] || '').startsWith('text/html')) return;
    cspHeaders.set(new URL(response.url()).pathname, response.headers()['content-security-policy'] || '');
  });
  // Reported from inside each document (init scripts come through the
  // DevTools protocol, which the page's policy does not govern).
  await context.exposeBinding('usersApiReportViolation', ({ page: source }, violation) => {
    violations.push({ ...violation, url: source ? source.url() : '', probe: probingCsp });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      window.usersApiReportViolation({
        directive: event.effectiveDirective,
        blocked: event.blockedURI,
        sample: event.sample,
      });
    });
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    // (The 400s and 404s this scenario asks for are logged as "Failed to load
    // resource: the server responded with a status of ..."; they are answers,
    // not errors of the page.)
    if (message.type() !== 'error' || probingCsp) return;
    if (/^Failed to load resource: the server responded with a status of \d+/.test(message.text())) return;
    consoleErrors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('dialog', async (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    if (dialog.type() === 'confirm' && expectConfirm) await dialog.accept();
    else await dialog.dismiss();
  });
  console.log(`chromium ${context.browser() ? context.browser().version() : '(persistent context)'} started in ${seconds()} s`);

  const cellTexts = () => page.$$eval('table#users tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  const errorsOf = (field) =>
    page.$$eval(`ul.errors[data-field="${field}"] li`, (items) => items.map((li) => li.textContent));
  async function submitCreate(dni, name) {
    await page.fill('#dni', dni);
    await page.fill('#name', name);
    const [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.click('form#create button[type="submit"]'),
    ]);
    return response;
  }

  // 1. the list page -------------------------------------------------------------------------------
  let response = await page.goto(`${base}/api/users/`);
  check(
    response.status() === 200 && (response.headers()['content-type'] || '').startsWith('text/html'),
    `a browser's GET /api/users/ gets an HTML page (${response.status()} ${response.headers()['content-type']})`,
  );
  check((await page.locator('table#users').count()) === 1, 'the list page has table#users');
  check((await page.locator('form#create[method="post"]').count()) === 1, 'the list page has form#create (POST)');
  check(
    (await page.getAttribute('#dni', 'maxlength')) === '13' && (await page.getAttribute('#name', 'maxlength')) === '30',
    'the inputs carry maxlength 13 and 30',
  );

  // 2. create through the form ---------------------------------------------------------------------
  response = await submitCreate('B-100', 'Browser Ana');
  check(response && response.status() === 201, `submitting form#create answers 201 (got ${response && response.status()})`);
  const notice = (await page.textContent('p#notice').catch(() => null)) || '';
  const createdId = Number((notice.match(/Created user (\d+)\./) || [])[1]);
  check(Number.isInteger(createdId), `p#notice says the user was created ("${notice}")`);
  let rows = await cellTexts();
  check(
    rows.some((r) => r[0] === String(createdId) && r[1] === 'B-100' && r[2] === 'Browser Ana'),
    `table#users lists ${createdId} B-100 "Browser Ana"`,
    JSON.stringify(rows),
  );
  await screenshot(page, 'list.png');

  // 3. validation errors beside the fields ------------------------------------------------------------
  // A person cannot type past maxlength; lift it so the server's own check is
  // what is tested (a script or an old browser can send anything).
  await page.$$eval('#dni, #name', (inputs) => inputs.forEach((input) => input.removeAttribute('maxlength')));
  const longName = 'N'.repeat(31);
  response = await submitCreate('', longName);
  check(response && response.status() === 400, `a blank dni and a 31-character name answer 400 (got ${response && response.status()})`);
  const dniErrors = await errorsOf('dni');
  const nameErrors = await errorsOf('name');
  check(
    JSON.stringify(dniErrors) === JSON.stringify(['This field may not be blank.']),
    `dni shows "This field may not be blank." (got ${JSON.stringify(dniErrors)})`,
  );
  check(
    JSON.stringify(nameErrors) === JSON.stringify(['Ensure this field has no more than 30 characters.']),
    `name shows "Ensure this field has no more than 30 characters." (got ${JSON.stringify(nameErrors)})`,
  );
  check(
    (await page.locator('#dni + ul.errors[data-field="dni"] li').count()) === 1 &&
      (await page.locator('#name + ul.errors[data-field="name"] li').count()) === 1,
    'each message list sits right after its input',
  );
  check((await page.inputValue('#name')) === longName, 'the form keeps the name that was typed');
  rows = await cellTexts();
  check(rows.length === 1, `nothing was created by the invalid submit (${rows.length} row)`);
  await screenshot(page, 'validation-errors.png');

  // 4. a name that is markup renders as text -------------------------------------------------------------
  const xss = '<script>alert(1)</script>';
  await page.goto(`${base}/api/users/`);
  response = await submitCreate('X-1', xss);
  check(response && response.status() === 201, `a user named ${xss} is created (got ${response && response.status()})`);
  rows = await cellTexts();
  const xssRow = rows.find((r) => r[1] === 'X-1');
  check(xssRow && xssRow[2] === xss, `its table cell's textContent is the raw string (got ${JSON.stringify(xssRow)})`);
  check((await page.locator('main script').count()) === 0, 'no <script> element was injected into the page');
  const jsonShown = (await page.textContent('pre#json').catch(() => '')) || '';
  check(jsonShown.includes(JSON.stringify(xss).slice(1, -1)), 'the JSON panel shows the name as text', jsonShown);
  const xssId = xssRow ? Number(xssRow[0]) : NaN;
  await page.goto(`${base}/api/users/${xssId}/`);
  check((await page.inputValue('#name').catch(() => null)) === xss, 'its item page shows the raw string in the name field');

  // 5. the item page: edit ----------------------------------------------------------------------------------
  await page.goto(`${base}/api/users/`);
  await Promise.all([page.waitForNavigation(), page.click(`table#users a[href="/api/users/${createdId}/"]`)]);
  check(page.url() === `${base}/api/users/${createdId}/`, `the id link opens the item page (${page.url()})`);
  check(
    (await page.locator('form#edit').count()) === 1 && (await page.locator('#delete').count()) === 1,
    'the item page has form#edit and #delete',
  );
  check(
    (await page.inputValue('#dni')) === 'B-100' && (await page.inputValue('#name')) === 'Browser Ana',
    'form#edit holds the user\'s dni and name',
  );
  await screenshot(page, 'item.png');

  await page.fill('#name', '   ');
  const [badPut] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PUT'),
    page.click('form#edit button[type="submit"]'),
  ]);
  check(badPut.status() === 400, `a blank name in form#edit is refused: PUT answers 400 (got ${badPut.status()})`);
  await page.waitForSelector('ul.errors[data-field="name"] li');
  const putErrors = await errorsOf('name');
  check(
    JSON.stringify(putErrors) === JSON.stringify(['This field may not be blank.']),
    `its message shows beside the name field (got ${JSON.stringify(putErrors)})`,
  );

  await page.fill('#name', 'Edited Name');
  const [goodPut] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PUT'),
    page.waitForNavigation(), // the page reloads itself after a successful PUT
    page.click('form#edit button[type="submit"]'),
  ]);
  check(goodPut.status() === 200, `PUT through form#edit answers 200 (got ${goodPut.status()})`);
  await page.reload();
  check((await page.inputValue('#name')) === 'Edited Name', 'after a reload the item page shows the new name');
  const itemJson = await plainFetch(`/api/users/${createdId}/`);
  check(
    itemJson.body.toString() === JSON.stringify({ id: createdId, dni: 'B-100', name: 'Edited Name' }),
    `the API agrees: ${itemJson.body.toString()}`,
  );

  // 6. delete -------------------------------------------------------------------------------------------------------
  expectConfirm = true;
  await Promise.all([page.waitForURL(`${base}/api/users/`), page.click('#delete')]);
  expectConfirm = false;
  check(dialogs.some((d) => d.startsWith('confirm:')), `#delete asked for confirmation (${dialogs.join('; ')})`);
  check(page.url() === `${base}/api/users/`, `after the delete the browser is on the list (${page.url()})`);
  rows = await cellTexts();
  check(!rows.some((r) => r[0] === String(createdId)), `the list no longer has user ${createdId}`, JSON.stringify(rows));
  check((await plainFetch(`/api/users/${createdId}/`)).status === 404, `GET /api/users/${createdId}/ now answers 404`);

  // 7. JSON is still JSON, byte for byte -------------------------------------------------------------------------------
  for (const urlPath of ['/api/', '/api/users/', `/api/users/${xssId}/`]) {
    const plain = await plainFetch(urlPath);
    check(
      plain.status === 200 && plain.type === 'application/json' && JSON.parse(plain.body.toString()) !== null,
      `plain HTTP GET ${urlPath} (Accept: */*) is JSON (${plain.status} ${plain.type})`,
    );
    const sep = urlPath.includes('?') ? '&' : '?';
    const viaFormat = await page.goto(`${base}${urlPath}${sep}format=json`);
    const formatBody = await viaFormat.body();
    check(
      viaFormat.headers()['content-type'] === 'application/json' && formatBody.equals(plain.body),
      `the browser's GET ${urlPath}?format=json is the same JSON, byte for byte (${formatBody.length} bytes)`,
      formatBody.toString().slice(0, 200),
    );
    // Chromium sets its own Accept on navigations, so this one is a fetch()
    // from the page, as the item page's script makes them.
    const viaAccept = await page.evaluate(async (url) => {
      const r = await fetch(url, { headers: { Accept: 'application/json' } });
      return { type: r.headers.get('content-type'), bytes: Array.from(new Uint8Array(await r.arrayBuffer())) };
    }, `${base}${urlPath}`);
    const acceptBody = Buffer.from(viaAccept.bytes);
    check(
      viaAccept.type === 'application/json' && acceptBody.equals(plain.body),
      `the browser's fetch of ${urlPath} with Accept: application/json is the same JSON, byte for byte`,
      acceptBody.toString().slice(0, 200),
    );
    const viaApi = await plainFetch(`${urlPath}${sep}format=api`, { Accept: 'application/json' });
    check(
      (viaApi.type || '').startsWith('text/html'),
      `${urlPath}?format=api is HTML even with Accept: application/json (${viaApi.type})`,
    );
  }

  // 8. the docs -----------------------------------------------------------------------------------------------------------
  const schema = JSON.parse((await plainFetch('/api/schema/')).body.toString());
  const operations = Object.values(schema.paths).reduce(
    (n, item) => n + Object.keys(item).filter((k) => ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace'].includes(k)).length,
    0,
  );
  response = await page.goto(`${base}/api/docs/`, { waitUntil: 'networkidle' });
  check(response.status() === 200, `GET /api/docs/ answers 200 (got ${response.status()})`);
  try {
    await page.waitForFunction((n) => document.querySelectorAll('.opblock').length >= n, operations, { timeout: 15000 });
  } catch {
    // counted below
  }
  const opblocks = await page.locator('.opblock').count();
  check(opblocks === operations, `Swagger UI rendered ${opblocks} .opblock elements, one per operation of /api/schema/ (${operations})`);
  const title = (await page.textContent('.info .title').catch(() => '')) || '';
  check(title.includes(schema.info.title), `Swagger UI shows the document's title ("${title.trim()}")`);
  const uiErrors = await page.locator('.errors-wrapper, .loading-container .errors').count();
  check(uiErrors === 0, `Swagger UI shows no load or schema errors (${uiErrors})`);
  await screenshot(page, 'docs.png');

  // 9. the Content-Security-Policy ---------------------------------------------------------------------------------------
  const policy = cspHeaders.get('/api/docs/') || '';
  for (const pagePath of ['/api/', '/api/users/', `/api/users/${xssId}/`, '/api/docs/']) {
    if (!cspHeaders.has(pagePath)) await page.goto(`${base}${pagePath}`);
    const header = cspHeaders.get(pagePath) || '';
    check(
      /(^|;)\s*default-src 'none'/.test(header) && !header.includes('unsafe-inline') && !header.includes('unsafe-eval'),
      `${pagePath} sends a Content-Security-Policy without unsafe-inline or unsafe-eval ("${header}")`,
    );
  }
  check(cspHeaders.get('/api/users/') === policy, 'the browsable pages and Swagger UI send the same policy');
  await page.goto(`${base}/api/users/`);
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(background === 'rgb(246, 247, 249)', `users-api.css styles the browsable page under the policy (body ${background})`);
  const before = violations.length;
  probingCsp = true;
  await page.evaluate(() => {
    document.querySelector('main').insertAdjacentHTML('beforeend', '<p id="csp-probe" style="color: rgb(255, 0, 0)">probe</p>');
  });
  for (let waited = 0; waited < 3000 && !violations.slice(before).some((v) => v.probe); waited += 100) {
    await page.waitForTimeout(100);
  }
  probingCsp = false;
  const probeColor = await page.evaluate(() => getComputedStyle(document.getElementById('csp-probe')).color);
  const probeViolations = violations.slice(before).filter((v) => v.probe);
  check(
    probeColor !== 'rgb(255, 0, 0)' && probeViolations.some((v) => v.directive.startsWith('style-src')),
    `the policy is in force: an inline style attribute is refused and reported (color ${probeColor}, ${JSON.stringify(probeViolations)})`,
  );
}


// 10 and 11: the server with AUTH_MODE=token, in a page of its own (the
// context's securitypolicyviolation reporting covers it too).
const notProvided = 'Authentication credentials were not provided.';
async function authScenario() {
  const page = await context.newPage();
  const violationsBefore = violations.length;
  const expected401s = [];
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // The 401s asked for below, and the 404 of Chromium's own GET
    // /favicon.ico (each checked by its response below); nothing else may be
    // logged as an error.
    if (/^Failed to load resource: the server responded with a status of (401|404)\b/.test(message.text())) {
      expected401s.push(message.text());
      return;
    }
    consoleErrors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('response', (r) => {
    const { pathname } = new URL(r.url());
    if (r.status() < 400) return;
    if (r.status() === 401 && pathname === '/api/users/') return;
    if (r.status() === 404 && pathname === '/favicon.ico') return;
    consoleErrors.push(`${page.url()}: unexpected ${r.status()} for ${r.request().method()} ${pathname}`);
  });
  page.on('dialog', async (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss();
  });

  // 10. the browsable page without credentials ----------------------------------------------------------------------
  const response = await page.goto(`${authBase}/api/users/`);
  const headers = response.headers();
  check(
    response.status() === 401 && (headers['content-type'] || '').startsWith('text/html'),
    `AUTH_MODE=token: a browser's GET /api/users/ without credentials gets a 401 HTML page (${response.status()} ${headers['content-type']})`,
  );
  check(headers['www-authenticate'] === 'Token', `the page's answer carries WWW-Authenticate: Token ("${headers['www-authenticate']}")`);
  const pagePolicy = headers['content-security-policy'] || '';
  check(
    /(^|;)\s*default-src 'none'/.test(pagePolicy) && !pagePolicy.includes('unsafe-inline') && !pagePolicy.includes('unsafe-eval'),
    `the 401 page sends the Content-Security-Policy ("${pagePolicy}")`,
  );
  const shown = (await page.innerText('main').catch(() => '')) || '';
  const messageVisible = await page
    .locator('pre#json', { hasText: notProvided })
    .isVisible()
    .catch(() => false);
  check(
    messageVisible && shown.includes('HTTP 401') && shown.includes(notProvided),
    `the 401 page shows HTTP 401 and "${notProvided}"`,
    shown,
  );
  check(
    (await page.locator('table#users, form#create').count()) === 0,
    'the 401 page shows no users and no form',
  );
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(background === 'rgb(246, 247, 249)', `users-api.css styles the 401 page under the policy (body ${background})`);
  await screenshot(page, 'auth-401.png');

  // 11. Swagger UI's Authorize button -------------------------------------------------------------------------------
  const docs = await page.goto(`${authBase}/api/docs/`, { waitUntil: 'networkidle' });
  check(docs.status() === 200, `AUTH_MODE=token: GET /api/docs/ stays open (${docs.status()})`);
  const docsPolicy = docs.headers()['content-security-policy'] || '';
  check(docsPolicy === pagePolicy, 'Swagger UI is served under the same policy as the 401 page', docsPolicy);
  const authorize = page.locator('.auth-wrapper button.btn.authorize');
  await authorize.waitFor({ state: 'visible', timeout: 15000 }).catch(() => {});
  check((await authorize.count()) === 1, 'Swagger UI shows the Authorize button (the document declares its security schemes)');

  const operation = page.locator('.opblock.opblock-get').filter({ has: page.locator('.opblock-summary-path[data-path="/api/users/"]') });
  check((await operation.count()) === 1, 'Swagger UI has the operation GET /api/users/');
  await operation.locator('.opblock-summary').first().click();
  await operation.locator('button.try-out__btn').click();
  const isUsersGet = (r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/api/users/' && r.request().resourceType() !== 'document';
  // The status Swagger UI shows for the live response, once it shows `want`.
  const shownStatus = async (want) => {
    const cell = operation.locator('.live-responses-table tbody .response .response-col_status').first();
    try {
      await page.waitForFunction(
        ([el, code]) => el && el.textContent.trim().startsWith(code),
        [await cell.elementHandle({ timeout: 10000 }), want],
        { timeout: 10000 },
      );
    } catch {
      // reported below
    }
    return ((await cell.textContent().catch(() => '')) || '').trim();
  };

  let [tried] = await Promise.all([page.waitForResponse(isUsersGet), operation.locator('button.execute').click()]);
  let sent = await tried.request().allHeaders();
  check(
    tried.status() === 401 && sent.authorization === undefined,
    `before authorizing, Execute of GET /api/users/ sends no Authorization and gets 401 (${tried.status()})`,
  );
  let status = await shownStatus('401');
  check(status.startsWith('401'), `Swagger UI shows the 401 (response code "${status}")`);
  const body401 = ((await operation.locator('.live-responses-table .response-col_description pre').first().textContent().catch(() => '')) || '');
  check(body401.includes(notProvided), `Swagger UI shows DRF's message in the response body`, body401);

  await authorize.click();
  const modal = page.locator('.dialog-ux .modal-ux');
  await modal.waitFor({ state: 'visible' }).catch(() => {});
  // (Found by its heading: once authorized, the value field gives way to "******".)
  const bearer = modal.locator('.auth-container').filter({ has: page.locator('h4', { hasText: /^\s*bearerAuth\b/ }) });
  check(
    (await bearer.count()) === 1 && (await bearer.locator('#auth-bearer-value').count()) === 1,
    'the Authorize dialog has the bearerAuth scheme with its value field',
  );
  await bearer.locator('#auth-bearer-value').fill(authToken);
  await bearer.locator('button.authorize').click();
  await bearer.locator('button', { hasText: 'Logout' }).waitFor({ state: 'visible' }).catch(() => {});
  const bearerText = (await bearer.innerText().catch(() => '')) || '';
  check(/Authorized/.test(bearerText) && !bearerText.includes(authToken), 'bearerAuth shows as authorized, the token masked', bearerText);
  await bearer.locator('button.btn-done').click();
  await modal.waitFor({ state: 'detached' }).catch(() => {});
  check((await modal.count()) === 0, 'the Authorize dialog closes');
  check(
    (await page.locator('.auth-wrapper button.btn.authorize.locked').count()) === 1,
    'the Authorize button shows a locked padlock',
  );

  [tried] = await Promise.all([page.waitForResponse(isUsersGet), operation.locator('button.execute').click()]);
  sent = await tried.request().allHeaders();
  check(
    sent.authorization === `Bearer ${authToken}`,
    `after authorizing, Execute sends "Authorization: Bearer <the token>" (${sent.authorization === undefined ? 'none' : sent.authorization.split(' ')[0] + ' …'})`,
  );
  check(tried.status() === 200, `and GET /api/users/ answers 200 (${tried.status()})`);
  status = await shownStatus('200');
  check(status.startsWith('200'), `Swagger UI shows the 200 (response code "${status}")`);
  const body200 = ((await operation.locator('.live-responses-table .response-col_description pre').first().textContent().catch(() => '')) || '');
  check(/"results"\s*:/.test(body200) || /^\s*\[/.test(body200), 'Swagger UI shows the list in the response body', body200.slice(0, 200));
  await screenshot(page, 'docs-authorized.png');

  const ownViolations = violations.slice(violationsBefore).filter((v) => !v.probe);
  check(
    ownViolations.length === 0,
    'no Content-Security-Policy violation on the 401 page or in Swagger UI while authorizing and trying out',
    ownViolations.map((v) => JSON.stringify(v)).join('\n'),
  );
  check(expected401s.length >= 1, `the 401s were logged as "Failed to load resource" (${expected401s.length}), nothing else as an error`);
  await page.close();
}

let crashed = null;
try {
  await scenario();
} catch (error) {
  crashed = error;
}
if (crashed) check(false, 'the scenario ran to its end', crashed.stack || String(crashed));
if (authBase && context) {
  let authCrashed = null;
  try {
    await authScenario();
  } catch (error) {
    authCrashed = error;
  }
  if (authCrashed) check(false, 'the AUTH_MODE=token scenario ran to its end', authCrashed.stack || String(authCrashed));
}

const foreign = [...new Set(requests.filter((u) => {
  if (/^(data|blob|about):/.test(u)) return false;
  try {
    const url = new URL(u);
    return url.host !== baseHost && url.host !== authHost;
  } catch {
    return true;
  }
}))];
check(
  requests.length > 0 && foreign.length === 0,
  `all ${requests.length} requests went to ${authHost ? `${baseHost} or ${authHost}` : baseHost}`,
  foreign.join('\n'),
);
check(pageErrors.length === 0, 'no uncaught page errors', pageErrors.join('\n'));
const unexpectedViolations = violations.filter((v) => !v.probe);
check(
  unexpectedViolations.length === 0,
  'no Content-Security-Policy violation on the browsable pages or Swagger UI',
  unexpectedViolations.map((v) => JSON.stringify(v)).join('\n'),
);
check(consoleErrors.length === 0, 'no console errors', consoleErrors.join('\n'));
const unexpectedDialogs = dialogs.filter((d) => !d.startsWith('confirm: Delete this user?'));
check(unexpectedDialogs.length === 0, 'no dialog fired but the delete confirmation (no alert from the <script> name)', unexpectedDialogs.join('\n'));

if (context) await context.close().catch(() => {});
fs.rmSync(userDataDir, { recursive: true, force: true });
for (const file of screenshots) console.log(`screenshot: ${file}`);
console.log(`time: ${seconds()} s`);
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
