//! Why a task stopped, from what DescribeTasks says of it (its `stopCode`, `stoppedReason` and
//! its containers' exit codes): one of a closed set of reasons (the `reason` label of
//! `ecs_operator_rollout_failures_total`) and a one-line hint drawn from the troubleshooting
//! facts. The hints are in one table, [`HINTS`].

use std::fmt;

/// Why a task of a rollout failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StopReason {
    /// CannotPullContainerError (or the registry auth could not be read).
    ImagePull,
    /// ResourceInitializationError: a secret could not be retrieved.
    Secret,
    /// An essential container exited.
    ExitCode,
    /// The task failed its load balancer health checks.
    HealthCheck,
    /// Anything else.
    Other,
}

/// Each reason: its metric label, what status says, and the hint.
pub const HINTS: [(StopReason, &str, &str, &str); 5] = [
    (
        StopReason::ImagePull,
        "image_pull",
        "CannotPullContainerError",
        "the execution role needs ECR pull, and a private subnet needs a NAT gateway or ECR endpoints",
    ),
    (
        StopReason::Secret,
        "secret",
        "unable to retrieve secret",
        "the execution role needs secretsmanager:GetSecretValue / ssm:GetParameters (and kms:Decrypt) for it",
    ),
    (
        StopReason::ExitCode,
        "exit_code",
        "an essential container exited",
        "read the container's logs; the image or its command fails at start",
    ),
    (
        StopReason::HealthCheck,
        "health_check",
        "ELB health checks failed",
        "check the grace period, path and port",
    ),
    (
        StopReason::Other,
        "other",
        "task stopped",
        "see the task's stopped reason",
    ),
];

impl StopReason {
    /// Every reason, in label order of [`HINTS`].
    pub const ALL: [StopReason; 5] = [
        StopReason::ImagePull,
        StopReason::Secret,
        StopReason::ExitCode,
        StopReason::HealthCheck,
        StopReason::Other,
    ];

    fn row(self) -> &'static (StopReason, &'static str, &'static str, &'static str) {
        HINTS
            .iter()
            .find(|r| r.0 == self)
            .unwrap_or(&HINTS[HINTS.len() - 1])
    }

    /// The metric label.
    pub fn label(self) -> &'static str {
        self.row().1
    }

    /// What status calls it.
    pub fn name(self) -> &'static str {
        self.row().2
    }

    /// The one-line hint.
    pub fn hint(self) -> &'static str {
        self.row().3
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.hint())
    }
}

/// A stopped task as DescribeTasks describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stopped {
    /// `stopCode` (TaskFailedToStart, EssentialContainerExited, ServiceSchedulerInitiated, ...).
    pub stop_code: Option<String>,
    /// `stoppedReason`.
    pub stopped_reason: String,
    /// Each container's exit code, where it exited.
    pub exit_codes: Vec<i32>,
}

impl Stopped {
    /// What the rollout reads of a described task.
    pub fn of(task: &crate::cloud::model::Task) -> Stopped {
        Stopped {
            stop_code: task.stop_code.clone(),
            stopped_reason: task.stopped_reason.clone().unwrap_or_default(),
            exit_codes: task.containers.iter().filter_map(|c| c.exit_code).collect(),
        }
    }

    /// True when the task failed (it did not start, its essential container exited, or it
    /// failed its health checks), not when the scheduler stopped it to scale in or replace it.
    pub fn is_failure(&self) -> bool {
        matches!(
            self.stop_code.as_deref(),
            Some("TaskFailedToStart" | "EssentialContainerExited")
        ) || classify(self).0 != StopReason::Other
    }
}

/// The reason a stopped task failed, and for an exited container its exit code.
pub fn classify(task: &Stopped) -> (StopReason, Option<i32>) {
    let reason = task.stopped_reason.to_ascii_lowercase();
    if reason.contains("cannotpullcontainererror") {
        return (StopReason::ImagePull, None);
    }
    if reason.contains("resourceinitializationerror")
        || reason.contains("unable to retrieve secret")
    {
        let kind = if reason.contains("secret") || reason.contains("ssm") {
            StopReason::Secret
        } else {
            StopReason::ImagePull // registry auth, or the image manifest
        };
        return (kind, None);
    }
    if reason.contains("health check") {
        return (StopReason::HealthCheck, None);
    }
    let exited = task.stop_code.as_deref() == Some("EssentialContainerExited")
        || reason.contains("essential container");
    if exited {
        let code = task.exit_codes.iter().copied().find(|c| *c != 0);
        return (
            StopReason::ExitCode,
            code.or(task.exit_codes.first().copied()),
        );
    }
    (StopReason::Other, None)
}

/// What status and the log say of a failed task: the reason with its hint (and the exit code).
pub fn describe(task: &Stopped) -> String {
    match classify(task) {
        (StopReason::ExitCode, Some(code)) => format!(
            "an essential container exited with code {code}: {}",
            StopReason::ExitCode.hint()
        ),
        (StopReason::Other, _) if !task.stopped_reason.is_empty() => {
            format!("task stopped: {}", task.stopped_reason)
        }
        (reason, _) => reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stopped(code: Option<&str>, reason: &str, exit: &[i32]) -> Stopped {
        Stopped {
            stop_code: code.map(str::to_string),
            stopped_reason: reason.into(),
            exit_codes: exit.to_vec(),
        }
    }

    #[test]
    fn each_stop_reason_is_named_with_its_hint() {
        let cases = [
            (
                stopped(
                    Some("TaskFailedToStart"),
                    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123.dkr.ecr.eu-west-1.amazonaws.com/api:bad: not found",
                    &[],
                ),
                StopReason::ImagePull,
                "CannotPullContainerError: the execution role needs ECR pull, and a private subnet needs a NAT gateway or ECR endpoints",
            ),
            (
                stopped(
                    Some("TaskFailedToStart"),
                    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm",
                    &[],
                ),
                StopReason::Secret,
                "unable to retrieve secret: the execution role needs secretsmanager:GetSecretValue / ssm:GetParameters (and kms:Decrypt) for it",
            ),
            (
                stopped(
                    Some("EssentialContainerExited"),
                    "Essential container in task exited",
                    &[1],
                ),
                StopReason::ExitCode,
                "an essential container exited with code 1: read the container's logs; the image or its command fails at start",
            ),
            (
                stopped(
                    Some("ServiceSchedulerInitiated"),
                    "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/shop-api/1)",
                    &[],
                ),
                StopReason::HealthCheck,
                "ELB health checks failed: check the grace period, path and port",
            ),
            (
                stopped(
                    Some("SpotInterruption"),
                    "Your Spot Task was interrupted.",
                    &[],
                ),
                StopReason::Other,
                "task stopped: Your Spot Task was interrupted.",
            ),
        ];
        for (task, reason, text) in cases {
            assert_eq!(classify(&task).0, reason, "{task:?}");
            assert_eq!(describe(&task), text);
        }
    }

    #[test]
    fn the_labels_are_the_closed_set() {
        let labels: Vec<&str> = StopReason::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(
            labels,
            ["image_pull", "secret", "exit_code", "health_check", "other"]
        );
        for (i, row) in HINTS.iter().enumerate() {
            assert_eq!(row.0, StopReason::ALL[i]);
        }
    }
}
