//! `ecs-operator healthcheck`, the real binary, against a small HTTP server on loopback that
//! this test runs: exit 0 on 2xx, 1 on anything else, with one line saying why.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use ecs_operator::cli::healthcheck::{ProbeError, probe};

/// Serves one request with `status`; sends back the request line it got.
fn serve_once(status: &str) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/healthz", listener.local_addr().unwrap());
    let status = status.to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
            line.clear();
        }
        let mut stream = reader.into_inner();
        write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        )
        .unwrap();
        let _ = tx.send(request_line.trim_end().to_string());
    });
    (url, rx)
}

fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecs-operator"));
    c.env_remove("ECS_OPERATOR_HEALTHCHECK_URL")
        .arg("healthcheck")
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("ecs-operator runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout:?}");
    (out.status.code().unwrap_or(-1), stdout)
}

#[test]
fn a_200_from_healthz_exits_0() {
    let (url, requests) = serve_once("200 OK");
    let (code, out) = healthcheck(&["--url", &url], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("healthy: HTTP 200"), "{out}");
    assert_eq!(requests.recv().unwrap(), "GET /healthz HTTP/1.1");
}

#[test]
fn the_url_can_come_from_the_environment() {
    let (url, _requests) = serve_once("204 No Content");
    let (code, out) = healthcheck(&[], &[("ECS_OPERATOR_HEALTHCHECK_URL", &url)]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_503_exits_1_naming_the_status() {
    let (url, _requests) = serve_once("503 Service Unavailable");
    let (code, out) = healthcheck(&["--url", &url], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("unhealthy") && out.contains("HTTP 503"),
        "{out}"
    );
}

#[test]
fn nothing_listening_exits_1_saying_it_cannot_connect() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is dropped: the port is closed.
    let url = format!("http://127.0.0.1:{port}/healthz");
    let (code, out) = healthcheck(&["--url", &url], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("connect error"), "{out}");
}

#[test]
fn a_url_that_is_not_plain_http_exits_1() {
    let (code, out) = healthcheck(&["--url", "https://127.0.0.1:9090/healthz"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not an http:// URL"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_times_out() {
    // Accepts (the kernel does, from the backlog) but never reads or writes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/healthz", listener.local_addr().unwrap());
    let e = probe(&url, Duration::from_secs(3)).await.unwrap_err();
    assert!(matches!(e, ProbeError::Timeout(_)), "{e}");
    assert_eq!(e.to_string(), "no answer within 3s");
    drop(listener);
}
