//! The committed header must be exactly what cbindgen makes of the sources,
//! so C and Go callers never compile against a stale declaration.

use std::path::PathBuf;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generated_header() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml"))
        .expect("capi/cbindgen.toml is readable");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen parses the C ABI")
        .write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_matches_the_sources() {
    let path = crate_dir().join("../include/runledger.h");
    let fresh = generated_header();

    // Regenerating is opt-in, so that CI can only ever compare.
    if std::env::var_os("RUNLEDGER_WRITE_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("include/runledger.h is writable");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();

    assert!(
        committed == fresh,
        "include/runledger.h is stale; regenerate it with \
         RUNLEDGER_WRITE_HEADER=1 cargo test -p runledger-capi --test header"
    );
}
