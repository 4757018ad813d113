//! The one error type of every cloud call, with a closed kind so callers (and metrics labels)
//! can act on it without parsing messages.

use std::fmt;

/// What went wrong, as far as the caller needs to know. Closed: metrics use it as a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// AWS throttled the call (ThrottlingException, Throttling, TooManyRequestsException).
    Throttled,
    /// The resource does not exist (ClusterNotFound, ServiceNotFound, TargetGroupNotFound, ...).
    NotFound,
    /// The request was rejected as invalid (InvalidParameterException, ValidationError, ...).
    Invalid,
    /// The resource already exists, or is in use (DuplicateTargetGroupName, ResourceInUse, ...).
    Conflict,
    /// Missing permissions (AccessDeniedException, UnauthorizedOperation, ...).
    AccessDenied,
    /// Worth retrying: 5xx, timeouts, connection failures.
    Transient,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Every kind, for tests and metric label sets.
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Throttled,
        ErrorKind::NotFound,
        ErrorKind::Invalid,
        ErrorKind::Conflict,
        ErrorKind::AccessDenied,
        ErrorKind::Transient,
        ErrorKind::Other,
    ];

    /// The snake_case label (`not_found`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Throttled => "throttled",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Conflict => "conflict",
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::Transient => "transient",
            ErrorKind::Other => "other",
        }
    }

    /// Classifies an AWS error code of ECS or ELBv2 (and the shared AWS codes).
    pub fn from_aws_code(code: &str) -> ErrorKind {
        match code {
            "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "ProvisionedThroughputExceededException"
            | "EC2ThrottledException"
            | "BandwidthLimitExceeded" => ErrorKind::Throttled,
            "ClusterNotFoundException"
            | "ServiceNotFoundException"
            | "ServiceNotActiveException"
            | "TargetGroupNotFound"
            | "TargetGroupNotFoundException"
            | "LoadBalancerNotFound"
            | "ResourceNotFoundException"
            | "ResourceNotFound"
            | "NotFound"
            | "TaskDefinitionNotFoundException" => ErrorKind::NotFound,
            "InvalidParameterException"
            | "InvalidParameterValue"
            | "InvalidParameterCombination"
            | "ValidationError"
            | "ValidationException"
            | "InvalidConfigurationRequest"
            | "InvalidTarget"
            | "MissingParameter"
            | "UnsupportedFeatureException"
            | "PlatformUnknownException"
            | "PlatformTaskDefinitionIncompatibilityException"
            | "TooManyTags"
            | "TooManyTargetGroups"
            | "LimitExceededException"
            | "LimitExceeded"
            | "ClientException" => ErrorKind::Invalid,
            "DuplicateTargetGroupName"
            | "DuplicateTargetGroupNameException"
            | "ResourceInUse"
            | "ResourceInUseException"
            | "ClusterContainsServicesException"
            | "ClusterContainsTasksException"
            | "UpdateInProgressException"
            | "ConflictException"
            | "DuplicateTagKeys" => ErrorKind::Conflict,
            "AccessDeniedException"
            | "AccessDenied"
            | "UnauthorizedOperation"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "ExpiredTokenException"
            | "ExpiredToken"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "MissingAuthenticationToken" => ErrorKind::AccessDenied,
            "ServerException"
            | "InternalFailure"
            | "InternalError"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "RequestTimeout"
            | "RequestTimeoutException" => ErrorKind::Transient,
            _ => ErrorKind::Other,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed cloud call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {kind}{}: {message}{}",
    code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default(),
    request_id.as_deref().map(|r| format!(" [request id {r}]")).unwrap_or_default())]
pub struct CloudError {
    /// The closed kind.
    pub kind: ErrorKind,
    /// The API operation, as AWS names it (`DescribeServices`).
    pub operation: &'static str,
    /// The AWS error code, when AWS sent one.
    pub code: Option<String>,
    /// The AWS request id, for support cases and logs.
    pub request_id: Option<String>,
    /// AWS's message (never contains secret values: the operator only sends ARNs).
    pub message: String,
}

impl CloudError {
    /// An error of `kind` for `operation`.
    pub fn new(kind: ErrorKind, operation: &'static str, message: impl Into<String>) -> Self {
        CloudError {
            kind,
            operation,
            code: None,
            request_id: None,
            message: message.into(),
        }
    }

    /// The same error with an AWS error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The same error with a request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// An error classified from an AWS code.
    pub fn from_code(operation: &'static str, code: &str, message: impl Into<String>) -> Self {
        CloudError::new(ErrorKind::from_aws_code(code), operation, message).with_code(code)
    }

    /// True for errors a retry may cure (throttling and transient failures).
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Throttled | ErrorKind::Transient)
    }
}

/// Result of a cloud call.
pub type CloudResult<T> = Result<T, CloudError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_codes_map_to_kinds() {
        let cases = [
            ("ThrottlingException", ErrorKind::Throttled),
            ("Throttling", ErrorKind::Throttled),
            ("ServiceNotFoundException", ErrorKind::NotFound),
            ("TargetGroupNotFound", ErrorKind::NotFound),
            ("ClusterNotFoundException", ErrorKind::NotFound),
            ("InvalidParameterException", ErrorKind::Invalid),
            ("ValidationError", ErrorKind::Invalid),
            ("DuplicateTargetGroupName", ErrorKind::Conflict),
            ("ResourceInUse", ErrorKind::Conflict),
            ("AccessDeniedException", ErrorKind::AccessDenied),
            ("ServerException", ErrorKind::Transient),
            ("SomethingNew", ErrorKind::Other),
        ];
        for (code, kind) in cases {
            assert_eq!(ErrorKind::from_aws_code(code), kind, "{code}");
        }
    }

    #[test]
    fn display_keeps_code_and_request_id_for_logs() {
        let e = CloudError::from_code("DescribeServices", "ThrottlingException", "Rate exceeded")
            .with_request_id("abc-123");
        assert_eq!(
            e.to_string(),
            "DescribeServices failed: throttled (ThrottlingException): Rate exceeded [request id abc-123]"
        );
        assert!(e.is_retryable());
    }
}
