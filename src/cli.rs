//! Command-line interface: `serve` (default), `healthcheck`, `import`, `scan`, `config`,
//! `admin`, `--version`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use sofathek_core::config::{Config, ConfigArgs};
use sofathek_server::http::AppState;

/// How long in-flight requests may run after SIGTERM/SIGINT before the process exits.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The healthcheck's whole-request timeout.
pub const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// SOFATHEK, a self-hosted family video library.
#[derive(Debug, Parser)]
#[command(name = "sofathek", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Ask the local server for its health; exit 0 when healthy or degraded, 1 otherwise.
    Healthcheck(HealthcheckArgs),
    /// Import a library written by the original SOFATHEK (flat folder with sidecars).
    Import(ImportArgs),
    /// Scan the library folder: adopt videos dropped into it, queue the conversion of files
    /// browsers cannot play, and print the report (JSON). Safe while the server runs.
    Scan(ScanArgs),
    /// Print the effective configuration.
    Config(ConfigCmdArgs),
    /// Parent account administration: set the parent password, create an API token.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `sofathek admin ...`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set or change the parent password, read from standard input (asked twice without echo
    /// on a terminal) or from a file; never from the command line. Changing it signs out every
    /// parent session.
    SetPassword(SetPasswordArgs),
    /// Create an API token with parent rights and print it (it is shown only once).
    CreateToken(CreateTokenArgs),
}

#[derive(Debug, clap::Args)]
pub struct SetPasswordArgs {
    /// Read the password from this file (its first line) instead of standard input.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct CreateTokenArgs {
    /// What the token is for (shown in the token list).
    #[arg(long)]
    pub name: String,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// Server address; defaults to SOFATHEK_BIND (0.0.0.0 is asked on 127.0.0.1).
    #[arg(long, env = "SOFATHEK_BIND", default_value = sofathek_core::config::DEFAULT_BIND)]
    pub bind: String,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Folder written by the original SOFATHEK (VIDEOS_DIR).
    pub dir: PathBuf,
    /// Move files instead of copying them.
    #[arg(long = "move")]
    pub move_files: bool,
    /// Category for the imported videos.
    #[arg(long)]
    pub category: Option<String>,
    /// The original's download history, `download-queue.json` in its TEMP_DIR (default: that
    /// file in `$TEMP_DIR`, or in `temp/` beside the imported folder, when it exists).
    #[arg(long)]
    pub queue: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Also restore the title, category and date of known videos from their sidecars.
    #[arg(long)]
    pub rebuild: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct ConfigCmdArgs {
    /// Print JSON instead of `KEY = value` lines.
    #[arg(long)]
    pub json: bool,
    /// List only the original SOFATHEK's variables that are set and what SOFATHEK does with
    /// each (mapped to its equivalent, ignored with what to use instead, or different).
    #[arg(long)]
    pub check_legacy: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl Command {
    /// The configuration flags of the command, if it has them.
    fn config_args_mut(&mut self) -> Option<&mut ConfigArgs> {
        match self {
            Command::Serve(args) => Some(&mut args.config),
            Command::Import(args) => Some(&mut args.config),
            Command::Scan(args) => Some(&mut args.config),
            Command::Config(args) => Some(&mut args.config),
            Command::Admin(AdminCommand::SetPassword(args)) => Some(&mut args.config),
            Command::Admin(AdminCommand::CreateToken(args)) => Some(&mut args.config),
            Command::Healthcheck(_) => None,
        }
    }
}

/// Exits like clap after a parse error, naming the environment variable behind a bad value.
fn parse_error(err: clap::Error) -> ! {
    if let Some(var) = env_var_of_invalid_arg(&err) {
        eprintln!("sofathek: invalid {var}: the value of {var} (or its flag) is not accepted");
    }
    err.exit()
}

/// Parses the command line (no subcommand means `serve`) and applies the original SOFATHEK's
/// variables to the command's configuration (see [`sofathek_core::config::legacy`]).
fn parse() -> (Command, sofathek_core::config::legacy::Legacy) {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command()
        .try_get_matches()
        .unwrap_or_else(|e| parse_error(e));
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| parse_error(e));
    let (mut command, config_matches) = match cli.command {
        Some(command) => {
            let mut sub = matches.subcommand().map(|(_, m)| m.clone());
            // `admin set-password` and `admin create-token` are one level deeper.
            if let Some(inner) = sub
                .as_ref()
                .and_then(|m| m.subcommand().map(|(_, m)| m.clone()))
            {
                sub = Some(inner);
            }
            (command, sub)
        }
        None => {
            let matches = ServeWrapper::command()
                .try_get_matches_from(["serve"])
                .unwrap_or_else(|e| parse_error(e));
            let config = ServeWrapper::from_arg_matches(&matches)
                .unwrap_or_else(|e| parse_error(e))
                .config;
            (Command::Serve(ServeArgs { config }), Some(matches))
        }
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let legacy = match (command.config_args_mut(), config_matches) {
        (Some(args), Some(matches)) => sofathek_core::config::legacy::apply(
            args,
            |name| std::env::var(name).ok(),
            |id| {
                matches!(
                    matches.value_source(id),
                    Some(
                        clap::parser::ValueSource::EnvVariable
                            | clap::parser::ValueSource::CommandLine
                    )
                )
            },
            &cwd,
        ),
        _ => Default::default(),
    };
    (command, legacy)
}

/// Runs the command line; returns the process exit code.
pub fn main() -> anyhow::Result<std::process::ExitCode> {
    let (command, legacy) = parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match command {
        Command::Serve(args) => {
            let config = validated(&args.config)?;
            init_logging(&config);
            legacy.log();
            runtime.block_on(serve(config))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Healthcheck(args) => Ok(runtime.block_on(healthcheck(&args.bind))),
        Command::Import(args) => {
            let config = validated(&args.config)?;
            init_logging(&config);
            legacy.log();
            let state = AppState::open(config)?;
            let target = sofathek_ingest::import::Target {
                db: &state.db,
                layout: &state.layout,
                config: &state.config,
            };
            let report = runtime.block_on(sofathek_ingest::import::import_dir(
                target,
                &args.dir,
                &sofathek_ingest::import::ImportOptions {
                    move_files: args.move_files,
                    category: args.category.clone(),
                    queue: args.queue.clone().or_else(|| {
                        sofathek_ingest::import::find_queue(&args.dir, std::env::var_os("TEMP_DIR"))
                    }),
                },
            ))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if report.failed.is_empty() {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            })
        }
        Command::Scan(args) => {
            let config = validated(&args.config)?;
            init_logging(&config);
            legacy.log();
            let state = AppState::open(config)?;
            let report = runtime.block_on(
                state
                    .ingest
                    .scan(sofathek_ingest::Trigger::Cli, args.rebuild),
            )?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.queued.is_empty() {
                eprintln!(
                    "{} file(s) queued for conversion: the server converts them when it runs",
                    report.queued.len()
                );
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::SetPassword(args)) => {
            let config = validated(&args.config)?;
            let password = match &args.password_file {
                Some(path) => sofathek_core::auth::read_password_file(path)
                    .with_context(|| format!("cannot read the password file {}", path.display()))?,
                None => read_password_from_stdin()?,
            };
            let db = open_db(&config)?;
            let outcome = sofathek_core::auth::set_password_blocking(&db, &password)?;
            match outcome {
                sofathek_core::auth::PasswordSet::First => println!("parent password set"),
                sofathek_core::auth::PasswordSet::Changed { revoked } => {
                    println!("parent password changed; {revoked} parent session(s) signed out")
                }
                sofathek_core::auth::PasswordSet::Unchanged => {
                    println!("parent password unchanged")
                }
            }
            if config.admin_password_file.is_some() {
                eprintln!(
                    "note: SOFATHEK_ADMIN_PASSWORD_FILE is set; the server applies that file's password when it starts"
                );
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::CreateToken(args)) => {
            let config = validated(&args.config)?;
            let name =
                sofathek_core::names::check(sofathek_core::names::NameKind::Token, &args.name)?;
            let db = open_db(&config)?;
            let token = sofathek_core::auth::secret::new_api_token()?;
            let hash = sofathek_core::auth::secret::hash(&token);
            db.write_blocking(|tx| sofathek_db::profiles::create_token(tx, &name, &hash))?;
            println!("{token}");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Config(args) => {
            if args.check_legacy {
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&legacy)?);
                } else if legacy.notes.is_empty() {
                    println!("no variable of the original SOFATHEK is set");
                } else {
                    for line in legacy.lines() {
                        println!("{line}");
                    }
                }
                return Ok(std::process::ExitCode::SUCCESS);
            }
            let config = args.config.validate()?;
            for line in legacy.lines() {
                eprintln!("legacy variable {line}");
            }
            if args.json {
                println!("{}", serde_json::to_string_pretty(&config.to_json())?);
            } else if let Some(map) = config.to_json().as_object() {
                for (key, value) in map {
                    println!("{key} = {value}");
                }
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

/// Names the environment variable behind a rejected flag value, so configuration errors from
/// the environment say which variable is wrong.
fn env_var_of_invalid_arg(err: &clap::Error) -> Option<String> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = arg.split_whitespace().next()?.trim_start_matches("--");
    let command = Cli::command();
    command
        .get_subcommands()
        .flat_map(|sub| sub.get_arguments())
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_env())
        .map(|env| env.to_string_lossy().into_owned())
}

#[derive(Parser)]
struct ServeWrapper {
    #[command(flatten)]
    config: ConfigArgs,
}

/// Opens the database of a data directory (for the `admin` commands; the server may be running).
fn open_db(config: &Config) -> anyhow::Result<sofathek_db::Db> {
    let layout = sofathek_core::library::Layout::new(&config.data_path);
    layout.create_dirs()?;
    Ok(sofathek_db::Db::open(&layout.database)?)
}

/// Reads the new password: asked twice without echo on a terminal, else the first line of
/// standard input.
fn read_password_from_stdin() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            anyhow::bail!("no password on standard input");
        }
        return Ok(line.to_owned());
    }
    let ask = |prompt: &str| -> anyhow::Result<String> {
        eprint!("{prompt}");
        std::io::stderr().flush()?;
        let original = rustix::termios::tcgetattr(&stdin)?;
        let mut silent = original.clone();
        silent.local_modes.remove(rustix::termios::LocalModes::ECHO);
        rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &silent)?;
        let mut line = String::new();
        let read = stdin.lock().read_line(&mut line);
        rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &original)?;
        eprintln!();
        read.context("cannot read the password")?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    };
    let first = ask("New parent password: ")?;
    let second = ask("Repeat the password: ")?;
    if first != second {
        anyhow::bail!("the passwords differ");
    }
    Ok(first)
}

fn validated(args: &ConfigArgs) -> anyhow::Result<Config> {
    let config = args.validate()?;
    config.prepare_data_dir()?;
    Ok(config)
}

/// Sets up tracing: JSON in staging/production, human-readable in development; `RUST_LOG`
/// overrides `LOG_LEVEL`.
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},hyper=warn", level = config.log_level))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if config.env.json_logs() {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
    if result.is_err() {
        // Already initialised (tests): keep the existing subscriber.
    }
}

/// Runs the server until SIGTERM/SIGINT, then drains for at most [`SHUTDOWN_GRACE`].
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let state = AppState::open(config.clone())?;
    let keep = state.ingest.staging_to_keep()?;
    let reconciled = sofathek_core::library::reconcile(&state.db, &state.layout, &keep)?;
    if !reconciled.removed_staging.is_empty() {
        tracing::info!(staging = ?reconciled.removed_staging, "cleaned up staging after an interrupted run");
    }
    if !reconciled.unknown_files.is_empty() {
        tracing::info!(
            files = reconciled.unknown_files.len(),
            "library files the catalogue does not know yet: the library scan adopts or reports them"
        );
    }
    if !reconciled.missing_files.is_empty() {
        tracing::warn!(missing = ?reconciled.missing_files, "catalogue files missing on disk");
    }
    let listener = listener(config.bind)?;
    // Probe ffmpeg, ffprobe and yt-dlp once now, so the first health check answers at once.
    let (tools, tool_config) = (state.tools.clone(), state.config.clone());
    tokio::spawn(async move { tools.get(&tool_config).await });
    let local = listener.local_addr()?;
    tracing::info!(address = %local, env = config.env.as_str(), data = %config.data_path.display(), version = env!("CARGO_PKG_VERSION"), "sofathek listening");

    state.ingest.start();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(sofathek_server::http::serve(
        listener,
        state.clone(),
        async move {
            let mut rx = rx;
            let _ = rx.wait_for(|stop| *stop).await;
        },
    ));
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    let _ = tx.send(true);
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(Ok(Ok(()))) => tracing::info!("stopped"),
        Ok(Ok(Err(err))) => return Err(err.into()),
        Ok(Err(err)) => return Err(anyhow::anyhow!("server task failed: {err}")),
        Err(_) => {
            tracing::warn!("in-flight requests did not finish within {SHUTDOWN_GRACE:?}; exiting")
        }
    }
    // Running jobs go back to the queue; every child process group is killed.
    state.ingest.shutdown().await;
    let registry = sofathek_process::ChildRegistry::global();
    registry.kill_all();
    if !registry.wait_idle(Duration::from_secs(5)).await {
        for child in registry.live() {
            let _ = sofathek_process::kill_group(child.pid);
        }
    }
    Ok(())
}

/// An inherited socket (systemfd/listenfd, for the dev loop) or a fresh one on `bind`.
fn listener(bind: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let mut fds = listenfd::ListenFd::from_env();
    if let Ok(Some(std_listener)) = fds.take_tcp_listener(0) {
        std_listener.set_nonblocking(true)?;
        tracing::info!("using the socket passed by the parent process");
        return Ok(tokio::net::TcpListener::from_std(std_listener)?);
    }
    let std_listener = std::net::TcpListener::bind(bind)
        .with_context(|| format!("cannot listen on {bind} (SOFATHEK_BIND)"))?;
    std_listener.set_nonblocking(true)?;
    Ok(tokio::net::TcpListener::from_std(std_listener)?)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// The address the healthcheck asks: the bind address, with an unspecified IP replaced by
/// loopback.
pub fn health_address(bind: &str) -> Option<SocketAddr> {
    let (host, port) = bind.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if host == "localhost" {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.parse().ok()?
    };
    let ip = match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    };
    Some(SocketAddr::new(ip, port))
}

/// GETs `/api/health` with a 3 s budget; 0 for 200 (healthy or degraded), 1 otherwise.
pub async fn healthcheck(bind: &str) -> std::process::ExitCode {
    let Some(addr) = health_address(bind) else {
        eprintln!("healthcheck: invalid SOFATHEK_BIND {bind:?}");
        return std::process::ExitCode::FAILURE;
    };
    match tokio::time::timeout(HEALTHCHECK_TIMEOUT, ask_health(addr)).await {
        Ok(Ok((200, status))) => {
            println!("{status}");
            std::process::ExitCode::SUCCESS
        }
        Ok(Ok((code, status))) => {
            eprintln!("unhealthy: HTTP {code} {status}");
            std::process::ExitCode::FAILURE
        }
        Ok(Err(err)) => {
            eprintln!("unhealthy: {err}");
            std::process::ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("unhealthy: no answer within {HEALTHCHECK_TIMEOUT:?}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn ask_health(addr: SocketAddr) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "GET /api/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: sofathek-healthcheck\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.take(1 << 20).read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    let status = text
        .split("\r\n\r\n")
        .nth(1)
        .and_then(|body| {
            // The body may be chunked; find the JSON object inside.
            let start = body.find('{')?;
            let end = body.rfind('}')?;
            serde_json::from_str::<serde_json::Value>(&body[start..=end]).ok()
        })
        .and_then(|v| v["status"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    Ok((code, status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_addresses() {
        let check = |bind: &str, expected: Option<&str>| {
            assert_eq!(
                health_address(bind).map(|a| a.to_string()).as_deref(),
                expected,
                "{bind}"
            );
        };
        check("0.0.0.0:3001", Some("127.0.0.1:3001"));
        check("127.0.0.1:4000", Some("127.0.0.1:4000"));
        check("[::]:3001", Some("[::1]:3001"));
        check("localhost:3001", Some("127.0.0.1:3001"));
        check("nonsense", None);
    }
}
