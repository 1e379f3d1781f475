//! Simulated suppliers that keep books per order line, not per idempotency key: which lines
//! each was asked to ship, under which purchase order numbers, and whether each ask is still
//! live (not rejected, not cancelled by a notice). They answer as real suppliers do: accept and
//! ship, reject, stay silent past the deadline, answer late, accept after a rejection; their
//! callbacks are delivered later, some twice, some out of order, some long after.

use crate::faults::lock;
use crate::rng::Rng;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use dropline_app::ports::{Clock, GatewayError, SupplierGateway};
use dropline_domain::catalog::Supplier;
use dropline_domain::order::{AckStatus, SupplierEvent};
use dropline_domain::wire::supplier::{CancellationNotice, PurchaseOrderDocument, SubmitReceipt};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How a supplier answers, as probabilities per purchase order.
#[derive(Debug, Clone, Copy)]
pub struct Temperament {
    pub reject: f64,
    /// Never answers: the acknowledgment deadline passes.
    pub silent: f64,
    /// Rejects, then accepts the same purchase order later.
    pub accept_after_reject: f64,
    /// Answers within this many minutes.
    pub answer_within_minutes: i64,
}

/// One ask: a purchase order as the supplier received it (the first time under its key).
#[derive(Debug, Clone)]
pub struct Ask {
    pub supplier: String,
    pub purchase_order_id: String,
    pub po_number: String,
    pub idempotency_key: String,
    pub order_id: String,
    pub lines: Vec<(String, u32)>,
    pub at: DateTime<Utc>,
    /// Rejected by the supplier, or cancelled by a notice: no longer live.
    pub ended: Option<&'static str>,
    pub shipped: bool,
}

/// A callback waiting to be delivered.
#[derive(Debug, Clone)]
pub struct Callback {
    pub due: DateTime<Utc>,
    /// When the supplier first sent it: a retry or a stale repeat carries the same.
    pub sent_at: DateTime<Utc>,
    pub supplier: String,
    pub event: SupplierEvent,
}

#[derive(Default)]
pub struct Books {
    pub asks: Vec<Ask>,
    /// Submissions received, repeats included.
    pub requests: usize,
    pub cancellations: Vec<String>,
    pub outbox: Vec<Callback>,
    /// Delivered callbacks kept to be sent again later (stale deliveries).
    pub delivered: Vec<Callback>,
    /// What the books saw that breaks the promise, as it happened.
    pub violations: Vec<String>,
}

impl Books {
    fn live_for(&self, order_id: &str, line_id: &str) -> Vec<&Ask> {
        self.asks
            .iter()
            .filter(|a| a.ended.is_none() && a.order_id == order_id && a.lines.iter().any(|(l, _)| l == line_id))
            .collect()
    }

    /// Asks of an order line ever made, live or not, by supplier.
    pub fn asks_for(&self, order_id: &str, line_id: &str) -> Vec<&Ask> {
        self.asks.iter().filter(|a| a.order_id == order_id && a.lines.iter().any(|(l, _)| l == line_id)).collect()
    }
}

pub struct SoakSuppliers {
    pub books: Mutex<Books>,
    temperaments: BTreeMap<String, Temperament>,
    rng: Mutex<Rng>,
    clock: Arc<dyn Clock>,
}

impl SoakSuppliers {
    pub fn new(seed: u64, clock: Arc<dyn Clock>, temperaments: BTreeMap<String, Temperament>) -> Self {
        Self { books: Mutex::default(), temperaments, rng: Mutex::new(Rng::new(seed ^ 0x5EED)), clock }
    }

    /// Callbacks due by `now`, taken from the outbox, with some duplicated, some held back to be
    /// sent again much later (stale), in a shuffled order.
    pub fn due_callbacks(&self, now: DateTime<Utc>) -> Vec<Callback> {
        let mut books = lock(&self.books);
        let mut rng = lock(&self.rng);
        let (due, later): (Vec<Callback>, Vec<Callback>) = books.outbox.drain(..).partition(|c| c.due <= now);
        books.outbox = later;
        let mut out = Vec::new();
        for c in &due {
            // What the supplier did takes effect when it says so.
            let po = c.event.purchase_order_id().to_string();
            if let Some(a) = books.asks.iter_mut().find(|a| a.purchase_order_id == po) {
                match &c.event {
                    SupplierEvent::Acknowledgment { status: AckStatus::Rejected, .. } => a.ended = Some("rejected"),
                    // Accepting after a rejection makes the ask live again.
                    SupplierEvent::Acknowledgment { status: AckStatus::Accepted, .. }
                        if a.ended == Some("rejected") =>
                    {
                        a.ended = None
                    }
                    SupplierEvent::Shipment { .. } => a.shipped = true,
                    _ => {}
                }
            }
        }
        for c in due {
            if rng.chance(0.1) {
                out.push(c.clone());
            }
            if rng.chance(0.05) {
                books
                    .delivered
                    .push(Callback { due: now + Duration::minutes(rng.between(30, 600) as i64), ..c.clone() });
            }
            out.push(c);
        }
        // Stale repeats whose time has come.
        let (stale, keep): (Vec<Callback>, Vec<Callback>) = books.delivered.drain(..).partition(|c| c.due <= now);
        books.delivered = keep;
        out.extend(stale);
        rng.shuffle(&mut out);
        out
    }

    /// Callbacks not yet delivered.
    pub fn pending_callbacks(&self) -> usize {
        let b = lock(&self.books);
        b.outbox.len() + b.delivered.len()
    }

    fn decide(&self, doc: &PurchaseOrderDocument, now: DateTime<Utc>) -> Vec<Callback> {
        let t = self.temperaments.get(doc.supplier_id.as_str()).copied().unwrap_or(Temperament {
            reject: 0.0,
            silent: 0.0,
            accept_after_reject: 0.0,
            answer_within_minutes: 30,
        });
        let mut rng = lock(&self.rng);
        let po = doc.purchase_order_id.to_string();
        let supplier = doc.supplier_id.to_string();
        let at = |rng: &mut Rng, minutes: i64| now + Duration::minutes(rng.between(1, minutes.max(1) as u64) as i64);
        let ack = |status: AckStatus, reason: Option<&str>| SupplierEvent::Acknowledgment {
            purchase_order_id: po.clone(),
            status,
            reason_code: reason.map(String::from),
            message: reason.map(|r| format!("simulated {r}")),
            supplier_reference: (status == AckStatus::Accepted).then(|| format!("{}-{}", supplier, doc.po_number)),
        };
        let u = rng.unit();
        if u < t.silent {
            return Vec::new();
        }
        let mut out = Vec::new();
        let first = at(&mut rng, t.answer_within_minutes);
        if u < t.silent + t.reject {
            out.push(Callback {
                due: first,
                sent_at: first,
                supplier: supplier.clone(),
                event: ack(AckStatus::Rejected, Some("INVENTORY_OUT_OF_STOCK")),
            });
            return out;
        }
        if u < t.silent + t.reject + t.accept_after_reject {
            out.push(Callback {
                due: first,
                sent_at: first,
                supplier: supplier.clone(),
                event: ack(AckStatus::Rejected, Some("INVENTORY_OUT_OF_STOCK")),
            });
            let later = first + Duration::minutes(rng.between(5, 120) as i64);
            out.push(Callback {
                due: later,
                sent_at: later,
                supplier: supplier.clone(),
                event: ack(AckStatus::Accepted, None),
            });
            return out;
        }
        out.push(Callback {
            due: first,
            sent_at: first,
            supplier: supplier.clone(),
            event: ack(AckStatus::Accepted, None),
        });
        let shipped = first + Duration::hours(rng.between(2, 30) as i64);
        out.push(Callback {
            due: shipped,
            sent_at: shipped,
            supplier,
            event: SupplierEvent::Shipment {
                purchase_order_id: po.clone(),
                carrier: "dhl".into(),
                tracking_number: format!("JD01460000{:08}", rng.between(0, 99_999_999)),
                shipped_at: None,
            },
        });
        out
    }
}

#[async_trait]
impl SupplierGateway for SoakSuppliers {
    async fn submit(&self, supplier: &Supplier, doc: &PurchaseOrderDocument) -> Result<SubmitReceipt, GatewayError> {
        let now = self.clock.now();
        let mut books = lock(&self.books);
        books.requests += 1;
        if books.asks.iter().any(|a| a.idempotency_key == doc.idempotency_key) {
            return Ok(SubmitReceipt { supplier_reference: None, duplicate: true });
        }
        let order_id = doc.purchase_order_id.order_id().to_string();
        let mut found = Vec::new();
        for line in &doc.lines {
            for live in books.live_for(&order_id, &line.line_id) {
                found.push(format!(
                    "order {order_id} line {}: asked of {} under {} while live at {} under {}",
                    line.line_id, supplier.id, doc.po_number, live.supplier, live.po_number
                ));
            }
        }
        books.violations.extend(found);
        books.asks.push(Ask {
            supplier: supplier.id.to_string(),
            purchase_order_id: doc.purchase_order_id.to_string(),
            po_number: doc.po_number.clone(),
            idempotency_key: doc.idempotency_key.clone(),
            order_id,
            lines: doc.lines.iter().map(|l| (l.line_id.clone(), l.quantity)).collect(),
            at: now,
            ended: None,
            shipped: false,
        });
        drop(books);
        let callbacks = self.decide(doc, now);
        let mut books = lock(&self.books);
        books.outbox.extend(callbacks);
        Ok(SubmitReceipt { supplier_reference: None, duplicate: false })
    }

    async fn cancel(&self, _supplier: &Supplier, notice: &CancellationNotice) -> Result<(), GatewayError> {
        let mut books = lock(&self.books);
        books.cancellations.push(notice.purchase_order_id.to_string());
        let po = notice.purchase_order_id.to_string();
        // A supplier that already shipped cannot cancel: the ask stays (the checker reports it).
        if let Some(a) = books.asks.iter_mut().find(|a| a.purchase_order_id == po && !a.shipped) {
            a.ended = Some("cancelled");
            // It will not ship what it was told to cancel.
            books.outbox.retain(|c| c.event.purchase_order_id() != po);
        }
        Ok(())
    }
}
