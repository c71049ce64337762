//! Frame-rate choice and the small time arithmetic of the pipeline.

use ffmpeg_next::Rational;

/// Frame rates players and browsers expect; a measured rate within 1% of one of them snaps to it.
const STANDARD_RATES: [(i32, i32); 9] = [
    (24000, 1001),
    (24, 1),
    (25, 1),
    (30000, 1001),
    (30, 1),
    (48, 1),
    (50, 1),
    (60000, 1001),
    (60, 1),
];

/// Highest output frame rate: faster sources (slow-motion captures) are resampled to 60.
const MAX_RATE: f64 = 60.0;

/// A rational as seconds (or frames per second), `None` when it is not a positive number.
pub(crate) fn positive(q: Rational) -> Option<f64> {
    (q.numerator() > 0 && q.denominator() > 0)
        .then(|| f64::from(q.numerator()) / f64::from(q.denominator()))
}

/// The constant frame rate of the output: the stream's average rate (its nominal rate when the
/// average is unknown), snapped to a standard rate, capped at 60, 30 when nothing is known.
/// Variable-frame-rate phone clips come out at constant rate, which every player handles.
pub(crate) fn output_frame_rate(average: Rational, nominal: Rational) -> Rational {
    let Some(fps) = positive(average)
        .or_else(|| positive(nominal))
        .filter(|fps| *fps >= 1.0)
    else {
        return Rational::new(30, 1);
    };
    if fps > MAX_RATE * 1.01 {
        return Rational::new(MAX_RATE as i32, 1);
    }
    let distance = |q: &Rational| (positive(*q).unwrap_or(0.0) - fps).abs();
    STANDARD_RATES
        .iter()
        .map(|&(n, d)| Rational::new(n, d))
        .filter(|q| distance(q) <= fps * 0.01)
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))
        .unwrap_or_else(|| Rational::new(fps.round() as i32, 1))
}

/// `ts` (in `time_base` units) as seconds.
pub(crate) fn seconds(ts: i64, time_base: Rational) -> f64 {
    ts as f64 * f64::from(time_base.numerator()) / f64::from(time_base.denominator())
}

/// `secs` in `time_base` units, rounded to the nearest.
pub(crate) fn to_ts(secs: f64, time_base: Rational) -> i64 {
    (secs * f64::from(time_base.denominator()) / f64::from(time_base.numerator())).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(n: i32, d: i32) -> Rational {
        Rational::new(n, d)
    }

    #[test]
    fn a_measured_rate_close_to_a_standard_one_snaps_to_it() {
        assert_eq!(
            output_frame_rate(rate(2997, 100), rate(0, 1)),
            rate(30000, 1001)
        );
        assert_eq!(output_frame_rate(rate(30, 1), rate(30, 1)), rate(30, 1));
        assert_eq!(
            output_frame_rate(rate(5994, 100), rate(0, 1)),
            rate(60000, 1001)
        );
    }

    #[test]
    fn an_unusual_rate_rounds_to_whole_frames() {
        assert_eq!(output_frame_rate(rate(1500, 100), rate(0, 1)), rate(15, 1));
        assert_eq!(output_frame_rate(rate(2743, 100), rate(0, 1)), rate(27, 1));
    }

    #[test]
    fn slow_motion_sources_are_capped_at_sixty() {
        assert_eq!(output_frame_rate(rate(240, 1), rate(240, 1)), rate(60, 1));
    }

    #[test]
    fn an_unknown_rate_falls_back_to_the_nominal_one_then_thirty() {
        assert_eq!(output_frame_rate(rate(0, 0), rate(25, 1)), rate(25, 1));
        assert_eq!(output_frame_rate(rate(0, 0), rate(0, 0)), rate(30, 1));
    }

    #[test]
    fn timestamps_convert_both_ways() {
        let tb = rate(1, 15360);
        assert_eq!(to_ts(20.0, tb), 307_200);
        assert!((seconds(307_200, tb) - 20.0).abs() < 1e-12);
    }
}
