//! The family content policy (original §3.8): blocked tags, categories and terms, read from
//! `.sofathek/settings.json` and evaluated against a video's metadata before it is queued.

use sofathek_codes::Code;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The message shown when the settings file does not set one (the original's text).
pub const DEFAULT_MESSAGE: &str = "This video was blocked by the configured content policy.";

/// The API error code of a policy refusal (HTTP 422).
pub const VIOLATION_CODE: Code = Code::VideoBlockedByPolicy;

/// The `contentPolicy` section of the settings file; the default blocks nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ContentPolicy {
    /// Tags refused on exact, case-insensitive match.
    pub blocked_tags: Vec<String>,
    /// Categories refused on exact, case-insensitive match.
    pub blocked_categories: Vec<String>,
    /// Terms refused when found (case-insensitive) in title, description, uploader, tags or
    /// categories. Empty terms are ignored.
    pub blocked_terms: Vec<String>,
    /// The user-facing message of a refusal.
    pub message: String,
}

impl Default for ContentPolicy {
    fn default() -> Self {
        ContentPolicy {
            blocked_tags: Vec::new(),
            blocked_categories: Vec::new(),
            blocked_terms: Vec::new(),
            message: DEFAULT_MESSAGE.to_owned(),
        }
    }
}

/// The metadata a policy looks at; every field may be missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicySubject<'a> {
    /// The video title.
    pub title: Option<&'a str>,
    /// The video description.
    pub description: Option<&'a str>,
    /// The uploader (or channel).
    pub uploader: Option<&'a str>,
    /// The video's tags.
    pub tags: &'a [String],
    /// The video's categories.
    pub categories: &'a [String],
}

/// Which rule refused a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ViolationReason {
    /// A tag matched `blockedTags`.
    BlockedTag,
    /// A category matched `blockedCategories`.
    BlockedCategory,
    /// A term of `blockedTerms` was found in the text.
    BlockedTerm,
}

impl ViolationReason {
    /// The original's name for the reason (`blockedTag`, `blockedCategory`, `blockedTerm`).
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationReason::BlockedTag => "blockedTag",
            ViolationReason::BlockedCategory => "blockedCategory",
            ViolationReason::BlockedTerm => "blockedTerm",
        }
    }
}

/// A refusal: the rule, the configured entry that matched, and the message for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyViolation {
    /// Which rule matched.
    pub reason: ViolationReason,
    /// The blocked entry as configured.
    pub matched: String,
    /// The policy's user-facing message.
    pub message: String,
}

impl PolicyViolation {
    /// The API error code ([`VIOLATION_CODE`]).
    pub fn code(&self) -> Code {
        VIOLATION_CODE
    }
}

/// Where the original kept the settings file: `<config dir>/.sofathek/settings.json` (the config
/// dir being `SOFATHEK_CONFIG_DIR` or the working directory).
pub fn settings_file(config_dir: &Path) -> PathBuf {
    config_dir.join(".sofathek").join("settings.json")
}

impl ContentPolicy {
    /// Reads the policy from a settings file whose `contentPolicy` key holds it.
    ///
    /// A missing file, or a file without `contentPolicy`, gives the empty policy. Other
    /// top-level keys are ignored; inside `contentPolicy` unknown keys and wrong types are
    /// errors, as in the original.
    pub fn load(path: &Path) -> Result<ContentPolicy, ContentPolicyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => ContentPolicy::from_settings_json(&text, path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ContentPolicy::default()),
            Err(source) => Err(ContentPolicyError::Read {
                path: path.to_owned(),
                source: source.to_string(),
            }),
        }
    }

    /// Parses the text of a settings file; `path` only names it in error messages.
    pub fn from_settings_json(
        text: &str,
        path: &Path,
    ) -> Result<ContentPolicy, ContentPolicyError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ContentPolicyError::InvalidJson {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        let serde_json::Value::Object(mut settings) = value else {
            return Err(ContentPolicyError::InvalidSettings {
                reason: "settings must be a JSON object".to_owned(),
            });
        };
        match settings.remove("contentPolicy") {
            None => Ok(ContentPolicy::default()),
            Some(section) => {
                serde_json::from_value(section).map_err(|e| ContentPolicyError::InvalidSettings {
                    reason: format!("contentPolicy: {e}"),
                })
            }
        }
    }

    /// Whether the policy blocks nothing.
    pub fn is_empty(&self) -> bool {
        self.blocked_tags.is_empty()
            && self.blocked_categories.is_empty()
            && self.blocked_terms.is_empty()
    }

    /// Evaluates the policy in the original's order: tags, then categories, then terms; the
    /// first match wins.
    pub fn evaluate(&self, subject: &PolicySubject<'_>) -> Option<PolicyViolation> {
        let violation = |reason, matched: &String| PolicyViolation {
            reason,
            matched: matched.clone(),
            message: self.message.clone(),
        };
        let tags: Vec<String> = subject.tags.iter().map(|t| t.to_lowercase()).collect();
        if let Some(tag) = self
            .blocked_tags
            .iter()
            .find(|b| tags.contains(&b.to_lowercase()))
        {
            return Some(violation(ViolationReason::BlockedTag, tag));
        }
        let categories: Vec<String> = subject
            .categories
            .iter()
            .map(|c| c.to_lowercase())
            .collect();
        if let Some(category) = self
            .blocked_categories
            .iter()
            .find(|b| categories.contains(&b.to_lowercase()))
        {
            return Some(violation(ViolationReason::BlockedCategory, category));
        }
        if self.blocked_terms.iter().all(|t| t.is_empty()) {
            return None;
        }
        let haystack = [subject.title, subject.description, subject.uploader]
            .into_iter()
            .flatten()
            .chain(subject.tags.iter().map(String::as_str))
            .chain(subject.categories.iter().map(String::as_str))
            .collect::<Vec<&str>>()
            .join("\n")
            .to_lowercase();
        self.blocked_terms
            .iter()
            .find(|term| !term.is_empty() && haystack.contains(&term.to_lowercase()))
            .map(|term| violation(ViolationReason::BlockedTerm, term))
    }
}

/// Why the content policy settings could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentPolicyError {
    /// The file exists but could not be read.
    Read {
        /// The settings file.
        path: PathBuf,
        /// The I/O error.
        source: String,
    },
    /// The file is not valid JSON.
    InvalidJson {
        /// The settings file.
        path: PathBuf,
        /// The parser's reason.
        reason: String,
    },
    /// The JSON does not follow the settings schema.
    InvalidSettings {
        /// What is wrong.
        reason: String,
    },
}

impl ContentPolicyError {
    /// A stable code string for logs and start-up errors.
    pub fn code(&self) -> &'static str {
        match self {
            ContentPolicyError::Read { .. } => "CONTENT_POLICY_UNREADABLE",
            ContentPolicyError::InvalidJson { .. } => "CONTENT_POLICY_INVALID_JSON",
            ContentPolicyError::InvalidSettings { .. } => "CONTENT_POLICY_INVALID",
        }
    }
}

impl fmt::Display for ContentPolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContentPolicyError::Read { path, source } => {
                write!(
                    f,
                    "failed to read content policy settings at {}: {source}",
                    path.display()
                )
            }
            ContentPolicyError::InvalidJson { path, reason } => {
                write!(
                    f,
                    "invalid JSON in content policy settings at {}: {reason}",
                    path.display()
                )
            }
            ContentPolicyError::InvalidSettings { reason } => {
                write!(f, "invalid content policy settings: {reason}")
            }
        }
    }
}

impl std::error::Error for ContentPolicyError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ContentPolicy, ContentPolicyError> {
        ContentPolicy::from_settings_json(text, Path::new("/cfg/.sofathek/settings.json"))
    }

    fn policy(text: &str) -> ContentPolicy {
        match parse(text) {
            Ok(p) => p,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn settings_file_location() {
        assert_eq!(
            settings_file(Path::new("/etc/sofathek")),
            Path::new("/etc/sofathek/.sofathek/settings.json")
        );
    }

    #[test]
    fn settings_files() {
        assert_eq!(policy("{}"), ContentPolicy::default());
        assert_eq!(
            policy(r#"{"theme":"dark","other":{"x":1}}"#),
            ContentPolicy::default()
        );
        assert_eq!(policy(r#"{"contentPolicy":{}}"#).message, DEFAULT_MESSAGE);
        let p = policy(
            r#"{"contentPolicy":{"blockedTags":["Horror"],"blockedCategories":["Gaming"],
                "blockedTerms":["gore"],"message":"Not for kids"},"ui":{}}"#,
        );
        assert_eq!(p.blocked_tags, ["Horror"]);
        assert_eq!(p.blocked_categories, ["Gaming"]);
        assert_eq!(p.blocked_terms, ["gore"]);
        assert_eq!(p.message, "Not for kids");
    }

    #[test]
    fn invalid_settings() {
        for (text, code, start) in [
            (
                "{not json",
                "CONTENT_POLICY_INVALID_JSON",
                "invalid JSON in content policy settings at /cfg/.sofathek/settings.json: ",
            ),
            (
                "",
                "CONTENT_POLICY_INVALID_JSON",
                "invalid JSON in content policy settings at ",
            ),
            (
                "[]",
                "CONTENT_POLICY_INVALID",
                "invalid content policy settings: ",
            ),
            (
                r#"{"contentPolicy":null}"#,
                "CONTENT_POLICY_INVALID",
                "invalid content policy settings: ",
            ),
            (
                r#"{"contentPolicy":{"blockedTag":["x"]}}"#,
                "CONTENT_POLICY_INVALID",
                "invalid content policy settings: ",
            ),
            (
                r#"{"contentPolicy":{"blockedTags":"x"}}"#,
                "CONTENT_POLICY_INVALID",
                "invalid content policy settings: ",
            ),
            (
                r#"{"contentPolicy":{"blockedTags":[1]}}"#,
                "CONTENT_POLICY_INVALID",
                "invalid content policy settings: ",
            ),
            (
                r#"{"contentPolicy":{"message":7}}"#,
                "CONTENT_POLICY_INVALID",
                "invalid content policy settings: ",
            ),
        ] {
            match parse(text) {
                Ok(p) => panic!("{text:?} accepted: {p:?}"),
                Err(e) => {
                    assert_eq!(e.code(), code, "{text:?}");
                    assert!(e.to_string().starts_with(start), "{text:?}: {e}");
                }
            }
        }
    }

    #[test]
    fn load_missing_and_present_files() {
        let dir = std::env::temp_dir().join(format!("sofathek-policy-{}", uuid::Uuid::new_v4()));
        assert_eq!(
            ContentPolicy::load(&dir.join("settings.json")),
            Ok(ContentPolicy::default())
        );
        assert!(std::fs::create_dir_all(&dir).is_ok());
        let file = dir.join("settings.json");
        assert!(std::fs::write(&file, r#"{"contentPolicy":{"blockedTerms":["x"]}}"#).is_ok());
        assert_eq!(
            ContentPolicy::load(&file).map(|p| p.blocked_terms),
            Ok(vec!["x".to_owned()])
        );
        assert!(std::fs::write(&file, "{").is_ok());
        let err = ContentPolicy::load(&file)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with(&format!(
                "invalid JSON in content policy settings at {}: ",
                file.display()
            )),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn evaluation_order_and_rules() {
        let policy = ContentPolicy {
            blocked_tags: strings(&["Horror", "scary"]),
            blocked_categories: strings(&["Gaming"]),
            blocked_terms: strings(&["", "Gore", "zombie"]),
            message: "Blocked for the kids".to_owned(),
        };
        let tags = strings(&["fun", "HORROR"]);
        let categories = strings(&["gaming"]);
        let none: Vec<String> = Vec::new();
        let subject = |title, tags, categories| PolicySubject {
            title: Some(title),
            description: Some("a nice description"),
            uploader: Some("Uncle Bob"),
            tags,
            categories,
        };
        let cases: Vec<(PolicySubject<'_>, Option<(ViolationReason, &str)>)> = vec![
            (
                subject("zombie film", &tags, &categories),
                Some((ViolationReason::BlockedTag, "Horror")),
            ),
            (
                subject("zombie film", &none, &categories),
                Some((ViolationReason::BlockedCategory, "Gaming")),
            ),
            (
                subject("ZOMBIE film", &none, &none),
                Some((ViolationReason::BlockedTerm, "zombie")),
            ),
            (subject("Peppa Pig", &none, &none), None),
            (
                PolicySubject {
                    uploader: Some("GoreTV"),
                    ..PolicySubject::default()
                },
                Some((ViolationReason::BlockedTerm, "Gore")),
            ),
            (
                PolicySubject {
                    tags: &categories,
                    ..PolicySubject::default()
                },
                None,
            ),
            (PolicySubject::default(), None),
        ];
        for (subject, expected) in cases {
            let got = policy.evaluate(&subject);
            assert_eq!(
                got.as_ref().map(|v| (v.reason, v.matched.as_str())),
                expected,
                "{subject:?}"
            );
            if let Some(v) = got {
                assert_eq!(v.message, "Blocked for the kids");
                assert_eq!(v.code(), "VIDEO_BLOCKED_BY_POLICY");
            }
        }
    }

    #[test]
    fn terms_are_found_in_tags_and_categories() {
        let policy = ContentPolicy {
            blocked_terms: strings(&["minecraft"]),
            ..ContentPolicy::default()
        };
        let tags = strings(&["Minecraft Let's Play"]);
        let subject = PolicySubject {
            tags: &tags,
            ..PolicySubject::default()
        };
        let v = policy.evaluate(&subject);
        assert_eq!(v.as_ref().map(|v| v.reason.as_str()), Some("blockedTerm"));
        assert_eq!(v.map(|v| v.message), Some(DEFAULT_MESSAGE.to_owned()));
    }

    #[test]
    fn empty_policy_allows_everything() {
        let tags = strings(&["anything"]);
        let subject = PolicySubject {
            title: Some("x"),
            tags: &tags,
            ..PolicySubject::default()
        };
        assert!(ContentPolicy::default().is_empty());
        assert_eq!(ContentPolicy::default().evaluate(&subject), None);
    }
}
