//! The README's examples are copies of files the test suites compile and
//! run. Every block between `<!-- file:PATH:begin -->` and
//! `<!-- file:PATH:end -->` must be exactly the file at PATH, fenced; the
//! fenced block after `<!-- excerpt:PATH -->` must stand in the file at PATH
//! as it is.

#[path = "../examples/rust/tour.rs"]
mod tour;

use std::path::Path;

fn marked_blocks(readme: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut rest = readme;
    while let Some(start) = rest.find("<!-- file:") {
        let after = &rest[start + "<!-- file:".len()..];
        let path = &after[..after.find(":begin -->").expect("a begin marker")];
        let end_marker = format!("<!-- file:{path}:end -->");
        let body_start = after.find("-->").unwrap() + 3;
        let body_len = after[body_start..]
            .find(&end_marker)
            .unwrap_or_else(|| panic!("no end marker for {path}"));
        blocks.push((
            path.to_owned(),
            after[body_start..body_start + body_len].trim().to_owned(),
        ));
        rest = &after[body_start + body_len + end_marker.len()..];
    }
    blocks
}

#[test]
fn every_file_copied_into_the_readme_is_the_file_itself() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();

    let blocks = marked_blocks(&readme);

    assert!(blocks.len() >= 3, "the README lost its tested examples");
    for (path, block) in blocks {
        let file = std::fs::read_to_string(root.join(&path))
            .unwrap_or_else(|err| panic!("README copies {path}, which cannot be read: {err}"));
        let fence = block.lines().next().unwrap_or_default();
        assert!(
            fence.starts_with("```"),
            "{path}: the copy is not a fenced block"
        );
        let expected = format!("{fence}\n{file}```");
        assert_eq!(
            block, expected,
            "README.md's copy of {path} differs from the file"
        );
    }
}

/// The body of each fenced block that follows an excerpt marker, by path.
fn excerpts(readme: &str) -> Vec<(String, String)> {
    readme
        .split("<!-- excerpt:")
        .skip(1)
        .map(|after| {
            let (path, rest) = after.split_once(" -->").expect("an excerpt marker ends");
            let fence_start = rest.find("```").expect("a fenced block after the marker");
            let body = &rest[fence_start..];
            let body = &body[body.find('\n').unwrap() + 1..];
            let body = &body[..body.find("```").expect("the fence closes")];
            (path.to_owned(), body.to_owned())
        })
        .collect()
}

#[test]
fn every_excerpt_in_the_readme_stands_in_its_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();

    let excerpts = excerpts(&readme);

    assert!(!excerpts.is_empty(), "the README lost its checked excerpts");
    for (path, body) in excerpts {
        let file = std::fs::read_to_string(root.join(&path))
            .unwrap_or_else(|err| panic!("README quotes {path}, which cannot be read: {err}"));
        assert!(
            file.contains(&body),
            "README.md's excerpt of {path} is not in the file:\n{body}"
        );
    }
}

#[test]
fn the_rust_tour_of_the_readme_runs() {
    tour::main().unwrap();
}
