//! Where signing secrets come from (SSM Parameter Store in AWS).

use super::PortResult;
use async_trait::async_trait;
use dropline_domain::wire::secrets::SecretBook;

#[async_trait]
pub trait SecretSource: Send + Sync {
    /// Every secret the function may read, as they are now.
    async fn load(&self) -> PortResult<SecretBook>;
}
