//! The request rules as JSON Schema, for the request types' `#[schema(schema_with = …)]`
//! fields: the OpenAPI document states exactly what the handlers accept, so that a
//! property-based fuzzer (schemathesis) can hold the server to it. Each rule mirrors one check
//! (named in its doc comment); a field's rule sits next to its type in the handler's module.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type};

/// Characters `char::is_whitespace` accepts (what `str::trim` removes), as a regex class body.
pub const WS: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Characters `char::is_control` accepts, as a regex class body.
pub const CTRL: &str = r"\x00-\x1f\x7f-\x9f";

/// Whether a text field may be `null` and may trim to nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// A string that trims to 1 or more characters.
    Required,
    /// A string that trims to 1 or more characters, or `null`.
    OrNull,
    /// Any string that trims to at most `max` characters (also none), or `null`.
    EmptyOrNull,
}

/// The pattern of a text that, trimmed, has 1 to `max` characters and no control character
/// (`max` ≥ 2); with `empty`, a text that trims to nothing matches too.
pub fn trimmed_pattern(max: usize, empty: bool) -> String {
    let core = format!("[^{WS}{CTRL}](?:[^{CTRL}]{{0,{}}}[^{WS}{CTRL}])?", max - 2);
    let core = if empty { format!("(?:{core})?") } else { core };
    format!("^[{WS}]*{core}[{WS}]*$")
}

fn kind(nullable: bool, of: Type) -> SchemaType {
    if nullable {
        SchemaType::from_iter([of, Type::Null])
    } else {
        SchemaType::Type(of)
    }
}

/// A display text as `sofathek_core::names::check` and the title checks accept it: trimmed, 1 to `max`
/// characters, no control characters.
pub fn text(max: usize, presence: Presence) -> Object {
    ObjectBuilder::new()
        .schema_type(kind(presence != Presence::Required, Type::String))
        .pattern(Some(trimmed_pattern(
            max,
            presence == Presence::EmptyOrNull,
        )))
        .build()
}

/// An http(s) URL as the URL policy's syntax check accepts it (its host must also resolve,
/// to a public address unless private URLs are allowed, which no schema can say).
pub fn url() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(2000))
        .pattern(Some(format!(
            "^ *[Hh][Tt][Tt][Pp][Ss]?://[^{CTRL} /?#@\\[\\]][^{CTRL} ]* *$"
        )))
        .build()
}

/// A new password as `auth::password::check_new` accepts it: 8 or more characters (at most
/// 256 here, so never more than 1024 bytes), no control characters, no spaces around it.
pub fn new_password() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(256))
        .pattern(Some(format!("^[^{WS}{CTRL}][^{CTRL}]{{6,}}[^{WS}{CTRL}]$")))
        .build()
}

/// One of `values`, or `null` when `nullable`.
pub fn one_of(values: &[&str], nullable: bool) -> Object {
    let mut all: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    if nullable {
        all.push(serde_json::Value::Null);
    }
    ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .enum_values(Some(all))
        .build()
}

/// A number from `min` to `max`, or `null` when `nullable`.
pub fn number(min: f64, max: f64, nullable: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(kind(nullable, Type::Number))
        .minimum(Some(min))
        .maximum(Some(max))
        .build()
}

/// A list of `items` with `min` to `max` entries, or `null` when `nullable`.
pub fn list(
    items: impl Into<RefOr<Schema>>,
    min: usize,
    max: usize,
    nullable: bool,
) -> ArrayBuilder {
    let items: RefOr<Schema> = items.into();
    let builder = ArrayBuilder::new().items(items).max_items(Some(max));
    let builder = if min > 0 {
        builder.min_items(Some(min))
    } else {
        builder
    };
    if nullable {
        builder.schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
    } else {
        builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        regex::Regex::new(pattern).is_ok_and(|re| re.is_match(text))
    }

    #[test]
    fn trimmed_texts_match_what_trim_and_the_length_check_accept() {
        let p = trimmed_pattern(5, false);
        assert!(matches(&p, "abc"));
        assert!(matches(&p, "  a b c  "));
        assert!(matches(&p, "abcde"));
        assert!(!matches(&p, "abcdef"), "6 characters");
        assert!(!matches(&p, "   "), "trims to nothing");
        assert!(!matches(&p, "a\u{7}b"), "control character");
        assert!(matches(&trimmed_pattern(5, true), "   "));
    }
}
