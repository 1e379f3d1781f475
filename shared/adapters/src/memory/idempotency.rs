//! Idempotency records in memory, with the conditional put of the DynamoDB adapter.

use super::counter::OpCounter;
use super::sync::lock;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dropline_app::idempotency::{IdempotencyRecord, IdempotencyStatus, may_overwrite};
use dropline_app::ports::{IdempotencyStore, PutOutcome};
use dropline_app::ports::{PortError, PortResult};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryIdempotencyStore {
    records: Mutex<HashMap<String, IdempotencyRecord>>,
    pub ops: OpCounter,
}

impl MemoryIdempotencyStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn put_in_progress(&self, record: &IdempotencyRecord, now: DateTime<Utc>) -> PortResult<PutOutcome> {
        self.ops.hit("put");
        let mut records = lock(&self.records);
        if let Some(existing) = records.get(&record.id)
            && !may_overwrite(existing, now)
        {
            return Ok(PutOutcome::Exists(existing.clone()));
        }
        records.insert(record.id.clone(), record.clone());
        Ok(PutOutcome::Acquired)
    }

    async fn complete(&self, id: &str, data: &str, expiration: i64) -> PortResult<()> {
        self.ops.hit("update");
        let mut records = lock(&self.records);
        let r = records.get_mut(id).ok_or_else(|| PortError::Conflict(format!("no idempotency record {id}")))?;
        r.status = IdempotencyStatus::Completed;
        r.data = Some(data.to_string());
        r.expiration = expiration;
        r.in_progress_expiration = None;
        Ok(())
    }

    async fn delete(&self, id: &str) -> PortResult<()> {
        self.ops.hit("delete");
        lock(&self.records).remove(id);
        Ok(())
    }

    async fn get(&self, id: &str) -> PortResult<Option<IdempotencyRecord>> {
        Ok(lock(&self.records).get(id).cloned())
    }
}
