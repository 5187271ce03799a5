//! The egress guard: every outbound connection of a download goes through a small HTTP and
//! HTTPS (`CONNECT`) forward proxy inside the server, so that a pasted link cannot make the
//! server fetch from the family's router, NAS or the server itself.
//!
//! The URL policy checks the submitted URL once; yt-dlp then resolves the host again, follows
//! redirects, reads manifests and fetches fragments, thumbnails and subtitles from other hosts.
//! So yt-dlp (and the ffmpeg it may run) gets this proxy (`--proxy`, `http_proxy`): the guard
//! resolves each host itself, checks **every** address against the URL policy at connect time
//! (`urlpolicy::is_forbidden_ip`), connects to the checked address (no second lookup: a DNS
//! answer that changes between lookups gains nothing) and refuses anything else with a reason
//! that becomes the job's error.
//!
//! - The proxy listens on 127.0.0.1 on an ephemeral port. Each job gets a [`Ticket`]: a random
//!   credential in its proxy URL, so nothing else on the machine can use the proxy; the ticket
//!   ends (and its tunnels close) when the job's download ends.
//! - `SOFATHEK_ALLOW_PRIVATE_URLS=true` allows every private target;
//!   `SOFATHEK_ALLOWED_PRIVATE_HOSTS=nas.lan:8080,127.0.0.1:9000` allows only the named
//!   host:port pairs, as written in URLs (a name that resolves to an allowed IP is not allowed
//!   by it).
//! - Limits per job: [`MAX_CONNECTIONS`] at once and the bytes a ticket allows (the download
//!   limit plus room for manifests, subtitles and thumbnails). Refusals are counted in metrics.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::urlpolicy::is_forbidden_ip;

/// Connections one job may have open at once.
pub const MAX_CONNECTIONS: usize = 32;
/// Longest request head the proxy reads.
const MAX_HEAD: usize = 16 * 1024;
/// Time to read a request head, resolve a host or connect to it.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// Copy buffer of a tunnel.
const BUFFER: usize = 64 * 1024;

/// One `host:port` of `SOFATHEK_ALLOWED_PRIVATE_HOSTS`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostPort {
    /// Lower case, IPv6 without brackets.
    pub host: String,
    pub port: u16,
}

/// Parses `host:port,host:port` (IPv6 as `[::1]:8080`).
pub fn parse_allow_list(raw: &str) -> Result<Vec<HostPort>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (host, port) = item
                .rsplit_once(':')
                .ok_or_else(|| format!("'{item}' is not host:port"))?;
            let port: u16 = port
                .parse()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("'{item}' has no valid port"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
                return Err(format!("'{item}' has no valid host"));
            }
            Ok(HostPort {
                host: host.to_ascii_lowercase(),
                port,
            })
        })
        .collect()
}

/// Answers for host names from a file instead of DNS: a test seam
/// (`SOFATHEK_EGRESS_HOSTS_FILE`). Each line is `name address [address …]`; a name on several
/// lines gets each line's answer in turn, the last one again and again — a DNS answer that
/// changes between lookups.
#[derive(Debug, Default)]
pub struct HostsFile {
    answers: HashMap<String, Vec<Vec<IpAddr>>>,
    asked: Mutex<HashMap<String, usize>>,
}

impl HostsFile {
    /// Reads the file; a line that does not parse is an error naming it.
    pub fn read(path: &Path) -> Result<HostsFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut answers: HashMap<String, Vec<Vec<IpAddr>>> = HashMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let mut words = line.split_whitespace();
            let Some(name) = words.next() else { continue };
            let addrs = words
                .map(|w| w.parse::<IpAddr>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{} line {}: {e}", path.display(), number + 1))?;
            if addrs.is_empty() {
                return Err(format!(
                    "{} line {}: no address",
                    path.display(),
                    number + 1
                ));
            }
            answers
                .entry(name.to_ascii_lowercase())
                .or_default()
                .push(addrs);
        }
        Ok(HostsFile {
            answers,
            asked: Mutex::new(HashMap::new()),
        })
    }

    /// The next answer for `name`, if the file names it.
    pub fn lookup(&self, name: &str) -> Option<Vec<IpAddr>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let lines = self.answers.get(&name)?;
        let mut asked = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        let count = asked.entry(name).or_insert(0);
        let answer = lines[(*count).min(lines.len() - 1)].clone();
        *count += 1;
        Some(answer)
    }
}

/// What downloads may reach.
#[derive(Debug, Default)]
pub struct Rules {
    pub allow_private: bool,
    pub allowed: Vec<HostPort>,
    pub hosts: Option<HostsFile>,
}

impl Rules {
    /// Whether `host:port` (as written in the URL) may be reached at `addr`.
    pub fn permits(&self, host: &str, port: u16, addr: IpAddr) -> bool {
        self.allow_private || !is_forbidden_ip(addr) || self.is_allowed(host, port)
    }

    /// Whether `host:port` is on the allow-list.
    pub fn is_allowed(&self, host: &str, port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        self.allowed
            .iter()
            .any(|a| a.port == port && a.host == host)
    }

    /// Resolves `host` (an IP literal, the hosts seam, else DNS).
    pub async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<IpAddr>> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        if let Some(answer) = self.hosts.as_ref().and_then(|h| h.lookup(bare)) {
            return Ok(answer);
        }
        let found = tokio::time::timeout(STEP_TIMEOUT, tokio::net::lookup_host((bare, port)))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "name lookup timed out"))??;
        Ok(found.map(|a| a.ip()).collect())
    }

    /// The address to connect to for `host:port`, or why not.
    pub async fn checked(&self, host: &str, port: u16) -> Result<SocketAddr, String> {
        let addrs = self
            .resolve(host, port)
            .await
            .map_err(|e| format!("{host} could not be resolved: {e}"))?;
        let first = *addrs
            .first()
            .ok_or_else(|| format!("{host} has no address"))?;
        if let Some(bad) = addrs.iter().find(|a| !self.permits(host, port, **a)) {
            return Err(format!(
                "{host}:{port} leads to a private address ({bad}): the home network and this server cannot be reached by downloads"
            ));
        }
        Ok(SocketAddr::new(first, port))
    }
}

/// The guard's side of one job.
struct JobEntry {
    label: String,
    refusals: Mutex<Vec<String>>,
    connections: AtomicUsize,
    bytes: AtomicU64,
    max_bytes: u64,
    /// Cancelled when the ticket ends: its tunnels close.
    done: CancellationToken,
}

impl JobEntry {
    fn refuse(&self, metrics: &Metrics, reason: String) {
        tracing::info!(job = %self.label, %reason, "egress guard refused a connection");
        metrics.count_egress_refused();
        let mut refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        if refusals.len() < 20 && !refusals.contains(&reason) {
            refusals.push(reason);
        }
    }
}

struct Shared {
    addr: SocketAddr,
    listener: Mutex<Option<std::net::TcpListener>>,
    started: AtomicBool,
    rules: Rules,
    jobs: Mutex<HashMap<String, Arc<JobEntry>>>,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
}

/// The proxy; cheap to clone.
#[derive(Clone)]
pub struct Guard {
    shared: Arc<Shared>,
}

/// One job's use of the proxy; the credential stops working when it is dropped.
pub struct Ticket {
    shared: Arc<Shared>,
    credential: String,
    entry: Arc<JobEntry>,
    url: String,
}

impl Ticket {
    /// The proxy URL for yt-dlp and ffmpeg (`http://job:<credential>@127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Why connections were refused so far.
    pub fn refusals(&self) -> Vec<String> {
        self.entry
            .refusals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.entry.done.cancel();
        let mut jobs = self.shared.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.remove(&self.credential);
    }
}

impl Guard {
    /// Binds the proxy on 127.0.0.1 (it starts serving with the first ticket, inside the
    /// runtime); it stops when `stop` is cancelled.
    pub fn new(rules: Rules, metrics: Arc<Metrics>, stop: CancellationToken) -> io::Result<Guard> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        Ok(Guard {
            shared: Arc::new(Shared {
                addr: listener.local_addr()?,
                listener: Mutex::new(Some(listener)),
                started: AtomicBool::new(false),
                rules,
                jobs: Mutex::new(HashMap::new()),
                metrics,
                stop,
            }),
        })
    }

    /// The rules in force (the URL policy's submit check uses the same).
    pub fn rules(&self) -> &Rules {
        &self.shared.rules
    }

    /// A ticket for one job (`label` for the logs) allowed `max_bytes` through the proxy.
    /// Needs a runtime.
    pub fn ticket(&self, label: &str, max_bytes: u64) -> io::Result<Ticket> {
        self.serve()?;
        let credential = crate::auth::secret::new_secret().map_err(io::Error::other)?;
        let entry = Arc::new(JobEntry {
            label: label.to_owned(),
            refusals: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            max_bytes,
            done: self.shared.stop.child_token(),
        });
        self.shared
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(credential.clone(), entry.clone());
        Ok(Ticket {
            shared: self.shared.clone(),
            url: format!("http://job:{credential}@{}", self.shared.addr),
            credential,
            entry,
        })
    }

    /// Starts the accept loop once.
    fn serve(&self) -> io::Result<()> {
        if self.shared.started.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let listener = self
            .shared
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| io::Error::other("the egress guard's socket is gone"))?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let shared = self.shared.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = shared.stop.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                match accepted {
                    Ok((stream, _)) => {
                        let shared = shared.clone();
                        tokio::spawn(async move { handle(&shared, stream).await });
                    }
                    Err(err) => {
                        tracing::warn!(%err, "egress guard: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
        Ok(())
    }
}

/// A short answer to the client, then the connection ends.
async fn answer(stream: &mut TcpStream, status: &str, extra: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads a request head; returns it and the bytes after it.
async fn read_head(stream: &mut TcpStream) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((buf, rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too long",
            ));
        }
    }
}

/// The credential of a `Proxy-Authorization: Basic …` value (its password part).
fn credential(value: &[u8]) -> Option<String> {
    use base64::Engine;
    let text = std::str::from_utf8(value).ok()?.trim();
    let encoded = text
        .strip_prefix("Basic ")
        .or_else(|| text.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    pair.split_once(':')
        .map(|(_, password)| password.to_owned())
}

/// `host` and `port` of a `CONNECT` authority (`host:port`, `[v6]:port`).
fn authority(target: &str) -> Option<(String, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

async fn handle(shared: &Shared, mut client: TcpStream) {
    let Ok(Ok((head, rest))) = tokio::time::timeout(STEP_TIMEOUT, read_head(&mut client)).await
    else {
        return;
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    if !matches!(request.parse(&head), Ok(httparse::Status::Complete(_))) {
        answer(&mut client, "400 Bad Request", "", "not an HTTP request\n").await;
        return;
    }
    let method = request.method.unwrap_or_default().to_owned();
    let target = request.path.unwrap_or_default().to_owned();
    let entry = request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("proxy-authorization"))
        .and_then(|h| credential(h.value))
        .and_then(|c| {
            let jobs = shared.jobs.lock().unwrap_or_else(|p| p.into_inner());
            jobs.get(&c).cloned()
        });
    let Some(entry) = entry else {
        answer(
            &mut client,
            "407 Proxy Authentication Required",
            "Proxy-Authenticate: Basic realm=\"sofathek\"\r\n",
            "this proxy serves SOFATHEK's downloads only\n",
        )
        .await;
        return;
    };
    // Where to: CONNECT host:port (HTTPS), or an absolute http:// URL.
    let (host, port, forward) = if method.eq_ignore_ascii_case("CONNECT") {
        match authority(&target) {
            Some((host, port)) => (host, port, None),
            None => {
                answer(&mut client, "400 Bad Request", "", "bad CONNECT target\n").await;
                return;
            }
        }
    } else {
        let Ok(url) = url::Url::parse(&target) else {
            answer(
                &mut client,
                "400 Bad Request",
                "",
                "an absolute http:// URL is needed\n",
            )
            .await;
            return;
        };
        let (Some(host), "http") = (url.host_str(), url.scheme()) else {
            answer(
                &mut client,
                "400 Bad Request",
                "",
                "only http:// is proxied\n",
            )
            .await;
            return;
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        let mut out = format!("{method} {path} HTTP/1.1\r\n");
        for header in request.headers.iter() {
            let name = header.name.to_ascii_lowercase();
            if matches!(
                name.as_str(),
                "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive"
            ) {
                continue;
            }
            out.push_str(header.name);
            out.push_str(": ");
            out.push_str(&String::from_utf8_lossy(header.value));
            out.push_str("\r\n");
        }
        // One request per connection: the next request may be for another host.
        out.push_str("Connection: close\r\n\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&rest);
        (host.to_owned(), port, Some(bytes))
    };
    let address = match shared.rules.checked(&host, port).await {
        Ok(address) => address,
        Err(reason) => {
            entry.refuse(&shared.metrics, reason.clone());
            answer(&mut client, "403 Forbidden", "", &format!("{reason}\n")).await;
            return;
        }
    };
    if entry.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
        entry.connections.fetch_sub(1, Ordering::SeqCst);
        entry.refuse(
            &shared.metrics,
            format!("more than {MAX_CONNECTIONS} connections at once"),
        );
        answer(
            &mut client,
            "503 Service Unavailable",
            "",
            "too many connections\n",
        )
        .await;
        return;
    }
    tracing::debug!(job = %entry.label, %host, port, %address, "egress guard: connecting");
    let connected = tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect(address)).await;
    match connected {
        Ok(Ok(mut upstream)) => {
            let ready = match &forward {
                None => client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_ok(),
                Some(head) => upstream.write_all(head).await.is_ok(),
            };
            if ready {
                let _ = upstream.set_nodelay(true);
                tunnel(shared, &entry, client, upstream).await;
            }
        }
        Ok(Err(err)) => {
            answer(
                &mut client,
                "502 Bad Gateway",
                "",
                &format!("{host}:{port}: {err}\n"),
            )
            .await;
        }
        Err(_) => {
            answer(
                &mut client,
                "504 Gateway Timeout",
                "",
                &format!("{host}:{port}: timed out\n"),
            )
            .await;
        }
    }
    entry.connections.fetch_sub(1, Ordering::SeqCst);
}

/// Copies both ways until either side ends, the job's byte allowance is used up or its ticket
/// ends.
async fn tunnel(shared: &Shared, entry: &JobEntry, client: TcpStream, upstream: TcpStream) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut client_read, &mut upstream_write).await;
        let _ = upstream_write.shutdown().await;
    };
    let down = async {
        let mut buf = vec![0u8; BUFFER];
        loop {
            let n = match upstream_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let total = entry.bytes.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
            if total > entry.max_bytes {
                entry.refuse(
                    &shared.metrics,
                    format!("more than {} bytes were downloaded", entry.max_bytes),
                );
                break;
            }
            if client_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = client_write.shutdown().await;
    };
    tokio::select! {
        ((), ()) = async { tokio::join!(up, down) } => {}
        () = entry.done.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists() {
        let list = parse_allow_list(" nas.lan:8080, 127.0.0.1:9000,[::1]:80 ,").expect("list");
        assert_eq!(
            list,
            [
                HostPort {
                    host: "nas.lan".into(),
                    port: 8080
                },
                HostPort {
                    host: "127.0.0.1".into(),
                    port: 9000
                },
                HostPort {
                    host: "::1".into(),
                    port: 80
                },
            ]
        );
        assert!(parse_allow_list("nas.lan").is_err());
        assert!(parse_allow_list("nas.lan:0").is_err());
        assert!(parse_allow_list(":80").is_err());
        assert_eq!(parse_allow_list("").expect("empty"), []);
    }

    #[test]
    fn rules_allow_only_the_named_pairs() {
        let rules = Rules {
            allowed: parse_allow_list("nas.lan:8080,127.0.0.1:9000").expect("list"),
            ..Rules::default()
        };
        let private: IpAddr = "192.168.1.10".parse().expect("ip");
        let public: IpAddr = "93.184.215.14".parse().expect("ip");
        let loopback: IpAddr = "127.0.0.1".parse().expect("ip");
        assert!(rules.permits("example.com", 443, public));
        assert!(!rules.permits("router.lan", 80, private));
        assert!(rules.permits("NAS.lan.", 8080, private));
        assert!(!rules.permits("nas.lan", 8081, private));
        assert!(rules.permits("127.0.0.1", 9000, loopback));
        // A name that resolves to an allowed IP is not allowed by it.
        assert!(!rules.permits("rebind.example", 9000, loopback));
        let open = Rules {
            allow_private: true,
            ..Rules::default()
        };
        assert!(open.permits("router.lan", 80, private));
    }

    #[tokio::test]
    async fn a_name_with_any_private_address_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("hosts");
        std::fs::write(
            &file,
            "# name answers\nmixed.test 93.184.215.14 10.0.0.5\nflip.test 93.184.215.14\nflip.test 127.0.0.1\n",
        )
        .expect("hosts");
        let rules = Rules {
            hosts: Some(HostsFile::read(&file).expect("read")),
            ..Rules::default()
        };
        let refused = rules.checked("mixed.test", 443).await.expect_err("refused");
        assert!(refused.contains("10.0.0.5"), "{refused}");
        assert_eq!(
            rules.checked("flip.test", 443).await,
            Ok("93.184.215.14:443".parse().expect("addr"))
        );
        assert!(
            rules.checked("flip.test", 443).await.is_err(),
            "the second answer"
        );
        assert!(
            rules.checked("flip.test", 443).await.is_err(),
            "the last answer repeats"
        );
        assert!(rules.checked("[::ffff:192.168.0.1]", 80).await.is_err());
        assert!(HostsFile::read(&dir.path().join("missing")).is_err());
        std::fs::write(&file, "bad.test not-an-ip\n").expect("hosts");
        assert!(HostsFile::read(&file).is_err());
    }

    #[test]
    fn proxy_credentials() {
        use base64::Engine;
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("job:s3cret")
        );
        assert_eq!(credential(value.as_bytes()).as_deref(), Some("s3cret"));
        assert_eq!(credential(b"Bearer x"), None);
        assert_eq!(credential(b"Basic !!!"), None);
        assert_eq!(
            authority("example.com:443"),
            Some(("example.com".into(), 443))
        );
        assert_eq!(authority("[::1]:8080"), Some(("::1".into(), 8080)));
        assert_eq!(authority("example.com"), None);
    }
}
