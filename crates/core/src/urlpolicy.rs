//! Which URLs may be handed to yt-dlp: syntax rules, and refusal of hosts on private networks.
//!
//! [`check_syntax`] is pure; [`check`] adds name resolution so that a public-looking name that
//! resolves to a private address is refused too. yt-dlp resolves the name again and follows
//! redirects, so this is a guard against mistakes and casual abuse, not a network sandbox.

use sofathek_codes::Code;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use url::{Host, Url};

/// Longest accepted URL, in characters (as the original).
pub const MAX_URL_CHARS: usize = 2000;

/// How long name resolution may take before the host counts as unresolvable.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Host names refused without asking DNS: they name this machine or the local link.
const LOCAL_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "ip6-localhost",
    "ip6-loopback",
];

/// Host name suffixes refused without asking DNS (`.local` is answered by mDNS on the LAN).
const LOCAL_SUFFIXES: &[&str] = &[".localhost", ".local", ".localdomain"];

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlPolicyError {
    /// The URL is empty (or only spaces).
    Empty,
    /// The URL is longer than [`MAX_URL_CHARS`].
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// The URL contains a control character, raw or percent-encoded.
    ControlCharacter,
    /// The URL starts with `-` and could be mistaken for a command-line option.
    LooksLikeOption,
    /// The URL does not parse as an absolute URL.
    Malformed {
        /// The parser's reason.
        reason: String,
    },
    /// The scheme is not http or https.
    UnsupportedScheme {
        /// The scheme found.
        scheme: String,
    },
    /// The URL has no host.
    MissingHost,
    /// The host is a name for this machine or the local link (`localhost`, `*.local`, ...).
    LocalHost {
        /// The host as written in the URL.
        host: String,
    },
    /// The host is, or resolves to, an address on a private or special-purpose network.
    ForbiddenAddress {
        /// The host as written in the URL.
        host: String,
        /// The first forbidden address found.
        addr: IpAddr,
    },
    /// The host name could not be resolved (or resolution timed out).
    UnresolvableHost {
        /// The host as written in the URL.
        host: String,
        /// The resolver's reason.
        reason: String,
    },
}

impl UrlPolicyError {
    /// A stable code string for API responses and logs.
    pub fn code(&self) -> Code {
        match self {
            UrlPolicyError::Empty => Code::UrlEmpty,
            UrlPolicyError::TooLong { .. } => Code::UrlTooLong,
            UrlPolicyError::ControlCharacter => Code::UrlControlCharacter,
            UrlPolicyError::LooksLikeOption => Code::UrlLooksLikeOption,
            UrlPolicyError::Malformed { .. } => Code::UrlMalformed,
            UrlPolicyError::UnsupportedScheme { .. } => Code::UrlUnsupportedScheme,
            UrlPolicyError::MissingHost => Code::UrlMissingHost,
            UrlPolicyError::LocalHost { .. } => Code::UrlLocalHost,
            UrlPolicyError::ForbiddenAddress { .. } => Code::UrlForbiddenAddress,
            UrlPolicyError::UnresolvableHost { .. } => Code::UrlUnresolvableHost,
        }
    }

    /// The message the original API gave for this refusal (`Video URL is required` or
    /// `Invalid video URL format`); for an unresolvable host, which the original queued anyway,
    /// a message in the same style.
    pub fn api_message(&self) -> &'static str {
        match self {
            UrlPolicyError::Empty => "Video URL is required",
            UrlPolicyError::UnresolvableHost { .. } => {
                "Could not resolve the host of the video URL"
            }
            _ => "Invalid video URL format",
        }
    }

    /// The message for a followed source's URL (a channel, playlist or feed, not a video):
    /// what is wrong with it, since no original client depends on the wording.
    pub fn source_message(&self) -> String {
        match self {
            UrlPolicyError::Empty => "A channel, playlist or feed URL is required".into(),
            UrlPolicyError::UnresolvableHost { .. } => {
                "Could not resolve the host of the channel, playlist or feed URL".into()
            }
            other => format!("Invalid channel, playlist or feed URL: {other}"),
        }
    }
}

impl fmt::Display for UrlPolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlPolicyError::Empty => write!(f, "url is empty"),
            UrlPolicyError::TooLong { chars } => {
                write!(
                    f,
                    "url is {chars} characters long (at most {MAX_URL_CHARS} allowed)"
                )
            }
            UrlPolicyError::ControlCharacter => write!(f, "url contains a control character"),
            UrlPolicyError::LooksLikeOption => write!(f, "url must not start with '-'"),
            UrlPolicyError::Malformed { reason } => {
                write!(f, "url is not a valid absolute url: {reason}")
            }
            UrlPolicyError::UnsupportedScheme { scheme } => {
                write!(
                    f,
                    "url scheme '{scheme}' is not allowed (only http and https)"
                )
            }
            UrlPolicyError::MissingHost => write!(f, "url has no host"),
            UrlPolicyError::LocalHost { host } => write!(f, "host '{host}' is a local name"),
            UrlPolicyError::ForbiddenAddress { host, addr } => {
                write!(
                    f,
                    "host '{host}' is on a private or reserved network ({addr})"
                )
            }
            UrlPolicyError::UnresolvableHost { host, reason } => {
                write!(f, "host '{host}' could not be resolved: {reason}")
            }
        }
    }
}

impl std::error::Error for UrlPolicyError {}

/// Checks a URL's syntax without touching the network and returns it parsed.
///
/// Leading and trailing spaces are ignored. Refused: empty, longer than [`MAX_URL_CHARS`],
/// control characters (raw, or percent-encoded: C0, DEL, C1), a leading `-`, anything that is
/// not an absolute http(s) URL with a host. Everything else a browser accepts is accepted,
/// including `&`, `(`, `)`, `[`, `]`, `$` and IPv6 literals.
pub fn check_syntax(raw: &str) -> Result<Url, UrlPolicyError> {
    let trimmed = raw.trim_matches(' ');
    if trimmed.is_empty() {
        return Err(UrlPolicyError::Empty);
    }
    let chars = trimmed.chars().count();
    if chars > MAX_URL_CHARS {
        return Err(UrlPolicyError::TooLong { chars });
    }
    if trimmed.chars().any(char::is_control) || decoded_has_control(trimmed) {
        return Err(UrlPolicyError::ControlCharacter);
    }
    if trimmed.starts_with('-') {
        return Err(UrlPolicyError::LooksLikeOption);
    }
    let url = Url::parse(trimmed).map_err(|e| UrlPolicyError::Malformed {
        reason: e.to_string(),
    })?;
    // Parsing percent-encodes non-ASCII text (one character can become nine), and the parsed
    // form is what yt-dlp gets: it must respect the limit too.
    let parsed_chars = url.as_str().chars().count();
    if parsed_chars > MAX_URL_CHARS {
        return Err(UrlPolicyError::TooLong {
            chars: parsed_chars,
        });
    }
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(UrlPolicyError::UnsupportedScheme {
                scheme: other.to_owned(),
            });
        }
    }
    match url.host() {
        None => Err(UrlPolicyError::MissingHost),
        Some(Host::Domain("")) => Err(UrlPolicyError::MissingHost),
        Some(_) => Ok(url),
    }
}

/// Checks a URL completely: [`check_syntax`], then its host.
///
/// An IP literal is checked directly; `localhost`, `*.localhost`, `*.local` (and the original's
/// other local names) are refused without DNS; any other name is resolved and refused when any
/// of its addresses is forbidden by [`is_forbidden_ip`]. `allow_private` (for tests and LAN
/// setups) lifts the local-name and address rules but still resolves names, so an unresolvable
/// host is reported the same way in both modes; the caller decides what to do with
/// [`UrlPolicyError::UnresolvableHost`].
///
/// The rules are the egress guard's ([`crate::egress::Rules`]): a `host:port` on
/// `SOFATHEK_ALLOWED_PRIVATE_HOSTS` passes like `allow_private` does for every host, and names
/// are resolved the way the guard resolves them.
pub async fn check(raw: &str, rules: &crate::egress::Rules) -> Result<Url, UrlPolicyError> {
    let url = check_syntax(raw)?;
    let port = url
        .port_or_known_default()
        .unwrap_or(if url.scheme() == "https" { 443 } else { 80 });
    let allowed = url
        .host_str()
        .is_some_and(|host| rules.is_allowed(host, port));
    check_with_resolver(
        raw,
        rules.allow_private || allowed,
        |host, port| async move { rules.resolve(&host, port).await },
    )
    .await
}

/// [`check`] with the name resolver passed in, so the host rules can be tested without DNS.
pub(crate) async fn check_with_resolver<R, F>(
    raw: &str,
    allow_private: bool,
    resolver: R,
) -> Result<Url, UrlPolicyError>
where
    R: FnOnce(String, u16) -> F,
    F: Future<Output = io::Result<Vec<IpAddr>>>,
{
    let url = check_syntax(raw)?;
    let host_text = url.host_str().unwrap_or_default().to_owned();
    let port = url
        .port_or_known_default()
        .unwrap_or(if url.scheme() == "https" { 443 } else { 80 });
    let addrs = match url.host() {
        None => return Err(UrlPolicyError::MissingHost),
        Some(Host::Ipv4(v4)) => vec![IpAddr::V4(v4)],
        Some(Host::Ipv6(v6)) => vec![IpAddr::V6(v6)],
        Some(Host::Domain(domain)) => {
            if !allow_private && is_local_name(domain) {
                return Err(UrlPolicyError::LocalHost { host: host_text });
            }
            let resolved =
                tokio::time::timeout(RESOLVE_TIMEOUT, resolver(domain.to_owned(), port)).await;
            match resolved {
                Err(_) => {
                    return Err(UrlPolicyError::UnresolvableHost {
                        host: host_text,
                        reason: "timed out".to_owned(),
                    });
                }
                Ok(Err(e)) => {
                    return Err(UrlPolicyError::UnresolvableHost {
                        host: host_text,
                        reason: e.to_string(),
                    });
                }
                Ok(Ok(list)) if list.is_empty() => {
                    return Err(UrlPolicyError::UnresolvableHost {
                        host: host_text,
                        reason: "no addresses".to_owned(),
                    });
                }
                Ok(Ok(list)) => list,
            }
        }
    };
    if allow_private {
        return Ok(url);
    }
    match addrs.iter().copied().find(|a| is_forbidden_ip(*a)) {
        Some(addr) => Err(UrlPolicyError::ForbiddenAddress {
            host: host_text,
            addr,
        }),
        None => Ok(url),
    }
}

/// Whether a (lower-case, IDNA-normalised) host name names this machine or the local link.
fn is_local_name(domain: &str) -> bool {
    let name = domain.trim_end_matches('.').to_ascii_lowercase();
    LOCAL_NAMES.contains(&name.as_str())
        || LOCAL_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

/// Whether the percent-decoded form of `s` contains a control character (C0, DEL or C1).
///
/// Only well-formed `%XX` escapes are decoded; a stray `%` is kept as it is.
fn decoded_has_control(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| Some((hex_value(pair[0])? << 4) | hex_value(pair[1])?));
        match (bytes[i], escape) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    decoded.iter().any(|b| *b < 0x20 || *b == 0x7f)
        || String::from_utf8_lossy(&decoded)
            .chars()
            .any(char::is_control)
}

/// The value of one hexadecimal digit.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Whether an address is on a network a download must never reach.
///
/// IPv4: 0/8 ("this network", includes unspecified), 10/8, 100.64/10 (CGNAT), 127/8,
/// 169.254/16, 172.16/12, 192.0.0/24 (IETF assignments), 192.0.2/24, 192.168/16, 198.18/15
/// (benchmarking), 198.51.100/24, 203.0.113/24, 224/4 (multicast), 240/4 (reserved, includes
/// broadcast). IPv6: unspecified, loopback, 100::/64 (discard), fc00::/7, fe80::/10, fec0::/10,
/// ff00::/8, 2001:db8::/32 and 3fff::/20 (documentation), 2001::/32 (Teredo, which hides its
/// IPv4 endpoint), 64:ff9b:1::/48 (local NAT64); and the IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::`)
/// forms of forbidden IPv4 addresses.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

/// The IPv4 part of [`is_forbidden_ip`].
fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    const RANGES: &[([u8; 4], u8)] = &[
        ([0, 0, 0, 0], 8),
        ([10, 0, 0, 0], 8),
        ([100, 64, 0, 0], 10),
        ([127, 0, 0, 0], 8),
        ([169, 254, 0, 0], 16),
        ([172, 16, 0, 0], 12),
        ([192, 0, 0, 0], 24),
        ([192, 0, 2, 0], 24),
        ([192, 168, 0, 0], 16),
        ([198, 18, 0, 0], 15),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        ([224, 0, 0, 0], 4),
        ([240, 0, 0, 0], 4),
    ];
    let bits = u32::from(ip);
    RANGES.iter().any(|(net, len)| {
        let mask = u32::MAX << (32 - u32::from(*len));
        bits & mask == u32::from(Ipv4Addr::from(*net)) & mask
    })
}

/// The IPv6 part of [`is_forbidden_ip`].
fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    let in_net = |net: u128, len: u32| {
        let mask = u128::MAX << (128 - len);
        bits & mask == net & mask
    };
    let embedded_v4 = || Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if ip.is_unspecified() || ip.is_loopback() {
        return true;
    }
    // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::a.b.c.d (NAT64).
    if in_net(0xffff_0000_0000, 96) || in_net(0, 96) || in_net(0x0064_ff9b << 96, 96) {
        return is_forbidden_v4(embedded_v4());
    }
    // 2002:AABB:CCDD::/48 carries a.b.c.d in bits 16..48 (6to4).
    if in_net(0x2002 << 112, 16) {
        return is_forbidden_v4(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
    }
    const RANGES: &[(u128, u32)] = &[
        (0x0100 << 112, 64),          // discard-only
        (0x0064_ff9b_0001 << 80, 48), // local-use NAT64
        (0x2001 << 112, 32),          // Teredo
        (0x2001_0db8 << 96, 32),      // documentation
        (0x3fff << 112, 20),          // documentation
        (0xfc00 << 112, 7),           // unique local
        (0xfe80 << 112, 10),          // link-local
        (0xfec0 << 112, 10),          // site-local (deprecated)
        (0xff00 << 112, 8),           // multicast
    ];
    RANGES.iter().any(|(net, len)| in_net(*net, *len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_syntax_ok(raw: &str) {
        match check_syntax(raw) {
            Ok(_) => {}
            Err(e) => panic!("{raw:?} refused: {e}"),
        }
    }

    fn check_syntax_err(raw: &str, code: &str) {
        match check_syntax(raw) {
            Ok(url) => panic!("{raw:?} accepted as {url}"),
            Err(e) => assert_eq!(e.code(), code, "{raw:?}: {e}"),
        }
    }

    #[test]
    fn the_parsed_url_respects_the_length_limit() {
        // Found by the fuzzer: 1,900 characters that percent-encode to 17,000.
        check_syntax_err(
            &format!("https://example.com/{}", "\u{fffd}".repeat(1900)),
            "URL_TOO_LONG",
        );
        check_syntax_ok(&format!("https://example.com/{}", "\u{fffd}".repeat(200)));
    }

    #[test]
    fn accepts_ordinary_and_formerly_refused_urls() {
        for raw in [
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=30s",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
            "https://youtu.be/dQw4w9WgXcQ",
            "https://www.youtube.com/shorts/abcdefghijk",
            "https://vimeo.com/76979871",
            "https://example.com",
            "https://example.com/fake-video.mp4",
            "https://en.wikipedia.org/wiki/Foo_(bar)",
            "https://example.com/a[1]/b?x=$1",
            "http://[2606:4700::6810:84e5]/video.mp4",
            "http://[2606:4700::6810:84e5]:8080/video.mp4",
            "http://127.0.0.1:8080/file.mp4",
            "  https://example.com/padded  ",
            "https://example.com/100%",
            "https://example.com/a%20b",
            "https://bücher.example/film",
        ] {
            check_syntax_ok(raw);
        }
    }

    #[test]
    fn refuses_bad_syntax() {
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        for (raw, code) in [
            ("", "URL_EMPTY"),
            ("   ", "URL_EMPTY"),
            (long.as_str(), "URL_TOO_LONG"),
            ("https://example.com/\0", "URL_CONTROL_CHARACTER"),
            ("https://example.com/a\nb", "URL_CONTROL_CHARACTER"),
            ("https://example.com/a\rb", "URL_CONTROL_CHARACTER"),
            ("https://example.com/a\tb", "URL_CONTROL_CHARACTER"),
            ("https://example.com/a\u{7f}", "URL_CONTROL_CHARACTER"),
            ("https://example.com/a\u{85}", "URL_CONTROL_CHARACTER"),
            ("https://example.com/%00", "URL_CONTROL_CHARACTER"),
            ("https://example.com/a%0Ab", "URL_CONTROL_CHARACTER"),
            ("https://example.com/a%0db", "URL_CONTROL_CHARACTER"),
            ("https://example.com/a%09b", "URL_CONTROL_CHARACTER"),
            ("https://example.com/a%7F", "URL_CONTROL_CHARACTER"),
            ("https://example.com/a%C2%85", "URL_CONTROL_CHARACTER"),
            ("-o/tmp/x", "URL_LOOKS_LIKE_OPTION"),
            ("--exec=id", "URL_LOOKS_LIKE_OPTION"),
            ("--exec id https://example.com", "URL_LOOKS_LIKE_OPTION"),
            ("not-a-valid-url-at-all", "URL_MALFORMED"),
            ("not-a-url", "URL_MALFORMED"),
            ("example.com/video", "URL_MALFORMED"),
            ("/relative/path", "URL_MALFORMED"),
            ("http://", "URL_MALFORMED"),
            ("http://[::1", "URL_MALFORMED"),
            ("ftp://example.com/file.mp4", "URL_UNSUPPORTED_SCHEME"),
            ("file:///etc/passwd", "URL_UNSUPPORTED_SCHEME"),
            ("javascript:alert(1)", "URL_UNSUPPORTED_SCHEME"),
            ("data:text/plain,hi", "URL_UNSUPPORTED_SCHEME"),
        ] {
            check_syntax_err(raw, code);
        }
    }

    #[test]
    fn exactly_max_length_is_accepted() {
        let prefix = "https://example.com/";
        let raw = format!("{prefix}{}", "a".repeat(MAX_URL_CHARS - prefix.len()));
        check_syntax_ok(&raw);
    }

    #[test]
    fn api_messages_match_the_original() {
        assert_eq!(UrlPolicyError::Empty.api_message(), "Video URL is required");
        assert_eq!(
            UrlPolicyError::ControlCharacter.api_message(),
            "Invalid video URL format"
        );
        assert_eq!(
            UrlPolicyError::LooksLikeOption.to_string(),
            "url must not start with '-'"
        );
    }

    #[test]
    fn forbidden_addresses() {
        for (text, forbidden) in [
            ("0.0.0.0", true),
            ("0.1.2.3", true),
            ("10.1.2.3", true),
            ("100.64.0.1", true),
            ("100.127.255.254", true),
            ("100.128.0.1", false),
            ("100.63.255.255", false),
            ("127.0.0.1", true),
            ("127.255.255.255", true),
            ("169.254.169.254", true),
            ("172.15.255.255", false),
            ("172.16.0.1", true),
            ("172.31.255.255", true),
            ("172.32.0.1", false),
            ("192.0.0.8", true),
            ("192.0.2.55", true),
            ("192.168.1.1", true),
            ("198.18.0.1", true),
            ("198.19.255.255", true),
            ("198.20.0.1", false),
            ("198.51.100.7", true),
            ("203.0.113.9", true),
            ("224.0.0.251", true),
            ("239.255.255.250", true),
            ("240.0.0.1", true),
            ("255.255.255.255", true),
            ("1.1.1.1", false),
            ("8.8.8.8", false),
            ("93.184.216.34", false),
            ("::", true),
            ("::1", true),
            ("::ffff:127.0.0.1", true),
            ("::ffff:10.0.0.1", true),
            ("::ffff:8.8.8.8", false),
            ("::127.0.0.1", true),
            ("::8.8.8.8", false),
            ("64:ff9b::192.168.0.1", true),
            ("64:ff9b::8.8.8.8", false),
            ("64:ff9b:1::1", true),
            ("2002:7f00:1::", true),
            ("2002:c0a8:101::1", true),
            ("2002:808:808::1", false),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", true),
            ("2001:db8::1", true),
            ("3fff::1", true),
            ("100::1", true),
            ("fc00::1", true),
            ("fd12:3456:789a::1", true),
            ("fe80::1", true),
            ("febf::1", true),
            ("fec0::1", true),
            ("ff02::1", true),
            ("2606:4700::6810:84e5", false),
            ("2a00:1450:4001:80b::200e", false),
        ] {
            let ip: IpAddr = match text.parse() {
                Ok(ip) => ip,
                Err(e) => panic!("{text}: {e}"),
            };
            assert_eq!(is_forbidden_ip(ip), forbidden, "{text}");
        }
    }

    fn no_dns(_: String, _: u16) -> std::future::Ready<io::Result<Vec<IpAddr>>> {
        panic!("resolver must not be called")
    }

    fn fixed(
        addrs: &'static [&'static str],
    ) -> impl FnOnce(String, u16) -> std::future::Ready<io::Result<Vec<IpAddr>>> {
        move |_, _| std::future::ready(Ok(addrs.iter().filter_map(|a| a.parse().ok()).collect()))
    }

    async fn check_code(
        raw: &str,
        allow_private: bool,
        addrs: &'static [&'static str],
    ) -> Result<(), &'static str> {
        check_with_resolver(raw, allow_private, fixed(addrs))
            .await
            .map(|_| ())
            .map_err(|e| e.code().as_str())
    }

    #[tokio::test]
    async fn literal_hosts_are_checked_without_dns() {
        for (raw, allow, expected) in [
            (
                "http://127.0.0.1:8080/x.mp4",
                false,
                Err("URL_FORBIDDEN_ADDRESS"),
            ),
            ("http://127.0.0.1:8080/x.mp4", true, Ok(())),
            ("http://0x7f.1/x.mp4", false, Err("URL_FORBIDDEN_ADDRESS")),
            (
                "http://2130706433/x.mp4",
                false,
                Err("URL_FORBIDDEN_ADDRESS"),
            ),
            ("http://[::1]/x.mp4", false, Err("URL_FORBIDDEN_ADDRESS")),
            (
                "http://[::ffff:192.168.0.1]/x.mp4",
                false,
                Err("URL_FORBIDDEN_ADDRESS"),
            ),
            ("http://93.184.216.34/x.mp4", false, Ok(())),
            ("http://[2606:4700::6810:84e5]/x.mp4", false, Ok(())),
            ("http://localhost:3001/x", false, Err("URL_LOCAL_HOST")),
            ("http://LOCALHOST./x", false, Err("URL_LOCAL_HOST")),
            ("http://app.localhost/x", false, Err("URL_LOCAL_HOST")),
            ("http://nas.local/x", false, Err("URL_LOCAL_HOST")),
            ("http://ip6-localhost/x", false, Err("URL_LOCAL_HOST")),
            ("http://box.localdomain/x", false, Err("URL_LOCAL_HOST")),
        ] {
            let got = check_with_resolver(raw, allow, no_dns)
                .await
                .map(|_| ())
                .map_err(|e| e.code().as_str());
            assert_eq!(got, expected, "{raw}");
        }
    }

    #[tokio::test]
    async fn resolved_names_are_refused_when_any_address_is_forbidden() {
        assert_eq!(
            check_code("https://example.com/v", false, &["93.184.216.34"]).await,
            Ok(())
        );
        assert_eq!(
            check_code(
                "https://example.com/v",
                false,
                &["93.184.216.34", "10.0.0.5"]
            )
            .await,
            Err("URL_FORBIDDEN_ADDRESS")
        );
        assert_eq!(
            check_code("https://example.com/v", false, &["fd00::1"]).await,
            Err("URL_FORBIDDEN_ADDRESS")
        );
        assert_eq!(
            check_code("https://example.com/v", true, &["10.0.0.5"]).await,
            Ok(())
        );
        assert_eq!(
            check_code("https://example.com/v", false, &[]).await,
            Err("URL_UNRESOLVABLE_HOST")
        );
        assert_eq!(
            check_code("http://nas.local/v", true, &["192.168.1.2"]).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn resolver_errors_are_unresolvable() {
        let failing = |_: String, _: u16| std::future::ready(Err(io::Error::other("no such host")));
        let err = check_with_resolver("https://nonexistent.invalid/", false, failing).await;
        assert!(
            matches!(err, Err(UrlPolicyError::UnresolvableHost { .. })),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn syntax_errors_come_first() {
        let open = crate::egress::Rules {
            allow_private: true,
            ..Default::default()
        };
        let err = check("--exec=id", &open).await;
        assert_eq!(
            err.map_err(|e| e.code().as_str()),
            Err("URL_LOOKS_LIKE_OPTION")
        );
        let closed = crate::egress::Rules::default();
        let err = check("http://[::1]:9/x", &closed).await;
        assert_eq!(
            err.map_err(|e| e.code().as_str()),
            Err("URL_FORBIDDEN_ADDRESS")
        );
        // A host:port on the allow-list passes; the same host on another port does not.
        let listed = crate::egress::Rules {
            allowed: crate::egress::parse_allow_list("[::1]:9").expect("list"),
            ..Default::default()
        };
        assert!(check("http://[::1]:9/x", &listed).await.is_ok());
        let err = check("http://[::1]:10/x", &listed).await;
        assert_eq!(
            err.map_err(|e| e.code().as_str()),
            Err("URL_FORBIDDEN_ADDRESS")
        );
    }
}
