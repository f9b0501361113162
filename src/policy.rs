//! The supersede policy: given the live runs of a group and a new push, what
//! should happen. Pure decisions, no I/O, so every store applies the same
//! rules and the rules can be tested on their own.

use jiff::Timestamp;

use crate::error::{Error, Result};
use crate::state::RunState;
use crate::validate;

/// A live run of the group a push lands in, as the store read it inside the
/// create transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveRun {
    pub id: String,
    pub sha: String,
    pub state: RunState,
    pub pushed_at: Timestamp,
    pub protected: bool,
    pub container_id: Option<String>,
}

/// What a create must do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision<'a> {
    /// A live run already has this sha: a redelivered webhook. Return it.
    Duplicate(&'a LiveRun),
    /// A live run was pushed later than this push: record the new run as
    /// superseded by it and change nothing else.
    OutOfOrder { newer: &'a LiveRun },
    /// Replace these runs and insert the new one as pending.
    Supersede { replaced: Vec<&'a LiveRun> },
}

/// Decides what a push of `sha` at `pushed_at` does to a group whose live
/// runs are `live`.
///
/// An active run whose ref was protected when it was created keeps running;
/// everything else live is replaced.
pub(crate) fn decide<'a>(live: &'a [LiveRun], sha: &str, pushed_at: Timestamp) -> Decision<'a> {
    if let Some(same) = live.iter().find(|run| run.sha == sha) {
        return Decision::Duplicate(same);
    }
    if let Some(newer) = live
        .iter()
        .filter(|run| run.pushed_at > pushed_at)
        .max_by_key(|run| run.pushed_at)
    {
        return Decision::OutOfOrder { newer };
    }
    let replaced = live
        .iter()
        .filter(|run| !(run.state == RunState::Active && run.protected))
        .collect();
    Decision::Supersede { replaced }
}

/// Ref patterns whose active run a newer push leaves running.
///
/// A pattern is a full ref name in which `*` stands for any run of
/// characters (slashes included) and `?` for exactly one character, as in
/// `refs/heads/release/*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectedRefs {
    patterns: Vec<String>,
}

impl ProtectedRefs {
    /// Protects the refs matching any of `patterns`.
    pub fn new<I, S>(patterns: I) -> ProtectedRefs
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ProtectedRefs {
            patterns: patterns.into_iter().map(Into::into).collect(),
        }
    }

    /// Accepts a pattern that is a full ref name once its wildcards are
    /// read as ordinary characters, such as `refs/heads/release/*`.
    pub fn validate_pattern(pattern: &str) -> Result<()> {
        validate::ref_name(&pattern.replace(['*', '?'], "x")).map_err(|_| {
            Error::invalid(
                "protected_refs",
                format!("{pattern:?} is not a full ref name pattern such as refs/heads/release/*"),
            )
        })
    }

    /// The patterns, as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `ref_name` matches one of the patterns.
    pub fn matches(&self, ref_name: &str) -> bool {
        self.patterns
            .iter()
            .any(|pattern| glob_matches(pattern.as_bytes(), ref_name.as_bytes()))
    }
}

/// Matches `*` and `?` wildcards by backtracking to the last star, which
/// is linear for patterns with one star and never worse than quadratic.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                last_star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match last_star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    last_star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(id: &str, sha: &str, state: RunState, pushed_at_s: i64, protected: bool) -> LiveRun {
        LiveRun {
            id: id.into(),
            sha: sha.into(),
            state,
            pushed_at: Timestamp::from_second(pushed_at_s).unwrap(),
            protected,
            container_id: None,
        }
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn same_sha_live_is_a_duplicate_even_if_pushed_earlier() {
        let runs = [live("a", "aaaaaaa", RunState::Active, 10, false)];

        assert_eq!(
            decide(&runs, "aaaaaaa", at(5)),
            Decision::Duplicate(&runs[0])
        );
    }

    #[test]
    fn an_older_push_is_superseded_by_the_newest_later_live_run() {
        let runs = [
            live("p", "bbbbbbb", RunState::Pending, 30, true),
            live("a", "aaaaaaa", RunState::Active, 20, true),
        ];

        assert_eq!(
            decide(&runs, "ccccccc", at(10)),
            Decision::OutOfOrder { newer: &runs[0] }
        );
    }

    #[test]
    fn a_newer_push_replaces_everything_live_but_a_protected_active_run() {
        let runs = [
            live("a", "aaaaaaa", RunState::Active, 10, true),
            live("p", "bbbbbbb", RunState::Pending, 20, true),
        ];

        assert_eq!(
            decide(&runs, "ccccccc", at(30)),
            Decision::Supersede {
                replaced: vec![&runs[1]]
            }
        );
    }

    #[test]
    fn an_equal_push_time_is_not_out_of_order() {
        let runs = [live("a", "aaaaaaa", RunState::Active, 10, false)];

        assert_eq!(
            decide(&runs, "bbbbbbb", at(10)),
            Decision::Supersede {
                replaced: vec![&runs[0]]
            }
        );
    }

    #[test]
    fn protected_patterns_match_with_wildcards() {
        let protected =
            ProtectedRefs::new(["refs/heads/main", "refs/heads/release/*", "refs/tags/v?"]);

        assert!(protected.matches("refs/heads/main"));
        assert!(protected.matches("refs/heads/release/1.2/hotfix"));
        assert!(protected.matches("refs/tags/v1"));

        assert!(!protected.matches("refs/heads/mainline"));
        assert!(!protected.matches("refs/tags/v10"));
        assert!(!ProtectedRefs::default().matches("refs/heads/main"));
    }
}
