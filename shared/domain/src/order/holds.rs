//! What operators do to held orders: override a finding, fix the address, release.

use crate::findings::{FindingCode, Override};
use crate::order::*;
use crate::primitives::ids::PurchaseOrderId;
use chrono::{DateTime, Utc};

/// Why an operator's change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    #[error("the order is {0}, not ON_HOLD")]
    NotHeld(OrderStatus),
    #[error("the order is not held for {0}; its holds: {1}")]
    NoSuchHold(String, String),
    #[error("{0} can't be overridden: fix its cause (see the hold's resolution)")]
    NotOverridable(String),
    #[error("an override needs a note saying why")]
    NoteRequired,
    #[error("nothing to change: the address is already that")]
    Unchanged,
    #[error(
        "purchase orders {0} already went to their suppliers: cancel them with the supplier, or wait for \
         re-routing of part of an order (not supported yet)"
    )]
    PurchaseOrdersOut(String),
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

impl OrderRecord {
    /// The operator's override of `code`, if any.
    pub fn overridden(&self, code: FindingCode) -> Option<&Override> {
        self.overrides.iter().find(|o| o.code == code)
    }

    /// Records that `code` does not stop this held order (the next validation keeps it as a
    /// warning). The order stays held until released.
    pub fn override_hold(&mut self, code: &str, note: &str, by: &str, now: DateTime<Utc>) -> Result<(), OperatorError> {
        if self.status != OrderStatus::OnHold {
            return Err(OperatorError::NotHeld(self.status));
        }
        let held = FindingCode::parse(code).filter(|c| self.holds.iter().any(|h| h.code == *c));
        let Some(code) = held else {
            let codes: Vec<&str> = self.holds.iter().map(|h| h.code.as_str()).collect();
            return Err(OperatorError::NoSuchHold(code.to_string(), codes.join(", ")));
        };
        if !code.overridable() {
            return Err(OperatorError::NotOverridable(code.to_string()));
        }
        if note.trim().is_empty() {
            return Err(OperatorError::NoteRequired);
        }
        self.overrides.retain(|o| o.code != code);
        self.overrides.push(Override { code, note: note.trim().into(), by: by.into(), at: now });
        self.note(by, TimelineKind::Note, None, format!("override {code}: {}", note.trim()), now);
        Ok(())
    }

    /// Replaces the shipping address of a held order; returns the fields that changed (recorded
    /// on the timeline by name, never by value: addresses stay out of logs and histories).
    pub fn set_address(
        &mut self,
        address: crate::order::Address,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<&'static str>, OperatorError> {
        if self.status != OrderStatus::OnHold {
            return Err(OperatorError::NotHeld(self.status));
        }
        let old = self.order.shipping_address.clone().unwrap_or_default();
        let pairs: [(&'static str, &String, &String); 9] = [
            ("name", &old.name, &address.name),
            ("company", &old.company, &address.company),
            ("line1", &old.line1, &address.line1),
            ("line2", &old.line2, &address.line2),
            ("city", &old.city, &address.city),
            ("region", &old.region, &address.region),
            ("postal_code", &old.postal_code, &address.postal_code),
            ("country", &old.country, &address.country),
            ("phone", &old.phone, &address.phone),
        ];
        let changed: Vec<&'static str> = pairs.iter().filter(|(_, a, b)| a != b).map(|(f, _, _)| *f).collect();
        if changed.is_empty() && self.order.shipping_address.is_some() {
            return Err(OperatorError::Unchanged);
        }
        self.order.shipping_address = Some(address);
        self.note(by, TimelineKind::Note, None, format!("shipping address set: {}", changed.join(", ")), now);
        Ok(changed)
    }

    /// Sends a held order back into validation (which applies the overrides), to be routed
    /// afresh: purchase orders not sent yet, and rejected ones, are cancelled (their stock goes
    /// back when the caller reconciles them). Refused while a purchase order is with a supplier.
    pub fn release(&mut self, by: &str, note: &str, now: DateTime<Utc>) -> Result<(), OperatorError> {
        if self.status != OrderStatus::OnHold {
            return Err(OperatorError::NotHeld(self.status));
        }
        let out: Vec<String> = self
            .purchase_orders
            .iter()
            .filter(|p| !matches!(p.status, PoStatus::Pending | PoStatus::Rejected | PoStatus::Cancelled))
            .map(|p| p.number.clone())
            .collect();
        if !out.is_empty() {
            return Err(OperatorError::PurchaseOrdersOut(out.join(", ")));
        }
        let ended: Vec<PurchaseOrderId> = self
            .purchase_orders
            .iter()
            .filter(|p| matches!(p.status, PoStatus::Pending | PoStatus::Rejected))
            .map(|p| p.id.clone())
            .collect();
        for id in &ended {
            self.transition_po(id, PoStatus::Cancelled, by, "superseded: the order was released to route again", now)?;
        }
        let mut note =
            if note.trim().is_empty() { "released for validation".to_string() } else { note.trim().to_string() };
        if !self.routing_exclusions.is_empty() {
            // Routing starts afresh: suppliers that failed this order may be chosen again.
            let cleared: Vec<&str> = self.routing_exclusions.iter().map(|x| x.supplier_id.as_str()).collect();
            note = format!("{note}; routing exclusions cleared: {}", cleared.join(", "));
            self.routing_exclusions.clear();
        }
        self.transition(OrderStatus::Received, by, note, now)?;
        Ok(())
    }
}
