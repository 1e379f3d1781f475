//! The simulation on the real emulators: orders and idempotency records in DynamoDB Local, the
//! catalog, stock ledger and outcome ledger in its catalog table, work queues in moto's SQS and
//! events through moto's EventBridge, each through Dropline's own AWS adapter (the real SDK over
//! HTTP) behind the same fault wrappers. The checker reads DynamoDB's state: orders through a view
//! that follows every write DynamoDB accepted (checked against DynamoDB at the end), the ledgers
//! by reading the catalog table, events as EventBridge acknowledged them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dropline_adapters::aws::{
    AwsClients, DynamoCatalog, DynamoIdempotencyStore, DynamoOrderStore, EventBridgePublisher, SqsWorkQueue,
};
use dropline_adapters::memory::{MemoryEventBus, MemoryOrderStore};
use dropline_app::ports::{Created, EventPublisher, IndexPosition, OrderRef, OrderStore, PortResult};
use dropline_domain::order::{OrderRecord, OrderStatus};
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::validation::duplicates::{CustomerKey, PriorOrder};
use dropline_domain::wire::events::DomainEvent;
use dropline_local::provision::{Infra, QueueSettings, provision};
use std::sync::Arc;

/// The emulator-backed adapters and what the checker reads them through.
pub struct Emulated {
    pub aws: AwsClients,
    pub infra: Infra,
    pub orders: Arc<DynamoOrderStore>,
    pub idempotency: Arc<DynamoIdempotencyStore>,
    pub catalog: Arc<DynamoCatalog>,
    pub queues: Arc<SqsWorkQueue>,
    pub events: Arc<EventBridgePublisher>,
}

impl Emulated {
    /// Fresh tables, queues and a bus under a unique prefix. Messages a handler did not delete
    /// come back at once (visibility 0): the simulation's time is not SQS's.
    pub async fn provision() -> Result<Self, String> {
        let aws = AwsClients::from_env().await;
        let prefix = format!("soak-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let infra = provision(&aws, &prefix, QueueSettings { visibility_timeout_s: 0, max_receive_count: 5 }).await?;
        Ok(Self {
            orders: Arc::new(DynamoOrderStore::new(aws.dynamodb().clone(), &infra.orders_table)),
            idempotency: Arc::new(DynamoIdempotencyStore::new(aws.dynamodb().clone(), &infra.idempotency_table)),
            catalog: Arc::new(DynamoCatalog::new(aws.dynamodb().clone(), &infra.catalog_table)),
            // Short polls: the runner pumps until a queue is empty, and an empty long poll
            // would cost a second of every round.
            queues: Arc::new({
                let mut q = SqsWorkQueue::new(aws.sqs().clone(), infra.queues.clone());
                q.wait_seconds = 0;
                q
            }),
            events: Arc::new(EventBridgePublisher::new(aws.eventbridge().clone(), &infra.event_bus)),
            aws,
            infra,
        })
    }
}

/// The DynamoDB order store, with every record it accepted or returned copied into a memory view.
pub struct Followed {
    pub real: Arc<DynamoOrderStore>,
    pub view: Arc<MemoryOrderStore>,
}

#[async_trait]
impl OrderStore for Followed {
    async fn create(&self, record: &OrderRecord) -> PortResult<Created> {
        let created = self.real.create(record).await?;
        match &created {
            Created::Created(r) | Created::Existing(r) => self.view.put(r.clone()),
        }
        Ok(created)
    }
    async fn get(&self, id: &OrderId) -> PortResult<Option<OrderRecord>> {
        self.real.get(id).await
    }
    async fn save(&self, record: &OrderRecord) -> PortResult<OrderRecord> {
        let stored = self.real.save(record).await?;
        self.view.put(stored.clone());
        Ok(stored)
    }
    async fn in_status_since_before(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&OrderRef>,
    ) -> PortResult<Vec<OrderRef>> {
        self.real.in_status_since_before(status, before, limit, after).await
    }
    async fn tracking_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        after: Option<&IndexPosition>,
        slice: dropline_app::sharding::Slice,
    ) -> PortResult<Vec<IndexPosition>> {
        self.real.tracking_due(now, limit, after, slice).await
    }
    async fn outbox_due(
        &self,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&IndexPosition>,
    ) -> PortResult<Vec<IndexPosition>> {
        self.real.outbox_due(before, limit, after).await
    }
    async fn sweep_cursor(&self, sweep: &str) -> PortResult<Option<IndexPosition>> {
        self.real.sweep_cursor(sweep).await
    }
    async fn save_sweep_cursor(&self, sweep: &str, cursor: Option<&IndexPosition>) -> PortResult<()> {
        self.real.save_sweep_cursor(sweep, cursor).await
    }
    async fn same_customer(
        &self,
        key: &CustomerKey,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> PortResult<Vec<PriorOrder>> {
        self.real.same_customer(key, from, to).await
    }
}

/// EventBridge, with every batch it acknowledged also kept for the checker.
pub struct Recorded {
    pub real: Arc<EventBridgePublisher>,
    pub view: Arc<MemoryEventBus>,
}

#[async_trait]
impl EventPublisher for Recorded {
    async fn publish(&self, events: &[DomainEvent]) -> PortResult<()> {
        self.real.publish(events).await?;
        self.view.publish(events).await
    }
}

/// Orders in the view that DynamoDB holds differently (the view must be DynamoDB's state).
pub async fn view_differences(real: &DynamoOrderStore, view: &MemoryOrderStore) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for r in view.all() {
        match real.get(&r.id).await.map_err(|e| e.to_string())? {
            Some(stored) if stored == r => {}
            Some(stored) => {
                out.push(format!("{}: DynamoDB has version {}, the view {}", r.id, stored.version, r.version))
            }
            None => out.push(format!("{}: not in DynamoDB", r.id)),
        }
    }
    Ok(out)
}
