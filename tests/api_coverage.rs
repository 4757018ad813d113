//! Every member of the AWS API shapes a manifest writes, at every depth, is accepted by the
//! manifest (its JSON Schema has the property), except the short list in codegen/shapes.json's
//! `not_accepted`, each with its reason (and those it writes elsewhere, `aliases`). The AWS model is botocore's JSON at the version
//! codegen/shapes.json pins (scripts/test.sh installs it, as it installs moto): without it this
//! test fails, it never skips.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

fn config() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/codegen/shapes.json"))
        .expect("codegen/shapes.json");
    serde_json::from_str(&text).expect("shapes.json is JSON")
}

/// botocore's model of `service` (`ecs`, `elbv2`), read by the python that has it installed.
fn model(service: &str, version: &str) -> Value {
    let dir = match service {
        "ecs" => "ecs/2014-11-13",
        "elbv2" => "elbv2/2015-12-01",
        other => panic!("no model directory for {other}"),
    };
    let script = format!(
        "import botocore, gzip, os, sys\n\
         assert botocore.__version__ == '{version}', 'botocore ' + botocore.__version__ + ' is installed, {version} is pinned'\n\
         p = os.path.join(os.path.dirname(botocore.__file__), 'data', '{dir}', 'service-2.json.gz')\n\
         sys.stdout.write(gzip.open(p).read().decode())"
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the AWS model is needed: pip install botocore=={version} (scripts/test.sh does it)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model: Value = serde_json::from_slice(&out.stdout).expect("the model is JSON");
    model["shapes"].clone()
}

struct Walk<'a> {
    schema: &'a Value,
    shapes: &'a Value,
    not_accepted: &'a serde_json::Map<String, Value>,
    aliases: &'a serde_json::Map<String, Value>,
    missing: Vec<String>,
    members: usize,
    listed: usize,
    seen: Vec<String>,
}

/// A schema node with `$ref`s followed, a condition reduced to its `else`, and a nullable
/// `anyOf`/`oneOf` reduced to its non-null branch (the first that has `want` when several do).
fn resolve<'s>(schema: &'s Value, mut node: &'s Value, want: &str) -> &'s Value {
    {
        loop {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                let name = r.rsplit('/').next().expect("a ref names a definition");
                node = &schema["definitions"][name];
                continue;
            }
            // `if: {type: string}, then: ..., else: <the definition>` (a value that may
            // also be a name): the object is in `else`.
            if let Some(otherwise) = node.get("else") {
                node = otherwise;
                continue;
            }
            if let Some([only]) = node
                .get("allOf")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
            {
                node = only;
                continue;
            }
            let branches = node
                .get("anyOf")
                .or_else(|| node.get("oneOf"))
                .and_then(Value::as_array);
            if let Some(branches) = branches {
                let pick = branches
                    .iter()
                    .map(|b| resolve(schema, b, want))
                    .find(|b| b.get(want).is_some())
                    .or_else(|| {
                        branches
                            .iter()
                            .find(|b| b.get("type") != Some(&"null".into()))
                    });
                match pick {
                    Some(p) if !std::ptr::eq(p, node) => {
                        node = p;
                        continue;
                    }
                    _ => {}
                }
            }
            return node;
        }
    }
}

impl<'a> Walk<'a> {
    fn shape(&mut self, name: &str, node: &'a Value, path: &str) {
        let schema = self.schema;
        let shape = &self.shapes[name];
        match shape["type"].as_str() {
            Some("structure") => {
                if self.seen.iter().filter(|s| *s == name).count() > 1 {
                    return; // recursive shapes: twice deep is enough
                }
                self.seen.push(name.to_string());
                let node = resolve(schema, node, "properties");
                let members = shape["members"].as_object().expect("members");
                for (member, m) in members {
                    let key = format!("{name}.{member}");
                    self.members += 1;
                    if self.not_accepted.contains_key(&key) {
                        self.listed += 1;
                        continue;
                    }
                    if let Some(alias) = self.aliases.get(&key).and_then(Value::as_str) {
                        // Written elsewhere in the manifest (`healthCheck.path` for ELBv2's
                        // flat HealthCheckPath): the aliased property must exist.
                        let mut at = node;
                        for part in alias.split('.') {
                            at = resolve(schema, &at["properties"][part], "properties");
                        }
                        if at.is_null() {
                            self.missing.push(format!("{key} (as {alias}, at {path})"));
                        }
                        continue;
                    }
                    // ELBv2 spells members PascalCase; the manifest camelCase, as ECS does.
                    let camel = format!("{}{}", member[..1].to_lowercase(), &member[1..]);
                    let props = node.get("properties");
                    let prop = props.and_then(|p| p.get(member).or_else(|| p.get(&camel)));
                    match prop {
                        Some(prop) => {
                            let inner = m["shape"].as_str().expect("member shape").to_string();
                            self.shape(&inner, prop, &format!("{path}.{member}"));
                        }
                        None => self.missing.push(format!("{key} (at {path})")),
                    }
                }
                self.seen.pop();
            }
            Some("list") => {
                let node = resolve(schema, node, "items");
                let inner = shape["member"]["shape"].as_str().expect("list member");
                if let Some(items) = node.get("items") {
                    self.shape(inner, items, &format!("{path}[]"));
                } else if self.shapes[inner]["type"] == "structure" {
                    self.missing
                        .push(format!("{name} (at {path}): not a list in the schema"));
                }
            }
            Some("map") => {
                let node = resolve(schema, node, "additionalProperties");
                let inner = shape["value"]["shape"].as_str().expect("map value");
                if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
                    self.shape(inner, values, &format!("{path}{{}}"));
                }
            }
            _ => {}
        }
    }
}

#[test]
fn every_member_of_the_aws_shapes_is_accepted_but_the_listed_ones() {
    let config = config();
    let version = config["botocore"].as_str().expect("botocore pin");
    let schema = ecs_operator::manifest::schema::manifest_schema();
    let not_accepted = config["not_accepted"].as_object().expect("not_accepted");
    let aliases = config["aliases"].as_object().expect("aliases");
    let mut models = BTreeMap::new();
    let mut report = Vec::new();
    let mut missing_all = Vec::new();
    for root in config["coverage"].as_array().expect("coverage roots") {
        let service = root["service"].as_str().expect("service");
        let shapes = models
            .entry(service.to_string())
            .or_insert_with(|| model(service, version))
            .clone();
        let kind = root["kind"].as_str().expect("kind");
        let branches = schema
            .get("oneOf")
            .or_else(|| schema.get("anyOf"))
            .and_then(Value::as_array)
            .expect("one branch per kind");
        let mut walk = Walk {
            schema,
            shapes: &shapes,
            not_accepted,
            aliases,
            missing: Vec::new(),
            members: 0,
            listed: 0,
            seen: Vec::new(),
        };
        let doc = branches
            .iter()
            .map(|b| resolve(schema, b, "properties"))
            .find(|b| b["properties"]["kind"].to_string().contains(kind))
            .unwrap_or_else(|| panic!("no {kind} in the schema"));
        let mut node = resolve(schema, &doc["properties"]["spec"], "properties");
        let mut at = format!("{kind}.spec");
        for key in root["path"].as_array().expect("path") {
            let key = key.as_str().expect("key");
            node = resolve(schema, &node["properties"][key], "properties");
            at.push('.');
            at.push_str(key);
        }
        let shape = root["shape"].as_str().expect("shape");
        walk.shape(shape, node, &at);
        report.push(format!(
            "{shape}: {} of {} members accepted ({} listed as not accepted)",
            walk.members - walk.missing.len() - walk.listed,
            walk.members,
            walk.listed
        ));
        missing_all.extend(walk.missing);
    }
    println!("{}", report.join("\n"));
    assert!(
        missing_all.is_empty(),
        "{}\n{} members of the AWS API are not accepted by the manifest (add them, or list \
         them in codegen/shapes.json `not_accepted` with a reason):\n{}",
        report.join("\n"),
        missing_all.len(),
        missing_all.join("\n")
    );
}
