//! The values everything else is made of: validated ids, money, durations, supplier calendars, a
//! store's wall clock.

pub mod calendar;
pub mod config_error;
pub mod customer_key;
pub mod duration;
pub mod fast_map;
pub mod ids;
pub mod local_time;
pub mod money;
