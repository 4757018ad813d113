//! A minimal HTTP/1.1 client (GET, POST) over hyper (already in the dependency tree through the AWS SDK), for
//! the commands that talk to a running controller: `status` and `healthcheck`. Plain `http://`
//! only; the controller serves on a local or in-VPC port.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Why a GET failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL is not a valid `http://` URL.
    #[error("{url}: not a valid http:// URL")]
    BadUrl {
        /// The URL.
        url: String,
    },
    /// No answer in time.
    #[error("{url}: no answer within {timeout:?}")]
    Timeout {
        /// The URL.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// Connecting or reading failed.
    #[error("{url}: {message}")]
    Request {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
}

/// GETs `url` and returns the status code and the body as text.
pub async fn get(url: &str, timeout: Duration) -> Result<(u16, String), HttpError> {
    request("GET", url, &[], Vec::new(), timeout).await
}

/// POSTs `body` with `headers` to `url` and returns the status code and the body as text.
pub async fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(u16, String), HttpError> {
    request("POST", url, headers, body, timeout).await
}

async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(u16, String), HttpError> {
    let bad = || HttpError::BadUrl { url: url.into() };
    let uri: hyper::Uri = url.parse().map_err(|_| bad())?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(bad());
    }
    let mut builder = hyper::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let req = builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| bad())?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let exchange = async {
        let response = client.request(req).await.map_err(|e| HttpError::Request {
            url: url.into(),
            message: error_chain(&e),
        })?;
        let code = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| HttpError::Request {
                url: url.into(),
                message: e.to_string(),
            })?
            .to_bytes();
        Ok((code, String::from_utf8_lossy(&body).into_owned()))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| HttpError::Timeout {
            url: url.into(),
            timeout,
        })?
}

/// An error and its sources on one line ("client error (Connect): Connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn get_reads_status_and_body_and_reports_refused_connections() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/x",
            axum::routing::get(|| async { (axum::http::StatusCode::IM_A_TEAPOT, "hello") }),
        );
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let (code, body) = get(&format!("http://{addr}/x"), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!((code, body.as_str()), (418, "hello"));
        server.abort();

        // A port nobody listens on.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let err = get(
            &format!("http://127.0.0.1:{port}/x"),
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, HttpError::Request { .. }), "{err}");
        assert!(matches!(
            get("https://example.invalid/", Duration::from_secs(1)).await,
            Err(HttpError::BadUrl { .. })
        ));
    }
}
