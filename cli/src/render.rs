//! Human-readable views of orders for the operator CLI.

use dropline_domain::order::OrderRecord;
use std::fmt::Write as _;

/// An order's state, its purchase orders, holds, escalations and its timeline.
pub fn order(r: &OrderRecord) -> String {
    let mut out = String::new();
    let o = &r.order;
    writeln!(out, "Order {} ({} {} on {})", r.id, o.channel, o.name, o.store).ok();
    writeln!(out, "  status      {} since {}", r.status, r.status_since.to_rfc3339()).ok();
    writeln!(out, "  version     {}", r.version).ok();
    writeln!(out, "  received    {} (topic {})", r.receipt.received_at.to_rfc3339(), r.receipt.topic).ok();
    writeln!(out, "  payment     {}, total {} {}", o.financial_status.as_str(), o.totals.total, o.currency).ok();
    writeln!(out, "  ships to    {}", o.destination_country().unwrap_or("(no address)")).ok();
    writeln!(out, "  lines").ok();
    for l in &o.lines {
        writeln!(
            out,
            "    {} x{} {} ({})",
            l.sku.as_ref().map(|s| s.as_str()).unwrap_or("(no SKU)"),
            l.quantity,
            l.title,
            l.unit_price
        )
        .ok();
    }
    for (title, findings) in [("holds", &r.holds), ("warnings", &r.warnings)] {
        if findings.is_empty() {
            continue;
        }
        writeln!(out, "  {title}").ok();
        for h in findings {
            writeln!(out, "    {} ({:?}) [{}] {}", h.code, h.category, h.field.as_deref().unwrap_or("-"), h.message)
                .ok();
            if let Some(fix) = &h.resolution {
                writeln!(out, "      resolve: {fix}").ok();
            }
        }
    }
    if !r.overrides.is_empty() {
        writeln!(out, "  overrides").ok();
        for o in &r.overrides {
            writeln!(out, "    {} by {} at {}: {}", o.code, o.by, o.at.to_rfc3339(), o.note).ok();
        }
    }
    if !r.purchase_orders.is_empty() {
        writeln!(out, "  purchase orders").ok();
        for p in &r.purchase_orders {
            let ship = p
                .shipment
                .as_ref()
                .map(|s| format!(", {} {} ({})", s.carrier, s.tracking_number, s.status))
                .unwrap_or_default();
            writeln!(out, "    {} {} -> {}: {}{}", p.number, p.id, p.supplier_id, p.status, ship).ok();
        }
    }
    if !r.escalations.is_empty() {
        writeln!(out, "  escalations").ok();
        for e in &r.escalations {
            writeln!(out, "    {} {} (round {}): {}", e.at.to_rfc3339(), e.kind.as_str(), e.round, e.message).ok();
        }
    }
    writeln!(out, "  timeline").ok();
    for e in &r.timeline {
        let change = match (&e.from, &e.to) {
            (Some(f), Some(t)) => format!("{f} -> {t}"),
            (None, Some(t)) => t.clone(),
            _ => String::new(),
        };
        let po = e.po.as_ref().map(|p| format!(" [{p}]")).unwrap_or_default();
        let note = if e.note.is_empty() { String::new() } else { format!(" - {}", e.note) };
        writeln!(
            out,
            "    {}  {:<16} {:?}{} {}{}",
            e.at.format("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.kind,
            po,
            change,
            note
        )
        .ok();
    }
    out
}

/// The verdict of `dropline address check`: text, or JSON with `ok` and `issues`.
pub fn address_verdict(v: &dropline_domain::validation::address::AddressVerdict, json: bool) -> String {
    use dropline_domain::findings::Severity;
    let severity = |s: Severity| if s == Severity::Hold { "hold" } else { "warning" };
    if json {
        let issues: Vec<serde_json::Value> = v
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "code": f.code,
                    "severity": severity(f.severity),
                    "field": f.field,
                    "message": f.message,
                    "resolution": f.resolution,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "ok": v.ok(),
            "issues": issues,
            "po_box": v.po_box,
            "normalized": v.address,
            "changes": v.changes,
        });
        return format!("{}\n", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    let mut out = String::new();
    writeln!(
        out,
        "{}",
        if v.ok() { "OK: nothing would hold this address" } else { "HOLD: this address would hold the order" }
    )
    .ok();
    for f in &v.findings {
        writeln!(out, "  {:<8} {} [{}] {}", severity(f.severity), f.code, f.field.as_deref().unwrap_or("-"), f.message)
            .ok();
        if let Some(r) = &f.resolution {
            writeln!(out, "           resolve: {r}").ok();
        }
    }
    for c in &v.changes {
        writeln!(out, "  normalized {}: {:?} -> {:?}", c.field, c.from, c.to).ok();
    }
    out
}
