//! The work queues on SQS (and their dead-letter queues).

use super::errors::classify;
use super::time::ms_to_time;
use async_trait::async_trait;
use dropline_app::ports::{PortError, PortResult, QueueConsumer, ReceivedMessage, WorkQueue};
use dropline_domain::wire::messages::{Step, WorkMessage};
use std::collections::HashMap;

/// Queue URLs per step.
#[derive(Debug, Clone, Default)]
pub struct QueueUrls {
    pub urls: HashMap<Step, String>,
    pub dead_letter_urls: HashMap<Step, String>,
}

impl QueueUrls {
    pub fn with(mut self, step: Step, url: impl Into<String>) -> Self {
        self.urls.insert(step, url.into());
        self
    }
    pub fn with_dlq(mut self, step: Step, url: impl Into<String>) -> Self {
        self.dead_letter_urls.insert(step, url.into());
        self
    }
}

pub struct SqsWorkQueue {
    client: aws_sdk_sqs::Client,
    urls: QueueUrls,
    /// How long `receive` waits for messages (long polling), seconds.
    pub wait_seconds: i32,
}

impl SqsWorkQueue {
    pub fn new(client: aws_sdk_sqs::Client, urls: QueueUrls) -> Self {
        Self { client, urls, wait_seconds: 1 }
    }

    fn url(&self, step: Step) -> PortResult<&str> {
        self.urls
            .urls
            .get(&step)
            .map(String::as_str)
            .ok_or_else(|| PortError::Permanent(format!("no queue configured for step {step}")))
    }

    async fn dlq_url(&self, step: Step) -> PortResult<String> {
        if let Some(u) = self.urls.dead_letter_urls.get(&step) {
            return Ok(u.clone());
        }
        // Follow the queue's RedrivePolicy to its dead-letter queue.
        let url = self.url(step)?;
        let attrs = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|e| classify("GetQueueAttributes", e))?;
        let policy = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy))
            .ok_or_else(|| PortError::Permanent(format!("queue for {step} has no dead-letter queue")))?;
        let v: serde_json::Value =
            serde_json::from_str(policy).map_err(|e| PortError::Permanent(format!("RedrivePolicy: {e}")))?;
        let arn = v["deadLetterTargetArn"].as_str().unwrap_or_default();
        let name = arn.rsplit(':').next().unwrap_or_default();
        let out = self.client.get_queue_url().queue_name(name).send().await.map_err(|e| classify("GetQueueUrl", e))?;
        out.queue_url().map(String::from).ok_or_else(|| PortError::Permanent(format!("no URL for queue {name}")))
    }

    async fn receive_from(
        &self,
        url: &str,
        max: usize,
        visibility: Option<i32>,
        wait: i32,
    ) -> PortResult<Vec<ReceivedMessage>> {
        let mut req = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(i32::try_from(max.clamp(1, 10)).unwrap_or(10))
            .wait_time_seconds(wait)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp);
        if let Some(v) = visibility {
            req = req.visibility_timeout(v);
        }
        let out = req.send().await.map_err(|e| classify("ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .map(|m| {
                let attr = |k: aws_sdk_sqs::types::MessageSystemAttributeName| {
                    m.attributes().and_then(|a| a.get(&k)).and_then(|v| v.parse::<i64>().ok())
                };
                ReceivedMessage {
                    message_id: m.message_id().unwrap_or_default().to_string(),
                    receipt: m.receipt_handle().unwrap_or_default().to_string(),
                    body: m.body().unwrap_or_default().to_string(),
                    receive_count: attr(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|c| u32::try_from(c).ok())
                        .unwrap_or(1),
                    sent_at: ms_to_time(
                        attr(aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp).unwrap_or(0),
                    ),
                }
            })
            .collect())
    }

    async fn send_bodies(&self, url: &str, bodies: &[String]) -> PortResult<()> {
        for chunk in bodies.chunks(10) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(b)
                        .build()
                        .map_err(|e| PortError::Permanent(e.to_string()))
                })
                .collect::<PortResult<_>>()?;
            let mut pending = entries;
            for attempt in 0..3 {
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(url)
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|e| classify("SendMessageBatch", e))?;
                if out.failed().is_empty() {
                    break;
                }
                let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
                if attempt == 2 {
                    return Err(PortError::Transient(format!("SendMessageBatch: {} entries failed", failed.len())));
                }
                pending.retain(|e| failed.contains(&e.id()));
            }
        }
        Ok(())
    }
}

impl SqsWorkQueue {
    /// Sets the visibility of received messages (by receipt), ten per request.
    async fn change_visibility(&self, url: &str, receipts: &[String], seconds: u32) -> PortResult<()> {
        let seconds = i32::try_from(seconds).unwrap_or(i32::MAX);
        for chunk in receipts.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, receipt)| {
                    aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .receipt_handle(receipt)
                        .visibility_timeout(seconds)
                        .build()
                        .map_err(|e| PortError::Permanent(e.to_string()))
                })
                .collect::<PortResult<Vec<_>>>()?;
            self.client
                .change_message_visibility_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| classify("ChangeMessageVisibilityBatch", e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl WorkQueue for SqsWorkQueue {
    async fn enqueue(&self, step: Step, messages: &[WorkMessage]) -> PortResult<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let url = self.url(step)?.to_string();
        let bodies: Vec<String> = messages.iter().map(WorkMessage::to_json).collect();
        self.send_bodies(&url, &bodies).await
    }

    async fn keep_hidden(&self, step: Step, receipts: &[String], seconds: u32) -> PortResult<()> {
        let url = self.url(step)?.to_string();
        self.change_visibility(&url, receipts, seconds).await
    }
}

#[async_trait]
impl QueueConsumer for SqsWorkQueue {
    async fn receive(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        let url = self.url(step)?.to_string();
        self.receive_from(&url, max, None, self.wait_seconds).await
    }

    async fn delete(&self, step: Step, receipt: &str) -> PortResult<()> {
        let url = self.url(step)?;
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| classify("DeleteMessage", e))?;
        Ok(())
    }

    async fn peek_dead_letters(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        let url = self.dlq_url(step).await?;
        let mut out: Vec<ReceivedMessage> = Vec::new();
        // Receiving hides what it returns, so repeated receives page through the queue; each
        // message is then made visible again, leaving the queue as it was found.
        while out.len() < max {
            let page = self.receive_from(&url, max - out.len(), Some(30), 0).await?;
            if page.is_empty() {
                break;
            }
            out.extend(
                page.into_iter().filter(|m| !out.iter().any(|o| o.message_id == m.message_id)).collect::<Vec<_>>(),
            );
        }
        let receipts: Vec<String> = out.iter().map(|m| m.receipt.clone()).collect();
        self.change_visibility(&url, &receipts, 0).await?;
        Ok(out)
    }

    /// Moves dead letters back by hand (receive, send, delete): `StartMessageMoveTask` is not
    /// available on every SQS implementation.
    async fn redrive(&self, step: Step, max: usize) -> PortResult<usize> {
        let dlq = self.dlq_url(step).await?;
        let target = self.url(step)?.to_string();
        let mut moved = 0;
        while moved < max {
            let page = self.receive_from(&dlq, (max - moved).min(10), Some(30), 0).await?;
            if page.is_empty() {
                break;
            }
            let bodies: Vec<String> = page.iter().map(|m| m.body.clone()).collect();
            self.send_bodies(&target, &bodies).await?;
            for m in &page {
                self.client
                    .delete_message()
                    .queue_url(&dlq)
                    .receipt_handle(&m.receipt)
                    .send()
                    .await
                    .map_err(|e| classify("DeleteMessage(dlq)", e))?;
            }
            moved += page.len();
        }
        Ok(moved)
    }
}
