//! A rate: how many times something may happen per period (`"10/minute"`), the unit of the
//! service's abuse limits.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// At most `count` events per `period`, in a burst or spread out (a token bucket holding
/// `count` tokens that refills one token every `period / count`).
///
/// Written `COUNT/UNIT` with `UNIT` one of `second`, `minute`, `hour`, `day` (or `s`, `min`,
/// `h`, `d`):
///
/// ```
/// use anb_domain::values::Rate;
/// use std::time::Duration;
///
/// let rate: Rate = "10/minute".parse().unwrap();
/// assert_eq!(rate.count().get(), 10);
/// assert_eq!(rate.period(), Duration::from_secs(60));
/// assert_eq!(rate.to_string(), "10/minute");
/// assert!("0/minute".parse::<Rate>().is_err());
/// assert!("10 per minute".parse::<Rate>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    count: NonZeroU32,
    period: Duration,
}

impl Rate {
    /// `count` events per `period`.
    ///
    /// # Panics
    /// When `period` is zero.
    pub fn new(count: NonZeroU32, period: Duration) -> Self {
        assert!(!period.is_zero(), "a rate needs a period");
        Self { count, period }
    }

    /// Events allowed per period (also the largest burst).
    pub fn count(&self) -> NonZeroU32 {
        self.count
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

const UNITS: &[(&[&str], u64)] = &[
    (&["second", "s", "sec"], 1),
    (&["minute", "min", "m"], 60),
    (&["hour", "h"], 3_600),
    (&["day", "d"], 86_400),
];

impl FromStr for Rate {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let expected = || format!("{raw:?} is not a rate such as \"10/minute\"");
        let (count, unit) = raw.trim().split_once('/').ok_or_else(expected)?;
        let count: u32 = count.trim().parse().map_err(|_| expected())?;
        let count = NonZeroU32::new(count)
            .ok_or_else(|| format!("{raw:?}: the count must be at least 1"))?;
        let unit = unit.trim().to_ascii_lowercase();
        let seconds = UNITS
            .iter()
            .find(|(names, _)| names.contains(&unit.as_str()))
            .map(|(_, seconds)| *seconds)
            .ok_or_else(expected)?;
        Ok(Self::new(count, Duration::from_secs(seconds)))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.period.as_secs();
        match UNITS.iter().find(|(_, s)| *s == seconds) {
            Some((names, _)) => write!(f, "{}/{}", self.count, names[0]),
            None => write!(f, "{}/{}s", self.count, seconds),
        }
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_and_its_short_names_parse() {
        for (raw, seconds) in [
            ("3/s", 1),
            ("3/second", 1),
            ("3/min", 60),
            ("3/Hour", 3600),
            ("3/d", 86_400),
        ] {
            assert_eq!(
                raw.parse::<Rate>().unwrap().period(),
                Duration::from_secs(seconds),
                "{raw}"
            );
        }
    }

    #[test]
    fn malformed_rates_are_refused_with_the_text_named() {
        for raw in [
            "",
            "10",
            "/minute",
            "ten/minute",
            "10/fortnight",
            "-1/minute",
            "0/s",
        ] {
            let error = raw.parse::<Rate>().unwrap_err();
            assert!(error.contains(&format!("{raw:?}")), "{error}");
        }
    }
}
