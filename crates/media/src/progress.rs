//! Parses ffmpeg's `-progress` output: blocks of `key=value` lines, each ended by
//! `progress=continue` or `progress=end`.

/// The block being read, and the total duration that percentages are relative to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgressState {
    /// Duration of the input in seconds, when known (from ffprobe).
    total_duration: Option<f64>,
    /// Position reached, in seconds, and how precise its source was (2 = `out_time_us`,
    /// 1 = `out_time_ms`, 0 = `out_time`).
    out_time: Option<(f64, u8)>,
    /// `speed`, as a multiple of real time.
    speed: Option<f64>,
    /// `total_size`, bytes written so far.
    total_size: Option<u64>,
    /// `frame`, frames written so far.
    frame: Option<u64>,
}

impl ProgressState {
    /// A state for an input lasting `total_duration` seconds (`None` if unknown: no percentages).
    pub fn new(total_duration: Option<f64>) -> ProgressState {
        ProgressState {
            total_duration: total_duration.filter(|d| d.is_finite() && *d > 0.0),
            ..ProgressState::default()
        }
    }
}

/// One progress report (one block).
#[derive(Debug, Clone, PartialEq)]
pub struct FfmpegProgress {
    /// Position reached in the output, in seconds.
    pub out_time_seconds: Option<f64>,
    /// Percent done, 0 to 100, when the total duration is known (100 at the end).
    pub percent: Option<f64>,
    /// Speed as a multiple of real time (`2.5` for `2.5x`).
    pub speed: Option<f64>,
    /// Estimated seconds left, from position, total duration and speed.
    pub eta_seconds: Option<f64>,
    /// Bytes written so far.
    pub total_size: Option<u64>,
    /// Frames written so far.
    pub frame: Option<u64>,
    /// Whether this was the last block (`progress=end`).
    pub done: bool,
}

/// Feeds one line of ffmpeg's `-progress` output; returns a report when the line ends a block.
/// Unknown keys, `N/A` values and garbage are ignored.
pub fn parse_ffmpeg_progress(
    block_line: &str,
    state: &mut ProgressState,
) -> Option<FfmpegProgress> {
    let (key, value) = block_line.trim().split_once('=')?;
    let value = value.trim();
    match key.trim() {
        "out_time_us" => set_time(
            state,
            value.parse::<i64>().ok().map(|us| us as f64 / 1e6),
            2,
        ),
        // Despite its name, ffmpeg writes microseconds here too.
        "out_time_ms" => set_time(
            state,
            value.parse::<i64>().ok().map(|us| us as f64 / 1e6),
            1,
        ),
        "out_time" => set_time(state, parse_clock(value), 0),
        "speed" => {
            state.speed = value
                .strip_suffix('x')
                .and_then(|s| s.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
        }
        "total_size" => state.total_size = value.parse().ok(),
        "frame" => state.frame = value.parse().ok(),
        "progress" => return Some(finish_block(state, value == "end")),
        _ => {}
    }
    None
}

/// Records a position unless a more precise one was already seen in this block.
fn set_time(state: &mut ProgressState, seconds: Option<f64>, rank: u8) {
    let Some(seconds) = seconds.filter(|s| s.is_finite() && *s >= 0.0) else {
        return;
    };
    if state.out_time.is_none_or(|(_, seen)| rank >= seen) {
        state.out_time = Some((seconds, rank));
    }
}

/// Parses `HH:MM:SS.ffffff`; negative or malformed clocks are `None`.
fn parse_clock(text: &str) -> Option<f64> {
    let mut parts = text.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || [h, m, s]
            .iter()
            .any(|p| p.is_empty() || p.starts_with(['-', '+']))
    {
        return None;
    }
    let seconds = h.parse::<u64>().ok()? as f64 * 3600.0
        + m.parse::<u64>().ok()? as f64 * 60.0
        + s.parse::<f64>().ok()?;
    seconds.is_finite().then_some(seconds)
}

/// Turns the finished block into a report and starts a new block.
fn finish_block(state: &mut ProgressState, done: bool) -> FfmpegProgress {
    let out_time = state.out_time.map(|(t, _)| t);
    let total = state.total_duration;
    let percent = match (done, total, out_time) {
        (true, Some(_), _) => Some(100.0),
        (false, Some(total), Some(t)) => Some((t / total * 100.0).clamp(0.0, 100.0)),
        _ => None,
    };
    let eta_seconds = match (done, total, out_time, state.speed) {
        (true, ..) => Some(0.0),
        // A tiny speed could make the quotient overflow to infinity: no estimate then.
        (false, Some(total), Some(t), Some(speed)) if speed > 0.0 => {
            Some(((total - t) / speed).max(0.0)).filter(|eta| eta.is_finite())
        }
        _ => None,
    };
    let report = FfmpegProgress {
        out_time_seconds: out_time,
        percent,
        speed: state.speed,
        eta_seconds,
        total_size: state.total_size,
        frame: state.frame,
        done,
    };
    *state = ProgressState::new(state.total_duration);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded from ffmpeg 5.1 transcoding a 20 s HEVC MKV to H.264 with `-progress pipe:1`.
    const TRANSCODE: &str = "frame=2\nfps=0.00\nstream_0_0_q=0.0\nbitrate=   3.3kbits/s\ntotal_size=48\n\
out_time_us=116213\nout_time_ms=116213\nout_time=00:00:00.116213\ndup_frames=1\ndrop_frames=0\nspeed=51.3x\n\
progress=continue\nframe=302\nfps=0.00\nstream_0_0_q=28.0\nbitrate=   0.0kbits/s\ntotal_size=48\n\
out_time_us=12144218\nout_time_ms=12144218\nout_time=00:00:12.144218\ndup_frames=1\ndrop_frames=0\n\
speed=24.2x\nprogress=continue\nframe=501\nfps=0.00\nstream_0_0_q=-1.0\nbitrate= 135.5kbits/s\n\
total_size=339314\nout_time_us=20038231\nout_time_ms=20038231\nout_time=00:00:20.038231\ndup_frames=1\n\
drop_frames=0\nspeed=29.3x\nprogress=end\n";

    /// The first block of a stream copy (recorded), and the kind of block ffmpeg writes before
    /// any output has been produced.
    const EARLY: &str = "frame=1\nfps=0.00\nstream_0_0_q=-1.0\nbitrate=N/A\ntotal_size=44\nout_time_us=0\n\
out_time_ms=0\nout_time=00:00:00.000000\ndup_frames=0\ndrop_frames=0\nspeed=N/A\nprogress=continue\n\
frame=0\nfps=0.00\nstream_0_0_q=0.0\nbitrate=N/A\ntotal_size=N/A\nout_time_us=N/A\nout_time_ms=N/A\n\
out_time=N/A\ndup_frames=0\ndrop_frames=0\nspeed=N/A\nprogress=continue\n\
out_time_us=-9223372036854775807\nout_time_ms=-9223372036854775807\nout_time=-2562047:47:16.854775\n\
progress=continue\n";

    fn run(text: &str, total: Option<f64>) -> Vec<FfmpegProgress> {
        let mut state = ProgressState::new(total);
        text.lines()
            .filter_map(|line| parse_ffmpeg_progress(line, &mut state))
            .collect()
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-3)
    }

    #[test]
    fn transcode_with_known_duration() {
        let reports = run(TRANSCODE, Some(20.023));
        assert_eq!(reports.len(), 3);
        assert!(close(reports[0].out_time_seconds, 0.116_213));
        assert!(close(reports[0].percent, 0.580_402), "{:?}", reports[0]);
        assert!(close(reports[0].speed, 51.3));
        assert_eq!(
            (reports[0].total_size, reports[0].frame, reports[0].done),
            (Some(48), Some(2), false)
        );
        assert!(close(reports[1].percent, 60.651), "{:?}", reports[1]);
        assert!(close(reports[1].eta_seconds, (20.023 - 12.144_218) / 24.2));
        let last = &reports[2];
        assert!(last.done);
        assert_eq!(
            (last.percent, last.eta_seconds, last.total_size),
            (Some(100.0), Some(0.0), Some(339_314))
        );
    }

    #[test]
    fn a_tiny_speed_gives_no_estimate_rather_than_infinity() {
        // Found by the fuzzer: a huge duration over a tiny speed overflowed to infinity.
        let mut state = ProgressState::new(Some(1e300));
        assert_eq!(
            parse_ffmpeg_progress("out_time_us=1000000", &mut state),
            None
        );
        assert_eq!(parse_ffmpeg_progress("speed=1e-300x", &mut state), None);
        let report = parse_ffmpeg_progress("progress=continue", &mut state).expect("a report");
        assert_eq!(report.eta_seconds, None);
    }

    #[test]
    fn unknown_duration_gives_no_percent() {
        for r in run(TRANSCODE, None) {
            assert_eq!((r.percent, r.eta_seconds.filter(|_| !r.done)), (None, None));
        }
        assert_eq!(run(TRANSCODE, Some(f64::NAN))[0].percent, None);
        assert_eq!(run(TRANSCODE, Some(0.0))[0].percent, None);
    }

    #[test]
    fn early_blocks_and_invalid_values() {
        let reports = run(EARLY, Some(20.0));
        assert_eq!(reports.len(), 3);
        assert_eq!(
            (
                reports[0].out_time_seconds,
                reports[0].percent,
                reports[0].speed
            ),
            (Some(0.0), Some(0.0), None)
        );
        for r in &reports[1..] {
            assert_eq!(
                (r.out_time_seconds, r.percent, r.total_size),
                (None, None, None),
                "{r:?}"
            );
        }
    }

    #[test]
    fn time_sources_in_order_of_precision() {
        let mut state = ProgressState::new(Some(100.0));
        for line in [
            "out_time=00:00:50.000000",
            "out_time_ms=40000000",
            "out_time=00:00:10.000000",
        ] {
            assert_eq!(parse_ffmpeg_progress(line, &mut state), None);
        }
        let r = parse_ffmpeg_progress("progress=continue", &mut state);
        assert_eq!(r.and_then(|r| r.out_time_seconds), Some(40.0));
        let mut state = ProgressState::new(Some(100.0));
        let _ = parse_ffmpeg_progress("out_time=01:02:03.5", &mut state);
        let r = parse_ffmpeg_progress("progress=continue", &mut state);
        assert_eq!(r.and_then(|r| r.out_time_seconds), Some(3723.5));
        // Beyond the total (the audio is a little longer than the probed duration).
        let mut state = ProgressState::new(Some(10.0));
        let _ = parse_ffmpeg_progress("out_time_us=10500000", &mut state);
        let r = parse_ffmpeg_progress("progress=continue", &mut state);
        assert_eq!(r.and_then(|r| r.percent), Some(100.0));
    }

    #[test]
    fn garbage_never_panics() {
        let mut state = ProgressState::new(Some(10.0));
        for line in [
            "",
            "=",
            "progress",
            "speed=x",
            "speed=-2x",
            "speed=infx",
            "out_time=::",
            "out_time=1:2",
            "out_time=a:b:c",
            "out_time=1:2:3:4",
            "out_time=00:00:1e400",
            "out_time_us=99999999999999999999999",
            "frame=-1",
            "total_size=1.5",
            "\u{0}=\u{0}",
            "ffmpeg version 5.1.9",
        ] {
            assert_eq!(parse_ffmpeg_progress(line, &mut state), None, "{line:?}");
        }
        let r = parse_ffmpeg_progress("progress=weird", &mut state);
        assert_eq!(
            r,
            Some(FfmpegProgress {
                out_time_seconds: None,
                percent: None,
                speed: None,
                eta_seconds: None,
                total_size: None,
                frame: None,
                done: false
            })
        );
    }
}
