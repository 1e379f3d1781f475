//! Escalation rules: how long an order may sit in each status, and what to do when it sits longer.

use crate::order::{Escalation, EscalationKind, OrderRecord};
use crate::order::{OrderStatus, PoStatus};
use crate::primitives::config_error::ConfigError;
use crate::primitives::duration::parse_duration;
use crate::wire::messages::{Step, WorkMessage};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Per-status limits (`received=5m,submitted=24h,...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds(BTreeMap<OrderStatus, Duration>);

impl Default for Thresholds {
    fn default() -> Self {
        // The literal below is well-formed, so parsing cannot fail.
        Self::parse("received=5m,validated=5m,routed=10m,submitted=24h,accepted=72h,shipped=14d,on_hold=24h")
            .unwrap_or(Self(BTreeMap::new()))
    }
}

impl Thresholds {
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let mut map = BTreeMap::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| format!("{part:?}: expected status=duration"))?;
            let status = OrderStatus::parse(k.trim()).ok_or_else(|| format!("{k:?}: unknown status"))?;
            if status.is_terminal() {
                return Err(format!("{k:?}: a terminal status has no limit").into());
            }
            map.insert(status, parse_duration(v)?);
        }
        Ok(Self(map))
    }

    pub fn iter(&self) -> impl Iterator<Item = (OrderStatus, Duration)> + '_ {
        self.0.iter().map(|(s, d)| (*s, *d))
    }

    pub fn get(&self, status: OrderStatus) -> Option<Duration> {
        self.0.get(&status).copied()
    }
}

/// What an escalation run should do about one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationPlan {
    pub escalation: Escalation,
    /// Work to enqueue again (in-flight statuses only).
    pub requeue: Vec<(Step, WorkMessage)>,
}

/// Decides whether `record` is overdue in its current status and, if this round of this episode
/// was not escalated yet, what to record and re-enqueue.
pub fn plan(record: &OrderRecord, thresholds: &Thresholds, now: DateTime<Utc>) -> Option<EscalationPlan> {
    let limit = thresholds.get(record.status)?;
    let waited = now - record.status_since;
    if waited <= limit {
        return None;
    }
    // Rounds at 1x, 2x, 4x, 8x ... the limit in this status episode: overlapping runs compute the
    // same round, so only one of them records it, and an order stuck for a week gets a dozen
    // escalations, not thousands (its item stays far below DynamoDB's size limit).
    let ratio = u64::try_from(waited.num_milliseconds() / limit.num_milliseconds().max(1)).unwrap_or(1).max(1);
    let round = 64 - ratio.leading_zeros();
    let id = &record.id;
    let cause = "escalate";
    let (kind, requeue, message) = match record.status {
        OrderStatus::Received => (
            EscalationKind::StuckInState,
            vec![(Step::Validate, WorkMessage::order(id.clone(), cause))],
            "not validated in time; sent to validation again".to_string(),
        ),
        OrderStatus::Validated => (
            EscalationKind::StuckInState,
            vec![(Step::Route, WorkMessage::order(id.clone(), cause))],
            "not routed in time; sent to routing again".to_string(),
        ),
        OrderStatus::Routed => {
            let pending: Vec<_> = record
                .purchase_orders
                .iter()
                // Not sent, or sent with the outcome unknown: notify resends under the same key.
                .filter(|p| matches!(p.status, PoStatus::Pending | PoStatus::Sending))
                .map(|p| (Step::NotifySupplier, WorkMessage::purchase_order(p.id.clone(), cause)))
                .collect();
            let n = pending.len();
            (EscalationKind::StuckInState, pending, format!("{n} purchase order(s) not sent in time; sent again"))
        }
        OrderStatus::Submitted => {
            let waiting: Vec<String> = record
                .purchase_orders
                .iter()
                .filter(|p| p.status == PoStatus::Submitted)
                .map(|p| format!("{} ({})", p.number, p.supplier_id))
                .collect();
            (
                EscalationKind::AcknowledgmentOverdue,
                vec![],
                format!("no acknowledgment after {}: {}", human(waited), waiting.join(", ")),
            )
        }
        OrderStatus::Accepted => {
            (EscalationKind::ShipmentOverdue, vec![], format!("accepted but not shipped after {}", human(waited)))
        }
        OrderStatus::Shipped => {
            (EscalationKind::DeliveryOverdue, vec![], format!("shipped but not delivered after {}", human(waited)))
        }
        OrderStatus::OnHold => {
            let codes: Vec<&str> = record.holds.iter().map(|h| h.code.as_str()).collect();
            (EscalationKind::HoldUnresolved, vec![], format!("on hold for {} ({})", human(waited), codes.join(", ")))
        }
        OrderStatus::Delivered | OrderStatus::Cancelled => return None,
    };
    if record.has_escalation(kind, record.status_since, round) {
        return None;
    }
    Some(EscalationPlan {
        escalation: Escalation {
            kind,
            status: record.status,
            status_since: record.status_since,
            round,
            at: now,
            message,
        },
        requeue,
    })
}

fn human(d: Duration) -> String {
    if d.num_days() >= 2 {
        format!("{} days", d.num_days())
    } else if d.num_hours() >= 1 {
        format!("{} h", d.num_hours())
    } else {
        format!("{} min", d.num_minutes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::Receipt;
    use crate::testing::sample_order;

    #[test]
    fn thresholds_parse_and_refuse_nonsense() {
        let t = Thresholds::parse("received=5m, submitted=24h").unwrap();
        assert_eq!(t.get(OrderStatus::Received), Some(Duration::minutes(5)));
        assert_eq!(t.get(OrderStatus::Routed), None);
        assert!(Thresholds::parse("received=5").is_err());
        assert!(Thresholds::parse("bogus=5m").is_err());
        assert!(Thresholds::parse("delivered=5m").is_err());
        assert!(Thresholds::parse("received=0m").is_err());
        assert_eq!(Thresholds::default().get(OrderStatus::Shipped), Some(Duration::days(14)));
    }

    #[test]
    fn a_stuck_order_is_requeued_once_per_round() {
        let t0 = Utc::now();
        let mut r =
            OrderRecord::received(sample_order(), Receipt { delivery_id: None, topic: "t".into(), received_at: t0 });
        let th = Thresholds::default();
        assert!(plan(&r, &th, t0 + Duration::minutes(4)).is_none());
        let p = plan(&r, &th, t0 + Duration::minutes(6)).unwrap();
        assert_eq!(p.escalation.round, 1);
        assert_eq!(p.requeue.len(), 1);
        assert_eq!(p.requeue[0].0, Step::Validate);
        r.record_escalation(p.escalation, "escalate");
        assert!(plan(&r, &th, t0 + Duration::minutes(7)).is_none(), "same round: nothing new");
        let p2 = plan(&r, &th, t0 + Duration::minutes(11)).unwrap();
        assert_eq!(p2.escalation.round, 2);
        r.record_escalation(p2.escalation, "escalate");
        assert!(plan(&r, &th, t0 + Duration::minutes(19)).is_none(), "round 3 starts at 4x the limit");
        assert_eq!(plan(&r, &th, t0 + Duration::minutes(21)).unwrap().escalation.round, 3);
        // A week stuck: rounds stay few.
        assert_eq!(plan(&r, &th, t0 + Duration::days(7)).unwrap().escalation.round, 11);
    }
}
