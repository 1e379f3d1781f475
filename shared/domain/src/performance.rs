//! Supplier performance measured from what the pipeline records: every purchase order's
//! answer (accepted, rejected, silent past its deadline), its shipment (on time against its
//! promise, and how long the tracking number took) and a cancellation after acceptance. Each
//! outcome counts once per purchase order, however often the callback or the step that
//! observed it is redelivered: the `OutcomeLedger` port keys it by (purchase order, slot).
//!
//! Routing blends the counts with the configured figures (or the prior) into the reliability
//! it scores on.

use crate::order::PoStatus;
use crate::order::{OrderRecord, SupplierEvent};
use crate::order::{PurchaseOrder, Rejection};
use crate::primitives::ids::{PurchaseOrderId, SupplierId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Measured performance, updated from outcomes; a new supplier starts from the prior.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Performance {
    pub acceptance_rate: f64,
    pub on_time_ship_rate: f64,
    /// Hours from shipment to a tracking number.
    pub tracking_upload_hours: f64,
    pub cancellation_rate: f64,
    /// How many outcomes the rates are measured on (the prior weighs as this many).
    #[serde(default)]
    pub samples: u32,
}

impl Performance {
    /// What a supplier without history is assumed to do.
    pub const PRIOR: Performance = Performance {
        acceptance_rate: 0.95,
        on_time_ship_rate: 0.90,
        tracking_upload_hours: 24.0,
        cancellation_rate: 0.02,
        samples: 20,
    };
}

/// Outcomes the pipeline measured for a supplier, added to its configured performance (or the
/// prior) to estimate reliability.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Outcomes {
    /// Purchase orders the supplier answered: accepted, rejected, or left past the
    /// acknowledgment deadline (silence is an answer).
    pub answered: u32,
    pub accepted: u32,
    /// Accepted purchase orders that shipped, and how many of them by their ship-by.
    pub shipped: u32,
    pub shipped_on_time: u32,
    /// Accepted, then cancelled or reported out of stock.
    pub cancelled_after_acceptance: u32,
    /// Hours from shipment to the tracking number reaching the pipeline, summed over `shipped`.
    pub tracking_hours_total: u64,
}

/// Measured outcomes per supplier (a supplier without any is absent).
pub type Measured = HashMap<SupplierId, Outcomes>;

/// The counters, by the names the ledgers store them under.
pub const COUNTERS: [&str; 6] =
    ["answered", "accepted", "shipped", "shipped_on_time", "cancelled_after_acceptance", "tracking_hours_total"];

impl Outcomes {
    /// Adds `n` to the counter named `name` (one of `COUNTERS`; another name is ignored).
    pub fn add(&mut self, name: &str, n: u64) {
        let small = u32::try_from(n).unwrap_or(u32::MAX);
        match name {
            "answered" => self.answered = self.answered.saturating_add(small),
            "accepted" => self.accepted = self.accepted.saturating_add(small),
            "shipped" => self.shipped = self.shipped.saturating_add(small),
            "shipped_on_time" => self.shipped_on_time = self.shipped_on_time.saturating_add(small),
            "cancelled_after_acceptance" => {
                self.cancelled_after_acceptance = self.cancelled_after_acceptance.saturating_add(small)
            }
            "tracking_hours_total" => self.tracking_hours_total = self.tracking_hours_total.saturating_add(n),
            _ => {}
        }
    }

    /// Counts one outcome.
    pub fn count(&mut self, kind: &OutcomeKind) {
        for (name, n) in kind.deltas() {
            self.add(name, n);
        }
    }
}

/// What happened to a purchase order, as far as its supplier's record goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutcomeKind {
    Accepted,
    Rejected,
    /// No acknowledgment by the deadline: counted as an answer that is not an acceptance.
    AckMissed,
    Shipped {
        on_time: bool,
        tracking_hours: u32,
    },
    CancelledAfterAcceptance,
}

/// Which of a purchase order's outcomes an outcome is: one answer, one shipment and one
/// cancellation count at most per purchase order. The ledger keys outcomes by
/// (purchase order, slot), with the slot as its string (`answer`, `shipment`, `cancellation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeSlot {
    Answer,
    Shipment,
    Cancellation,
}

impl OutcomeSlot {
    /// Every slot: the outcomes of a purchase order whatever changed.
    pub const ALL: [OutcomeSlot; 3] = [Self::Answer, Self::Shipment, Self::Cancellation];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answer => "answer",
            Self::Shipment => "shipment",
            Self::Cancellation => "cancellation",
        }
    }
}

impl OutcomeKind {
    /// Which of a purchase order's outcomes this is: one answer, one shipment and one
    /// cancellation count at most per purchase order.
    pub fn slot(&self) -> OutcomeSlot {
        match self {
            Self::Accepted | Self::Rejected | Self::AckMissed => OutcomeSlot::Answer,
            Self::Shipped { .. } => OutcomeSlot::Shipment,
            Self::CancelledAfterAcceptance => OutcomeSlot::Cancellation,
        }
    }

    /// The counters this outcome adds to.
    pub fn deltas(&self) -> Vec<(&'static str, u64)> {
        match *self {
            Self::Accepted => vec![("answered", 1), ("accepted", 1)],
            Self::Rejected | Self::AckMissed => vec![("answered", 1)],
            Self::Shipped { on_time, tracking_hours } => vec![
                ("shipped", 1),
                ("shipped_on_time", u64::from(on_time)),
                ("tracking_hours_total", u64::from(tracking_hours)),
            ],
            Self::CancelledAfterAcceptance => vec![("cancelled_after_acceptance", 1)],
        }
    }
}

/// One outcome of one purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub po: PurchaseOrderId,
    pub supplier_id: SupplierId,
    #[serde(flatten)]
    pub kind: OutcomeKind,
}

impl Outcome {
    /// The ledger's key for this outcome: recording it again under this key changes nothing.
    pub fn key(&self) -> String {
        format!("{}#{}", self.po, self.kind.slot().as_str())
    }
}

/// Every outcome a purchase order has reached, read from its state (so a step that crashed
/// after saving the state finds them again on its retry). A refused submission (the supplier's
/// API said 4xx) is no answer about the order and is not counted; neither is an operator's
/// cancellation of a purchase order nobody answered.
pub fn outcomes_of(po: &PurchaseOrder) -> Vec<Outcome> {
    let mut kinds = Vec::new();
    let accepted =
        po.accepted_at.is_some() || matches!(po.status, PoStatus::Accepted | PoStatus::Shipped | PoStatus::Delivered);
    let rejection = po.rejection.as_ref().filter(|_| matches!(po.status, PoStatus::Rejected | PoStatus::Cancelled));
    if accepted {
        kinds.push(OutcomeKind::Accepted);
        if rejection.is_some() {
            kinds.push(OutcomeKind::CancelledAfterAcceptance);
        }
    } else if let Some(r) = rejection {
        match r.code.as_str() {
            Rejection::ACK_DEADLINE_MISSED => kinds.push(OutcomeKind::AckMissed),
            Rejection::SUBMISSION_REFUSED => {}
            _ => kinds.push(OutcomeKind::Rejected),
        }
    }
    if let Some(s) = &po.shipment {
        let on_time = po.promise.as_ref().is_none_or(|p| s.shipped_at <= p.ship_by);
        kinds.push(OutcomeKind::Shipped { on_time, tracking_hours: tracking_hours(s.shipped_at, s.reported_at) });
    }
    kinds.into_iter().map(|kind| Outcome { po: po.id.clone(), supplier_id: po.supplier_id.clone(), kind }).collect()
}

/// Whole hours from shipment to the tracking number reaching the pipeline (0 when the supplier
/// reported it at once, or when an older record did not note when it arrived).
fn tracking_hours(shipped_at: DateTime<Utc>, reported_at: Option<DateTime<Utc>>) -> u32 {
    let Some(reported) = reported_at else { return 0 };
    u32::try_from((reported - shipped_at).num_hours().max(0)).unwrap_or(u32::MAX)
}

/// The performance a supplier is expected to deliver: its configured figures (or the prior),
/// weighing as `samples` outcomes, updated with what the pipeline measured. A configured record
/// measured on no outcome says nothing: the prior stands in for it, figures and weight.
pub fn expected_performance(configured: &Performance, measured: &Outcomes) -> Performance {
    let base = if configured.samples == 0 { &Performance::PRIOR } else { configured };
    let prior_weight = base.samples;
    let w = f64::from(prior_weight);
    let blend = |prior: f64, hits: f64, n: u32| (prior * w + hits) / (w + f64::from(n));
    let shipped = measured.shipped;
    Performance {
        acceptance_rate: blend(base.acceptance_rate, f64::from(measured.accepted), measured.answered),
        on_time_ship_rate: blend(base.on_time_ship_rate, f64::from(measured.shipped_on_time), shipped),
        tracking_upload_hours: blend(base.tracking_upload_hours, measured.tracking_hours_total as f64, shipped),
        cancellation_rate: blend(
            base.cancellation_rate,
            f64::from(measured.cancelled_after_acceptance),
            measured.accepted,
        ),
        samples: prior_weight.saturating_add(measured.answered),
    }
}

/// One number in 0..1 for how likely a purchase order goes through on time: acceptance x
/// on-time shipping x not cancelled x a tracking factor (a day's upload delay costs a third).
pub fn reliability(p: &Performance) -> f64 {
    let tracking = 48.0 / (48.0 + p.tracking_upload_hours.max(0.0));
    p.acceptance_rate * p.on_time_ship_rate * (1.0 - p.cancellation_rate) * tracking
}

/// The outcome slots a supplier callback can fill: an acknowledgment answers (or, after an
/// acceptance, cancels); a shipment ships, and answers too when it was the supplier's first word
/// (the purchase order went from SUBMITTED straight to SHIPPED, implying the acceptance). Read
/// from the record, so a retry after a crash asks for the same slots.
pub fn outcome_slots(event: &SupplierEvent, r: &OrderRecord, po: &PurchaseOrderId) -> &'static [OutcomeSlot] {
    let po = po.to_string();
    let shipped_unacknowledged = || {
        r.timeline.iter().any(|t| {
            t.po.as_deref() == Some(po.as_str())
                && t.from.as_deref() == Some(PoStatus::Submitted.as_str())
                && t.to.as_deref() == Some(PoStatus::Shipped.as_str())
        })
    };
    match event {
        SupplierEvent::Acknowledgment { .. } => &[OutcomeSlot::Answer, OutcomeSlot::Cancellation],
        SupplierEvent::Shipment { .. } if shipped_unacknowledged() => &[OutcomeSlot::Answer, OutcomeSlot::Shipment],
        SupplierEvent::Shipment { .. } => &[OutcomeSlot::Shipment],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11, defect 4: a record configured at 100% on no sample beat a supplier measured at
    /// 98% over 800 orders.
    #[test]
    fn a_configured_record_without_samples_weighs_no_more_than_the_prior() {
        let perfect = Performance {
            acceptance_rate: 1.0,
            on_time_ship_rate: 1.0,
            tracking_upload_hours: 0.0,
            cancellation_rate: 0.0,
            samples: 0,
        };
        assert_eq!(expected_performance(&perfect, &Outcomes::default()), Performance::PRIOR);
        let measured = Outcomes {
            answered: 800,
            accepted: 784,
            shipped: 784,
            shipped_on_time: 768,
            tracking_hours_total: 784 * 8,
            ..Outcomes::default()
        };
        let unproven = reliability(&expected_performance(&perfect, &Outcomes::default()));
        let proven = reliability(&expected_performance(&Performance::PRIOR, &measured));
        assert!(proven > unproven, "measured {proven} must beat unproven {unproven}");
        // A record with samples keeps its weight, as before.
        let claimed = Performance { samples: 500, ..perfect };
        assert_eq!(expected_performance(&claimed, &Outcomes::default()).acceptance_rate, 1.0);
    }
    use crate::order::{Promise, Shipment};
    use crate::tracking::TrackingStatus;
    use chrono::{Duration, NaiveDate, TimeZone};

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).single().unwrap() + Duration::hours(h)
    }

    fn po(status: PoStatus) -> PurchaseOrder {
        PurchaseOrder {
            id: PurchaseOrderId::new(crate::primitives::ids::OrderId::new("ord_test").unwrap(), 1),
            number: "1001-1".into(),
            supplier_id: SupplierId::new("atlas").unwrap(),
            lines: vec![],
            status,
            status_since: t(0),
            created_at: None,
            submitted_at: Some(t(0)),
            accepted_at: None,
            supplier_reference: None,
            rejection: None,
            shipment: None,
            promise: Some(Promise {
                ack_by: t(24),
                ship_by: t(48),
                delivery_earliest: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
                delivery_latest: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
                no_time_to_reroute: false,
                ack_window_minutes: None,
            }),
            last_word: None,
            void_notice: None,
            void_notice_sent: false,
        }
    }

    fn rejected(status: PoStatus, code: &str) -> PurchaseOrder {
        let mut p = po(status);
        p.rejection = Some(Rejection { code: code.into(), message: String::new() });
        p
    }

    fn shipped(at: i64, reported: Option<i64>) -> PurchaseOrder {
        let mut p = po(PoStatus::Shipped);
        p.accepted_at = Some(t(at));
        p.shipment = Some(Shipment {
            carrier: "ups".into(),
            tracking_number: "1Z".into(),
            shipped_at: t(at),
            reported_at: reported.map(t),
            status: TrackingStatus::InfoReceived,
            last_checked_at: None,
            next_check_at: None,
            checkpoints: vec![],
        });
        p
    }

    fn kinds(p: &PurchaseOrder) -> Vec<OutcomeKind> {
        outcomes_of(p).into_iter().map(|o| o.kind).collect()
    }

    #[test]
    fn each_purchase_order_state_yields_its_outcomes() {
        use OutcomeKind::*;
        assert_eq!(kinds(&po(PoStatus::Pending)), vec![]);
        assert_eq!(kinds(&po(PoStatus::Submitted)), vec![], "no answer yet");
        assert_eq!(kinds(&po(PoStatus::Accepted)), vec![Accepted]);
        assert_eq!(kinds(&rejected(PoStatus::Rejected, "INVENTORY_OUT_OF_STOCK")), vec![Rejected]);
        assert_eq!(kinds(&rejected(PoStatus::Cancelled, "INVENTORY_OUT_OF_STOCK")), vec![Rejected], "superseded");
        assert_eq!(kinds(&rejected(PoStatus::Cancelled, Rejection::ACK_DEADLINE_MISSED)), vec![AckMissed]);
        assert_eq!(kinds(&rejected(PoStatus::Rejected, Rejection::SUBMISSION_REFUSED)), vec![], "no answer");
        assert_eq!(kinds(&po(PoStatus::Cancelled)), vec![], "an operator's cancellation");
        let mut stockout = rejected(PoStatus::Rejected, "INVENTORY_OUT_OF_STOCK");
        stockout.accepted_at = Some(t(2));
        assert_eq!(kinds(&stockout), vec![Accepted, CancelledAfterAcceptance]);
        assert_eq!(kinds(&shipped(30, Some(36))), vec![Accepted, Shipped { on_time: true, tracking_hours: 6 }]);
        assert_eq!(kinds(&shipped(50, Some(50))), vec![Accepted, Shipped { on_time: false, tracking_hours: 0 }]);
        assert_eq!(kinds(&shipped(30, None)), vec![Accepted, Shipped { on_time: true, tracking_hours: 0 }]);
        let keys: Vec<String> = outcomes_of(&shipped(30, None)).iter().map(Outcome::key).collect();
        assert_eq!(keys.len(), 2);
        assert!(keys[0].ends_with("#answer") && keys[1].ends_with("#shipment"), "{keys:?}");
    }

    #[test]
    fn outcomes_add_up_into_the_counters() {
        let mut o = Outcomes::default();
        for p in [shipped(30, Some(40)), shipped(50, Some(53)), rejected(PoStatus::Rejected, "X")] {
            for x in outcomes_of(&p) {
                o.count(&x.kind);
            }
        }
        assert_eq!(
            o,
            Outcomes {
                answered: 3,
                accepted: 2,
                shipped: 2,
                shipped_on_time: 1,
                cancelled_after_acceptance: 0,
                tracking_hours_total: 13
            }
        );
        let p = expected_performance(&Performance::PRIOR, &o);
        assert!(p.acceptance_rate < Performance::PRIOR.acceptance_rate);
    }
}
