//! Epoch milliseconds (DynamoDB numbers, SQS attributes) as times.

use chrono::{DateTime, TimeZone, Utc};

/// The time `ms` milliseconds after the epoch (the epoch itself for an out-of-range value).
pub(super) fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}
