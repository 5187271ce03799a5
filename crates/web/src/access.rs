//! Who may open which page. `sofathek_http::auth::authorize` has already read the request's
//! credentials into an [`Access`]; these guards turn "not allowed" into a redirect a person
//! can follow: to the "Who's watching?" picker, the parent's sign-in or the first-run setup.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use sofathek_core::auth::Access;

/// Pages for everyone in the family: the library and the player. Once a parent password
/// exists they need a chosen profile; before that (a fresh install) they are open.
pub(crate) async fn family(request: Request, next: Next) -> Response {
    let access = access_of(&request);
    if access.setup && access.profile().is_none() && !access.is_parent() {
        return redirect(&format!("/profiles?next={}", encoded_target(&request)));
    }
    next.run(request).await
}

/// Pages for parents: adding videos and managing the library.
pub(crate) async fn parents(request: Request, next: Next) -> Response {
    let access = access_of(&request);
    if !access.setup {
        return redirect("/setup");
    }
    if !access.is_parent() {
        return redirect(&format!("/signin?next={}", encoded_target(&request)));
    }
    next.run(request).await
}

fn access_of(request: &Request) -> Access {
    request
        .extensions()
        .get::<Access>()
        .cloned()
        .unwrap_or_else(|| Access::anonymous(true))
}

/// The page asked for, percent-encoded for a `next=` parameter.
fn encoded_target(request: &Request) -> String {
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    sofathek_http::serve_file::encode_name(&safe_next(Some(target)))
}

/// A 303 to a local path.
pub(crate) fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Where to go after signing in: a path on this server, never another site (`//evil`,
/// `/\evil`, `https://evil`); anything else is the library.
pub(crate) fn safe_next(raw: Option<&str>) -> String {
    match raw {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control)
                && path.len() <= 2000 =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        let check =
            |raw: Option<&str>, expected: &str| assert_eq!(safe_next(raw), expected, "{raw:?}");
        check(None, "/");
        check(Some("/manage?q=x"), "/manage?q=x");
        check(Some("//evil.example"), "/");
        check(Some("/\\evil.example"), "/");
        check(Some("https://evil.example"), "/");
        check(Some("manage"), "/");
        check(Some("/a\nb"), "/");
    }
}
