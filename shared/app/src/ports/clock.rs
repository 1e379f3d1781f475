//! The wall clock, injectable.

use chrono::{DateTime, Utc};

/// The wall clock, injectable so tests and the demo control time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
