// Holds src/api/openapi.json and the running server to each other.
//
//   node tests/openapi/check.mjs --base http://127.0.0.1:PORT --etags-base http://127.0.0.1:PORT2 --root /path/to/repo
//
// (tests/openapi/check.sh installs the packages and starts the server.)
//
// 1. GET /api/schema/ is byte for byte src/api/openapi.json.
// 2. The document is valid OpenAPI 3.1: @apidevtools/swagger-parser validate()
//    (the OAS 3.1 schema, $refs resolved), plus every Schema Object checked
//    against JSON Schema 2020-12 with Ajv (swagger-parser's 3.1 path accepts
//    any object as a Schema Object), plus the examples against their schemas.
//    A self-test proves the validator really applies the 3.1 rules: it must
//    reject broken copies of the document.
// 3. Routes: (a) every documented operation, called correctly (an existing
//    user for {id}, each asset of kDocsAssets for {asset}), answers a 2xx that
//    the operation documents, with a documented media type and a JSON body
//    valid against the documented schema; (b) every undocumented method among
//    GET HEAD POST PUT PATCH DELETE OPTIONS on every known path answers 405,
//    with an Allow header naming exactly the documented methods; (c) the
//    document's paths and methods equal kRouteTable in src/api/route_table.hpp.
// 4. The User schemas' maxLength values equal kDniMaxChars and kNameMaxChars
//    of src/domain/user.hpp, and the server enforces them with DRF's message.
// 5. Access control (issue 14): the bearerAuth (http bearer, JWT) and
//    tokenAuth (apiKey, Authorization: Token ...) schemes; every protected
//    operation (/api/, /api/users/...) requires one of them with the scope of
//    its method and declares 400 (invalid host), 401 (WWW-Authenticate), 403
//    and 429 (Retry-After) with schemas that accept DRF's and simplejwt's
//    exact bodies; the open operations declare no security, 401 or 403. A
//    self-test breaks each of these and requires it to be caught.
// 6. Conditional requests (issue 16), against a second server with
//    ETAGS=on (--etags-base): the item's GET and HEAD document If-None-Match
//    and 304, PUT, PATCH and DELETE If-Match and 412; the real ETag, 304 and
//    412 answers are the documented ones (ETag header schema, no body on
//    304, the 412 body against its schema).
//
// Prints PASS/FAIL lines and "openapi: N passed, M failed"; exits 1 on failure.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';

const { values: args } = parseArgs({
  options: { base: { type: 'string' }, 'etags-base': { type: 'string' }, root: { type: 'string' } },
});
if (!args.base || !args.root || !args['etags-base']) {
  console.error('usage: check.mjs --base http://127.0.0.1:PORT --etags-base http://127.0.0.1:PORT --root REPO');
  process.exit(2);
}
const base = args.base.replace(/\/$/, '');
const root = args.root;

let passed = 0;
let failed = 0;
function check(condition, what, detail) {
  if (condition) {
    passed += 1;
    console.log(`PASS ${what}`);
  } else {
    failed += 1;
    console.log(`FAIL ${what}${detail ? `\n    ${String(detail).replace(/\n/g, '\n    ')}` : ''}`);
  }
  return condition;
}
const startedAt = Date.now();
function finish() {
  console.log(`time: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  console.log(`openapi: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

async function call(method, urlPath, { json, headers = {}, at = base } = {}) {
  const init = { method, headers: { ...headers }, redirect: 'manual', signal: AbortSignal.timeout(5000) };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(at + urlPath, init);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body };
}

// --- 1. the served document is the source file -----------------------------------------
const sourcePath = path.join(root, 'src/api/openapi.json');
const source = fs.readFileSync(sourcePath);
const served = await call('GET', '/api/schema/');
check(served.status === 200, `GET /api/schema/ answers 200 (got ${served.status})`);
check(
  (served.headers.get('content-type') || '').startsWith('application/vnd.oai.openapi+json'),
  `GET /api/schema/ is application/vnd.oai.openapi+json (got ${served.headers.get('content-type')})`,
);
check(
  served.body.equals(source),
  `GET /api/schema/ is byte for byte src/api/openapi.json (${served.body.length} and ${source.length} bytes)`,
);

let doc;
try {
  doc = JSON.parse(source.toString('utf8'));
} catch (error) {
  check(false, 'src/api/openapi.json is JSON', error.message);
  finish();
}
check(/^3\.1\.\d+$/.test(doc.openapi), `the document declares OpenAPI 3.1.x (openapi: ${doc.openapi})`);

// --- 2. valid OpenAPI 3.1 -----------------------------------------------------------------------
async function validationError(document) {
  try {
    await SwaggerParser.validate(structuredClone(document));
    return null;
  } catch (error) {
    return error;
  }
}
{
  const error = await validationError(doc);
  check(error === null, 'swagger-parser validate(): the document is valid OpenAPI 3.1', error && error.message);
}

// The validator must really hold a 3.1 document to the 3.1 rules.
{
  const mutations = [
    ['a response without its required description', (d) => { delete d.paths['/healthz'].get.responses['200'].description; }],
    ['a path that does not start with "/"', (d) => { d.paths['healthz'] = d.paths['/healthz']; }],
    ['an unknown field on an operation', (d) => { d.paths['/healthz'].get.bogus = 1; }],
    ['license with both identifier and url (a 3.1-only rule)', (d) => { d.info.license = { name: 'MIT', identifier: 'MIT', url: 'https://example.invalid/' }; }],
    ['a $ref to a missing component', (d) => { d.paths['/healthz'].get.responses['200'].content['application/json'].schema = { $ref: '#/components/schemas/Missing' }; }],
  ];
  for (const [what, mutate] of mutations) {
    const broken = structuredClone(doc);
    mutate(broken);
    check((await validationError(broken)) !== null, `self-test: swagger-parser rejects ${what}`);
  }
  // And it applies the 3.1 schema, not 3.0's: the same document declared as
  // 3.0.3 must fail (it uses 3.1-only features: type arrays, info.summary,
  // license.identifier), while 3.1.0 passes.
  const as30 = structuredClone(doc);
  as30.openapi = '3.0.3';
  check(
    (await validationError(as30)) !== null,
    'self-test: the same document declared as OpenAPI 3.0.3 is rejected (so 3.1 passed on the 3.1 schema)',
  );
}

// Schema Objects against JSON Schema 2020-12 (OAS 3.1's dialect), on the
// dereferenced document. OAS keywords (example, discriminator, xml,
// externalDocs) are allowed as annotations.
const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
let deref;
try {
  deref = await SwaggerParser.dereference(structuredClone(doc));
} catch (error) {
  check(false, 'the document dereferences', error.message);
  finish();
}
function* schemaObjects(node, at) {
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    const here = `${at}/${key}`;
    if (key === 'schema' && value && typeof value === 'object' && !Array.isArray(value)) yield [here, value];
    else if (key === 'schemas' && at.endsWith('/components')) {
      for (const [name, schema] of Object.entries(value)) yield [`${here}/${name}`, schema];
    } else yield* schemaObjects(value, here);
  }
}
{
  const problems = [];
  let count = 0;
  const exampleProblems = [];
  for (const [where, schema] of schemaObjects(deref, '#')) {
    count += 1;
    if (!ajv.validateSchema(schema)) {
      problems.push(`${where}: ${ajv.errorsText(ajv.errors)}`);
      continue;
    }
    try {
      const validate = ajv.compile(schema);
      if (schema.example !== undefined && !validate(schema.example)) {
        exampleProblems.push(`${where} example: ${ajv.errorsText(validate.errors)}`);
      }
    } catch (error) {
      problems.push(`${where}: ${error.message}`);
    }
  }
  check(problems.length === 0 && count > 10, `all ${count} Schema Objects are valid JSON Schema 2020-12`, problems.join('\n'));
  check(exampleProblems.length === 0, 'every schema example validates against its schema', exampleProblems.join('\n'));
  // Self-test of this step: a misspelt type must be caught.
  check(!ajv.validateSchema({ type: 'strin' }), 'self-test: Ajv rejects a Schema Object with type "strin"');
}

// --- 5. access control: the security schemes and the 401/403/429 answers ---------------------------------------
// Protected: /api/ and every /api/users/ route (AUTH_MODE=token or jwt); open:
// the probes, /metrics, /api/schema/ and /api/docs/. Each protected operation
// must require bearerAuth or tokenAuth with the scope its method needs, and
// declare 400 (invalid host), 401 (with WWW-Authenticate), 403 and 429 (with
// Retry-After), whose bodies accept DRF's and simplejwt's exact answers; no
// open operation may declare security, 401 or 403.
const isProtected = (p) => p === '/api/' || p.startsWith('/api/users/');
const SCOPE_FOR = { get: 'users:read', head: 'users:read', options: 'users:read', post: 'users:write', put: 'users:write', patch: 'users:write', delete: 'users:write' };
const AUTH_BODIES = {
  401: [
    { detail: 'Authentication credentials were not provided.' },
    { detail: 'Invalid token.' },
    { detail: 'Given token not valid for any token type', code: 'token_not_valid', messages: [{ token_class: 'AccessToken', token_type: 'access', message: 'Token is invalid or expired' }] },
  ],
  403: [{ detail: 'You do not have permission to perform this action.' }],
  429: [{ detail: 'Request was throttled. Expected available in 3 seconds.' }, { detail: 'Request was throttled. Expected available in 1 second.' }],
  400: [{ detail: 'Invalid host header.' }],
};
const AUTH_NOT_BODIES = { 401: [{ details: 'x' }, { detail: 'Given token not valid for any token type', code: 'other', messages: [] }] };
async function accessProblems(document) {
  const problems = [];
  const schemes = document.components?.securitySchemes ?? {};
  const bearer = schemes.bearerAuth;
  const token = schemes.tokenAuth;
  if (!(bearer?.type === 'http' && bearer.scheme?.toLowerCase() === 'bearer' && bearer.bearerFormat === 'JWT'))
    problems.push('components.securitySchemes.bearerAuth must be {type: http, scheme: bearer, bearerFormat: JWT}');
  if (!(token?.type === 'apiKey' && token.in === 'header' && token.name === 'Authorization' && /Token /.test(token.description ?? '')))
    problems.push('components.securitySchemes.tokenAuth must be an apiKey in header Authorization describing "Token TOKEN"');
  if (document.security !== undefined && document.security.length > 0)
    problems.push('no top-level security: the open operations would inherit it');
  let d;
  try {
    d = await SwaggerParser.dereference(structuredClone(document));
  } catch (error) {
    return [...problems, `dereference: ${error.message}`];
  }
  for (const [p, item] of Object.entries(d.paths ?? {})) {
    for (const m of Object.keys(item).filter((k) => METHODS.includes(k.toUpperCase()))) {
      const op = item[m];
      const at = `${m.toUpperCase()} ${p}`;
      const responses = op.responses ?? {};
      if (!isProtected(p)) {
        if ((op.security ?? []).some((r) => Object.keys(r).length > 0)) problems.push(`${at}: an open operation declares security`);
        for (const code of ['401', '403']) if (responses[code]) problems.push(`${at}: an open operation declares ${code}`);
        continue;
      }
      const scope = SCOPE_FOR[m];
      const reqs = op.security ?? [];
      for (const name of ['bearerAuth', 'tokenAuth']) {
        const r = reqs.find((x) => Object.keys(x).length === 1 && x[name] !== undefined);
        if (!r) problems.push(`${at}: security lacks the alternative {${name}}`);
        else if (JSON.stringify(r[name]) !== JSON.stringify([scope])) problems.push(`${at}: ${name} must require [${scope}], got ${JSON.stringify(r[name])}`);
      }
      if (reqs.some((x) => Object.keys(x).length === 0)) problems.push(`${at}: security allows anonymous access ({})`);
      for (const code of ['400', '401', '403', '429']) {
        const r = responses[code];
        if (!r) {
          problems.push(`${at}: no ${code} response`);
          continue;
        }
        const header = { 401: 'WWW-Authenticate', 429: 'Retry-After' }[code];
        if (header && !Object.keys(r.headers ?? {}).some((h) => h.toLowerCase() === header.toLowerCase()))
          problems.push(`${at}: ${code} does not declare the ${header} header`);
        if (m === 'head') continue;
        const schema = r.content?.['application/json']?.schema;
        if (!schema) {
          problems.push(`${at}: ${code} has no application/json schema`);
          continue;
        }
        const validate = ajv.compile(schema);
        for (const body of AUTH_BODIES[code]) if (!validate(body)) problems.push(`${at}: ${code}'s schema rejects ${JSON.stringify(body)}`);
        for (const body of AUTH_NOT_BODIES[code] ?? []) if (validate(body)) problems.push(`${at}: ${code}'s schema accepts ${JSON.stringify(body)}`);
      }
    }
  }
  return problems;
}
{
  const problems = await accessProblems(doc);
  const protectedOps = Object.entries(doc.paths).filter(([p]) => isProtected(p)).flatMap(([, item]) => Object.keys(item).filter((k) => METHODS.includes(k.toUpperCase())));
  check(
    problems.length === 0 && protectedOps.length >= 10,
    `access control: securitySchemes bearerAuth (http bearer JWT) and tokenAuth (Authorization: Token); ${protectedOps.length} protected operations require them with users:read/users:write and declare 400/401/403/429 with DRF's and simplejwt's bodies; the open ones declare none`,
    problems.join('\n'),
  );
  const mutations = [
    ['no securitySchemes', (x) => { delete x.components.securitySchemes; }],
    ['a protected operation without 401', (x) => { delete x.paths['/api/users/{id}/'].delete.responses['401']; }],
    ['a protected operation without 403', (x) => { delete x.paths['/api/'].get.responses['403']; }],
    ['a 429 without Retry-After', (x) => { delete x.components.responses.Throttled.headers; }],
    ['a 401 without WWW-Authenticate', (x) => { delete x.components.responses.UnauthorizedHead.headers; }],
    ['a write requiring only users:read', (x) => { x.paths['/api/users/'].post.security = [{ bearerAuth: ['users:read'] }, { tokenAuth: ['users:read'] }]; }],
    ['a protected operation without security', (x) => { delete x.paths['/api/users/'].get.security; }],
    ['an anonymous alternative on a protected operation', (x) => { x.paths['/api/users/'].get.security.push({}); }],
    ['a 401 schema that rejects simplejwt\'s body', (x) => { x.components.responses.Unauthorized.content['application/json'].schema = { $ref: '#/components/schemas/NotAuthenticated' }; }],
    ['top-level security (inherited by the probes)', (x) => { x.security = [{ bearerAuth: [] }]; }],
    ['security on /healthz', (x) => { x.paths['/healthz'].get.security = [{ bearerAuth: [] }]; }],
    ['401 on /api/schema/', (x) => { x.paths['/api/schema/'].get.responses['401'] = { $ref: '#/components/responses/Unauthorized' }; }],
  ];
  for (const [what, mutate] of mutations) {
    const broken = structuredClone(doc);
    try {
      mutate(broken);
    } catch (error) {
      check(false, `self-test: access control catches ${what}`, `the mutation failed: ${error.message}`);
      continue;
    }
    check((await accessProblems(broken)).length > 0, `self-test: access control catches ${what}`);
  }
}

// --- sources: route_table.hpp, user.hpp -------------------------------------------------------------------
// Rows: {"template", "ALLOW", "label", RouteKind::..., ops}.
const routesHpp = fs.readFileSync(path.join(root, 'src/api/route_table.hpp'), 'utf8');
const tableText = (routesHpp.match(/kRouteTable\[\]\s*=\s*\{([\s\S]*?)\n\};/) || [])[1] || '';
const routeTable = new Map(
  [...tableText.matchAll(/\{\s*"([^"]+)"\s*,\s*"([A-Z, ]+)"\s*,/g)].map((m) => [m[1], m[2].split(',').map((s) => s.trim())]),
);
const assetsText = (routesHpp.match(/kDocsAssets\[\]\s*=\s*\{([\s\S]*?)\};/) || [])[1] || '';
const docsAssets = [...assetsText.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
check(routeTable.size >= 5, `kRouteTable read from src/api/route_table.hpp: ${[...routeTable.keys()].join(' ')}`);
check(docsAssets.length >= 1, `kDocsAssets read from src/api/route_table.hpp: ${docsAssets.join(' ')}`);

const userHpp = fs.readFileSync(path.join(root, 'src/domain/user.hpp'), 'utf8');
const constant = (name) => Number((userHpp.match(new RegExp(`${name}\\s*=\\s*(\\d+)`)) || [])[1]);
const dniMax = constant('kDniMaxChars');
const nameMax = constant('kNameMaxChars');
check(Number.isInteger(dniMax) && Number.isInteger(nameMax), `user.hpp: kDniMaxChars=${dniMax}, kNameMaxChars=${nameMax}`);

// --- 4. the limits ------------------------------------------------------------------------------------------------
for (const schemaName of ['User', 'UserInput', 'UserPatch']) {
  const props = doc.components?.schemas?.[schemaName]?.properties || {};
  check(
    props.dni?.maxLength === dniMax && props.name?.maxLength === nameMax,
    `${schemaName}: dni.maxLength ${props.dni?.maxLength} = kDniMaxChars ${dniMax}, name.maxLength ${props.name?.maxLength} = kNameMaxChars ${nameMax}`,
  );
}
{
  const tooLong = await call('POST', '/api/users/', {
    json: { dni: 'd'.repeat(dniMax + 1), name: 'n'.repeat(nameMax + 1) },
  });
  const expected = JSON.stringify({
    dni: [`Ensure this field has no more than ${dniMax} characters.`],
    name: [`Ensure this field has no more than ${nameMax} characters.`],
  });
  check(
    tooLong.status === 400 && tooLong.body.toString() === expected,
    `the server enforces the documented limits: POST ${dniMax + 1}/${nameMax + 1} characters -> 400 ${expected}`,
    `got ${tooLong.status} ${tooLong.body.toString()}`,
  );
  const atLimit = await call('POST', '/api/users/', { json: { dni: 'L'.repeat(dniMax), name: 'N'.repeat(nameMax) } });
  check(atLimit.status === 201, `a user of exactly ${dniMax}/${nameMax} characters is created (got ${atLimit.status})`);
}

// --- 3c. the document's routes are kRouteTable's ----------------------------------------------------------
const docPaths = Object.keys(doc.paths || {});
const documented = (p) =>
  new Set(Object.keys(doc.paths[p] || {}).filter((k) => METHODS.includes(k.toUpperCase())).map((k) => k.toUpperCase()));
{
  const missingFromDoc = [...routeTable.keys()].filter((p) => !docPaths.includes(p));
  const missingFromTable = docPaths.filter((p) => !routeTable.has(p));
  check(
    missingFromDoc.length === 0 && missingFromTable.length === 0,
    'the document\'s paths are exactly kRouteTable\'s',
    [
      missingFromDoc.length ? `served (kRouteTable) but not documented: ${missingFromDoc.join(', ')}` : '',
      missingFromTable.length ? `documented but not in kRouteTable: ${missingFromTable.join(', ')}` : '',
    ].filter(Boolean).join('\n'),
  );
  for (const p of docPaths.filter((x) => routeTable.has(x))) {
    const a = [...documented(p)].sort().join(', ');
    const b = [...routeTable.get(p)].sort().join(', ');
    check(a === b, `${p}: documented methods (${a}) = kRouteTable's Allow (${b})`);
  }
}

// --- 3a. every documented operation answers as documented ---------------------------------------------------
async function createUser(dni, name) {
  const r = await call('POST', '/api/users/', { json: { dni, name } });
  if (r.status !== 201) throw new Error(`could not create a user: ${r.status} ${r.body}`);
  return JSON.parse(r.body.toString()).id;
}
let serial = 0;
const fresh = () => `oa-${process.pid % 1000}-${(serial += 1)}`;

function requestFor(method, p) {
  const needsBody = ['POST', 'PUT', 'PATCH'].includes(method);
  const op = doc.paths[p][method.toLowerCase()];
  if (!needsBody) return {};
  if (!op?.requestBody?.content?.['application/json']) return {};
  if (method === 'PATCH') return { json: { name: 'Patched' } };
  return { json: { dni: fresh(), name: 'Created by the OpenAPI check' } };
}
function statusListed(responses, status) {
  const keys = Object.keys(responses || {});
  return keys.includes(String(status)) || keys.includes(`${String(status)[0]}XX`) || keys.includes('default');
}
function responseFor(responses, status) {
  return responses[String(status)] || responses[`${String(status)[0]}XX`] || responses.default;
}
const essence = (type) => (type || '').split(';')[0].trim().toLowerCase();

const derefPaths = deref.paths;
for (const p of docPaths) {
  const ops = [...documented(p)];
  const substitutions = p.includes('{asset}') ? docsAssets : [null];
  for (const method of ops) {
    for (const asset of substitutions) {
      // DELETE gets a user of its own, so the others keep theirs.
      let urlPath = p;
      if (p.includes('{id}')) urlPath = urlPath.replace('{id}', String(await createUser(fresh(), 'Subject')));
      if (asset !== null) urlPath = urlPath.replace('{asset}', asset);
      const label = `${method} ${urlPath} (${p})`;
      let r;
      try {
        r = await call(method, urlPath, requestFor(method, p));
      } catch (error) {
        check(false, `${label}: answers`, error.message);
        continue;
      }
      const op = derefPaths[p][method.toLowerCase()];
      const listed = statusListed(op.responses, r.status);
      check(
        listed && r.status >= 200 && r.status < 300,
        `${label} -> ${r.status}: a documented success (documented: ${Object.keys(op.responses).join(' ')})`,
        r.body.length ? r.body.toString().slice(0, 300) : '',
      );
      if (!listed) continue;
      const response = responseFor(op.responses, r.status);
      const content = response.content || {};
      if (method === 'HEAD' || r.status === 204 || Object.keys(content).length === 0) {
        if (r.status === 204) check(r.body.length === 0, `${label}: 204 has no body`);
        continue;
      }
      const type = r.headers.get('content-type');
      const mediaKey = Object.keys(content).find((k) => essence(k) === essence(type));
      if (!check(mediaKey !== undefined, `${label}: Content-Type ${type} is documented (${Object.keys(content).join(', ')})`)) continue;
      const schema = content[mediaKey].schema;
      if (!schema || !/json/.test(essence(type))) continue;
      let body;
      try {
        body = JSON.parse(r.body.toString('utf8'));
      } catch (error) {
        check(false, `${label}: the body is JSON`, error.message);
        continue;
      }
      const validate = ajv.compile(schema);
      check(validate(body), `${label}: the body matches the documented schema`, ajv.errorsText(validate.errors));
    }
  }
}

// --- 3b. everything undocumented answers 405 ---------------------------------------------------------------------
const knownPaths = [...new Set([...docPaths, ...routeTable.keys()])];
const userForMethods = await createUser(fresh(), 'Method subject');
for (const p of knownPaths) {
  const allowed = doc.paths[p] ? documented(p) : new Set();
  const substitutions = p.includes('{asset}') ? docsAssets : [null];
  for (const asset of substitutions) {
    let urlPath = p.replace('{id}', String(userForMethods));
    if (asset !== null) urlPath = urlPath.replace('{asset}', asset);
    for (const method of METHODS.filter((m) => !allowed.has(m))) {
      const r = await call(method, urlPath, ['POST', 'PUT', 'PATCH'].includes(method) ? { json: { dni: fresh(), name: 'x' } } : {});
      const allow = (r.headers.get('allow') || '').split(',').map((s) => s.trim()).filter(Boolean).sort().join(', ');
      const expectedAllow = [...allowed].sort().join(', ');
      if (doc.paths[p]) {
        check(
          r.status === 405 && allow === expectedAllow,
          `${method} ${urlPath} is not documented -> 405 with Allow: ${expectedAllow} (got ${r.status}, Allow: ${allow})`,
        );
      } else {
        // A path the server routes but the document lacks (already a failure
        // of 3c): every method must at least be refused.
        check(r.status === 405, `${method} ${urlPath} is not documented (${p} is not in the document) -> 405 (got ${r.status})`);
      }
    }
  }
}

// Paths outside kRouteTable: 404, or Django's APPEND_SLASH redirect to a
// documented path (GET/HEAD of a path without its trailing slash).
for (const [urlPath, expected] of [
  ['/api/users/1/extra/', 404],
  ['/api/docs/not-an-asset.js', 404],
  ['/api/nothing/', 404],
  ['/healthz/', 404],
  ['/api/users', 301],
  ['/api/schema', 301],
]) {
  const r = await call('GET', urlPath);
  const location = r.headers.get('location') || '';
  const ok =
    r.status === expected && (expected !== 301 || (location === `${urlPath}/` && docPaths.includes(location)));
  check(ok, `GET ${urlPath} (not a route) -> ${expected}${expected === 301 ? ` to the documented ${urlPath}/` : ''} (got ${r.status}${location ? ` ${location}` : ''})`);
}


// --- 6. conditional requests (ETAGS=on) ------------------------------------------------------------------------
{
  const at = args['etags-base'].replace(/\/$/, '');
  const itemPath = '/api/users/{id}/';
  const itemOps = derefPaths[itemPath];
  const headerParams = (op) => (op.parameters || []).filter((q) => q.in === 'header').map((q) => q.name);
  for (const [method, field, status] of [
    ['get', 'If-None-Match', '304'],
    ['head', 'If-None-Match', '304'],
    ['put', 'If-Match', '412'],
    ['patch', 'If-Match', '412'],
    ['delete', 'If-Match', '412'],
  ]) {
    const op = itemOps[method];
    check(headerParams(op).includes(field), `${method.toUpperCase()} ${itemPath} documents the ${field} header`);
    check(op.responses[status] !== undefined, `${method.toUpperCase()} ${itemPath} documents ${status}`);
  }
  const created = await call('POST', '/api/users/', { json: { dni: fresh(), name: 'Tagged' }, at });
  const id = JSON.parse(created.body.toString()).id;
  const urlPath = `/api/users/${id}/`;
  const tagHeader = (op, status) => op.responses[status]?.headers?.ETag;
  const tagMatches = (op, status, value) => {
    const documented = tagHeader(op, status);
    return documented !== undefined && value !== null && ajv.compile(documented.schema)(value);
  };
  const got = await call('GET', urlPath, { at });
  const tag = got.headers.get('etag');
  check(got.status === 200 && tagMatches(itemOps.get, '200', tag), `GET ${urlPath}: 200 with the documented ETag (${tag})`);
  const plain = await call('GET', urlPath);
  check(plain.headers.get('etag') === null, `GET of a user without ETAGS: no ETag (got ${plain.headers.get('etag')})`);
  for (const method of ['GET', 'HEAD']) {
    const r = await call(method, urlPath, { at, headers: { 'If-None-Match': tag } });
    const op = itemOps[method.toLowerCase()];
    check(
      r.status === 304 && r.body.length === 0 && r.headers.get('content-length') === null && tagMatches(op, '304', r.headers.get('etag')),
      `${method} ${urlPath} with If-None-Match: its ETag -> the documented 304, no body, no Content-Length (got ${r.status}, ${r.body.length} bytes)`,
    );
  }
  for (const [method, json] of [
    ['PUT', { dni: fresh(), name: 'Replaced' }],
    ['PATCH', { name: 'Patched' }],
    ['DELETE', undefined],
  ]) {
    const op = itemOps[method.toLowerCase()];
    const stale = await call(method, urlPath, { at, json, headers: { 'If-Match': '"0123456789abcdef0123456789abcdef"' } });
    const schema = op.responses['412']?.content?.['application/json']?.schema;
    let body = null;
    try {
      body = JSON.parse(stale.body.toString());
    } catch {
      body = null;
    }
    check(
      stale.status === 412 && schema !== undefined && ajv.compile(schema)(body) && body.detail === 'Precondition failed.',
      `${method} ${urlPath} with a stale If-Match -> the documented 412 (got ${stale.status} ${stale.body})`,
    );
    const current = (await call('GET', urlPath, { at })).headers.get('etag');
    const r = await call(method, urlPath, { at, json, headers: { 'If-Match': current } });
    if (method === 'DELETE') {
      check(r.status === 204, `DELETE ${urlPath} with its ETag -> 204 (got ${r.status})`);
    } else {
      check(r.status === 200 && tagMatches(op, '200', r.headers.get('etag')), `${method} ${urlPath} with its ETag -> 200 with the documented ETag (got ${r.status})`);
    }
  }
}

finish();
