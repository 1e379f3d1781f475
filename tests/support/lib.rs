//! Test support: the emulator environment, a whole pipeline stack on the emulators, the contract
//! suites every adapter must pass, and a stand-in for the Lambda Runtime API.

pub mod bill;
pub mod contract;
pub mod load;
pub mod runtime_api;
pub mod sweep;
pub mod throughput;

use chrono::Utc;
use dropline_adapters::aws::DynamoRoutingConfig;
use dropline_adapters::aws::{
    AwsClients, DynamoCatalog, DynamoIdempotencyStore, DynamoOrderStore, EventBridgePublisher, SqsWorkQueue,
    load_secrets,
};
use dropline_adapters::http::{Egress, HttpCarrierTracker, HttpSupplierGateway, RetryPolicy};
use dropline_adapters::memory::ManualClock;
use dropline_app::caches::ConfigCache;
use dropline_app::ports::{EventPublisher, RoutingConfigStore};
use dropline_domain::catalog::CatalogDocument;
use dropline_domain::escalation::Thresholds;
use dropline_domain::validation::ValidationPolicy;
use dropline_local::pipeline::{Pipeline, Ports};
use dropline_local::provision::{Infra, QueueSettings, provision, put_secret};
use dropline_local::server::serve_ingest;
use dropline_local::sim::{HttpCarrierSim, HttpSupplierSim, SupplierBehaviour, serve_carrier, serve_suppliers};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// Fails the test with instructions when the emulators are not running.
pub fn require_emulators() {
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_err() || std::env::var("AWS_ENDPOINT_URL_SQS").is_err() {
        panic!(
            "integration tests need DynamoDB Local and moto: run `make test`, or `make emulators-up` then \
             `source .run/env` before `cargo test`"
        );
    }
}

pub async fn aws() -> AwsClients {
    require_emulators();
    AwsClients::from_env().await
}

/// A name no other test uses (tests share the emulators and run in parallel).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

pub const SHOPIFY_SECRET: &str = dropline_local::demo::SHOPIFY_SECRET;
pub const WOO_SECRET: &str = dropline_local::demo::WOO_SECRET;

/// Options for a stack.
#[derive(Clone)]
pub struct StackOptions {
    pub queues: QueueSettings,
    pub supplier_behaviour: HashMap<String, SupplierBehaviour>,
    /// The routing configuration to publish (the demo's when none).
    pub routing: Option<String>,
    /// Whether notify-supplier leases its messages as in Lambda. Off by default: the lease is
    /// reckoned on the manual clock, which SQS does not follow (a crashed invocation's message
    /// would stay hidden for real seconds).
    pub lease_messages: bool,
    /// Meters the stack's DynamoDB calls (the load run).
    pub meter: Option<dropline_adapters::aws::CapacityMeter>,
    /// The catalog to load (the demo's when none); its suppliers' endpoints are the stack's.
    pub catalog: Option<CatalogDocument>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            queues: QueueSettings { visibility_timeout_s: 2, max_receive_count: 3 },
            supplier_behaviour: HashMap::new(),
            routing: None,
            lease_messages: false,
            meter: None,
            catalog: None,
        }
    }
}

/// The whole pipeline on the emulators: real DynamoDB Local and moto over HTTP with the real
/// SDK, ingest served over HTTP, a simulated supplier and carrier on loopback.
pub struct Stack {
    pub aws: AwsClients,
    pub infra: Infra,
    pub clock: Arc<ManualClock>,
    pub store: Arc<DynamoOrderStore>,
    pub queues: Arc<SqsWorkQueue>,
    pub idempotency: Arc<DynamoIdempotencyStore>,
    pub pipeline: Pipeline,
    pub ingest_addr: SocketAddr,
    pub suppliers: HttpSupplierSim,
    pub carrier: HttpCarrierSim,
    pub catalog: CatalogDocument,
    /// The catalog table's adapter (offers and stock reservations).
    pub ledger: Arc<DynamoCatalog>,
    pub http: reqwest::Client,
    pub secrets: dropline_domain::wire::secrets::SecretBook,
    pub events: Arc<dyn EventPublisher>,
}

impl Stack {
    pub async fn start(opts: StackOptions) -> Stack {
        let aws = match &opts.meter {
            Some(meter) => {
                require_emulators();
                let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                AwsClients::metered(&conf, meter.clone())
            }
            None => aws().await,
        };
        let infra = provision(&aws, &unique("dl"), opts.queues).await.expect("provision");
        let mut doc = match &opts.catalog {
            Some(doc) => doc.clone(),
            None => dropline_local::demo::catalog().expect("demo catalog"),
        };
        put_secret(&aws, &infra, "shopify", SHOPIFY_SECRET).await.expect("secret");
        put_secret(&aws, &infra, &format!("woocommerce/{}", dropline_local::demo::WOO_HOST), WOO_SECRET)
            .await
            .expect("secret");
        let mut supplier_secrets = HashMap::new();
        for s in &doc.suppliers {
            let secret = dropline_local::demo::supplier_secret(s.id.as_str());
            put_secret(&aws, &infra, &format!("suppliers/{}", s.id), &secret).await.expect("secret");
            supplier_secrets.insert(s.id.to_string(), secret);
        }
        let secrets = load_secrets(aws.ssm(), &infra.secrets_path).await.expect("load secrets");
        let secrets_for_tests = secrets.clone();

        let clock = Arc::new(ManualClock::new(Utc::now()));
        let store = Arc::new(DynamoOrderStore::new(aws.dynamodb().clone(), &infra.orders_table));
        let idempotency = Arc::new(DynamoIdempotencyStore::new(aws.dynamodb().clone(), &infra.idempotency_table));
        let mut sqs = SqsWorkQueue::new(aws.sqs().clone(), infra.queues.clone());
        sqs.wait_seconds = 0;
        let queues = Arc::new(sqs);
        let events: Arc<dyn EventPublisher> =
            Arc::new(EventBridgePublisher::new(aws.eventbridge().clone(), &infra.event_bus));
        let catalog = Arc::new(DynamoCatalog::new(aws.dynamodb().clone(), &infra.catalog_table));
        let carrier = serve_carrier("127.0.0.1:0".parse().expect("addr")).await.expect("serve carrier");
        let policy = RetryPolicy {
            timeout: std::time::Duration::from_secs(2),
            max_attempts: 2,
            base_backoff: std::time::Duration::from_millis(20),
        };
        let routing = DynamoRoutingConfig::new(aws.dynamodb().clone(), &infra.catalog_table);
        let demo_routing = opts.routing.clone().unwrap_or_else(|| dropline_local::demo::ROUTING.to_string());
        let version = dropline_domain::routing::config::RoutingConfig::parse("routing.json", &demo_routing)
            .expect("routing configuration")
            .version;
        routing.publish(version, &demo_routing).await.expect("publish routing configuration");
        let pipeline = Pipeline::wire(Ports {
            queue_visibility: opts
                .lease_messages
                .then(|| chrono::Duration::seconds(opts.queues.visibility_timeout_s.into())),
            store: store.clone(),
            idempotency: idempotency.clone(),
            queue: queues.clone(),
            consumer: queues.clone(),
            events: events.clone(),
            catalog: catalog.clone(),
            stock: catalog.clone(),
            outcomes: catalog.clone(),
            gateway: Arc::new(HttpSupplierGateway::new(
                dropline_app::secrets::SecretCache::fixed(secrets.clone()),
                policy,
                Egress::WITH_LOOPBACK,
            )),
            tracker: Arc::new(HttpCarrierTracker::new(
                &carrier.base_url(),
                std::time::Duration::from_secs(2),
                Egress::WITH_LOOPBACK,
            )),
            clock: clock.clone(),
            secrets,
            policy: ValidationPolicy::default(),
            thresholds: Thresholds::default(),
            routing: Arc::new(ConfigCache::new(Arc::new(routing), std::time::Duration::from_secs(60))),
        });
        let ingest_addr =
            serve_ingest("127.0.0.1:0".parse().expect("addr"), pipeline.ingest.clone()).await.expect("serve ingest");
        let suppliers = serve_suppliers(
            "127.0.0.1:0".parse().expect("addr"),
            supplier_secrets,
            opts.supplier_behaviour.clone(),
            format!("http://{ingest_addr}"),
            false,
        )
        .await
        .expect("serve suppliers");
        for s in &mut doc.suppliers {
            s.endpoint = suppliers.endpoint(s.id.as_str());
        }
        catalog.load(&doc).await.expect("load catalog");
        Stack {
            aws,
            infra,
            clock,
            store,
            queues,
            idempotency,
            pipeline,
            ingest_addr,
            suppliers,
            carrier,
            catalog: doc,
            ledger: catalog.clone(),
            http: reqwest::Client::new(),
            secrets: secrets_for_tests,
            events,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.ingest_addr, path)
    }

    /// Posts a demo delivery (signed with `secret`) to ingest over HTTP.
    pub async fn post_delivery(&self, d: &dropline_local::demo::Delivery, secret: &str) -> (u16, serde_json::Value) {
        let req = d.request(secret);
        let mut builder = self.http.post(self.url(&req.path)).body(req.body.to_vec());
        for (k, v) in req.headers.iter() {
            builder = builder.header(k, v);
        }
        let resp = builder.send().await.expect("post to ingest");
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// Drains the queues until nothing is left, waiting out visibility timeouts of failed
    /// messages (bounded).
    pub async fn settle(&self) {
        for _ in 0..30 {
            self.pipeline.drain().await.expect("drain");
            let mut waiting = 0;
            for step in dropline_domain::wire::messages::Step::ALL {
                waiting += self.queue_depth(step).await;
            }
            if waiting == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }

    /// Messages in a step's queue, visible or in flight.
    pub async fn queue_depth(&self, step: dropline_domain::wire::messages::Step) -> usize {
        self.depth(&self.infra.queues.urls[&step]).await
    }

    pub async fn dlq_depth(&self, step: dropline_domain::wire::messages::Step) -> usize {
        self.depth(&self.infra.queues.dead_letter_urls[&step]).await
    }

    async fn depth(&self, url: &str) -> usize {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = self
            .aws
            .sqs()
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes");
        let get = |k: A| out.attributes().and_then(|a| a.get(&k)).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
        get(A::ApproximateNumberOfMessages) + get(A::ApproximateNumberOfMessagesNotVisible)
    }
}

/// The first bundled Shopify happy-path delivery.
pub fn shopify_delivery() -> dropline_local::demo::Delivery {
    dropline_local::demo::deliveries()
        .expect("deliveries")
        .into_iter()
        .find(|d| d.case == "ok_us_single")
        .expect("ok_us_single delivery")
}

pub fn delivery(case: &str) -> dropline_local::demo::Delivery {
    dropline_local::demo::deliveries()
        .expect("deliveries")
        .into_iter()
        .find(|d| d.case == case)
        .unwrap_or_else(|| panic!("no bundled delivery {case}"))
}
