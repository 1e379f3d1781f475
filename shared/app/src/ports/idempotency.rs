//! Storage for idempotency records (DynamoDB in AWS; memory for the demo and tests).

use super::PortResult;
use crate::idempotency::IdempotencyRecord;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// What `put_in_progress` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    Acquired,
    /// The condition failed; the record that blocked it.
    Exists(IdempotencyRecord),
}

/// Storage for idempotency records (DynamoDB in AWS).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Puts `record` if `attribute_not_exists(id) OR expiration < now_s OR (status = INPROGRESS
    /// AND in_progress_expiration < now_ms)`; otherwise returns the existing record.
    async fn put_in_progress(&self, record: &IdempotencyRecord, now: DateTime<Utc>) -> PortResult<PutOutcome>;
    /// Marks the record COMPLETED with `data` and a new `expiration`.
    async fn complete(&self, id: &str, data: &str, expiration: i64) -> PortResult<()>;
    async fn delete(&self, id: &str) -> PortResult<()>;
    async fn get(&self, id: &str) -> PortResult<Option<IdempotencyRecord>>;
}
