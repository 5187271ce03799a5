//! Fuzzes the URL policy (`sofathek::urlpolicy::check_syntax`) and the yt-dlp command lines built
//! from accepted URLs: an accepted URL is an absolute http(s) URL with a host, free of control
//! characters, and always reaches yt-dlp as the last argument after `--`, never as an option.
#![no_main]

use std::net::IpAddr;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sofathek::urlpolicy::{MAX_URL_CHARS, check_syntax, is_forbidden_ip};
use sofathek::ytdlp::args::{DownloadOptions, download_args, metadata_args};
use sofathek_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let prefix = match input.byte() % 6 {
        0 => "",
        1 => "http://",
        2 => "https://",
        3 => "https://example.com/",
        4 => "-",
        _ => "http://[",
    };
    let raw = format!("{prefix}{}", input.text());
    let Ok(url) = check_syntax(&raw) else {
        return;
    };
    assert!(matches!(url.scheme(), "http" | "https"), "{raw:?} -> {url}");
    let host = url.host_str().unwrap_or_default();
    assert!(!host.is_empty(), "{raw:?} accepted without a host");
    assert!(raw.trim_matches(' ').chars().count() <= MAX_URL_CHARS);
    let text = url.as_str();
    assert!(
        !text.starts_with('-'),
        "{raw:?} -> {text} looks like an option"
    );
    assert!(
        !text.chars().any(|c| c.is_control() || c.is_whitespace()),
        "{raw:?} -> {text:?}"
    );
    // The parsed form is stable: checking it again accepts the same URL.
    let again =
        check_syntax(text).unwrap_or_else(|err| panic!("{text:?} refused on re-check: {err}"));
    assert_eq!(again.as_str(), text);
    if let Some(url::Host::Ipv4(v4)) = url.host() {
        let _ = is_forbidden_ip(IpAddr::V4(v4));
    }
    if let Some(url::Host::Ipv6(v6)) = url.host() {
        let _ = is_forbidden_ip(IpAddr::V6(v6));
    }

    let options = DownloadOptions::default();
    for args in [
        metadata_args(&options, &url),
        download_args(&options, &url, Path::new("/data/staging/job"))
            .expect("fixed staging dir is valid"),
    ] {
        let n = args.len();
        assert!(n >= 2, "{args:?}");
        assert_eq!(args[n - 2], "--", "the URL must follow `--`: {args:?}");
        assert_eq!(args[n - 1], text, "{args:?}");
    }
});
