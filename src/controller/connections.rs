//! Serving the controller's HTTP connections with limits, so that slow or many clients cannot
//! starve `/healthz` (ECS kills a task whose health check does not answer):
//!
//! - **Header read timeout** ([`HttpLimits::header_read_timeout`]): a request's head must
//!   arrive within it, else the connection is closed. Hyper starts the clock whenever it waits
//!   for a request head, so it is also the idle limit of a keep-alive connection.
//! - **Request timeout** ([`HttpLimits::request_timeout`]): a handler (and the body it reads)
//!   that takes longer is answered 503.
//! - **Connection cap** ([`HttpLimits::max_connections`]): at the cap, a new connection closes
//!   the oldest one not serving a request (idle or still sending its head), so a flood of idle
//!   or slow clients cannot lock a health check out; when every connection is serving, the new
//!   one is refused.
//! - **Keep-alive limits**: after [`HttpLimits::max_requests_per_connection`] requests the
//!   response says `Connection: close`; a connection older than
//!   [`HttpLimits::max_connection_age`] is closed after its request in flight.
//!
//! Every clock is `tokio::time`, so tests drive these limits on paused time.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

/// The limits of the HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time a client has to send a request's head (also the keep-alive idle limit).
    pub header_read_timeout: Duration,
    /// Time a request may take, its body read included.
    pub request_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Requests served on one connection before it is closed.
    pub max_requests_per_connection: usize,
    /// Age after which a connection is closed (after the request in flight).
    pub max_connection_age: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_read_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_connections: 256,
            max_requests_per_connection: 1000,
            max_connection_age: Duration::from_secs(600),
        }
    }
}

/// One open connection, as the cap sees it.
#[derive(Debug)]
struct Open {
    /// Requests being served on it now.
    busy: Arc<AtomicUsize>,
    /// Woken to close it.
    close: Arc<Notify>,
}

/// The open connections by accept order (oldest first).
#[derive(Debug, Default)]
struct Registry {
    next: u64,
    open: BTreeMap<u64, Open>,
}

impl Registry {
    /// Makes room for one more under `cap`: closes the oldest idle connection if full.
    /// False when every connection is serving a request.
    fn make_room(&mut self, cap: usize) -> bool {
        if self.open.len() < cap.max(1) {
            return true;
        }
        let idle = self
            .open
            .iter()
            .find(|(_, o)| o.busy.load(Ordering::SeqCst) == 0)
            .map(|(id, _)| *id);
        match idle.and_then(|id| self.open.remove(&id)) {
            Some(evicted) => {
                evicted.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes; connections in
/// flight then finish their request and close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let registry = Arc::new(Mutex::new(Registry::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a little, the cap frees some.
                Err(error) => {
                    tracing::warn!(%error, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (id, busy, close) = {
            let mut reg = registry.lock().unwrap_or_else(|e| e.into_inner());
            if !reg.make_room(limits.max_connections) {
                tracing::debug!("HTTP connection refused: every connection is serving");
                continue;
            }
            let id = reg.next;
            reg.next += 1;
            let open = Open {
                busy: Arc::new(AtomicUsize::new(0)),
                close: Arc::new(Notify::new()),
            };
            let handles = (id, open.busy.clone(), open.close.clone());
            reg.open.insert(id, open);
            handles
        };
        let (router, registry, mut stop) = (router.clone(), registry.clone(), stop_rx.clone());
        tokio::spawn(async move {
            connection(stream, router, limits, busy, close, &mut stop).await;
            registry
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .open
                .remove(&id);
        });
    }
    let _ = stop_tx.send(true);
    Ok(())
}

/// Serves one connection until it ends, is closed by the cap, gets too old, or the server
/// stops.
async fn connection(
    stream: tokio::net::TcpStream,
    router: Router,
    limits: HttpLimits,
    busy: Arc<AtomicUsize>,
    close: Arc<Notify>,
    stop: &mut watch::Receiver<bool>,
) {
    let served = Arc::new(AtomicUsize::new(0));
    let tower = TowerToHyperService::new(router);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let (tower, busy, served) = (tower.clone(), busy.clone(), served.clone());
        async move {
            busy.fetch_add(1, Ordering::SeqCst);
            let n = served.fetch_add(1, Ordering::SeqCst) + 1;
            let call = hyper::service::Service::call(&tower, req);
            let mut response = match tokio::time::timeout(limits.request_timeout, call).await {
                Ok(Ok(response)) => response.map(axum::body::Body::new),
                Ok(Err(never)) => match never {},
                Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "request timed out\n").into_response(),
            };
            if n >= limits.max_requests_per_connection {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            busy.fetch_sub(1, Ordering::SeqCst);
            Ok::<Response, Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let age = tokio::time::sleep(limits.max_connection_age);
    tokio::pin!(age);
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "HTTP connection ended");
                }
                return;
            }
            // The cap closes it: it serves nothing now.
            () = close.notified() => return,
            () = &mut age, if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            changed = stop.changed(), if !closing => {
                if changed.is_err() || *stop.borrow() {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(busy: &[usize]) -> (Registry, Vec<Arc<Notify>>) {
        let mut reg = Registry::default();
        let mut closes = Vec::new();
        for b in busy {
            let close = Arc::new(Notify::new());
            closes.push(close.clone());
            reg.open.insert(
                reg.next,
                Open {
                    busy: Arc::new(AtomicUsize::new(*b)),
                    close,
                },
            );
            reg.next += 1;
        }
        (reg, closes)
    }

    #[test]
    fn under_the_cap_nothing_is_closed() {
        let (mut reg, _) = registry(&[0, 0]);
        assert!(reg.make_room(3));
        assert_eq!(reg.open.len(), 2);
    }

    #[tokio::test]
    async fn at_the_cap_the_oldest_idle_connection_is_closed() {
        let (mut reg, closes) = registry(&[1, 0, 0]);
        assert!(reg.make_room(3));
        assert_eq!(reg.open.keys().copied().collect::<Vec<_>>(), [0, 2]);
        // The second (oldest idle) was told to close; a stored permit completes at once.
        let told = |i: usize| tokio::time::timeout(Duration::ZERO, closes[i].notified());
        assert!(told(1).await.is_ok());
        assert!(told(0).await.is_err(), "a busy connection is left alone");
    }

    #[test]
    fn when_every_connection_serves_a_new_one_is_refused() {
        let (mut reg, _) = registry(&[1, 2]);
        assert!(!reg.make_room(2));
        assert_eq!(reg.open.len(), 2);
    }
}
