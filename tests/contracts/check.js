#!/usr/bin/env node
// tests/contracts/check.js: checks recorded traffic (mlc-sim --record: JSON lines
// {api, method, path, query, body, status, response}) against the published contracts:
//   V2: every request (path, query, body) and every response against ShipStation's
//       OpenAPI file (shipstation-v2-openapi.yaml), validated by ajv (JSON Schema
//       2020-12, the dialect of OpenAPI 3.1) with ajv-formats;
//   M3: every MI call against m3-transactions.json: known program/transaction, only
//       input fields the transaction defines, every required one present, a company
//       (CONO field, ;cono= matrix, cono query or the bulk body's cono) on each
//       transaction that defines CONO, and a session company (;cono=, cono query or
//       the bulk body's cono: no CONO field exists) on every EXPORTMI call, whose
//       rows are the API session company's (Infor M3 UDI 16.x, EXPORTMI page); and
//       every M3 answer: one result per transaction, in order, and only the
//       transaction's output fields in its records.
// The spec is read as ShipStation's service behaves where its authors wrote Swagger 2
// (see TRANSLATIONS and DEVIATIONS below, and mlc-sim(1) "CONTRACT"); nothing else
// is relaxed. Exit 0 with no violation, 1 with any (each printed), 2 on bad usage.
// Usage: node check.js [--max-print N] FILE.jsonl...
// Not here: recording (tests/sim/sim_record.c), the sim's own request checks
// (tests/sim/sim_contract.c).
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const HERE = __dirname;
const args = process.argv.slice(2);
let maxPrint = 50;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--max-print') maxPrint = Number(args[++i]);
  else files.push(args[i]);
}
if (!files.length) {
  console.error('usage: node check.js [--max-print N] FILE.jsonl...');
  process.exit(2);
}

// ---------------------------------------------------------------- the V2 spec
const spec = yaml.load(fs.readFileSync(path.join(HERE, 'shipstation-v2-openapi.yaml'), 'utf8'));

// TRANSLATIONS: Swagger-2 idioms of the file, read as its authors meant them.
//  1. `x-nullable: true` (136 places): null is allowed too (research/README.md).
//  2. allOf is a merge (Swagger 2 style): `additionalProperties: false` beside
//     allOf (43 places, e.g. the shipment response bodies) or on its members would,
//     in JSON Schema, refuse the properties the other members name; it means "no
//     property beyond the merged ones", which is 2020-12's
//     `unevaluatedProperties: false` on the composite, with the members read open
//     ("X__open" copies of the component schemas they name, without it).
function translate(node) {
  if (Array.isArray(node)) return node.map(translate);
  if (!node || typeof node !== 'object') return node;
  let out = {};
  for (const [k, v] of Object.entries(node)) out[k] = translate(v);
  if (out['x-nullable'] === true) {
    delete out['x-nullable'];
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = out.enum.concat([null]);
    } else if (!Array.isArray(out.type)) {
      out = { anyOf: [{ type: 'null' }, out] };
    }
  }
  return out;
}

const v2 = translate(spec);
function openRef(member) {
  const m = /^#\/components\/schemas\/(.+)$/.exec(member.$ref || '');
  if (!m) return openSchema(member);
  const name = m[1] + '__open';
  if (!v2.components.schemas[name]) {
    v2.components.schemas[name] = {}; // placeholder against cycles
    v2.components.schemas[name] = openSchema(v2.components.schemas[m[1]]);
  }
  return { ...member, $ref: '#/components/schemas/' + name };
}
function openSchema(sch) {
  const o = { ...sch };
  if (o.additionalProperties === false) delete o.additionalProperties;
  if (o.unevaluatedProperties === false) delete o.unevaluatedProperties;
  if (o.allOf) o.allOf = o.allOf.map(openRef);
  return o;
}
const closed = (m) => {
  const r = m && m.$ref ? resolveRef(m) : m;
  return r && (r.additionalProperties === false || r.unevaluatedProperties === false);
};
function closeComposites(node) {
  if (Array.isArray(node)) return node.forEach(closeComposites);
  if (!node || typeof node !== 'object') return;
  for (const v of Object.values(node)) closeComposites(v);
  if (node.allOf && (node.additionalProperties === false || node.allOf.some(closed))) {
    delete node.additionalProperties;
    node.unevaluatedProperties = false;
    node.allOf = node.allOf.map(openRef);
  }
}
closeComposites(v2.paths);
closeComposites(Object.values(v2.components.schemas).filter((x) => x)); // the __open copies are made as we go
// DEVIATIONS: recorded real behaviour that differs from the schema (each listed in
// mlc-sim(1) with its evidence, research/README.md):
//  a. `pages: 0` on an empty list (the list bodies' pages have minimum 1);
//  b. `batch_id: ""` on a label bought outside a batch;
//  c. GET /v2/shipments: pickup_id is marked required, and is not.
const S = v2.components.schemas;
for (const sch of Object.values(S)) {
  const pages = sch && sch.properties && sch.properties.pages;
  if (pages && pages.minimum === 1) pages.minimum = 0;
}
const labelBatch = S.label.properties.batch_id;
S.label.properties.batch_id = { anyOf: [{ const: '' }, labelBatch] };
for (const p of v2.paths['/v2/shipments'].get.parameters || []) {
  if (p.name === 'pickup_id') p.required = false;
  if (p.$ref === '#/components/parameters/pickup_id_query_param')
    Object.assign(p, { ...v2.components.parameters.pickup_id_query_param, required: false, $ref: undefined });
}
//  d. the V2 webhook events of ShipStation's docs (track_event_v2, ...; shipstation.md
//     2.7) besides the file's ShipEngine-style webhook_event enum.
S.webhook_event.enum.push('batch_processed_v2', 'track_event_v2', 'shipment_created_v2', 'label_created_v2',
  'fulfillment_shipped_v2', 'fulfillment_rejected_v2', 'fulfillment_created_v2', 'fulfillment_updated_v2',
  'fulfillment_canceled_v2');
v2.$id = 'v2spec';

// `format: url`: an absolute http(s) URL as WHATWG URL parses it. ajv-formats' own
// "url" wants a public host name and refuses the sim's loopback links
// (research/README.md: judge such hits by hand; this is that judgement, once).
const isUrl = (s) => {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch (e) {
    return false;
  }
};
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addFormat('url', isUrl);
ajv.addVocabulary(['example']);
ajv.addSchema(v2);
const ajvQuery = new Ajv2020({ strict: false, allErrors: true, coerceTypes: 'array' });
addFormats(ajvQuery);
ajvQuery.addSchema(JSON.parse(JSON.stringify(v2)));

// a $ref into the spec from its pointer parts (JSON Pointer escaping)
const ref = (...parts) => 'v2spec#/' + parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const absRefs = (o) => JSON.parse(JSON.stringify(o), (k, v) => (k === '$ref' && v.startsWith('#/') ? 'v2spec' + v : v));
const cache = new Map();
function compiled(a, ref) {
  const key = (a === ajv ? 'b:' : 'q:') + JSON.stringify(ref);
  if (!cache.has(key)) cache.set(key, a.compile(ref));
  return cache.get(key);
}

// routes: the spec's path templates, literal segments preferred over parameters
const routes = [];
for (const [tpl, item] of Object.entries(v2.paths)) {
  const segs = tpl.split('/').filter(Boolean);
  const nparams = segs.filter((s) => s.startsWith('{')).length;
  routes.push({ tpl, item, segs, nparams });
}
routes.sort((a, b) => a.nparams - b.nparams);

function matchRoute(p, method) {
  const segs = p.split('?')[0].split('/').filter(Boolean);
  for (const r of routes) {
    if (r.segs.length !== segs.length || !r.item[method]) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < segs.length && ok; i++) {
      const t = r.segs[i];
      if (t.startsWith('{')) params[t.slice(1, -1)] = decodeURIComponent(segs[i]);
      else ok = t === segs[i];
    }
    if (ok) return { r, params, op: r.item[method] };
  }
  return null;
}

function resolveRef(obj) {
  while (obj && obj.$ref) {
    const parts = obj.$ref.replace(/^#\//, '').split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    obj = parts.reduce((o, k) => o[k], v2);
  }
  return obj;
}

function errText(errors) {
  return errors
    .slice(0, 6)
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params && e.params.additionalProperty ? ` '${e.params.additionalProperty}'` : ''}${e.params && e.params.unevaluatedProperty ? ` '${e.params.unevaluatedProperty}'` : ''}`)
    .join('; ');
}

function paramsSchema(op, pathItem, where) {
  const list = [...(pathItem.parameters || []), ...(op.parameters || [])].map(resolveRef).filter((p) => p.in === where);
  const sch = { type: 'object', properties: {}, required: [], additionalProperties: false };
  list.forEach((p) => {
    sch.properties[p.name] = absRefs(p.schema || {});
    if (p.required) sch.required.push(p.name);
  });
  return sch;
}

const violations = [];
const stats = { v2req: 0, v2resp: 0, m3: 0, m3resp: 0, skipped: 0, faulted: 0 };
function violation(where, rec, msg) {
  violations.push(`${where}: ${rec.method} ${rec.path}: ${msg}`);
}

function checkV2(rec, where) {
  if (rec.path === '/jwks') { // the webhook-signature key set: not part of the OpenAPI file
    stats.skipped++;
    return;
  }
  const method = rec.method.toLowerCase();
  const m = matchRoute(rec.path, method);
  if (!m) {
    violation(where, rec, 'no such operation in the OpenAPI file');
    return;
  }
  const { r, params, op } = m;
  stats.v2req++;
  const base = ['paths', r.tpl, method];
  // path and query parameters
  const pv = compiled(ajvQuery, paramsSchema(op, r.item, 'path'));
  if (!pv(params)) violation(where, rec, `path parameters: ${errText(pv.errors)}`);
  const q = JSON.parse(JSON.stringify(rec.query || {}));
  const qv = compiled(ajvQuery, paramsSchema(op, r.item, 'query'));
  if (!qv(q)) violation(where, rec, `query: ${errText(qv.errors)}`);
  // request body
  const rb = resolveRef(op.requestBody);
  const hasBody = rec.body !== null && rec.body !== undefined && rec.body !== '';
  if (rb && rb.content && rb.content['application/json']) {
    if (!hasBody) {
      if (rb.required) violation(where, rec, 'request body required');
    } else {
      const v = compiled(ajv, { $ref: ref(...base, 'requestBody', 'content', 'application/json', 'schema') });
      if (!v(rec.body)) violation(where, rec, `request body: ${errText(v.errors)}`);
    }
  } else if (hasBody) {
    violation(where, rec, 'a body on an operation that declares none');
  }
  // response: not when an injected fault answered (a test's perturbation, not the
  // service model: mlc-sim(1) FAULTS) or no answer was sent at all
  if (typeof rec.status !== 'number' || rec.fault) {
    stats.faulted++;
    return;
  }
  stats.v2resp++;
  let resp = op.responses[String(rec.status)] ? op.responses[String(rec.status)] : op.responses.default;
  let schemaRef = null;
  if (resp) {
    const rr = resolveRef(resp);
    const key = op.responses[String(rec.status)] ? String(rec.status) : 'default';
    if (rr.content && rr.content['application/json']) {
      schemaRef = resp.$ref
        ? resp.$ref.replace(/^#/, 'v2spec#') + '/content/application~1json/schema'
        : ref(...base, 'responses', key, 'content', 'application/json', 'schema');
    } else if (rec.response !== null && rec.response !== '') {
      violation(where, rec, `response ${rec.status}: a body where the operation declares none`);
      return;
    }
  } else if (rec.status >= 400) {
    // statuses the file does not list per operation (401, 429...): the error shape
    schemaRef = 'v2spec#/components/schemas/error_response_body';
  } else {
    violation(where, rec, `response status ${rec.status} is not declared`);
    return;
  }
  if (schemaRef) {
    const v = compiled(ajv, { $ref: schemaRef });
    const body = rec.response === null ? '' : rec.response;
    if (!v(body)) violation(where, rec, `response ${rec.status}: ${errText(v.errors)}`);
  }
}

// ---------------------------------------------------------------- M3
const m3 = JSON.parse(fs.readFileSync(path.join(HERE, 'm3-transactions.json'), 'utf8')).programs;
// what the M3 REST v2 API itself takes besides a transaction's fields (matrix or query)
const CONTROLS = new Set(['maxrecs', 'returncols', 'cono', 'divi', 'dateformat', 'excludempty', 'righttrim',
  'format', 'extendedresult', 'metadata', 'trim']);

// programs that have no CONO field and read the API session's company: "M3 company
// is always set to the company used by the API session" (Infor M3 UDI 16.x, EXPORTMI,
// docs.infor.com/m3udi/16.x/en-us/m3beud/appfoundhs/uof1644857333894.html). Without
// one named on the call they read the service account's default company.
const SESSION_COMPANY = new Set(['EXPORTMI']);

function checkTx(where, rec, pgm, trn, fields, company) {
  stats.m3++;
  const p = m3[pgm];
  const t = p && p[trn];
  if (!t) {
    violation(where, rec, `${pgm}/${trn}: unknown transaction`);
    return;
  }
  const names = new Set(t.inputs.map((i) => i.name));
  for (const f of Object.keys(fields)) if (!names.has(f)) violation(where, rec, `${pgm}/${trn}: unknown input field ${f}`);
  for (const i of t.inputs) {
    const v = fields[i.name];
    if (i.required && (v === undefined || v === null || String(v).trim() === ''))
      violation(where, rec, `${pgm}/${trn}: required field ${i.name} missing`);
  }
  if (names.has('CONO') && !company && !(fields.CONO && String(fields.CONO).trim()))
    violation(where, rec, `${pgm}/${trn}: no company (CONO)`);
  if (SESSION_COMPANY.has(pgm) && !company)
    violation(where, rec, `${pgm}/${trn}: no session company (;cono=, cono query or the bulk body's cono)`);
}
const present = (v) => v !== undefined && v !== null && String(v).trim() !== '';
// a cono control option among the query parameters: on a GET an all-capitals CONO is
// the transaction's input field, any other case the control option; on a bulk URL
// every query parameter is a control option
const queryCono = (q, bulk) =>
  Object.entries(q || {}).some(([k, v]) => k.toLowerCase() === 'cono' && (bulk || k !== 'CONO') && present(v));

// An M3 answer: every field of every record must be an output field of the
// transaction that answered it (the v2 envelope's results[i].records, in the order of
// the request's transactions, or the v1 shape's MIRecord[].NameValue[].Name). Not
// judged: an answer an injected fault sent, none at all, a bare error object.
function checkM3Answer(where, rec, pgm, trns) {
  const r = rec.response;
  if (typeof rec.status !== 'number' || rec.fault || !r || typeof r !== 'object') return;
  const outputsOf = (trn) => {
    const t = m3[pgm] && m3[pgm][trn];
    return t ? new Set((t.outputs || []).map((o) => o.name)) : null;
  };
  const judge = (trn, names, at) => {
    const outs = outputsOf(trn);
    if (!outs) return; // an unknown transaction: the request is already a violation
    for (const n of names) if (!outs.has(n)) violation(where, rec, `${pgm}/${trn} answer${at}: field ${n} is not an output of the transaction`);
  };
  if (Array.isArray(r.results)) {
    stats.m3resp++;
    if (r.results.length !== trns.length)
      violation(where, rec, `${pgm}: ${r.results.length} results for ${trns.length} transactions`);
    r.results.forEach((res, i) => {
      const trn = trns[i];
      if (res && res.transaction !== undefined && res.transaction !== trn)
        violation(where, rec, `${pgm}: result ${i} is for ${res.transaction}, the request's transaction ${i} is ${trn}`);
      ((res && res.records) || []).forEach((row, j) => judge(trn, Object.keys(row || {}), ` (result ${i}, record ${j})`));
    });
  } else if (Array.isArray(r.MIRecord)) {
    stats.m3resp++;
    r.MIRecord.forEach((row, j) => judge(trns[0], ((row && row.NameValue) || []).map((nv) => nv.Name), ` (record ${j})`));
  }
}

function checkM3(rec, where) {
  const p = decodeURIComponent(rec.path);
  const i = p.indexOf('/m3api-rest/');
  if (i < 0) {
    violation(where, rec, 'not an MI REST path');
    return;
  }
  const rest = p.slice(i + '/m3api-rest/'.length).split('/').filter(Boolean); // v2 execute PGM TRN;matrix
  const ex = rest.indexOf('execute');
  const tail = rest.slice(ex + 1);
  if (tail.length === 0) { // bulk
    const b = rec.body || {};
    const company = present(b.cono) || queryCono(rec.query, true);
    for (const t of b.transactions || []) checkTx(where, rec, b.program, t.transaction, t.record || {}, company);
    checkM3Answer(where, rec, b.program, (b.transactions || []).map((t) => t.transaction));
    return;
  }
  const pgm = tail[0].split(';')[0];
  const [trn, ...matrix] = (tail[1] || '').split(';');
  let company = false;
  for (const m of matrix) {
    const [k, v] = m.split('=');
    if (k.toLowerCase() === 'cono' && present(v)) company = true;
  }
  if (queryCono(rec.query, false)) company = true;
  const fields = {};
  // all capitals: an input field (as M3 reads a GET), else a control option
  for (const [k, v] of Object.entries(rec.query || {}))
    if (/^[A-Z0-9]+$/.test(k) || !CONTROLS.has(k.toLowerCase())) fields[k] = v;
  checkTx(where, rec, pgm, trn, fields, company);
  checkM3Answer(where, rec, pgm, [trn]);
}

// ---------------------------------------------------------------- main
let lines = 0;
for (const f of files) {
  const text = fs.readFileSync(f, 'utf8');
  text.split('\n').forEach((line, n) => {
    if (!line.trim()) return;
    lines++;
    const where = `${path.basename(f)}:${n + 1}`;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      violations.push(`${where}: not a JSON line`);
      return;
    }
    if (rec.api === 'v2') checkV2(rec, where);
    else if (rec.api === 'm3') checkM3(rec, where);
    else stats.skipped++;
  });
}
violations.slice(0, maxPrint).forEach((v) => console.log(`violation: ${v}`));
if (violations.length > maxPrint) console.log(`... and ${violations.length - maxPrint} more`);
console.log(`contracts: ${lines} exchanges in ${files.length} files: ${stats.v2req} V2 requests and ` +
  `${stats.v2resp} V2 responses against the OpenAPI file, ${stats.m3} M3 transactions and ${stats.m3resp} M3 ` +
  `answers against m3-transactions.json (${stats.skipped} V1/other not judged, ${stats.faulted} V2 answers by injected ` +
  `faults not judged): ${violations.length} violations`);
process.exit(violations.length ? 1 : 0);
