//! Human-readable durations and sizes for the pages (the JavaScript twin is `assets/format.js`).

/// `0:05`, `12:34`, `1:02:03`; `None` for a missing, negative or non-finite duration.
pub fn duration_label(seconds: Option<f64>) -> Option<String> {
    let seconds = seconds.filter(|s| s.is_finite() && *s >= 0.0)?;
    let total = seconds.round() as u64;
    let (hours, minutes, secs) = (total / 3600, (total / 60) % 60, total % 60);
    Some(if hours > 0 {
        format!("{hours}:{minutes:02}:{secs:02}")
    } else {
        format!("{minutes}:{secs:02}")
    })
}

/// `0 B`, `512 B`, `1.5 KB`, `12.3 MB`, `1.2 GB` (binary multiples, one decimal).
pub fn size_label(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// "1 video" / "12 videos".
pub(crate) fn count_label(count: u64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// The date part of an RFC 3339 timestamp (`2024-05-01T…` → `2024-05-01`).
pub(crate) fn date_label(timestamp: &str) -> String {
    timestamp.split('T').next().unwrap_or(timestamp).to_owned()
}

/// A subtitle language code as a label: `en` → `English`; unknown codes are upper-cased; no
/// code at all is `Subtitles`.
pub(crate) fn language_label(code: &str) -> String {
    language_name(code).unwrap_or_else(|| "Subtitles".into())
}

/// The name of a subtitle language code (`None` when the code is empty or `unknown`).
pub(crate) fn language_name(code: &str) -> Option<String> {
    let base = code
        .split(['-', '_'])
        .next()
        .unwrap_or(code)
        .to_ascii_lowercase();
    let name = match base.as_str() {
        "en" => "English",
        "de" => "Deutsch",
        "sv" => "Svenska",
        "fr" => "Français",
        "es" => "Español",
        "it" => "Italiano",
        "nl" => "Nederlands",
        "da" => "Dansk",
        "no" | "nb" | "nn" => "Norsk",
        "fi" => "Suomi",
        "pl" => "Polski",
        "pt" => "Português",
        "" | "unknown" => return None,
        _ => return Some(code.to_ascii_uppercase()),
    };
    Some(if base.len() == code.len() {
        name.into()
    } else {
        format!("{name} ({code})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let check = |input: Option<f64>, expected: Option<&str>| {
            assert_eq!(duration_label(input).as_deref(), expected, "{input:?}");
        };
        check(None, None);
        check(Some(-1.0), None);
        check(Some(f64::NAN), None);
        check(Some(0.0), Some("0:00"));
        check(Some(4.6), Some("0:05"));
        check(Some(754.0), Some("12:34"));
        check(Some(3723.0), Some("1:02:03"));
    }

    #[test]
    fn sizes() {
        let check = |input: u64, expected: &str| assert_eq!(size_label(input), expected, "{input}");
        check(0, "0 B");
        check(1023, "1023 B");
        check(1536, "1.5 KB");
        check(12_900_000, "12.3 MB");
        check(1_288_490_189, "1.2 GB");
    }

    #[test]
    fn labels() {
        assert_eq!(count_label(1, "video", "videos"), "1 video");
        assert_eq!(count_label(0, "video", "videos"), "0 videos");
        assert_eq!(date_label("2024-05-01T10:00:00.000Z"), "2024-05-01");
        assert_eq!(language_label("en"), "English");
        assert_eq!(language_label("de-DE"), "Deutsch (de-DE)");
        assert_eq!(language_label("unknown"), "Subtitles");
        assert_eq!(language_label("xx"), "XX");
    }
}
