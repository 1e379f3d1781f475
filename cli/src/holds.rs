//! Working held orders: list them, fix an address, override a reason with a note, release them
//! back into validation. Every change is a conditional write through the order store and lands
//! on the order's timeline with the operator's name.

use chrono::{DateTime, Duration, Utc};
use dropline_app::batch::StepError;
use dropline_app::order_update::update_order;
use dropline_app::ports::{OrderRef, OrderStore, StockLedger, WorkQueue};
use dropline_app::stock::reconcile_stock;
use dropline_domain::findings::HoldCategory;
use dropline_domain::order::Address;
use dropline_domain::order::OrderRecord;
use dropline_domain::order::OrderStatus;
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::wire::messages::{Step, WorkMessage};
use std::fmt::Write as _;

/// Which held orders to list.
#[derive(Debug, Clone, Default)]
pub struct HoldFilter {
    /// Only orders held for at least one reason of this category.
    pub category: Option<HoldCategory>,
    /// Only orders held at least this long.
    pub older_than: Option<Duration>,
    pub limit: usize,
}

/// Held orders, oldest first, through the status index (never a scan).
pub async fn list(store: &dyn OrderStore, filter: &HoldFilter, now: DateTime<Utc>) -> Result<Vec<OrderRecord>, String> {
    let before = now - filter.older_than.unwrap_or_else(Duration::zero);
    let limit = if filter.limit == 0 { 100 } else { filter.limit };
    let mut out = Vec::new();
    let mut after: Option<OrderRef> = None;
    loop {
        let page = store
            .in_status_since_before(OrderStatus::OnHold, before, 100, after.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = page.last().cloned() else { break };
        for r in &page {
            let Some(record) = store.get(&r.id).await.map_err(|e| e.to_string())? else { continue };
            // The index is eventually consistent: trust the record.
            if record.status != OrderStatus::OnHold {
                continue;
            }
            if filter.category.is_some_and(|c| !record.holds.iter().any(|h| h.category == c)) {
                continue;
            }
            out.push(record);
            if out.len() >= limit {
                return Ok(out);
            }
        }
        after = Some(last);
    }
    Ok(out)
}

/// One line per held order: id, name, held since, categories and codes.
pub fn render_list(records: &[OrderRecord], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    writeln!(out, "{} held order(s)", records.len()).ok();
    for r in records {
        let age = now.signed_duration_since(r.status_since);
        let codes: Vec<String> = r.holds.iter().map(|h| format!("{} ({})", h.code, category(h.category))).collect();
        writeln!(
            out,
            "  {}  {:<8} held {:>6}  {}",
            r.id,
            r.order.name,
            human(age),
            if codes.is_empty() { "(no reason recorded)".to_string() } else { codes.join(", ") }
        )
        .ok();
    }
    out
}

pub fn category(c: HoldCategory) -> String {
    serde_json::to_value(c).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn human(d: Duration) -> String {
    match d.num_minutes() {
        m if m < 60 => format!("{m}m"),
        m if m < 48 * 60 => format!("{}h", m / 60),
        m => format!("{}d", m / (24 * 60)),
    }
}

/// The actor recorded for an operator's change.
pub fn actor(by: &str) -> String {
    format!("operator:{}", by.trim())
}

async fn change<T, F>(store: &dyn OrderStore, id: &OrderId, f: F) -> Result<(OrderRecord, T), String>
where
    F: FnMut(&mut OrderRecord) -> Result<Option<T>, StepError>,
{
    let u = update_order(store, id, f).await.map_err(|e| match e {
        StepError::Poison(m) => m,
        other => other.to_string(),
    })?;
    let value = u.value.ok_or_else(|| "nothing changed".to_string())?;
    Ok((u.record, value))
}

/// Replaces fields of a held order's shipping address; returns the record and the fields that
/// changed. The address is checked again when the order is released.
pub async fn set_address(
    store: &dyn OrderStore,
    id: &OrderId,
    patch: &AddressPatch,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(OrderRecord, Vec<&'static str>), String> {
    let actor = actor(by);
    change(store, id, |r| {
        let address = patch.apply(r.order.shipping_address.clone().unwrap_or_default());
        r.set_address(address, &actor, now).map(Some).map_err(|e| StepError::Poison(e.to_string()))
    })
    .await
}

/// Records an operator's override of one hold reason, with the note saying why.
pub async fn override_hold(
    store: &dyn OrderStore,
    id: &OrderId,
    code: &str,
    note: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<OrderRecord, String> {
    let actor = actor(by);
    change(store, id, |r| {
        r.override_hold(code, note, &actor, now).map(Some).map_err(|e| StepError::Poison(e.to_string()))
    })
    .await
    .map(|(r, ())| r)
}

/// Moves a held order back to RECEIVED and enqueues its validation; purchase orders it cancels
/// (not sent, or rejected) give their stock back. Releasing an order that is already RECEIVED
/// by an operator's release repeats only what follows the write (the first try may have died).
pub async fn release(
    store: &dyn OrderStore,
    queue: &dyn WorkQueue,
    stock: &dyn StockLedger,
    id: &OrderId,
    note: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<OrderRecord, String> {
    let actor = actor(by);
    let u = update_order(store, id, |r| {
        if r.status == OrderStatus::Received && r.status_set_by() == Some(actor.as_str()) {
            return Ok(None);
        }
        r.release(&actor, note, now).map(Some).map_err(|e| StepError::Poison(e.to_string()))
    })
    .await
    .map_err(|e| match e {
        StepError::Poison(m) => m,
        other => other.to_string(),
    })?;
    for po in &u.record.purchase_orders {
        reconcile_stock(stock, po)
            .await
            .map_err(|e| format!("released, but stock not given back ({e}); run it again"))?;
    }
    queue.enqueue(Step::Validate, &[WorkMessage::order(id.clone(), &actor)]).await.map_err(|e| {
        format!(
            "released, but validation was not enqueued ({e}); run the release again or wait for the escalation sweep"
        )
    })?;
    Ok(u.record)
}

/// The address fields an operator gives; the others keep their value.
#[derive(Debug, Clone, Default)]
pub struct AddressPatch {
    pub name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
}

impl AddressPatch {
    pub fn is_empty(&self) -> bool {
        [
            &self.name,
            &self.company,
            &self.line1,
            &self.line2,
            &self.city,
            &self.region,
            &self.postal_code,
            &self.country,
            &self.phone,
        ]
        .iter()
        .all(|f| f.is_none())
    }

    pub fn apply(&self, mut a: Address) -> Address {
        let set = |field: &mut String, v: &Option<String>| {
            if let Some(v) = v {
                *field = v.trim().to_string();
            }
        };
        set(&mut a.name, &self.name);
        set(&mut a.company, &self.company);
        set(&mut a.line1, &self.line1);
        set(&mut a.line2, &self.line2);
        set(&mut a.city, &self.city);
        set(&mut a.region, &self.region);
        set(&mut a.postal_code, &self.postal_code);
        set(&mut a.country, &self.country);
        set(&mut a.phone, &self.phone);
        if self.country.is_some() {
            a.country = a.country.to_ascii_uppercase();
        }
        a
    }
}
