//! The whole pipeline in one process: the six handlers, and a runner that plays Lambda's SQS
//! event source mapping (batches of up to 10, partial batch failures, deletes only what
//! succeeded; redrive to the dead-letter queue is the queue's own) and the schedules.
//! Used by the demo (memory adapters), `make dev` and the tests (emulators).

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use dropline_app::caches::ConfigCache;
use dropline_app::caches::MeasuredCache;
use dropline_app::idempotency::Idempotency;
use dropline_app::ports::IdempotencyStore;
use dropline_app::ports::{
    CarrierTracker, Catalog, Clock, EventPublisher, OrderStore, OutcomeLedger, PortResult, QueueConsumer,
    ReceivedMessage, StockLedger, SupplierGateway, WorkQueue,
};
use dropline_domain::escalation::Thresholds;
use dropline_domain::validation::ValidationPolicy;
use dropline_domain::validation::duplicates::FingerprintKey;
use dropline_domain::wire::messages::Step;
use dropline_domain::wire::secrets::SecretBook;

/// The fingerprint key of the demo and the tests when none is configured.
pub const LOCAL_FINGERPRINT_KEY: &str = "dropline-local-fingerprint-key";
use dropline_escalate::{Escalate, EscalationSummary};
use dropline_ingest::Ingest;
use dropline_notify_supplier::NotifySupplier;
use dropline_poll_tracking::{PollSummary, PollTracking};
use dropline_route::Route;
use dropline_validate::Validate;
use std::collections::HashSet;
use std::sync::Arc;

/// Everything the six handlers need from the outside, as ports: memory adapters for the demo,
/// AWS adapters on the emulators for `make dev` and the tests.
pub struct Ports {
    pub store: Arc<dyn OrderStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub queue: Arc<dyn WorkQueue>,
    /// What plays Lambda's event source mapping (receives and deletes).
    pub consumer: Arc<dyn QueueConsumer>,
    pub events: Arc<dyn EventPublisher>,
    pub catalog: Arc<dyn Catalog>,
    /// Stock reservations (the catalog's adapter).
    pub stock: Arc<dyn StockLedger>,
    pub gateway: Arc<dyn SupplierGateway>,
    pub tracker: Arc<dyn CarrierTracker>,
    pub clock: Arc<dyn Clock>,
    pub secrets: SecretBook,
    pub policy: ValidationPolicy,
    pub thresholds: Thresholds,
    /// The routing configuration route works with.
    pub routing: Arc<ConfigCache>,
    /// Supplier outcomes (the catalog's adapter).
    pub outcomes: Arc<dyn OutcomeLedger>,
    /// The queues' visibility timeout, which notify-supplier gives a failed message back after
    /// leasing its messages for its own lifetime; None where the queue's clock is not the
    /// handlers' (then nothing is leased).
    pub queue_visibility: Option<chrono::Duration>,
}

pub struct Pipeline {
    pub ingest: Arc<Ingest>,
    pub validate: Arc<Validate>,
    pub route: Arc<Route>,
    pub notify: Arc<NotifySupplier>,
    pub poll: Arc<PollTracking>,
    pub escalate: Arc<Escalate>,
    pub consumer: Arc<dyn QueueConsumer>,
}

/// How long the runner lets one invocation run, as a Lambda timeout would, and the deadline it
/// gives notify-supplier (whose send locks end 5 s after it). Shorter than the local queues'
/// visibility timeout by more than that margin, so when a crashed invocation's message comes
/// back its locks have ended and the first redelivery sends.
pub const INVOCATION_SECONDS: u32 = 20;
const _: () = assert!(
    INVOCATION_SECONDS as i64 + dropline_notify_supplier::LEASE_MARGIN_SECONDS
        < crate::provision::QUEUE_VISIBILITY_SECONDS as i64
);

/// What one pass over a queue did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pumped {
    pub received: usize,
    pub failed: usize,
}

/// Builds the SQS event Lambda would hand a function for these messages.
pub fn sqs_event(messages: &[ReceivedMessage]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for m in messages {
        let mut record = SqsMessage::default();
        record.message_id = Some(m.message_id.clone());
        record.receipt_handle = Some(m.receipt.clone());
        record.body = Some(m.body.clone());
        record.attributes.insert("ApproximateReceiveCount".into(), m.receive_count.to_string());
        record.attributes.insert("SentTimestamp".into(), m.sent_at.timestamp_millis().to_string());
        record.event_source = Some("aws:sqs".into());
        event.records.push(record);
    }
    event
}

impl Pipeline {
    /// Wires the six handlers on `ports`, with the settings the Lambda functions use.
    pub fn wire(p: Ports) -> Pipeline {
        // The configured key (`fingerprints`), or the local runner's own.
        let fingerprints = FingerprintKey::new(
            p.secrets.get("fingerprints").first().map(String::as_str).unwrap_or(LOCAL_FINGERPRINT_KEY),
        );
        Pipeline {
            ingest: Arc::new(Ingest {
                store: p.store.clone(),
                idempotency: Idempotency::new(p.idempotency.clone(), chrono::Duration::hours(24)),
                queue: p.queue.clone(),
                events: p.events.clone(),
                secrets: dropline_app::secrets::SecretCache::fixed(p.secrets),
                clock: p.clock.clone(),
                stock: p.stock.clone(),
                outcomes: p.outcomes.clone(),
                time_zones: Default::default(),
            }),
            validate: Arc::new(Validate {
                store: p.store.clone(),
                catalog: p.catalog.clone(),
                queue: p.queue.clone(),
                events: p.events.clone(),
                policy: p.policy.clone(),
                clock: p.clock.clone(),
                fingerprints,
            }),
            route: Arc::new(Route {
                policy: p.policy.clone(),
                config: p.routing,
                // Read afresh for every order: the demo and the tests see each outcome at once.
                measured: Arc::new(MeasuredCache::new(p.outcomes.clone(), std::time::Duration::ZERO)),
                outcomes: p.outcomes.clone(),
                stock: p.stock.clone(),
                store: p.store.clone(),
                catalog: p.catalog.clone(),
                queue: p.queue.clone(),
                events: p.events.clone(),
                clock: p.clock.clone(),
            }),
            notify: Arc::new(NotifySupplier {
                store: p.store.clone(),
                catalog: p.catalog,
                stock: p.stock.clone(),
                queue: p.queue.clone(),
                gateway: p.gateway,
                idempotency: Idempotency::new(p.idempotency, chrono::Duration::days(7)),
                events: p.events.clone(),
                clock: p.clock.clone(),
                // The function's timeout (infra/template.yaml): a send's lock ends with it.
                send_lock: chrono::Duration::seconds(30),
                retry_after: p.queue_visibility,
            }),
            poll: Arc::new(PollTracking {
                store: p.store.clone(),
                tracker: p.tracker,
                events: p.events.clone(),
                clock: p.clock.clone(),
                batch_size: dropline_poll_tracking::DEFAULT_BATCH_SIZE,
                concurrency: dropline_poll_tracking::DEFAULT_CONCURRENCY,
            }),
            escalate: Arc::new(Escalate {
                store: p.store,
                queue: p.queue,
                events: p.events,
                clock: p.clock,
                outcomes: p.outcomes,
                thresholds: p.thresholds,
                batch_size: dropline_escalate::DEFAULT_BATCH_SIZE,
                concurrency: dropline_escalate::DEFAULT_CONCURRENCY,
            }),
            consumer: p.consumer,
        }
    }

    /// Receives one batch from `step`'s queue, runs the step's handler on it and deletes the
    /// messages it did not report as failed.
    pub async fn pump(&self, step: Step) -> PortResult<Pumped> {
        let batch = self.consumer.receive(step, 10).await?;
        if batch.is_empty() {
            return Ok(Pumped::default());
        }
        let event = sqs_event(&batch);
        let invocation = async {
            match step {
                Step::Validate => self.validate.handle(event).await,
                Step::Route => self.route.handle(event).await,
                Step::NotifySupplier => {
                    let deadline = self.notify.clock.now() + chrono::Duration::seconds(INVOCATION_SECONDS.into());
                    self.notify.handle_by(event, Some(deadline)).await
                }
            }
        };
        // As Lambda would: the invocation ends by its timeout, and then none of its messages is
        // deleted (they come back after their visibility timeout).
        // Notify-supplier's deadline (its locks end after it); the others get Lambda's 30 s.
        let seconds = if step == Step::NotifySupplier { INVOCATION_SECONDS } else { 30 };
        let budget = std::time::Duration::from_secs(seconds.into());
        let Ok(response) = tokio::time::timeout(budget, invocation).await else {
            tracing::warn!(step = %step, messages = batch.len(), "invocation timed out; its messages come back");
            return Ok(Pumped { received: batch.len(), failed: batch.len() });
        };
        let failed: HashSet<String> = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
        for m in &batch {
            if !failed.contains(&m.message_id) {
                self.consumer.delete(step, &m.receipt).await?;
            }
        }
        Ok(Pumped { received: batch.len(), failed: failed.len() })
    }

    /// Pumps every queue until a full pass receives nothing. Returns messages handled.
    pub async fn drain(&self) -> PortResult<usize> {
        let mut total = 0;
        loop {
            let mut pass = 0;
            for step in Step::ALL {
                loop {
                    let p = self.pump(step).await?;
                    pass += p.received;
                    if p.received == 0 || p.failed == p.received {
                        break;
                    }
                }
            }
            total += pass;
            if pass == 0 {
                return Ok(total);
            }
        }
    }

    pub async fn poll_tracking(&self) -> PollSummary {
        match self.poll.run().await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "tracking run failed");
                PollSummary { errors: 1, ..Default::default() }
            }
        }
    }

    pub async fn escalate(&self) -> EscalationSummary {
        match self.escalate.run().await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "escalation run failed");
                EscalationSummary { errors: 1, ..Default::default() }
            }
        }
    }
}
