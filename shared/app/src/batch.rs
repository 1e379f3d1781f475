//! Per-message processing of an SQS batch: each record on its own, only failures reported.

use crate::ports::PortError;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use dropline_domain::wire::messages::WorkMessage;
use std::future::Future;

/// Why a message was not processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// Try again later: the message goes back to the queue and is retried.
    #[error("retryable: {0}")]
    Retry(String),
    /// The message can never be processed: it fails on every receive and so reaches the
    /// dead-letter queue after maxReceiveCount, its reason logged each time.
    #[error("unprocessable: {0}")]
    Poison(String),
}

impl From<PortError> for StepError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Transient(_) | PortError::Conflict(_) => StepError::Retry(e.to_string()),
            PortError::Permanent(_) => StepError::Poison(e.to_string()),
        }
    }
}

/// Runs `handle` on each record of the batch, separately and concurrently (a slow supplier does
/// not make its batch-mates wait), and reports only the failed ones, so one bad message never
/// fails its batch-mates.
pub async fn process_batch<F, Fut>(step: &str, event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(WorkMessage) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let work = event.records.into_iter().map(|record| {
        let message_id = record.message_id.clone().unwrap_or_default();
        let receive_count = record.attributes.get("ApproximateReceiveCount").cloned().unwrap_or_default();
        let parsed = WorkMessage::parse(record.body.as_deref().unwrap_or(""));
        let handle = &handle;
        async move {
            let message = match parsed {
                Ok(m) => m,
                Err(reason) => {
                    tracing::error!(
                        step,
                        message_id,
                        receive_count,
                        reason,
                        "poison message: cannot be parsed; it will reach the dead-letter queue"
                    );
                    return Some(message_id);
                }
            };
            let order_id = message.order_id.to_string();
            match handle(message).await {
                Ok(()) => None,
                Err(StepError::Retry(reason)) => {
                    tracing::warn!(step, message_id, order_id, receive_count, reason, "message will be retried");
                    Some(message_id)
                }
                Err(StepError::Poison(reason)) => {
                    tracing::error!(
                        step,
                        message_id,
                        order_id,
                        receive_count,
                        reason,
                        "poison message: cannot be processed; it will reach the dead-letter queue"
                    );
                    Some(message_id)
                }
            }
        }
    });
    let mut response = SqsBatchResponse::default();
    for failed in futures_util::future::join_all(work).await.into_iter().flatten() {
        fail(&mut response, failed);
    }
    response
}

fn fail(response: &mut SqsBatchResponse, message_id: String) {
    if message_id.is_empty() {
        // Lambda treats an empty identifier as a failure of the whole batch; a record without an
        // id cannot be reported alone, so this is the only safe answer for it.
        tracing::error!("record without a message id; failing it");
    }
    response.add_failure(message_id);
}
