//! AWS adapters: DynamoDB (orders, idempotency, catalog, stock, outcomes, the routing
//! configuration item), SQS (work queues), EventBridge (domain events) and SSM Parameter Store
//! (secrets, the routing configuration parameter). One file per port or service; one cargo
//! feature per service. The same code runs against AWS and against the local emulators
//! (DynamoDB Local, moto), selected by the standard `AWS_ENDPOINT_URL_*` variables.

#[cfg(feature = "dynamodb")]
mod capacity_meter;
mod clients;
mod errors;
#[cfg(feature = "dynamodb")]
mod items;
mod request_counter;
#[cfg(any(feature = "dynamodb", feature = "sqs"))]
mod time;

#[cfg(feature = "dynamodb")]
mod catalog;
#[cfg(feature = "eventbridge")]
mod eventbridge;
#[cfg(feature = "dynamodb")]
mod idempotency;
#[cfg(feature = "dynamodb")]
mod order_body;
#[cfg(feature = "dynamodb")]
pub use order_body::StoredBody;
#[cfg(feature = "dynamodb")]
mod orders;
#[cfg(feature = "dynamodb")]
mod outcomes;
#[cfg(feature = "dynamodb")]
mod scan;
#[cfg(feature = "dynamodb")]
mod upgrade;
#[cfg(feature = "dynamodb")]
pub use outcomes::PERFORMANCE_SHARDS;
#[cfg(feature = "dynamodb")]
pub use upgrade::Backfill;
#[cfg(feature = "dynamodb")]
mod routing_config;
#[cfg(feature = "dynamodb")]
pub mod shards;
#[cfg(feature = "sqs")]
mod sqs;
#[cfg(feature = "ssm")]
mod ssm;
#[cfg(feature = "dynamodb")]
mod stock;

#[cfg(feature = "dynamodb")]
pub use capacity_meter::{CapacityMeter, KeyHeat, Metered, Units};
#[cfg(feature = "dynamodb")]
pub use catalog::DynamoCatalog;
pub use clients::AwsClients;
pub use errors::classify;
#[cfg(feature = "eventbridge")]
pub use eventbridge::EventBridgePublisher;
#[cfg(feature = "dynamodb")]
pub use idempotency::DynamoIdempotencyStore;
#[cfg(feature = "dynamodb")]
pub use orders::{
    ADDRESS_INDEX, DUPLICATE_INDEX_ATTRIBUTES, DynamoOrderStore, EMAIL_INDEX, INDEX_PARTITION_KEYS, OUTBOX_INDEX,
    STATUS_INDEX, TRACKING_INDEX,
};
pub use request_counter::RequestCounter;
#[cfg(feature = "dynamodb")]
pub use routing_config::DynamoRoutingConfig;
#[cfg(all(feature = "dynamodb", feature = "ssm"))]
pub use routing_config::SsmRoutingConfig;
#[cfg(all(feature = "dynamodb", feature = "ssm", feature = "memory"))]
pub use routing_config::routing_config_store;
#[cfg(feature = "sqs")]
pub use sqs::{QueueUrls, SqsWorkQueue};
#[cfg(feature = "ssm")]
pub use ssm::{SsmSecrets, load_secret, load_secrets, load_secrets_under};
