//! The elector's transition, pure: its state and what the store answered (or that its time
//! ran out) give the next state and what happened (became leader, stepped down, a failed
//! lease call). The elector task (`elector`) only makes the calls and applies the steps.

use super::{Acquired, Lease};

/// Leading or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Makes no AWS call but the lease's.
    Standby,
    /// Holds the lease: reconciles.
    Leader,
}

impl Role {
    /// `leader` or `standby` (status, logs).
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Standby => "standby",
            Role::Leader => "leader",
        }
    }
}

/// What the elector knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Leading or not.
    pub role: Role,
    /// The lease as last written by us (while leading) or read (standby).
    pub lease: Option<Lease>,
}

impl State {
    /// Standby, nothing known.
    pub fn standby() -> State {
        State {
            role: Role::Standby,
            lease: None,
        }
    }

    /// The holder of the current leader, as far as known.
    pub fn leader(&self) -> Option<&str> {
        self.lease.as_ref().map(|l| l.holder.as_str())
    }
}

/// What happened since the last step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An acquire answered.
    Acquired(Acquired),
    /// A renew answered (`None`: the lease is not ours anymore).
    Renewed(Option<Lease>),
    /// A lease call failed (error or timeout).
    Failed,
    /// The leader's time to spare ran out before a renew succeeded.
    Deadline,
}

/// The next state and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The next state.
    pub state: State,
    /// Became leader: open the gate, start the work (a full sync first).
    pub became_leader: bool,
    /// Stopped being leader: close the gate, stop the work.
    pub stepped_down: bool,
    /// A lease call failed (counted as a renew failure).
    pub failed: bool,
    /// The lease was written now (acquired or renewed): the gate stays open until the
    /// request's send time plus the duration less the margin.
    pub written: bool,
}

/// The elector's transition. `now_ms` is the time of the decision (epoch ms, the elector's
/// clock); `margin_ms` the time to spare a leader keeps before its lease expires.
pub fn decide(state: &State, input: Input, now_ms: u64, margin_ms: u64) -> Step {
    let leading = state.role == Role::Leader;
    let mut step = Step {
        state: state.clone(),
        became_leader: false,
        stepped_down: false,
        failed: false,
        written: false,
    };
    match input {
        Input::Acquired(Acquired::Won(lease)) | Input::Renewed(Some(lease)) => {
            step.became_leader = !leading;
            step.written = true;
            step.state = State {
                role: Role::Leader,
                lease: Some(lease),
            };
        }
        Input::Acquired(Acquired::Held(lease)) => {
            step.stepped_down = leading;
            step.state = State {
                role: Role::Standby,
                lease,
            };
        }
        Input::Renewed(None) => {
            step.stepped_down = leading;
            step.state = State::standby();
        }
        Input::Failed => {
            step.failed = true;
            // A leader keeps leading on a failed renew only while its lease has time to spare.
            let spare = state
                .lease
                .as_ref()
                .is_some_and(|l| now_ms + margin_ms < l.expires_at_ms);
            if leading && !spare {
                step.stepped_down = true;
                step.state.role = Role::Standby;
            }
        }
        Input::Deadline => {
            if leading {
                step.stepped_down = true;
                step.state.role = Role::Standby;
            }
        }
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str, expires_at_ms: u64, fencing: u64) -> Lease {
        Lease {
            name: "ecs-operator".into(),
            holder: holder.into(),
            expires_at_ms,
            fencing,
        }
    }

    fn leader(expires: u64) -> State {
        State {
            role: Role::Leader,
            lease: Some(lease("me", expires, 3)),
        }
    }

    #[test]
    fn the_transition_table() {
        // (name, state, input, now, -> role, became, stepped, failed, written)
        let margin = 5_000;
        type Case = (
            &'static str,
            State,
            Input,
            u64,
            Role,
            bool,
            bool,
            bool,
            bool,
        );
        let cases: Vec<Case> = vec![
            (
                "standby wins",
                State::standby(),
                Input::Acquired(Acquired::Won(lease("me", 15_000, 1))),
                0,
                Role::Leader,
                true,
                false,
                false,
                true,
            ),
            (
                "standby sees another leader",
                State::standby(),
                Input::Acquired(Acquired::Held(Some(lease("other", 15_000, 1)))),
                0,
                Role::Standby,
                false,
                false,
                false,
                false,
            ),
            (
                "standby's call fails",
                State::standby(),
                Input::Failed,
                0,
                Role::Standby,
                false,
                false,
                true,
                false,
            ),
            (
                "leader renews",
                leader(15_000),
                Input::Renewed(Some(lease("me", 20_000, 3))),
                5_000,
                Role::Leader,
                false,
                false,
                false,
                true,
            ),
            (
                "leader's renew finds it taken",
                leader(15_000),
                Input::Renewed(None),
                5_000,
                Role::Standby,
                false,
                true,
                false,
                false,
            ),
            (
                "leader's renew fails with time to spare",
                leader(15_000),
                Input::Failed,
                5_000,
                Role::Leader,
                false,
                false,
                true,
                false,
            ),
            (
                "leader's renew fails inside the margin",
                leader(15_000),
                Input::Failed,
                10_000,
                Role::Standby,
                false,
                true,
                true,
                false,
            ),
            (
                "leader's deadline",
                leader(15_000),
                Input::Deadline,
                10_000,
                Role::Standby,
                false,
                true,
                false,
                false,
            ),
            (
                "standby's deadline is nothing",
                State::standby(),
                Input::Deadline,
                10_000,
                Role::Standby,
                false,
                false,
                false,
                false,
            ),
            (
                "leader acquiring again finds another",
                leader(15_000),
                Input::Acquired(Acquired::Held(None)),
                5_000,
                Role::Standby,
                false,
                true,
                false,
                false,
            ),
        ];
        for (name, state, input, now, role, became, stepped, failed, written) in cases {
            let step = decide(&state, input, now, margin);
            assert_eq!(step.state.role, role, "{name}");
            assert_eq!(
                (
                    step.became_leader,
                    step.stepped_down,
                    step.failed,
                    step.written
                ),
                (became, stepped, failed, written),
                "{name}"
            );
        }
    }

    #[test]
    fn a_standby_remembers_who_leads() {
        let step = decide(
            &State::standby(),
            Input::Acquired(Acquired::Held(Some(lease("other", 9, 4)))),
            0,
            0,
        );
        assert_eq!(step.state.leader(), Some("other"));
    }
}
