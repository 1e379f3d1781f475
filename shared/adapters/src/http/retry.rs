//! The retry policy inside one invocation, and the HTTP client every adapter uses.

use super::egress::{CheckedResolver, Egress};
use std::time::Duration;

/// Retry policy for one submission inside one invocation. Failures beyond it go back to the
/// queue (SQS retries with its visibility timeout, then the dead-letter queue).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub timeout: Duration,
    pub max_attempts: u32,
    pub base_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(5), max_attempts: 3, base_backoff: Duration::from_millis(200) }
    }
}

impl RetryPolicy {
    /// Exponential backoff with deterministic jitter per attempt (no RNG needed).
    pub fn backoff(&self, attempt: u32, salt: u64) -> Duration {
        let base = self.base_backoff.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << attempt.min(10));
        let jitter = (salt.wrapping_mul(6364136223846793005).wrapping_add(u64::from(attempt)) >> 33) % (base.max(1));
        Duration::from_millis(exp + jitter)
    }
}

/// The client every outbound adapter uses: bounded in time, no redirects followed (a redirect
/// would carry the signed body elsewhere), and DNS answers filtered through `egress`.
pub fn http_client(timeout: Duration, egress: Egress) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(CheckedResolver { egress }))
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(2)))
        .user_agent(concat!("dropline/", env!("CARGO_PKG_VERSION")))
        .build()
        // Builder errors only come from TLS back-end initialisation; fall back to the default client.
        .unwrap_or_default()
}

/// An error's text without its URL (which may carry a credential).
pub(super) fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    if e.is_timeout() {
        format!("timed out: {e}")
    } else if e.is_connect() {
        format!("connection failed: {e}")
    } else {
        e.to_string()
    }
}
