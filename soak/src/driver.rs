//! The runner: plays the stores (webhooks, retried until answered 2xx, some sent twice), the
//! suppliers' callbacks, Lambda's event source mapping (batches, partial failures, deletes that
//! get lost), the schedules (escalation and tracking, overlapping the rest) and an operator
//! releasing held orders; every handler call is an invocation a fault can stop. Then a quiet
//! phase, faults off, until the pipeline settles.

use crate::faults::{FaultPlan, Invocation, Outcome, lock};
use crate::rng::Rng;
use crate::suppliers::Callback;
use crate::workload::{self, PlannedOrder, Store};
use crate::world::World;
use chrono::{DateTime, Duration, Utc};
use dropline_app::ports::{QueueConsumer, ReceivedMessage};
use dropline_domain::order::OrderStatus;
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::wire::messages::Step;
use dropline_domain::wire::signature;
use dropline_domain::wire::supplier::{SIGNATURE_HEADER, SupplierCallback};
use dropline_ingest::WebRequest;
use dropline_local::demo::{SHOPIFY_SECRET, WOO_SECRET, supplier_secret};
use dropline_local::pipeline::sqs_event;
use futures_util::future::{BoxFuture, join_all};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A webhook the store will send (again, until answered 2xx).
#[derive(Debug, Clone)]
struct Webhook {
    due: DateTime<Utc>,
    order: usize,
    version: u32,
    attempt: u32,
    delivery_id: String,
}

/// What the runner saw.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub webhooks_sent: u64,
    pub webhooks_answered: BTreeMap<u16, u64>,
    pub webhooks_abandoned: u64,
    pub callbacks_sent: u64,
    pub callbacks_answered: BTreeMap<u16, u64>,
    /// Callbacks refused with a 4xx, by status, error code and what the callback said.
    pub callbacks_refused: BTreeMap<String, u64>,
    pub invocations: u64,
    pub crashes: u64,
    pub releases: u64,
    pub escalation_runs: u64,
    pub tracking_runs: u64,
    pub chaos_ticks: u64,
    pub quiet_rounds: u64,
    /// Signed Shopify bodies re-posted under the other shop's domain (a captured delivery
    /// replayed), and how many of them were accepted (each one a violation).
    pub replays_sent: u64,
    pub replays_accepted: u64,
}

pub struct Driver<'w> {
    pub world: &'w World,
    pub orders: Vec<PlannedOrder>,
    /// Orders the store got a 2xx for, by their number, with the id Dropline answered.
    pub acknowledged: Mutex<BTreeMap<u32, OrderId>>,
    /// When the store's update of an order (its version 1) was first answered 2xx.
    pub updates_acknowledged: Mutex<BTreeMap<u32, DateTime<Utc>>>,
    webhooks: Mutex<Vec<Webhook>>,
    retry_callbacks: Mutex<Vec<Retry>>,
    rng: Mutex<Rng>,
    pub tally: Mutex<Tally>,
}

const TICK: i64 = 20;

/// A callback to send again, with the attempts so far.
type Retry = (Callback, u32);

impl<'w> Driver<'w> {
    pub fn new(world: &'w World, orders: Vec<PlannedOrder>, seed: u64) -> Self {
        let mut webhooks = Vec::new();
        for (i, o) in orders.iter().enumerate() {
            webhooks.push(Webhook {
                due: o.created_at,
                order: i,
                version: 0,
                attempt: 0,
                delivery_id: format!("d{}-0", o.n),
            });
            if let Some((_, after)) = o.change {
                webhooks.push(Webhook {
                    due: o.created_at + after,
                    order: i,
                    version: 1,
                    attempt: 0,
                    delivery_id: format!("d{}-1", o.n),
                });
            }
        }
        Self {
            world,
            orders,
            acknowledged: Mutex::default(),
            updates_acknowledged: Mutex::default(),
            webhooks: Mutex::new(webhooks),
            retry_callbacks: Mutex::default(),
            rng: Mutex::new(Rng::new(seed ^ 0xD81E)),
            tally: Mutex::default(),
        }
    }

    fn faults(&self) -> &FaultPlan {
        &self.world.faults
    }

    fn now(&self) -> DateTime<Utc> {
        use dropline_app::ports::Clock;
        self.world.clock.now()
    }

    async fn invoke<T>(&self, f: impl std::future::Future<Output = T>) -> Option<T> {
        lock(&self.tally).invocations += 1;
        match Invocation::run(f).await {
            Outcome::Finished(t) => Some(t),
            Outcome::Crashed => {
                lock(&self.tally).crashes += 1;
                None
            }
        }
    }

    fn webhook_request(&self, w: &Webhook) -> WebRequest {
        let o = &self.orders[w.order];
        let body = workload::body(o, w.version);
        let topic = if w.version == 0 { "create" } else { "update" };
        match &o.store {
            Store::Shopify(shop) => {
                let sig = signature::sign(SHOPIFY_SECRET.as_bytes(), &body);
                let topic = if topic == "create" { "orders/create" } else { "orders/updated" };
                WebRequest::post(
                    "/webhooks/shopify",
                    &[
                        ("content-type", "application/json"),
                        ("x-shopify-shop-domain", shop),
                        ("x-shopify-topic", topic),
                        ("x-shopify-webhook-id", w.delivery_id.as_str()),
                        ("x-shopify-hmac-sha256", sig.as_str()),
                    ],
                    body,
                )
            }
            Store::WooCommerce => {
                let sig = signature::sign(WOO_SECRET.as_bytes(), &body);
                let topic = if topic == "create" { "order.created" } else { "order.updated" };
                WebRequest::post(
                    "/webhooks/woocommerce",
                    &[
                        ("content-type", "application/json"),
                        ("x-wc-webhook-source", workload::WOO_SITE),
                        ("x-wc-webhook-topic", topic),
                        ("x-wc-webhook-delivery-id", w.delivery_id.as_str()),
                        ("x-wc-webhook-signature", sig.as_str()),
                    ],
                    body,
                )
            }
        }
    }

    async fn send_webhook(&self, w: Webhook) {
        let req = self.webhook_request(&w);
        lock(&self.tally).webhooks_sent += 1;
        let answer = self.invoke(self.world.pipeline.ingest.handle(req)).await;
        let status = answer.as_ref().map(|a| a.status).unwrap_or(504);
        *lock(&self.tally).webhooks_answered.entry(status).or_default() += 1;
        let now = self.now();
        match answer {
            Some(a) if (200..300).contains(&a.status) => {
                if let Some(id) = a.body["order_id"].as_str().and_then(|s| OrderId::new(s).ok()) {
                    lock(&self.acknowledged).insert(self.orders[w.order].n, id);
                }
                if w.version > 0 {
                    lock(&self.updates_acknowledged).entry(self.orders[w.order].n).or_insert(now);
                }
                // Someone who captured this signed body posts it again as the other shop.
                let replay = self.faults().rates().duplicate > 0.0 && lock(&self.rng).chance(0.02);
                if replay && let Store::Shopify(shop) = &self.orders[w.order].store {
                    let other = if *shop == workload::SHOPS[0] { workload::SHOPS[1] } else { workload::SHOPS[0] };
                    let mut req = self.webhook_request(&w);
                    if let Ok(v) = http::HeaderValue::from_str(other) {
                        req.headers.insert("x-shopify-shop-domain", v);
                    }
                    if let Ok(v) = http::HeaderValue::from_str(&format!("replay-{}", w.delivery_id)) {
                        req.headers.insert("x-shopify-webhook-id", v);
                    }
                    lock(&self.tally).replays_sent += 1;
                    if let Some(a) = self.invoke(self.world.pipeline.ingest.handle(req)).await
                        && (200..300).contains(&a.status)
                    {
                        lock(&self.tally).replays_accepted += 1;
                    }
                }
                // Stores resend what they think timed out: now and then a 2xx'd delivery again.
                let mut rng = lock(&self.rng);
                if self.faults().rates().duplicate > 0.0 && rng.chance(0.03) {
                    let later = now + Duration::seconds(rng.between(1, 3600) as i64);
                    lock(&self.webhooks).push(Webhook { due: later, attempt: w.attempt + 1, ..w });
                }
            }
            _ if w.attempt < 8 => {
                // Shopify retries 8 times over about 4 hours.
                let wait = Duration::seconds(30 * (1 << w.attempt.min(8)));
                lock(&self.webhooks).push(Webhook { due: now + wait, attempt: w.attempt + 1, ..w });
            }
            _ => lock(&self.tally).webhooks_abandoned += 1,
        }
    }

    async fn send_callback(&self, c: Callback, attempt: u32) {
        let callback = SupplierCallback::new(c.event.clone(), c.sent_at);
        let body = serde_json::to_vec(&callback).unwrap_or_default();
        let sig = signature::sign(supplier_secret(&c.supplier).as_bytes(), &body);
        let req = WebRequest::post(
            &format!("/suppliers/{}/events", c.supplier),
            &[("content-type", "application/json"), (SIGNATURE_HEADER, sig.as_str())],
            body,
        );
        lock(&self.tally).callbacks_sent += 1;
        let answer = self.invoke(self.world.pipeline.ingest.handle(req)).await;
        let status = answer.as_ref().map(|a| a.status).unwrap_or(504);
        *lock(&self.tally).callbacks_answered.entry(status).or_default() += 1;
        if let Some(a) = answer.as_ref().filter(|a| (400..500).contains(&a.status)) {
            let said = serde_json::to_value(&c.event).unwrap_or_default();
            let what = format!(
                "{} {}: {} {}",
                a.status,
                a.body["error"].as_str().unwrap_or("?"),
                said["type"].as_str().unwrap_or("?"),
                said["status"].as_str().unwrap_or("")
            );
            *lock(&self.tally).callbacks_refused.entry(what.trim_end().to_string()).or_default() += 1;
        }
        if status >= 500 && attempt < 10 {
            let due = self.now() + Duration::minutes(2 * i64::from(attempt + 1));
            lock(&self.retry_callbacks).push((Callback { due, ..c }, attempt + 1));
        }
    }

    /// One receive, one invocation, then the deletes of what it did not report failed.
    async fn pump(&self, step: Step) -> usize {
        let queues = &self.world.faulty_queues;
        let Ok(mut batch) = queues.receive(step, 10).await else { return 0 };
        if batch.is_empty() {
            return 0;
        }
        self.faults().reorder("queue.receive", &mut batch);
        let event = sqs_event(&batch);
        let p = &self.world.pipeline;
        let response = match step {
            Step::Validate => self.invoke(p.validate.handle(event)).await,
            Step::Route => self.invoke(p.route.handle(event)).await,
            Step::NotifySupplier => {
                // As Lambda would: the invocation ends by the function's timeout (30 s).
                let deadline = self.now() + Duration::seconds(30);
                self.invoke(p.notify.handle_by(event, Some(deadline))).await
            }
        };
        let Some(response) = response else { return batch.len() };
        let failed: std::collections::HashSet<String> =
            response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
        for m in batch.iter().filter(|m: &&ReceivedMessage| !failed.contains(&m.message_id)) {
            if !self.faults().lose_delete() {
                let _ = queues.delete(step, &m.receipt).await;
            }
        }
        batch.len()
    }

    async fn escalate(&self) {
        lock(&self.tally).escalation_runs += 1;
        let _ = self.invoke(self.world.pipeline.escalate.run()).await;
    }

    async fn track(&self) {
        lock(&self.tally).tracking_runs += 1;
        let _ = self.invoke(self.world.pipeline.poll.run()).await;
    }

    /// An operator releases some orders held for more than an hour (the CLI's release).
    async fn operator(&self) {
        let now = self.now();
        let mut held: Vec<OrderId> = Vec::new();
        self.world.store.for_each(|r| {
            if r.status == OrderStatus::OnHold && r.status_since < now - Duration::hours(1) {
                held.push(r.id.clone());
            }
        });
        held.sort();
        for id in held {
            if !lock(&self.rng).chance(0.3) {
                continue;
            }
            let w = self.world;
            let released = self
                .invoke(dropline_cli::holds::release(
                    w.faulty_store.as_ref(),
                    w.faulty_queues.as_ref(),
                    w.faulty_stock.as_ref(),
                    &id,
                    "soak operator: fixed and released",
                    "operator@soak",
                    now,
                ))
                .await;
            if matches!(released, Some(Ok(_))) {
                lock(&self.tally).releases += 1;
            }
        }
    }

    fn due_webhooks(&self, now: DateTime<Utc>) -> Vec<Webhook> {
        let mut all = lock(&self.webhooks);
        let (due, later): (Vec<Webhook>, Vec<Webhook>) = all.drain(..).partition(|w| w.due <= now);
        *all = later;
        due
    }

    fn due_callbacks(&self, now: DateTime<Utc>) -> Vec<Retry> {
        let mut out: Vec<Retry> = self.world.suppliers.due_callbacks(now).into_iter().map(|c| (c, 0)).collect();
        let mut retry = lock(&self.retry_callbacks);
        let (due, later): (Vec<Retry>, Vec<Retry>) = retry.drain(..).partition(|(c, _)| c.due <= now);
        *retry = later;
        out.extend(due);
        out
    }

    /// The chaos phase: until every webhook has been sent, faults on.
    pub async fn chaos(&self) {
        let mut tick: u64 = 0;
        while !lock(&self.webhooks).is_empty() {
            let now = self.now();
            let mut work: Vec<BoxFuture<'_, ()>> = Vec::new();
            for w in self.due_webhooks(now) {
                work.push(Box::pin(self.send_webhook(w)));
            }
            for (c, attempt) in self.due_callbacks(now) {
                work.push(Box::pin(self.send_callback(c, attempt)));
            }
            for step in Step::ALL {
                for _ in 0..2 {
                    work.push(Box::pin(async move {
                        self.pump(step).await;
                    }));
                }
            }
            if tick.is_multiple_of(15) {
                work.push(Box::pin(self.escalate()));
            }
            if tick % 30 == 7 {
                work.push(Box::pin(self.track()));
            }
            if tick % 90 == 45 {
                work.push(Box::pin(self.operator()));
            }
            join_all(work).await;
            self.world.clock.advance(Duration::seconds(TICK));
            tick += 1;
        }
        lock(&self.tally).chaos_ticks = tick;
    }

    /// Pumps every queue until nothing is visible, moving the clock past the visibility timeout
    /// while messages are in flight.
    async fn drain(&self) {
        for _ in 0..50 {
            let mut received = 0;
            for step in Step::ALL {
                loop {
                    let n = self.pump(step).await;
                    received += n;
                    if n == 0 {
                        break;
                    }
                }
            }
            let in_flight = self.world.in_flight().await;
            if received == 0 && in_flight == 0 {
                return;
            }
            if received == 0 {
                self.world.let_messages_return();
            }
        }
    }

    /// The quiet phase: faults off, the schedules keep running and time passes (hours, then
    /// days) until nothing moves, or 30 days.
    pub async fn quiet(&self) {
        self.faults().set_enabled(false);
        let end = self.now() + Duration::days(30);
        let mut still = 0;
        let mut last = String::new();
        let mut round = 0u64;
        while self.now() < end {
            for (c, attempt) in self.due_callbacks(self.now()) {
                self.send_callback(c, attempt).await;
            }
            self.drain().await;
            self.escalate().await;
            self.drain().await;
            self.track().await;
            self.drain().await;
            let digest = self.progress_digest();
            still = if digest == last { still + 1 } else { 0 };
            last = digest;
            let idle = self.world.suppliers.pending_callbacks() == 0 && lock(&self.retry_callbacks).is_empty();
            if still >= 6 && idle && self.every_order_settled() {
                break;
            }
            // Minutes while answers and retries settle, then hours, then a quarter of a day while
            // only escalation rounds and parcels move (they count in days).
            let step = match round {
                0..36 => Duration::minutes(10),
                36..96 => Duration::hours(1),
                _ => Duration::hours(6),
            };
            self.world.clock.advance(step);
            round += 1;
        }
        lock(&self.tally).quiet_rounds = round;
    }

    /// Whether every order answered 2xx has ended or is in front of a human.
    fn every_order_settled(&self) -> bool {
        let ids: std::collections::HashSet<OrderId> = lock(&self.acknowledged).values().cloned().collect();
        let mut settled = true;
        self.world.store.for_each(|r| {
            settled &= !ids.contains(&r.id)
                || r.status.is_terminal()
                || r.status == OrderStatus::OnHold
                || r.escalations.iter().any(|e| e.status_since == r.status_since);
        });
        settled
    }

    /// What has changed: statuses and purchase-order statuses of every order.
    fn progress_digest(&self) -> String {
        let mut rows: Vec<String> = Vec::new();
        self.world.store.for_each(|r| {
            let mut s = format!("{}{}", r.id, r.status.as_str());
            for p in &r.purchase_orders {
                s.push_str(p.status.as_str());
            }
            rows.push(s);
        });
        rows.sort();
        rows.concat()
    }
}
