//! Task-level CPU and memory sizes. ECS accepts `"1024"` or `"1 vCPU"` for CPU and `"2048"` or
//! `"2 GB"` for memory and stores the number; these types parse every accepted form into CPU units
//! and MiB so that `"1 vCPU"` and `1024` compare equal.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Task CPU in CPU units (1024 = 1 vCPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskCpu(pub u32);

/// Task memory in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskMemory(pub u32);

/// Parses `"1024"`, `"1 vCPU"`, `".25 vcpu"`, `"2vCPU"` into CPU units.
pub fn parse_cpu(s: &str) -> Option<u32> {
    let t = s.trim();
    if let Some(num) = strip_suffix_ci(t, "vcpu") {
        return scaled(num.trim(), 1024.0);
    }
    t.parse::<u32>().ok()
}

/// Parses `"2048"`, `"2 GB"`, `"0.5GB"`, `"512 MiB"`, `"2 GiB"`, `"512 MB"` into MiB.
/// ECS itself reads "GB" as GiB (`"1 GB"` is stored as `"1024"`); so do we.
pub fn parse_memory(s: &str) -> Option<u32> {
    let t = s.trim();
    for (suffix, factor) in [("gib", 1024.0), ("gb", 1024.0), ("mib", 1.0), ("mb", 1.0)] {
        if let Some(num) = strip_suffix_ci(t, suffix) {
            return scaled(num.trim(), factor);
        }
    }
    t.parse::<u32>().ok()
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let n = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(n) && s[n..].eq_ignore_ascii_case(suffix)).then(|| &s[..n])
}

fn scaled(num: &str, factor: f64) -> Option<u32> {
    let v: f64 = num.parse().ok()?;
    let out = v * factor;
    (v.is_finite() && v > 0.0 && out.fract() == 0.0 && out <= u32::MAX as f64).then_some(out as u32)
}

macro_rules! size_type {
    ($ty:ident, $parse:ident, $what:literal, $expect:literal, $example:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl Serialize for $ty {
            /// Serialized as the API stores it: a string of the number.
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expect)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$ty, E> {
                        u32::try_from(v)
                            .ok()
                            .filter(|v| *v > 0)
                            .map($ty)
                            .ok_or_else(|| E::custom(format!("{} {v} is out of range", $what)))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$ty, E> {
                        if v < 0 {
                            return Err(E::custom(format!("{} must be positive, got {v}", $what)));
                        }
                        self.visit_u64(v as u64)
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$ty, E> {
                        $parse(&v.to_string())
                            .map($ty)
                            .ok_or_else(|| E::custom(format!("{} {v} is not a whole number", $what)))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        $parse(v).filter(|v| *v > 0).map($ty).ok_or_else(|| {
                            E::custom(format!("{} {v:?} is not understood; write {}", $what, $expect))
                        })
                    }
                }
                d.deserialize_any(V)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "description": $expect,
                    "examples": [$example],
                    "oneOf": [
                        {"type": "integer", "minimum": 1},
                        {"type": "string", "pattern": "^\\s*[0-9.]+\\s*([A-Za-z]+)?\\s*$"}
                    ]
                })
            }
        }
    };
}

size_type!(
    TaskCpu,
    parse_cpu,
    "cpu",
    "CPU units such as \"1024\" or vCPUs such as \"1 vCPU\"",
    "256"
);
size_type!(
    TaskMemory,
    parse_memory,
    "memory",
    "MiB such as \"2048\" or GB such as \"2 GB\"",
    "512"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cpu_forms() {
        let cases = [
            ("256", Some(256)),
            ("1024", Some(1024)),
            ("1 vCPU", Some(1024)),
            ("0.25 vCPU", Some(256)),
            (".5 vcpu", Some(512)),
            ("2vCPU", Some(2048)),
            (" 16 VCPU ", Some(16384)),
            ("0.1 vCPU", None),
            ("one", None),
            ("-1", None),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_cpu(s), want, "{s:?}");
        }
    }

    #[test]
    fn memory_forms() {
        let cases = [
            ("512", Some(512)),
            ("2 GB", Some(2048)),
            ("2GB", Some(2048)),
            ("0.5 GB", Some(512)),
            ("1.5 gb", Some(1536)),
            ("3 GiB", Some(3072)),
            ("512 MiB", Some(512)),
            ("512 MB", Some(512)),
            ("two GB", None),
            ("0.3 GB", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_memory(s), want, "{s:?}");
        }
    }

    #[test]
    fn yaml_numbers_and_strings_agree() {
        let a: TaskCpu = serde_yaml::from_str("1024").unwrap();
        let b: TaskCpu = serde_yaml::from_str("\"1 vCPU\"").unwrap();
        assert_eq!(a, b);
        let e = serde_yaml::from_str::<TaskMemory>("\"lots\"").unwrap_err();
        assert!(e.to_string().contains("not understood"), "{e}");
        assert_eq!(
            serde_json::to_string(&TaskMemory(2048)).unwrap(),
            "\"2048\""
        );
    }

    proptest! {
        #[test]
        fn whole_vcpus_are_1024_units(n in 1u32..64) {
            prop_assert_eq!(parse_cpu(&format!("{n} vCPU")), Some(n * 1024));
            prop_assert_eq!(parse_cpu(&(n * 1024).to_string()), Some(n * 1024));
        }

        #[test]
        fn gigabytes_are_1024_mib(n in 1u32..512) {
            prop_assert_eq!(parse_memory(&format!("{n} GB")), Some(n * 1024));
        }
    }
}
