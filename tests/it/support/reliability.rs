//! Support for the reliability tests (bad input, crash loop, disk full, child processes): parent
//! credentials, the real `sofathek` binary as a child process, catalogue and directory
//! invariants, and process checks from /proc.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The parent password the tests set.
pub const PASSWORD: &str = "correct horse battery staple";

/// Sets the parent password (if none) and creates an API token with parent rights; returns the
/// token for `Authorization: Bearer`.
pub fn parent_token(db: &sofathek::db::Db) -> String {
    sofathek::auth::set_password_blocking(db, PASSWORD).expect("set the parent password");
    let token = sofathek::auth::secret::new_api_token().expect("random token");
    let hash = sofathek::auth::secret::hash(&token);
    db.write_blocking(|tx| sofathek::db::profiles::create_token(tx, "reliability tests", &hash))
        .expect("store the token");
    token
}

/// Opens the data directory's catalogue once (migrating it) to set credentials before the
/// server binary starts; returns the token.
pub fn prepare_data_dir(data: &Path) -> String {
    std::fs::create_dir_all(data).expect("data dir");
    let layout = sofathek::library::Layout::new(data);
    layout.create_dirs().expect("layout");
    let db = sofathek::db::Db::open(&layout.database).expect("open the catalogue");
    parent_token(&db)
}

/// The `sofathek` binary Cargo built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sofathek"))
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The real server as a child process.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub data: PathBuf,
    pub log: PathBuf,
}

/// Starts `sofathek serve` on `data` with `env` added; waits until it answers.
#[allow(clippy::disallowed_methods)] // the tests start the real binary; the service uses `process`
pub fn start_server(data: &Path, port: u16, env: &[(&str, String)]) -> Server {
    let log = data.with_extension(format!("log-{port}"));
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .expect("log file");
    let err = out.try_clone().expect("log file");
    let mut cmd = Command::new(binary());
    cmd.arg("serve")
        .env("SOFATHEK_BIND", format!("127.0.0.1:{port}"))
        .env("SOFATHEK_DATA_PATH", data)
        .env("SOFATHEK_MIN_FREE_BYTES", "0")
        .env("SOFATHEK_ALLOW_PRIVATE_URLS", "true")
        .env("SOFATHEK_X264_PRESET", "ultrafast")
        .env("SOFATHEK_ENV", "production")
        .env("RATE_LIMIT_MAX_REQUESTS", "1000000")
        .env(
            "SOFATHEK_WEB_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/frontend"),
        )
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let child = cmd.spawn().expect("start the sofathek binary");
    let server = Server {
        child,
        port,
        data: data.to_path_buf(),
        log,
    };
    server.wait_ready(Duration::from_secs(20));
    server
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_ready(&self, limit: Duration) {
        let began = Instant::now();
        while began.elapsed() < limit {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "the server did not listen within {limit:?}; log:\n{}",
            self.log_tail()
        );
    }

    /// SIGKILL, then reap.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for the exit (at most `limit`).
    pub fn terminate(mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("pid");
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let began = Instant::now();
        while began.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// A blocking-free HTTP client with the parent token.
pub fn client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// What a catalogue and its directory look like, read directly from the files.
#[derive(Debug, Default)]
pub struct State {
    /// Library files the catalogue lists, by video id.
    pub catalogue: BTreeMap<String, Vec<String>>,
    /// Files in `library/`.
    pub library: BTreeSet<String>,
    /// Entries in `staging/`.
    pub staging: BTreeSet<String>,
    /// Jobs: id → (state, error code).
    pub jobs: BTreeMap<String, (String, Option<String>)>,
}

/// Reads the state of a data directory (the server may be stopped or running).
pub fn read_state(data: &Path) -> State {
    let conn = rusqlite::Connection::open_with_flags(
        data.join("sofathek.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the catalogue");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    let pair = |r: &rusqlite::Row<'_>| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?));
    let mut catalogue: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, name) in rows(&conn, "SELECT video_id, name FROM files", pair) {
        catalogue.entry(id).or_default().push(name);
    }
    for (id, name) in rows(&conn, "SELECT id, file_name FROM videos", pair) {
        let files = catalogue.entry(id).or_default();
        if !files.contains(&name) {
            files.push(name);
        }
    }
    let jobs = rows(&conn, "SELECT id, state, error_code FROM jobs", |r| {
        Ok((r.get(0)?, (r.get(1)?, r.get(2)?)))
    })
    .into_iter()
    .collect();
    State {
        catalogue,
        library: names(&data.join("library")),
        staging: names(&data.join("staging")),
        jobs,
    }
}

/// Every row of the query `sql`, read with `row`.
fn rows<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let mut stmt = conn.prepare(sql).expect(sql);
    stmt.query_map([], row)
        .expect(sql)
        .map(|r| r.expect("row"))
        .collect()
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The invariants that hold whenever the server has started (after reconciliation): every
/// catalogue entry has its files, and staging holds only the directories of unfinished jobs
/// (queued or running). A library file without an entry is allowed here (a publish that
/// crashed before its transaction leaves one; the library scan adopts it): see
/// [`unowned_files`] and [`vanished_files`]. Returns the violations.
pub fn violations(data: &Path) -> Vec<String> {
    let state = read_state(data);
    let mut problems = Vec::new();
    for (id, files) in &state.catalogue {
        for file in files {
            let path = data.join("library").join(file);
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() && meta.len() > 0 => {}
                Ok(_) => problems.push(format!("video {id}: {file} is empty or not a file")),
                Err(_) => problems.push(format!("video {id}: {file} is missing")),
            }
        }
    }
    for entry in &state.staging {
        let unfinished = state.jobs.get(entry).is_some_and(|(s, _)| {
            s == "queued" || s == "running" || s == "failed" || s == "cancelled"
        });
        if !unfinished {
            problems.push(format!(
                "staging entry {entry} belongs to no unfinished job"
            ));
        }
    }
    problems
}

/// Library files no catalogue entry owns (hidden files aside): none once a scan had time to
/// adopt what a crash left.
pub fn unowned_files(data: &Path) -> Vec<String> {
    let state = read_state(data);
    let owned: BTreeSet<&String> = state.catalogue.values().flatten().collect();
    state
        .library
        .iter()
        .filter(|f| !f.starts_with('.') && !owned.contains(f))
        .cloned()
        .collect()
}

/// The library's files with the video that owned each (`None`: not catalogued yet).
pub fn library_owners(data: &Path) -> BTreeMap<String, Option<String>> {
    let state = read_state(data);
    let mut owners: BTreeMap<String, Option<String>> =
        state.library.iter().map(|f| (f.clone(), None)).collect();
    for (id, files) in &state.catalogue {
        for file in files {
            if let Some(owner) = owners.get_mut(file) {
                *owner = Some(id.clone());
            }
        }
    }
    owners
}

/// Files of an earlier [`library_owners`] snapshot that are gone now although no parent
/// deleted their video (`deleted`: the ids a delete was sent for). A file a scan adopted after
/// the snapshot belongs to the video named by its stem.
pub fn vanished_files(
    before: &BTreeMap<String, Option<String>>,
    data: &Path,
    deleted: &BTreeSet<String>,
) -> Vec<String> {
    let now = names(&data.join("library"));
    before
        .iter()
        .filter(|(file, _)| !now.contains(*file))
        .filter(|(file, owner)| {
            let explicit = owner.as_ref().is_some_and(|id| deleted.contains(id))
                || deleted.iter().any(|id| file.starts_with(&format!("{id}.")));
            !explicit
        })
        .map(|(file, owner)| format!("{file} (owned by {owner:?}) vanished without a delete"))
        .collect()
}

/// One process as /proc shows it: its id, its /proc directory, its `comm` and the fields of
/// its `stat` line after the `comm`.
struct ProcStat {
    pid: u32,
    dir: PathBuf,
    comm: String,
    fields: String,
}

/// Every process in /proc whose `stat` could be read (one that exits meanwhile is left out).
fn proc_stats() -> Vec<ProcStat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = stat
            .get(stat.find('(').map_or(0, |i| i + 1)..close)
            .unwrap_or("");
        found.push(ProcStat {
            pid,
            dir: entry.path(),
            comm: comm.to_owned(),
            fields: stat[close + 1..].to_owned(),
        });
    }
    found
}

/// Processes whose executable or command line names `names`, as (pid, state, ppid, command).
pub fn processes_named(names: &[&str]) -> Vec<(u32, char, u32, String)> {
    let mut found = Vec::new();
    for info in proc_stats() {
        let Ok(cmdline) = std::fs::read(info.dir.join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let mut fields = info.fields.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = fields.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        if names
            .iter()
            .any(|n| info.comm.contains(n) || cmd.contains(n))
        {
            found.push((
                info.pid,
                state,
                ppid,
                if cmd.is_empty() { info.comm } else { cmd },
            ));
        }
    }
    found
}

/// Descendants of `root` (children, grandchildren, ...) from /proc.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parents: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for info in proc_stats() {
        let ppid = info
            .fields
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok());
        if let Some(ppid) = ppid {
            parents.entry(ppid).or_default().push(info.pid);
        }
    }
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        for child in parents.get(&pid).cloned().unwrap_or_default() {
            out.push(child);
            todo.push(child);
        }
    }
    out
}
