//! Escalate: on a schedule, finds orders overdue in their status (through the `by-status`
//! index, never a scan), records an escalation on each, re-enqueues work that got stuck in an
//! automatic step, and publishes `OrderEscalated`. It also enforces acknowledgment deadlines:
//! a purchase order its supplier did not acknowledge by its promise's `ack_by` is cancelled,
//! the supplier excluded, and the order sent back to routing (route gives the units back).
//!
//! Overlapping runs escalate nothing twice: an escalation is identified by (kind, status episode,
//! round) and recorded under the order's version check; only the run whose write lands
//! re-enqueues and publishes.

use chrono::{DateTime, Utc};
use dropline_app::batch::StepError;
use dropline_app::order_update::update_order;
use dropline_app::outbox;
use dropline_app::outcomes::record_outcomes;
use dropline_app::ports::{Clock, EventPublisher, IndexPosition, OrderRef, OrderStore, OutcomeLedger, WorkQueue};
use dropline_app::reroute::request_reroute;
use dropline_domain::escalation::{Thresholds, plan};
use dropline_domain::order::EventType;
use dropline_domain::order::{OrderStatus, PoStatus};
use dropline_domain::performance::OutcomeSlot;
use dropline_domain::primitives::ids::PurchaseOrderId;
use dropline_domain::routing::config::MIN_ACK_DEADLINE_HOURS;
use dropline_domain::wire::messages::{Step, WorkMessage};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

pub const ACTOR: &str = "escalate";

/// How many pages of `batch_size` rows one status may scan in one run.
const MAX_PAGES: usize = 10;

pub struct Escalate {
    pub store: Arc<dyn OrderStore>,
    pub queue: Arc<dyn WorkQueue>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
    /// A missed acknowledgment deadline counts against the supplier's performance.
    pub outcomes: Arc<dyn OutcomeLedger>,
    pub thresholds: Thresholds,
    /// Orders escalated per status per run (and the page size of the index query).
    pub batch_size: usize,
    /// Orders worked at once (each a read, a conditional write, a publish): a page is taken in
    /// chunks of this many, and a sweep's cursor moves past a chunk only once all of it is done.
    pub concurrency: usize,
}

/// Orders worked at once by default: a run of 100 pages of 100 takes minutes, not an hour, at
/// DynamoDB's and EventBridge's tens of milliseconds a request.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Orders per index page (and escalated per status per run) by default.
pub const DEFAULT_BATCH_SIZE: usize = 100;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationSummary {
    /// Overdue orders looked at (some already escalated in their current round).
    pub overdue: usize,
    pub escalated: usize,
    pub requeued: usize,
    /// Escalations by kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Purchase orders cancelled for a missed acknowledgment deadline (their orders rerouted).
    pub ack_deadlines_missed: usize,
    /// Events left in orders' outboxes, published by the sweep.
    pub events_republished: usize,
    pub errors: usize,
}

impl EscalationSummary {
    /// Adds what one order's work (run beside others) counted.
    fn absorb(&mut self, other: EscalationSummary) {
        self.overdue += other.overdue;
        self.escalated += other.escalated;
        self.requeued += other.requeued;
        for (kind, n) in other.by_kind {
            *self.by_kind.entry(kind).or_default() += n;
        }
        self.ack_deadlines_missed += other.ack_deadlines_missed;
        self.events_republished += other.events_republished;
        self.errors += other.errors;
    }
}

/// The run's time, shared out between its sweeps: each gets an equal share of what is left,
/// so a slow one (a status full of poisoned orders) cannot starve the ones after it. A sweep out
/// of time stops where it is; its cursor says where the next run goes on.
struct Budget {
    until: Option<Instant>,
}

impl Budget {
    fn share(total_until: Option<Instant>, sweeps_left: u32) -> Self {
        let until = total_until.map(|end| {
            let now = Instant::now();
            now + end.saturating_duration_since(now) / sweeps_left.max(1)
        });
        Self { until }
    }
    fn spent(&self) -> bool {
        self.until.is_some_and(|u| Instant::now() >= u)
    }
}

/// A row of an index page, as a sweep's cursor.
trait Position {
    fn position(&self) -> IndexPosition;
}

impl Position for OrderRef {
    fn position(&self) -> IndexPosition {
        self.into()
    }
}

impl Position for IndexPosition {
    fn position(&self) -> IndexPosition {
        self.clone()
    }
}

/// Where one run of a paged sweep begins, ends, and what it met.
struct Pass {
    name: String,
    /// The last row handled: the next page (and the next run) starts after it.
    after: Option<IndexPosition>,
    scanned: usize,
    acted: usize,
    /// The index held nothing more: the next run starts over from the oldest row.
    finished: bool,
}

impl Pass {
    fn reached(&mut self, row: IndexPosition) {
        self.scanned += 1;
        self.after = Some(row);
    }
    /// The cursor as a row of the status index.
    fn at(&self, status: OrderStatus) -> Option<OrderRef> {
        self.after.as_ref().map(|p| OrderRef { id: p.id.clone(), status, status_since: p.at })
    }
}

impl Escalate {
    /// Works `rows` (one index page, oldest first) `concurrency` at a time, each through `work`
    /// (true when it acted), until the budget is spent: a chunk is started only with time left,
    /// and the pass's cursor moves past a chunk once every row of it is done, so a run stopped
    /// by its budget (or a crash) leaves no row behind the cursor unworked. Returns how many
    /// rows acted.
    async fn work_page<'a, R, F>(
        &self,
        rows: &'a [R],
        pass: &mut Pass,
        budget: &Budget,
        summary: &mut EscalationSummary,
        work: F,
    ) -> usize
    where
        R: Position,
        F: Fn(&'a R) -> futures_util::future::BoxFuture<'a, (bool, EscalationSummary)>,
    {
        let mut acted = 0;
        for chunk in rows.chunks(self.concurrency.max(1)) {
            if budget.spent() {
                break;
            }
            for (did, part) in futures_util::future::join_all(chunk.iter().map(&work)).await {
                acted += usize::from(did);
                summary.absorb(part);
            }
            for row in chunk {
                pass.reached(row.position());
            }
        }
        acted
    }

    /// One run with no time limit (tests, the local runner).
    pub async fn run(&self) -> Result<EscalationSummary, StepError> {
        self.run_within(None).await
    }

    /// One run that stops its sweeps by `budget` (Lambda's remaining time less a margin).
    /// Acknowledgment deadlines go first (a late one costs a supplier's shipment), then the
    /// outboxes, then each status's threshold. Every sweep keeps a cursor between runs, so an
    /// overdue order is reached within a bounded number of runs, whatever sits ahead of it in
    /// the index: at most (rows ahead of it) / (rows one run reads) runs.
    pub async fn run_within(&self, budget: Option<std::time::Duration>) -> Result<EscalationSummary, StepError> {
        let now = self.clock.now();
        let until = budget.map(|b| Instant::now() + b);
        let mut summary = EscalationSummary::default();
        let statuses: Vec<_> = self.thresholds.iter().collect();
        let mut sweeps_left = u32::try_from(statuses.len() + 3).unwrap_or(u32::MAX);

        // Orders younger than the shortest deadline in their status can't have a late purchase
        // order. Orders with an unacknowledged purchase order are ROUTED (another still pending)
        // or SUBMITTED (not all acknowledged).
        let before = now - chrono::Duration::hours(i64::from(MIN_ACK_DEADLINE_HOURS));
        for status in [OrderStatus::Routed, OrderStatus::Submitted] {
            let budget = Budget::share(until, sweeps_left);
            sweeps_left -= 1;
            let mut pass = self.begin(format!("ack/{status}")).await;
            while !pass.finished && !budget.spent() && pass.scanned < self.batch_size * MAX_PAGES {
                let after = pass.at(status);
                let page = self.store.in_status_since_before(status, before, self.batch_size, after.as_ref()).await?;
                self.work_page(&page, &mut pass, &budget, &mut summary, |o| {
                    Box::pin(async move {
                        let mut part = EscalationSummary::default();
                        self.expire_acknowledgments(o, now, &mut part).await;
                        (false, part)
                    })
                })
                .await;
                pass.finished |= page.len() < self.batch_size;
            }
            self.end(pass).await;
        }

        let budget = Budget::share(until, sweeps_left);
        sweeps_left -= 1;
        self.sweep_outboxes(now, &budget, &mut summary).await?;

        for (status, limit) in statuses {
            let budget = Budget::share(until, sweeps_left);
            sweeps_left -= 1;
            // Oldest first, from where the last run stopped: orders already escalated in their
            // current round are passed over, and the ones behind them are reached next run.
            let mut pass = self.begin(format!("status/{status}")).await;
            while !pass.finished
                && !budget.spent()
                && pass.acted < self.batch_size
                && pass.scanned < self.batch_size * MAX_PAGES
            {
                let after = pass.at(status);
                let page =
                    self.store.in_status_since_before(status, now - limit, self.batch_size, after.as_ref()).await?;
                summary.overdue += page.len();
                pass.acted += self
                    .work_page(&page, &mut pass, &budget, &mut summary, |o| {
                        Box::pin(async move {
                            let mut part = EscalationSummary::default();
                            let did = self.escalate_one(o, now, &mut part).await;
                            (did, part)
                        })
                    })
                    .await;
                pass.finished |= page.len() < self.batch_size;
            }
            self.end(pass).await;
        }
        tracing::info!(?summary, "escalation run done");
        Ok(summary)
    }

    /// Starts a sweep where its last run stopped (at the beginning when the cursor is unknown).
    async fn begin(&self, name: String) -> Pass {
        let after = match self.store.sweep_cursor(&name).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(sweep = %name, error = %e, "sweep cursor not read; starting from the oldest");
                None
            }
        };
        Pass { name, after, scanned: 0, acted: 0, finished: false }
    }

    /// Records where the sweep stopped; a finished one starts over next run.
    async fn end(&self, pass: Pass) {
        let cursor = if pass.finished { None } else { pass.after.as_ref() };
        if let Err(e) = self.store.save_sweep_cursor(&pass.name, cursor).await {
            tracing::warn!(sweep = %pass.name, error = %e, "sweep cursor not saved; the next run repeats this one's rows");
        }
    }

    async fn expire_acknowledgments(&self, o: &OrderRef, now: DateTime<Utc>, summary: &mut EscalationSummary) {
        let updated = update_order(self.store.as_ref(), &o.id, |r| {
            let late: Vec<PurchaseOrderId> = r
                .purchase_orders
                .iter()
                .filter(|p| {
                    // Sent, or maybe sent (the outcome unknown): either way it gets a void notice.
                    matches!(p.status, PoStatus::Submitted | PoStatus::Sending)
                        && p.promise.as_ref().is_some_and(|pr| pr.ack_by < now)
                })
                .map(|p| p.id.clone())
                .collect();
            if late.is_empty() {
                return Ok(None);
            }
            for id in &late {
                r.miss_acknowledgment(id, ACTOR, now).map_err(|e| StepError::Poison(e.to_string()))?;
                let supplier = r.po(id).map(|p| p.supplier_id.to_string()).unwrap_or_default();
                r.emit_about(
                    ACTOR,
                    EventType::PurchaseOrderCancelled,
                    &id.to_string(),
                    json!({"purchase_order_id": id, "supplier_id": supplier, "reason": "ack_deadline_missed"}),
                    now,
                );
            }
            Ok(Some(late))
        })
        .await;
        let u = match updated {
            Ok(u) => u,
            Err(e) => {
                summary.errors += 1;
                tracing::warn!(order_id = %o.id, error = %e, "acknowledgment deadline not enforced");
                return;
            }
        };
        let dropline_app::order_update::Updated { record, value: Some(late), .. } = u else { return };
        summary.ack_deadlines_missed += late.len();
        for id in &late {
            let supplier = record.po(id).map(|p| p.supplier_id.to_string()).unwrap_or_default();
            tracing::warn!(order_id = %o.id, po = %id, supplier = %supplier, "acknowledgment deadline missed; purchase order cancelled");
        }
        // Tell each supplier its purchase order is void (notify-supplier sends it once). A lost
        // request is made again by the outbox sweep, until notify records the notice sent.
        let notices: Vec<WorkMessage> = late.iter().map(|id| WorkMessage::purchase_order(id.clone(), ACTOR)).collect();
        if let Err(e) = self.queue.enqueue(Step::NotifySupplier, &notices).await {
            summary.errors += 1;
            tracing::error!(order_id = %o.id, error = %e, "cancellation notices not requested");
        }
        // Lost on a crash here, it is counted when route places the lines again.
        for po in late.iter().filter_map(|id| record.po(id)) {
            if let Err(e) = record_outcomes(self.outcomes.as_ref(), po, &[OutcomeSlot::Answer]).await {
                summary.errors += 1;
                tracing::warn!(order_id = %o.id, po = %po.id, error = %e, "missed acknowledgment not counted");
            }
        }
        let record = outbox::drain(self.events.as_ref(), self.store.as_ref(), record).await;
        // A lost request is made again by the `validated` threshold's re-enqueue.
        if let Err(e) = request_reroute(self.queue.as_ref(), &record, ACTOR).await {
            summary.errors += 1;
            tracing::error!(order_id = %o.id, error = %e, "reroute not requested");
        }
    }

    /// Delivers what orders still owe the world (through the `outbox-due` index): events a step
    /// could not publish (a failure, a crash, an operator's CLI, which publishes nothing itself)
    /// and void notices not yet sent to their supplier.
    async fn sweep_outboxes(
        &self,
        now: DateTime<Utc>,
        budget: &Budget,
        summary: &mut EscalationSummary,
    ) -> Result<(), StepError> {
        // Younger than a minute: the step that wrote it is most likely draining it now.
        let before = now - chrono::Duration::minutes(1);
        let mut pass = self.begin("outbox".to_string()).await;
        while !pass.finished && !budget.spent() && pass.scanned < self.batch_size * MAX_PAGES {
            let page = self.store.outbox_due(before, self.batch_size, pass.after.as_ref()).await?;
            self.work_page(&page, &mut pass, budget, summary, |row| {
                Box::pin(async move {
                    let mut part = EscalationSummary::default();
                    self.sweep_outbox(&row.id, &mut part).await;
                    (false, part)
                })
            })
            .await;
            pass.finished |= page.len() < self.batch_size;
        }
        self.end(pass).await;
        Ok(())
    }

    async fn sweep_outbox(&self, id: &dropline_domain::primitives::ids::OrderId, summary: &mut EscalationSummary) {
        let record = match dropline_app::order_update::load_order(self.store.as_ref(), id).await {
            Ok(r) => r,
            Err(e) => {
                summary.errors += 1;
                tracing::warn!(order_id = %id, error = %e, "outbox not swept");
                return;
            }
        };
        let notices: Vec<WorkMessage> = record
            .purchase_orders
            .iter()
            .filter(|p| p.owes_void_notice())
            .map(|p| WorkMessage::purchase_order(p.id.clone(), ACTOR))
            .collect();
        if !notices.is_empty() {
            match self.queue.enqueue(Step::NotifySupplier, &notices).await {
                Ok(()) => summary.requeued += notices.len(),
                Err(e) => {
                    summary.errors += 1;
                    tracing::error!(order_id = %id, error = %e, "void notices not requested");
                }
            }
        }
        let pending = record.outbox.len();
        let after = outbox::drain(self.events.as_ref(), self.store.as_ref(), record).await;
        summary.events_republished += pending.saturating_sub(after.outbox.len());
    }

    /// Records this round's escalation of one order if no run did yet; true when it did.
    async fn escalate_one(&self, o: &OrderRef, now: DateTime<Utc>, summary: &mut EscalationSummary) -> bool {
        let updated = update_order(self.store.as_ref(), &o.id, |r| {
            // Decided on the fresh record, so a concurrent run that already recorded this round
            // leaves nothing to do.
            let Some(p) = plan(r, &self.thresholds, now) else { return Ok(None) };
            r.record_escalation(p.escalation.clone(), ACTOR);
            let e = &p.escalation;
            r.emit_about(
                ACTOR,
                EventType::OrderEscalated,
                &format!("{}/{}/{}", e.kind.as_str(), e.status_since.timestamp_millis(), e.round),
                json!({"kind": e.kind, "round": e.round, "message": e.message, "since": e.status_since}),
                now,
            );
            Ok(Some(p))
        })
        .await;
        let u = match updated {
            Ok(u) => u,
            Err(e) => {
                summary.errors += 1;
                tracing::warn!(order_id = %o.id, error = %e, "escalation not recorded");
                return false;
            }
        };
        let Some(p) = u.value else { return false };
        summary.escalated += 1;
        *summary.by_kind.entry(p.escalation.kind.as_str().to_string()).or_default() += 1;
        let e = &p.escalation;
        tracing::warn!(order_id = %o.id, status = %e.status, kind = e.kind.as_str(), round = e.round, message = %e.message, "order escalated");
        let mut by_step: BTreeMap<&str, (Step, Vec<WorkMessage>)> = BTreeMap::new();
        for (step, m) in p.requeue.iter().cloned() {
            by_step.entry(step.as_str()).or_insert_with(|| (step, Vec::new())).1.push(m);
        }
        for (_, (step, messages)) in by_step {
            match self.queue.enqueue(step, &messages).await {
                Ok(()) => summary.requeued += messages.len(),
                Err(err) => {
                    summary.errors += 1;
                    tracing::error!(order_id = %o.id, step = %step, error = %err, "stuck work not re-enqueued");
                }
            }
        }
        outbox::drain(self.events.as_ref(), self.store.as_ref(), u.record).await;
        true
    }
}
