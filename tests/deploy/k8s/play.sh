#!/usr/bin/env bash
# A real run of the dev overlay's Deployment (issue 7), with `podman kube
# play` instead of a cluster:
#
#   1. render `kubectl kustomize deploy/k8s/overlays/dev`;
#   2. take the users-api Deployment and what its pod refers to: the
#      ConfigMap (envFrom) and the Secret (DATABASE_URL); change only what
#      podman needs, and say so (below);
#   3. the Secret becomes a podman secret (what `secretKeyRef` reads under
#      podman), then `podman kube play` starts the pod from
#      $USERS_API_IMAGE (default localhost/users-api:dev, the overlay's own
#      image) with this machine's podman flags (shared/notes/containers.md);
#   4. the pod runs, /healthz and /readyz answer 200 on the ops port (where
#      the probes point) and on the API port, /metrics answers 200 on the ops
#      port and 404 on the API port, and /api/users/ answers (and stores a
#      user) through the published API port; the process runs as
#      the securityContext says (uid 10001, no capabilities, no new
#      privileges, seccomp, read-only root) with the ConfigMap's settings;
#   5. `podman kube down`, the secret and any volume are removed, on failure
#      too.
#
# Changes to the rendered objects, all printed as they are made:
#   - replicas 2 -> 1: every replica becomes a pod with the same hostPort;
#   - a hostPort (127.0.0.1, a free port) on the http port and another on the
#     ops port: podman publishes only hostPorts (there is no Service or
#     NodePort without a cluster);
#   - names get a -play-PID suffix (Deployment, ConfigMap, Secret and the
#     references to them), so a run never touches anything else on podman;
#   - DATABASE_URL in the Secret: the dev overlay's PostgreSQL is a
#     StatefulSet, which podman kube play (4.3: Pods, Deployments, PVCs)
#     cannot run, so the pod uses SQLite in its /tmp emptyDir
#     (sqlite:////tmp/users-api.sqlite3), the only writable place under
#     readOnlyRootFilesystem. The PostgreSQL path is exercised by
#     tests/image/compose_test.sh and the C++ suites.
# Not checked here, because podman does not do it as a kubelet does: probes
# (podman 4.3 turns an httpGet probe into `curl` run by a shell inside the
# container, which this image has neither of, and resolves the named port
# "ops" to 0; without systemd it never schedules them anyway), the
# NetworkPolicies, HPA, PDB, Service and the migration Job. The probes'
# endpoints are requested from the host instead.
#
# Usage: tests/deploy/k8s/play.sh      Exit: 0 pass, 1 fail, 77 cannot run here.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck source=scripts/image/lib.sh
source "$root/scripts/image/lib.sh"
# shellcheck source=tests/image/test_lib.sh
source "$root/tests/image/test_lib.sh"

image=${USERS_API_IMAGE:-localhost/users-api:dev}
suffix="play-$$"
tmp=$(mktemp -d /tmp/users-api-k8s-play.XXXXXX)
played=""
secrets=()
volumes=()
# podman kube play creates this network on first use; removed again if this
# run created it and nothing else uses it.
kube_network=podman-default-kube-network
kube_network_existed=""

cleanup() {
  local rc=$?
  trap - EXIT
  set +e
  if [ -n "$played" ]; then
    if [ "$rc" -ne 0 ]; then
      for c in $(image_podman ps -a --filter "pod=$pod" --format '{{.Names}}' 2>/dev/null); do
        echo "--- logs of $c (last 20 lines)"
        image_podman logs "$c" 2>&1 | tail -n 20 | indent
      done
    fi
    for c in $(image_podman ps -a -q --filter "pod=$pod" 2>/dev/null); do
      for v in $(image_podman inspect --format '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}' "$c" 2>/dev/null); do
        volumes+=("$v")
      done
    done
    say "cleaning up: podman kube down, podman secret rm"
    image_podman kube down "$tmp/play.yaml" >"$tmp/down.out" 2>&1 || cat "$tmp/down.out"
    image_podman pod rm -f "$pod" >/dev/null 2>&1
  fi
  for s in "${secrets[@]}"; do image_podman secret rm "$s" >/dev/null 2>&1; done
  for v in "${volumes[@]}"; do image_podman volume rm -f "$v" >/dev/null 2>&1; done
  if [ -n "$played" ] && [ -z "$kube_network_existed" ]; then
    image_podman network rm "$kube_network" >/dev/null 2>&1 # fails, harmlessly, while in use
  fi
  if [ -n "$played" ]; then
    local left=0
    image_podman pod exists "$pod" 2>/dev/null && left=$((left + 1))
    for s in "${secrets[@]}"; do image_podman secret inspect "$s" >/dev/null 2>&1 && left=$((left + 1)); done
    for v in "${volumes[@]}"; do image_podman volume exists "$v" 2>/dev/null && left=$((left + 1)); done
    if [ "$left" -ne 0 ]; then
      echo "FAIL: cleanup left $left pod(s), secret(s) or volume(s) behind" >&2
      [ "$rc" -eq 0 ] && rc=1
    else
      say "cleaned up: pod $pod, ${#secrets[@]} secret(s), ${#volumes[@]} volume(s) removed"
    fi
  fi
  rm -rf "$tmp"
  [ "$rc" -eq 0 ] && say "PASS: deploy.k8s_play"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Tools and image -------------------------------------------------------------
if ! command -v podman >/dev/null && [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  skip "podman is missing and cannot be installed (neither root nor sudo)"
fi
# shellcheck source=../../lib/tools.sh
source "$root/tests/lib/tools.sh"
! reason=$(kustomize_missing) || skip "$reason"
image_install_tools
image_apt_install python3-yaml curl
image_setup_env
image_podman image exists "$image" ||
  fail "the image $image is not in podman's storage: build it first (make image, or ctest's image.build)"
say "tools: $(podman --version), kubectl $(kubectl version --client 2>/dev/null | sed -n 's/^Client Version: //p'); image $image"

# --- Render and pick ---------------------------------------------------------------
kubectl kustomize "$root/deploy/k8s/overlays/dev" >"$tmp/dev.yaml" || fail "kubectl kustomize deploy/k8s/overlays/dev"
say "rendered deploy/k8s/overlays/dev: $(grep -c '^kind:' "$tmp/dev.yaml") objects"
port=$(free_port) || fail "no free TCP port below the ephemeral range"
ops_port=$(free_port) || fail "no free TCP port below the ephemeral range"
while [ "$ops_port" = "$port" ]; do ops_port=$(free_port) || fail "no free TCP port below the ephemeral range"; done
python3 - "$tmp" "$image" "$port" "$suffix" "$ops_port" <<'PY' || fail "picking the Deployment and what its pod needs from the rendered overlay"
import base64, json, sys, yaml

tmp, image, port, suffix, ops_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
docs = [d for d in yaml.safe_load_all(open(f"{tmp}/dev.yaml")) if d]
by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
deployment = by[("Deployment", "users-api")]
pod = deployment["spec"]["template"]["spec"]
(container,) = [c for c in pod["containers"] if c["name"] == "users-api"]

def change(what, old, new):
    print(f"  change: {what}: {old} -> {new}")

# The ConfigMaps and Secrets the pod refers to, renamed with the suffix.
configmaps, secrets = set(), set()
for c in pod["containers"]:
    for source in c.get("envFrom", []):
        if "configMapRef" in source:
            configmaps.add(source["configMapRef"]["name"])
            source["configMapRef"]["name"] += f"-{suffix}"
        if "secretRef" in source:
            secrets.add(source["secretRef"]["name"])
            source["secretRef"]["name"] += f"-{suffix}"
    for variable in c.get("env", []):
        ref = variable.get("valueFrom", {})
        if "configMapKeyRef" in ref:
            configmaps.add(ref["configMapKeyRef"]["name"])
            ref["configMapKeyRef"]["name"] += f"-{suffix}"
        if "secretKeyRef" in ref:
            secrets.add(ref["secretKeyRef"]["name"])
            ref["secretKeyRef"]["name"] += f"-{suffix}"
for volume in pod.get("volumes", []):
    if "configMap" in volume or "secret" in volume or "persistentVolumeClaim" in volume:
        sys.exit(f"volume {volume['name']}: not handled by this test")

print(f"  take: Deployment users-api, ConfigMap {', '.join(sorted(configmaps))}, Secret {', '.join(sorted(secrets))}")
change("names of the Deployment, ConfigMap and Secret (and the references)", "NAME", f"NAME-{suffix}")
deployment["metadata"]["name"] = f"users-api-{suffix}"
change("spec.replicas", deployment["spec"]["replicas"], 1)
deployment["spec"]["replicas"] = 1
if container["image"] != image:
    change("container image", container["image"], image)
    container["image"] = image
else:
    print(f"  keep: container image {image} (the overlay's)")
(http,) = [p for p in container["ports"] if p.get("name") == "http"]
change(f"port http ({http['containerPort']}): hostIP/hostPort", "none", f"127.0.0.1:{port}")
http["hostIP"], http["hostPort"] = "127.0.0.1", port
(ops,) = [p for p in container["ports"] if p.get("name") == "ops"]
change(f"port ops ({ops['containerPort']}): hostIP/hostPort", "none", f"127.0.0.1:{ops_port}")
ops["hostIP"], ops["hostPort"] = "127.0.0.1", ops_port
for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
    if container[probe]["httpGet"]["port"] != "ops":
        sys.exit(f"{probe} is on port {container[probe]['httpGet']['port']!r}, not ops")

objects = [deployment]
for name in sorted(configmaps):
    configmap = by[("ConfigMap", name)]
    configmap["metadata"]["name"] = f"{name}-{suffix}"
    objects.append(configmap)
with open(f"{tmp}/play.yaml", "w") as out:
    yaml.safe_dump_all(objects, out, sort_keys=False)

# podman's secretKeyRef reads a podman secret holding a JSON map of base64
# values (the Secret's "data").
with open(f"{tmp}/secrets.list", "w") as listing:
    for name in sorted(secrets):
        secret = by[("Secret", name)]
        data = dict(secret.get("data", {}))
        for key, value in secret.get("stringData", {}).items():
            data[key] = base64.b64encode(value.encode()).decode()
        if "DATABASE_URL" in data:
            old = base64.b64decode(data["DATABASE_URL"]).decode()
            scheme, _, rest = old.partition("://")
            new = "sqlite:////tmp/users-api.sqlite3"
            change(f"Secret {name}: DATABASE_URL", f"{scheme}://***@{rest.split('@')[-1]}", new)
            data["DATABASE_URL"] = base64.b64encode(new.encode()).decode()
        path = f"{tmp}/secret-{name}.json"
        with open(path, "w") as out:
            json.dump(data, out)
        listing.write(f"{name}-{suffix} {path}\n")
PY
pod="users-api-$suffix-pod-0"

while read -r name path; do
  image_podman secret create "$name" "$path" >/dev/null || fail "podman secret create $name"
  secrets+=("$name")
done <"$tmp/secrets.list"
say "podman secrets: ${secrets[*]}"

# --- Play ----------------------------------------------------------------------------
image_podman network exists "$kube_network" && kube_network_existed=1
played=1
started=$(now_ms)
if ! image_podman kube play "$tmp/play.yaml" >"$tmp/play.out" 2>&1; then
  indent <"$tmp/play.out"
  fail "podman kube play failed"
fi
play_ms=$(($(now_ms) - started))
say "podman kube play in $play_ms ms:"
grep -v 'unable to get systemd connection' "$tmp/play.out" | indent
# (podman asks systemd for health-check timers, which this machine lacks.)

status=$(image_podman pod inspect --format '{{.State}}' "$pod")
[ "$status" = Running ] || fail "pod $pod is $status, not Running"
# podman names a pod's container POD-CONTAINER.
container="$pod-users-api"
image_podman container exists "$container" || fail "no container $container in pod $pod"
cname=$(image_podman inspect --format '{{.Name}}' "$container")
say "pod $pod: Running; container $cname: $(image_podman inspect --format '{{.State.Status}}' "$container")"

base="http://127.0.0.1:$port"
ops="http://127.0.0.1:$ops_port"
# The probes' endpoints where the probes point: the ops port.
wait_status "$ops/healthz" 200 30 || fail "GET /healthz on the ops port did not answer 200 within 30 s (last: $(http_status "$ops/healthz"))"
say "ops port: GET /healthz -> 200 after $(($(now_ms) - started)) ms from kube play ($(curl -s --max-time 2 "$ops/healthz"))"
wait_status "$ops/readyz" 200 30 || fail "GET /readyz on the ops port did not answer 200 within 30 s (last: $(http_status "$ops/readyz"))"
say "ops port: GET /readyz -> 200 ($(curl -s --max-time 2 "$ops/readyz"))"
for path in /healthz /readyz; do
  [ "$(http_status "$base$path")" = 200 ] || fail "API port: GET $path answered $(http_status "$base$path"), want 200"
done
say "API port: GET /healthz and /readyz -> 200 too"
metrics=$(curl -s --max-time 5 -w '\n%{http_code}' "$ops/metrics" || true)
[ "$(tail -n 1 <<<"$metrics")" = 200 ] || fail "ops port: GET /metrics answered $(tail -n 1 <<<"$metrics"), want 200"
grep -q '^# TYPE users_api_http_requests_total counter$' <<<"$metrics" ||
  fail "ops port: GET /metrics has no users_api_http_requests_total counter" "$(head -n 5 <<<"$metrics")"
[ "$(http_status "$base/metrics")" = 404 ] || fail "API port: GET /metrics answered $(http_status "$base/metrics"), want 404 (ops port only)"
[ "$(http_status "$ops/api/users/")" = 404 ] || fail "ops port: GET /api/users/ answered $(http_status "$ops/api/users/"), want 404 (ops paths only)"
say "ops port: GET /metrics -> 200 (where prometheus.io/port points), /api/users/ -> 404; API port: GET /metrics -> 404"
list=$(curl -s --max-time 5 -w '\n%{http_code}' "$base/api/users/")
[ "$(tail -n 1 <<<"$list")" = 200 ] || fail "GET /api/users/ answered $(tail -n 1 <<<"$list")"
say "GET /api/users/ -> 200 $(head -n 1 <<<"$list")"
created=$(curl -s --max-time 5 -H 'Content-Type: application/json' -w '\n%{http_code}' \
  -d '{"dni":"K8SPLAY","name":"Pod"}' "$base/api/users/")
[ "$(tail -n 1 <<<"$created")" = 201 ] || fail "POST /api/users/ answered $(tail -n 1 <<<"$created")" "$created"
list=$(curl -s --max-time 5 "$base/api/users/")
[[ $list == *'"dni":"K8SPLAY","name":"Pod"'* ]] || fail "the user created is not listed: $list"
say "POST /api/users/ -> 201 $(head -n 1 <<<"$created"); GET /api/users/ -> $list"

# The pod as run: the securityContext and the ConfigMap's settings.
pid=$(image_podman inspect --format '{{.State.Pid}}' "$container")
proc=$(cat "/proc/$pid/status")
uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' <<<"$proc")
gid=$(awk '/^Gid:/ {print $2, $3, $4, $5}' <<<"$proc")
cap=$(awk '/^CapEff:/ {print $2}' <<<"$proc")
nnp=$(awk '/^NoNewPrivs:/ {print $2}' <<<"$proc")
seccomp=$(awk '/^Seccomp:/ {print $2}' <<<"$proc")
readonly_root=$(image_podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container")
[ "$uid" = "10001 10001 10001 10001" ] || fail "process uids: $uid, want 10001"
[ "$gid" = "10001 10001 10001 10001" ] || fail "process gids: $gid, want 10001"
[ "$cap" = 0000000000000000 ] || fail "process capabilities: CapEff $cap, want none"
[ "$nnp" = 1 ] || fail "no_new_privs is $nnp, want 1 (allowPrivilegeEscalation: false)"
[ "$seccomp" = 2 ] || fail "seccomp mode $seccomp, want 2 (filter: RuntimeDefault)"
[ "$readonly_root" = true ] || fail "the root file system is not read-only"
say "process: uid/gid 10001, CapEff 0, NoNewPrivs 1, Seccomp 2 (filter), read-only root"
starting=$(image_podman logs "$container" 2>&1 | grep -m 1 '"msg":"starting"' || true)
for want in '"threads":2' '"shutdown_delay_ms":5000' '"log_format":"json"' '"database_url":"sqlite:////tmp/users-api.sqlite3"'; do
  [[ $starting == *"$want"* ]] || fail "the start-up line lacks $want (ConfigMap/Secret not applied?)" "$starting"
done
say "start-up line shows the ConfigMap's THREADS=2, SHUTDOWN_DELAY=5, LOG_FORMAT=json and the Secret's DATABASE_URL"
