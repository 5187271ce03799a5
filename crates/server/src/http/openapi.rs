//! The OpenAPI document, generated from the handlers' annotations.

use std::sync::OnceLock;

use utoipa::OpenApi;

use crate::http::handlers::{
    categories, events, files, health, jobs, library, meta, profiles, progress, session, sources,
    tokens, upload, videos, youtube,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SOFATHEK",
        description = "A self-hosted family video library."
    ),
    paths(
        meta::openapi,
        health::report,
        health::live,
        videos::list,
        videos::show,
        videos::update,
        videos::remove,
        files::stream,
        files::download,
        files::thumbnail,
        categories::list,
        categories::create,
        categories::rename,
        categories::remove,
        jobs::list,
        jobs::show,
        jobs::create,
        jobs::cancel,
        jobs::retry,
        library::report,
        library::start,
        upload::create,
        events::stream,
        youtube::download,
        youtube::queue,
        youtube::status,
        youtube::cancel,
        youtube::cleanup,
        youtube::clear,
        youtube::health,
        profiles::list,
        profiles::create,
        profiles::update,
        profiles::remove,
        session::show,
        session::create,
        session::remove,
        session::first_run,
        session::change_password,
        tokens::create,
        tokens::list,
        tokens::revoke,
        progress::record,
        progress::show,
        progress::list,
        sources::list,
        sources::create,
        sources::show,
        sources::update,
        sources::delete,
        sources::check,
        sources::pending,
        sources::approve,
        sources::reject,
        sources::thumbnail,
    ),
    components(schemas(
        videos::UpdateVideo,
        categories::NewCategory,
        categories::RenameCategory,
        jobs::NewUrlJob,
        profiles::NewProfile,
        profiles::UpdateProfile,
        session::NewSession,
        session::Setup,
        session::ChangePassword,
        tokens::NewToken,
        progress::NewProgress,
        sources::Decision,
        sofathek_http::error::ErrorBody,
        // Named only by the services map's values (a flattened map is not followed).
        sofathek_http::health::ToolStatus,
    )),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// Declares the two ways to authenticate: the session cookie and API tokens.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiToken",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::http::auth::COOKIE))),
        );
    }
}

/// The document as JSON text (built once): the handlers' annotations completed by
/// [`contract::apply`] with the exact request rules and response shapes.
pub fn document() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = match serde_json::to_value(ApiDoc::openapi()) {
            Ok(doc) => doc,
            Err(err) => return format!("{{\"error\":\"{err}\"}}"),
        };
        contract::apply(&mut doc);
        doc.to_string()
    })
    .clone()
}

/// What the annotations cannot say well, stated once for every operation, so that the document
/// is exact enough for a property-based API fuzzer (schemathesis) to check the server against it:
///
/// - request rules: the same limits, patterns and combinations the handlers enforce (titles,
///   category names and slugs, file names per route, listing parameters, optional bodies);
/// - response shapes: `{status:"success",data}` with the data's schema, and the error envelope
///   `{status:"error",message,code?}` for every 4xx/5xx;
/// - the statuses every operation can give besides its own: 400 for an undecodable path or
///   query, 400/413/415 for a JSON body, 405 is answered by the router with `Allow`;
/// - unique operation ids (`<method>_<path>`).
mod contract {
    use serde_json::{Map, Value, json};
    use sofathek_ingest::sources::{
        MAX_DURATION_MINUTES, MAX_INTERVAL_HOURS, MAX_NAME_CHARS, MAX_PER_CHECK, MAX_START_LATEST,
        MAX_WORDS_CHARS, MIN_INTERVAL_HOURS,
    };

    use sofathek_http::schema::{self as rules, CTRL, Presence};

    /// A rule of `sofathek_http::schema` as JSON.
    fn rule(schema: impl serde::Serialize) -> Value {
        serde_json::to_value(schema).unwrap_or_else(|_| json!({}))
    }

    /// A single file name component with one of `extensions` (any letter case), as
    /// `library::check_name` accepts it (at most 256 characters, so at most 1024 bytes).
    fn file_name(extensions: &[&str]) -> Value {
        let alternatives: Vec<String> = extensions
            .iter()
            .map(|ext| {
                ext.chars()
                    .map(|c| {
                        if c.is_ascii_alphabetic() {
                            format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
                        } else {
                            c.to_string()
                        }
                    })
                    .collect()
            })
            .collect();
        json!({
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "pattern": format!(r"^[^./\\{CTRL}][^/\\{CTRL}]*\.(?:{})$", alternatives.join("|")),
        })
    }

    fn envelope(data: Value) -> Value {
        json!({
            "type": "object",
            "required": ["status", "data"],
            "properties": { "status": { "const": "success" }, "data": data },
        })
    }

    fn reference(name: &str) -> Value {
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    fn nullable(kind: &str) -> Value {
        json!({ "type": [kind, "null"] })
    }

    /// The request rules of sources (`sofathek_ingest::sources::apply`): `NewSource` needs a
    /// URL, `UpdateSource` may not name one; `null` resets a field.
    fn source_schemas() -> Vec<(&'static str, Value)> {
        let int = |min: u32, max: u32| json!({ "type": ["integer", "null"], "minimum": min, "maximum": max });
        let words = json!({
            "type": ["string", "null"],
            "maxLength": MAX_WORDS_CHARS,
            "pattern": format!("^[^{CTRL}]*$"),
        });
        let mut properties = json!({
            "name": rule(rules::text(MAX_NAME_CHARS, Presence::EmptyOrNull)),
            "category": nullable("string"),
            "intervalHours": int(MIN_INTERVAL_HOURS, MAX_INTERVAL_HOURS),
            "startAfter": { "type": ["string", "null"], "pattern": "^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$" },
            "startLatest": int(1, MAX_START_LATEST),
            "maxPerCheck": int(1, MAX_PER_CHECK),
            "include": words.clone(),
            "exclude": words,
            "maxDurationMinutes": int(1, MAX_DURATION_MINUTES),
            "approval": { "enum": ["review", "auto", null] },
            "audio": { "type": "boolean" },
            "enabled": { "type": "boolean" },
        });
        let one_start_point = json!({
            "required": ["startAfter", "startLatest"],
            "properties": { "startAfter": { "type": "string" }, "startLatest": { "type": "integer" } },
        });
        let update = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": properties.clone(),
            "not": one_start_point.clone(),
        });
        properties["url"] = rule(rules::url());
        let new = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["url"],
            "properties": properties,
            "not": one_start_point,
        });
        vec![("NewSource", new), ("UpdateSource", update)]
    }

    /// The bodies a handler reads by hand rather than through a request type: the original's
    /// download and clean-up bodies (loosely typed, as the original took them) and the upload
    /// form (multipart, read part by part as a stream).
    fn hand_read_bodies() -> Vec<(&'static str, Value)> {
        let optional_title = rule(crate::http::handlers::jobs::optional_title());
        vec![
            (
                "OriginalDownload",
                json!({
                    "type": "object",
                    "required": ["url"],
                    "properties": {
                        "url": rule(rules::url()),
                        // Non-strings are ignored, as the original did.
                        "title": { "pattern": optional_title["pattern"] },
                        "category": {},
                        "audio": {},
                    },
                }),
            ),
            (
                "QueueCleanup",
                json!({
                    "type": "object",
                    "properties": { "maxAgeHours": { "type": ["number", "null"], "minimum": 0 } },
                }),
            ),
            (
                "Upload",
                json!({
                    "type": "object",
                    "required": ["video"],
                    "properties": {
                        "video": { "type": "string", "format": "binary", "description": "the video file" },
                        "title": { "type": "string", "pattern": optional_title["pattern"] },
                        "category": { "type": "string" },
                        "audio": {
                            "type": "string",
                            "pattern": "^[\\t\\n\\x0b\\x0c\\r ]*(?:|0|1|[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Oo][Nn]|[Oo][Ff][Ff]|[Yy][Ee][Ss]|[Nn][Oo])[\\t\\n\\x0b\\x0c\\r ]*$",
                        },
                    },
                }),
            ),
        ]
    }

    /// Rules across fields, which a field's type cannot say, added to the derived request
    /// schemas (each mirrors a handler's check).
    fn cross_field_rules() -> Vec<(&'static str, Value)> {
        vec![
            // `videos::update`: something must change — a category (even null), or a title.
            (
                "UpdateVideo",
                json!([
                    { "required": ["category"] },
                    { "required": ["title"], "properties": { "title": { "type": "string" } } },
                ]),
            ),
            // `categories::create`: without a slug, the name must give one (a letter or digit).
            (
                "NewCategory",
                json!([
                    { "required": ["slug"], "properties": { "slug": { "type": "string" } } },
                    { "properties": { "name": { "pattern": "[A-Za-z0-9]" } } },
                ]),
            ),
            // `profiles::create`: parents see every category, so they have no allow-list.
            (
                "NewProfile",
                json!([
                    { "properties": { "kind": { "enum": ["kid", null] } } },
                    { "properties": { "categories": { "maxItems": 0 } } },
                ]),
            ),
            // `profiles::update`: something must change.
            (
                "UpdateProfile",
                json!([
                    { "required": ["name"], "properties": { "name": { "type": "string" } } },
                    { "required": ["avatar"], "properties": { "avatar": { "type": "string" } } },
                    { "required": ["categories"], "properties": { "categories": { "type": "array" } } },
                ]),
            ),
        ]
    }

    /// Routes whose JSON answers are not in the success envelope (the health reports, this
    /// document): their annotated type is the whole body.
    fn enveloped(path: &str) -> bool {
        !matches!(
            path,
            "/api/health" | "/api/health/live" | "/api/openapi.json"
        )
    }

    /// Bodies that are not JSON (the file routes, thumbnails) or not a type (this document).
    fn plain_response(path: &str, status: u16) -> Option<Value> {
        match path {
            "/api/openapi.json" => Some(json!({ "application/json": { "schema": {
                "type": "object", "required": ["openapi", "paths"],
            } } })),
            "/api/sources/pending/{id}/thumbnail" if status == 200 => Some(
                json!({ "image/jpeg": { "schema": { "type": "string", "format": "binary" } } }),
            ),
            "/api/stream/{filename}"
            | "/api/download/{filename}"
            | "/api/thumbnails/{filename}"
                if matches!(status, 200 | 206) =>
            {
                Some(json!({ "*/*": { "schema": { "type": "string", "format": "binary" } } }))
            }
            _ => None,
        }
    }

    fn response(description: &str, content: Option<Value>) -> Value {
        let mut response = json!({ "description": description });
        if let Some(content) = content {
            response["content"] = content;
        }
        response
    }

    fn json_content(schema: Value) -> Value {
        json!({ "application/json": { "schema": schema } })
    }

    fn add_error(responses: &mut Map<String, Value>, status: u16, description: &str) {
        responses
            .entry(status.to_string())
            .or_insert_with(|| response(description, Some(json_content(reference("ErrorBody")))));
    }

    /// Completes the generated document in place.
    pub fn apply(doc: &mut Value) {
        let mut schemas = Map::new();
        for (name, schema) in hand_read_bodies().into_iter().chain(source_schemas()) {
            schemas.insert(name.to_owned(), schema);
        }
        if let Some(existing) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            existing.extend(schemas);
        } else {
            doc["components"]["schemas"] = Value::Object(schemas);
        }
        for (name, any_of) in cross_field_rules() {
            if let Some(schema) = doc.pointer_mut(&format!("/components/schemas/{name}")) {
                schema["anyOf"] = any_of;
            }
        }
        let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
            return;
        };
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in item.iter_mut() {
                complete_operation(path, method, operation);
            }
        }
    }

    fn complete_operation(path: &str, method: &str, operation: &mut Value) {
        let id: String = format!("{method}_{}", path.trim_start_matches('/'))
            .chars()
            .filter(|c| !matches!(c, '{' | '}'))
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        operation["operationId"] = json!(id);

        // Parameters: file names per route, listing limits.
        if let Some(params) = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
        {
            for param in params.iter_mut() {
                let name = param["name"].as_str().unwrap_or_default().to_owned();
                let schema = match (path, name.as_str()) {
                    ("/api/stream/{filename}", "filename") => {
                        file_name(sofathek_core::library::VIDEO_EXTENSIONS)
                    }
                    ("/api/download/{filename}", "filename") => {
                        let mut all = sofathek_core::library::VIDEO_EXTENSIONS.to_vec();
                        all.extend_from_slice(sofathek_core::library::DOWNLOAD_EXTRA_EXTENSIONS);
                        file_name(&all)
                    }
                    ("/api/thumbnails/{filename}", "filename") => {
                        file_name(sofathek_core::library::THUMBNAIL_EXTENSIONS)
                    }
                    (_, "id" | "slug") => json!({ "type": "string", "minLength": 1 }),
                    ("/api/videos", "q") => json!({ "type": "string", "maxLength": 500 }),
                    ("/api/videos", "page") => {
                        json!({ "type": "integer", "minimum": 1, "maximum": u32::MAX })
                    }
                    ("/api/videos", "limit") => {
                        json!({ "type": "integer", "minimum": 1, "maximum": crate::http::handlers::videos::MAX_LIMIT })
                    }
                    ("/api/videos", "sort") => json!({ "enum": [
                        "", "name", "title", "-title", "added", "-added", "duration", "-duration", "size", "-size",
                    ] }),
                    ("/api/videos", "category") => json!({ "type": "string" }),
                    ("/api/sources/pending", "source") => json!({ "type": "string" }),
                    _ => continue,
                };
                param["schema"] = schema;
            }
        }

        let has_params = operation
            .get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|p| !p.is_empty());
        let body_type = operation
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
            .and_then(|c| c.keys().next().cloned());

        // Request bodies: the exact schemas; the clean-up body is optional.
        let body_schema = match (method, path) {
            ("post", "/api/youtube/download") => Some("OriginalDownload"),
            ("post", "/api/youtube/queue/cleanup") => Some("QueueCleanup"),
            ("post", "/api/videos/upload") => Some("Upload"),
            ("post", "/api/sources") => Some("NewSource"),
            ("patch", "/api/sources/{id}") => Some("UpdateSource"),
            _ => None,
        };
        if let (Some(name), Some(content_type)) = (body_schema, body_type.as_deref()) {
            operation["requestBody"]["content"][content_type]["schema"] = reference(name);
        }
        if path == "/api/youtube/queue/cleanup" {
            operation["requestBody"]["required"] = json!(false);
        }

        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        for (status, response) in responses.iter_mut() {
            let code: u16 = status.parse().unwrap_or(0);
            if let Some(content) = plain_response(path, code) {
                response["content"] = content;
            } else if (200..300).contains(&code)
                && enveloped(path)
                && response.pointer("/content/application~1json").is_some()
            {
                // The data's schema is the annotated body type's (`body = JobView`), wrapped in
                // the success envelope.
                let data = response
                    .pointer("/content/application~1json/schema")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                response["content"] = json_content(envelope(data));
            }
        }
        if has_params {
            add_error(
                responses,
                400,
                "a path or query parameter that cannot be decoded",
            );
        }
        // What the route policy (`http::auth::need`) refuses before the handler runs.
        use crate::http::auth::Need;
        let verb = axum::http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .unwrap_or(axum::http::Method::GET);
        match crate::http::auth::need(&verb, path) {
            Need::Nothing => {}
            Need::SignIn => add_error(responses, 403, "a cross-site request"),
            Need::Viewer | Need::ParentRead => {
                add_error(responses, 401, "no (valid) credentials");
                add_error(responses, 403, "a kid's profile");
            }
            Need::Profile => {
                add_error(responses, 400, "an API token, which has no profile");
                add_error(responses, 401, "no profile picked");
            }
            Need::Parent => {
                add_error(responses, 401, "no (valid) credentials");
                add_error(
                    responses,
                    403,
                    "not a parent, no parent password yet, or a cross-site request",
                );
            }
        }
        if let Some(content_type) = body_type {
            add_error(responses, 400, "a malformed or invalid body");
            add_error(responses, 413, "a body larger than the limit");
            if content_type == "application/json"
                && path != "/api/youtube/download"
                && path != "/api/youtube/queue/cleanup"
            {
                add_error(responses, 415, "a body that is not application/json");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::from_str(&super::document()).unwrap_or(Value::Null)
    }

    fn collect_refs<'a>(value: &'a Value, into: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    match (key.as_str(), child) {
                        ("$ref", Value::String(target)) => into.push(target),
                        _ => collect_refs(child, into),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|child| collect_refs(child, into)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = doc();
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(refs.len() > 50, "{} references", refs.len());
        for target in refs {
            let pointer = target.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
        }
    }

    /// The contract comes from types: every JSON body a route answers with or reads is
    /// described (a `body = serde_json::Value` would show as the empty schema `{}`).
    #[test]
    fn every_json_body_is_described() {
        let doc = doc();
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        assert!(paths.len() > 30, "{} paths", paths.len());
        let mut checked = 0;
        for (path, item) in &paths {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let answers = operation["responses"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                for (status, response) in answers {
                    let Some(schema) = response.pointer("/content/application~1json/schema") else {
                        continue;
                    };
                    let described = if schema.pointer("/properties/data").is_some() {
                        &schema["properties"]["data"]
                    } else {
                        schema
                    };
                    assert_ne!(
                        described,
                        &serde_json::json!({}),
                        "{method} {path} {status}"
                    );
                    checked += 1;
                }
                if let Some(body) =
                    operation.pointer("/requestBody/content/application~1json/schema")
                {
                    assert_ne!(body, &serde_json::json!({}), "{method} {path} request body");
                    checked += 1;
                }
            }
        }
        assert!(checked > 150, "{checked} bodies");
    }

    /// Every refusal is documented as the error envelope (the health report's 503 excepted: it
    /// is the report itself).
    #[test]
    fn every_refusal_is_the_error_body() {
        let doc = doc();
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        let mut refusals = 0;
        for (path, item) in paths.iter().filter(|(path, _)| *path != "/api/health") {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let answers = operation["responses"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                for (status, response) in answers.iter().filter(|(s, _)| s.as_str() >= "400") {
                    assert_eq!(
                        response.pointer("/content/application~1json/schema/$ref"),
                        Some(&serde_json::json!("#/components/schemas/ErrorBody")),
                        "{method} {path} {status}"
                    );
                    refusals += 1;
                }
            }
        }
        assert!(refusals > 100, "{refusals} refusals");
    }

    #[test]
    fn request_rules_come_from_the_handlers_limits() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["Decision"]["properties"]["ids"]["maxItems"],
            serde_json::json!(sofathek_ingest::sources::MAX_BULK)
        );
        let title = schemas["UpdateVideo"]["properties"]["title"]["pattern"]
            .as_str()
            .unwrap_or_default();
        assert!(title.contains(&format!("{{0,{}}}", sofathek_ingest::MAX_TITLE_CHARS - 2)));
        assert_eq!(
            schemas["UpdateVideo"]["anyOf"].as_array().map(Vec::len),
            Some(2),
            "cross-field rule added"
        );
    }
}
