//! Idempotency records, with the protocol of Powertools for AWS Lambda:
//!
//! * `begin` writes an INPROGRESS record with one conditional put: it succeeds when no record
//!   exists, the record has expired, or an INPROGRESS lock has passed its `in_progress_expiration`.
//! * An existing record with a different payload hash is an error; a COMPLETED one returns the
//!   stored result without running again; a live INPROGRESS one is "already in progress".
//! * `complete` stores the result with a fresh expiry; `abandon` deletes the record so a retry
//!   runs again.
//!
//! The lock lasts until the invocation's deadline (so a timed-out invocation frees the key), or a
//! caller-chosen duration for side effects that must never run twice.

use crate::ports::{IdempotencyStore, PortError, PutOutcome};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdempotencyStatus {
    #[serde(rename = "INPROGRESS")]
    InProgress,
    Completed,
}

impl IdempotencyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "INPROGRESS",
            Self::Completed => "COMPLETED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub id: String,
    pub status: IdempotencyStatus,
    /// Epoch seconds; also the DynamoDB TTL attribute.
    pub expiration: i64,
    /// Epoch milliseconds; only for INPROGRESS.
    pub in_progress_expiration: Option<i64>,
    /// The stored result (JSON text) of a completed operation.
    pub data: Option<String>,
    /// Hash of the payload: the same key with another payload is an error.
    pub validation: String,
}

impl IdempotencyRecord {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now.timestamp() > self.expiration
    }
    pub fn lock_expired(&self, now: DateTime<Utc>) -> bool {
        self.status == IdempotencyStatus::InProgress
            && self.in_progress_expiration.is_some_and(|ms| ms < now.timestamp_millis())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyError {
    #[error("operation {0} is already in progress")]
    InProgress(String),
    #[error("idempotency key {0} was used with a different payload")]
    PayloadMismatch(String),
    #[error(transparent)]
    Store(#[from] PortError),
}

/// What `begin` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// Run the operation, then `complete` or `abandon`.
    Proceed,
    /// Already done: here is the stored result.
    Completed(String),
}

/// The idempotency protocol over any store.
pub struct Idempotency<S: ?Sized> {
    store: std::sync::Arc<S>,
    /// How long a completed result is kept (and replayed).
    pub ttl: Duration,
}

impl<S: IdempotencyStore + ?Sized> Idempotency<S> {
    pub fn new(store: std::sync::Arc<S>, ttl: Duration) -> Self {
        Self { store, ttl }
    }

    /// The same store, keeping completed records for `ttl` instead (claims that must outlive
    /// any replay of what they protect).
    pub fn with_ttl(&self, ttl: Duration) -> Self {
        Self { store: self.store.clone(), ttl }
    }

    /// Tries to take the key. `lock_until` is the invocation's deadline (or a longer lock for
    /// side effects that must never repeat). A `lock_until` not after `now` still locks until
    /// `now`: it is never treated as "no deadline".
    pub async fn begin(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
    ) -> Result<Begin, IdempotencyError> {
        let lock_until = lock_until.max(now);
        let record = IdempotencyRecord {
            id: key.to_string(),
            status: IdempotencyStatus::InProgress,
            expiration: (now + self.ttl).timestamp(),
            in_progress_expiration: Some(lock_until.timestamp_millis()),
            data: None,
            validation: payload_hash.to_string(),
        };
        let existing = match self.store.put_in_progress(&record, now).await? {
            PutOutcome::Acquired => return Ok(Begin::Proceed),
            PutOutcome::Exists(existing) => existing,
        };
        if existing.validation != payload_hash {
            return Err(IdempotencyError::PayloadMismatch(key.to_string()));
        }
        match existing.status {
            IdempotencyStatus::Completed => Ok(Begin::Completed(existing.data.unwrap_or_default())),
            IdempotencyStatus::InProgress => Err(IdempotencyError::InProgress(key.to_string())),
        }
    }

    pub async fn complete(&self, key: &str, data: &str, now: DateTime<Utc>) -> Result<(), IdempotencyError> {
        Ok(self.store.complete(key, data, (now + self.ttl).timestamp()).await?)
    }

    /// Frees the key after a failure, so a retry runs the operation again.
    pub async fn abandon(&self, key: &str) -> Result<(), IdempotencyError> {
        Ok(self.store.delete(key).await?)
    }
}

/// SHA-256 hex of a payload, for `validation`.
pub fn payload_hash(payload: &[u8]) -> String {
    hex::encode(Sha256::digest(payload))
}

/// The condition DynamoDB evaluates, for stores that evaluate it themselves (memory).
pub fn may_overwrite(existing: &IdempotencyRecord, now: DateTime<Utc>) -> bool {
    existing.is_expired(now) || existing.lock_expired(now)
}
