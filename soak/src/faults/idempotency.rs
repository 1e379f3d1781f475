//! The idempotency store, with faults.

use super::FaultPlan;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dropline_app::idempotency::IdempotencyRecord;
use dropline_app::ports::{IdempotencyStore, PortResult, PutOutcome};
use std::sync::Arc;

pub struct FaultyIdempotency {
    pub inner: Arc<dyn IdempotencyStore>,
    pub faults: Arc<FaultPlan>,
}

#[async_trait]
impl IdempotencyStore for FaultyIdempotency {
    async fn put_in_progress(&self, record: &IdempotencyRecord, now: DateTime<Utc>) -> PortResult<PutOutcome> {
        self.faults.around("idempotency.put", true, self.inner.put_in_progress(record, now)).await
    }
    async fn complete(&self, id: &str, data: &str, expiration: i64) -> PortResult<()> {
        self.faults.around("idempotency.complete", true, self.inner.complete(id, data, expiration)).await
    }
    async fn delete(&self, id: &str) -> PortResult<()> {
        self.faults.around("idempotency.delete", true, self.inner.delete(id)).await
    }
    async fn get(&self, id: &str) -> PortResult<Option<IdempotencyRecord>> {
        self.faults.around("idempotency.get", false, self.inner.get(id)).await
    }
}
