//! A store's wall clock: an IANA time zone or a fixed UTC offset, as WordPress lets a site
//! choose (`Europe/Berlin`, or a manual `UTC+5:30`). Turns the store's local timestamps (which
//! carry no offset) into UTC.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Where a store's local times are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalClock {
    Zone(Tz),
    Offset(FixedOffset),
}

/// Why a time zone setting could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is neither an IANA time zone (Europe/Berlin) nor a UTC offset (+05:30, UTC-3, UTC+5.5)")]
pub struct LocalClockError(pub String);

impl Default for LocalClock {
    /// UTC: WordPress's own default setting.
    fn default() -> Self {
        LocalClock::Offset(Utc.fix())
    }
}

impl LocalClock {
    /// Reads `Europe/Berlin`, `UTC`, `+05:30`, `-03:00`, `UTC+5:30`, `UTC-3` or `UTC+5.5`.
    pub fn parse(s: &str) -> Result<Self, LocalClockError> {
        let t = s.trim();
        let err = || LocalClockError(s.to_string());
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
            return Ok(Self::default());
        }
        let offset = t.strip_prefix("UTC").or_else(|| t.strip_prefix("utc")).unwrap_or(t);
        if let Some(sign) = offset.chars().next().filter(|c| *c == '+' || *c == '-') {
            let body = &offset[1..];
            let (hours, minutes) = match body.split_once([':', '.']) {
                Some((h, m)) if body.contains('.') => {
                    // WordPress writes manual offsets as decimal hours: 5.5 is 5:30, 5.75 is 5:45.
                    let frac: u32 = m.parse().map_err(|_| err())?;
                    let scale = 10u32.pow(u32::try_from(m.len()).map_err(|_| err())?);
                    (h.parse::<u32>().map_err(|_| err())?, frac * 60 / scale)
                }
                Some((h, m)) => (h.parse::<u32>().map_err(|_| err())?, m.parse::<u32>().map_err(|_| err())?),
                None if body.len() == 4 => {
                    (body[..2].parse::<u32>().map_err(|_| err())?, body[2..].parse::<u32>().map_err(|_| err())?)
                }
                None => (body.parse::<u32>().map_err(|_| err())?, 0),
            };
            if hours > 14 || minutes > 59 {
                return Err(err());
            }
            let seconds = i32::try_from(hours * 3600 + minutes * 60).map_err(|_| err())?;
            let seconds = if sign == '-' { -seconds } else { seconds };
            return FixedOffset::east_opt(seconds).map(Self::Offset).ok_or_else(err);
        }
        t.parse::<Tz>().map(Self::Zone).map_err(|_| err())
    }

    /// The instant a local wall-clock time names. In a daylight-saving overlap the earlier of the
    /// two instants; in a gap (a time that never happened) the offset before the change.
    pub fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            LocalClock::Offset(o) => resolve(o.from_local_datetime(&local), local, *o),
            LocalClock::Zone(z) => {
                let before = z.offset_from_utc_datetime(&local).fix();
                resolve(z.from_local_datetime(&local).map(|d| d.fixed_offset()), local, before)
            }
        }
    }
}

fn resolve(r: LocalResult<DateTime<FixedOffset>>, local: NaiveDateTime, fallback: FixedOffset) -> DateTime<Utc> {
    match r {
        LocalResult::Single(d) | LocalResult::Ambiguous(d, _) => d.with_timezone(&Utc),
        LocalResult::None => (local - chrono::Duration::seconds(i64::from(fallback.local_minus_utc()))).and_utc(),
    }
}

impl std::fmt::Display for LocalClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LocalClock::Zone(z) => f.write_str(z.name()),
            LocalClock::Offset(o) => write!(f, "UTC{o}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    #[test]
    fn zones_and_offsets_as_wordpress_writes_them() {
        let berlin = LocalClock::parse("Europe/Berlin").unwrap();
        assert_eq!(berlin.to_utc(at("2026-07-01T12:00:00")).to_rfc3339(), "2026-07-01T10:00:00+00:00");
        assert_eq!(berlin.to_utc(at("2026-01-01T12:00:00")).to_rfc3339(), "2026-01-01T11:00:00+00:00");
        for (text, utc) in [
            ("UTC+5.5", "2026-01-01T06:30:00+00:00"),
            ("UTC+5:30", "2026-01-01T06:30:00+00:00"),
            ("+0530", "2026-01-01T06:30:00+00:00"),
            ("UTC-3", "2026-01-01T15:00:00+00:00"),
            ("UTC+5.75", "2026-01-01T06:15:00+00:00"),
            ("UTC", "2026-01-01T12:00:00+00:00"),
        ] {
            assert_eq!(LocalClock::parse(text).unwrap().to_utc(at("2026-01-01T12:00:00")).to_rfc3339(), utc, "{text}");
        }
        assert_eq!(LocalClock::default().to_string(), "UTC+00:00");
    }

    #[test]
    fn daylight_saving_overlaps_and_gaps_resolve() {
        let ny = LocalClock::parse("America/New_York").unwrap();
        // 01:30 happens twice on 2026-11-01: the first (EDT) wins.
        assert_eq!(ny.to_utc(at("2026-11-01T01:30:00")).to_rfc3339(), "2026-11-01T05:30:00+00:00");
        // 02:30 never happens on 2026-03-08: read with the offset before the change (EST).
        assert_eq!(ny.to_utc(at("2026-03-08T02:30:00")).to_rfc3339(), "2026-03-08T07:30:00+00:00");
    }

    #[test]
    fn nonsense_is_refused_with_what_is_expected() {
        for bad in ["Mars/Olympus", "UTC+25", "+5:75", "PST8", ""] {
            let e = LocalClock::parse(bad).unwrap_err();
            assert!(e.to_string().contains("IANA time zone"), "{bad}: {e}");
        }
    }
}
