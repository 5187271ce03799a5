//! The web directory as the server sees it: the template environment, the asset manifest and,
//! in development, change detection for template reloads and the live-reload stream.
//!
//! One [`Site`] exists per (web dir, environment) pair, created on first use and kept for the
//! life of the process (see [`Site::for_config`]); in practice a server has exactly one. In
//! staging and production the templates and manifest are read once; in development they are
//! re-read whenever a file under `templates/` or `manifest.json` changes.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};

use sofathek_core::config::{Config, Environment as Env};

/// Logical asset names mapped to their fingerprinted file names (`app.js` → `app-1a2b3c.js`).
#[derive(Debug, Default)]
pub(crate) struct Manifest {
    entries: Option<HashMap<String, String>>,
}

impl Manifest {
    /// Reads `manifest.json`; a missing file means an unbuilt checkout (no fingerprints).
    fn read(web_dir: &Path) -> Manifest {
        let path = web_dir.join("manifest.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Manifest::default(),
            Err(err) => {
                tracing::error!(path = %path.display(), "cannot read the asset manifest: {err}");
                return Manifest::default();
            }
        };
        match serde_json::from_str::<HashMap<String, String>>(&text) {
            Ok(entries) => Manifest {
                entries: Some(entries),
            },
            Err(err) => {
                tracing::error!(path = %path.display(), "invalid asset manifest: {err}");
                Manifest::default()
            }
        }
    }

    /// Whether `file` is a fingerprinted name listed in the manifest (cacheable forever).
    pub(crate) fn is_fingerprinted(&self, file: &str) -> bool {
        self.entries
            .as_ref()
            .is_some_and(|entries| entries.values().any(|v| v == file))
    }

    /// The URL of a logical asset; an error when a built manifest does not list it.
    fn url(&self, logical: &str) -> Result<String, minijinja::Error> {
        match &self.entries {
            None => Ok(format!("/assets/{logical}")),
            Some(entries) => entries
                .get(logical)
                .map(|file| format!("/assets/{file}"))
                .ok_or_else(|| {
                    minijinja::Error::new(
                        ErrorKind::InvalidOperation,
                        format!("asset {logical:?} is not listed in manifest.json"),
                    )
                }),
        }
    }
}

/// Templates and manifest as read at one moment.
pub(crate) struct Loaded {
    stamp: u64,
    pub(crate) templates: Environment<'static>,
    pub(crate) manifest: Arc<Manifest>,
}

/// The web directory of one server.
pub(crate) struct Site {
    pub(crate) web_dir: PathBuf,
    pub(crate) env: Env,
    loaded: Mutex<Option<Arc<Loaded>>>,
    pub(crate) reload: super::livereload::LiveReload,
}

impl Site {
    /// The site for a configuration, created on first use.
    pub(crate) fn for_config(config: &Config) -> Arc<Site> {
        static SITES: OnceLock<Mutex<Vec<Arc<Site>>>> = OnceLock::new();
        let sites = SITES.get_or_init(|| Mutex::new(Vec::new()));
        let mut sites = sites.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(site) = sites
            .iter()
            .find(|s| s.web_dir == config.web_dir && s.env == config.env)
        {
            return site.clone();
        }
        let site = Arc::new(Site {
            web_dir: config.web_dir.clone(),
            env: config.env,
            loaded: Mutex::new(None),
            reload: super::livereload::LiveReload::new(),
        });
        sites.push(site.clone());
        site
    }

    /// Whether this is a development server (template reloads, live reload).
    pub(crate) fn is_development(&self) -> bool {
        self.env == Env::Development
    }

    /// The current templates and manifest. Blocking: call it on the blocking pool.
    pub(crate) fn current(&self) -> Arc<Loaded> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        let stamp = match (&*loaded, self.is_development()) {
            (Some(current), false) => return current.clone(),
            (_, true) => stamp(
                &[&self.web_dir.join("templates")],
                &self.web_dir.join("manifest.json"),
            ),
            (None, false) => 0,
        };
        if let Some(current) = &*loaded {
            if current.stamp == stamp {
                return current.clone();
            }
            tracing::debug!(web_dir = %self.web_dir.display(), "templates changed: reloading");
        }
        let manifest = Arc::new(Manifest::read(&self.web_dir));
        let fresh = Arc::new(Loaded {
            stamp,
            templates: environment(&self.web_dir.join("templates"), manifest.clone()),
            manifest,
        });
        *loaded = Some(fresh.clone());
        fresh
    }

    /// A fingerprint of everything the browser might show (templates, assets, manifest).
    pub(crate) fn content_stamp(&self) -> u64 {
        stamp(
            &[
                &self.web_dir.join("templates"),
                &self.web_dir.join("assets"),
            ],
            &self.web_dir.join("manifest.json"),
        )
    }
}

/// The template environment: files from `dir`, HTML auto-escaping (by the `.html` suffix),
/// undefined variables are errors, and `asset(name)` resolves through the manifest.
fn environment(dir: &Path, manifest: Arc<Manifest>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(minijinja::path_loader(dir));
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_function("asset", move |name: &str| manifest.url(name));
    env.set_formatter(|out, state, value| {
        if state.auto_escape() == AutoEscape::Html && !value.is_safe() && !value.is_undefined() {
            out.write_str(&escape_html(&value.to_string()))
                .map_err(|_| {
                    minijinja::Error::new(ErrorKind::WriteFailure, "cannot write the page")
                })
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env
}

/// Escapes text for HTML content and quoted attributes: `& < > " '` (minijinja's default also
/// escapes `/`, which makes every URL in the pages harder to read without being safer).
pub(crate) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Hashes the names, sizes and modification times of every file under `dirs` (recursively)
/// and of `extra`. Missing paths hash as absent, so creating one changes the stamp.
pub(crate) fn stamp(dirs: &[&Path], extra: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    let mut entries = Vec::new();
    for dir in dirs {
        collect(dir, 0, &mut entries);
    }
    entries.sort();
    entries.hash(&mut hasher);
    file_entry(extra).hash(&mut hasher);
    hasher.finish()
}

type Entry = (PathBuf, u64, Option<std::time::SystemTime>);

fn file_entry(path: &Path) -> Option<Entry> {
    let meta = std::fs::metadata(path).ok()?;
    Some((path.to_path_buf(), meta.len(), meta.modified().ok()))
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<Entry>) {
    const MAX_DEPTH: usize = 4;
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            if depth < MAX_DEPTH {
                collect(&path, depth + 1, out);
            }
        } else {
            out.push((path, meta.len(), meta.modified().ok()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_urls() {
        let plain = Manifest::default();
        assert_eq!(plain.url("app.js").ok().as_deref(), Some("/assets/app.js"));
        assert!(!plain.is_fingerprinted("app.js"));

        let built = Manifest {
            entries: Some(HashMap::from([(
                "app.js".to_string(),
                "app-abc123.js".to_string(),
            )])),
        };
        assert_eq!(
            built.url("app.js").ok().as_deref(),
            Some("/assets/app-abc123.js")
        );
        assert!(built.url("missing.js").is_err());
        assert!(built.is_fingerprinted("app-abc123.js"));
        assert!(!built.is_fingerprinted("app.js"));
    }

    #[test]
    fn html_escaping() {
        assert_eq!(
            escape_html("<a href=\"/x?a=1&b='2'\">"),
            "&lt;a href=&quot;/x?a=1&amp;b=&#39;2&#39;&quot;&gt;"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("t.html"),
            "<p title=\"{{ v }}\">{{ v }}</p>{{ n }}{{ s|safe }}",
        )
        .expect("write");
        let env = environment(dir.path(), Arc::new(Manifest::default()));
        let html = env
            .get_template("t.html")
            .and_then(|t| t.render(minijinja::context! { v => "<b>/\"x\"", n => 3, s => "<i>" }))
            .expect("render");
        assert_eq!(
            html,
            "<p title=\"&lt;b&gt;/&quot;x&quot;\">&lt;b&gt;/&quot;x&quot;</p>3<i>"
        );
    }

    #[test]
    fn stamps_change_with_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let templates = dir.path().join("templates");
        let manifest = dir.path().join("manifest.json");
        let before = stamp(&[&templates], &manifest);
        std::fs::create_dir(&templates).expect("mkdir");
        std::fs::write(templates.join("a.html"), "a").expect("write");
        let with_file = stamp(&[&templates], &manifest);
        assert_ne!(before, with_file);
        assert_eq!(with_file, stamp(&[&templates], &manifest));
        std::fs::write(templates.join("a.html"), "ab").expect("write");
        assert_ne!(with_file, stamp(&[&templates], &manifest));
        let grown = stamp(&[&templates], &manifest);
        std::fs::write(&manifest, "{}").expect("write");
        assert_ne!(grown, stamp(&[&templates], &manifest));
    }
}
