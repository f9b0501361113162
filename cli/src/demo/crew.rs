//! The demo's runner processes: the same binary, started as children, whose
//! events arrive on one channel. Dropping the crew kills whatever is still
//! running, so a demo that fails half-way leaves no process behind.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crate::exit::CliError;

/// One line from a runner, or the end of its output.
#[derive(Debug)]
pub enum Message {
    /// An event line: the verb and its fields.
    Event {
        runner: usize,
        verb: String,
        fields: Vec<String>,
    },
    /// The runner's stdout closed: it exited or was killed.
    Gone { runner: usize },
}

/// The runner processes.
pub struct Crew {
    children: Vec<Option<Child>>,
    events: Receiver<Message>,
}

impl Crew {
    /// Starts `count` runners, each `runledger <global_args> demo-runner
    /// --name runner-N <runner_args>`.
    pub fn spawn(
        count: usize,
        global_args: &[String],
        runner_args: &[String],
    ) -> Result<Crew, CliError> {
        let exe = std::env::current_exe()
            .map_err(|error| CliError::demo(format!("cannot find this program: {error}")))?;
        let (sender, events) = mpsc::channel();
        let mut crew = Crew {
            children: Vec::new(),
            events,
        };
        for runner in 0..count {
            let mut child = Command::new(&exe)
                .args(global_args)
                .arg("demo-runner")
                .args(["--name", &name(runner)])
                .args(runner_args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|error| CliError::demo(format!("cannot start a runner: {error}")))?;
            let stdout = child.stdout.take();
            crew.children.push(Some(child));
            if let Some(stdout) = stdout {
                forward(runner, BufReader::new(stdout), sender.clone());
            }
        }
        Ok(crew)
    }

    /// The runner's process id, while it runs.
    pub fn pid(&self, runner: usize) -> Option<u32> {
        self.children.get(runner)?.as_ref().map(Child::id)
    }

    /// The next message, waiting at most until `deadline`.
    pub fn next(&self, deadline: Instant) -> Option<Message> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.events.recv_timeout(left) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                // Every runner is gone: nothing will come, but the caller
                // still means to wait until the deadline.
                std::thread::sleep(left);
                None
            }
        }
    }

    /// Kills one runner with SIGKILL, as a crash or an OOM kill would.
    pub fn kill(&mut self, runner: usize) -> Result<(), CliError> {
        if let Some(Some(child)) = self.children.get_mut(runner) {
            child.kill().map_err(|error| {
                CliError::demo(format!("cannot kill {}: {error}", name(runner)))
            })?;
            let _ = child.wait();
        }
        if let Some(slot) = self.children.get_mut(runner) {
            *slot = None;
        }
        Ok(())
    }

    /// Closes every runner's stdin (their signal to stop after the current
    /// run) and waits for them, at most `timeout` in all. Returns the
    /// runners that failed or had to be killed.
    pub fn stop(&mut self, timeout: Duration) -> Vec<String> {
        for child in self.children.iter_mut().flatten() {
            drop(child.stdin.take());
        }
        let deadline = Instant::now() + timeout;
        let mut troubled = Vec::new();
        for (runner, slot) in self.children.iter_mut().enumerate() {
            let Some(child) = slot.as_mut() else { continue };
            loop {
                match child.try_wait() {
                    Ok(Some(status)) if status.success() => break,
                    Ok(Some(status)) => {
                        troubled.push(format!("{} exited with {status}", name(runner)));
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        troubled.push(format!("{} did not stop and was killed", name(runner)));
                        break;
                    }
                }
            }
            *slot = None;
        }
        troubled
    }
}

impl Drop for Crew {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The name a runner goes by in the output.
pub fn name(runner: usize) -> String {
    format!("runner-{}", runner + 1)
}

fn forward(runner: usize, stdout: impl BufRead + Send + 'static, sender: Sender<Message>) {
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            let mut parts = line.split('\t').map(str::to_owned);
            let verb = parts.next().unwrap_or_default();
            let fields = parts.collect();
            if sender
                .send(Message::Event {
                    runner,
                    verb,
                    fields,
                })
                .is_err()
            {
                return;
            }
        }
        let _ = sender.send(Message::Gone { runner });
    });
}
