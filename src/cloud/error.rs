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

    /// True when retrying the same request cannot help: AWS rejected it as invalid, or the
    /// caller lacks the permission. The controller marks such a resource Stalled and waits
    /// for its manifest to change (or the next full sync) instead of backing off forever.
    /// Throttled, transient, conflicts (an update in progress, a name still in use), not
    /// found (usually a dependency not created yet) and unknown errors are worth a retry.
    pub fn is_terminal(self) -> bool {
        matches!(self, ErrorKind::Invalid | ErrorKind::AccessDenied)
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
            | "ListenerNotFound"
            | "RuleNotFound"
            | "ResourceNotFoundException"
            | "ResourceNotFound"
            | "NotFound"
            | "TaskDefinitionNotFoundException"
            // Application Auto Scaling
            | "ObjectNotFoundException" => ErrorKind::NotFound,
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
            | "DuplicateTagKeys"
            | "PriorityInUse"
            // Application Auto Scaling
            | "ConcurrentUpdateException" => ErrorKind::Conflict,
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
            | "InternalServerError"
            | "InternalError"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "RequestTimeout"
            | "RequestTimeoutException"
            // Application Auto Scaling
            | "InternalServiceException" => ErrorKind::Transient,
            _ => ErrorKind::Other,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed cloud call. Its Display is one short line for logs and error output:
/// `DescribeClusters: transient (HTTP 500, request id abc): <first line of the message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudError {
    /// The closed kind.
    pub kind: ErrorKind,
    /// The API operation, as AWS names it (`DescribeServices`).
    pub operation: &'static str,
    /// The HTTP status of AWS's answer, when there was one.
    pub http_status: Option<u16>,
    /// The AWS error code, when AWS sent one.
    pub code: Option<String>,
    /// The AWS request id, for support cases and logs.
    pub request_id: Option<String>,
    /// AWS's message (never contains secret values: the operator only sends ARNs).
    pub message: String,
}

impl std::error::Error for CloudError {}

/// Characters of the message Display shows at most (the first line only).
const MESSAGE_CHARS: usize = 200;

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.kind)?;
        let mut details = Vec::new();
        if let Some(status) = self.http_status {
            details.push(format!("HTTP {status}"));
        }
        if let Some(code) = &self.code {
            details.push(code.clone());
        }
        if let Some(id) = &self.request_id {
            details.push(format!("request id {id}"));
        }
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
        let line = self.message.lines().map(str::trim).find(|l| !l.is_empty());
        if let Some(line) = line {
            match line.char_indices().nth(MESSAGE_CHARS) {
                Some((end, _)) => write!(f, ": {}...", &line[..end])?,
                None => write!(f, ": {line}")?,
            }
        }
        Ok(())
    }
}

impl CloudError {
    /// An error of `kind` for `operation`.
    pub fn new(kind: ErrorKind, operation: &'static str, message: impl Into<String>) -> Self {
        CloudError {
            kind,
            operation,
            http_status: None,
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

    /// The same error with the HTTP status of AWS's answer.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
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

    /// The error code of an operation the API does not implement (moto's
    /// DescribeServiceDeployments): see [`CloudError::is_not_implemented`].
    pub const NOT_IMPLEMENTED: &'static str = "NotImplemented";

    /// `operation` is not implemented by the API answering (moto 5.2.1 has no
    /// ListServiceDeployments or DescribeServiceDeployments): the caller falls back on what
    /// it has.
    pub fn not_implemented(operation: &'static str) -> Self {
        CloudError::new(
            ErrorKind::Other,
            operation,
            "not implemented by this endpoint",
        )
        .with_code(Self::NOT_IMPLEMENTED)
    }

    /// True for [`CloudError::not_implemented`].
    pub fn is_not_implemented(&self) -> bool {
        self.code.as_deref() == Some(Self::NOT_IMPLEMENTED)
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
            ("PriorityInUse", ErrorKind::Conflict),
            ("RuleNotFound", ErrorKind::NotFound),
            ("ListenerNotFound", ErrorKind::NotFound),
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
            "DescribeServices: throttled (ThrottlingException, request id abc-123): Rate exceeded"
        );
        assert!(e.is_retryable());
        let e = e.with_http_status(400);
        assert_eq!(
            e.to_string(),
            "DescribeServices: throttled (HTTP 400, ThrottlingException, request id abc-123): Rate exceeded"
        );
    }

    #[test]
    fn display_is_one_short_line_of_the_first_line_of_the_message() {
        let long = format!("  \n{}\nsecond line", "x".repeat(500));
        let e =
            CloudError::new(ErrorKind::Transient, "DescribeClusters", long).with_http_status(500);
        let line = e.to_string();
        assert!(!line.contains('\n'), "{line}");
        assert!(!line.contains("second"), "{line}");
        assert!(
            line.starts_with("DescribeClusters: transient (HTTP 500): xxx"),
            "{line}"
        );
        assert!(line.len() < 250, "{} chars", line.len());
        let bare = CloudError::new(ErrorKind::Other, "AddTags", "");
        assert_eq!(bare.to_string(), "AddTags: other");
    }
}
