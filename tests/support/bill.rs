//! The AWS bill per 1,000 orders at list prices, from what a run really requested: DynamoDB's
//! consumed capacity (`ReturnConsumedCapacity` on every call), the SQS and EventBridge units the
//! functions' clients sent, Lambda invocations and their measured durations at the template's
//! memory, API Gateway requests and the bytes logged.

use std::fmt::Write;

/// When the prices below were read (AWS's public pricing pages, us-east-1, on-demand).
pub const PRICES_AS_OF: &str = "2026-12-01, us-east-1 list prices";

/// One price: US dollars per `per` units of `unit`.
#[derive(Debug, Clone, Copy)]
pub struct Price {
    pub item: &'static str,
    pub unit: &'static str,
    pub usd: f64,
    pub per: f64,
}

/// Every price the bill uses, in one table.
pub const PRICES: [Price; 9] = [
    Price { item: "DynamoDB writes", unit: "write request unit", usd: 0.625, per: 1e6 },
    Price { item: "DynamoDB reads", unit: "read request unit", usd: 0.125, per: 1e6 },
    Price { item: "SQS", unit: "request (64 KB chunk)", usd: 0.40, per: 1e6 },
    Price { item: "EventBridge", unit: "custom event (64 KB chunk)", usd: 1.00, per: 1e6 },
    Price { item: "Lambda requests", unit: "invocation", usd: 0.20, per: 1e6 },
    Price { item: "Lambda compute (arm64)", unit: "GB-second", usd: 0.000_013_333_4, per: 1.0 },
    Price { item: "API Gateway HTTP API", unit: "request", usd: 1.00, per: 1e6 },
    Price { item: "CloudWatch Logs", unit: "GB ingested", usd: 0.50, per: 1.0 },
    // Lambda's event source mapping receives and deletes the messages; AWS bills them as SQS
    // requests (at most 10 messages per receive and per delete batch).
    Price { item: "SQS (Lambda's pollers)", unit: "request (64 KB chunk)", usd: 0.40, per: 1e6 },
];

/// What a run of `orders` orders used.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub orders: u64,
    pub dynamodb_write_units: f64,
    pub dynamodb_read_units: f64,
    /// SQS units the functions sent (sends, visibility changes), in 64 KB chunks.
    pub sqs_units: u64,
    /// Messages Lambda's pollers received and deleted for the functions.
    pub sqs_messages_consumed: u64,
    pub eventbridge_events: u64,
    pub lambda_invocations: u64,
    pub lambda_gb_seconds: f64,
    pub http_requests: u64,
    pub log_bytes: u64,
}

/// One line of the bill: the quantity per 1,000 orders, the price and the cost.
#[derive(Debug, Clone)]
pub struct Line {
    pub price: Price,
    pub per_thousand: f64,
    pub cost: f64,
}

/// The bill per 1,000 orders, line by line, in `PRICES`' order.
pub fn bill(u: &Usage) -> Vec<Line> {
    let scale = 1000.0 / u.orders.max(1) as f64;
    // A receive and a delete per batch of up to 10 messages.
    let pollers = (u.sqs_messages_consumed as f64 / 10.0).ceil() * 2.0;
    let quantities = [
        u.dynamodb_write_units,
        u.dynamodb_read_units,
        u.sqs_units as f64,
        u.eventbridge_events as f64,
        u.lambda_invocations as f64,
        u.lambda_gb_seconds,
        u.http_requests as f64,
        u.log_bytes as f64 / 1e9,
        pollers,
    ];
    PRICES
        .iter()
        .zip(quantities)
        .map(|(p, q)| {
            let per_thousand = q * scale;
            Line { price: *p, per_thousand, cost: per_thousand * p.usd / p.per }
        })
        .collect()
}

/// The bill as the bench prints it, ending with `cost per 1,000 orders: $X.XXXX`.
pub fn render(u: &Usage) -> String {
    let lines = bill(u);
    let total: f64 = lines.iter().map(|l| l.cost).sum();
    let mut out = String::new();
    let _ = writeln!(out, "prices: {PRICES_AS_OF}; {} orders measured", u.orders);
    for l in &lines {
        let price = if l.price.per == 1.0 {
            format!("${} per {}", l.price.usd, l.price.unit)
        } else {
            format!("${} per million ({})", l.price.usd, l.price.unit)
        };
        let share = if total > 0.0 { l.cost / total * 100.0 } else { 0.0 };
        let _ = writeln!(
            out,
            "  {:<24} {:>14.4} per 1,000 orders  x {:<44} = ${:.5}  ({share:>4.1}%)",
            l.price.item, l.per_thousand, price, l.cost
        );
    }
    let top = lines.iter().max_by(|a, b| a.cost.total_cmp(&b.cost)).map(|l| l.price.item).unwrap_or("-");
    let _ = writeln!(out, "dominated by: {top}");
    let _ = writeln!(out, "cost per 1,000 orders: ${total:.4}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bill_scales_to_a_thousand_orders_and_adds_up() {
        let u = Usage {
            orders: 10,
            dynamodb_write_units: 1000.0,
            dynamodb_read_units: 400.0,
            sqs_units: 50,
            sqs_messages_consumed: 30,
            eventbridge_events: 80,
            lambda_invocations: 60,
            lambda_gb_seconds: 2.0,
            http_requests: 30,
            log_bytes: 100_000,
        };
        let lines = bill(&u);
        assert!((lines[0].per_thousand - 100_000.0).abs() < 1e-9, "writes scaled by 100");
        assert!((lines[0].cost - 0.0625).abs() < 1e-12);
        assert!((lines[8].per_thousand - 600.0).abs() < 1e-9, "3 batches x 2 requests x 100");
        let text = render(&u);
        let total: f64 = lines.iter().map(|l| l.cost).sum();
        assert!(text.ends_with(&format!("cost per 1,000 orders: ${total:.4}\n")), "{text}");
    }
}
