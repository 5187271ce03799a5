//! Fuzzes the Range and conditional-request evaluation (`sofathek::http::range`): no panic on
//! any header, every accepted range lies inside the file, and the server's own validators
//! always round-trip through `If-Range`, `If-None-Match` and `If-Modified-Since`.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use axum::http::Method;
use libfuzzer_sys::fuzz_target;
use sofathek::http::range::{
    Conditions, Precondition, RangeError, Validators, evaluate_preconditions, if_range_matches,
    parse_range, unsatisfied_content_range,
};
use sofathek_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let size = input.size();
    let modified = UNIX_EPOCH.checked_add(Duration::from_nanos(input.u64()));
    let method = match input.byte() % 3 {
        0 => Method::GET,
        1 => Method::HEAD,
        _ => Method::POST,
    };
    let range = input.text();
    let if_range = input.text();
    let if_match = input.text();
    let if_unmodified_since = input.text();
    let if_none_match = input.text();
    let if_modified_since = input.text();

    match parse_range(&range, size) {
        Ok(r) => {
            assert!(r.start <= r.end, "{range:?} on {size}: {r:?}");
            assert!(
                r.end < size,
                "{range:?} on {size}: {r:?} ends past the file"
            );
            assert_eq!(r.byte_count(), r.end - r.start + 1);
            assert_eq!(
                r.content_range(size),
                format!("bytes {}-{}/{size}", r.start, r.end)
            );
        }
        Err(RangeError::Unsatisfiable) => {
            assert_eq!(unsatisfied_content_range(size), format!("bytes */{size}"));
        }
        Err(RangeError::Malformed) => {}
    }

    let validators = Validators::new(size, modified);
    assert!(validators.etag.starts_with('"') && validators.etag.ends_with('"'));
    let _ = if_range_matches(&if_range, &validators);
    // The server's own validators always match themselves.
    assert!(
        if_range_matches(&validators.etag, &validators),
        "{validators:?}"
    );
    if let Some(date) = validators.last_modified_header() {
        assert!(
            if_range_matches(&date, &validators),
            "{date} vs {validators:?}"
        );
        let fresh = Conditions {
            if_modified_since: Some(&date),
            ..Conditions::default()
        };
        assert_eq!(
            evaluate_preconditions(&Method::GET, &fresh, &validators),
            Precondition::NotModified
        );
    }
    let same = Conditions {
        if_none_match: Some(&validators.etag),
        ..Conditions::default()
    };
    assert_eq!(
        evaluate_preconditions(&Method::GET, &same, &validators),
        Precondition::NotModified
    );
    let matching = Conditions {
        if_match: Some(&validators.etag),
        ..Conditions::default()
    };
    assert_eq!(
        evaluate_preconditions(&method, &matching, &validators),
        Precondition::Proceed
    );

    let conditions = Conditions {
        if_match: Some(if_match.as_str()).filter(|s| !s.is_empty()),
        if_unmodified_since: Some(if_unmodified_since.as_str()).filter(|s| !s.is_empty()),
        if_none_match: Some(if_none_match.as_str()).filter(|s| !s.is_empty()),
        if_modified_since: Some(if_modified_since.as_str()).filter(|s| !s.is_empty()),
    };
    let outcome = evaluate_preconditions(&method, &conditions, &validators);
    if method == Method::POST {
        assert_ne!(
            outcome,
            Precondition::NotModified,
            "304 is only for GET and HEAD"
        );
    }
});
