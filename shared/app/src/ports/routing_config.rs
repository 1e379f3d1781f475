//! Where the routing configuration lives.

use super::PortResult;
use async_trait::async_trait;

/// A stored routing configuration: its text and where it came from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigText {
    /// `routing.json`, `dynamodb:TABLE/ROUTING#CONFIG`, `ssm:/dropline/routing`.
    pub source: String,
    pub text: String,
}

/// Where the routing configuration lives: a file (demo, local runs), a DynamoDB item or an
/// SSM parameter (AWS).
#[async_trait]
pub trait RoutingConfigStore: Send + Sync {
    /// The stored configuration, if any.
    async fn fetch(&self) -> PortResult<Option<ConfigText>>;
    /// Stores a configuration the caller has checked whole. Refused (`Conflict`) unless its
    /// version is above the stored one: two operators can't overwrite each other unknowingly,
    /// and an old file is never applied by mistake.
    async fn publish(&self, version: u32, text: &str) -> PortResult<()>;
}
