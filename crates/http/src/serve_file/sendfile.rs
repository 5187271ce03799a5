//! Zero-copy file bodies on HTTP/1 connections: the kernel moves a file's pages from the page
//! cache to the socket (`sendfile(2)`), where a plain body copies every byte into the server's
//! memory and back out. For a player's long `bytes=N-` responses and downloads that is most of
//! the work: a whole file costs ~0.09 CPU seconds per GB this way against ~0.33 with copies
//! (`scripts/bench-stream`; nginx with `sendfile on`: 0.08).
//!
//! hyper's bodies are bytes, so a body cannot hand hyper a file. On a connection accepted by
//! [`Listener`] a file body instead yields *placeholders*: slices of one shared region of zeros
//! that is never written or read, each registered in the connection's [`Segments`] with the file
//! and offset it stands for. hyper queues body chunks without copying them when its connection
//! writes vectored (`WriteStrategy::Queue` in hyper 1.x `src/proto/h1/io.rs`, chosen because
//! [`Stream::is_write_vectored`] is true) and hands the same slices to
//! [`Stream::poll_write_vectored`], which recognises a placeholder by its address and sends the
//! file range with `sendfile` instead; everything else is written as it is.
//!
//! What keeps it from ever putting zeros on the wire:
//! - only HTTP/1 requests on a [`Listener`] connection get placeholders ([`Sendfile::of`]); an
//!   HTTP/2 connection copies bodies into its frames, so it gets real bytes;
//! - a placeholder that reaches the socket without its segment is an error that closes the
//!   connection, as does a file that shrank (the client sees a short body, as with a plain body);
//! - the tests serve files through this listener and compare every byte, so a hyper that began
//!   copying body chunks would fail them.
//!
//! `sendfile` cannot wait for the disk without blocking the async worker, so a chunk becomes a
//! placeholder only when its first and last pages are in the page cache (probed with
//! `preadv2(RWF_NOWAIT)`); otherwise the body reads it on the blocking pool as before, which
//! also brings the following chunks into the cache (read-ahead).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::http::Version;
use axum::serve::IncomingStream;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The largest placeholder: one `sendfile` call sends at most what the socket buffer takes,
/// so larger chunks only mean fewer trips through the body.
pub(super) const PLACEHOLDER_MAX: usize = 1024 * 1024;

/// The smallest placeholder: one read's worth ([`CHUNK_SIZE`](super::CHUNK_SIZE)), so a
/// player's 64 KiB ranges leave with `sendfile` too. Copied, they cost two copies (page cache
/// → buffer → socket: ~23 % of the server's CPU under `scripts/bench-stream`'s ranges, by
/// `perf`); as placeholders they cost the two page-cache probes instead: 0.82 against 0.92 CPU
/// s/GB with server and client pinned to a core each (medians of 5 interleaved rounds), about
/// even when the client shares the server's cores. Smaller chunks (a short range, a file's
/// tail) are copied.
pub(super) const PLACEHOLDER_MIN: usize = super::CHUNK_SIZE;

/// The placeholder region. A connection has at most hyper's write buffer (~400 KiB) plus one
/// chunk queued, so placeholders taken in turn from 4 MiB never overlap a live one.
const REGION_SIZE: usize = 4 * PLACEHOLDER_MAX;

/// Zeros that are never written; nothing reads them either, so the pages stay unmapped.
fn region() -> &'static [u8] {
    static REGION: OnceLock<&'static [u8]> = OnceLock::new();
    REGION.get_or_init(|| vec![0u8; REGION_SIZE].leak())
}

/// Bytes sent with `sendfile` since the process started (the `sofathek_bytes_sendfile_total`
/// metric).
pub fn bytes_sent() -> u64 {
    SENT.load(Ordering::Relaxed)
}

static SENT: AtomicU64 = AtomicU64::new(0);

fn in_region(slice: &[u8]) -> bool {
    let region = region().as_ptr_range();
    let address = slice.as_ptr().addr();
    !slice.is_empty() && region.start.addr() <= address && address < region.end.addr()
}

/// Accepts TCP connections whose file bodies may be sent with `sendfile`; serve it with
/// `into_make_service_with_connect_info::<Peer>()` so that handlers can find the connection.
pub struct Listener(pub TcpListener);

impl axum::serve::Listener for Listener {
    type Io = Stream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Stream, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((tcp, addr)) => {
                    // The head of a response and its file body leave in separate calls; without
                    // this, Nagle's algorithm could hold the body's last segment back until the
                    // client acknowledges the head (40 ms with delayed acknowledgements).
                    if let Err(err) = tcp.set_nodelay(true) {
                        tracing::debug!(error = %err, "TCP_NODELAY not set");
                    }
                    let segments = Arc::new(Segments::default());
                    return (Stream { tcp, segments }, addr);
                }
                // Too many open files and the like: wait instead of spinning (as axum does).
                Err(err) => {
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// The connection a request came on: its peer address and its file segments.
#[derive(Clone, Debug)]
pub struct Peer {
    pub addr: SocketAddr,
    segments: Arc<Segments>,
}

impl Connected<IncomingStream<'_, Listener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Peer {
        Peer {
            addr: *stream.remote_addr(),
            segments: Arc::clone(&stream.io().segments),
        }
    }
}

/// A request's permission to send its file body with `sendfile`.
#[derive(Clone, Debug)]
pub struct Sendfile(Arc<Segments>);

impl Sendfile {
    /// For an HTTP/1 request that came through a [`Listener`]; `None` otherwise.
    pub fn of(request: &Request) -> Option<Sendfile> {
        let http1 = matches!(request.version(), Version::HTTP_10 | Version::HTTP_11);
        if !http1 || !cfg!(target_os = "linux") {
            return None;
        }
        let ConnectInfo(peer) = request.extensions().get::<ConnectInfo<Peer>>()?;
        Some(Sendfile(Arc::clone(&peer.segments)))
    }

    /// A placeholder for `len` bytes of `file` (at `path`, for messages) from `offset`
    /// (`len` ≤ [`PLACEHOLDER_MAX`]).
    pub(super) fn placeholder(
        &self,
        file: &Arc<File>,
        path: &Arc<Path>,
        offset: u64,
        len: usize,
    ) -> Bytes {
        self.0.register(file, path, offset, len)
    }
}

/// The file ranges a connection's queued placeholders stand for.
#[derive(Debug, Default)]
struct Segments(Mutex<SegmentList>);

#[derive(Debug, Default)]
struct SegmentList {
    /// Where the next placeholder starts in the region.
    next: usize,
    list: VecDeque<Segment>,
}

#[derive(Debug)]
struct Segment {
    /// The placeholder's address range.
    start: usize,
    end: usize,
    file: Arc<File>,
    path: Arc<Path>,
    offset: u64,
}

impl Segments {
    fn lock(&self) -> std::sync::MutexGuard<'_, SegmentList> {
        // The list is consistent after every statement, so a panic elsewhere cannot corrupt it.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn register(&self, file: &Arc<File>, path: &Arc<Path>, offset: u64, len: usize) -> Bytes {
        debug_assert!(len > 0 && len <= PLACEHOLDER_MAX);
        let mut segments = self.lock();
        if segments.next + len > REGION_SIZE {
            segments.next = 0;
        }
        let slice = &region()[segments.next..segments.next + len];
        segments.next += len;
        let start = slice.as_ptr().addr();
        let end = start + len;
        // What overlaps is left over from a body that was dropped before it was sent.
        segments.list.retain(|s| s.end <= start || s.start >= end);
        segments.list.push_back(Segment {
            start,
            end,
            file: Arc::clone(file),
            path: Arc::clone(path),
            offset,
        });
        Bytes::from_static(slice)
    }

    /// The file, its path, the offset and the length that the placeholder bytes at `address`
    /// stand for.
    fn find(&self, address: usize) -> Option<(Arc<File>, Arc<Path>, u64, usize)> {
        let segments = self.lock();
        let segment = segments
            .list
            .iter()
            .find(|s| s.start <= address && address < s.end)?;
        let skipped = address - segment.start;
        Some((
            Arc::clone(&segment.file),
            Arc::clone(&segment.path),
            segment.offset + skipped as u64,
            segment.end - address,
        ))
    }

    /// Records that `sent` bytes from `address` are on their way; a finished segment goes.
    fn sent(&self, address: usize, sent: usize) {
        let mut segments = self.lock();
        if let Some(done) = segments
            .list
            .iter()
            .position(|s| s.start <= address && s.end <= address + sent)
        {
            segments.list.remove(done);
        }
    }
}

/// A connection from [`Listener`]: a TCP stream that sends placeholders' files with `sendfile`.
#[derive(Debug)]
pub struct Stream {
    tcp: TcpStream,
    segments: Arc<Segments>,
}

impl Stream {
    /// Sends (part of) the file range behind the placeholder `slice`.
    fn poll_send_file(&self, cx: &mut Context<'_>, slice: &[u8]) -> Poll<io::Result<usize>> {
        let address = slice.as_ptr().addr();
        let Some((file, path, offset, left)) = self.segments.find(address) else {
            return Poll::Ready(Err(io::Error::other(
                "a file body's placeholder reached the socket without its file",
            )));
        };
        let count = slice.len().min(left);
        loop {
            ready!(self.tcp.poll_write_ready(cx))?;
            let sent = self.tcp.try_io(Interest::WRITABLE, || {
                send_file(&self.tcp, &file, offset, count)
            });
            match sent {
                Ok(0) => {
                    tracing::warn!(path = %path.display(), "file shrank mid-response");
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("file shrank while streaming: {count} bytes missing"),
                    )));
                }
                Ok(sent) => {
                    self.segments.sent(address, sent);
                    SENT.fetch_add(sent as u64, Ordering::Relaxed);
                    return Poll::Ready(Ok(sent));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

/// `sendfile(2)` of `count` bytes of `file` from `offset` (the file's own position is unused,
/// so connections can share an open file).
#[cfg(target_os = "linux")]
fn send_file(socket: &TcpStream, file: &File, offset: u64, count: usize) -> io::Result<usize> {
    let mut at = offset;
    Ok(rustix::fs::sendfile(socket, file, Some(&mut at), count)?)
}

// Elsewhere [`Sendfile::of`] gives no permission, so there are no placeholders to send.
#[cfg(not(target_os = "linux"))]
fn send_file(_: &TcpStream, _: &File, _: u64, _: usize) -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let slices = match slices.iter().position(|s| !s.is_empty()) {
            Some(first) => &slices[first..],
            None => return Poll::Ready(Ok(0)),
        };
        if in_region(&slices[0]) {
            return this.poll_send_file(cx, &slices[0]);
        }
        // Up to the next placeholder: a response's head goes out first, then its file.
        let plain = slices.iter().take_while(|s| !in_region(s)).count();
        Pin::new(&mut this.tcp).poll_write_vectored(cx, &slices[..plain])
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}
