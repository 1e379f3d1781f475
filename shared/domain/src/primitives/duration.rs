//! Durations as operators write them: `30s`, `5m`, `24h`, `14d`.

use crate::primitives::config_error::ConfigError;
use chrono::Duration;

/// Parses `30s`, `5m`, `24h`, `14d`.
pub fn parse_duration(s: &str) -> Result<Duration, ConfigError> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| format!("{s:?}: missing unit (s, m, h, d)"))?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().map_err(|_| format!("{s:?}: not a number"))?;
    if n <= 0 {
        return Err(format!("{s:?}: must be positive").into());
    }
    let d = match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => return Err(format!("{s:?}: unit must be s, m, h or d").into()),
    };
    Ok(d.ok_or_else(|| format!("{s:?}: too long"))?)
}
