//! The routing configuration from a file, or held in memory.

use super::sync::lock;
use async_trait::async_trait;
use dropline_app::ports::{ConfigText, PortError, PortResult, RoutingConfigStore};
use std::sync::Mutex;

/// A routing configuration in memory, or read from a file on every fetch (the cache in front of
/// it decides how often).
pub struct MemoryRoutingConfig {
    source: String,
    file: Option<std::path::PathBuf>,
    stored: Mutex<Option<(u32, String)>>,
}

impl MemoryRoutingConfig {
    /// An empty store.
    pub fn new() -> Self {
        Self { source: "memory".into(), file: None, stored: Mutex::new(None) }
    }

    /// A configuration held in memory from the start (the demo's).
    pub fn with_text(source: &str, text: &str) -> Self {
        Self { source: source.into(), file: None, stored: Mutex::new(Some((0, text.to_string()))) }
    }

    /// A file, read on every fetch; publishing writes it.
    pub fn file(path: impl Into<std::path::PathBuf>) -> Self {
        let path = path.into();
        Self { source: path.display().to_string(), file: Some(path), stored: Mutex::new(None) }
    }
}

impl Default for MemoryRoutingConfig {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl RoutingConfigStore for MemoryRoutingConfig {
    async fn fetch(&self) -> PortResult<Option<ConfigText>> {
        if let Some(path) = &self.file {
            return match std::fs::read_to_string(path) {
                Ok(text) => Ok(Some(ConfigText { source: self.source.clone(), text })),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(PortError::Permanent(format!("{}: {e}", self.source))),
            };
        }
        Ok(lock(&self.stored).as_ref().map(|(_, text)| ConfigText { source: self.source.clone(), text: text.clone() }))
    }

    async fn publish(&self, version: u32, text: &str) -> PortResult<()> {
        let current = match self.fetch().await? {
            Some(c) => dropline_domain::routing::config::declared_version(&c.text),
            None => 0,
        };
        if version <= current {
            return Err(PortError::Conflict(format!("version {version} is not above the stored version {current}")));
        }
        if let Some(path) = &self.file {
            return std::fs::write(path, text).map_err(|e| PortError::Permanent(format!("{}: {e}", self.source)));
        }
        *lock(&self.stored) = Some((version, text.to_string()));
        Ok(())
    }
}
