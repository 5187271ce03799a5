//! Fuzzes ffmpeg's `-progress` parser (`sofathek::media::progress`) line by line over a whole
//! stream: no panic, percentages stay within 0..=100, times and ETAs are finite and not negative.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sofathek::media::progress::{ProgressState, parse_ffmpeg_progress};
use sofathek_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let duration = match input.byte() % 4 {
        0 => None,
        1 => Some(f64::from(input.byte()) / 10.0),
        2 => Some(f64::from_bits(input.u64())),
        _ => Some(10.0),
    };
    let text = String::from_utf8_lossy(input.rest()).into_owned();
    let mut state = ProgressState::new(duration);
    for line in text.split(['\n', '\r']) {
        let Some(report) = parse_ffmpeg_progress(line, &mut state) else {
            continue;
        };
        if let Some(percent) = report.percent {
            assert!(
                (0.0..=100.0).contains(&percent),
                "{line:?}: percent {percent}"
            );
        }
        for (what, value) in [
            ("out_time", report.out_time_seconds),
            ("eta", report.eta_seconds),
            ("speed", report.speed),
        ] {
            if let Some(value) = value {
                assert!(
                    value.is_finite() && value >= 0.0,
                    "{line:?}: {what} {value}"
                );
            }
        }
        if report.done {
            assert!(
                report.percent.is_none_or(|p| p == 100.0),
                "{line:?}: {report:?}"
            );
        }
    }
});
