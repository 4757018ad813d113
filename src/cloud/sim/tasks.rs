//! Tasks of the scheduler: launching them (with an IP of 10.0.0.0/16, crashing when their
//! image is marked so), stopping them (their targets drain, their IP is freed once no target
//! group lists it), and the helpers behind [`Sim::tasks`](super::Sim::tasks) and
//! [`Sim::stop_task`](super::Sim::stop_task).

use std::collections::BTreeMap;
use std::time::Duration;

use rand::RngExt;

use super::arn;
use super::records::{
    Event, STOPPED_TASK_RETENTION, ServiceKey, StoppedTask, Task, TaskStatus, after,
};
use crate::cloud::model::{Task as ModelTask, TaskContainer};

/// How a task came to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StoppedHow {
    /// Its image crashed.
    Crashed,
    /// The scheduler stopped it (scaling in, replaced by a newer deployment).
    Scheduler,
}

/// How a crashing image fails (`--sim-crash-image IMAGE=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// The image cannot be pulled (CannotPullContainerError). The plain `IMAGE` form.
    Pull,
    /// A secret cannot be retrieved (ResourceInitializationError).
    Secret,
    /// The essential container exits with this code.
    Exit(i32),
    /// The task fails its ELB health checks.
    Health,
}

impl Crash {
    /// `IMAGE` or `IMAGE=pull|secret|exit:N|health` as (image, crash); an unknown reason is
    /// part of the image text.
    pub fn parse(entry: &str) -> (&str, Crash) {
        let Some((image, reason)) = entry.rsplit_once('=') else {
            return (entry, Crash::Exit(1));
        };
        let crash = match reason {
            "pull" => Crash::Pull,
            "secret" => Crash::Secret,
            "health" => Crash::Health,
            r => match r.strip_prefix("exit:").and_then(|c| c.parse().ok()) {
                Some(code) => Crash::Exit(code),
                None => return (entry, Crash::Exit(1)),
            },
        };
        (image, crash)
    }

    /// (stopCode, stoppedReason, the container's exit code) as ECS reports them.
    fn describe(self) -> (&'static str, String, Option<i32>) {
        match self {
            Crash::Pull => (
                "TaskFailedToStart",
                "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref: not found".into(),
                None,
            ),
            Crash::Secret => (
                "TaskFailedToStart",
                "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: AccessDeniedException".into(),
                None,
            ),
            Crash::Exit(code) => (
                "EssentialContainerExited",
                "Essential container in task exited".into(),
                Some(code),
            ),
            Crash::Health => (
                "ServiceSchedulerInitiated",
                "Task failed ELB health checks in (target-group of the service)".into(),
                None,
            ),
        }
    }
}
use super::state::State;

/// "(task a) (task b)", as ECS lists tasks in events.
fn task_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("(task {id})"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl State {
    /// Launches `n` tasks of the PRIMARY deployment.
    pub(super) fn launch_tasks(&mut self, key: &ServiceKey, n: usize) {
        let now = self.now;
        // A crash takes at least a millisecond, so a crash loop always moves time forward.
        let start_time = self.config.task_start_time;
        let crash_time = start_time.max(Duration::from_millis(1));
        let Some((deployment, task_definition)) = self
            .services
            .get(key)
            .and_then(|s| s.deployments.first())
            .map(|d| (d.id.clone(), d.task_definition.clone()))
        else {
            return;
        };
        let crashes = self.crashes(&task_definition);
        let start = after(now, if crashes { crash_time } else { start_time });
        let mut started = Vec::new();
        let mut no_ip = false;
        for _ in 0..n {
            let Some(ip) = self.allocate_ip() else {
                no_ip = true;
                break;
            };
            let id = arn::hex(&mut self.rng, 32);
            let task_arn = self.arns.task(&key.0, &id);
            let Some(svc) = self.services.get_mut(key) else {
                self.release_ip(ip);
                return;
            };
            svc.launches += 1;
            svc.tasks.insert(
                id.clone(),
                Task {
                    id: id.clone(),
                    arn: task_arn,
                    launched: svc.launches,
                    deployment: deployment.clone(),
                    task_definition: task_definition.clone(),
                    status: TaskStatus::Pending,
                    ip,
                    crashes,
                    targets: Vec::new(),
                    unhealthy_targets: 0,
                },
            );
            self.schedule(
                start,
                Event::TaskStarted {
                    service: key.clone(),
                    task: id.clone(),
                },
            );
            started.push(id);
        }
        if let Some(d) = self
            .services
            .get_mut(key)
            .and_then(|s| s.deployments.first_mut())
        {
            d.updated_at = now;
        }
        if !started.is_empty() {
            let msg = format!(
                "(service {}) has started {} tasks: {}.",
                key.1,
                started.len(),
                task_list(&started)
            );
            self.service_event(key, msg);
        }
        if no_ip {
            let msg = format!(
                "(service {}) was unable to place a task because no private IP address is free in 10.0.0.0/16.",
                key.1
            );
            self.service_event(key, msg);
        }
    }

    /// Stops live tasks: their targets start draining and their IPs are released.
    pub(super) fn stop_tasks(&mut self, key: &ServiceKey, ids: &[String]) {
        let now = self.now;
        let mut stopped = Vec::new();
        for id in ids {
            let Some(svc) = self.services.get_mut(key) else {
                return;
            };
            let Some(task) = svc.tasks.remove(id) else {
                continue;
            };
            if let Some(d) = svc.deployments.iter_mut().find(|d| d.id == task.deployment) {
                d.updated_at = now;
            }
            self.deregister_targets(key, &task);
            self.release_ip(task.ip);
            self.record_stopped(key, &task, StoppedHow::Scheduler);
            stopped.push(task.id);
        }
        if !stopped.is_empty() {
            let msg = format!(
                "(service {}) has stopped {} running tasks: {}.",
                key.1,
                stopped.len(),
                task_list(&stopped)
            );
            self.service_event(key, msg);
        }
    }

    /// True when a container image of this task definition matches a crashing image.
    pub(super) fn crashes(&self, task_definition: &str) -> bool {
        self.crash(task_definition).is_some()
    }

    /// How a task of this task definition crashes, if a container image matches a crashing
    /// image (`IMAGE` or `IMAGE=pull|secret|exit:N|health`): (the container, the crash).
    pub(super) fn crash(&self, task_definition: &str) -> Option<(String, Crash)> {
        let crashing = &self.config.crashing_images;
        if crashing.is_empty() {
            return None;
        }
        let td = self.find_task_definition(task_definition)?;
        td.definition.container_definitions.iter().find_map(|c| {
            crashing.iter().find_map(|entry| {
                let (image, crash) = Crash::parse(entry);
                (!image.is_empty() && c.image.contains(image)).then(|| (c.name.clone(), crash))
            })
        })
    }

    /// Keeps a stopped task listable (dropping those past [`STOPPED_TASK_RETENTION`]).
    pub(super) fn record_stopped(&mut self, key: &ServiceKey, task: &Task, how: StoppedHow) {
        let now = self.now;
        let crash = match how {
            StoppedHow::Crashed => self.crash(&task.task_definition),
            StoppedHow::Scheduler => None,
        };
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        let (stop_code, reason, container, exit_code) = match &crash {
            Some((name, crash)) => {
                let (code, reason, exit) = crash.describe();
                (code, reason, name.clone(), exit)
            }
            None => (
                "ServiceSchedulerInitiated",
                format!(
                    "Scaling activity initiated by (deployment {})",
                    task.deployment
                ),
                String::new(),
                None,
            ),
        };
        let containers = (!container.is_empty())
            .then_some(TaskContainer {
                name: container,
                exit_code,
                reason: None,
            })
            .into_iter()
            .collect();
        svc.stopped.push_back(StoppedTask {
            at: now,
            task: ModelTask {
                arn: task.arn.clone(),
                task_definition: task.task_definition.clone(),
                last_status: "STOPPED".into(),
                desired_status: "STOPPED".into(),
                started_by: Some(task.deployment.clone()),
                stop_code: Some(stop_code.into()),
                stopped_reason: Some(reason),
                containers,
                stopped_at: None,
            },
        });
        while svc
            .stopped
            .front()
            .is_some_and(|t| now.saturating_since(t.at) >= STOPPED_TASK_RETENTION)
        {
            svc.stopped.pop_front();
        }
    }

    /// A free IP of 10.0.0.0/16 (AWS reserves the first four addresses and the last one).
    pub(super) fn allocate_ip(&mut self) -> Option<u32> {
        const BASE: u32 = 10 << 24;
        const FIRST: u32 = 4;
        const LAST: u32 = 0xfffe;
        let free = |ips: &BTreeMap<u32, u32>, offset: u32| !ips.contains_key(&(BASE + offset));
        let mut pick = None;
        for _ in 0..16 {
            let offset = self.rng.random_range(FIRST..=LAST);
            if free(&self.ips, offset) {
                pick = Some(offset);
                break;
            }
        }
        if pick.is_none() {
            pick = (FIRST..=LAST).find(|o| free(&self.ips, *o));
        }
        let ip = BASE + pick?;
        self.ips.insert(ip, 1);
        Some(ip)
    }

    /// One holder of an IP more (a registered target).
    pub(super) fn hold_ip(&mut self, ip: u32) {
        *self.ips.entry(ip).or_insert(0) += 1;
    }

    /// One holder of an IP less; free at zero.
    pub(super) fn release_ip(&mut self, ip: u32) {
        if let Some(n) = self.ips.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.ips.remove(&ip);
            }
        }
    }

    /// The live tasks of a service (by cluster and service name or ARN), oldest first.
    pub(super) fn sim_tasks(&self, cluster: &str, service: &str) -> Vec<super::SimTask> {
        let Some(key) = self.service_key(cluster, service) else {
            return Vec::new();
        };
        let Some(svc) = self.services.get(&key) else {
            return Vec::new();
        };
        let mut tasks: Vec<&Task> = svc.tasks.values().collect();
        tasks.sort_by_key(|t| t.launched);
        tasks
            .into_iter()
            .map(|t| super::SimTask {
                id: t.id.clone(),
                arn: t.arn.clone(),
                deployment_id: t.deployment.clone(),
                task_definition: t.task_definition.clone(),
                status: t.status,
                ip: arn::ip_string(t.ip),
                healthy: t.healthy(),
            })
            .collect()
    }

    /// Stops one task by id or ARN (the scheduler replaces it); false when there is none.
    pub(super) fn force_stop_task(&mut self, cluster: &str, service: &str, task: &str) -> bool {
        let Some(key) = self.service_key(cluster, service) else {
            return false;
        };
        let Some(id) = self.services.get(&key).and_then(|s| {
            s.tasks
                .values()
                .find(|t| t.id == task || t.arn == task)
                .map(|t| t.id.clone())
        }) else {
            return false;
        };
        self.stop_tasks(&key, &[id]);
        self.reconcile(&key);
        true
    }
}
