//! The history checker, run at the end of every simulation: each violated promise is reported
//! with the order's readable trace.

use crate::suppliers::Books;
use crate::workload::{Change, PlannedOrder};
use crate::world::World;
use chrono::{DateTime, Utc};
use dropline_domain::order::EventType;
use dropline_domain::order::FinancialStatus;
use dropline_domain::order::{OrderRecord, OrderStatus, PoStatus, TimelineKind};
use dropline_domain::performance::{Measured, outcomes_of};
use dropline_domain::primitives::ids::OrderId;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One broken promise.
#[derive(Debug, Clone)]
pub struct Violation {
    pub invariant: &'static str,
    pub order: Option<String>,
    pub detail: String,
}

/// What the checker read and found.
#[derive(Debug, Default)]
pub struct Findings {
    pub checks: u64,
    pub violations: Vec<Violation>,
}

impl Findings {
    fn check(&mut self, ok: bool, invariant: &'static str, order: Option<&str>, detail: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok {
            self.violations.push(Violation { invariant, order: order.map(String::from), detail: detail() });
        }
    }
}

/// Whether a human can see the order: held, or escalated in its current status.
fn visible(r: &OrderRecord) -> bool {
    r.status == OrderStatus::OnHold || r.escalations.iter().any(|e| e.status_since == r.status_since)
}

/// What the store said last about an order, and when Dropline answered it 2xx.
pub struct StoreUpdate<'a> {
    pub order: &'a PlannedOrder,
    pub acknowledged_at: DateTime<Utc>,
}

pub fn check(
    world: &World,
    ledgers: &crate::world::Ledgers,
    acknowledged: &BTreeMap<u32, OrderId>,
    updates: &[StoreUpdate<'_>],
    books: &Books,
    log_hits: &[String],
    canaries: &[String],
) -> Findings {
    let mut f = Findings::default();
    let records: HashMap<String, OrderRecord> = world.store.all().into_iter().map(|r| (r.id.to_string(), r)).collect();

    // 1. Every order answered 2xx is stored, and ended or in front of a human.
    for id in acknowledged.values() {
        let r = records.get(id.as_str());
        f.check(r.is_some(), "acknowledged orders are stored", Some(id.as_str()), || "answered 2xx, not stored".into());
        if let Some(r) = r {
            let ok = r.status.is_terminal() || visible(r);
            f.check(ok, "no order silently stuck", Some(id.as_str()), || {
                format!("{} since {}, not held, not escalated", r.status, r.status_since.to_rfc3339())
            });
        }
    }

    // 1a. One stored order per order a store placed: nothing else (a replayed body under another
    //     store's name) became an order.
    let placed: std::collections::HashSet<&str> = acknowledged.values().map(|id| id.as_str()).collect();
    for id in records.keys() {
        f.check(placed.contains(id.as_str()), "only orders the stores placed are stored", Some(id.as_str()), || {
            "stored, but no store placed it (a replay under another store's name?)".into()
        });
    }

    // 1b. A store update answered 2xx before anything reached a supplier is applied: the order
    //     takes the payment, the address or the cancellation.
    for u in updates {
        let Some(id) = acknowledged.get(&u.order.n) else { continue };
        let Some(r) = records.get(id.as_str()) else { continue };
        let sent_before = r.timeline.iter().any(|t| {
            t.kind == TimelineKind::PurchaseOrder
                && matches!(t.to.as_deref(), Some("SUBMITTED" | "SENDING"))
                && t.at <= u.acknowledged_at
        });
        if sent_before {
            continue;
        }
        let (applied, what) = match u.order.change.map(|(c, _)| c) {
            Some(Change::Paid) => (r.order.financial_status == FinancialStatus::Paid, "paid"),
            Some(Change::AddressEdited) => {
                (r.order.shipping_address.as_ref().is_some_and(|a| a.line1 == u.order.street(true)), "address edited")
            }
            Some(Change::Cancelled) => (r.status == OrderStatus::Cancelled, "cancelled"),
            None => continue,
        };
        f.check(applied, "store updates before submission apply", Some(id.as_str()), || {
            format!(
                "the store's update ({what}) answered 2xx at {} before anything was sent is not in the order ({})",
                u.acknowledged_at.to_rfc3339(),
                r.status
            )
        });
    }

    // 2. Each order line live at one supplier at most; never asked twice (the suppliers' books).
    for v in &books.violations {
        f.check(false, "no line asked while live elsewhere", v.split_whitespace().nth(1), || v.clone());
    }
    let mut live: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for a in books.asks.iter().filter(|a| a.ended.is_none()) {
        for (line, _) in &a.lines {
            live.entry((a.order_id.clone(), line.clone()))
                .or_default()
                .push(format!("{} ({})", a.supplier, a.po_number));
        }
    }
    for ((order, line), at) in &live {
        f.check(at.len() <= 1, "each line live at one supplier at most", Some(order), || {
            format!("line {line} live at {}", at.join(" and "))
        });
    }
    for a in books.asks.iter().filter(|a| a.ended.is_none()) {
        f.checks += 1;
        let Some(r) = records.get(&a.order_id) else { continue };
        let po = r.purchase_orders.iter().find(|p| p.id.to_string() == a.purchase_order_id);
        let known_live = po.is_some_and(|p| {
            matches!(
                p.status,
                PoStatus::Sending | PoStatus::Submitted | PoStatus::Accepted | PoStatus::Shipped | PoStatus::Delivered
            )
        });
        f.check(known_live, "what a supplier holds, Dropline knows", Some(&a.order_id), || {
            format!(
                "{} holds {} live{}, but Dropline has it {}",
                a.supplier,
                a.po_number,
                if a.shipped { " (shipped)" } else { "" },
                po.map(|p| p.status.as_str()).unwrap_or("unknown")
            )
        });
        f.check(r.status != OrderStatus::Cancelled, "a cancelled order ships nowhere", Some(&a.order_id), || {
            format!("the order is cancelled, but {} holds {} live", a.supplier, a.po_number)
        });
    }

    // 3. Stock is conserved: held units belong to purchase orders still waiting for an answer;
    //    the snapshot moved only by what suppliers accepted.
    let mut po_status: HashMap<String, PoStatus> = HashMap::new();
    let mut settled: BTreeMap<(String, String), u32> = BTreeMap::new();
    for r in records.values() {
        for p in &r.purchase_orders {
            po_status.insert(p.id.to_string(), p.status);
            if p.accepted_at.is_some() {
                for l in &p.lines {
                    *settled.entry((l.sku.to_string(), p.supplier_id.to_string())).or_default() += l.quantity;
                }
            }
        }
    }
    for res in ledgers.reservations.iter().cloned() {
        let po = res.holder.split('/').next().unwrap_or("");
        let status = po_status.get(po).copied();
        let ok = matches!(status, Some(PoStatus::Pending | PoStatus::Sending | PoStatus::Submitted));
        f.check(ok, "no reservation outlives its order's need", po.rsplit_once('-').map(|(o, _)| o), || {
            format!(
                "{} x{} of {} at {} held by {} ({})",
                res.holder,
                res.quantity,
                res.sku,
                res.supplier_id,
                po,
                status.map(|s| s.as_str()).unwrap_or("no such purchase order")
            )
        });
    }
    for o in ledgers.offers.iter().cloned() {
        let key = (o.sku.to_string(), o.supplier_id.to_string());
        let initial = world.initial_stock.get(&key).copied().unwrap_or(0);
        let taken = settled.get(&key).copied().unwrap_or(0);
        f.check(o.stock == initial.saturating_sub(taken), "stock is conserved", None, || {
            format!("{} at {}: loaded {initial}, accepted {taken}, snapshot says {}", key.0, key.1, o.stock)
        });
    }

    // 4. Each supplier outcome counted once: the ledger says what the purchase orders say.
    let mut expected: Measured = Measured::new();
    for r in records.values() {
        for p in &r.purchase_orders {
            for o in outcomes_of(p) {
                expected.entry(o.supplier_id.clone()).or_default().count(&o.kind);
            }
        }
    }
    let counted = ledgers.measured.clone();
    let suppliers: BTreeSet<String> = expected.keys().chain(counted.keys()).map(|s| s.to_string()).collect();
    for s in suppliers {
        let e = expected.iter().find(|(k, _)| k.as_str() == s).map(|(_, v)| *v).unwrap_or_default();
        let c = counted.iter().find(|(k, _)| k.as_str() == s).map(|(_, v)| *v).unwrap_or_default();
        f.check(e == c, "each supplier outcome counted once", None, || {
            format!("{s}: purchase orders say {e:?}, the ledger counted {c:?}")
        });
    }

    // 5. Every status an order entered has its event.
    let published: BTreeSet<String> = world.bus.events().into_iter().map(|e| e.id).collect();
    for r in records.values() {
        for t in r.timeline.iter().filter(|t| t.kind == TimelineKind::Status) {
            let Some(status) = t.to.as_deref().and_then(OrderStatus::parse) else { continue };
            let id = format!("{}/{}/{}", r.id, EventType::for_status(status), t.at.timestamp_millis());
            f.check(published.contains(&id), "every transition has its event", Some(r.id.as_str()), || {
                format!(
                    "{status} at {} (by {}) has no {} event",
                    t.at.to_rfc3339(),
                    t.actor,
                    EventType::for_status(status)
                )
            });
        }
    }

    // 6. No personal data in logs or events.
    for line in log_hits {
        f.check(false, "no personal data in logs", None, || line.clone());
    }
    for e in world.bus.events() {
        let text = serde_json::to_string(&e).unwrap_or_default();
        let hit = canaries.iter().find(|c| text.contains(c.as_str()));
        f.check(hit.is_none(), "no personal data in events", Some(e.order_id.as_str()), || {
            format!("{} carries {:?}", e.id, hit.cloned().unwrap_or_default())
        });
    }
    f
}

/// A readable trace of an order: its timeline, purchase orders and what the suppliers hold.
pub fn trace(world: &World, books: &Books, order: &str) -> String {
    let mut out = String::new();
    let Some(r) = world.store.all().into_iter().find(|r| r.id.as_str() == order) else {
        return format!("  order {order}: not stored\n");
    };
    out.push_str(&format!("  order {} ({}) {} since {}\n", r.id, r.order.name, r.status, r.status_since.to_rfc3339()));
    for t in &r.timeline {
        out.push_str(&format!(
            "    {} {:<16} {:?} {} -> {} {} {}\n",
            t.at.format("%m-%d %H:%M:%S"),
            t.actor,
            t.kind,
            t.from.as_deref().unwrap_or(""),
            t.to.as_deref().unwrap_or(""),
            t.po.as_deref().unwrap_or(""),
            t.note
        ));
    }
    for p in &r.purchase_orders {
        out.push_str(&format!("    po {} {} at {}\n", p.number, p.status, p.supplier_id));
    }
    for a in books.asks.iter().filter(|a| a.order_id == order) {
        out.push_str(&format!(
            "    supplier {} got {} at {} ({}){}\n",
            a.supplier,
            a.po_number,
            a.at.format("%m-%d %H:%M:%S"),
            a.ended.unwrap_or("live"),
            if a.shipped { ", shipped" } else { "" }
        ));
    }
    out
}
