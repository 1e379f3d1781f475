//! The routing configuration in a DynamoDB item or an SSM parameter.

use super::errors::classify;
use super::items::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use chrono::Utc;
use dropline_app::ports::{ConfigText, PortError, PortResult, RoutingConfigStore};

#[cfg(feature = "dynamodb")]
/// The routing configuration as one item of the catalog table: `version` and `body`, written
/// only over a lower version (a condition, so two publishers can't both win).
pub struct DynamoRoutingConfig {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

#[cfg(feature = "dynamodb")]
impl DynamoRoutingConfig {
    pub const KEY: &'static str = "ROUTING#CONFIG";

    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

#[cfg(feature = "dynamodb")]
#[async_trait]
impl RoutingConfigStore for DynamoRoutingConfig {
    async fn fetch(&self) -> PortResult<Option<ConfigText>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(Self::KEY))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        Ok(out.item().and_then(|item| get_s(item, "body")).map(|text| ConfigText {
            source: format!("dynamodb:{}/{}", self.table, Self::KEY),
            text: text.to_string(),
        }))
    }

    async fn publish(&self, version: u32, text: &str) -> PortResult<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(Self::KEY))
            .item("version", n(version))
            .item("body", s(text))
            .item("published_at", s(Utc::now().to_rfc3339()))
            .condition_expression("attribute_not_exists(pk) OR version < :v")
            .expression_attribute_values(":v", n(version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                Err(PortError::Conflict(format!("version {version} is not above the stored version")))
            }
            Err(e) => Err(classify("PutItem", e)),
        }
    }
}

#[cfg(feature = "ssm")]
/// The routing configuration as an SSM parameter (up to 8 KB: a few dozen suppliers; use the
/// DynamoDB item beyond). SSM has no conditional write: publishing checks the stored version
/// first, so two operators publishing at the same instant could both pass the check.
pub struct SsmRoutingConfig {
    client: aws_sdk_ssm::Client,
    name: String,
}

#[cfg(feature = "ssm")]
impl SsmRoutingConfig {
    pub fn new(client: aws_sdk_ssm::Client, name: impl Into<String>) -> Self {
        Self { client, name: name.into() }
    }
}

#[cfg(feature = "ssm")]
#[async_trait]
impl RoutingConfigStore for SsmRoutingConfig {
    async fn fetch(&self) -> PortResult<Option<ConfigText>> {
        match self.client.get_parameter().name(&self.name).with_decryption(true).send().await {
            Ok(out) => Ok(out
                .parameter()
                .and_then(|p| p.value())
                .map(|text| ConfigText { source: format!("ssm:{}", self.name), text: text.to_string() })),
            Err(SdkError::ServiceError(se)) if se.err().is_parameter_not_found() => Ok(None),
            Err(e) => Err(classify("GetParameter", e)),
        }
    }

    async fn publish(&self, version: u32, text: &str) -> PortResult<()> {
        if let Some(current) = self.fetch().await? {
            let stored = dropline_domain::routing::config::declared_version(&current.text);
            if version <= stored {
                return Err(PortError::Conflict(format!("version {version} is not above the stored version {stored}")));
            }
        }
        let tier = if text.len() > 4096 {
            aws_sdk_ssm::types::ParameterTier::Advanced
        } else {
            aws_sdk_ssm::types::ParameterTier::Standard
        };
        self.client
            .put_parameter()
            .name(&self.name)
            .value(text)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .tier(tier)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| classify("PutParameter", e))?;
        Ok(())
    }
}

#[cfg(all(feature = "dynamodb", feature = "ssm", feature = "memory"))]
/// The routing configuration store a `DROPLINE_ROUTING_CONFIG` value names: `dynamodb` (the
/// catalog table's item, the default), `ssm:/parameter/name`, or `file:/path/routing.json`.
pub fn routing_config_store(
    spec: &str,
    clients: &super::AwsClients,
    catalog_table: &str,
) -> Result<std::sync::Arc<dyn RoutingConfigStore>, String> {
    let spec = spec.trim();
    if spec.is_empty() || spec == "dynamodb" {
        return Ok(std::sync::Arc::new(DynamoRoutingConfig::new(clients.dynamodb().clone(), catalog_table)));
    }
    if let Some(name) = spec.strip_prefix("ssm:").filter(|n| !n.trim().is_empty()) {
        return Ok(std::sync::Arc::new(SsmRoutingConfig::new(clients.ssm().clone(), name.trim())));
    }
    if let Some(path) = spec.strip_prefix("file:").filter(|n| !n.trim().is_empty()) {
        return Ok(std::sync::Arc::new(crate::memory::MemoryRoutingConfig::file(path.trim())));
    }
    Err(format!("{spec:?}: expected dynamodb, ssm:/parameter/name or file:/path"))
}
