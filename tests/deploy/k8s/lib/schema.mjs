// Schema validation of rendered Kubernetes objects against the API schema
// shipped by the npm package kubernetes-models (and its prometheus-operator
// sibling for the one CRD we use).
//
// kubernetes-models' validate() checks types, enums and required fields but
// NOT unknown fields: its compiled JSON-schema validators carry no
// additionalProperties: false (the Kubernetes OpenAPI has none either; the
// API server prunes or rejects unknown fields itself). So a second pass walks
// every object along the package's own TypeScript declarations (generated
// from the same OpenAPI document) and reports each field the declarations do
// not list. The declaration parser understands exactly the forms the
// generator emits and throws on anything else, so it cannot pass silently.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const NODE_MODULES = path.resolve(HERE, "..", "node_modules");

// CRDs whose models come from a @kubernetes-models package.
const CRD_PACKAGES = {
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

function modelLocation(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Z]\w*$/.test(kind)) return null;
  if (CRD_PACKAGES[apiVersion]) {
    const base = CRD_PACKAGES[apiVersion];
    return { specifier: `${base}/${kind}`, dts: path.join(NODE_MODULES, base, `${kind}.d.ts`) };
  }
  const parts = apiVersion.split("/");
  if (parts.length > 2) return null;
  const sub = parts.length === 2 ? `${parts[0]}/${parts[1]}` : parts[0];
  return { specifier: `kubernetes-models/${sub}/${kind}`, dts: path.join(NODE_MODULES, "kubernetes-models", sub, `${kind}.d.ts`) };
}

// ---------------------------------------------------------------- .d.ts reader

const PRIMITIVES = new Set(["string", "number", "boolean", "null", "undefined"]);
const ANY = new Set(["any", "unknown", "object"]);

function tokenize(text) {
  const tokens = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*")|([A-Za-z_$][\w$]*)|(-?\d+(?:\.\d+)?)|([{}[\]<>()|;:?,&=]))/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Error(`cannot tokenize type text near: ${text.slice(pos, pos + 60)}`);
    pos = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ t: "str", v: JSON.parse(m[1]) });
    else if (m[2] !== undefined) tokens.push({ t: "id", v: m[2] });
    else if (m[3] !== undefined) tokens.push({ t: "num", v: m[3] });
    else tokens.push({ t: "p", v: m[4] });
  }
  return tokens;
}

class TypeParser {
  constructor(text) {
    this.tokens = tokenize(text);
    this.i = 0;
  }
  peek(o = 0) {
    return this.tokens[this.i + o];
  }
  isP(v, o = 0) {
    const t = this.peek(o);
    return t !== undefined && t.t === "p" && t.v === v;
  }
  expectP(v) {
    if (!this.isP(v)) throw new Error(`expected "${v}" in type, got ${JSON.stringify(this.peek())}`);
    this.i++;
  }
  done() {
    return this.i >= this.tokens.length;
  }
  type() {
    if (this.isP("|")) this.i++;
    const alts = [this.postfix()];
    while (this.isP("|")) {
      this.i++;
      alts.push(this.postfix());
    }
    if (this.isP("&")) throw new Error("intersection types are not supported");
    return alts.length === 1 ? alts[0] : { k: "union", of: alts };
  }
  postfix() {
    let t = this.primary();
    while (this.isP("[") && this.isP("]", 1)) {
      this.i += 2;
      t = { k: "array", of: t };
    }
    return t;
  }
  primary() {
    const tok = this.peek();
    if (tok === undefined) throw new Error("unexpected end of type");
    if (tok.t === "p" && tok.v === "(") {
      this.i++;
      const t = this.type();
      this.expectP(")");
      return t;
    }
    if (tok.t === "p" && tok.v === "{") return this.objectBody();
    if (tok.t === "str" || tok.t === "num") {
      this.i++;
      return { k: "leaf" };
    }
    if (tok.t === "id") {
      this.i++;
      if (tok.v === "Array" && this.isP("<")) {
        this.i++;
        const of = this.type();
        this.expectP(">");
        return { k: "array", of };
      }
      if (PRIMITIVES.has(tok.v) || tok.v === "true" || tok.v === "false") return { k: "leaf" };
      if (ANY.has(tok.v)) return { k: "any" };
      if (this.isP("<")) throw new Error(`generic type ${tok.v}<...> is not supported`);
      return { k: "ref", name: tok.v };
    }
    throw new Error(`unexpected token ${JSON.stringify(tok)} in type`);
  }
  objectBody() {
    this.expectP("{");
    const props = new Map();
    let index = null;
    while (!this.isP("}")) {
      if (this.isP("[")) {
        this.i++;
        const key = this.peek();
        if (!key || key.t !== "id") throw new Error("bad index signature");
        this.i++;
        this.expectP(":");
        const kt = this.peek();
        if (!kt || kt.t !== "id" || kt.v !== "string") throw new Error("only string index signatures are supported");
        this.i++;
        this.expectP("]");
        this.expectP(":");
        index = this.type();
      } else {
        const name = this.peek();
        if (!name || (name.t !== "str" && name.t !== "id")) throw new Error(`bad member name ${JSON.stringify(name)}`);
        this.i++;
        if (this.isP("?")) this.i++;
        this.expectP(":");
        props.set(name.v, this.type());
      }
      if (this.isP(";") || this.isP(",")) this.i++;
      else if (!this.isP("}")) throw new Error(`expected ";" after member, got ${JSON.stringify(this.peek())}`);
    }
    this.expectP("}");
    return { k: "object", props, index };
  }
}

function parseTypeText(text) {
  const p = new TypeParser(text);
  const t = p.type();
  if (!p.done()) throw new Error(`trailing tokens in type: ${JSON.stringify(p.peek())}`);
  return t;
}

function matchClose(src, open) {
  let depth = 0;
  for (let j = open; j < src.length; j++) {
    if (src[j] === "{") depth++;
    else if (src[j] === "}" && --depth === 0) return j;
  }
  throw new Error("unbalanced braces");
}

const moduleCache = new Map();

function loadModule(file) {
  if (moduleCache.has(file)) return moduleCache.get(file);
  if (!fs.existsSync(file)) throw new Error(`type declarations not found: ${path.relative(NODE_MODULES, file)}`);
  const src = fs
    .readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const mod = { file, imports: new Map(), decls: new Map(), exportAs: new Map() };
  for (const m of src.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"\s*;/g)) {
    for (const part of m[1].split(",").map((s) => s.trim()).filter(Boolean)) {
      const [orig, local] = part.split(/\s+as\s+/).map((s) => s.trim());
      mod.imports.set(local ?? orig, { specifier: m[2], name: orig });
    }
  }
  for (const m of src.matchAll(/export\s*\{([^}]*)\}\s*;/g)) {
    for (const part of m[1].split(",").map((s) => s.trim()).filter(Boolean)) {
      const [orig, alias] = part.split(/\s+as\s+/).map((s) => s.trim());
      mod.exportAs.set(alias ?? orig, orig);
    }
  }
  for (const m of src.matchAll(/export\s+interface\s+(\w+)(?:\s+extends\s+([\w\s,]+?))?\s*\{/g)) {
    const open = m.index + m[0].length - 1;
    const close = matchClose(src, open);
    const ext = (m[2] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    mod.decls.set(m[1], { text: src.slice(open, close + 1), extends: ext });
  }
  for (const m of src.matchAll(/export\s+(?:declare\s+)?type\s+(\w+)\s*=/g)) {
    const start = m.index + m[0].length;
    let depth = 0;
    let j = start;
    for (; j < src.length; j++) {
      const c = src[j];
      if ("{(<[".includes(c)) depth++;
      else if ("})>]".includes(c)) depth--;
      else if (c === ";" && depth === 0) break;
    }
    mod.decls.set(m[1], { text: src.slice(start, j), extends: [] });
  }
  moduleCache.set(file, mod);
  return mod;
}

function resolveSpecifier(fromFile, specifier) {
  if (specifier === "@kubernetes-models/base") return null; // Model, ModelData, TypeMeta
  const base = specifier.startsWith(".")
    ? path.resolve(path.dirname(fromFile), specifier)
    : path.join(NODE_MODULES, specifier);
  for (const candidate of [`${base}.d.ts`, path.join(base, "index.d.ts")]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`cannot resolve "${specifier}" from ${path.relative(NODE_MODULES, fromFile)}`);
}

// TypeMeta (from @kubernetes-models/base) holds apiVersion and kind, which
// every generated interface re-declares with its literal values.
const IGNORED_BASES = new Set(["TypeMeta"]);

function resolveName(name, mod, seen = new Set()) {
  const key = `${mod.file}#${name}`;
  if (seen.has(key)) throw new Error(`type alias loop at ${name}`);
  seen.add(key);
  const local = mod.exportAs.has(name) && !mod.decls.has(name) ? mod.exportAs.get(name) : name;
  const decl = mod.decls.get(local);
  if (decl) {
    if (!decl.parsed) {
      let t = parseTypeText(decl.text);
      for (const base of decl.extends) {
        if (IGNORED_BASES.has(base)) continue;
        const parent = resolveName(base, mod);
        const pt = derefAll(parent.type, parent.mod);
        if (t.k !== "object" || pt.type.k !== "object") throw new Error(`cannot merge ${base} into ${name}`);
        t = { k: "object", props: new Map([...pt.type.props, ...t.props]), index: t.index ?? pt.type.index };
      }
      decl.parsed = t;
    }
    return { type: decl.parsed, mod };
  }
  const imp = mod.imports.get(local);
  if (imp) {
    const file = resolveSpecifier(mod.file, imp.specifier);
    if (file === null) throw new Error(`type ${name} from @kubernetes-models/base is not supported`);
    return resolveName(imp.name, loadModule(file), seen);
  }
  throw new Error(`cannot resolve type ${name} in ${path.relative(NODE_MODULES, mod.file)}`);
}

function derefAll(type, mod) {
  let t = type;
  let m = mod;
  for (let n = 0; t.k === "ref"; n++) {
    if (n > 50) throw new Error("reference chain too long");
    const r = resolveName(t.name, m);
    t = r.type;
    m = r.mod;
  }
  return { type: t, mod: m };
}

function isPlainObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function fitsShape(value, type, mod) {
  const { type: t } = derefAll(type, mod);
  if (t.k === "array") return Array.isArray(value);
  if (t.k === "object") return isPlainObject(value);
  return !isPlainObject(value) && !Array.isArray(value);
}

function walk(value, type, mod, where, errors) {
  const { type: t, mod: m } = derefAll(type, mod);
  switch (t.k) {
    case "leaf":
    case "any":
      return;
    case "array":
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, t.of, m, `${where}[${i}]`, errors));
      return;
    case "object":
      if (!isPlainObject(value)) return;
      if (t.props.size === 0 && t.index === null) return; // "{}": free-form by design
      for (const [k, v] of Object.entries(value)) {
        if (t.props.has(k)) walk(v, t.props.get(k), m, `${where}.${k}`, errors);
        else if (t.index !== null) walk(v, t.index, m, `${where}.${k}`, errors);
        else errors.push(`${where}.${k}: unknown field "${k}"`);
      }
      return;
    case "union": {
      const fitting = t.of.filter((alt) => fitsShape(value, alt, m));
      if (fitting.length === 0) return; // the type check reports it
      if (fitting.length === 1) return walk(value, fitting[0], m, where, errors);
      // Several structural alternatives: the value must fit one of them.
      let best = null;
      for (const alt of fitting) {
        const e = [];
        walk(value, alt, m, where, e);
        if (e.length === 0) return;
        if (best === null || e.length < best.length) best = e;
      }
      errors.push(...best);
      return;
    }
    default:
      throw new Error(`internal: unknown type node ${t.k}`);
  }
}

// --------------------------------------------------------------- public API

const classCache = new Map();

async function loadModel(apiVersion, kind) {
  const key = `${apiVersion}|${kind}`;
  if (classCache.has(key)) return classCache.get(key);
  const loc = modelLocation(apiVersion, kind);
  let result = null;
  if (loc && fs.existsSync(loc.dts)) {
    const mod = await import(loc.specifier);
    const cls = mod[kind];
    if (typeof cls !== "function") throw new Error(`${loc.specifier} exports no ${kind}`);
    result = { cls, dts: loc.dts, iface: `I${kind}` };
  }
  classCache.set(key, result);
  return result;
}

// kustomize folds long base64 Secret values over several lines; the API
// server's decoder (Go's encoding/base64) skips \r and \n, while the
// package's "byte" format does not. Check the value the server would decode.
function schemaView(obj) {
  if (obj.apiVersion !== "v1" || obj.kind !== "Secret" || !isPlainObject(obj.data)) return obj;
  const data = Object.fromEntries(
    Object.entries(obj.data).map(([k, v]) => [k, typeof v === "string" ? v.replace(/[\r\n]/g, "") : v]),
  );
  return { ...obj, data };
}

// Returns a list of error strings for one object (empty when valid).
export async function validateObject(obj) {
  if (!isPlainObject(obj)) return ["document is not a mapping"];
  const model = await loadModel(obj.apiVersion, obj.kind);
  if (model === null) return [`no schema known for apiVersion "${obj.apiVersion}" kind "${obj.kind}"`];
  const errors = [];
  try {
    new model.cls(schemaView(obj)).validate();
  } catch (e) {
    errors.push(`schema: ${String(e.message).trim().replace(/\s*\n\s*/g, "; ")}`);
  }
  const mod = loadModule(model.dts);
  const { type } = resolveName(model.iface, mod);
  walk(obj, type, mod, "", errors);
  return errors.map((e) => (e.startsWith(".") ? e.slice(1) : e));
}

export function kubernetesModelsVersion() {
  const read = (p) => JSON.parse(fs.readFileSync(path.join(NODE_MODULES, p, "package.json"), "utf8")).version;
  return {
    "kubernetes-models": read("kubernetes-models"),
    "@kubernetes-models/prometheus-operator": read("@kubernetes-models/prometheus-operator"),
  };
}
