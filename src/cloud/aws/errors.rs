//! The one mapping of AWS SDK errors into [`CloudError`], used by every call of both clients
//! (ECS and ELBv2 share the smithy runtime, hence the same `SdkError`).
//!
//! - An error response: its code classified by [`ErrorKind::from_aws_code`], its message and
//!   request id. A code the table does not know falls back on the HTTP status (429 throttled,
//!   5xx transient), and so does a response without a code.
//! - Timeouts and dispatch failures (connection refused, DNS, IO): transient.
//! - A request that could not be built: invalid.

use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::operation::RequestId;

use crate::cloud::error::{CloudError, ErrorKind};

/// Maps an SDK error of `operation` (AWS spelling, `DescribeServices`) into a [`CloudError`].
pub(super) fn cloud_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let header_request_id = err.request_id().map(str::to_owned);
    let error = match &err {
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
    tracing::debug!(operation, kind = %error.kind, code = ?error.code, "aws call failed");
    error
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
        _ => detail(err),
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

/// The error with its causes, for a message ("dispatch failure: io error: Connection refused").
fn detail<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + Send + Sync + 'static,
{
    DisplayErrorContext(err).to_string()
}
