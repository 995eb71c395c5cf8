// Structural policy for deploy/terraform, over the HCL parsed to JSON by
// @cdktf/hcl2json. Expressions stay as text ("${var.x}"), so these rules check
// what the configuration says, not what Terraform would compute; the
// mock-provider plans (tftest/) check computed values.
//
// Each rule has an id so the broken fixture can prove that every rule fires.

const isMapping = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const first = (v) => (Array.isArray(v) ? v[0] : v);
const asList = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const OPEN_CIDRS = new Set(["0.0.0.0/0", "::/0"]);

// Flatten one parsed file into blocks: {dir, file, kind, type, name, body}.
export function blocksOf(dir, file, json) {
  const blocks = [];
  for (const kind of ["resource", "data"]) {
    for (const [type, named] of Object.entries(json[kind] ?? {})) {
      for (const [name, bodies] of Object.entries(named)) {
        for (const body of asList(bodies)) blocks.push({ dir, file, kind, type, name, body });
      }
    }
  }
  for (const kind of ["variable", "output", "module"]) {
    for (const [name, bodies] of Object.entries(json[kind] ?? {})) {
      for (const body of asList(bodies)) blocks.push({ dir, file, kind, type: kind, name, body });
    }
  }
  for (const body of asList(json.terraform)) blocks.push({ dir, file, kind: "terraform", type: "terraform", name: "terraform", body });
  for (const body of asList(json.locals)) blocks.push({ dir, file, kind: "locals", type: "locals", name: "locals", body });
  return blocks;
}

const REQUIRED = {
  "remote state": ["aws_s3_bucket", "aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_public_access_block", "aws_s3_bucket_policy"],
  network: ["aws_vpc", "aws_subnet", "aws_internet_gateway", "aws_nat_gateway", "aws_route_table", "aws_flow_log"],
  "EKS": ["aws_eks_cluster", "aws_eks_node_group", "aws_kms_key", "aws_eks_access_entry", "aws_eks_access_policy_association"],
  ECR: ["aws_ecr_repository", "aws_ecr_lifecycle_policy"],
  database: ["aws_db_instance", "aws_db_subnet_group", "aws_security_group", "aws_db_parameter_group"],
  "GitHub OIDC": ["aws_iam_openid_connect_provider", "aws_iam_role"],
};

// What release.yml reads from repository variables, and must find in outputs.
export const WORKFLOW_VARIABLES = ["AWS_ACCOUNT_ID", "AWS_REGION", "AWS_ECR_PUSH_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", "EKS_CLUSTER_NAME"];
const ROOT_OUTPUTS = ["ecr_repository_url", "ecr_push_role_arn", "deploy_role_arn", "eks_cluster_name", "rds_endpoint", "rds_master_user_secret_arn", "aws_region", "aws_account_id"];

const SECRET_NAME = /(password|passwd|secret|token|private_key|access_key|api_key)/i;
const SECRET_VALUE = [/AKIA[0-9A-Z]{16}/, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, /ghp_[A-Za-z0-9]{36}/, /xox[abp]-[A-Za-z0-9-]+/];

export function check(blocks, { workflowVariables = WORKFLOW_VARIABLES } = {}) {
  const findings = [];
  const add = (rule, where, message) => findings.push({ rule, where, message });
  const at = (b) => `${b.file} ${b.kind === "resource" || b.kind === "data" ? `${b.type}.${b.name}` : `${b.kind} ${b.name}`}`;
  const of = (type, kind = "resource") => blocks.filter((b) => b.kind === kind && b.type === type);
  const refersTo = (value, type, name) => typeof value === "string" && value.includes(`${type}.${name}.`);

  // REQ: every part of the platform is there.
  const present = new Set(blocks.filter((b) => b.kind === "resource").map((b) => b.type));
  for (const [part, types] of Object.entries(REQUIRED)) {
    for (const type of types) if (!present.has(type)) add("REQ", part, `no ${type} resource`);
  }

  // MOD: plain resources only; no registry module (nothing can be downloaded here, and
  // a registry module hides what it creates from these checks).
  for (const b of of("module", "module")) {
    const source = String(b.body.source ?? "");
    if (!source.startsWith("./") && !source.startsWith("../")) add("MOD", at(b), `module source ${source} is not a local path`);
  }

  // PROVIDER: aws provider pinned to 5.x, Terraform new enough for S3 native locking.
  for (const b of of("terraform", "terraform")) {
    const aws = first(first(b.body.required_providers)?.aws);
    if (b.body.required_providers && !/^~>\s*5\.\d+/.test(String(aws?.version ?? ""))) add("PROVIDER", at(b), `aws provider version ${aws?.version} is not ~> 5.x`);
    if (b.body.required_providers && !/>=\s*1\.(1[1-9]|[2-9]\d)/.test(String(b.body.required_version ?? ""))) add("PROVIDER", at(b), `required_version ${b.body.required_version} allows a Terraform without use_lockfile`);
  }

  // BACKEND: remote state encrypted and locked (S3 lockfile).
  for (const b of of("terraform", "terraform")) {
    for (const s3 of asList(first(b.body.backend)?.s3)) {
      if (s3.encrypt !== true) add("BACKEND", at(b), "backend s3 without encrypt = true");
      if (s3.use_lockfile !== true) add("BACKEND", at(b), "backend s3 without use_lockfile = true");
      if (s3.dynamodb_table) add("BACKEND", at(b), "backend s3 with dynamodb_table: the S3 lockfile is the chosen lock (ADR 0006)");
      for (const key of ["access_key", "secret_key", "token"]) if (s3[key]) add("SECRET", at(b), `backend s3 has ${key}`);
    }
  }

  // STATE-*: every bucket versioned, encrypted, private.
  for (const bucket of of("aws_s3_bucket")) {
    const ref = (type) => of(type).filter((b) => refersTo(b.body.bucket, "aws_s3_bucket", bucket.name));
    const versioning = ref("aws_s3_bucket_versioning");
    if (!versioning.some((v) => first(v.body.versioning_configuration)?.status === "Enabled")) add("STATE-VERSIONING", at(bucket), "bucket without versioning Enabled");
    const sse = ref("aws_s3_bucket_server_side_encryption_configuration");
    const algorithm = sse.map((s) => first(first(first(s.body.rule)?.apply_server_side_encryption_by_default))?.sse_algorithm);
    if (!algorithm.some((a) => a === "aws:kms" || a === "aws:kms:dsse" || a === "AES256")) add("ENCRYPTION", at(bucket), "bucket without server-side encryption");
    const pab = ref("aws_s3_bucket_public_access_block");
    const blocked = pab.some((p) => ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"].every((k) => p.body[k] === true));
    if (!blocked) add("STATE-PUBLIC", at(bucket), "bucket without a public access block that sets all four flags");
  }

  // KMS: keys rotate.
  for (const key of of("aws_kms_key")) if (key.body.enable_key_rotation !== true) add("ENCRYPTION", at(key), "KMS key without enable_key_rotation");

  // EKS: Kubernetes Secrets encrypted with a KMS key; API authentication through access entries; IMDSv2 on nodes.
  for (const cluster of of("aws_eks_cluster")) {
    const enc = first(cluster.body.encryption_config);
    if (!enc || !asList(enc.resources).includes("secrets") || !/aws_kms_key\./.test(String(first(enc.provider)?.key_arn ?? ""))) add("ENCRYPTION", at(cluster), "EKS cluster without secrets encryption by a KMS key");
    if (first(cluster.body.access_config)?.authentication_mode !== "API") add("EKS-ACCESS", at(cluster), "authentication_mode is not API (access entries only)");
  }
  for (const lt of of("aws_launch_template")) {
    if (first(lt.body.metadata_options)?.http_tokens !== "required") add("EKS-NODES", at(lt), "launch template does not require IMDSv2");
    for (const bdm of asList(lt.body.block_device_mappings)) if (first(bdm.ebs)?.encrypted !== true) add("ENCRYPTION", at(lt), "node volume not encrypted");
  }
  for (const assoc of of("aws_eks_access_policy_association")) {
    if (first(assoc.body.access_scope)?.type !== "namespace") add("EKS-ACCESS", at(assoc), "access policy is not scoped to namespaces");
    if (/ClusterAdmin/.test(String(assoc.body.policy_arn))) add("EKS-ACCESS", at(assoc), "cluster-admin access policy");
  }

  // NODES-PRIVATE: the env roots put the cluster (and so the nodes) in the private subnets.
  for (const m of of("module", "module").filter((b) => String(b.body.source).endsWith("/modules/eks"))) {
    if (!/\.private_subnet_ids\}$/.test(String(m.body.subnet_ids))) add("NODES-PRIVATE", at(m), `EKS subnet_ids ${m.body.subnet_ids} are not the private subnets`);
  }
  for (const ng of of("aws_eks_node_group")) {
    if (!/^\$\{var\.subnet_ids\}$|private/.test(String(ng.body.subnet_ids))) add("NODES-PRIVATE", at(ng), `node group subnet_ids ${ng.body.subnet_ids}`);
  }
  for (const subnet of of("aws_subnet")) {
    if (subnet.body.map_public_ip_on_launch === true) add("NODES-PRIVATE", at(subnet), "subnet gives instances public IPs");
  }

  // INGRESS: no security group admits the whole internet (nothing here serves the
  // internet directly; load balancers are made by the cluster's controller).
  const open = (v) => asList(v).some((c) => OPEN_CIDRS.has(c));
  for (const sg of of("aws_security_group")) {
    for (const rule of asList(sg.body.ingress)) if (open(rule.cidr_blocks) || open(rule.ipv6_cidr_blocks)) add("INGRESS", at(sg), "inline ingress from 0.0.0.0/0 or ::/0");
  }
  for (const rule of of("aws_security_group_rule")) {
    if (rule.body.type === "ingress" && (open(rule.body.cidr_blocks) || open(rule.body.ipv6_cidr_blocks))) add("INGRESS", at(rule), "ingress from 0.0.0.0/0 or ::/0");
  }
  for (const rule of of("aws_vpc_security_group_ingress_rule")) {
    if (OPEN_CIDRS.has(rule.body.cidr_ipv4) || OPEN_CIDRS.has(rule.body.cidr_ipv6)) add("INGRESS", at(rule), "ingress from 0.0.0.0/0 or ::/0");
  }

  // DB-*: PostgreSQL 15, private, encrypted, password in Secrets Manager only,
  // 5432 from a security group (never from a CIDR).
  for (const db of of("aws_db_instance")) {
    if (db.body.engine !== "postgres") add("DB-ENGINE", at(db), `engine ${db.body.engine}`);
    const version = String(db.body.engine_version ?? "");
    const variable = /^\$\{var\.(\w+)\}$/.exec(version)?.[1];
    const effective = variable ? String(first(of("variable", "variable").find((v) => v.name === variable && v.dir === db.dir)?.body)?.default ?? "") : version;
    if (!/^15(\.|$)/.test(effective)) add("DB-ENGINE", at(db), `engine_version ${effective || version} is not 15`);
    if (db.body.publicly_accessible !== false) add("DB-PRIVATE", at(db), "publicly_accessible is not false");
    if (db.body.storage_encrypted !== true) add("ENCRYPTION", at(db), "storage_encrypted is not true");
    if (db.body.manage_master_user_password !== true) add("DB-PASSWORD", at(db), "manage_master_user_password is not true");
    if (db.body.password !== undefined) add("DB-PASSWORD", at(db), "a password argument puts the password in the state");
    const sgs = String(db.body.vpc_security_group_ids ?? "");
    for (const sgName of [...sgs.matchAll(/aws_security_group\.(\w+)\.id/g)].map((m) => m[1])) {
      const rules = of("aws_vpc_security_group_ingress_rule").filter((r) => refersTo(r.body.security_group_id, "aws_security_group", sgName));
      if (rules.length === 0) add("DB-INGRESS", at(db), `security group ${sgName} admits nothing (or uses inline rules)`);
      for (const rule of rules) {
        if (rule.body.from_port !== 5432 || rule.body.to_port !== 5432) add("DB-INGRESS", at(rule), "database ingress is not 5432 only");
        if (!rule.body.referenced_security_group_id || rule.body.cidr_ipv4 || rule.body.cidr_ipv6 || rule.body.prefix_list_id) add("DB-INGRESS", at(rule), "database ingress from something other than a security group");
      }
      const sg = of("aws_security_group").find((s) => s.name === sgName && s.dir === db.dir);
      if (sg && asList(sg.body.ingress).length > 0) add("DB-INGRESS", at(sg), "inline ingress on the database security group");
    }
  }
  // The prod root: Multi-AZ and deletion protection.
  for (const m of of("module", "module").filter((b) => /envs\/prod$/.test(b.dir) && String(b.body.source).endsWith("/modules/database"))) {
    if (m.body.multi_az !== true) add("DB-PROD", at(m), "prod database is not multi_az");
    if (m.body.deletion_protection !== true) add("DB-PROD", at(m), "prod database has no deletion protection");
  }

  // ECR: immutable tags, scan on push, a lifecycle policy.
  for (const repo of of("aws_ecr_repository")) {
    if (repo.body.image_tag_mutability !== "IMMUTABLE") add("ECR", at(repo), "tags are mutable");
    if (first(repo.body.image_scanning_configuration)?.scan_on_push !== true) add("ECR", at(repo), "no scan on push");
    if (!of("aws_ecr_lifecycle_policy").some((p) => refersTo(p.body.repository, "aws_ecr_repository", repo.name))) add("ECR", at(repo), "no lifecycle policy");
  }

  // OIDC: every web-identity trust names the audience and this repository only.
  const localsIn = (dir) => Object.assign({}, ...of("locals", "locals").filter((b) => b.dir === dir).map((b) => b.body));
  for (const doc of of("aws_iam_policy_document", "data")) {
    const locals = localsIn(doc.dir);
    const resolve = (text) => String(text).replace(/\$\{local\.(\w+)\}/g, (whole, name) => (locals[name] !== undefined ? String(locals[name]) : whole));
    for (const statement of asList(doc.body.statement)) {
      if (!asList(statement.actions).includes("sts:AssumeRoleWithWebIdentity")) continue;
      const conditions = asList(statement.condition);
      const aud = conditions.find((c) => String(c.variable).endsWith(":aud"));
      if (!aud || aud.test !== "StringEquals" || !asList(aud.values).includes("sts.amazonaws.com")) add("OIDC-TRUST", at(doc), "no StringEquals condition on the sts.amazonaws.com audience");
      const sub = conditions.find((c) => String(c.variable).endsWith(":sub"));
      if (!sub) {
        add("OIDC-TRUST", at(doc), "no condition on the token's subject: any repository on GitHub could assume the role");
        continue;
      }
      const values = asList(sub.values).map(resolve);
      for (const value of values) {
        const literal = value.replace(/^\$\{(.*)\}$/s, "$1");
        if (!/repo:\$\{var\.github_repository\}:/.test(literal)) add("OIDC-TRUST", at(doc), `subject ${value} is not tied to var.github_repository`);
        if (/repo:\*|repo:[^:$]*\*|\$\{var\.github_repository\}\*/.test(literal)) add("OIDC-TRUST", at(doc), `subject ${value} has a wildcard in the repository`);
      }
    }
  }
  const repoVars = of("variable", "variable").filter((v) => v.name === "github_repository");
  for (const v of repoVars) {
    if (!asList(v.body.validation).some((val) => /github_repository/.test(String(val.condition)))) add("VARIABLES", at(v), "github_repository has no validation");
  }

  // VARIABLES: described, typed; the root's key inputs validated; no secret defaults.
  for (const v of of("variable", "variable")) {
    if (!String(v.body.description ?? "").trim()) add("VARIABLES", at(v), "no description");
    if (v.body.type === undefined) add("VARIABLES", at(v), "no type");
    const value = v.body.default;
    if (SECRET_NAME.test(v.name) && value !== undefined && value !== null && value !== "") add("SECRET", at(v), `variable ${v.name} has a default`);
    const text = JSON.stringify(value ?? "");
    if (SECRET_VALUE.some((re) => re.test(text))) add("SECRET", at(v), "default looks like a credential");
  }
  for (const v of of("variable", "variable").filter((b) => /envs\/[^/]+$|bootstrap$/.test(b.dir) && ["aws_region", "aws_account_id", "github_repository"].includes(b.name))) {
    if (asList(v.body.validation).length === 0) add("VARIABLES", at(v), "no validation");
  }
  // No secret literal anywhere in a resource or module argument.
  for (const b of blocks.filter((x) => x.kind === "resource" || x.kind === "module")) {
    const text = JSON.stringify(b.body);
    if (SECRET_VALUE.some((re) => re.test(text))) add("SECRET", at(b), "a credential-looking literal");
    if (/"(password|master_password)":\s*"[^$]/.test(text)) add("SECRET", at(b), "a literal password");
  }

  // OUTPUTS: each env root gives the workflow what it needs, and never a password.
  const roots = [...new Set(blocks.filter((b) => b.kind === "terraform" && first(b.body.backend)?.s3).map((b) => b.dir))];
  for (const root of roots) {
    const outputs = of("output", "output").filter((o) => o.dir === root);
    for (const name of ROOT_OUTPUTS) if (!outputs.some((o) => o.name === name)) add("OUTPUTS", root, `no output ${name}`);
    const mapping = outputs.find((o) => o.name === "github_repository_variables");
    const keys = isMapping(mapping?.body.value) ? Object.keys(mapping.body.value) : [];
    for (const name of workflowVariables) if (!keys.includes(name)) add("OUTPUTS", root, `github_repository_variables lacks ${name}, which the release workflow reads`);
  }
  for (const o of of("output", "output")) {
    const value = JSON.stringify(o.body.value ?? "");
    if (/password|secret_string/i.test(value) && o.body.sensitive !== true) add("SECRET", at(o), "an output exposes a password");
  }

  return findings;
}
