//! Poll tracking: on a schedule, finds shipped purchase orders due for a check (through the
//! `tracking-due` index, never a scan), asks the carrier tracker, and records the normalized
//! status. Delivered purchase orders roll the order up to DELIVERED.
//!
//! A run pages through everything due (a bounded Query per shard and page), checking 32 orders
//! at once within its budget; several schedules can share the sweep by slice (each takes the
//! orders of its index shards). Overlapping runs are harmless: a status is recorded only when it differs from the stored one,
//! under the order's version check.

use chrono::{DateTime, Utc};
use dropline_app::batch::StepError;
use dropline_app::order_update::update_from;
use dropline_app::outbox;
use dropline_app::ports::{CarrierTracker, Clock, EventPublisher, IndexPosition, OrderStore};
use dropline_app::sharding::Slice;
use dropline_domain::order::EventType;
use dropline_domain::order::PoStatus;
use dropline_domain::order::TrackingCheckpoint;
use dropline_domain::primitives::ids::PurchaseOrderId;
use dropline_domain::tracking::TrackingStatus;
use dropline_domain::tracking::next_check_after;
use dropline_domain::wire::supplier::TrackingReport;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

pub const ACTOR: &str = "poll-tracking";

/// A run starts no new carrier check after this long (the function's timeout is 60 s).
const RUN_BUDGET: std::time::Duration = std::time::Duration::from_secs(40);

/// After a failed check, the parcel waits this long before the next try (so a few broken
/// parcels never block the head of the index).
fn retry_after_failure() -> chrono::Duration {
    chrono::Duration::hours(1)
}

pub struct PollTracking {
    pub store: Arc<dyn OrderStore>,
    pub tracker: Arc<dyn CarrierTracker>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
    /// Orders read from the index per page (a run pages through everything due).
    pub batch_size: usize,
    /// Orders checked at once (each a carrier request, then a save).
    pub concurrency: usize,
}

/// Orders checked at once by default: at a carrier's 200 ms, 32 in flight check ~160 parcels
/// a second.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// Orders per index page by default.
pub const DEFAULT_BATCH_SIZE: usize = 200;

/// The scheduled event: which slice of the due parcels this run takes (the whole sweep when
/// absent), so that several schedules share a sweep (`{"slice": {"index": 0, "count": 4}}`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct RunRequest {
    #[serde(default)]
    pub slice: Option<SliceRequest>,
}

#[derive(Debug, serde::Deserialize)]
pub struct SliceRequest {
    pub index: u32,
    pub count: u32,
}

impl RunRequest {
    /// The slice the event names; an unreadable event or slice is an error (a schedule
    /// misconfigured is seen, not silently run as the whole sweep).
    pub fn slice_of(event: &serde_json::Value) -> Result<Slice, String> {
        let req: RunRequest =
            serde_json::from_value(event.clone()).map_err(|e| format!("unreadable scheduled event: {e}"))?;
        match req.slice {
            None => Ok(Slice::ALL),
            Some(s) => Slice::new(s.index, s.count).map_err(|e| e.to_string()),
        }
    }
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct PollSummary {
    pub orders_due: usize,
    pub parcels_checked: usize,
    pub status_changes: usize,
    pub delivered: usize,
    pub exceptions: usize,
    pub errors: usize,
    /// Orders due that the run's budget left for the next run.
    pub left_for_next_run: usize,
}

impl PollSummary {
    fn add(&mut self, o: &PollSummary) {
        self.orders_due += o.orders_due;
        self.parcels_checked += o.parcels_checked;
        self.status_changes += o.status_changes;
        self.delivered += o.delivered;
        self.exceptions += o.exceptions;
        self.errors += o.errors;
        self.left_for_next_run += o.left_for_next_run;
    }
}

impl PollTracking {
    /// The whole sweep.
    pub async fn run(&self) -> Result<PollSummary, StepError> {
        self.run_slice(Slice::ALL).await
    }

    /// Pages through every order of `slice` due now, oldest first, checking `concurrency` at
    /// once, until none is left or the run's budget is spent (no check starts after it).
    pub async fn run_slice(&self, slice: Slice) -> Result<PollSummary, StepError> {
        use futures_util::StreamExt;
        let now = self.clock.now();
        let started = std::time::Instant::now();
        let mut summary = PollSummary::default();
        let mut after: Option<IndexPosition> = None;
        let page_size = self.batch_size.max(1);
        loop {
            if started.elapsed() > RUN_BUDGET {
                break;
            }
            let page = self.store.tracking_due(now, page_size, after.as_ref(), slice).await?;
            let full = page.len() == page_size;
            after = page.last().cloned();
            summary.orders_due += page.len();
            let checks = page.into_iter().map(|row| async move {
                let mut s = PollSummary::default();
                if started.elapsed() > RUN_BUDGET {
                    s.left_for_next_run = 1;
                    return s;
                }
                if let Err(e) = self.poll_order(&row.id, now, &mut s).await {
                    s.errors += 1;
                    tracing::warn!(order_id = %row.id, error = %e, "tracking not updated");
                }
                s
            });
            let mut results = futures_util::stream::iter(checks).buffer_unordered(self.concurrency.max(1));
            while let Some(s) = results.next().await {
                summary.add(&s);
            }
            if !full {
                break;
            }
        }
        if summary.left_for_next_run > 0 || started.elapsed() > RUN_BUDGET {
            tracing::warn!(left = summary.left_for_next_run, "run budget spent; the rest waits for the next run");
        }
        tracing::info!(?summary, slice = slice.index(), of = slice.count(), "tracking run done");
        Ok(summary)
    }

    async fn poll_order(
        &self,
        order_id: &dropline_domain::primitives::ids::OrderId,
        now: DateTime<Utc>,
        summary: &mut PollSummary,
    ) -> Result<(), StepError> {
        let Some(record) = self.store.get(order_id).await? else {
            return Ok(());
        };
        let mut reports: Vec<(PurchaseOrderId, TrackingReport)> = Vec::new();
        let mut failed: Vec<PurchaseOrderId> = Vec::new();
        for po in &record.purchase_orders {
            let Some(shipment) = &po.shipment else {
                continue;
            };
            if po.status != PoStatus::Shipped || shipment.next_check_at.is_none_or(|t| t > now) {
                continue;
            }
            summary.parcels_checked += 1;
            match self.tracker.track(&shipment.carrier, &shipment.tracking_number).await {
                Ok(report) => reports.push((po.id.clone(), report)),
                Err(e) => {
                    summary.errors += 1;
                    failed.push(po.id.clone());
                    tracing::warn!(order_id = %order_id, po = %po.id, error = %e, "carrier did not answer; next try in an hour");
                }
            }
        }
        if reports.is_empty() && failed.is_empty() {
            return Ok(());
        }
        let updated = update_from(self.store.as_ref(), order_id, Some(record), |r| {
            let mut changes: Vec<(PurchaseOrderId, TrackingStatus)> = Vec::new();
            for po_id in &failed {
                if let Some(s) = r.purchase_orders.iter_mut().find(|p| &p.id == po_id).and_then(|p| p.shipment.as_mut())
                {
                    s.next_check_at = Some(now + retry_after_failure());
                }
            }
            for (po_id, report) in &reports {
                let status = TrackingStatus::normalize(&report.status);
                let Some(po) = r.purchase_orders.iter_mut().find(|p| &p.id == po_id) else {
                    continue;
                };
                if po.status != PoStatus::Shipped {
                    continue;
                }
                let Some(shipment) = po.shipment.as_mut() else {
                    continue;
                };
                shipment.last_checked_at = Some(now);
                shipment.next_check_at = next_check_after(status).map(|d| now + d);
                if shipment.status != status && status != TrackingStatus::Unknown {
                    shipment.status = status;
                    shipment.checkpoints.push(TrackingCheckpoint {
                        at: report.updated_at.unwrap_or(now),
                        status,
                        raw_status: report.status.clone(),
                        description: report.description.clone(),
                    });
                    changes.push((po_id.clone(), status));
                }
            }
            for (po_id, status) in &changes {
                r.note(ACTOR, dropline_domain::order::TimelineKind::Tracking, Some(po_id), status.to_string(), now);
                if *status == TrackingStatus::Delivered {
                    r.transition_po(po_id, PoStatus::Delivered, ACTOR, "", now)
                        .map_err(|e| StepError::Poison(e.to_string()))?;
                }
                r.emit_about(
                    ACTOR,
                    EventType::TrackingUpdated,
                    &format!("{po_id}/{status}"),
                    json!({"purchase_order_id": po_id, "tracking_status": status}),
                    now,
                );
            }
            // Saved even without a change: the next check time moved.
            Ok(Some(changes))
        })
        .await?;
        let changes = updated.value.unwrap_or_default();
        for (po_id, status) in &changes {
            summary.status_changes += 1;
            match status {
                TrackingStatus::Delivered => summary.delivered += 1,
                TrackingStatus::Exception => summary.exceptions += 1,
                _ => {}
            }
            tracing::info!(order_id = %order_id, po = %po_id, status = %status, "tracking status changed");
        }
        // Written with the changes (the delivered status's event by its transition).
        outbox::drain(self.events.as_ref(), self.store.as_ref(), updated.record).await;
        Ok(())
    }
}
