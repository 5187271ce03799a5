//! Fuzzes the client file-name rules (`sofathek::library::check_name`, `extension`, `mime_type`)
//! and the `Content-Disposition` builder: an accepted name is one harmless path component, and
//! every disposition is a valid header value that names the file.
#![no_main]

use axum::http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use sofathek::http::serve_file::content_disposition;
use sofathek::library::{
    DOWNLOAD_EXTRA_EXTENSIONS, THUMBNAIL_EXTENSIONS, VIDEO_EXTENSIONS, check_name, extension,
    mime_type,
};

fuzz_target!(|data: &[u8]| {
    let name = String::from_utf8_lossy(data);
    for allowed in [
        &[VIDEO_EXTENSIONS][..],
        &[VIDEO_EXTENSIONS, DOWNLOAD_EXTRA_EXTENSIONS][..],
        &[THUMBNAIL_EXTENSIONS][..],
    ] {
        if check_name(&name, allowed).is_ok() {
            assert!(!name.is_empty() && !name.starts_with('.'), "{name:?}");
            assert!(!name.contains(['/', '\\']), "{name:?} has a separator");
            assert!(
                !name.chars().any(char::is_control),
                "{name:?} has a control character"
            );
            let ext =
                extension(&name).unwrap_or_else(|| panic!("{name:?} accepted without extension"));
            assert!(
                allowed.iter().any(|list| list.contains(&ext.as_str())),
                "{name:?}"
            );
            let path = std::path::Path::new("/library").join(name.as_ref());
            assert_eq!(
                path.parent(),
                Some(std::path::Path::new("/library")),
                "{name:?} escapes"
            );
        }
    }
    let _ = mime_type(&name);
    let disposition = content_disposition(&name);
    HeaderValue::from_str(&disposition)
        .unwrap_or_else(|err| panic!("{name:?} -> invalid header {disposition:?}: {err}"));
    assert!(disposition.starts_with("attachment;"), "{disposition}");
});
