//! The HTTP adapters' own rules: the retry back-off.

use super::retry::*;
use std::time::Duration;

#[test]
fn backoff_grows_and_is_bounded_by_jitter() {
    let p = RetryPolicy::default();
    let a = p.backoff(0, 7);
    let b = p.backoff(1, 7);
    let c = p.backoff(2, 7);
    assert!(a >= Duration::from_millis(200) && a < Duration::from_millis(400));
    assert!(b >= Duration::from_millis(400) && b < Duration::from_millis(600));
    assert!(c >= Duration::from_millis(800) && c < Duration::from_millis(1000));
}
