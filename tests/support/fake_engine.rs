//! A fake Docker engine on a Unix socket, for the faults a real, shared
//! engine must not be made to produce: a hang, errors on every call, a crash
//! in the middle of a kill, a restart. It keeps a table of containers with
//! their labels and records every kill it receives, so a test can tell which
//! containers the library tried to stop.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use runledger::runtime::RUN_ID_LABEL;

/// How the engine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers like a working engine.
    Healthy,
    /// Reads each request and never answers.
    Hangs,
    /// Answers every request with 500 and a message.
    Fails,
    /// Answers inspections, but dies (closes the connection without an
    /// answer) on the first kill and stays dead until restarted.
    DiesOnKill,
    /// Closes every connection at once: an engine on its way down.
    Dead,
}

#[derive(Debug, Clone)]
pub struct Container {
    pub run_id: Option<String>,
    pub other_labels: Vec<(String, String)>,
    pub running: bool,
}

#[derive(Debug)]
struct State {
    behaviour: Behaviour,
    containers: HashMap<String, Container>,
    /// The container of every kill request received, in order.
    kills: Vec<String>,
    /// Connections held open by a hanging engine.
    held: Vec<UnixStream>,
}

/// The engine; it stops listening when dropped.
pub struct FakeEngine {
    socket: PathBuf,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FakeEngine {
    /// Starts an engine listening on `socket`.
    pub fn start(socket: &Path, behaviour: Behaviour) -> FakeEngine {
        let state = Arc::new(Mutex::new(State {
            behaviour,
            containers: HashMap::new(),
            kills: Vec::new(),
            held: Vec::new(),
        }));
        FakeEngine::listen(socket, state)
    }

    fn listen(socket: &Path, state: Arc<Mutex<State>>) -> FakeEngine {
        let _ = std::fs::remove_file(socket);
        let listener = UnixListener::bind(socket).expect("bind the fake engine's socket");
        let stop = Arc::new(AtomicBool::new(false));
        let (serving, stopping) = (Arc::clone(&state), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &serving);
                }
            }
        });
        FakeEngine {
            socket: socket.to_path_buf(),
            state,
            stop,
        }
    }

    /// The address to give the library.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn set(&self, behaviour: Behaviour) {
        let mut state = self.state.lock().unwrap();
        state.behaviour = behaviour;
        state.held.clear();
    }

    /// Adds a running container labelled with `run_id` (or unlabelled).
    pub fn add(&self, container_id: &str, run_id: Option<&str>) {
        self.add_labelled(container_id, run_id, &[]);
    }

    /// Adds a running container with labels besides the run's.
    pub fn add_labelled(&self, container_id: &str, run_id: Option<&str>, other: &[(&str, &str)]) {
        self.state.lock().unwrap().containers.insert(
            container_id.to_owned(),
            Container {
                run_id: run_id.map(str::to_owned),
                other_labels: other
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                running: true,
            },
        );
    }

    pub fn running(&self, container_id: &str) -> bool {
        self.state.lock().unwrap().containers[container_id].running
    }

    /// The containers the engine was asked to kill, in order.
    pub fn kills(&self) -> Vec<String> {
        self.state.lock().unwrap().kills.clone()
    }

    /// Stops listening and removes the socket: the engine is gone.
    pub fn stop(self) -> Stopped {
        self.shut();
        Stopped {
            socket: self.socket.clone(),
            state: Arc::clone(&self.state),
        }
    }

    fn shut(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = UnixStream::connect(&self.socket);
        let _ = std::fs::remove_file(&self.socket);
        self.state.lock().unwrap().held.clear();
    }
}

impl Drop for FakeEngine {
    fn drop(&mut self) {
        self.shut();
    }
}

/// An engine that was stopped, with its containers, ready to come back.
pub struct Stopped {
    socket: PathBuf,
    state: Arc<Mutex<State>>,
}

impl Stopped {
    /// Listens again on the same socket with the same containers.
    pub fn restart(self, behaviour: Behaviour) -> FakeEngine {
        self.state.lock().unwrap().behaviour = behaviour;
        FakeEngine::listen(&self.socket, self.state)
    }
}

fn serve(mut stream: UnixStream, state: &Mutex<State>) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let mut first = text.lines().next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let target = first.next().unwrap_or("");
    let path = target.split('?').next().unwrap_or("");
    let route = path.find("/containers/").map_or("", |at| &path[at..]);

    let mut state = state.lock().unwrap();
    let is_kill = method == "POST" && route.ends_with("/kill");
    match state.behaviour {
        Behaviour::Hangs => {
            state.held.push(stream);
            return;
        }
        Behaviour::Dead => return,
        Behaviour::Fails => {
            respond(
                &mut stream,
                "500 Internal Server Error",
                r#"{"message":"engine on fire"}"#,
            );
            return;
        }
        Behaviour::DiesOnKill if is_kill => {
            let id = route
                .trim_start_matches("/containers/")
                .trim_end_matches("/kill");
            state.kills.push(id.to_owned());
            state.behaviour = Behaviour::Dead;
            return;
        }
        Behaviour::Healthy | Behaviour::DiesOnKill => {}
    }

    if route == "/containers/json" {
        let listed: Vec<String> = state
            .containers
            .iter()
            .filter(|(_, c)| c.running && c.run_id.is_some())
            .map(|(id, c)| {
                format!(
                    r#"{{"Id":"{id}","State":"running","Labels":{{"{RUN_ID_LABEL}":"{}"}}}}"#,
                    c.run_id.as_deref().unwrap_or_default()
                )
            })
            .collect();
        respond(&mut stream, "200 OK", &format!("[{}]", listed.join(",")));
    } else if let Some(id) = route
        .strip_prefix("/containers/")
        .and_then(|rest| rest.strip_suffix("/json"))
    {
        let Some(container) = state.containers.get(id) else {
            respond(
                &mut stream,
                "404 Not Found",
                r#"{"message":"No such container"}"#,
            );
            return;
        };
        let labels: Vec<String> = container
            .run_id
            .iter()
            .map(|run| (RUN_ID_LABEL, run.as_str()))
            .chain(
                container
                    .other_labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .map(|(k, v)| format!(r#""{k}":"{v}""#))
            .collect();
        let labels = labels.join(",");
        let body = format!(
            r#"{{"Id":"{id}","State":{{"Running":{}}},"Config":{{"Labels":{{{labels}}}}}}}"#,
            container.running
        );
        respond(&mut stream, "200 OK", &body);
    } else if let Some(id) = route
        .strip_prefix("/containers/")
        .and_then(|rest| rest.strip_suffix("/kill"))
    {
        let id = id.to_owned();
        state.kills.push(id.clone());
        match state.containers.get_mut(&id) {
            None => respond(
                &mut stream,
                "404 Not Found",
                r#"{"message":"No such container"}"#,
            ),
            Some(c) if !c.running => respond(
                &mut stream,
                "409 Conflict",
                r#"{"message":"container is not running"}"#,
            ),
            Some(c) => {
                c.running = false;
                respond(&mut stream, "204 No Content", "");
            }
        }
    } else {
        respond(
            &mut stream,
            "404 Not Found",
            r#"{"message":"page not found"}"#,
        );
    }
}

fn respond(stream: &mut UnixStream, status: &str, body: &str) {
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}
