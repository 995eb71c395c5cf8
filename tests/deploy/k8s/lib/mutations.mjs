// Self-test: each case breaks one thing in a copy of a rendered set that
// passes, and the validator must report it. This proves every rule can fail;
// a rule that cannot fail would pass anything.

const find = (objs, kind, name) => objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const app = (objs) => find(objs, "Deployment", "users-api");
const appC = (objs) => app(objs).spec.template.spec.containers[0];
const job = (objs) => find(objs, "Job", "users-api-migrate");
const cm = (objs) => objs.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("users-api-config"));
const np = (objs, name) => find(objs, "NetworkPolicy", name);
const pg = (objs) => find(objs, "StatefulSet", "postgresql");

export const CASES = [
  // Schema: unknown fields at several depths, and a type error.
  { set: "dev", name: "unknown field in a container (typo)", expect: /livenessprobe: unknown field/,
    mutate: (o) => { appC(o).livenessprobe = appC(o).livenessProbe; } },
  { set: "dev", name: "unknown field in Deployment spec", expect: /spec\.replica: unknown field/,
    mutate: (o) => { app(o).spec.replica = 3; } },
  { set: "dev", name: "unknown field in preStop sleep", expect: /sleep\.secs: unknown field/,
    mutate: (o) => { appC(o).lifecycle = { preStop: { sleep: { seconds: 5, secs: 5 } } }; } },
  { set: "dev", name: "unknown top-level field", expect: /^spec2: unknown field/,
    mutate: (o) => { find(o, "Service", "users-api").spec2 = {}; } },
  { set: "prod-servicemonitor", name: "unknown field in the ServiceMonitor CRD", expect: /endpoints\[0\]\.scrapeEvery: unknown field/,
    mutate: (o) => { find(o, "ServiceMonitor").spec.endpoints[0].scrapeEvery = "30s"; } },
  { set: "dev", name: "wrong type (containerPort as string)", expect: /schema: .*containerPort must be integer/,
    mutate: (o) => { appC(o).ports[0].containerPort = "8000"; } },
  { set: "dev", name: "missing required field (HPA maxReplicas)", expect: /schema: .*maxReplicas/,
    mutate: (o) => { delete find(o, "HorizontalPodAutoscaler").spec.maxReplicas; } },
  { set: "dev", name: "unknown kind", expect: /no schema known/,
    mutate: (o) => { o.push({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", namespace: "users-api" } }); } },

  // Probes.
  { set: "dev", name: "missing readiness probe", expect: /missing readinessProbe/,
    mutate: (o) => { delete appC(o).readinessProbe; } },
  { set: "dev", name: "missing startup probe on PostgreSQL", expect: /container "postgresql": missing startupProbe/,
    mutate: (o) => { delete pg(o).spec.template.spec.containers[0].startupProbe; } },
  { set: "dev", name: "liveness probe calls the database", expect: /livenessProbe must be httpGet \/healthz/,
    mutate: (o) => { appC(o).livenessProbe.httpGet.path = "/readyz"; } },
  { set: "dev", name: "probe on an undeclared port", expect: /readinessProbe port "metrics" is not a container port/,
    mutate: (o) => { appC(o).readinessProbe.httpGet.port = "metrics"; } },
  { set: "dev", name: "preStop exec in a shell-less image", expect: /preStop exec cannot run/,
    mutate: (o) => { appC(o).lifecycle = { preStop: { exec: { command: ["sleep", "5"] } } }; } },

  // Resources.
  { set: "dev", name: "missing memory limit", expect: /missing resources\.limits\.memory/,
    mutate: (o) => { delete appC(o).resources.limits.memory; } },
  { set: "dev", name: "missing CPU request on the Job", expect: /container "migrate": missing resources\.requests\.cpu/,
    mutate: (o) => { delete job(o).spec.template.spec.containers[0].resources.requests.cpu; } },

  // Security context, on the API, the Job and PostgreSQL.
  { set: "dev", name: "privilege escalation allowed", expect: /allowPrivilegeEscalation must be false/,
    mutate: (o) => { appC(o).securityContext.allowPrivilegeEscalation = true; } },
  { set: "dev", name: "writable root filesystem on the Job", expect: /container "migrate": readOnlyRootFilesystem/,
    mutate: (o) => { job(o).spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false; } },
  { set: "dev", name: "capabilities not dropped on PostgreSQL", expect: /container "postgresql": capabilities must drop ALL/,
    mutate: (o) => { delete pg(o).spec.template.spec.containers[0].securityContext.capabilities; } },
  { set: "dev", name: "runs as root", expect: /fixed non-zero runAsUser/,
    mutate: (o) => { appC(o).securityContext.runAsUser = 0; } },
  { set: "dev", name: "wrong uid for the image", expect: /runs as 10001:10001, got 1000:10001/,
    mutate: (o) => { appC(o).securityContext.runAsUser = 1000; } },
  { set: "dev", name: "no seccomp profile", expect: /seccompProfile must be RuntimeDefault/,
    mutate: (o) => { delete appC(o).securityContext.seccompProfile; delete app(o).spec.template.spec.securityContext.seccompProfile; } },
  { set: "dev", name: "service account token mounted", expect: /automountServiceAccountToken must be false/,
    mutate: (o) => { app(o).spec.template.spec.automountServiceAccountToken = true; } },
  { set: "dev", name: "hostPath volume", expect: /type hostPath is not allowed/,
    mutate: (o) => { app(o).spec.template.spec.volumes.push({ name: "h", hostPath: { path: "/" } }); } },

  // Secrets stay out of ConfigMaps and literals.
  { set: "dev", name: "DATABASE_URL in the ConfigMap", expect: /key DATABASE_URL looks like a secret/,
    mutate: (o) => { cm(o).data.DATABASE_URL = "postgres://u:p@db:5432/users"; } },
  { set: "dev", name: "password in a ConfigMap value", expect: /looks like a URL with a password/,
    mutate: (o) => { cm(o).data.UPSTREAM = "https://admin:hunter2@example.com/"; } },
  { set: "dev", name: "literal DATABASE_URL in env", expect: /DATABASE_URL must come from a Secret|env DATABASE_URL holds a literal/,
    mutate: (o) => { appC(o).env = [{ name: "DATABASE_URL", value: "postgres://u:p@db/users" }]; } },
  { set: "dev", name: "reference to a missing Secret", expect: /Secret "nope" is not in the rendered set/,
    mutate: (o) => { appC(o).env[0].valueFrom.secretKeyRef.name = "nope"; } },
  { set: "dev", name: "reference to a missing Secret key", expect: /has no key "DB_URL"/,
    mutate: (o) => { appC(o).env[0].valueFrom.secretKeyRef.key = "DB_URL"; } },
  { set: "prod", name: "a Secret committed to prod", expect: /prod ships no Secret/,
    mutate: (o) => { o.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "users-api-database", namespace: "users-api", labels: { "app.kubernetes.io/name": "users-api", "app.kubernetes.io/part-of": "users-api", "app.kubernetes.io/managed-by": "kustomize" } }, stringData: { DATABASE_URL: "postgres://u:p@h/users" } }); } },

  // Selectors and ports.
  { set: "dev", name: "Deployment selector does not match its pods", expect: /selector does not match the pod template's labels/,
    mutate: (o) => { app(o).spec.template.metadata.labels["app.kubernetes.io/component"] = "web"; } },
  { set: "dev", name: "Service selects nothing", expect: /^selects no pod template in the rendered set$/,
    mutate: (o) => { find(o, "Service", "users-api").spec.selector["app.kubernetes.io/instance"] = "other"; } },
  { set: "dev", name: "Service also selects the migration Job", expect: /also selects the pods of Job\/users-api-migrate/,
    mutate: (o) => { delete find(o, "Service", "users-api").spec.selector["app.kubernetes.io/component"]; } },
  { set: "dev", name: "Service targetPort is not a container port", expect: /targets "web", not a container port/,
    mutate: (o) => { find(o, "Service", "users-api").spec.ports[0].targetPort = "web"; } },
  { set: "prod", name: "NodePort in prod", expect: /prod Services must be ClusterIP/,
    mutate: (o) => { find(o, "Service", "users-api").spec.type = "NodePort"; } },
  { set: "dev", name: "dev NodePort moved", expect: /dev exposes the API as NodePort 30800/,
    mutate: (o) => { find(o, "Service", "users-api").spec.ports[0].nodePort = 30801; } },

  // Rollout and shutdown.
  { set: "dev", name: "maxUnavailable 1", expect: /maxUnavailable must be 0/,
    mutate: (o) => { app(o).spec.strategy.rollingUpdate.maxUnavailable = 1; } },
  { set: "dev", name: "single replica", expect: /replicas is 1, need at least 2/,
    mutate: (o) => { app(o).spec.replicas = 1; } },
  { set: "dev", name: "grace period shorter than the drain", expect: /terminationGracePeriodSeconds 20 must exceed/,
    mutate: (o) => { app(o).spec.template.spec.terminationGracePeriodSeconds = 20; } },
  { set: "dev", name: "drain raised past the grace period", expect: /must exceed preStop sleep \+ SHUTDOWN_DELAY \(5\) \+ SHUTDOWN_TIMEOUT 40/,
    mutate: (o) => { cm(o).data.SHUTDOWN_TIMEOUT = "40"; } },
  { set: "dev", name: "no spread across nodes", expect: /no topology spread or anti-affinity/,
    mutate: (o) => { delete app(o).spec.template.spec.topologySpreadConstraints; } },
  { set: "dev", name: "hard node spread that ignores cordons", expect: /nodeTaintsPolicy: Honor/,
    mutate: (o) => { delete app(o).spec.template.spec.topologySpreadConstraints[0].nodeTaintsPolicy; } },

  // HPA and PDB.
  { set: "dev", name: "HPA targets another Deployment", expect: /scaleTargetRef .* is not a workload/,
    mutate: (o) => { find(o, "HorizontalPodAutoscaler").spec.scaleTargetRef.name = "user-api"; } },
  { set: "dev", name: "HPA minimum of 1", expect: /minReplicas 1 < 2/,
    mutate: (o) => { find(o, "HorizontalPodAutoscaler").spec.minReplicas = 1; } },
  { set: "dev", name: "HPA without anti-flapping", expect: /stabilizationWindowSeconds must be at least 60/,
    mutate: (o) => { delete find(o, "HorizontalPodAutoscaler").spec.behavior; } },
  { set: "dev", name: "PDB leaves no room for a drain", expect: /no pod may be evicted/,
    mutate: (o) => { const p = find(o, "PodDisruptionBudget").spec; delete p.maxUnavailable; p.minAvailable = 2; } },
  { set: "dev", name: "PDB lets every pod go", expect: /every pod may be evicted at once/,
    mutate: (o) => { find(o, "PodDisruptionBudget").spec.maxUnavailable = "100%"; } },
  { set: "dev", name: "PDB selector matches nothing", expect: /no PodDisruptionBudget covers its pods/,
    mutate: (o) => { find(o, "PodDisruptionBudget").spec.selector.matchLabels["app.kubernetes.io/component"] = "apis"; } },
  { set: "prod", name: "prod HPA maximum not above dev's", expect: /prod HPA maximum \(4\) must exceed dev's \(4\)/,
    mutate: (o) => { find(o, "HorizontalPodAutoscaler").spec.maxReplicas = 4; } },

  // NetworkPolicy.
  { set: "dev", name: "no default deny", expect: /no default-deny NetworkPolicy/,
    mutate: (o) => { o.splice(o.indexOf(np(o, "default-deny")), 1); } },
  { set: "prod", name: "API open to any namespace", expect: /ingress from any source/,
    mutate: (o) => { delete np(o, "users-api-ingress").spec.ingress[0].from; } },
  { set: "prod", name: "API ingress on another port", expect: /limited to TCP 8000/,
    mutate: (o) => { np(o, "users-api-ingress").spec.ingress[0].ports.push({ protocol: "TCP", port: 9090 }); } },
  { set: "dev", name: "egress to HTTPS", expect: /egress to port 443\/TCP/,
    mutate: (o) => { np(o, "users-api-egress-postgresql").spec.egress[0].ports.push({ protocol: "TCP", port: 443 }); } },
  { set: "dev", name: "DNS egress to anywhere", expect: /DNS egress must go to kube-system only/,
    mutate: (o) => { delete np(o, "allow-dns").spec.egress[0].to; } },
  { set: "dev", name: "no egress to PostgreSQL", expect: /cannot reach PostgreSQL/,
    mutate: (o) => { o.splice(o.indexOf(np(o, "users-api-egress-postgresql")), 1); } },
  { set: "dev", name: "database open to every pod", expect: /only the users-api pods may reach the database/,
    mutate: (o) => { np(o, "postgresql").spec.ingress[0].from = [{ podSelector: {} , namespaceSelector: {} }]; } },

  // Images, Ingress, Job, metadata, ServiceMonitor.
  { set: "prod", name: "prod image by tag", expect: /prod images must be pinned by digest/,
    mutate: (o) => { appC(o).image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users-api:1.0.0"; } },
  { set: "dev", name: "latest tag", expect: /mutable tag "latest"/,
    mutate: (o) => { pg(o).spec.template.spec.containers[0].image = "docker.io/library/postgres:latest"; } },
  { set: "dev", name: "image not set by the overlay", expect: /image "users-api" was not set by the overlay|neither a tag nor a digest/,
    mutate: (o) => { appC(o).image = "users-api"; } },
  { set: "prod", name: "Ingress host left unpatched", expect: /host "HOST-SET-BY-PATCH" is not a DNS name/,
    mutate: (o) => { const i = find(o, "Ingress"); i.spec.rules[0].host = "HOST-SET-BY-PATCH"; } },
  { set: "prod", name: "Ingress host without TLS", expect: /is not covered by TLS/,
    mutate: (o) => { find(o, "Ingress").spec.tls[0].hosts = ["other.example.com"]; } },
  { set: "prod", name: "Ingress backend port missing", expect: /backend port .* is not a port of Service/,
    mutate: (o) => { find(o, "Ingress").spec.rules[0].http.paths[0].backend.service.port = { name: "https" }; } },
  { set: "dev", name: "Job kept forever", expect: /ttlSecondsAfterFinished must be set/,
    mutate: (o) => { delete job(o).spec.ttlSecondsAfterFinished; } },
  { set: "dev", name: "no migration Job", expect: /expected one Job running "users-api migrate"/,
    mutate: (o) => { job(o).spec.template.spec.containers[0].args = ["serve"]; } },
  { set: "dev", name: "object outside the namespace", expect: /namespace is "default"/,
    mutate: (o) => { cm(o).metadata.namespace = "default"; } },
  { set: "dev", name: "Namespace without Pod Security enforcement", expect: /enforce must be "restricted"/,
    mutate: (o) => { delete find(o, "Namespace").metadata.labels["pod-security.kubernetes.io/enforce"]; } },
  { set: "prod-servicemonitor", name: "ServiceMonitor on a missing port", expect: /endpoint port "metrics" is not a port/,
    mutate: (o) => { find(o, "ServiceMonitor").spec.endpoints[0].port = "metrics"; } },
];
