// Policy checks over rendered users-api manifests: what a careful cluster
// operator would look for in review, beyond what the API schema says.
//
// checkPolicies(sets) takes rendered sets ({ name, profile, objects }) and
// returns a list of findings { set, object, rule, message }; empty means pass.
// The profile ("dev", "prod" or "other") switches the rules that differ
// between overlays (NodePort vs. Ingress, image pinning, out-of-band Secrets).

export const NAMESPACE = "users-api";
const APP_UID = 10001;
const APP_GID = 10001;
const APP_PORT = 8000;
// OPS_PORT (issue 15): /healthz, /readyz and /metrics on a listener of their
// own; the API port answers 404 on /metrics. Probes and Prometheus use it,
// nothing else may reach it.
const OPS_PORT = 9000;
const DEV_IMAGE = "localhost/users-api:dev";
const DEV_NODE_PORT = 30800;
const DEFAULT_SHUTDOWN_TIMEOUT = 20; // the binary's default, seconds
// Who may reach which port of the API pods: the ingress controller the API
// port, Prometheus the ops port (the kubelet's probes are not subject to
// NetworkPolicy).
const API_PORT_NAMESPACES = ["ingress-nginx"];
const OPS_PORT_NAMESPACES = ["monitoring"];
// Secrets a prod cluster gets out of band (External Secrets or kubectl).
const EXTERNAL_SECRETS = { prod: new Set(["users-api-database", "users-api-tls", "users-api-tokens"]) };

const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"]);
const COMMON_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"];
const POD_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"];
const LONG_RUNNING = new Set(["Deployment", "StatefulSet", "DaemonSet"]);
// Volume types the "restricted" Pod Security Standard allows.
const RESTRICTED_VOLUMES = new Set([
  "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
]);
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_?KEY|DATABASE_URL$|DSN$)/i;
const SECRET_VALUES = [
  [/[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, "a URL with a password in it"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
  [/\bAKIA[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\bgh[pousr]_[A-Za-z0-9]{36}\b/, "a GitHub token"],
  [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./, "a JWT"],
];
// A setting that names a file (DATABASE_URL_FILE, API_TOKENS_FILE, ...) holds a
// path, never the secret itself: not a secret-looking name when it is one.
const isFileSetting = (name, value) => /_FILE$/.test(name) && /^\/[^\s]*$/.test(String(value ?? ""));
const looksSecret = (name, value) => SECRET_NAME.test(name) && !isFileSetting(name, value);
const AUTH_MODES = ["none", "token", "jwt"];
// DRF's rate syntax: only the period's first letter counts.
const DRF_RATE = /^\d+\/[smhd]/;
const INGRESS_LIMITS = ["nginx.ingress.kubernetes.io/limit-rps", "nginx.ingress.kubernetes.io/limit-connections"];
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

// ------------------------------------------------------------------ helpers

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const ref = (o) => `${o.kind}/${o.metadata?.name ?? "?"}`;

function podTemplateOf(o) {
  switch (o.kind) {
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return o.spec?.template;
    case "CronJob":
      return o.spec?.jobTemplate?.spec?.template;
    default:
      return undefined;
  }
}

function matchesSelector(selector, labels = {}) {
  if (!isObj(selector)) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === "In" && !inValues) return false;
    if (e.operator === "NotIn" && inValues) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}
const selectorIsEmpty = (s) =>
  !isObj(s) || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);
const mapSelector = (m) => ({ matchLabels: m ?? {} });

export function parseQuantity(q) {
  if (typeof q === "number") return q;
  const m = /^([+-]?\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(String(q));
  if (!m) return NaN;
  const mult = {
    "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
  }[m[2]];
  return mult === undefined ? NaN : Number(m[1]) * mult;
}

// An IntOrString of a count ("25%" or 1) resolved against a total.
function resolveCount(v, total, roundUp) {
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(String(v));
  if (m) return roundUp ? Math.ceil((Number(m[1]) * total) / 100) : Math.floor((Number(m[1]) * total) / 100);
  return /^\d+$/.test(String(v)) ? Number(v) : NaN;
}

function isAppImage(image) {
  if (typeof image !== "string") return false;
  const repo = image.split("@")[0].replace(/:[^/]*$/, "");
  return repo === "users-api" || repo.endsWith("/users-api");
}

function containerPortMatches(containers, port, protocol = "TCP") {
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if ((p.protocol ?? "TCP") !== protocol) continue;
      if (typeof port === "number" ? p.containerPort === port : p.name === port || String(p.containerPort) === port)
        return true;
    }
  }
  return false;
}

// The containerPort a port reference (a name or a number) resolves to in
// these containers, or undefined.
function containerPortNumber(containers, port, protocol = "TCP") {
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if ((p.protocol ?? "TCP") !== protocol) continue;
      if (typeof port === "number" ? p.containerPort === port : p.name === port || String(p.containerPort) === port)
        return p.containerPort;
    }
  }
  return undefined;
}

function probePort(probe) {
  return probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
}

function isCidr(text) {
  const [addr, bits, extra] = String(text).split("/");
  if (extra !== undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const n = Number(bits);
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (v4) return v4.slice(1).every((x) => Number(x) <= 255) && n <= 32;
  return /^[0-9a-fA-F:]+$/.test(addr) && addr.includes(":") && (addr.match(/::/g) ?? []).length <= 1 && n <= 128;
}

// --------------------------------------------------------------- the checks

export function checkPolicies(sets) {
  const findings = [];
  const rulesRun = new Set();
  for (const set of sets) checkSet(set, findings, rulesRun);
  checkAcrossSets(sets, findings, rulesRun);
  return { findings, rulesRun };
}

function checkSet(set, findings, rulesRun) {
  const { profile, objects } = set;
  const fail = (rule, o, message) => findings.push({ set: set.name, object: o ? ref(o) : "-", rule, message });
  const rule = (id) => rulesRun.add(id);
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const workloads = objects
    .map((o) => ({ o, t: podTemplateOf(o) }))
    .filter((w) => w.t !== undefined)
    .map(({ o, t }) => ({ o, t, spec: t.spec ?? {}, labels: t.metadata?.labels ?? {} }));
  const appWorkloads = workloads.filter((w) => (w.spec.containers ?? []).some((c) => isAppImage(c.image)));
  const appDeployments = appWorkloads.filter((w) => w.o.kind === "Deployment");
  // The container ports a Service port reaches on the API's Deployment.
  const appTargets = (svc, sp) => {
    const sel = svc.spec?.selector;
    if (!isObj(sel) || Object.keys(sel).length === 0) return [];
    return appDeployments
      .filter((w) => matchesSelector(mapSelector(sel), w.labels))
      .map((w) => containerPortNumber(w.spec.containers ?? [], sp.targetPort ?? sp.port, sp.protocol ?? "TCP"))
      .filter((n) => n !== undefined);
  };
  const hpas = byKind("HorizontalPodAutoscaler");
  const hpaFor = (o) =>
    hpas.find((h) => h.spec?.scaleTargetRef?.kind === o.kind && h.spec?.scaleTargetRef?.name === o.metadata?.name);

  // -- metadata -------------------------------------------------------------
  rule("metadata.namespace");
  rule("metadata.labels");
  for (const o of objects) {
    const ns = o.metadata?.namespace;
    if (CLUSTER_SCOPED.has(o.kind)) {
      if (ns !== undefined) fail("metadata.namespace", o, "cluster-scoped object must not set a namespace");
    } else if (ns !== NAMESPACE) {
      fail("metadata.namespace", o, `namespace is ${JSON.stringify(ns)}, expected "${NAMESPACE}"`);
    }
    for (const l of COMMON_LABELS) {
      if (!o.metadata?.labels?.[l]) fail("metadata.labels", o, `missing label ${l}`);
    }
  }
  rule("namespace.pod-security");
  const nsObj = find("Namespace", NAMESPACE);
  if (!nsObj) fail("namespace.pod-security", null, `no Namespace "${NAMESPACE}" in the rendered set`);
  else if (nsObj.metadata?.labels?.["pod-security.kubernetes.io/enforce"] !== "restricted")
    fail("namespace.pod-security", nsObj, "pod-security.kubernetes.io/enforce must be \"restricted\"");

  // -- pods and containers -------------------------------------------------
  for (const w of workloads) {
    const { o, spec, labels } = w;
    const psc = spec.securityContext ?? {};
    rule("pod.labels");
    for (const l of POD_LABELS) if (!labels[l]) fail("pod.labels", o, `pod template misses label ${l}`);

    rule("pod.service-account-token");
    const saName = spec.serviceAccountName ?? "default";
    const sa = find("ServiceAccount", saName);
    if (spec.serviceAccountName && saName !== "default" && !sa)
      fail("pod.service-account-token", o, `ServiceAccount "${saName}" is not in the rendered set`);
    const automount = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken;
    if (automount !== false) fail("pod.service-account-token", o, "automountServiceAccountToken must be false");

    rule("pod.host-namespaces");
    for (const f of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[f] === true) fail("pod.host-namespaces", o, `${f} is set`);

    rule("pod.volumes");
    const volumeNames = new Set();
    for (const v of spec.volumes ?? []) {
      volumeNames.add(v.name);
      const types = Object.keys(v).filter((k) => k !== "name");
      for (const t of types) {
        if (!RESTRICTED_VOLUMES.has(t)) fail("pod.volumes", o, `volume "${v.name}" of type ${t} is not allowed`);
      }
      if (v.emptyDir && v.emptyDir.sizeLimit === undefined)
        fail("pod.volumes", o, `emptyDir "${v.name}" has no sizeLimit`);
    }
    for (const vct of o.kind === "StatefulSet" ? o.spec?.volumeClaimTemplates ?? [] : []) volumeNames.add(vct.metadata?.name);

    rule("pod.references");
    const checkRef = (kind, name, key, optional, where) => {
      if (!name) return fail("pod.references", o, `${where}: reference without a name`);
      const target = find(kind, name);
      if (!target) {
        if (kind === "Secret" && EXTERNAL_SECRETS[profile]?.has(name)) return;
        if (optional === true) return;
        return fail("pod.references", o, `${where}: ${kind} "${name}" is not in the rendered set`);
      }
      if (key !== undefined) {
        const keys = new Set([...Object.keys(target.data ?? {}), ...Object.keys(target.stringData ?? {}), ...Object.keys(target.binaryData ?? {})]);
        if (!keys.has(key)) fail("pod.references", o, `${where}: ${kind} "${name}" has no key "${key}"`);
      }
    };
    for (const v of spec.volumes ?? []) {
      if (v.configMap) checkRef("ConfigMap", v.configMap.name, undefined, v.configMap.optional, `volume ${v.name}`);
      if (v.secret) checkRef("Secret", v.secret.secretName, undefined, v.secret.optional, `volume ${v.name}`);
    }

    const allContainers = [
      ...(spec.initContainers ?? []).map((c) => ({ c, init: true })),
      ...(spec.containers ?? []).map((c) => ({ c, init: false })),
    ];
    rule("pod.security-context");
    for (const { c, init } of allContainers) {
      const where = `container "${c.name}"`;
      const sc = c.securityContext ?? {};
      const eff = (k) => sc[k] ?? psc[k];
      const app = isAppImage(c.image);

      // Security context ("restricted" Pod Security Standard and more).
      if (sc.allowPrivilegeEscalation !== false)
        fail("pod.security-context", o, `${where}: allowPrivilegeEscalation must be false`);
      if (sc.readOnlyRootFilesystem !== true)
        fail("pod.security-context", o, `${where}: readOnlyRootFilesystem must be true`);
      if (!(sc.capabilities?.drop ?? []).includes("ALL"))
        fail("pod.security-context", o, `${where}: capabilities must drop ALL`);
      if ((sc.capabilities?.add ?? []).length > 0)
        fail("pod.security-context", o, `${where}: adds capabilities ${sc.capabilities.add.join(",")}`);
      if (sc.privileged === true) fail("pod.security-context", o, `${where}: privileged`);
      if (eff("runAsNonRoot") !== true) fail("pod.security-context", o, `${where}: runAsNonRoot must be true`);
      const uid = eff("runAsUser");
      const gid = eff("runAsGroup");
      if (!Number.isInteger(uid) || uid <= 0) fail("pod.security-context", o, `${where}: needs a fixed non-zero runAsUser`);
      if (!Number.isInteger(gid) || gid <= 0) fail("pod.security-context", o, `${where}: needs a fixed non-zero runAsGroup`);
      const seccomp = (sc.seccompProfile ?? psc.seccompProfile)?.type;
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
        fail("pod.security-context", o, `${where}: seccompProfile must be RuntimeDefault (or Localhost)`);
      if (app) {
        if (uid !== APP_UID || gid !== APP_GID)
          fail("pod.security-context", o, `${where}: the image runs as ${APP_UID}:${APP_GID}, got ${uid}:${gid}`);
        if (!Number.isInteger(psc.fsGroup)) fail("pod.security-context", o, `${where}: pod needs an fsGroup`);
      }
      for (const p of c.ports ?? []) {
        if (p.hostPort !== undefined) fail("pod.security-context", o, `${where}: hostPort ${p.hostPort}`);
      }

      // Resources.
      rule("container.resources");
      const req = c.resources?.requests ?? {};
      const lim = c.resources?.limits ?? {};
      for (const [k, v] of [["requests.cpu", req.cpu], ["requests.memory", req.memory], ["limits.memory", lim.memory]]) {
        if (v === undefined) fail("container.resources", o, `${where}: missing resources.${k}`);
        else if (Number.isNaN(parseQuantity(v))) fail("container.resources", o, `${where}: bad quantity ${k}=${v}`);
      }
      if (req.memory !== undefined && lim.memory !== undefined && parseQuantity(lim.memory) < parseQuantity(req.memory))
        fail("container.resources", o, `${where}: memory limit below its request`);
      if (req.cpu !== undefined && lim.cpu !== undefined && parseQuantity(lim.cpu) < parseQuantity(req.cpu))
        fail("container.resources", o, `${where}: cpu limit below its request`);

      // Image.
      rule("container.image");
      const image = c.image ?? "";
      const digest = /@sha256:[0-9a-f]{64}$/.test(image);
      const tag = /:[\w][\w.-]{0,127}$/.exec(image.split("@")[0].split("/").pop() ?? "");
      if (!digest && !tag) fail("container.image", o, `${where}: image "${image}" has neither a tag nor a digest`);
      if (!digest && tag?.[0] === ":latest") fail("container.image", o, `${where}: image uses the mutable tag "latest"`);
      if (app && !image.includes("/")) fail("container.image", o, `${where}: image "${image}" was not set by the overlay`);
      if (profile === "prod" && !digest) fail("container.image", o, `${where}: prod images must be pinned by digest, got "${image}"`);
      if (profile === "dev" && app) {
        if (image !== DEV_IMAGE) fail("container.image", o, `${where}: dev image must be ${DEV_IMAGE}, got "${image}"`);
        if (c.imagePullPolicy === "Always")
          fail("container.image", o, `${where}: a local image cannot be pulled: imagePullPolicy must not be Always`);
      }

      // Environment: no literal secrets, references resolve.
      rule("container.env");
      const envNames = new Set();
      for (const e of c.env ?? []) {
        envNames.add(e.name);
        if (e.value !== undefined) {
          if (looksSecret(e.name, e.value))
            fail("container.env", o, `${where}: env ${e.name} holds a literal value; take it from a Secret`);
          for (const [re, what] of SECRET_VALUES) {
            if (re.test(String(e.value))) fail("container.env", o, `${where}: env ${e.name} looks like ${what}`);
          }
        }
        const vf = e.valueFrom ?? {};
        if (vf.secretKeyRef)
          checkRef("Secret", vf.secretKeyRef.name, vf.secretKeyRef.key, vf.secretKeyRef.optional, `${where} env ${e.name}`);
        if (vf.configMapKeyRef) {
          checkRef("ConfigMap", vf.configMapKeyRef.name, vf.configMapKeyRef.key, vf.configMapKeyRef.optional, `${where} env ${e.name}`);
          if (SECRET_NAME.test(e.name))
            fail("container.env", o, `${where}: env ${e.name} comes from a ConfigMap; take it from a Secret`);
        }
      }
      const envFromConfigMaps = [];
      for (const ef of c.envFrom ?? []) {
        if (ef.configMapRef) {
          checkRef("ConfigMap", ef.configMapRef.name, undefined, ef.configMapRef.optional, `${where} envFrom`);
          const cm = find("ConfigMap", ef.configMapRef.name);
          if (cm) envFromConfigMaps.push(cm);
        }
        if (ef.secretRef) checkRef("Secret", ef.secretRef.name, undefined, ef.secretRef.optional, `${where} envFrom`);
      }
      if (app) {
        const dbUrl = (c.env ?? []).find((e) => e.name === "DATABASE_URL");
        const fromSecret = dbUrl?.valueFrom?.secretKeyRef !== undefined;
        if (!fromSecret && !envNames.has("DATABASE_URL_FILE"))
          fail("container.env", o, `${where}: DATABASE_URL must come from a Secret (secretKeyRef or DATABASE_URL_FILE)`);
        if (envFromConfigMaps.some((cm) => cm.data?.DATABASE_URL !== undefined))
          fail("container.env", o, `${where}: DATABASE_URL must not come from a ConfigMap`);
      }

      // Volume mounts name declared volumes.
      rule("container.volume-mounts");
      for (const m of c.volumeMounts ?? []) {
        if (!volumeNames.has(m.name)) fail("container.volume-mounts", o, `${where}: mounts undeclared volume "${m.name}"`);
      }

      // Probes, on every long-running container.
      if (LONG_RUNNING.has(o.kind) && !init) {
        rule("container.probes");
        for (const p of ["startupProbe", "livenessProbe", "readinessProbe"]) {
          const probe = c[p];
          if (!isObj(probe)) {
            fail("container.probes", o, `${where}: missing ${p}`);
            continue;
          }
          const port = probePort(probe);
          if (port !== undefined && !containerPortMatches([c], port))
            fail("container.probes", o, `${where}: ${p} port ${JSON.stringify(port)} is not a container port`);
        }
        if (app) {
          const path = (p) => c[p]?.httpGet?.path;
          if (c.livenessProbe && path("livenessProbe") !== "/healthz")
            fail("container.probes", o, `${where}: livenessProbe must be httpGet /healthz (no database call)`);
          if (c.readinessProbe && path("readinessProbe") !== "/readyz")
            fail("container.probes", o, `${where}: readinessProbe must be httpGet /readyz`);
          if (c.startupProbe && path("startupProbe") !== "/healthz")
            fail("container.probes", o, `${where}: startupProbe must be httpGet /healthz`);
          if (c.lifecycle?.preStop?.exec)
            fail("container.probes", o, `${where}: preStop exec cannot run: the image has no shell or sleep binary`);
          // On the ops port: its own connection cap, so a flood of API
          // clients cannot time the probes out and get a healthy pod restarted.
          rule("container.probes-ops-port");
          for (const p of ["startupProbe", "livenessProbe", "readinessProbe"]) {
            if (!isObj(c[p])) continue;
            const port = probePort(c[p]);
            if (containerPortNumber([c], port) !== OPS_PORT)
              fail("container.probes-ops-port", o, `${where}: ${p} must use the ops port (${OPS_PORT}), got ${JSON.stringify(port)}: on the API port a flood of clients can fail it`);
          }
        }
      }
    }
  }

  // -- access control (issue 14) -----------------------------------------------
  // The settings a container runs with: its envFrom ConfigMaps (later ones
  // win), then its env (literals, or dynamic values from valueFrom).
  const settingsOf = (c) => {
    const out = new Map();
    for (const ef of c.envFrom ?? []) {
      const cm = ef.configMapRef ? find("ConfigMap", ef.configMapRef.name) : undefined;
      for (const [k, v] of Object.entries(cm?.data ?? {})) out.set(`${ef.prefix ?? ""}${k}`, { value: String(v), from: `ConfigMap ${cm.metadata.name}` });
    }
    (c.env ?? []).forEach((e, index) =>
      out.set(e.name, e.value !== undefined ? { value: String(e.value), from: "env", index } : { dynamic: true, from: "env", index }),
    );
    return out;
  };
  const appSettings = new Map(); // Deployment -> settings of its users-api container
  for (const w of appDeployments) {
    const c = (w.spec.containers ?? []).find((x) => isAppImage(x.image));
    if (c) appSettings.set(w.o, { c, settings: settingsOf(c) });
  }
  for (const [o, { c, settings }] of appSettings) {
    const where = `container "${c.name}"`;
    const value = (k) => settings.get(k)?.value;
    rule("access.auth-mode");
    const mode = value("AUTH_MODE");
    if (mode !== undefined && !AUTH_MODES.includes(mode))
      fail("access.auth-mode", o, `${where}: AUTH_MODE=${JSON.stringify(mode)} is not one of ${AUTH_MODES.join(", ")}`);
    if (profile === "prod") {
      // prod never ships an open API; the overlay as shipped ("prod") runs jwt,
      // sets built from it with a component (api-tokens) may run token.
      if (mode === undefined) fail("access.auth-mode", o, `${where}: prod sets no AUTH_MODE (the default is none: an open API)`);
      else if (mode === "none") fail("access.auth-mode", o, `${where}: prod runs AUTH_MODE=none (an open API)`);
      else if (set.name === "prod" && mode !== "jwt") fail("access.auth-mode", o, `${where}: the prod overlay must run AUTH_MODE=jwt, got ${mode}`);
    }
    if (profile === "dev" && mode !== "none")
      fail("access.auth-mode", o, `${where}: dev runs open and says so: AUTH_MODE must be set to none, got ${JSON.stringify(mode)}`);

    rule("access.jwt");
    if (mode === "jwt") {
      for (const k of ["JWT_ISSUER", "JWT_AUDIENCE"]) if (!value(k)) fail("access.jwt", o, `${where}: AUTH_MODE=jwt needs ${k}`);
      const url = value("JWT_JWKS_URL");
      const file = value("JWT_JWKS_FILE");
      if ((url === undefined) === (file === undefined))
        fail("access.jwt", o, `${where}: AUTH_MODE=jwt needs exactly one of JWT_JWKS_URL and JWT_JWKS_FILE`);
      if (url !== undefined && !/^https:\/\/[^\s/]+/.test(url)) fail("access.jwt", o, `${where}: JWT_JWKS_URL must be an https URL, got ${JSON.stringify(url)}`);
      if (value("JWT_ISSUER") !== undefined && /^http:\/\//.test(value("JWT_ISSUER")))
        fail("access.jwt", o, `${where}: JWT_ISSUER is an http URL; an identity provider's issuer is https`);
      for (const k of ["JWT_JWKS_REFRESH", "JWT_LEEWAY"])
        if (value(k) !== undefined && !/^\d+$/.test(value(k))) fail("access.jwt", o, `${where}: ${k} must be a number of seconds, got ${JSON.stringify(value(k))}`);
    }
    rule("access.tokens-file");
    if (mode === "token") {
      const path = value("API_TOKENS_FILE");
      if (!path || !path.startsWith("/")) fail("access.tokens-file", o, `${where}: AUTH_MODE=token needs API_TOKENS_FILE, an absolute path`);
      else {
        const vols = new Map((podTemplateOf(o)?.spec?.volumes ?? []).map((v) => [v.name, v]));
        const mount = (c.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath.replace(/\/$/, "")}/`));
        if (!mount || !vols.get(mount.name)?.secret)
          fail("access.tokens-file", o, `${where}: API_TOKENS_FILE ${path} is not in a Secret volume mounted by the container`);
        else if (mount.subPath !== undefined)
          fail("access.tokens-file", o, `${where}: API_TOKENS_FILE is mounted with subPath, which never sees a rotated Secret`);
      }
    }
    rule("access.throttle");
    for (const k of ["THROTTLE_RATE", "THROTTLE_ANON_RATE"]) {
      const v = value(k);
      if (v !== undefined && !DRF_RATE.test(v)) fail("access.throttle", o, `${where}: ${k}=${JSON.stringify(v)} is not DRF's N/second|minute|hour|day`);
      if (profile === "prod" && v === undefined) fail("access.throttle", o, `${where}: prod must set ${k}`);
    }
    rule("access.trusted-proxies");
    const proxies = value("TRUSTED_PROXIES");
    if (proxies !== undefined) {
      for (const cidr of proxies.split(",").map((x) => x.trim())) {
        if (!isCidr(cidr)) fail("access.trusted-proxies", o, `${where}: TRUSTED_PROXIES entry ${JSON.stringify(cidr)} is not a CIDR`);
        else if (/\/0$/.test(cidr)) fail("access.trusted-proxies", o, `${where}: TRUSTED_PROXIES ${cidr} trusts every address: any client could forge X-Forwarded-For`);
      }
    }
    if (profile === "prod" && proxies === undefined)
      fail("access.trusted-proxies", o, `${where}: prod must set TRUSTED_PROXIES to the ingress controller's range (behind the Ingress every client has its address)`);
    rule("access.allowed-hosts");
    const hostsSetting = settings.get("ALLOWED_HOSTS");
    const hosts = (hostsSetting?.value ?? "").split(",").map((x) => x.trim()).filter(Boolean);
    for (const h of hosts) {
      const m = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(h);
      if (m) {
        const ref = settings.get(m[1]);
        if (!ref || ref.from !== "env" || !(ref.index < hostsSetting.index))
          fail("access.allowed-hosts", o, `${where}: ALLOWED_HOSTS refers to $(${m[1]}), which is not an env variable defined before it (it would stay literal)`);
      }
    }
    if (profile === "prod") {
      if (hostsSetting === undefined || hostsSetting.dynamic) fail("access.allowed-hosts", o, `${where}: prod must set ALLOWED_HOSTS (the default "*" echoes any Host)`);
      else if (hosts.length === 0 || hosts.some((h) => h === "*")) fail("access.allowed-hosts", o, `${where}: prod ALLOWED_HOSTS must not be "*" or empty, got ${JSON.stringify(hostsSetting.value)}`);
      for (const ing of byKind("Ingress")) {
        for (const r of ing.spec?.rules ?? []) {
          const ok = hosts.some((h) => h === r.host || (h.startsWith(".") && (r.host === h.slice(1) || r.host?.endsWith(h))));
          if (!ok) fail("access.allowed-hosts", o, `${where}: ALLOWED_HOSTS ${JSON.stringify(hostsSetting?.value)} does not allow the Ingress host ${JSON.stringify(r.host)}`);
        }
      }
    }
    rule("access.cors");
    const origins = value("CORS_ALLOWED_ORIGINS");
    if (origins !== undefined && mode !== undefined && mode !== "none" && origins.split(",").some((x) => x.trim() === "*"))
      fail("access.cors", o, `${where}: CORS_ALLOWED_ORIGINS "*" is refused when auth is on`);
  }
  // -- the ops port (issue 15) --------------------------------------------------
  for (const [o, { c, settings }] of appSettings) {
    const where = `container "${c.name}"`;
    rule("container.ops-port");
    const ops = settings.get("OPS_PORT");
    const api = settings.get("PORT");
    const byName = (n) => (c.ports ?? []).find((p) => p.name === n);
    if (ops === undefined || ops.dynamic) fail("container.ops-port", o, `${where}: OPS_PORT must be set (the port the probes, the NetworkPolicy and the ServiceMonitor name)`);
    else if (ops.value === "0") fail("container.ops-port", o, `${where}: OPS_PORT=0 puts the probes and /metrics back on the API port`);
    else {
      if (Number(ops.value) !== OPS_PORT) fail("container.ops-port", o, `${where}: OPS_PORT=${ops.value}, the manifests name ${OPS_PORT}`);
      if (byName("ops")?.containerPort !== Number(ops.value))
        fail("container.ops-port", o, `${where}: container port "ops" (${byName("ops")?.containerPort}) is not OPS_PORT (${ops.value})`);
      if (api?.value === ops.value) fail("container.ops-port", o, `${where}: OPS_PORT equals PORT (${api.value})`);
    }
    const apiPort = Number(api?.value ?? APP_PORT);
    if (byName("http")?.containerPort !== apiPort)
      fail("container.ops-port", o, `${where}: container port "http" (${byName("http")?.containerPort}) is not PORT (${apiPort})`);
  }

  const jwksUrlOf = (o) => {
    const s = appSettings.get(o)?.settings;
    return s?.get("AUTH_MODE")?.value === "jwt" ? s.get("JWT_JWKS_URL")?.value : undefined;
  };

  // -- the app's Deployment ---------------------------------------------------
  rule("deployment.app");
  if (appDeployments.length !== 1) fail("deployment.app", null, `expected one users-api Deployment, found ${appDeployments.length}`);
  for (const w of workloads.filter((x) => ["Deployment", "StatefulSet", "DaemonSet"].includes(x.o.kind))) {
    rule("workload.selector");
    if (selectorIsEmpty(w.o.spec?.selector)) fail("workload.selector", w.o, "empty selector");
    else if (!matchesSelector(w.o.spec.selector, w.labels))
      fail("workload.selector", w.o, "selector does not match the pod template's labels");
  }
  for (const w of appDeployments) {
    const o = w.o;
    const replicas = o.spec?.replicas ?? 1;
    rule("deployment.replicas");
    if (replicas < 2) fail("deployment.replicas", o, `replicas is ${replicas}, need at least 2`);
    rule("deployment.rolling-update");
    const st = o.spec?.strategy ?? {};
    if ((st.type ?? "RollingUpdate") !== "RollingUpdate") fail("deployment.rolling-update", o, "strategy must be RollingUpdate");
    const mu = st.rollingUpdate?.maxUnavailable;
    if (mu === undefined || resolveCount(mu, replicas, false) !== 0)
      fail("deployment.rolling-update", o, `rollingUpdate.maxUnavailable must be 0, got ${JSON.stringify(mu)}`);
    if (resolveCount(st.rollingUpdate?.maxSurge ?? "25%", replicas, true) < 1)
      fail("deployment.rolling-update", o, "rollingUpdate.maxSurge must allow at least one extra pod");

    rule("deployment.graceful-shutdown");
    const c = (w.spec.containers ?? []).find((x) => isAppImage(x.image));
    if (c) {
      let drain = DEFAULT_SHUTDOWN_TIMEOUT;
      const literal = (c.env ?? []).find((e) => e.name === "SHUTDOWN_TIMEOUT" && e.value !== undefined);
      const cm = (c.envFrom ?? []).map((ef) => find("ConfigMap", ef.configMapRef?.name)).find((x) => x?.data?.SHUTDOWN_TIMEOUT);
      if (literal) drain = Number(literal.value);
      else if (cm) drain = Number(cm.data.SHUTDOWN_TIMEOUT);
      const delayLiteral = (c.env ?? []).find((e) => e.name === "SHUTDOWN_DELAY" && e.value !== undefined);
      const delayCm = (c.envFrom ?? []).map((ef) => find("ConfigMap", ef.configMapRef?.name)).find((x) => x?.data?.SHUTDOWN_DELAY);
      const delay = Number(delayLiteral?.value ?? delayCm?.data?.SHUTDOWN_DELAY ?? 0);
      const sleep = (c.lifecycle?.preStop?.sleep?.seconds ?? 0) + delay;
      const grace = w.spec.terminationGracePeriodSeconds ?? 30;
      if (!(grace > drain + sleep))
        fail("deployment.graceful-shutdown", o, `terminationGracePeriodSeconds ${grace} must exceed preStop sleep + SHUTDOWN_DELAY (${sleep}) + SHUTDOWN_TIMEOUT ${drain}`);
    }

    rule("deployment.spread");
    const tsc = (w.spec.topologySpreadConstraints ?? []).find(
      (t) => t.topologyKey === "kubernetes.io/hostname" && matchesSelector(t.labelSelector, w.labels),
    );
    const anti = [
      ...(w.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ...(w.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => p.podAffinityTerm),
    ].find((t) => t?.topologyKey === "kubernetes.io/hostname" && matchesSelector(t.labelSelector, w.labels));
    if (!tsc && !anti) fail("deployment.spread", o, "no topology spread or anti-affinity across nodes that selects its own pods");
    if (tsc && tsc.whenUnsatisfiable === "DoNotSchedule" && tsc.nodeTaintsPolicy !== "Honor")
      fail("deployment.spread", o, "a hard spread over nodes needs nodeTaintsPolicy: Honor, or a cordoned node blocks the drain");

    rule("deployment.scrape");
    const ann = w.t.metadata?.annotations ?? {};
    if (ann["prometheus.io/scrape"] === "true") {
      const port = Number(ann["prometheus.io/port"]);
      if (!containerPortMatches(w.spec.containers ?? [], port))
        fail("deployment.scrape", o, `prometheus.io/port ${ann["prometheus.io/port"]} is not a container port`);
      else if (port !== OPS_PORT)
        fail("deployment.scrape", o, `prometheus.io/port ${ann["prometheus.io/port"]} must be the ops port ${OPS_PORT} (/metrics is 404 on the API port)`);
      if ((ann["prometheus.io/path"] ?? "/metrics") !== "/metrics")
        fail("deployment.scrape", o, `prometheus.io/path ${ann["prometheus.io/path"]}: the ops port serves /metrics`);
    }

    rule("deployment.hpa");
    if (!hpaFor(o)) fail("deployment.hpa", o, "no HorizontalPodAutoscaler targets it");
    rule("deployment.pdb");
    if (!byKind("PodDisruptionBudget").some((p) => matchesSelector(p.spec?.selector, w.labels)))
      fail("deployment.pdb", o, "no PodDisruptionBudget covers its pods");
  }

  // -- StatefulSets -----------------------------------------------------------
  for (const w of workloads.filter((x) => x.o.kind === "StatefulSet")) {
    rule("statefulset.service");
    const svc = find("Service", w.o.spec?.serviceName);
    if (!svc) fail("statefulset.service", w.o, `governing Service "${w.o.spec?.serviceName}" is not in the rendered set`);
    else {
      if (svc.spec?.clusterIP !== "None") fail("statefulset.service", w.o, `Service "${svc.metadata.name}" must be headless`);
      if (!matchesSelector(mapSelector(svc.spec?.selector), w.labels))
        fail("statefulset.service", w.o, `Service "${svc.metadata.name}" does not select its pods`);
    }
  }

  // -- Jobs -------------------------------------------------------------------
  rule("job.migration");
  const migrations = workloads.filter(
    (w) => w.o.kind === "Job" && (w.spec.containers ?? []).some((c) => isAppImage(c.image) && (c.args ?? [])[0] === "migrate"),
  );
  if (migrations.length !== 1) fail("job.migration", null, `expected one Job running "users-api migrate", found ${migrations.length}`);
  for (const w of workloads.filter((x) => x.o.kind === "Job")) {
    rule("job.settings");
    const s = w.o.spec ?? {};
    if (s.backoffLimit === undefined) fail("job.settings", w.o, "backoffLimit must be set");
    if (s.ttlSecondsAfterFinished === undefined) fail("job.settings", w.o, "ttlSecondsAfterFinished must be set");
    if (s.activeDeadlineSeconds === undefined) fail("job.settings", w.o, "activeDeadlineSeconds must be set");
    if (!["Never", "OnFailure"].includes(w.spec.restartPolicy)) fail("job.settings", w.o, "restartPolicy must be Never or OnFailure");
  }

  // -- Services ---------------------------------------------------------------
  for (const svc of byKind("Service")) {
    rule("service.selector");
    const sel = svc.spec?.selector;
    if (!isObj(sel) || Object.keys(sel).length === 0) {
      fail("service.selector", svc, "empty selector");
      continue;
    }
    const matched = workloads.filter((w) => matchesSelector(mapSelector(sel), w.labels));
    if (matched.length === 0) fail("service.selector", svc, "selects no pod template in the rendered set");
    for (const w of matched) {
      if (!LONG_RUNNING.has(w.o.kind)) fail("service.selector", svc, `also selects the pods of ${ref(w.o)}`);
    }
    rule("service.target-port");
    for (const p of svc.spec?.ports ?? []) {
      const target = p.targetPort ?? p.port;
      for (const w of matched.filter((x) => LONG_RUNNING.has(x.o.kind))) {
        if (!containerPortMatches(w.spec.containers ?? [], target, p.protocol ?? "TCP"))
          fail("service.target-port", svc, `port "${p.name}" targets ${JSON.stringify(target)}, not a container port of ${ref(w.o)}`);
      }
    }
    rule("service.type");
    const type = svc.spec?.type ?? "ClusterIP";
    const isApp = matched.some((w) => appDeployments.includes(w));
    if (profile === "prod" && type !== "ClusterIP") fail("service.type", svc, `prod Services must be ClusterIP, got ${type}`);
    if (profile === "dev" && isApp) {
      const np = (svc.spec?.ports ?? []).map((p) => p.nodePort);
      if (type !== "NodePort" || !np.includes(DEV_NODE_PORT))
        fail("service.type", svc, `dev exposes the API as NodePort ${DEV_NODE_PORT}`);
    }
    if (type === "LoadBalancer") fail("service.type", svc, "no LoadBalancer Services: traffic enters through the Ingress");
    rule("service.ops-port");
    const svcPorts = svc.spec?.ports ?? [];
    const toOps = svcPorts.filter((p) => appTargets(svc, p).includes(OPS_PORT));
    if (toOps.length > 0) {
      if (type === "NodePort" || type === "LoadBalancer")
        fail("service.ops-port", svc, `port "${toOps[0].name}" puts the ops port ${OPS_PORT} on a ${type}: it stays inside the cluster, for Prometheus only`);
      if (svcPorts.some((p) => appTargets(svc, p).includes(APP_PORT)))
        fail("service.ops-port", svc, `carries both the API port and the ops port ${OPS_PORT}: whatever routes to this Service could reach both; the ops port gets a Service of its own`);
    }
  }

  // -- HPA ----------------------------------------------------------------------
  for (const h of hpas) {
    rule("hpa.target");
    const t = h.spec?.scaleTargetRef ?? {};
    const target = objects.find((o) => o.kind === t.kind && o.metadata?.name === t.name);
    if (!target || t.apiVersion !== "apps/v1")
      fail("hpa.target", h, `scaleTargetRef ${t.apiVersion}/${t.kind}/${t.name} is not a workload in the rendered set`);
    rule("hpa.bounds");
    const min = h.spec?.minReplicas ?? 1;
    const max = h.spec?.maxReplicas;
    if (min < 2) fail("hpa.bounds", h, `minReplicas ${min} < 2`);
    if (!(max > min)) fail("hpa.bounds", h, `maxReplicas ${max} must exceed minReplicas ${min}`);
    if (target && target.spec?.replicas !== undefined && target.spec.replicas !== min)
      fail("hpa.bounds", h, `the target's spec.replicas (${target.spec.replicas}) should equal minReplicas (${min})`);
    rule("hpa.cpu");
    const cpu = (h.spec?.metrics ?? []).find((m) => m.type === "Resource" && m.resource?.name === "cpu");
    if (!cpu) fail("hpa.cpu", h, "no CPU resource metric");
    else if (cpu.resource.target?.type === "Utilization") {
      const tpl = target ? podTemplateOf(target) : undefined;
      for (const c of tpl?.spec?.containers ?? []) {
        if (c.resources?.requests?.cpu === undefined)
          fail("hpa.cpu", h, `CPU utilization needs a CPU request on container "${c.name}"`);
      }
    }
    rule("hpa.behavior");
    const down = h.spec?.behavior?.scaleDown;
    if (!down || !(down.stabilizationWindowSeconds >= 60))
      fail("hpa.behavior", h, "behavior.scaleDown.stabilizationWindowSeconds must be at least 60 (no flapping)");
  }

  // -- PDB ------------------------------------------------------------------------
  for (const p of byKind("PodDisruptionBudget")) {
    rule("pdb.selector");
    const matched = workloads.filter((w) => matchesSelector(p.spec?.selector, w.labels));
    if (selectorIsEmpty(p.spec?.selector) || matched.length === 0) {
      fail("pdb.selector", p, "selects no pod template in the rendered set");
      continue;
    }
    for (const w of matched) if (!LONG_RUNNING.has(w.o.kind)) fail("pdb.selector", p, `also selects the pods of ${ref(w.o)}`);
    rule("pdb.drain-room");
    if ((p.spec.minAvailable === undefined) === (p.spec.maxUnavailable === undefined))
      fail("pdb.drain-room", p, "set exactly one of minAvailable and maxUnavailable");
    for (const w of matched.filter((x) => LONG_RUNNING.has(x.o.kind))) {
      const hpa = hpaFor(w.o);
      const n = Math.min(w.o.spec?.replicas ?? 1, hpa?.spec?.minReplicas ?? Infinity);
      let allowed;
      if (p.spec.minAvailable !== undefined) allowed = n - resolveCount(p.spec.minAvailable, n, true);
      else allowed = resolveCount(p.spec.maxUnavailable, n, true);
      if (!(allowed >= 1)) fail("pdb.drain-room", p, `at ${n} replicas no pod may be evicted: a node drain would block`);
      if (!(n - allowed >= 1)) fail("pdb.drain-room", p, `at ${n} replicas every pod may be evicted at once`);
    }
  }

  // -- NetworkPolicy ------------------------------------------------------------
  const policies = byKind("NetworkPolicy");
  const applies = (np, labels) => matchesSelector(np.spec?.podSelector ?? {}, labels);
  const types = (np) => np.spec?.policyTypes ?? (np.spec?.egress ? ["Ingress", "Egress"] : ["Ingress"]);
  rule("networkpolicy.default-deny");
  const deny = policies.find(
    (np) =>
      selectorIsEmpty(np.spec?.podSelector) && types(np).includes("Ingress") && types(np).includes("Egress") &&
      (np.spec?.ingress ?? []).length === 0 && (np.spec?.egress ?? []).length === 0,
  );
  if (!deny) fail("networkpolicy.default-deny", null, "no default-deny NetworkPolicy (empty podSelector, Ingress and Egress)");
  for (const np of policies) {
    rule("networkpolicy.selects");
    if (!selectorIsEmpty(np.spec?.podSelector) && !workloads.some((w) => applies(np, w.labels)))
      fail("networkpolicy.selects", np, "podSelector selects no pod template in the rendered set");
  }
  const nsName = (peer) => peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
  const portKey = (p) => `${p.port}/${p.protocol ?? "TCP"}`;
  const dbPods = workloads.filter((w) => w.labels["app.kubernetes.io/component"] === "database");
  for (const w of appWorkloads) {
    const pols = policies.filter((np) => applies(np, w.labels));
    const ingressRules = pols.filter((np) => types(np).includes("Ingress")).flatMap((np) => (np.spec.ingress ?? []).map((r) => ({ np, r })));
    const egressRules = pols.filter((np) => types(np).includes("Egress")).flatMap((np) => (np.spec.egress ?? []).map((r) => ({ np, r })));
    if (w.o.kind === "Deployment") {
      // The API port from the ingress controller (and in dev from anywhere,
      // for the NodePort); the ops port from Prometheus only, in every overlay.
      rule("networkpolicy.api-ingress");
      rule("networkpolicy.ops-ingress");
      const seen = { [APP_PORT]: new Set(), [OPS_PORT]: new Set() };
      for (const { np, r } of ingressRules) {
        const ports = r.ports ?? [];
        const nums = ports.map((p) =>
          (p.protocol ?? "TCP") === "TCP" && p.endPort === undefined ? containerPortNumber(w.spec.containers ?? [], p.port) : undefined,
        );
        if (ports.length === 0 || nums.some((n) => n !== APP_PORT && n !== OPS_PORT)) {
          fail("networkpolicy.api-ingress", np, `ingress to the API pods must be limited to TCP ${APP_PORT} (API) and ${OPS_PORT} (ops)`);
          continue;
        }
        for (const n of new Set(nums)) {
          const ops = n === OPS_PORT;
          const id = ops ? "networkpolicy.ops-ingress" : "networkpolicy.api-ingress";
          const allowed = ops ? OPS_PORT_NAMESPACES : API_PORT_NAMESPACES;
          if (r.from === undefined || r.from.length === 0) {
            if (ops) fail(id, np, `the ops port ${OPS_PORT} is open to any source; only namespace ${allowed.join(", ")} may reach it (it answers without auth)`);
            else if (profile !== "dev") fail(id, np, "ingress from any source (only the dev NodePort may)");
            continue;
          }
          for (const peer of r.from) {
            const ns = nsName(peer);
            if (peer.ipBlock || !ns || !allowed.includes(ns) || peer.podSelector)
              fail(id, np, `port ${n} open to ${JSON.stringify(peer)}; allowed: namespace ${allowed.join(", ")}`);
            else seen[n].add(ns);
          }
        }
      }
      for (const ns of API_PORT_NAMESPACES)
        if (!seen[APP_PORT].has(ns)) fail("networkpolicy.api-ingress", w.o, `no NetworkPolicy lets namespace "${ns}" reach the API port ${APP_PORT}`);
      for (const ns of OPS_PORT_NAMESPACES)
        if (!seen[OPS_PORT].has(ns)) fail("networkpolicy.ops-ingress", w.o, `no NetworkPolicy lets namespace "${ns}" (Prometheus) reach the ops port ${OPS_PORT}`);
    }
    rule("networkpolicy.app-egress");
    let dns = false;
    let pg = false;
    let https = false;
    const jwks = jwksUrlOf(w.o);
    for (const { np, r } of egressRules) {
      const ports = r.ports ?? [];
      if (ports.length === 0) {
        fail("networkpolicy.app-egress", np, "egress rule without ports");
        continue;
      }
      for (const p of ports) {
        const k = portKey(p);
        if (k === "53/UDP" || k === "53/TCP") {
          const ok = (r.to ?? []).length > 0 && r.to.every((peer) => nsName(peer) === "kube-system");
          if (!ok) fail("networkpolicy.app-egress", np, "DNS egress must go to kube-system only");
          else dns = true;
        } else if (k === "5432/TCP") {
          pg = true;
          if (profile === "dev") {
            const ok = (r.to ?? []).length > 0 && r.to.every((peer) => !peer.ipBlock && !peer.namespaceSelector && dbPods.some((d) => matchesSelector(peer.podSelector, d.labels)));
            if (!ok) fail("networkpolicy.app-egress", np, "dev egress to PostgreSQL must be limited to the dev PostgreSQL pod");
          }
        } else if (k === "443/TCP" && jwks !== undefined && profile === "prod") {
          // Fetching the JWKS of JWT_JWKS_URL: public addresses only.
          https = true;
          const peers = r.to ?? [];
          const privateExcepted = (peer) => ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"].every((x) => (peer.ipBlock.except ?? []).includes(x));
          if (peers.length === 0 || peers.some((peer) => peer.ipBlock && peer.ipBlock.cidr === "0.0.0.0/0" && !privateExcepted(peer)))
            fail("networkpolicy.app-egress", np, "HTTPS egress for the JWKS must exclude private and link-local ranges (the cluster, the VPC, instance metadata)");
        } else fail("networkpolicy.app-egress", np, `egress to port ${k} (only DNS and PostgreSQL are allowed${w.o.kind === "Deployment" && profile === "prod" ? ", and 443 with JWT_JWKS_URL" : ""})`);
      }
    }
    if (!dns) fail("networkpolicy.app-egress", w.o, "its pods cannot resolve names (no DNS egress)");
    if (!pg) fail("networkpolicy.app-egress", w.o, "its pods cannot reach PostgreSQL (no 5432 egress)");
    if (jwks !== undefined && !https)
      fail("networkpolicy.app-egress", w.o, `its pods cannot fetch JWT_JWKS_URL ${jwks} (no 443 egress): /readyz would stay 503`);
  }
  for (const d of dbPods) {
    rule("networkpolicy.database");
    const pols = policies.filter((np) => applies(np, d.labels) && types(np).includes("Ingress"));
    const rules = pols.flatMap((np) => (np.spec.ingress ?? []).map((r) => ({ np, r })));
    if (rules.length === 0) fail("networkpolicy.database", d.o, "nothing may reach the database");
    for (const { np, r } of rules) {
      const okPorts = (r.ports ?? []).length > 0 && r.ports.every((p) => portKey(p) === "5432/TCP" || p.port === "postgresql");
      const okFrom = (r.from ?? []).length > 0 && r.from.every((peer) => !peer.ipBlock && !peer.namespaceSelector && appWorkloads.some((a) => matchesSelector(peer.podSelector, a.labels)));
      if (!okPorts || !okFrom) fail("networkpolicy.database", np, "only the users-api pods may reach the database, on 5432");
    }
  }

  // -- ConfigMaps and Secrets -----------------------------------------------------
  for (const cm of byKind("ConfigMap")) {
    rule("configmap.no-secrets");
    for (const [k, v] of Object.entries({ ...(cm.data ?? {}), ...(cm.binaryData ?? {}) })) {
      if (looksSecret(k, v)) fail("configmap.no-secrets", cm, `key ${k} looks like a secret; it belongs in a Secret`);
      for (const [re, what] of SECRET_VALUES) if (re.test(String(v))) fail("configmap.no-secrets", cm, `value of ${k} looks like ${what}`);
    }
  }
  rule("secret.source");
  for (const s of byKind("Secret")) {
    if (profile === "prod") fail("secret.source", s, "prod ships no Secret: it is created out of band");
    const url = s.data?.DATABASE_URL ?? s.stringData?.DATABASE_URL;
    if (url !== undefined) {
      const text = s.stringData?.DATABASE_URL ?? Buffer.from(String(url).replace(/\s/g, ""), "base64").toString("utf8");
      if (!/^postgres(ql)?:\/\//.test(text)) fail("secret.source", s, "DATABASE_URL must be a postgres:// URL");
    }
  }

  // -- Ingress ----------------------------------------------------------------------
  // A backend names a port of a Service in the set, and that port reaches the
  // API port: never the ops port, which answers without ALLOWED_HOSTS, auth or
  // throttling.
  const checkBackend = (ing, backend, where) => {
    rule("ingress.ops-port");
    const b = backend?.service;
    const svc = find("Service", b?.name);
    if (!svc) return fail("ingress.backend", ing, `backend Service "${b?.name}" is not in the rendered set`);
    const sp = (svc.spec?.ports ?? []).find((x) => (b.port?.name !== undefined ? x.name === b.port.name : x.port === b.port?.number));
    if (!sp) return fail("ingress.backend", ing, `backend port ${JSON.stringify(b.port)} is not a port of Service "${svc.metadata.name}"`);
    const targets = appTargets(svc, sp);
    if (targets.includes(OPS_PORT))
      fail("ingress.ops-port", ing, `${where} routes to the ops port ${OPS_PORT} (Service "${svc.metadata.name}" port ${JSON.stringify(b.port)}): /healthz, /readyz and /metrics would be public`);
    else if (targets.length > 0 && !targets.every((n) => n === APP_PORT))
      fail("ingress.backend", ing, `${where} routes to container port ${targets.join(", ")}, not the API port ${APP_PORT}`);
  };
  rule("ingress.present");
  const ingresses = byKind("Ingress");
  if (profile === "prod" && ingresses.length === 0) fail("ingress.present", null, "prod needs an Ingress");
  for (const ing of ingresses) {
    rule("ingress.rate-limits");
    if (profile === "prod") {
      for (const a of INGRESS_LIMITS) {
        const v = ing.metadata?.annotations?.[a];
        if (v === undefined) fail("ingress.rate-limits", ing, `prod Ingress misses ${a} (the cluster-wide guard in front of the per-replica THROTTLE_*)`);
        else if (!/^[1-9]\d*$/.test(String(v))) fail("ingress.rate-limits", ing, `${a} must be a positive integer, got ${JSON.stringify(v)}`);
      }
    }
    rule("ingress.tls");
    if (!ing.spec?.ingressClassName) fail("ingress.tls", ing, "ingressClassName must be set");
    const tlsHosts = new Set((ing.spec?.tls ?? []).flatMap((t) => t.hosts ?? []));
    if ((ing.spec?.tls ?? []).length === 0 || (ing.spec.tls ?? []).some((t) => !t.secretName))
      fail("ingress.tls", ing, "TLS with a secretName is required");
    for (const r of ing.spec?.rules ?? []) {
      if (!DNS_NAME.test(r.host ?? "")) fail("ingress.tls", ing, `host ${JSON.stringify(r.host)} is not a DNS name (set by the host patch?)`);
      if (!tlsHosts.has(r.host)) fail("ingress.tls", ing, `host ${JSON.stringify(r.host)} is not covered by TLS`);
      rule("ingress.backend");
      for (const p of r.http?.paths ?? []) checkBackend(ing, p.backend, `path ${p.path ?? "(none)"}`);
    }
    if (ing.spec?.defaultBackend) checkBackend(ing, ing.spec.defaultBackend, "defaultBackend");
  }

  // -- ServiceMonitor (optional component) ----------------------------------------
  for (const sm of byKind("ServiceMonitor")) {
    rule("servicemonitor.target");
    const svcs = byKind("Service").filter((s) => matchesSelector(sm.spec?.selector, s.metadata?.labels ?? {}));
    if (svcs.length === 0) fail("servicemonitor.target", sm, "selector matches no Service");
    const names = sm.spec?.namespaceSelector?.matchNames;
    if (names !== undefined && !names.includes(NAMESPACE)) fail("servicemonitor.target", sm, `namespaceSelector misses "${NAMESPACE}"`);
    for (const ep of sm.spec?.endpoints ?? []) {
      rule("servicemonitor.ops-port");
      for (const s of svcs) {
        const sp = (s.spec?.ports ?? []).find((p) => p.name === ep.port);
        if (!sp) {
          fail("servicemonitor.target", sm, `endpoint port "${ep.port}" is not a port of Service "${s.metadata.name}"`);
          continue;
        }
        const targets = appTargets(s, sp);
        if (targets.length === 0 || targets.some((n) => n !== OPS_PORT))
          fail("servicemonitor.ops-port", sm, `endpoint port "${ep.port}" of Service "${s.metadata.name}" reaches container port ${targets.join(", ") || "none"}, not the ops port ${OPS_PORT} (/metrics is 404 on the API port)`);
      }
      if ((ep.path ?? "/metrics") !== "/metrics") fail("servicemonitor.target", sm, `scrapes ${ep.path}, the API serves /metrics`);
    }
  }
}

function checkAcrossSets(sets, findings, rulesRun) {
  const dev = sets.find((s) => s.profile === "dev");
  const prod = sets.find((s) => s.profile === "prod");
  if (!dev || !prod) return;
  rulesRun.add("overlays.hpa-max");
  const max = (s) => Math.max(...s.objects.filter((o) => o.kind === "HorizontalPodAutoscaler").map((h) => h.spec?.maxReplicas ?? 0));
  if (!(max(prod) > max(dev)))
    findings.push({ set: prod.name, object: "-", rule: "overlays.hpa-max", message: `prod HPA maximum (${max(prod)}) must exceed dev's (${max(dev)})` });
}
