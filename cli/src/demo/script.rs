//! What the forge receives during the demo: three bursts of push events.
//! Push times are offsets from the start of the story, so the out-of-order
//! and redelivered events are visible in the data itself.

/// One webhook delivery from the forge.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub repo: &'static str,
    pub ref_name: &'static str,
    pub sha: &'static str,
    /// When the push happened, in seconds after the story starts.
    pub pushed_at_secs: i64,
}

const fn push(
    repo: &'static str,
    ref_name: &'static str,
    sha: &'static str,
    pushed_at_secs: i64,
) -> Delivery {
    Delivery {
        repo,
        ref_name,
        sha,
        pushed_at_secs,
    }
}

pub const TOOLS: &str = "work/tools.git";
pub const SITE: &str = "work/site.git";
pub const ENGINE: &str = "work/engine.git";
pub const MAIN: &str = "refs/heads/main";
pub const LOGIN: &str = "refs/heads/feature/login";
pub const DOCS: &str = "refs/heads/docs";

/// The run whose runner the demo kills: nothing pushes to its ref again
/// until reconcile has failed it, so only the lease can end it.
pub const ORPHAN_REF: (&str, &str) = (ENGINE, MAIN);

/// The ref whose supersede chain ends the demo.
pub const CHAIN_REF: (&str, &str) = (TOOLS, MAIN);

/// A burst of pushes on several repositories, one of them redelivered.
/// The engine push comes first so a runner holds it when the demo kills
/// that runner.
pub const FIRST_BURST: &[Delivery] = &[
    push(ENGINE, MAIN, "d1e0001", 0),
    push(TOOLS, MAIN, "a1a0001", 1),
    push(SITE, MAIN, "b1b0001", 2),
    push(TOOLS, LOGIN, "c1c0001", 3),
    push(TOOLS, MAIN, "a1a0001", 1),
    push(SITE, DOCS, "e1e0001", 4),
];

/// Newer pushes while runs are active: supersedes of active and pending
/// runs, an event that arrives late, and another redelivery.
pub const SECOND_BURST: &[Delivery] = &[
    push(TOOLS, MAIN, "a2a0002", 10),
    push(SITE, MAIN, "b0b0000", -5),
    push(TOOLS, LOGIN, "c2c0002", 11),
    push(TOOLS, LOGIN, "c2c0002", 11),
    push(TOOLS, MAIN, "a3a0003", 12),
    push(SITE, MAIN, "bad0002", 13),
];

/// After reconcile: the forge pushes again to the ref whose runner died.
pub const THIRD_BURST: &[Delivery] = &[push(ENGINE, MAIN, "d2e0002", 20)];
