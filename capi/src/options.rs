//! Options for opening a ledger: an opaque object with one setter per
//! setting, so that settings can be added without breaking the ABI.

use std::ffi::c_char;
use std::path::PathBuf;
use std::time::Duration;

use core::{Config, KillConfig, ProtectedRefs, RuntimeConfig, Synchronous};

use crate::boundary::{self, CallError, invalid, non_null};
use crate::status::runs_status;
use crate::strings;

/// Settings for `runs_open_with`, made by `runs_options_new` with the
/// defaults and freed with `runs_options_free`. Not safe to change from two
/// threads at once; once passed to `runs_open_with` it may be freed or
/// reused at once, the handle keeps its own copy.
#[derive(Debug, Default)]
pub struct runs_options {
    config: Config,
}

/// Durability of each commit, for `runs_options_set_synchronous`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum runs_synchronous {
    /// No fsync: a power loss may lose recent commits or corrupt the file.
    Off = 0,
    /// Fsync at checkpoints: a power loss may lose the last commits but
    /// never corrupts the file. The default.
    Normal = 1,
    /// Fsync at every commit.
    Full = 2,
    /// Like full, and also syncs the directory after a WAL reset.
    Extra = 3,
}

/// Makes options holding the defaults: busy timeout 5 s, synchronous
/// normal, background checkpoints, no base directory, no protected refs,
/// lease 60 s, kill with SIGKILL, no grace, kill timeout 10 s, the Docker
/// runtime found through `DOCKER_HOST` or the default socket. Writes them
/// to `*out`; free them with `runs_options_free`.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_new(out: *mut *mut runs_options) -> runs_status {
    boundary::call("runs_options_new", || {
        let out = non_null(out, "out")?;

        let options = Box::into_raw(Box::default());

        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(options) };
        Ok(())
    })
}

/// Frees options. NULL is a no-op.
///
/// # Safety
/// `options` is NULL or made by `runs_options_new` and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_free(options: *mut runs_options) {
    boundary::guard_value((), || {
        if !options.is_null() {
            // SAFETY: made by `runs_options_new` through `Box::into_raw`.
            drop(unsafe { Box::from_raw(options) });
        }
    });
}

/// The configuration inside `options`, for `runs_open_with`.
///
/// # Safety
/// `options` is NULL or made by `runs_options_new` and not yet freed.
pub(crate) unsafe fn config_of<'a>(options: *const runs_options) -> Result<&'a Config, CallError> {
    // SAFETY: the caller's contract.
    unsafe { options.as_ref() }
        .map(|options| &options.config)
        .ok_or(CallError::Null { arg: "options" })
}

/// Applies `change` to the options behind `options` for setter `name`.
///
/// # Safety
/// `options` is NULL or made by `runs_options_new`, not yet freed, and not
/// used by another thread during the call.
unsafe fn set(
    name: &str,
    options: *mut runs_options,
    change: impl FnOnce(&mut Config) -> Result<(), CallError>,
) -> runs_status {
    boundary::call(name, || {
        // SAFETY: the caller's contract.
        let options = unsafe { options.as_mut() }.ok_or(CallError::Null { arg: "options" })?;
        // Build the new configuration aside so a refused value changes nothing.
        let mut config = options.config.clone();
        change(&mut config)?;
        options.config = config;
        Ok(())
    })
}

/// Sets how long a write waits for another connection's lock before
/// failing with `RUNS_STATUS_BUSY`. Must be more than 0.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_busy_timeout_ms(
    options: *mut runs_options,
    timeout_ms: u64,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_set_busy_timeout_ms", options, |config| {
            if timeout_ms == 0 {
                return Err(invalid("busy_timeout", "must be longer than zero"));
            }
            config.busy_timeout = Duration::from_millis(timeout_ms);
            Ok(())
        })
    }
}

/// Sets the durability of each commit: a `runs_synchronous` value.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_synchronous(
    options: *mut runs_options,
    synchronous: u32,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_set_synchronous", options, |config| {
            config.synchronous = match synchronous {
                mode if mode == runs_synchronous::Off as u32 => Synchronous::Off,
                mode if mode == runs_synchronous::Normal as u32 => Synchronous::Normal,
                mode if mode == runs_synchronous::Full as u32 => Synchronous::Full,
                mode if mode == runs_synchronous::Extra as u32 => Synchronous::Extra,
                other => {
                    return Err(invalid(
                        "synchronous",
                        format!("unknown mode {other}; expected 0 (off) to 3 (extra)"),
                    ));
                }
            };
            Ok(())
        })
    }
}

/// Sets where the write-ahead log is copied into the database. With `true`
/// (the default) and synchronous off or normal, a handle that has committed
/// 100 times does it on a thread of its own; otherwise inside the commit
/// that fills the log, as SQLite does by default (that commit then waits
/// for the copy and its fsyncs).
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_background_checkpoints(
    options: *mut runs_options,
    enabled: bool,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set(
            "runs_options_set_background_checkpoints",
            options,
            |config| {
                config.background_checkpoints = enabled;
                Ok(())
            },
        )
    }
}

/// Sets the directory under which `runs_create` makes
/// `<base_dir>/<repo>/<run id>/` with `workspace/` and `logs/`. NULL makes
/// no run directories (the default). The string is copied.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile;
/// `base_dir` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_base_dir(
    options: *mut runs_options,
    base_dir: *const c_char,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_set_base_dir", options, |config| {
            let base_dir = strings::optional(base_dir, "base_dir")?;
            if base_dir == Some("") {
                return Err(invalid("base_dir", "must not be empty"));
            }
            config.base_dir = base_dir.map(PathBuf::from);
            Ok(())
        })
    }
}

/// Adds a protected ref pattern: a full ref name in which `*` matches any
/// characters and `?` one, as in `refs/heads/release/*`. A newer push to a
/// protected ref leaves its active run running. The string is copied.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile;
/// `pattern` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_add_protected_ref(
    options: *mut runs_options,
    pattern: *const c_char,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_add_protected_ref", options, |config| {
            let pattern = strings::required(pattern, "pattern")?;
            ProtectedRefs::validate_pattern(pattern)?;
            let mut patterns = config.protected_refs.patterns().to_vec();
            patterns.push(pattern.to_owned());
            config.protected_refs = ProtectedRefs::new(patterns);
            Ok(())
        })
    }
}

/// Sets how long a claim or heartbeat keeps a run's lease. Must be more
/// than 0.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_lease_ms(
    options: *mut runs_options,
    lease_ms: u64,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_set_lease_ms", options, |config| {
            if lease_ms == 0 {
                return Err(invalid("lease", "must be longer than zero"));
            }
            config.lease = Duration::from_millis(lease_ms);
            Ok(())
        })
    }
}

/// Sets the first signal a kill sends: a name such as `SIGTERM`, or a
/// number from 1 to 64. The default is `SIGKILL`. The string is copied.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile;
/// `signal` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_kill_signal(
    options: *mut runs_options,
    signal: *const c_char,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_set_kill_signal", options, |config| {
            let signal = strings::required(signal, "signal")?;
            KillConfig::validate_signal(signal)?;
            config.kill.signal = signal.to_owned();
            Ok(())
        })
    }
}

/// Sets how long a container gets to exit after a signal other than
/// SIGKILL before SIGKILL follows. 0 (the default) sends the signal alone.
/// It must be shorter than the kill timeout; since the two may be set in
/// either order, `runs_open_with` checks that, not this setter.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_kill_grace_ms(
    options: *mut runs_options,
    grace_ms: u64,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_set_kill_grace_ms", options, |config| {
            config.kill.grace = (grace_ms > 0).then(|| Duration::from_millis(grace_ms));
            Ok(())
        })
    }
}

/// Sets the longest the kills of one operation may delay it; a hung or
/// absent engine costs at most this, the kill is recorded as failed and
/// `runs_reconcile` retries it. Must be more than 0.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_kill_timeout_ms(
    options: *mut runs_options,
    timeout_ms: u64,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_set_kill_timeout_ms", options, |config| {
            if timeout_ms == 0 {
                return Err(invalid("kill_timeout", "must be longer than zero"));
            }
            config.kill = KillConfig {
                timeout: Duration::from_millis(timeout_ms),
                ..config.kill.clone()
            };
            Ok(())
        })
    }
}

/// Kills go to the Docker Engine API where `DOCKER_HOST` points, else the
/// default socket (the default). Podman's compatible socket works too.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_runtime_docker(
    options: *mut runs_options,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_set_runtime_docker", options, |config| {
            config.runtime = RuntimeConfig::Docker;
            Ok(())
        })
    }
}

/// Kills go to the Docker Engine API at `host`, as in
/// `unix:///run/docker.sock`. The string is copied.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile;
/// `host` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_runtime_docker_at(
    options: *mut runs_options,
    host: *const c_char,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_set_runtime_docker_at", options, |config| {
            let host = strings::required(host, "host")?;
            if host.is_empty() {
                return Err(invalid("host", "must not be empty"));
            }
            config.runtime = RuntimeConfig::DockerAt(host.to_owned());
            Ok(())
        })
    }
}

/// Kills are recorded on the run (kill state requested) but not carried
/// out: for callers that manage their own processes and read the ledger to
/// learn what to stop.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_options_set_runtime_record_only(
    options: *mut runs_options,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        set("runs_options_set_runtime_record_only", options, |config| {
            config.runtime = RuntimeConfig::RecordOnly;
            Ok(())
        })
    }
}
