//! The work queues between steps: handing work on, and consuming it.

use super::PortResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dropline_domain::wire::messages::{Step, WorkMessage};

/// Hands work to the next step (an SQS queue per step in AWS).
#[async_trait]
pub trait WorkQueue: Send + Sync {
    async fn enqueue(&self, step: Step, messages: &[WorkMessage]) -> PortResult<()>;
    /// Keeps messages this invocation received from `step`'s queue (by receipt) hidden for
    /// `seconds` from now, whatever the queue's visibility timeout (SQS
    /// ChangeMessageVisibility): a lease on the message as long as its holder lives.
    async fn keep_hidden(&self, step: Step, receipts: &[String], seconds: u32) -> PortResult<()>;
}

/// A message taken from a step's queue (what Lambda's SQS event source mapping hands a function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Handle for deleting this receipt of the message.
    pub receipt: String,
    pub body: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
    pub sent_at: DateTime<Utc>,
}

/// The consuming side of the work queues: used by the local runner (playing Lambda's event source
/// mapping), the operator CLI (dead-letter queues) and tests. Lambda itself consumes in AWS.
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Up to `max` visible messages, hidden for the visibility timeout. A message received more
    /// than the queue's maxReceiveCount times moves to the dead-letter queue instead.
    async fn receive(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>>;
    async fn delete(&self, step: Step, receipt: &str) -> PortResult<()>;
    /// Messages in the step's dead-letter queue, left there as they were.
    async fn peek_dead_letters(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>>;
    /// Moves up to `max` dead letters back to the step's queue; returns how many moved.
    async fn redrive(&self, step: Step, max: usize) -> PortResult<usize>;
}
