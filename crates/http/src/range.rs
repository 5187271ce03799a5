//! HTTP Range and conditional-request evaluation (RFC 9110 §13 and §14) as pure functions.
//!
//! Nothing here touches the file system or the network: [`crate::serve_file`] gathers the
//! file's size and modification time and the request's header values, and asks these functions
//! what to answer. Every function accepts any input without panicking (they are fuzzed).
//!
//! Decisions that differ from the original service (see `original-sofathek.md` §1.5 and §10.11):
//! suffix ranges are served, an end past the file is clamped, `start > end` is a 400 instead of a
//! 500, and an unsatisfiable range gets `Content-Range: bytes */size`.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::Method;

/// A satisfiable byte range: `start..=end`, both inclusive and always inside the file
/// (`start <= end < size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    /// The number of bytes in the range (at least 1).
    pub fn byte_count(&self) -> u64 {
        // `start <= end < u64::MAX` holds for every range built here, so this cannot overflow.
        self.end.saturating_sub(self.start).saturating_add(1)
    }

    /// The `Content-Range` value of a 206 answer: `bytes <start>-<end>/<size>`.
    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, size)
    }
}

/// Why a `Range` header does not select bytes to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeError {
    /// Not a valid `bytes=` range set (bad syntax, unknown unit, `start > end`): answer 400
    /// `Invalid range header format`, as the original did.
    Malformed,
    /// Valid syntax, but no range overlaps the file (start past the end, `bytes=-0`, any range
    /// of an empty file): answer 416 with `Content-Range: bytes */<size>`.
    Unsatisfiable,
}

impl std::fmt::Display for RangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RangeError::Malformed => f.write_str("invalid range header format"),
            RangeError::Unsatisfiable => f.write_str("range not satisfiable"),
        }
    }
}

impl std::error::Error for RangeError {}

/// The `Content-Range` value of a 416 answer: `bytes */<size>`.
pub fn unsatisfied_content_range(size: u64) -> String {
    format!("bytes */{size}")
}

/// Parses a `Range` header value against a file of `size` bytes.
///
/// Accepts `bytes=a-b`, `bytes=a-` and `bytes=-n` (the unit is case-insensitive, list elements
/// may be separated by `, ` and empty elements are skipped). The end is clamped to `size - 1`; a
/// suffix longer than the file selects the whole file. A set of several ranges is answered with
/// its first satisfiable range alone (the original served only the first range; no multipart
/// answers), but every element must be well-formed. Numbers too large for `u64` are compared
/// exactly and never overflow.
pub fn parse_range(header: &str, size: u64) -> Result<ByteRange, RangeError> {
    let (unit, range_set) = header.trim().split_once('=').ok_or(RangeError::Malformed)?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return Err(RangeError::Malformed);
    }
    let mut any_spec = false;
    let mut selected = None;
    for element in range_set.split(',') {
        let element = trim_ows(element);
        if element.is_empty() {
            continue;
        }
        any_spec = true;
        let spec = parse_spec(element)?;
        if selected.is_none() {
            selected = spec.resolve(size);
        }
    }
    if !any_spec {
        return Err(RangeError::Malformed);
    }
    selected.ok_or(RangeError::Unsatisfiable)
}

/// One element of a range set, with numbers saturated at `u64::MAX` (any value that large is
/// past the end of every file, so saturation does not change the outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// `first-` or `first-last`.
    Int { first: u64, last: Option<u64> },
    /// `-length`: the last `length` bytes.
    Suffix { length: u64 },
}

impl RangeSpec {
    fn resolve(self, size: u64) -> Option<ByteRange> {
        let last_byte = size.checked_sub(1)?;
        match self {
            RangeSpec::Int { first, last } => {
                if first > last_byte {
                    return None;
                }
                let end = last.map_or(last_byte, |last| last.min(last_byte));
                Some(ByteRange { start: first, end })
            }
            RangeSpec::Suffix { length } => {
                if length == 0 {
                    return None;
                }
                Some(ByteRange {
                    start: size.saturating_sub(length),
                    end: last_byte,
                })
            }
        }
    }
}

fn parse_spec(element: &str) -> Result<RangeSpec, RangeError> {
    let (first, last) = element.split_once('-').ok_or(RangeError::Malformed)?;
    if first.is_empty() {
        let length = parse_digits(last).ok_or(RangeError::Malformed)?;
        return Ok(RangeSpec::Suffix { length });
    }
    let first_pos = parse_digits(first).ok_or(RangeError::Malformed)?;
    if last.is_empty() {
        return Ok(RangeSpec::Int {
            first: first_pos,
            last: None,
        });
    }
    let last_pos = parse_digits(last).ok_or(RangeError::Malformed)?;
    // Compare the digit strings, not the saturated numbers, so huge values stay exact.
    if compare_decimal(first, last) == Ordering::Greater {
        return Err(RangeError::Malformed);
    }
    Ok(RangeSpec::Int {
        first: first_pos,
        last: Some(last_pos),
    })
}

/// `1*DIGIT` as a number saturated at `u64::MAX`; `None` for anything else (signs, spaces, empty).
fn parse_digits(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.bytes().fold(0u64, |value, digit| {
        value
            .saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
    }))
}

/// Compares two non-empty ASCII digit strings as unbounded decimal numbers.
fn compare_decimal(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Removes optional white space (space and horizontal tab) around a list element.
fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// The latest second an HTTP-date can express (9999-12-31T23:59:59Z); formatting a later time
/// would panic in `httpdate`.
const MAX_HTTP_DATE_SECS: u64 = 253_402_300_799;

/// What the server knows about the current version of a file, used as validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// Strong entity tag, quotes included: `"<hex size>-<hex mtime nanoseconds>"`.
    pub etag: String,
    /// Modification time in whole seconds since the Unix epoch; `None` when unknown or not
    /// expressible as an HTTP-date (before 1970 or after 9999), then no `Last-Modified` is sent
    /// and date conditions are ignored.
    pub last_modified: Option<u64>,
}

impl Validators {
    /// Validators for a file of `size` bytes last modified at `modified`.
    pub fn new(size: u64, modified: Option<SystemTime>) -> Validators {
        let since_epoch = modified.and_then(|time| time.duration_since(UNIX_EPOCH).ok());
        let nanos = since_epoch.map_or(0, |duration| duration.as_nanos());
        Validators {
            etag: format!("\"{size:x}-{nanos:x}\""),
            last_modified: since_epoch
                .map(|duration| duration.as_secs())
                .filter(|secs| *secs <= MAX_HTTP_DATE_SECS),
        }
    }

    /// The `Last-Modified` value (an IMF-fixdate), when the modification time is known.
    pub fn last_modified_header(&self) -> Option<String> {
        let secs = self
            .last_modified
            .filter(|secs| *secs <= MAX_HTTP_DATE_SECS)?;
        Some(httpdate::fmt_http_date(
            UNIX_EPOCH + Duration::from_secs(secs),
        ))
    }
}

/// The conditional header values of a request (list headers sent on several lines joined with
/// `, `); `None` when absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a str>,
    pub if_unmodified_since: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a str>,
}

/// The outcome of evaluating the preconditions of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Serve the request normally (Range and If-Range are evaluated next).
    Proceed,
    /// 304 Not Modified (GET and HEAD only).
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match` and `If-Modified-Since` in the
/// order of RFC 9110 §13.2.2.
///
/// `If-None-Match` uses the weak comparison and accepts `*` and lists; `If-Modified-Since` is
/// only considered without `If-None-Match`, only for GET and HEAD, and at the one-second
/// granularity of HTTP-dates. Unparseable dates are ignored, as the RFC requires.
pub fn evaluate_preconditions(
    method: &Method,
    conditions: &Conditions<'_>,
    validators: &Validators,
) -> Precondition {
    if let Some(if_match) = conditions.if_match {
        if !etag_list_matches(if_match, &validators.etag, Comparison::Strong) {
            return Precondition::Failed;
        }
    } else if let Some(since) = conditions
        .if_unmodified_since
        .and_then(parse_http_date_secs)
    {
        if validators
            .last_modified
            .is_some_and(|modified| modified > since)
        {
            return Precondition::Failed;
        }
    }
    let get_or_head = *method == Method::GET || *method == Method::HEAD;
    if let Some(if_none_match) = conditions.if_none_match {
        if etag_list_matches(if_none_match, &validators.etag, Comparison::Weak) {
            return if get_or_head {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
    } else if get_or_head {
        if let Some(since) = conditions.if_modified_since.and_then(parse_http_date_secs) {
            if validators
                .last_modified
                .is_some_and(|modified| modified <= since)
            {
                return Precondition::NotModified;
            }
        }
    }
    Precondition::Proceed
}

/// Whether an `If-Range` value still describes the file, so the `Range` header may be honoured;
/// when it does not, the whole file is sent with 200.
///
/// An entity tag must match strongly (a weak tag never matches); an HTTP-date must equal
/// `Last-Modified` exactly. Anything else does not match.
pub fn if_range_matches(if_range: &str, validators: &Validators) -> bool {
    let value = trim_ows(if_range);
    if value.starts_with('"') || value.starts_with("W/") {
        return match parse_entity_tag(value) {
            Some((tag, rest)) => {
                !tag.weak && trim_ows(rest).is_empty() && tag.opaque == validators.etag
            }
            None => false,
        };
    }
    match (parse_http_date_secs(value), validators.last_modified) {
        (Some(date), Some(modified)) => date == modified,
        _ => false,
    }
}

/// Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime) into seconds since the epoch.
fn parse_http_date_secs(value: &str) -> Option<u64> {
    let time = httpdate::parse_http_date(value).ok()?;
    time.duration_since(UNIX_EPOCH)
        .ok()
        .map(|duration| duration.as_secs())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Strong,
    Weak,
}

/// One parsed entity tag; `opaque` keeps its double quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntityTag<'a> {
    weak: bool,
    opaque: &'a str,
}

/// Parses one entity tag at the start of `input`, returning it and the rest of the input.
fn parse_entity_tag(input: &str) -> Option<(EntityTag<'_>, &str)> {
    let (weak, quoted) = match input.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let inner = quoted.strip_prefix('"')?;
    let close = inner.find('"')?;
    // etagc = %x21 / %x23-7E / obs-text; `"` cannot occur before `close`.
    if !inner[..close]
        .bytes()
        .all(|b| b == 0x21 || (b >= 0x23 && b != 0x7f))
    {
        return None;
    }
    let opaque_len = close + 2;
    Some((
        EntityTag {
            weak,
            opaque: &quoted[..opaque_len],
        },
        &quoted[opaque_len..],
    ))
}

/// Whether `*` or any tag of the list `value` matches `etag` (a strong tag, quotes included).
/// Parsing stops at the first malformed element; tags before it still count.
fn etag_list_matches(value: &str, etag: &str, comparison: Comparison) -> bool {
    let mut rest = trim_ows(value);
    if rest == "*" {
        return true;
    }
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return false;
        }
        let Some((tag, after)) = parse_entity_tag(rest) else {
            return false;
        };
        let matches = match comparison {
            Comparison::Strong => !tag.weak && tag.opaque == etag,
            Comparison::Weak => tag.opaque == etag,
        };
        if matches {
            return true;
        }
        rest = trim_ows(after);
        if !rest.is_empty() && !rest.starts_with(',') {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_range(header: &str, size: u64, expected: Result<(u64, u64), RangeError>) {
        let actual = parse_range(header, size).map(|range| (range.start, range.end));
        assert_eq!(actual, expected, "parse_range({header:?}, {size})");
    }

    #[test]
    fn parses_ranges() {
        use RangeError::{Malformed, Unsatisfiable};
        type Case = (&'static str, u64, Result<(u64, u64), RangeError>);
        let cases: &[Case] = &[
            // plain ranges
            ("bytes=0-0", 100, Ok((0, 0))),
            ("bytes=0-99", 100, Ok((0, 99))),
            ("bytes=10-20", 100, Ok((10, 20))),
            ("bytes=99-99", 100, Ok((99, 99))),
            ("bytes=007-010", 100, Ok((7, 10))),
            // open-ended
            ("bytes=0-", 100, Ok((0, 99))),
            ("bytes=50-", 100, Ok((50, 99))),
            ("bytes=99-", 100, Ok((99, 99))),
            // end clamped to size - 1
            ("bytes=10-100", 100, Ok((10, 99))),
            ("bytes=10-1000000", 100, Ok((10, 99))),
            ("bytes=0-18446744073709551615", 100, Ok((0, 99))),
            ("bytes=0-99999999999999999999999999", 100, Ok((0, 99))),
            // suffix
            ("bytes=-1", 100, Ok((99, 99))),
            ("bytes=-10", 100, Ok((90, 99))),
            ("bytes=-100", 100, Ok((0, 99))),
            ("bytes=-101", 100, Ok((0, 99))),
            ("bytes=-18446744073709551615", 100, Ok((0, 99))),
            ("bytes=-99999999999999999999999999", 100, Ok((0, 99))),
            ("bytes=-0", 100, Err(Unsatisfiable)),
            ("bytes=-000", 100, Err(Unsatisfiable)),
            // start past the end
            ("bytes=100-", 100, Err(Unsatisfiable)),
            ("bytes=100-200", 100, Err(Unsatisfiable)),
            ("bytes=18446744073709551615-", 100, Err(Unsatisfiable)),
            ("bytes=18446744073709551615-", u64::MAX, Err(Unsatisfiable)),
            (
                "bytes=18446744073709551614-",
                u64::MAX,
                Ok((u64::MAX - 1, u64::MAX - 1)),
            ),
            ("bytes=99999999999999999999999999-", 100, Err(Unsatisfiable)),
            ("bytes=0-", u64::MAX, Ok((0, u64::MAX - 1))),
            ("bytes=-5", u64::MAX, Ok((u64::MAX - 5, u64::MAX - 1))),
            // empty files: nothing is satisfiable
            ("bytes=0-", 0, Err(Unsatisfiable)),
            ("bytes=0-0", 0, Err(Unsatisfiable)),
            ("bytes=-5", 0, Err(Unsatisfiable)),
            // unit is case-insensitive, surrounding and list white space is fine
            ("BYTES=1-2", 100, Ok((1, 2))),
            ("Bytes=1-2", 100, Ok((1, 2))),
            ("  bytes=1-2  ", 100, Ok((1, 2))),
            ("bytes= 1-2", 100, Ok((1, 2))),
            // multi-range: the first satisfiable range
            ("bytes=0-1,5-6", 100, Ok((0, 1))),
            ("bytes=5-6, 0-1", 100, Ok((5, 6))),
            ("bytes=200-300, -10", 100, Ok((90, 99))),
            ("bytes=200-300, 300-", 100, Err(Unsatisfiable)),
            ("bytes=0-1,,5-6", 100, Ok((0, 1))),
            ("bytes=,0-1", 100, Ok((0, 1))),
            // malformed
            ("", 100, Err(Malformed)),
            ("bytes", 100, Err(Malformed)),
            ("bytes=", 100, Err(Malformed)),
            ("bytes=,", 100, Err(Malformed)),
            ("bytes=-", 100, Err(Malformed)),
            ("bytes=abc-", 100, Err(Malformed)),
            ("bytes=1-abc", 100, Err(Malformed)),
            ("bytes=5-3", 100, Err(Malformed)),
            ("bytes=500-300", 100, Err(Malformed)),
            ("bytes=99999999999999999999999999-5", 100, Err(Malformed)),
            (
                "bytes=99999999999999999999999999-99999999999999999999999998",
                100,
                Err(Malformed),
            ),
            ("bytes=1-2-3", 100, Err(Malformed)),
            ("bytes=1", 100, Err(Malformed)),
            ("bytes=+1-2", 100, Err(Malformed)),
            ("bytes=1 -2", 100, Err(Malformed)),
            ("bytes=--1", 100, Err(Malformed)),
            ("bytes=0x10-", 100, Err(Malformed)),
            ("bytes=١-٢", 100, Err(Malformed)),
            ("items=0-1", 100, Err(Malformed)),
            ("=0-1", 100, Err(Malformed)),
            ("0-1", 100, Err(Malformed)),
            ("bytes=0-1,abc", 100, Err(Malformed)),
            ("bytes=200-300,abc", 100, Err(Malformed)),
            ("bytes=5-3", 0, Err(Malformed)),
        ];
        for (header, size, expected) in cases {
            check_range(header, *size, *expected);
        }
    }

    #[test]
    fn range_helpers() {
        let range = ByteRange { start: 10, end: 19 };
        assert_eq!(range.byte_count(), 10);
        assert_eq!(range.content_range(100), "bytes 10-19/100");
        assert_eq!(
            ByteRange {
                start: 0,
                end: u64::MAX - 1
            }
            .byte_count(),
            u64::MAX
        );
        assert_eq!(unsatisfied_content_range(42), "bytes */42");
        assert_eq!(
            RangeError::Malformed.to_string(),
            "invalid range header format"
        );
    }

    /// 2023-11-14T22:13:20Z
    const MTIME_SECS: u64 = 1_700_000_000;
    const MTIME_DATE: &str = "Tue, 14 Nov 2023 22:13:20 GMT";

    fn validators() -> Validators {
        Validators::new(1000, Some(UNIX_EPOCH + Duration::new(MTIME_SECS, 500)))
    }

    #[test]
    fn builds_validators() {
        let validators = validators();
        assert_eq!(validators.etag, "\"3e8-17979cfe362a01f4\"");
        assert_eq!(validators.last_modified, Some(MTIME_SECS));
        assert_eq!(
            validators.last_modified_header().as_deref(),
            Some(MTIME_DATE)
        );

        let unknown = Validators::new(0, None);
        assert_eq!(unknown.etag, "\"0-0\"");
        assert_eq!(unknown.last_modified_header(), None);

        let before_epoch = Validators::new(5, UNIX_EPOCH.checked_sub(Duration::from_secs(10)));
        assert_eq!(before_epoch.last_modified, None);
        assert_eq!(before_epoch.last_modified_header(), None);

        let far_future = UNIX_EPOCH.checked_add(Duration::from_secs(MAX_HTTP_DATE_SECS + 1));
        assert_eq!(Validators::new(5, far_future).last_modified_header(), None);
        let last_date = UNIX_EPOCH.checked_add(Duration::from_secs(MAX_HTTP_DATE_SECS));
        assert_eq!(
            Validators::new(5, last_date)
                .last_modified_header()
                .as_deref(),
            Some("Fri, 31 Dec 9999 23:59:59 GMT")
        );
        let forged = Validators {
            etag: String::new(),
            last_modified: Some(u64::MAX),
        };
        assert_eq!(forged.last_modified_header(), None);
    }

    fn check_preconditions(method: Method, conditions: Conditions<'_>, expected: Precondition) {
        let actual = evaluate_preconditions(&method, &conditions, &validators());
        assert_eq!(actual, expected, "{method} {conditions:?}");
    }

    #[test]
    fn evaluates_preconditions() {
        use Precondition::{Failed, NotModified, Proceed};
        let etag = "\"3e8-17979cfe362a01f4\"";
        let weak = "W/\"3e8-17979cfe362a01f4\"";
        let list = "\"other\", W/\"3e8-17979cfe362a01f4\"";
        let earlier = "Tue, 14 Nov 2023 22:13:19 GMT";
        let later = "Tue, 14 Nov 2023 22:13:21 GMT";
        let none = Conditions::default();
        let inm = |value| Conditions {
            if_none_match: Some(value),
            ..none
        };
        let ims = |value| Conditions {
            if_modified_since: Some(value),
            ..none
        };
        let im = |value| Conditions {
            if_match: Some(value),
            ..none
        };
        let ius = |value| Conditions {
            if_unmodified_since: Some(value),
            ..none
        };
        let cases: Vec<(Method, Conditions<'_>, Precondition)> = vec![
            (Method::GET, none, Proceed),
            // If-None-Match: weak comparison, `*`, lists
            (Method::GET, inm(etag), NotModified),
            (Method::HEAD, inm(etag), NotModified),
            (Method::GET, inm(weak), NotModified),
            (Method::GET, inm("*"), NotModified),
            (Method::GET, inm(" * "), NotModified),
            (Method::GET, inm(list), NotModified),
            (
                Method::GET,
                inm("\"a\",\"b\" ,  \"3e8-17979cfe362a01f4\""),
                NotModified,
            ),
            (Method::GET, inm("\"other\""), Proceed),
            (Method::GET, inm("\"3e8-17979cfe362a01f4"), Proceed),
            (Method::GET, inm("3e8-17979cfe362a01f4"), Proceed),
            (Method::GET, inm(""), Proceed),
            (
                Method::GET,
                inm("garbage, \"3e8-17979cfe362a01f4\""),
                Proceed,
            ),
            (
                Method::GET,
                inm("\"a\" x, \"3e8-17979cfe362a01f4\""),
                Proceed,
            ),
            (Method::POST, inm(etag), Failed),
            (Method::POST, inm("\"other\""), Proceed),
            // If-Modified-Since: only without If-None-Match, only GET/HEAD, whole seconds
            (Method::GET, ims(MTIME_DATE), NotModified),
            (Method::HEAD, ims(MTIME_DATE), NotModified),
            (Method::GET, ims(later), NotModified),
            (Method::GET, ims(earlier), Proceed),
            (
                Method::GET,
                ims("Tuesday, 14-Nov-23 22:13:20 GMT"),
                NotModified,
            ),
            (Method::GET, ims("Tue Nov 14 22:13:20 2023"), NotModified),
            (Method::GET, ims("yesterday"), Proceed),
            (Method::GET, ims(""), Proceed),
            (Method::POST, ims(MTIME_DATE), Proceed),
            (
                Method::GET,
                Conditions {
                    if_none_match: Some("\"other\""),
                    if_modified_since: Some(later),
                    ..none
                },
                Proceed,
            ),
            (
                Method::GET,
                Conditions {
                    if_none_match: Some(etag),
                    if_modified_since: Some(earlier),
                    ..none
                },
                NotModified,
            ),
            // If-Match: strong comparison
            (Method::GET, im(etag), Proceed),
            (Method::GET, im("*"), Proceed),
            (Method::GET, im(list), Failed),
            (Method::GET, im(weak), Failed),
            (Method::GET, im("\"other\""), Failed),
            (Method::GET, im(""), Failed),
            // If-Unmodified-Since: ignored with If-Match or when unparseable
            (Method::GET, ius(MTIME_DATE), Proceed),
            (Method::GET, ius(later), Proceed),
            (Method::GET, ius(earlier), Failed),
            (Method::GET, ius("nonsense"), Proceed),
            (
                Method::GET,
                Conditions {
                    if_match: Some(etag),
                    if_unmodified_since: Some(earlier),
                    ..none
                },
                Proceed,
            ),
            // 412 wins over 304
            (
                Method::GET,
                Conditions {
                    if_match: Some("\"other\""),
                    if_none_match: Some(etag),
                    ..none
                },
                Failed,
            ),
        ];
        for (method, conditions, expected) in cases {
            check_preconditions(method, conditions, expected);
        }
    }

    #[test]
    fn date_conditions_need_a_known_mtime() {
        let unknown = Validators::new(10, None);
        let ims = Conditions {
            if_modified_since: Some(MTIME_DATE),
            ..Conditions::default()
        };
        assert_eq!(
            evaluate_preconditions(&Method::GET, &ims, &unknown),
            Precondition::Proceed
        );
        let ius = Conditions {
            if_unmodified_since: Some(MTIME_DATE),
            ..Conditions::default()
        };
        assert_eq!(
            evaluate_preconditions(&Method::GET, &ius, &unknown),
            Precondition::Proceed
        );
        assert!(!if_range_matches(MTIME_DATE, &unknown));
    }

    fn check_if_range(if_range: &str, expected: bool) {
        assert_eq!(
            if_range_matches(if_range, &validators()),
            expected,
            "If-Range: {if_range:?}"
        );
    }

    #[test]
    fn evaluates_if_range() {
        let cases: &[(&str, bool)] = &[
            ("\"3e8-17979cfe362a01f4\"", true),
            (" \"3e8-17979cfe362a01f4\" ", true),
            ("W/\"3e8-17979cfe362a01f4\"", false),
            ("\"3e8-17979cfe362a01f3\"", false),
            ("\"3e8-17979cfe362a01f4\", \"x\"", false),
            ("\"3e8-17979cfe362a01f4", false),
            ("*", false),
            ("", false),
            ("W/", false),
            ("\"", false),
            (MTIME_DATE, true),
            ("Tuesday, 14-Nov-23 22:13:20 GMT", true),
            ("Tue, 14 Nov 2023 22:13:21 GMT", false),
            ("Tue, 14 Nov 2023 22:13:19 GMT", false),
            ("Tue, 14 Nov 2023 22:13:20", false),
            ("not a date", false),
        ];
        for (if_range, expected) in cases {
            check_if_range(if_range, *expected);
        }
    }

    #[test]
    fn parses_entity_tags() {
        type Case = (&'static str, Option<(bool, &'static str, &'static str)>);
        let cases: &[Case] = &[
            ("\"abc\"", Some((false, "\"abc\"", ""))),
            ("W/\"abc\" , x", Some((true, "\"abc\"", " , x"))),
            ("\"\"", Some((false, "\"\"", ""))),
            ("\"a!#~\u{80}\"", Some((false, "\"a!#~\u{80}\"", ""))),
            ("\"a b\"", None),
            ("\"a\u{7f}\"", None),
            ("w/\"abc\"", None),
            ("abc", None),
            ("\"abc", None),
            ("", None),
        ];
        for (input, expected) in cases {
            let actual = parse_entity_tag(input).map(|(tag, rest)| (tag.weak, tag.opaque, rest));
            assert_eq!(actual, *expected, "parse_entity_tag({input:?})");
        }
    }

    /// A cheap deterministic sweep standing in for the fuzz targets: no input may panic.
    #[test]
    fn never_panics_on_odd_input() {
        let pieces = [
            "",
            "bytes",
            "=",
            "-",
            ",",
            " ",
            "0",
            "1",
            "18446744073709551615",
            "18446744073709551616",
            "W/",
            "\"",
            "*",
            "é",
            "\t",
            "x",
        ];
        let validators = validators();
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let input = format!("{a}{b}{c}");
                    for size in [0, 1, 100, u64::MAX] {
                        let _ = parse_range(&input, size);
                        let _ = parse_range(&format!("bytes={input}"), size);
                    }
                    let _ = if_range_matches(&input, &validators);
                    let conditions = Conditions {
                        if_match: Some(&input),
                        if_unmodified_since: Some(&input),
                        if_none_match: Some(&input),
                        if_modified_since: Some(&input),
                    };
                    let _ = evaluate_preconditions(&Method::GET, &conditions, &validators);
                }
            }
        }
    }
}
