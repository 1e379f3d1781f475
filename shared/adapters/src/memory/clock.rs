//! A clock tests and the demo move by hand.

use super::sync::lock;
use chrono::{DateTime, Duration, Utc};
use dropline_app::ports::Clock;
use std::sync::Mutex;

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }
    pub fn advance(&self, d: Duration) {
        *lock(&self.0) += d;
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *lock(&self.0) = t;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.0)
    }
}

// ---------------------------------------------------------------------------------------------
