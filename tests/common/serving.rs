//! Reading where a started `ecs-operator run` serves: its first stdout line is
//! `ecs-operator: serving ... on http://HOST:PORT`.

use std::io::{BufRead, BufReader};
use std::process::Child;

/// The base URL (`http://127.0.0.1:PORT`) from the first line `run` prints; the child's stdout
/// must be piped.
pub fn serving_url(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout piped"))
        .read_line(&mut line)
        .expect("run prints where it serves");
    line.split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string()
}
