#!/usr/bin/env python3
"""Generates the manifest types of the AWS API shapes and their AWS SDK conversions.

    python3 codegen/shapes.py          # writes the two generated files
    python3 codegen/shapes.py --check  # fails when they differ from what it would write

Inputs: botocore's JSON model of each service (the version pinned in codegen/shapes.json, which
scripts/test.sh installs), the AWS SDK for Rust sources in Cargo.lock's versions (read from
cargo's registry, to learn each SDK type's Rust name, field names and which fields the SDK
requires), and codegen/shapes.json (the roots, and where the manifest differs from the API).

Outputs:
- src/manifest/generated.rs: one struct per API structure reachable from a root, one enum per
  API enum, with AWS's JSON member names, serde and JSON Schema derives and the model's
  documentation. `null` is accepted for every member that is not required.
- src/cloud/aws/generated.rs: `ToSdk` and `FromSdk` (src/cloud/aws/shape_conv.rs) for each of
  them, so a manifest value becomes the SDK's request value and a described value comes back
  as the manifest's, member by member, with nothing dropped.
- tests/fixtures/every-member/<Shape>.json: a value of each structure root with every member at
  every depth set, for the tests that check each member survives every conversion.
"""

import gzip
import html
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONF = json.load(open(os.path.join(ROOT, "codegen", "shapes.json")))
SDK_CRATES = {"ecs": "aws-sdk-ecs", "elbv2": "aws-sdk-elasticloadbalancingv2"}
SDK_PATHS = {"ecs": "aws_sdk_ecs", "elbv2": "aws_sdk_elasticloadbalancingv2"}
MODEL_DIRS = {"ecs": "ecs/2014-11-13", "elbv2": "elbv2/2015-12-01"}
MANIFEST_OUT = os.path.join(ROOT, "src", "manifest", "generated.rs")
CONV_OUT = os.path.join(ROOT, "src", "cloud", "aws", "generated.rs")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "every-member")


def botocore_model(service):
    import botocore

    have = botocore.__version__
    if have != CONF["botocore"]:
        sys.exit(f"botocore {CONF['botocore']} is pinned, {have} is installed: "
                 f"pip install botocore=={CONF['botocore']}")
    path = os.path.join(os.path.dirname(botocore.__file__), "data", MODEL_DIRS[service],
                        "service-2.json.gz")
    return json.load(gzip.open(path))["shapes"]


def lower(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def cargo_lock_version(crate):
    lock = open(os.path.join(ROOT, "Cargo.lock")).read()
    m = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(crate), lock)
    return m.group(1)


def sdk_source(service):
    crate = SDK_CRATES[service]
    version = cargo_lock_version(crate)
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    reg = os.path.join(home, "registry", "src")
    for index in sorted(os.listdir(reg)):
        path = os.path.join(reg, index, f"{crate}-{version}")
        if os.path.isdir(path):
            return path
    subprocess.run(["cargo", "fetch", "--locked"], cwd=ROOT, check=True)
    return sdk_source(service)


FIELD = re.compile(r"^    pub (r#)?(\w+): (.+),$")


def sdk_types(service):
    """SDK struct and enum names by lower(name), with each struct's fields and build()."""
    types_dir = os.path.join(sdk_source(service), "src", "types")
    out = {}
    for fname in os.listdir(types_dir):
        if not fname.startswith("_"):
            continue
        text = open(os.path.join(types_dir, fname)).read()
        for m in re.finditer(r"^pub (struct|enum) (\w+) \{\n(.*?)^\}", text, re.M | re.S):
            kind, name, body = m.groups()
            if name.endswith("Builder"):
                continue
            fields = {}
            if kind == "struct":
                for line in body.splitlines():
                    f = FIELD.match(line)
                    if f:
                        fields[lower(f.group(2))] = (f.group(2), f.group(3), bool(f.group(1)))
            fallible = re.search(r"pub fn build\(\s*self,?\s*\)\s*->\s*::std::result::Result<", text) is not None
            out[lower(name)] = {"name": name, "kind": kind, "fields": fields, "fallible": fallible}
    return out


def input_fields(service, builder_path):
    """The fields of an operation input (all optional in the SDK), by lower(name)."""
    parts = builder_path.split("::")
    op_dir = os.path.join(sdk_source(service), "src", "operation", parts[2])
    text = open(os.path.join(op_dir, f"_{parts[2]}_input.rs")).read()
    fields = {}
    for line in text.splitlines():
        f = FIELD.match(line)
        if f:
            fields[lower(f.group(2))] = (f.group(2), f.group(3), bool(f.group(1)))
    return fields


def snake(name):
    if name in CONF["field_names"]:
        return CONF["field_names"][name]
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def variant(value):
    if value in CONF["variant_names"]:
        return CONF["variant_names"][value]
    parts = re.split(r"[^A-Za-z0-9]+", value)
    out = []
    for p in parts:
        if not p:
            continue
        for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[0-9]+", p):
            out.append(w[0].upper() + w[1:].lower())
    name = "".join(out)
    return name if not name[0].isdigit() else "V" + name


def doc(text, limit=400):
    """The first sentences of the model's HTML documentation, as plain text."""
    if not text:
        return ""
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text)
    text = re.sub(r"\s+", " ", text).strip()
    out = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if out and len(out) + len(sentence) > limit:
            break
        out = (out + " " + sentence).strip()
    if len(out) > limit + 200:
        out = out[:limit].rsplit(" ", 1)[0] + " ..."
    return out.replace("[", "\\[").replace("]", "\\]").replace("<", "&lt;").replace(">", "&gt;")


def doc_lines(text, indent):
    text = text or "(No description in the AWS model.)"
    words, lines, line = text.split(" "), [], ""
    width = 96 - len(indent) - 4
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = (line + " " + w).strip()
    if line:
        lines.append(line)
    return "".join(f"{indent}/// {l}\n" for l in lines)


class Gen:
    def __init__(self):
        self.structs = {}  # botocore name -> info
        self.enums = {}
        self.order = []
        self.models = {}
        self.sdk = {}

    def model(self, service):
        if service not in self.models:
            self.models[service] = botocore_model(service)
            self.sdk[service] = sdk_types(service)
        return self.models[service]

    def rust_name(self, shape, root=None):
        if root and shape == root["shape"]:
            return root["rust"]
        return CONF["rust_names"].get(shape, shape)

    def visit(self, service, shape, root):
        shapes = self.model(service)
        key = (service, shape)
        if shape in CONF["external_shapes"] or key in self.structs or key in self.enums:
            return
        s = shapes[shape]
        if s["type"] == "structure" and s.get("document"):
            return  # free-form JSON: serde_json::Value
        if s["type"] == "structure":
            self.structs[key] = None
            self.order.append(key)
            members = []
            required = set(s.get("required", []))
            for mname, m in s["members"].items():
                path = f"{shape}.{mname}"
                if path in CONF["excluded"]:
                    continue
                self.visit(service, m["shape"], root)
                req = (mname in required and path not in CONF["manifest_optional"]) or \
                    path in CONF["manifest_required"]
                members.append({"name": mname, "shape": m["shape"], "required": req,
                                "doc": doc(m.get("documentation")), "path": path})
            self.structs[key] = {"service": service, "shape": shape, "members": members,
                                 "rust": self.rust_name(shape, root),
                                 "root": root if shape == root["shape"] and "input_builder" in root else None,
                                 "doc": (root.get("doc") if shape == root["shape"] else None) or doc(s.get("documentation"))}
        elif s["type"] == "list":
            self.visit(service, s["member"]["shape"], root)
        elif s["type"] == "map":
            self.visit(service, s["value"]["shape"], root)
        elif s["type"] == "string" and "enum" in s:
            self.enums[key] = {"service": service, "shape": shape, "values": s["enum"],
                               "rust": self.rust_name(shape), "doc": doc(s.get("documentation"))}
            self.order.append(key)

    # -- types ----------------------------------------------------------------------------

    def leaf(self, service, shape):
        """(rust type, has float) of a shape used as a value."""
        if shape in CONF["external_shapes"]:
            return CONF["external_shapes"][shape], False
        s = self.models[service][shape]
        t = s["type"]
        if t == "structure" and s.get("document"):
            return "serde_json::Value", False
        if t == "structure":
            return self.structs[(service, shape)]["rust"], self.has_float(service, shape)
        if t == "string":
            if "enum" in s:
                return self.enums[(service, shape)]["rust"], False
            return "String", False
        if t == "integer":
            return "u32", False
        if t == "long":
            return "i64", False
        if t == "double" or t == "float":
            return "f64", True
        if t == "boolean":
            return "bool", False
        if t == "list":
            inner, f = self.leaf(service, s["member"]["shape"])
            return f"Vec<{inner}>", f
        if t == "map":
            vs = self.models[service][s["value"]["shape"]]
            if vs["type"] == "string" and "enum" not in vs:
                return "crate::manifest::shorthand::StringMap", False
            inner, f = self.leaf(service, s["value"]["shape"])
            return f"std::collections::BTreeMap<String, {inner}>", f
        raise SystemExit(f"{shape}: type {t} is not handled")

    def has_float(self, service, shape, seen=None):
        seen = seen or set()
        if shape in seen:
            return False
        seen.add(shape)
        s = self.models[service][shape]
        t = s["type"]
        if t in ("double", "float"):
            return True
        if t == "structure":
            return any(self.has_float(service, m["shape"], seen)
                       for n, m in s["members"].items() if f"{shape}.{n}" not in CONF["excluded"])
        if t == "list":
            return self.has_float(service, s["member"]["shape"], seen)
        if t == "map":
            return self.has_float(service, s["value"]["shape"], seen)
        return False

    def has_document(self, service, shape, seen=None):
        seen = seen or set()
        if shape in seen:
            return False
        seen.add(shape)
        s = self.models[service][shape]
        t = s["type"]
        if t == "structure" and s.get("document"):
            return True
        if t == "structure":
            return any(self.has_document(service, m["shape"], seen)
                       for n, m in s["members"].items() if f"{shape}.{n}" not in CONF["excluded"])
        if t == "list":
            return self.has_document(service, s["member"]["shape"], seen)
        if t == "map":
            return self.has_document(service, s["value"]["shape"], seen)
        return False

    def member_type(self, service, member):
        """(rust type of the field, form, has float). Forms: opt, req, vec, pairs."""
        override = CONF["member_types"].get(member["path"])
        shape = self.models[service][member["shape"]]
        if override:
            if override.startswith("pairs:"):
                return override[6:], "pairs", False
            base, f = override, False
        else:
            base, f = self.leaf(service, member["shape"])
        if shape["type"] in ("list", "map") and not override:
            return base, "vec", f
        if member["required"]:
            return base, "req", f
        return f"Option<{base}>", "opt", f

    def default_ok(self, service, struct):
        for m in struct["members"]:
            if not m["required"]:
                continue
            t, form, _ = self.member_type(service, m)
            if form in ("vec", "pairs"):
                continue
            s = self.models[service][m["shape"]]
            if s["type"] == "string" and "enum" in s and m["path"] not in CONF["member_types"]:
                return False
            if s["type"] == "structure" and not s.get("document"):
                inner = self.structs.get((service, m["shape"]))
                if inner is None or not self.default_ok(service, inner):
                    return False
        return True

    def emit_types(self):
        out = [HEADER_TYPES]
        for key in self.order:
            if key in self.enums:
                out.append(self.emit_enum(self.enums[key]))
            else:
                out.append(self.emit_struct(self.structs[key]))
        return "".join(out)

    def emit_enum(self, e):
        name = e["rust"]
        variants = [(v, variant(v)) for v in e["values"]]
        s = doc_lines(e["doc"] or f"A value of the AWS enum `{e['shape']}`.", "")
        s += "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]\n"
        s += f"pub enum {name} {{\n"
        for value, v in variants:
            s += f"    /// `{value}`.\n    #[serde(rename = \"{value}\")]\n    {v},\n"
        s += "}\n\n"
        s += f"impl {name} {{\n"
        s += "    /// Every value, in the AWS model's order.\n"
        s += f"    pub const ALL: &[{name}] = &[{', '.join(f'{name}::{v}' for _, v in variants)}];\n\n"
        s += "    /// The value as AWS writes it.\n"
        s += "    pub const fn as_str(self) -> &'static str {\n        match self {\n"
        for value, v in variants:
            s += f"            {name}::{v} => \"{value}\",\n"
        s += "        }\n    }\n\n"
        s += "    /// The value AWS wrote, if this model knows it.\n"
        s += "    pub fn from_aws(s: &str) -> Option<Self> {\n"
        s += "        Self::ALL.iter().copied().find(|v| v.as_str() == s)\n    }\n}\n\n"
        return s

    def emit_struct(self, st):
        service = st["service"]
        floats = self.has_float(service, st["shape"])
        derives = ["Debug", "Clone", "PartialEq"]
        if not floats:
            derives.append("Eq")
        if not floats and not self.has_document(service, st["shape"]):
            derives += ["Hash", "PartialOrd", "Ord"]
        if self.default_ok(service, st):
            derives.append("Default")
        derives += ["Serialize", "Deserialize", "JsonSchema"]
        s = doc_lines(st["doc"] or f"The AWS structure `{st['shape']}`.", "")
        s += f"#[derive({', '.join(derives)})]\n#[schemars(deny_unknown_fields)]\n"
        s += f"pub struct {st['rust']} {{\n"
        for m in st["members"]:
            t, form, _ = self.member_type(service, m)
            field = snake(m["name"])
            s += doc_lines(m["doc"], "    ")
            attrs = [f'rename = "{m["name"]}"']
            schema = None
            if form == "opt":
                attrs = ["default", 'skip_serializing_if = "Option::is_none"'] + attrs
            elif form in ("vec", "pairs"):
                if not m["required"]:
                    attrs = ["default", "deserialize_with = \"crate::manifest::null::or_default\""] + attrs
                    schema = f"Option<{t}>"
                    empty = "crate::manifest::null::is_empty"
                    attrs.insert(0, f'skip_serializing_if = "{empty}"')
            s += f"    #[serde({', '.join(attrs)})]\n"
            if schema:
                s += f"    #[schemars(with = \"{schema}\")]\n"
            s += f"    pub {field}: {t},\n"
        for extra in CONF.get("extra_members", {}).get(st["shape"], []):
            s += doc_lines(extra["doc"], "    ")
            if extra.get("skip"):  # set by the manifest's own code, never read or written
                s += "    #[serde(skip)]\n    #[schemars(skip)]\n"
            else:
                s += f"    #[serde(default, skip_serializing_if = \"Option::is_none\", rename = \"{extra['name']}\")]\n"
            s += f"    pub {snake(extra['name'])}: {extra['rust']},\n"
        s += "}\n\n"
        return s

    # -- conversions ------------------------------------------------------------------------

    def sdk_type(self, service, shape):
        t = self.sdk[service].get(lower(shape))
        if t is None:
            raise SystemExit(f"{shape}: no such type in {SDK_CRATES[service]}")
        return f"{SDK_PATHS[service]}::types::{t['name']}", t

    def emit_conv(self):
        out = [HEADER_CONV]
        for key in self.order:
            if key in self.enums:
                e = self.enums[key]
                sdk, _ = self.sdk_type(e["service"], e["shape"])
                out.append(f"enum_conv!(m::{e['rust']}, {sdk});\n")
        out.append("\n")
        for key in self.order:
            if key in self.structs:
                out.append(self.emit_struct_conv(self.structs[key]))
        return "".join(out)

    def emit_struct_conv(self, st):
        service = st["service"]
        root = st["root"]
        name = st["rust"]
        s = ""
        if root:
            builder = root["input_builder"]
            fields = input_fields(service, builder)
            s += f"/// Sets every member of `v` on a {root['shape'][:-7]} request (but those the caller sets).\n"
            s += f"pub(super) fn {snake(root['shape'][:-7])}_input(v: &m::{name}, b: {builder}, skip: &[&str]) -> Conv<{builder}> {{\n"
            s += "    let mut b = b;\n"
            for mem in st["members"]:
                f = fields.get(lower(mem["name"]))
                if f is None:
                    raise SystemExit(f"{mem['path']}: no field in {builder}")
                _, form, _ = self.member_type(service, mem)
                s += f"    if !skip.contains(&\"{mem['name']}\") {{\n"
                s += f"        b = b.set_{f[0]}({self.to_expr(form, 'v.' + snake(mem['name']), mem['path'])}?);\n    }}\n"
            s += "    Ok(b)\n}\n\n"
            out_shape = root["output_shape"]
            sdk, t = self.sdk_type(service, out_shape)
            s += f"/// The members of a described `{out_shape}` that its {root['shape'][:-7]} request has.\n"
            s += f"pub(super) fn {snake(root['shape'][:-7])}_from_sdk(s: &{sdk}) -> Conv<m::{name}> {{\n"
            s += f"    Ok(m::{name} {{\n"
            for mem in st["members"]:
                f = t["fields"].get(lower(mem["name"]))
                field = snake(mem["name"])
                _, form, _ = self.member_type(service, mem)
                if f is None:
                    s += f"        {field}: Default::default(), // not in the described {out_shape}\n"
                else:
                    s += f"        {field}: {self.from_expr(form, f, mem['path'])},\n"
            for extra in CONF.get("extra_members", {}).get(st["shape"], []):
                s += f"        {snake(extra['name'])}: None, // the manifest's own, never described\n"
            s += "    })\n}\n\n"
            return s
        sdk, t = self.sdk_type(service, st["shape"])
        s += f"impl ToSdk for m::{name} {{\n    type Sdk = {sdk};\n"
        s += "    fn to_sdk(&self) -> Conv<Self::Sdk> {\n"
        s += f"        let b = {sdk}::builder()"
        for mem in st["members"]:
            f = t["fields"].get(lower(mem["name"]))
            if f is None:
                raise SystemExit(f"{mem['path']}: no field in {sdk}")
            _, form, _ = self.member_type(service, mem)
            s += f"\n            .set_{f[0]}({self.to_expr(form, 'self.' + snake(mem['name']), mem['path'])}?)"
        s += ";\n"
        if t["fallible"]:
            s += "        b.build().map_err(built)\n"
        else:
            s += "        Ok(b.build())\n"
        s += "    }\n}\n\n"
        s += f"impl FromSdk<{sdk}> for m::{name} {{\n"
        s += f"    fn from_sdk(s: &{sdk}) -> Conv<Self> {{\n        Ok(Self {{\n"
        for mem in st["members"]:
            f = t["fields"][lower(mem["name"])]
            _, form, _ = self.member_type(service, mem)
            s += f"            {snake(mem['name'])}: {self.from_expr(form, f, mem['path'])},\n"
        for extra in CONF.get("extra_members", {}).get(st["shape"], []):
            s += f"            {snake(extra['name'])}: None, // the manifest's own, never described\n"
        s += "        })\n    }\n}\n\n"
        return s

    def to_expr(self, form, value, path):
        if form == "opt":
            return f"opt(&{value}, \"{path}\")"
        if form == "req":
            return f"req(&{value}, \"{path}\")"
        return f"coll(&{value}, \"{path}\")"

    def from_expr(self, form, sdk_field, path):
        fname, ftype, raw = sdk_field
        acc = f"s.{'r#' if raw else ''}{fname}"
        sdk_opt = ftype.startswith("::std::option::Option<")
        if form == "opt":
            return f"{'o' if sdk_opt else 'ro'}(&{acc}, \"{path}\")?"
        if form == "req":
            return f"{'or' if sdk_opt else 'r'}(&{acc}, \"{path}\")?"
        return f"{'ov' if sdk_opt else 'r'}(&{acc}, \"{path}\")?"


FIXTURE_VALUES = {
    "RegisterTaskDefinitionRequest.cpu": "1024",
    "RegisterTaskDefinitionRequest.memory": "2048",
}


def fixture(g, service, shape, path=None, depth=0):
    """A value of `shape` with every member set (enums: their first value), for the tests that
    check each member survives every conversion."""
    if path in FIXTURE_VALUES:
        return FIXTURE_VALUES[path]
    s = g.models[service][shape]
    t = s["type"]
    if t == "structure" and s.get("document"):
        return {"key1": "value1"}
    if t == "structure":
        out = {}
        for i, (name, m) in enumerate(s["members"].items()):
            p = f"{shape}.{name}"
            if p in CONF["excluded"]:
                continue
            out[name] = fixture(g, service, m["shape"], p, depth + 1)
        return out
    if t == "list":
        return [fixture(g, service, s["member"]["shape"], path, depth + 1)]
    if t == "map":
        return {"key1": fixture(g, service, s["value"]["shape"], path, depth + 1)}
    if t == "string":
        if "enum" in s:
            return s["enum"][0]
        return (path or shape).split(".")[-1] + "-value"
    if t in ("integer", "long"):
        return 1 + (sum(map(ord, path or shape)) % 90)
    if t in ("double", "float"):
        return 0.5
    if t == "boolean":
        return True
    raise SystemExit(f"{shape}: no fixture for type {t}")


HEADER_TYPES = '''//! GENERATED by codegen/shapes.py from the AWS API model (botocore, version pinned in
//! codegen/shapes.json): do not edit; change the generator or its configuration and run
//! `python3 codegen/shapes.py`. (Long: one struct per API structure, one enum per API enum.)
//!
//! The AWS API shapes a manifest writes, member for member, with AWS's JSON names, so JSON from
//! the AWS console, the CLI or the API can be pasted in. A member that is not required may be
//! left out or written `null`. Where the manifest accepts more than the API (cpu `"1 vCPU"`,
//! environment as a map) codegen/shapes.json names the hand-written type used instead.

#![allow(clippy::doc_markdown, clippy::doc_lazy_continuation, clippy::large_enum_variant)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

'''

HEADER_CONV = '''//! GENERATED by codegen/shapes.py from the AWS API model and the AWS SDK for Rust sources:
//! do not edit; run `python3 codegen/shapes.py`. (Long: two conversions per API shape.)
//!
//! Every member of the manifest's AWS shapes ([`crate::manifest::generated`]) to the SDK's
//! request types and back, through [`super::shape_conv`]'s `ToSdk` and `FromSdk`.

#![allow(clippy::needless_question_mark, deprecated)]

use super::shape_conv::*;
use crate::manifest::generated as m;

'''


def rustfmt(text):
    """The text as `cargo fmt` leaves it, so --check compares like with like."""
    return subprocess.run(["rustfmt", "--edition", "2024"], input=text, capture_output=True,
                          text=True, check=True, cwd=ROOT).stdout


def main():
    g = Gen()
    for root in CONF["roots"]:
        g.visit(root["service"], root["shape"], root)
    outputs = {MANIFEST_OUT: rustfmt(g.emit_types()), CONV_OUT: rustfmt(g.emit_conv())}
    for root in CONF["roots"]:
        if g.models[root["service"]][root["shape"]]["type"] != "structure":
            continue
        path = os.path.join(FIXTURES, root["shape"] + ".json")
        outputs[path] = json.dumps(fixture(g, root["service"], root["shape"]), indent=2) + "\n"
    check = "--check" in sys.argv
    stale = []
    for path, text in outputs.items():
        if check:
            if not os.path.exists(path) or open(path).read() != text:
                stale.append(os.path.relpath(path, ROOT))
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").write(text)
    if stale:
        sys.exit("out of date (run python3 codegen/shapes.py, then cargo fmt): " + ", ".join(stale))


if __name__ == "__main__":
    main()
