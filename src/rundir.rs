//! Run directories: `<base>/<repo>/<run-id>/` with `workspace/` and `logs/`.
//!
//! Repo names are validated as relative paths without `..` before they get
//! here; this module also refuses to walk through a symbolic link that is
//! already in the tree, so a link planted below the base cannot redirect a
//! run directory elsewhere.

use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Directories are created without write access for group and others.
const DIR_MODE: u32 = 0o755;

/// The directory of run `run_id` of `repo` below `base`.
pub(crate) fn path_of(base: &Path, repo: &str, run_id: &str) -> PathBuf {
    base.join(repo).join(run_id)
}

/// Creates the run directory and its `workspace/` and `logs/` folders.
pub(crate) fn create(base: &Path, repo: &str, run_id: &str) -> Result<PathBuf> {
    let dir = path_of(base, repo, run_id);
    let wrap = |path: &Path| {
        let path = path.to_path_buf();
        move |source: io::Error| Error::RunDirectory { path, source }
    };
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true).mode(DIR_MODE);
    builder.create(base).map_err(wrap(base))?;

    refuse_links(base, Path::new(repo))?;
    builder.create(dir.join("workspace")).map_err(wrap(&dir))?;
    builder.create(dir.join("logs")).map_err(wrap(&dir))?;
    Ok(dir)
}

/// Removes a run directory and everything in it; a missing one is fine.
/// Like [`create`], it never goes through a symbolic link below the base.
pub(crate) fn remove(base: &Path, repo: &str, run_id: &str) -> Result<()> {
    let dir = path_of(base, repo, run_id);
    refuse_links(base, &Path::new(repo).join(run_id))?;
    match fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::RunDirectory { path: dir, source }),
    }
}

/// Walks down from `base` along `relative` one segment at a time and fails
/// at the first symbolic link; segments that do not exist yet are fine.
fn refuse_links(base: &Path, relative: &Path) -> Result<()> {
    let mut current = base.to_path_buf();
    for segment in relative.components() {
        current.push(segment);
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(Error::RunDirectory {
                    path: current,
                    source: io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        "is a symbolic link; run directories never follow links",
                    ),
                });
            }
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(Error::RunDirectory {
                    path: current,
                    source,
                });
            }
        }
    }
    Ok(())
}
