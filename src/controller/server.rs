//! The controller's HTTP endpoints (axum): `/` (the status page for people), `/healthz` (the loop is alive), `/readyz` (first
//! load and first full sync done), `/status` (per-resource status as JSON), `/metrics`
//! (Prometheus text format) and `POST /hooks/git` (a GitHub-style push webhook that triggers
//! an immediate fetch; a wrong `X-Hub-Signature-256` gets 401 and nothing else). Connections
//! are served within [`HttpLimits`] (timeouts, a cap, keep-alive limits).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Notify;
use tokio::time::Instant;

pub use super::connections::HttpLimits;
use crate::status::StatusBoard;

/// The loop's heartbeat: `/healthz` fails when it is older than the allowed age.
#[derive(Debug, Clone)]
pub struct Liveness {
    origin: Instant,
    last_beat_ms: Arc<AtomicU64>,
    max_age: Duration,
}

impl Liveness {
    /// A heartbeat that counts as dead after `max_age` without a beat.
    pub fn new(max_age: Duration) -> Liveness {
        Liveness {
            origin: Instant::now(),
            last_beat_ms: Arc::new(AtomicU64::new(0)),
            max_age,
        }
    }

    /// The loop is alive now.
    pub fn beat(&self) {
        let ms = self.origin.elapsed().as_millis() as u64;
        self.last_beat_ms.store(ms, Ordering::Relaxed);
    }

    /// True when the last beat is recent enough.
    pub fn is_alive(&self) -> bool {
        let now = self.origin.elapsed().as_millis() as u64;
        let last = self.last_beat_ms.load(Ordering::Relaxed);
        now.saturating_sub(last) <= self.max_age.as_millis() as u64
    }
}

/// Checks a webhook body against its signature header: `(secret, body, header) -> valid`.
pub type Verify = fn(&[u8], &[u8], Option<&str>) -> bool;

/// The git push webhook: a valid delivery wakes the git source.
#[derive(Clone)]
pub struct Webhook {
    /// The shared secret (never logged).
    pub secret: Arc<[u8]>,
    /// Woken on a valid delivery.
    pub trigger: Arc<Notify>,
    /// The signature check.
    pub verify: Verify,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Renders `/metrics`.
pub type MetricsText = Arc<dyn Fn() -> String + Send + Sync>;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Per-resource status.
    pub status: StatusBoard,
    /// The loop's heartbeat.
    pub liveness: Liveness,
    /// The git webhook, when a git source with a secret is configured.
    pub webhook: Option<Webhook>,
    /// The metrics text, when metrics are on.
    pub metrics: Option<MetricsText>,
}

/// The router of every endpoint.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .route("/hooks/git", post(git_hook))
        .with_state(state)
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes (the
/// connection handling is `controller::connections`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    super::connections::serve(listener, router, limits, shutdown).await
}

async fn page(State(state): State<AppState>) -> Response {
    axum::response::Html(crate::page::render(
        &state.status.report(),
        state.status.now(),
    ))
    .into_response()
}

async fn healthz(State(state): State<AppState>) -> Response {
    if state.liveness.is_alive() {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the control loop is stuck\n",
        )
            .into_response()
    }
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.status.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the first load and full sync are not done\n",
        )
            .into_response()
    }
}

async fn status(State(state): State<AppState>) -> Response {
    axum::Json(state.status.report()).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(render) => (
            [(
                header::CONTENT_TYPE,
                crate::metrics::Metrics::content_type(),
            )],
            render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are off\n").into_response(),
    }
}

async fn git_hook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(hook) = &state.webhook else {
        return (StatusCode::NOT_FOUND, "no git webhook is configured\n").into_response();
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !(hook.verify)(&hook.secret, &body, signature) {
        tracing::warn!("git webhook: bad signature, ignored");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    tracing::info!("git webhook: fetch requested");
    hook.trigger.notify_one();
    (StatusCode::ACCEPTED, "fetch requested\n").into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256={hex}")
    }

    /// A bad signature answers 401 and wakes nothing; a good one answers 202 and wakes the
    /// git source (a `Notify` keeps the wake-up for the next waiter).
    #[tokio::test]
    async fn the_webhook_wakes_the_source_only_for_a_valid_signature() {
        let trigger = Arc::new(Notify::new());
        let router = router(AppState {
            status: StatusBoard::new(),
            liveness: Liveness::new(Duration::from_secs(30)),
            webhook: Some(Webhook {
                secret: Arc::from(&b"s3cret"[..]),
                trigger: trigger.clone(),
                verify: crate::source::git::verify_signature,
            }),
            metrics: None,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/git", listener.local_addr().unwrap());
        let server = tokio::spawn(serve(
            listener,
            router,
            HttpLimits::default(),
            std::future::pending(),
        ));
        let body = br#"{"ref":"refs/heads/main"}"#;
        let post = |signature: String| {
            let url = url.clone();
            async move {
                let headers = [("x-hub-signature-256", signature.as_str())];
                crate::http_client::post(&url, &headers, body.to_vec(), Duration::from_secs(5))
                    .await
                    .unwrap()
                    .0
            }
        };
        // The handler has run by the time the response is back: a stored wake-up completes at once.
        let woken = || tokio::time::timeout(Duration::ZERO, trigger.notified());

        assert_eq!(post(sign(b"wrong", body)).await, 401);
        assert_eq!(post("sha256=00".into()).await, 401);
        assert!(woken().await.is_err(), "a bad signature woke the source");
        assert_eq!(post(sign(b"s3cret", body)).await, 202);
        assert!(
            woken().await.is_ok(),
            "a good signature did not wake the source"
        );
        server.abort();
    }
}
