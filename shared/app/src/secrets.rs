//! Signing secrets kept between invocations and read again after a TTL, so a rotated or added
//! secret (a new store, a supplier's new key) reaches running functions without a redeploy. A
//! signature that does not verify asks for a fresh read at once (a rotation that just happened),
//! at most once per `min_refresh`. A failed read keeps the secrets already loaded.

use crate::ports::SecretSource;
use dropline_domain::wire::secrets::SecretBook;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct SecretCache {
    source: Option<Arc<dyn SecretSource>>,
    ttl: Duration,
    min_refresh: Duration,
    state: std::sync::Mutex<(Instant, Arc<SecretBook>)>,
}

impl SecretCache {
    /// Secrets that never change (tests, the demo, the local runner).
    pub fn fixed(book: SecretBook) -> Self {
        Self {
            source: None,
            ttl: Duration::MAX,
            min_refresh: Duration::MAX,
            state: std::sync::Mutex::new((Instant::now(), Arc::new(book))),
        }
    }

    /// Secrets read from `source` at init (`initial`), again after `ttl`.
    pub fn new(source: Arc<dyn SecretSource>, initial: SecretBook, ttl: Duration) -> Self {
        Self {
            source: Some(source),
            ttl,
            min_refresh: Duration::from_secs(60),
            state: std::sync::Mutex::new((Instant::now(), Arc::new(initial))),
        }
    }

    /// How soon after a read a failed signature may ask for another (one minute by default).
    pub fn with_min_refresh(mut self, min_refresh: Duration) -> Self {
        self.min_refresh = min_refresh;
        self
    }

    /// The state, even after a panic elsewhere held the lock (it is replaced whole, never torn).
    fn state(&self) -> std::sync::MutexGuard<'_, (Instant, Arc<SecretBook>)> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn snapshot(&self) -> (Instant, Arc<SecretBook>) {
        let s = self.state();
        (s.0, s.1.clone())
    }

    /// The secrets to verify or sign with now (read again first when older than the TTL).
    pub async fn current(&self) -> Arc<SecretBook> {
        let (at, book) = self.snapshot();
        if at.elapsed() < self.ttl {
            return book;
        }
        self.reload().await.unwrap_or(book)
    }

    /// After a signature that did not verify: the secrets read again if the last read is older
    /// than `min_refresh`; None when nothing newer was read.
    pub async fn refreshed(&self) -> Option<Arc<SecretBook>> {
        let (at, _) = self.snapshot();
        if at.elapsed() < self.min_refresh {
            return None;
        }
        self.reload().await
    }

    async fn reload(&self) -> Option<Arc<SecretBook>> {
        let source = self.source.as_ref()?;
        let loaded = source.load().await;
        let mut state = self.state();
        match loaded {
            Ok(book) => {
                *state = (Instant::now(), Arc::new(book));
                Some(state.1.clone())
            }
            Err(e) => {
                // Keep verifying with what we have; try again after another TTL.
                tracing::warn!(error = %e, "secrets not refreshed; keeping the loaded ones");
                state.0 = Instant::now();
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{PortError, PortResult};
    use async_trait::async_trait;

    struct Rotating {
        value: std::sync::Mutex<Option<&'static str>>,
    }

    #[async_trait]
    impl SecretSource for Rotating {
        async fn load(&self) -> PortResult<SecretBook> {
            match *self.value.lock().expect("lock") {
                Some(v) => Ok(SecretBook::new().with("suppliers/acme", v)),
                None => Err(PortError::Transient("SSM unavailable".into())),
            }
        }
    }

    #[tokio::test]
    async fn a_rotated_secret_is_read_after_the_ttl_and_an_outage_keeps_the_old_one() {
        let source = Arc::new(Rotating { value: std::sync::Mutex::new(Some("new")) });
        let stale = SecretCache::new(source.clone(), SecretBook::new().with("suppliers/acme", "old"), Duration::MAX);
        assert_eq!(stale.current().await.supplier("acme"), vec!["old"], "within the TTL");
        let cache = SecretCache::new(source.clone(), SecretBook::new().with("suppliers/acme", "old"), Duration::ZERO);
        assert_eq!(cache.current().await.supplier("acme"), vec!["new"], "past the TTL: read again");
        *source.value.lock().expect("lock") = None;
        assert_eq!(cache.current().await.supplier("acme"), vec!["new"], "an outage keeps what was loaded");
        let fixed = SecretCache::fixed(SecretBook::new().with("suppliers/acme", "f"));
        assert!(fixed.refreshed().await.is_none());
    }
}
