//! Checks on every value that crosses into the ledger. Each check either
//! accepts the value as given or names what is wrong with it; none of them
//! touches the database, so bad input is refused before anything is written.

use crate::error::{Error, Result};

/// Longest repo name, ref name, group key or label value we store.
pub const MAX_NAME_BYTES: usize = 256;
/// Shortest and longest commit ids: abbreviated SHA-1 up to full SHA-256.
pub const SHA_HEX_DIGITS: std::ops::RangeInclusive<usize> = 7..=64;
/// Longest container id or name a runtime hands out.
pub const MAX_CONTAINER_ID_BYTES: usize = 128;

fn check_length(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.len() > max {
        return Err(Error::invalid(
            field,
            format!("is {} bytes long; the limit is {max}", value.len()),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(Error::invalid(
            field,
            format!("{value:?} contains the control character {c:?}"),
        ));
    }
    Ok(())
}

/// A repository name such as `work/tools.git`. It becomes part of a run
/// directory's path, so it must stay a relative path below the base: no
/// leading `/`, no empty, `.` or `..` segment, no backslash.
pub fn repo(value: &str) -> Result<()> {
    check_length("repo", value, MAX_NAME_BYTES)?;
    if value.contains('\\') {
        return Err(Error::invalid(
            "repo",
            format!("{value:?} contains a backslash"),
        ));
    }
    if value
        .split('/')
        .any(|segment| matches!(segment, "" | "." | ".."))
    {
        return Err(Error::invalid(
            "repo",
            format!(
                "{value:?} must be a relative path whose segments are not empty, \".\" or \"..\""
            ),
        ));
    }
    Ok(())
}

/// A full ref name such as `refs/heads/main`, following the rules of
/// `git check-ref-format` that matter here.
pub fn ref_name(value: &str) -> Result<()> {
    check_length("ref_name", value, MAX_NAME_BYTES)?;
    let refuse = |why: &str| Err(Error::invalid("ref_name", format!("{value:?} {why}")));
    if !value.starts_with("refs/") {
        return refuse("is not a full ref name (it must start with \"refs/\")");
    }
    if let Some(c) = value
        .chars()
        .find(|c| matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
    {
        return refuse(&format!("contains {c:?}, which ref names may not"));
    }
    if value.contains("..") || value.contains("@{") {
        return refuse("contains \"..\" or \"@{\", which ref names may not");
    }
    if value.ends_with('/') || value.ends_with('.') || value.ends_with(".lock") {
        return refuse("may not end with \"/\", \".\" or \".lock\"");
    }
    if value
        .split('/')
        .any(|segment| segment.is_empty() || segment.starts_with('.'))
    {
        return refuse("has an empty segment or one that starts with \".\"");
    }
    if value == "refs/" || value.split('/').count() < 3 {
        return refuse("needs a kind and a name after \"refs/\", as in refs/heads/main");
    }
    Ok(())
}

/// A commit id: 7 to 64 hexadecimal digits. Returned in lower case so that
/// the same commit written two ways is recognised as a redelivery.
pub fn sha(value: &str) -> Result<String> {
    if !SHA_HEX_DIGITS.contains(&value.len()) {
        return Err(Error::invalid(
            "sha",
            format!(
                "{value:?} has {} characters; a commit id has {} to {}",
                value.len(),
                SHA_HEX_DIGITS.start(),
                SHA_HEX_DIGITS.end()
            ),
        ));
    }
    if let Some(c) = value.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            "sha",
            format!("{value:?} contains {c:?}, which is not a hexadecimal digit"),
        ));
    }
    Ok(value.to_ascii_lowercase())
}

/// An explicit supersede group key, as CI systems with concurrency groups use.
pub fn group_key(value: &str) -> Result<()> {
    check_length("group", value, MAX_NAME_BYTES)
}

/// A container id or name as Docker and Podman hand them out: a letter or
/// digit, then letters, digits, '_', '.' and '-'. (So never `.`, `..` or
/// an option-like `-x`, which would mean something else in the engine's
/// URL paths.)
pub fn container_id(value: &str) -> Result<()> {
    check_length("container_id", value, MAX_CONTAINER_ID_BYTES)?;
    if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            "container_id",
            format!("{value:?} must start with a letter or a digit"),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(Error::invalid(
            "container_id",
            format!("{value:?} contains {c:?}; container ids are letters, digits, '_', '.', '-'"),
        ));
    }
    Ok(())
}

/// A run id: the canonical hyphenated form of a UUID. Anything else cannot
/// name a run, so it is bad input rather than "not found".
pub fn run_id(value: &str) -> Result<()> {
    let canonical = uuid::Uuid::try_parse(value)
        .map(|id| id.hyphenated().to_string() == value)
        .unwrap_or(false);
    if canonical {
        Ok(())
    } else {
        Err(Error::invalid(
            "run_id",
            format!("{value:?} is not a run id (a lower-case hyphenated UUID)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names_that_could_leave_the_base_directory_are_refused() {
        for bad in [
            "", "/etc", "a/../b", "..", "a//b", "a/", "./a", "a\\b", "a\0b", "a\nb",
        ] {
            assert!(repo(bad).is_err(), "{bad:?} was accepted");
        }

        for good in ["work/tools.git", "tools", "a/b/c", "a..b", ".hidden-ok"] {
            assert!(repo(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn ref_names_must_be_full_and_well_formed() {
        for bad in [
            "main",
            "refs/",
            "refs/heads",
            "refs/heads/",
            "refs/heads/a..b",
            "refs/heads/a b",
            "refs/heads/x.lock",
            "refs/heads//x",
            "refs/heads/.x",
            "refs/heads/a:b",
            "refs/heads/a@{1}",
        ] {
            assert!(ref_name(bad).is_err(), "{bad:?} was accepted");
        }

        for good in ["refs/heads/main", "refs/tags/v1.0", "refs/pull/12/head"] {
            assert!(ref_name(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn sha_is_hex_of_a_sane_length_and_comes_back_lower_case() {
        assert_eq!(sha("ABCDEF0").unwrap(), "abcdef0");

        assert!(sha("abc").is_err());
        assert!(sha("xyz1234").is_err());
        assert!(sha(&"a".repeat(65)).is_err());
    }

    #[test]
    fn oversized_names_are_refused_with_their_length() {
        let long = format!("refs/heads/{}", "x".repeat(MAX_NAME_BYTES));

        let err = ref_name(&long).unwrap_err().to_string();

        assert!(err.contains("the limit is 256"), "{err}");
    }

    #[test]
    fn container_ids_are_engine_names_that_cannot_mean_a_path_or_an_option() {
        for bad in ["", ".", "..", "-rf", "_x", "a/b", "a b", "a;b"] {
            assert!(container_id(bad).is_err(), "{bad:?} was accepted");
        }

        for good in ["3f2a9c1e", "runner-7.build_2", "Web1"] {
            assert!(container_id(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn run_ids_must_be_canonical_uuids() {
        assert!(run_id("0190a5c4-7b1e-7cc2-8a51-6a3d2f1e9b10").is_ok());

        assert!(run_id("0190A5C4-7B1E-7CC2-8A51-6A3D2F1E9B10").is_err());
        assert!(run_id("not-a-run").is_err());
    }
}
