//! Work queues, with faults: enqueues that fail or are lost after acting, messages delivered
//! twice, batches delivered out of order, deletes that fail (the message comes back after its
//! visibility timeout).

use super::FaultPlan;
use async_trait::async_trait;
use dropline_app::ports::{PortResult, QueueConsumer, ReceivedMessage, WorkQueue};
use dropline_domain::wire::messages::{Step, WorkMessage};
use std::sync::Arc;

pub struct FaultyQueues<Q: ?Sized> {
    pub inner: Arc<Q>,
    pub faults: Arc<FaultPlan>,
}

#[async_trait]
impl<Q: WorkQueue + QueueConsumer + ?Sized + 'static> WorkQueue for FaultyQueues<Q> {
    async fn enqueue(&self, step: Step, messages: &[WorkMessage]) -> PortResult<()> {
        self.faults.around("queue.enqueue", true, self.inner.enqueue(step, messages)).await?;
        if self.faults.duplicate("queue.enqueue") {
            // At-least-once: the same message arrives again.
            self.inner.enqueue(step, messages).await?;
        }
        Ok(())
    }
    async fn keep_hidden(&self, step: Step, receipts: &[String], seconds: u32) -> PortResult<()> {
        self.faults.around("queue.keep_hidden", true, self.inner.keep_hidden(step, receipts, seconds)).await
    }
}

#[async_trait]
impl<Q: WorkQueue + QueueConsumer + ?Sized + 'static> QueueConsumer for FaultyQueues<Q> {
    async fn receive(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        let mut batch = self.inner.receive(step, max).await?;
        self.faults.reorder("queue.receive", &mut batch);
        Ok(batch)
    }
    async fn delete(&self, step: Step, receipt: &str) -> PortResult<()> {
        self.faults.around("queue.delete", false, self.inner.delete(step, receipt)).await
    }
    async fn peek_dead_letters(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        self.inner.peek_dead_letters(step, max).await
    }
    async fn redrive(&self, step: Step, max: usize) -> PortResult<usize> {
        self.inner.redrive(step, max).await
    }
}
