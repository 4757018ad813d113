#!/usr/bin/env python3
"""Runs real task and service definitions through the operator, as a new user would paste them.

    python3 scripts/realworld.py [--backend sim|moto|both] [--only SUBSTRING] [-v] [DIR]

DIR (default ../shared/realworld) holds taskdefs/*.json (RegisterTaskDefinition JSON) and
services/*.json (CreateService JSON, given the resources it names: see `wrap_service`). Nothing of DIR is copied into the repository: each file is
wrapped in a manifest in a temporary directory.

For each task definition: wrap it as `spec.taskDefinition` of a Service (with a Cluster), then
`validate`, `apply`, `diff` (must be clean: exit 0), `import --cluster` and compare what import
wrote with the input (every value the input sets must come back, but for ECS's own defaults),
on the simulator (a state file) and/or on a moto server started on a loopback port. A file that
ECS itself would refuse is expected to fail `validate`: the script lists those apart, with the
rule that refused it, so a reader can check each one.

Exit status 0 when every file passed or was refused by validation with a reason; 1 otherwise.
"""

import argparse
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ECS_OPERATOR_BIN", os.path.join(ROOT, "target", "debug", "ecs-operator"))
# The simulator takes any; on moto, its default subnet and security group.
SUBNET = ("subnet-0123456789abcdef0", "sg-0123456789abcdef0")
# Values ECS stores for a member left out: import leaves them out again, so a file that writes
# them explicitly is not missing anything when they are absent from what import wrote.
DEFAULTS = {
    "essential": True,
    "cpu": 0,
    "protocol": "tcp",
    "readOnly": False,
    "interval": 30,
    "timeout": 5,
    "retries": 3,
    "networkMode": "bridge",
}
# What moto 5.2.1 does not report back (README, "Conformance"): a diff of only these on moto is
# a moto gap, listed apart, not a failure.
MOTO_GAPS = ("spec.volumeConfigurations",)
# Members that only describe a registered revision, and those the wrapper decides.
IGNORED = {"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
           "registeredAt", "registeredBy", "deregisteredAt", "family"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto_server did not start")


def moto_subnet(endpoint):
    """moto's default subnet and security group (awsvpc services need ones that exist)."""
    import boto3  # comes with moto

    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    subnet = ec2.describe_subnets()["Subnets"][0]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    return subnet["SubnetId"], group, subnet["VpcId"]


def name_of(path):
    base = os.path.basename(path)[:-5].split("__")[-1].replace("task-definition", "td")
    base = re.sub(r"[^a-z0-9-]", "-", base.lower()).strip("-")
    return base[-40:].strip("-") or "svc"


def is_fargate(td):
    return "FARGATE" in td.get("requiresCompatibilities", [])


def is_awsvpc(td):
    return td.get("networkMode") == "awsvpc"


def wrap(td, name, directory, subnet):
    spec = {"cluster": "rw", "desiredCount": 0, "taskDefinition": td}
    td = td.get("taskDefinition", td)  # describe-task-definition output pasted whole
    if is_fargate(td):
        spec["launchType"] = "FARGATE"
    if is_awsvpc(td):
        subnet, group = subnet[:2]
        spec["networkConfiguration"] = {"awsvpcConfiguration": {"subnets": [subnet],
                                                                "securityGroups": [group]}}
    # Otherwise no launchType: ECS's default (EC2) is what such a file expects.
    at_launch = [v["name"] for v in td.get("volumes", []) if v.get("configuredAtLaunch")]
    if at_launch:  # ECS needs the service to configure them
        spec["volumeConfigurations"] = [
            {"name": n, "managedEBSVolume": {
                "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole", "sizeInGiB": 10}}
            for n in at_launch]
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "cluster.yaml"), "w") as f:
        f.write("apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: rw\nspec: {}\n")
    with open(os.path.join(directory, "service.yaml"), "w") as f:
        f.write("apiVersion: ecs-operator/v1\nkind: Service\nmetadata:\n  name: %s\nspec: %s\n"
                % (name, json.dumps(spec, indent=2)))


# A CreateService JSON names resources of its author's account; the wrapper gives each one of
# its own: the target groups become a TargetGroup manifest, and `taskDefinition` names the
# family of a Service the wrapper applies first (a revision registered by someone else, as a
# pipeline that registers task definitions would leave it).
BASE_FAMILY = "rw-base"
SERVICE_DEFAULTS = {"schedulingStrategy": "REPLICA", "assignPublicIp": "DISABLED",
                    "launchType": "EC2", "maximumPercent": 200}


def wrap_service(sv, name, directory, subnet):
    """A CreateService JSON as `spec`, with what it names provided by the wrapper."""
    spec = dict(sv)
    spec.setdefault("cluster", "rw")
    spec["serviceName"] = name
    spec["taskDefinition"] = BASE_FAMILY
    docs = ["apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: rw\nspec: {}\n"]
    awsvpc = "networkConfiguration" in spec
    if awsvpc:
        sub, group = subnet[:2]
        spec["networkConfiguration"] = {"awsvpcConfiguration": dict(
            spec["networkConfiguration"]["awsvpcConfiguration"], subnets=[sub],
            securityGroups=[group])}
    containers = {}
    for i, lb in enumerate(spec.get("loadBalancers", [])):
        tg = f"rw-tg-{i}"
        lb = dict(lb)
        lb.pop("targetGroupArn", None)
        lb["targetGroup"] = tg
        spec["loadBalancers"][i] = lb
        containers[lb["containerName"]] = lb["containerPort"]
        docs.append("apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata:\n  name: %s\n"
                    "spec: %s\n" % (tg, json.dumps({
                        "protocol": "HTTP", "port": lb["containerPort"], "vpcId": subnet[2],
                        "targetType": "ip" if awsvpc else "instance"})))
    base_td = {"family": BASE_FAMILY, "networkMode": "awsvpc" if awsvpc else "bridge",
               "containerDefinitions": [
                   {"name": c, "image": "nginx:1.27", "memory": 256,
                    "portMappings": [{"containerPort": p}]} for c, p in containers.items()]
               or [{"name": "app", "image": "nginx:1.27", "memory": 256}]}
    base = {"cluster": "rw", "desiredCount": 0, "launchType": "EC2", "taskDefinition": base_td}
    if awsvpc:
        base["networkConfiguration"] = {"awsvpcConfiguration": {"subnets": [subnet[0]],
                                                                "securityGroups": [subnet[1]]}}
    docs.append("apiVersion: ecs-operator/v1\nkind: Service\nmetadata:\n  name: rw-base\n"
                "spec: %s\n" % json.dumps(base))
    os.makedirs(os.path.join(directory, "base"), exist_ok=True)
    with open(os.path.join(directory, "base", "base.yaml"), "w") as f:
        f.write("---\n".join(docs))
    docs.append("apiVersion: ecs-operator/v1\nkind: Service\nmetadata:\n  name: %s\nspec: %s\n"
                % (name, json.dumps(spec, indent=2)))
    os.makedirs(os.path.join(directory, "in"), exist_ok=True)
    with open(os.path.join(directory, "in", "all.yaml"), "w") as f:
        f.write("---\n".join(docs))
    return spec


def service_lost(spec, imported):
    """Leaves of the service `spec` that import did not write back (ECS's defaults aside)."""
    spec = {k: v for k, v in spec.items() if k not in ("taskDefinition", "serviceName")}
    if isinstance(imported.get("tags"), dict):  # import writes the map shorthand
        imported = dict(imported, tags=[{"key": k, "value": v}
                                        for k, v in imported["tags"].items()])
    have = dict(leaves(imported))
    out = []
    for p, v in leaves(spec):
        got = have.get(p)
        if got is not None and same(got, v):
            continue
        if got is None and SERVICE_DEFAULTS.get(p.rsplit(".", 1)[-1]) == v:
            continue
        out.append(f"{p}: {v!r} -> {got!r}")
    return out


def check_service(path, backend, endpoint, subnet, work):
    name = "rw-" + name_of(path)[-30:]
    directory = os.path.join(work, backend, name)
    spec = wrap_service(json.load(open(path)), name, directory,
                        subnet if backend == "moto" else SUBNET + ("vpc-1",))
    env, common = backend_env(backend, endpoint, directory)
    src = os.path.join(directory, "in")
    code, out = run(["validate", src], env)
    if code != 0:
        return "refused", out
    code, out = run(["apply", os.path.join(directory, "base")] + common, env)
    if code != 0:
        return "apply failed", "(the wrapper's base) " + out
    code, out = run(["apply", src] + common, env)
    if code != 0:
        return "apply failed", out
    code, out = run(["diff", src] + common, env)
    if code != 0:
        return "diff not clean", out
    imported = os.path.join(directory, "imported")
    code, out = run(["import", "--cluster", "rw", "--out", imported] + common, env)
    if code != 0:
        return "import failed", out
    back = load_imported(imported, name)
    if back is None:
        return "import failed", f"no Service {name} in what import wrote"
    missing = service_lost(spec, back)
    if missing:
        return "lost on import", "\n".join(missing)
    return "ok", ""


def backend_env(backend, endpoint, directory):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION="us-east-1", ECS_OPERATOR_LOG_LEVEL="warn")
    if backend == "sim":
        return env, ["--backend", "sim", "--sim-state", os.path.join(directory, "sim.json")]
    return env, ["--backend", "aws", "--endpoint-url", endpoint]


def run(args, env, timeout=120):
    p = subprocess.run([BIN] + args, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).strip()


# Lists whose order ECS does not keep or does not care about: their items are compared by a
# key (the value itself for lists of strings), not by position.
UNORDERED = {"add", "drop", "mountPoints", "volumesFrom", "ulimits", "systemControls",
             "portMappings", "dependsOn", "volumes", "requiresCompatibilities", "secretOptions",
             "environmentFiles", "placementConstraints", "extraHosts", "devices", "tmpfs"}
ITEM_KEYS = ("name", "key", "containerName", "sourceContainer", "namespace", "containerPath",
             "containerPort", "hostPath", "hostname", "value", "type")
UNITS = {"vcpu": 1024, "gb": 1024}


def item_key(v, i, unordered):
    if isinstance(v, dict):
        for k in ITEM_KEYS:
            if k in v:
                return f"{k}={v[k]}"
        return str(i)
    return str(v) if unordered else str(i)


def leaves(value, path=""):
    """(path, value) of every set leaf; list items by a key where ECS does not keep order."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in IGNORED and path == "":
                continue
            yield from leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        last = path.rsplit(".", 1)[-1].split("[")[0]
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{item_key(v, i, last in UNORDERED)}]")
    elif value is not None and value != "":
        yield path, value


def same(a, b):
    """Equal as AWS would store them: numbers and strings alike, `1 vCPU` = 1024, `2 GB` = 2048."""
    def norm(x):
        t = str(x).strip().lower()
        m = re.fullmatch(r"([0-9.]+)\s*(vcpu|gb)", t)
        return str(int(float(m.group(1)) * UNITS[m.group(2)])) if m else t
    return norm(a) == norm(b)


def as_lists(value):
    """The manifest's map shorthand (`environment: {NAME: value}`) in the API's list form."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("environment", "secrets") and isinstance(v, dict):
                field = "value" if k == "environment" else "valueFrom"
                v = [{"name": n, field: x} for n, x in v.items()]
            out[k] = as_lists(v)
        return out
    if isinstance(value, list):
        return [as_lists(v) for v in value]
    return value


def implied(path, value, original):
    """Whether import leaves `value` out because it is what ECS or the placement implies."""
    if path.startswith("requiresCompatibilities"):
        return value in ("FARGATE", "EC2")  # implied by the service's launch type
    if path.endswith(".hostPort") and original.get("networkMode") in ("awsvpc", "host"):
        return True  # ECS sets hostPort = containerPort under awsvpc and host
    return DEFAULTS.get(path.rsplit(".", 1)[-1]) == value


def lost(original, imported):
    """Leaves of `original` that `imported` does not have (ECS's defaults aside)."""
    original = as_lists(original.get("taskDefinition", original))
    have = dict(leaves(as_lists(imported)))
    out = []
    for p, v in leaves(original):
        got = have.get(p)
        if got is not None and same(got, v):
            continue
        if got is None and implied(p, v, original):
            continue
        out.append(f"{p}: {v!r} -> {got!r}")
    return out


def load_imported(directory, name):
    import yaml  # PyYAML comes with moto

    for f in glob.glob(os.path.join(directory, "**", "*.yaml"), recursive=True):
        for doc in yaml.safe_load_all(open(f)):
            if doc and doc.get("kind") == "Service" and doc["metadata"]["name"] == name:
                return doc["spec"]
    return None


def check(path, backend, endpoint, subnet, work):
    td = json.load(open(path))
    name = name_of(path)
    directory = os.path.join(work, backend, name)
    wrap(td, name, os.path.join(directory, "in"), subnet if backend == "moto" else SUBNET)
    env, common = backend_env(backend, endpoint, directory)
    src = os.path.join(directory, "in")
    code, out = run(["validate", src], env)
    if code != 0:
        return "refused", out
    code, out = run(["apply", src] + common, env)
    if code != 0:
        return "apply failed", out
    code, out = run(["diff", src] + common, env)
    if code != 0:
        fields = [l.strip().split(":")[0] for l in out.splitlines()
                  if l.strip().startswith(("spec.", "metadata."))]
        if backend == "moto" and fields and all(f.startswith(MOTO_GAPS) for f in fields):
            return "moto gap", out
        return "diff not clean", out
    imported = os.path.join(directory, "imported")
    code, out = run(["import", "--cluster", "rw", "--out", imported] + common, env)
    if code != 0:
        return "import failed", out
    back = load_imported(imported, name)
    if back is None:
        return "import failed", f"no Service {name} in what import wrote"
    missing = lost(td, back.get("taskDefinition", {}))
    if missing:
        return "lost on import", "\n".join(missing)
    return "ok", ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", default=os.path.join(ROOT, "..", "shared", "realworld"))
    ap.add_argument("--backend", default="both", choices=["sim", "moto", "both"])
    ap.add_argument("--only", default="")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "--locked"], cwd=ROOT, check=True)
    files = sorted(f for f in glob.glob(os.path.join(a.dir, "taskdefs", "*.json")) if a.only in f)
    services = sorted(f for f in glob.glob(os.path.join(a.dir, "services", "*.json"))
                      if a.only in f)
    backends = ["sim", "moto"] if a.backend == "both" else [a.backend]
    work = tempfile.mkdtemp(prefix="realworld-")
    moto, endpoint, subnet = (None, None, None)
    if "moto" in backends:
        moto, endpoint = start_moto()
        subnet = moto_subnet(endpoint)
    results = {}
    try:
        for backend in backends:
            for f in files:
                results[(backend, f)] = check(f, backend, endpoint, subnet, work)
            for f in services:
                results[(backend, f)] = check_service(f, backend, endpoint, subnet, work)
    finally:
        if moto:
            moto.kill()
    bad = 0
    for (backend, f), (result, detail) in results.items():
        line = f"{backend:4} {result:15} {os.path.basename(f)}"
        print(line)
        if result != "ok" and (a.verbose or result != "refused"):
            print("     " + detail.replace("\n", "\n     ")[:3000])
        if result == "refused":
            print("     " + detail.splitlines()[0][:300] if detail else "")
        if result not in ("ok", "refused", "moto gap"):
            bad += 1
    for backend in backends:
        ok = sum(1 for (b, _), (r, _) in results.items() if b == backend and r == "ok")
        refused = sum(1 for (b, _), (r, _) in results.items() if b == backend and r == "refused")
        gaps = sum(1 for (b, _), (r, _) in results.items() if b == backend and r == "moto gap")
        print(f"{backend}: {ok} of {len(files) + len(services)} passed, {refused} refused by validation, "
              f"{gaps} differ only where moto does not report a field, "
              f"{len(files) + len(services) - ok - refused - gaps} failed")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
