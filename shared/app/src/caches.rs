//! What functions keep between invocations: the routing configuration and the measured supplier
//! outcomes, each read through its port at first use and again after a TTL.

use dropline_domain::performance::Measured;
use dropline_domain::primitives::config_error::ConfigError;
use dropline_domain::primitives::ids::SupplierId;
use dropline_domain::routing::config::RoutingConfig;

/// Why no configuration could be had.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no routing configuration at {0}")]
    Missing(String),
    #[error("routing configuration rejected: {0}")]
    Invalid(ConfigError),
    #[error("routing configuration unreadable: {0}")]
    Port(#[from] crate::ports::PortError),
}

/// The configuration a function routes with: fetched at first use (never at init), kept for
/// `ttl`, then fetched again. A new text that fails its check is rejected whole: the function
/// keeps routing with the configuration it had, and logs why.
pub struct ConfigCache {
    store: std::sync::Arc<dyn crate::ports::RoutingConfigStore>,
    ttl: std::time::Duration,
    state: tokio::sync::Mutex<Option<Cached>>,
}

struct Cached {
    fetched: std::time::Instant,
    text: String,
    config: std::sync::Arc<RoutingConfig>,
}

impl ConfigCache {
    pub fn new(store: std::sync::Arc<dyn crate::ports::RoutingConfigStore>, ttl: std::time::Duration) -> Self {
        Self { store, ttl, state: tokio::sync::Mutex::new(None) }
    }

    pub async fn get(&self) -> Result<std::sync::Arc<RoutingConfig>, LoadError> {
        let mut state = self.state.lock().await;
        if let Some(c) = state.as_ref()
            && c.fetched.elapsed() < self.ttl
        {
            return Ok(c.config.clone());
        }
        let fetched = match self.store.fetch().await {
            Ok(f) => f,
            Err(e) => {
                return match state.as_mut() {
                    // Keep routing with what we have; try again after another ttl.
                    Some(c) => {
                        tracing::warn!(error = %e, "routing configuration not refreshed; keeping the loaded one");
                        c.fetched = std::time::Instant::now();
                        Ok(c.config.clone())
                    }
                    None => Err(e.into()),
                };
            }
        };
        let Some(text) = fetched else {
            return Err(LoadError::Missing(
                "the configured store (publish one with `dropline routing publish FILE`)".into(),
            ));
        };
        if let Some(c) = state.as_mut()
            && c.text == text.text
        {
            c.fetched = std::time::Instant::now();
            return Ok(c.config.clone());
        }
        match RoutingConfig::parse(&text.source, &text.text) {
            Ok(config) => {
                let config = std::sync::Arc::new(config);
                tracing::info!(version = config.version, source = %text.source, "routing configuration loaded");
                *state = Some(Cached { fetched: std::time::Instant::now(), text: text.text, config: config.clone() });
                Ok(config)
            }
            Err(e) => match state.as_mut() {
                Some(c) => {
                    tracing::error!(error = %e, version = c.config.version, "new routing configuration rejected whole; still routing with the loaded one");
                    c.fetched = std::time::Instant::now();
                    Ok(c.config.clone())
                }
                None => Err(LoadError::Invalid(e)),
            },
        }
    }
}

/// The measured outcomes route scores with: read for every configured supplier at first use
/// (one BatchGetItem per 100 suppliers), kept for `ttl` (performance moves slowly; orders
/// should not pay a read each), read again when the configuration's version changes. When the
/// read fails, routing goes on with what it had (or the configured figures alone) and logs why:
/// performance is a preference, never a reason to stop orders.
pub struct MeasuredCache {
    ledger: std::sync::Arc<dyn crate::ports::OutcomeLedger>,
    ttl: std::time::Duration,
    state: tokio::sync::Mutex<Option<(std::time::Instant, u32, std::sync::Arc<Measured>)>>,
}

impl MeasuredCache {
    pub fn new(ledger: std::sync::Arc<dyn crate::ports::OutcomeLedger>, ttl: std::time::Duration) -> Self {
        Self { ledger, ttl, state: tokio::sync::Mutex::new(None) }
    }

    pub async fn get(&self, config: &RoutingConfig) -> std::sync::Arc<Measured> {
        let mut state = self.state.lock().await;
        if let Some((at, version, m)) = state.as_ref()
            && *version == config.version
            && at.elapsed() < self.ttl
        {
            return m.clone();
        }
        let ids: Vec<SupplierId> = config.suppliers.iter().map(|s| s.id.clone()).collect();
        let measured = match self.ledger.measured(&ids).await {
            Ok(m) => std::sync::Arc::new(m),
            Err(e) => {
                let kept = state.as_ref().map(|(_, _, m)| m.clone()).unwrap_or_default();
                tracing::warn!(error = %e, "supplier performance not refreshed; routing with what was loaded");
                kept
            }
        };
        *state = Some((std::time::Instant::now(), config.version, measured.clone()));
        measured
    }
}
