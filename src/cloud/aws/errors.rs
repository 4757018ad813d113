//! The one mapping of AWS SDK errors into [`CloudError`], used by every call of both clients
//! (ECS and ELBv2 share the smithy runtime, hence the same `SdkError`).
//!
//! - An error response: its code classified by [`ErrorKind::from_aws_code`], its message,
//!   HTTP status and request id. A code the table does not know falls back on the HTTP status
//!   (429 throttled, 5xx transient), and so does a response without a code; a body that is not
//!   an AWS error (an HTML error page) gives a short excerpt of its text as the message.
//! - No credentials anywhere in the chain: access denied, with where credentials are looked
//!   for (not transient: a retry cannot find them).
//! - Timeouts and dispatch failures (connection refused, DNS, IO): transient.
//! - A request that could not be built: invalid.
//!
//! Messages are the error's causes joined by `: `, never the SDK's Debug structure. Nothing
//! here logs: the call layer writes the one line per failed call.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::operation::RequestId;

use super::NO_CREDENTIALS;
use crate::cloud::error::{CloudError, ErrorKind};

/// Characters of a response body quoted in a message at most.
const BODY_EXCERPT_CHARS: usize = 160;

/// Maps an SDK error of `operation` (AWS spelling, `DescribeServices`) into a [`CloudError`].
pub(crate) fn cloud_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let header_request_id = err.request_id().map(str::to_owned);
    let error = match &err {
        _ if missing_credentials(&err) => {
            CloudError::new(ErrorKind::AccessDenied, operation, NO_CREDENTIALS)
        }
        SdkError::ServiceError(service) => {
            let e = service.err();
            let request_id = e.meta().request_id().map(str::to_owned);
            let error = from_response(operation, e.code(), e.message(), status, &err);
            with_request_id(error, request_id)
        }
        SdkError::ResponseError(_) => from_response(operation, None, None, status, &err),
        SdkError::TimeoutError(_) => CloudError::new(ErrorKind::Transient, operation, detail(&err)),
        SdkError::DispatchFailure(failure) => {
            let kind = if failure.is_user() {
                ErrorKind::Other
            } else {
                ErrorKind::Transient
            };
            CloudError::new(kind, operation, detail(&err))
        }
        SdkError::ConstructionFailure(_) => {
            CloudError::new(ErrorKind::Invalid, operation, detail(&err))
        }
        _ => CloudError::new(ErrorKind::Other, operation, detail(&err)),
    };
    let error = match error.request_id {
        Some(_) => error,
        None => with_request_id(error, header_request_id),
    };
    match status {
        Some(status) => error.with_http_status(status),
        None => error,
    }
}

/// True when the credentials chain found no credentials (somewhere in the causes).
fn missing_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(CredentialsError::CredentialsNotLoaded(_)) = e.downcast_ref() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// A closure for `map_err`: `.map_err(sdk_error("DescribeServices"))`.
pub(super) fn sdk_error<E>(
    operation: &'static str,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |err| cloud_error(operation, err)
}

/// An error built from a response: by code when there is one, else (or when the code is not
/// in the table) by HTTP status.
fn from_response<E>(
    operation: &'static str,
    code: Option<&str>,
    message: Option<&str>,
    status: Option<u16>,
    err: &SdkError<E, HttpResponse>,
) -> CloudError
where
    E: std::error::Error + Send + Sync + 'static,
{
    let by_code = code.map(ErrorKind::from_aws_code);
    let kind = match by_code {
        Some(kind) if kind != ErrorKind::Other => kind,
        _ => status.map_or(ErrorKind::Other, kind_of_status),
    };
    let message = match message {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => match err.raw_response().and_then(body_excerpt) {
            Some(excerpt) => format!("not an AWS error response: {excerpt}"),
            None => detail(err),
        },
    };
    let error = CloudError::new(kind, operation, message);
    match code {
        Some(code) if !code.is_empty() => error.with_code(code),
        _ => error,
    }
}

/// The kind an HTTP status implies when AWS sent no (known) code.
fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        429 => ErrorKind::Throttled,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

fn with_request_id(error: CloudError, request_id: Option<String>) -> CloudError {
    match request_id {
        Some(id) if !id.is_empty() => error.with_request_id(id),
        _ => error,
    }
}

/// The text of a response body that is not an AWS error (an HTML error page): tags
/// dropped, whitespace collapsed, at most [`BODY_EXCERPT_CHARS`] characters. `None` when
/// there is no text.
fn body_excerpt(response: &HttpResponse) -> Option<String> {
    let body = String::from_utf8_lossy(response.body().bytes()?);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut excerpt = words.join(" ");
    if excerpt.is_empty() {
        return None;
    }
    if let Some((end, _)) = excerpt.char_indices().nth(BODY_EXCERPT_CHARS) {
        excerpt.truncate(end);
        excerpt.push_str("...");
    }
    Some(excerpt)
}

/// The error with its causes, for a message ("dispatch failure: io error: Connection
/// refused"): each cause's Display once, never the Debug structure.
fn detail(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.is_empty() && !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = e.source();
    }
    message
}
