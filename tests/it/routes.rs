//! One route table: the router (`crates/server/src/http/mod.rs`), the authorization policy
//! (`sofathek_http::auth::API_ROUTES`) and the OpenAPI document name the same API routes, and
//! the router answers exactly the documented methods. Fails when a route or a method is added
//! to only one place.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::{TestServer, client};

/// The API routes the router's source declares (`.route("/api/…", …)`).
fn routed() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/server/src/http/mod.rs");
    let source = std::fs::read_to_string(path).expect("router source");
    let mut routes = BTreeSet::new();
    for (at, _) in source.match_indices(".route(") {
        let rest = source[at + ".route(".len()..].trim_start();
        let Some(literal) = rest.strip_prefix('"') else {
            continue;
        };
        let route = &literal[..literal.find('"').expect("closing quote")];
        if route.starts_with("/api/") {
            assert!(routes.insert(route.to_owned()), "{route} is routed twice");
        }
    }
    routes
}

#[tokio::test]
async fn router_policy_and_document_name_the_same_routes_and_methods() {
    let routed = routed();
    assert!(routed.len() > 30, "the parser found the routes: {routed:?}");

    let mut policy = BTreeSet::new();
    for rule in sofathek::http::auth::API_ROUTES {
        assert!(
            policy.insert(rule.route.to_owned()),
            "{} is in the policy twice",
            rule.route
        );
    }

    let server = TestServer::start().await;
    let (status, doc) = server.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    let documented: BTreeMap<String, BTreeSet<String>> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .expect("path item")
                .keys()
                .filter(|k| matches!(k.as_str(), "get" | "post" | "put" | "patch" | "delete"))
                .map(|k| k.to_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect();
    let in_doc: BTreeSet<String> = documented.keys().cloned().collect();

    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| -> Vec<String> {
        a.difference(b).cloned().collect()
    };
    assert_eq!(
        only(&routed, &policy),
        Vec::<String>::new(),
        "routed, not in the policy"
    );
    assert_eq!(
        only(&policy, &routed),
        Vec::<String>::new(),
        "in the policy, not routed"
    );
    assert_eq!(
        only(&routed, &in_doc),
        Vec::<String>::new(),
        "routed, not documented"
    );
    assert_eq!(
        only(&in_doc, &routed),
        Vec::<String>::new(),
        "documented, not routed"
    );

    // Every documented method reaches a handler; every other method is 405 (as a parent, so
    // the policy does not answer first).
    let mut wrong = Vec::new();
    for (route, methods) in &documented {
        let concrete: String = route
            .split('/')
            .map(|part| if part.starts_with('{') { "x" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let verb = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let response = client()
                .request(verb, server.url(&concrete))
                .send()
                .await
                .expect("request");
            let answered = response.status() != 405;
            drop(response);
            if answered != methods.contains(method) {
                wrong.push(format!(
                    "{method} {route}: {} but {}documented",
                    if answered { "answered" } else { "405" },
                    if methods.contains(method) { "" } else { "not " }
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
