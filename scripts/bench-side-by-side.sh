#!/usr/bin/env bash
# Issue 15's side by side (figures in BENCHMARKS.md, "Scale"): fabfuel's `ecs-deploy` and
# `ecs-operator apply` each rolling a new image to the same number of services, on a moto server
# behind ../shared/tools/aws-buckets-proxy.py (AWS's throttling buckets), loopback only.
#
#   scripts/bench-side-by-side.sh [SERVICES]      (default 50)
#
# Needs moto_server (scripts/test.sh installs it) and `ecs` (pip install ecs-deploy); builds the
# release binary. Each tool gets its own cluster of SERVICES services, created beforehand by
# `ecs-operator apply` straight to moto (not measured), and a fresh proxy (full buckets). The
# roll: `ecs deploy CLUSTER SERVICE --tag T` once per service, one after the other, the way
# teams script it (it waits for each deployment: with desiredCount 0, as moto runs no tasks,
# that is one poll); `ecs-operator apply` of the manifests with the new tag. Printed: wall time,
# calls forwarded and throttled (the proxy's counts), services on the new image, failures.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
PROXY_PY=${PROXY_PY:-../shared/tools/aws-buckets-proxy.py}
[ -f "$PROXY_PY" ] || PROXY_PY=/work/shared/tools/aws-buckets-proxy.py
command -v moto_server >/dev/null || { echo "moto_server missing: pip install 'moto[server]'" >&2; exit 1; }
command -v ecs >/dev/null || { echo "ecs (ecs-deploy) missing: pip install ecs-deploy" >&2; exit 1; }
# BIN=path/to/ecs-operator uses that binary (the time is the buckets', not the binary's).
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/ecs-operator
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MOTO_PORT=$(free_port)
moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$MOTO_PORT/" >/dev/null && break; sleep 0.2; done
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
# moto checks subnets and security groups: its default VPC's.
ec2() { python3 -c "import boto3; print(boto3.client('ec2', endpoint_url='http://127.0.0.1:$MOTO_PORT').$1)"; }
SUBNET=$(ec2 "describe_subnets()['Subnets'][0]['SubnetId']")
SG=$(ec2 "describe_security_groups()['SecurityGroups'][0]['GroupId']")

# The manifests of one cluster's services at image tag $3 into $2.
fleet() {
  local cluster=$1 dir=$2 tag=$3
  mkdir -p "$dir"
  printf 'apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: %s\nspec: {}\n' "$cluster" >"$dir/cluster.yaml"
  for i in $(seq 1 "$N"); do
    cat >"$dir/svc-$i.yaml" <<EOF
apiVersion: ecs-operator/v1
kind: Service
metadata:
  name: svc-$i
spec:
  cluster: $cluster
  desiredCount: 0                 # moto runs no tasks: ecs-deploy's wait ends at once
  launchType: FARGATE
  deploymentConfiguration:
    deploymentCircuitBreaker: {enable: true, rollback: true}
  networkConfiguration:
    awsvpcConfiguration:
      subnets: [$SUBNET]
      securityGroups: [$SG]
  taskDefinition:
    cpu: "256"
    memory: "512"
    networkMode: awsvpc
    containerDefinitions:
      - name: app
        image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/svc-$i:$tag
        portMappings:
          - containerPort: 8000
EOF
  done
}

start_proxy() {
  rm -f "$WORK/proxy.port"
  python3 "$PROXY_PY" --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$MOTO_PORT" \
    --port-file "$WORK/proxy.port" >"$WORK/proxy-$1.json" 2>"$WORK/proxy-$1.log" &
  PROXY_PID=$!
  PIDS+=($PROXY_PID)
  for _ in $(seq 100); do [ -s "$WORK/proxy.port" ] && break; sleep 0.1; done
  PROXY="http://127.0.0.1:$(cat "$WORK/proxy.port")"
}

stats() { curl -s "$PROXY/__proxy/stats"; }

# Services of cluster $1 whose task definition runs image tag $2 (straight to moto).
on_tag() {
  python3 - "$MOTO_PORT" "$1" "$2" "$N" <<'EOF'
import sys, boto3
port, cluster, tag, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ecs = boto3.client("ecs", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
names = [f"svc-{i}" for i in range(1, n + 1)]
count = 0
for k in range(0, n, 10):
    for s in ecs.describe_services(cluster=cluster, services=names[k:k + 10])["services"]:
        td = ecs.describe_task_definition(taskDefinition=s["taskDefinition"])["taskDefinition"]
        if all(c["image"].endswith(":" + tag) for c in td["containerDefinitions"]):
            count += 1
print(count)
EOF
}

summary() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def ops(s):
    return s.get("operations", s)
b, a = ops(before), ops(after)
fwd = thr = 0
by = {}
for op, v in a.items():
    if not isinstance(v, dict):
        continue
    pv = b.get(op, {}) if isinstance(b.get(op, {}), dict) else {}
    f = v.get("forwarded", 0) - pv.get("forwarded", 0)
    t = v.get("throttled", 0) - pv.get("throttled", 0)
    fwd += f; thr += t
    if f or t:
        by[op] = f if not t else f"{f}+{t} throttled"
print(f"calls {fwd + thr} (forwarded {fwd}, throttled {thr}); by operation {json.dumps(by, sort_keys=True)}")
EOF
}

# Set up both fleets at tag v1, straight to moto.
for c in deploy operator; do
  fleet "$c" "$WORK/$c-v1" v1
  "$BIN" --endpoint-url "http://127.0.0.1:$MOTO_PORT" --instance bench apply "$WORK/$c-v1" >"$WORK/setup-$c.log"
done
# The new tag in the same files (the source tag names each file: a new path is a tag change).
fleet operator "$WORK/operator-v1" v2

echo "rolling a new image to $N services (moto behind AWS's buckets)"

start_proxy deploy
before=$(stats)
t0=$(date +%s.%N)
failures=0
for i in $(seq 1 "$N"); do
  AWS_ENDPOINT_URL=$PROXY ecs deploy deploy "svc-$i" --tag v2 >>"$WORK/ecs-deploy.log" 2>&1 || failures=$((failures + 1))
done
t1=$(date +%s.%N)
after=$(stats)
printf 'ecs-deploy:           wall %.1f s; %s; on the new image %s/%s; failures %s\n' \
  "$(echo "$t1 - $t0" | bc)" "$(summary "$before" "$after")" "$(on_tag deploy v2)" "$N" "$failures"
kill "$PROXY_PID"

start_proxy operator
before=$(stats)
t0=$(date +%s.%N)
failures=0
"$BIN" --endpoint-url "$PROXY" --instance bench apply "$WORK/operator-v1" >"$WORK/operator.log" 2>&1 || failures=$(grep -c '^! ' "$WORK/operator.log" || true)
t1=$(date +%s.%N)
after=$(stats)
printf 'ecs-operator apply:   wall %.1f s; %s; on the new image %s/%s; failures %s\n' \
  "$(echo "$t1 - $t0" | bc)" "$(summary "$before" "$after")" "$(on_tag operator v2)" "$N" "$failures"
kill "$PROXY_PID"
