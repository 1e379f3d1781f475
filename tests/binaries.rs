//! Each function's real binary, started against a stand-in for the Lambda Runtime API and the
//! emulators, handed one event: the deployable artefacts and their wiring (configuration,
//! clients, secrets at init) are tested, not only the handlers.
//!
//! Needs the binaries built first (`cargo build --workspace --bins`; `make test` does it).

use dropline_adapters::aws::{DynamoCatalog, DynamoOrderStore};
use dropline_app::ports::OrderStore;
use dropline_domain::order::{OrderStatus, PoStatus};
use dropline_domain::primitives::ids::{OrderId, PurchaseOrderId};
use dropline_domain::wire::messages::WorkMessage;
use dropline_local::provision::{QueueSettings, provision, put_secret};
use dropline_local::sim::serve_suppliers;
use dropline_tests::runtime_api::{Outcome, RuntimeApi};
use dropline_tests::{aws, shopify_delivery, unique};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn binary(name: &str) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (make test does)",
        path.display()
    );
    path
}

/// A running function binary and its runtime API.
struct Function {
    api: RuntimeApi,
    child: tokio::process::Child,
    init: Duration,
}

async fn start(name: &str, env: &[(&str, String)]) -> Function {
    let api = RuntimeApi::start().await;
    let mut cmd = tokio::process::Command::new(binary(name));
    cmd.env("AWS_LAMBDA_RUNTIME_API", api.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", format!("dropline-{name}"))
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/dropline-{name}"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let child = cmd.spawn().expect("spawn function binary");
    let first = api.wait_first_poll(Duration::from_secs(20)).await;
    let first = first.unwrap_or_else(|| panic!("{name} never polled for work (init error: {:?})", api.init_error()));
    let init = first.duration_since(started);
    println!("{name}: exec to first runtime poll {:.1} ms", init.as_secs_f64() * 1000.0);
    Function { api, child, init }
}

impl Function {
    async fn invoke(&self, event: Value) -> Value {
        match self.api.invoke(&event, Duration::from_secs(30)).await {
            Some(Outcome::Response(v)) => v,
            Some(Outcome::Error(e)) => panic!("function answered an error: {e}"),
            None => panic!("no answer"),
        }
    }
    async fn stop(mut self) -> Duration {
        let _ = self.child.kill().await;
        self.init
    }
}

fn api_gateway_event(path: &str, headers: &HashMap<String, String>, body: &str) -> Value {
    json!({
        "version": "2.0",
        "routeKey": format!("POST {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000", "apiId": "local", "domainName": "local.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "local", "requestId": "r-1", "routeKey": format!("POST {path}"), "stage": "$default",
            "time": "21/Nov/2026:05:00:00 +0000", "timeEpoch": 1_795_000_000_000u64,
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "Shopify-Captain-Hook"}
        },
        "body": body,
        "isBase64Encoded": false
    })
}

fn sqs_event(bodies: &[(&str, String)]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id, "receiptHandle": format!("rh-{id}"), "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795000000000"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:q", "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

fn scheduled_event() -> Value {
    json!({
        "version": "0", "id": "e-1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "000000000000", "time": "2026-11-21T05:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/dropline"], "detail": {}
    })
}

#[tokio::test]
async fn each_function_binary_serves_one_event_through_the_runtime_api() {
    let aws = aws().await;
    let infra = provision(&aws, &unique("bin"), QueueSettings::default()).await.expect("provision");
    put_secret(&aws, &infra, "shopify", dropline_tests::SHOPIFY_SECRET).await.expect("secret");
    put_secret(&aws, &infra, "fingerprints", "binaries-test-fingerprint-key").await.expect("secret");
    let mut doc = dropline_local::demo::catalog().expect("catalog");
    let mut supplier_secrets = HashMap::new();
    for s in &doc.suppliers {
        let secret = dropline_local::demo::supplier_secret(s.id.as_str());
        put_secret(&aws, &infra, &format!("suppliers/{}", s.id), &secret).await.expect("secret");
        supplier_secrets.insert(s.id.to_string(), secret);
    }
    let sim = serve_suppliers(
        "127.0.0.1:0".parse().expect("addr"),
        supplier_secrets,
        HashMap::new(),
        "http://127.0.0.1:9".into(),
        false,
    )
    .await
    .expect("supplier sim");
    for s in &mut doc.suppliers {
        s.endpoint = sim.endpoint(s.id.as_str());
    }
    DynamoCatalog::new(aws.dynamodb().clone(), &infra.catalog_table).load(&doc).await.expect("catalog");
    // Route reads the routing configuration from the catalog table's item (the default source).
    dropline_app::ports::RoutingConfigStore::publish(
        &dropline_adapters::aws::DynamoRoutingConfig::new(aws.dynamodb().clone(), &infra.catalog_table),
        1,
        dropline_local::demo::ROUTING,
    )
    .await
    .expect("routing configuration");
    let store = DynamoOrderStore::new(aws.dynamodb().clone(), &infra.orders_table);

    let q = |s: dropline_domain::wire::messages::Step| infra.queues.urls[&s].clone();
    use dropline_domain::wire::messages::Step;
    let common = vec![
        ("DROPLINE_ORDERS_TABLE", infra.orders_table.clone()),
        ("DROPLINE_IDEMPOTENCY_TABLE", infra.idempotency_table.clone()),
        ("DROPLINE_CATALOG_TABLE", infra.catalog_table.clone()),
        ("DROPLINE_EVENT_BUS", infra.event_bus.clone()),
        ("DROPLINE_SECRETS_PATH", infra.secrets_path.clone()),
        ("DROPLINE_VALIDATE_QUEUE_URL", q(Step::Validate)),
        ("DROPLINE_ROUTE_QUEUE_URL", q(Step::Route)),
        ("DROPLINE_NOTIFY_QUEUE_URL", q(Step::NotifySupplier)),
    ];
    let mut inits = Vec::new();

    // ingest: a signed Shopify webhook in an API Gateway HTTP API event.
    let d = shopify_delivery();
    let req = d.request(dropline_tests::SHOPIFY_SECRET);
    let headers: HashMap<String, String> =
        req.headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let body = String::from_utf8(req.body.to_vec()).expect("utf8");
    let f = start("ingest", &common).await;
    let answer = f.invoke(api_gateway_event("/webhooks/shopify", &headers, &body)).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let reply: Value = serde_json::from_str(answer["body"].as_str().unwrap_or("")).expect("json body");
    let order_id = OrderId::new(reply["order_id"].as_str().expect("order id")).expect("valid id");
    let forged = f
        .invoke(api_gateway_event(
            "/webhooks/shopify",
            &{
                let mut h = headers.clone();
                h.insert("x-shopify-hmac-sha256".into(), "AAAA".into());
                h
            },
            &body,
        ))
        .await;
    assert_eq!(forged["statusCode"], 401);
    inits.push(("ingest", f.stop().await));
    assert_eq!(store.get(&order_id).await.expect("get").expect("stored").status, OrderStatus::Received);

    // validate: its SQS message plus a poison one in the same batch.
    let msg = WorkMessage::order(order_id.clone(), "test").to_json();
    let f = start("validate", &common).await;
    let answer = f.invoke(sqs_event(&[("m-good", msg.clone()), ("m-poison", "not json".into())])).await;
    assert_eq!(answer["batchItemFailures"], json!([{"itemIdentifier": "m-poison"}]), "{answer}");
    inits.push(("validate", f.stop().await));
    assert_eq!(store.get(&order_id).await.expect("get").expect("stored").status, OrderStatus::Validated);

    // route
    let f = start("route", &common).await;
    let answer = f.invoke(sqs_event(&[("m-1", msg.clone())])).await;
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
    inits.push(("route", f.stop().await));
    let r = store.get(&order_id).await.expect("get").expect("stored");
    assert_eq!(r.status, OrderStatus::Routed);

    // notify-supplier: the purchase order goes to the (simulated) supplier over HTTP.
    // Deployed, it reaches public addresses only: the supplier's loopback endpoint is refused
    // (retried, then dead-lettered with the reason), and nothing is sent.
    let po = PurchaseOrderId::new(order_id.clone(), 1);
    let f = start("notify-supplier", &common).await;
    let answer = f.invoke(sqs_event(&[("m-1", WorkMessage::purchase_order(po.clone(), "test").to_json())])).await;
    assert_eq!(answer["batchItemFailures"], json!([{"itemIdentifier": "m-1"}]), "{answer}");
    f.stop().await;
    assert_eq!(sim.requests(), 0, "nothing reached the loopback endpoint");
    // With loopback allowed (the local runner, these tests) it is sent.
    let mut env = common.clone();
    env.push(("DROPLINE_ALLOW_LOOPBACK_ENDPOINTS", "1".into()));
    let f = start("notify-supplier", &env).await;
    let answer = f.invoke(sqs_event(&[("m-1", WorkMessage::purchase_order(po.clone(), "test").to_json())])).await;
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
    inits.push(("notify-supplier", f.stop().await));
    let r = store.get(&order_id).await.expect("get").expect("stored");
    assert_eq!(r.po(&po).map(|p| p.status), Some(PoStatus::Submitted));
    assert_eq!(sim.requests(), 1);

    // poll-tracking and escalate: scheduled events, answered with a summary.
    let mut env = common.clone();
    env.push(("DROPLINE_CARRIER_API_URL", "http://127.0.0.1:9".into()));
    let f = start("poll-tracking", &env).await;
    let answer = f.invoke(scheduled_event()).await;
    assert_eq!(answer["orders_due"], 0, "{answer}");
    inits.push(("poll-tracking", f.stop().await));

    let mut env = common.clone();
    env.push(("DROPLINE_ESCALATION_THRESHOLDS", "submitted=1s".into()));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let f = start("escalate", &env).await;
    let answer = f.invoke(scheduled_event()).await;
    assert_eq!(answer["escalated"], 1, "the submitted order is overdue against a 1 s limit: {answer}");
    inits.push(("escalate", f.stop().await));
    let r = store.get(&order_id).await.expect("get").expect("stored");
    assert_eq!(r.escalations.len(), 1);

    for (name, init) in inits {
        println!("init {name}: {:.1} ms (debug build)", init.as_secs_f64() * 1000.0);
    }
}

#[tokio::test]
async fn a_function_with_missing_configuration_reports_an_init_error() {
    let api = RuntimeApi::start().await;
    let mut child = tokio::process::Command::new(binary("validate"))
        .env("AWS_LAMBDA_RUNTIME_API", api.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "dropline-validate")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env_remove("DROPLINE_ORDERS_TABLE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait()).await.expect("exits").expect("status");
    assert!(!status.success(), "a misconfigured function exits instead of serving");
    let mut err = String::new();
    use tokio::io::AsyncReadExt;
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err).await.ok();
    }
    assert!(err.contains("DROPLINE_ORDERS_TABLE"), "the error names the variable: {err}");
}

fn dropline(args: &[&str], env: &[(&str, String)]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(binary("dropline"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run dropline");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test]
async fn the_operator_cli_shows_orders_and_redrives_dead_letters() {
    use dropline_domain::wire::messages::Step;
    let aws = aws().await;
    let infra = provision(&aws, &unique("cli"), QueueSettings { visibility_timeout_s: 1, max_receive_count: 1 })
        .await
        .expect("provision");
    let env = vec![("DROPLINE_ORDERS_TABLE", infra.orders_table.clone())];

    // catalog load
    let path = std::env::temp_dir().join(format!("{}-catalog.json", infra.prefix));
    std::fs::write(&path, dropline_local::demo::CATALOG).expect("write catalog");
    let (code, out, err) =
        dropline(&["catalog", "load", path.to_str().expect("path"), "--table", &infra.catalog_table], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("loaded 3 supplier(s)"), "{out}");

    // order show: an order written through the store, then read by the CLI.
    let store = DynamoOrderStore::new(aws.dynamodb().clone(), &infra.orders_table);
    let record = dropline_tests::contract::new_record(1, chrono::Utc::now());
    store.create(&record).await.expect("create");
    let (code, out, err) = dropline(&["order", "show", record.id.as_str()], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("status      RECEIVED"), "{out}");
    assert!(out.contains("timeline"), "{out}");
    assert!(!out.contains("ada@example.com"), "no contact data in the operator view");
    let (code, out, _) = dropline(&["order", "show", record.id.as_str(), "--json"], &env);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["status"], "RECEIVED");
    let (code, _, err) = dropline(&["order", "show", "o_0000000000000000"], &env);
    assert_eq!(code, 1, "unknown order: {err}");
    let (code, _, err) = dropline(&["order", "show", "not an id"], &env);
    assert_eq!(code, 2, "bad input is a clear error: {err}");

    // dlq list / redrive: a poison message received once lands in the DLQ (maxReceiveCount 1).
    let url = infra.queues.urls[&Step::Validate].clone();
    aws.sqs().send_message().queue_url(&url).message_body("{\"order_id\": 42}").send().await.expect("send");
    for _ in 0..10 {
        aws.sqs().receive_message().queue_url(&url).send().await.expect("receive");
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let (_, out, _) = dropline(&["dlq", "list", "validate", "--queue-url", &url], &[]);
        if out.starts_with("1 message") {
            break;
        }
    }
    let (code, out, err) = dropline(&["dlq", "list", "validate", "--queue-url", &url], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("1 message(s) in the validate dead-letter queue"), "{out}");
    assert!(out.contains("unreadable"), "says why: {out}");
    let (code, out, err) = dropline(&["dlq", "redrive", "validate", "--queue-url", &url], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("moved 1 message(s)"), "{out}");
}

#[test]
fn address_check_reads_json_and_exits_by_verdict() {
    use std::io::Write;
    let run = |input: &str, args: &[&str]| {
        let mut child = std::process::Command::new(binary("dropline"))
            .args(["address", "check"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
        let out = child.wait_with_output().expect("wait");
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string())
    };
    // Shopify-style, fine.
    let shopify = r#"{"first_name":"Ada","last_name":"L","address1":"12 Main St","city":"Beverly Hills","province_code":"CA","zip":"90210","country_code":"US"}"#;
    let (code, out) = run(shopify, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("OK"), "{out}");
    // Canonical form wrapped in shipping_address, with a ZIP in another state.
    let mismatch = r#"{"shipping_address":{"name":"Ada","line1":"1 Broadway","city":"New York","region":"California","postal_code":"10004","country":"US"}}"#;
    let (code, out) = run(mismatch, &["--json"]);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["ok"], false);
    let issue = &v["issues"][0];
    assert_eq!(issue["code"], "postal_code_region_mismatch");
    assert_eq!(issue["severity"], "hold");
    assert_eq!(issue["field"], "shipping_address.postal_code");
    // The message names the state, never the customer's postal code (hold messages are shown
    // and stored beside the order; the value is in the address itself).
    assert!(issue["message"].as_str().is_some_and(|m| m.contains("CA") && !m.contains("10004")), "{issue}");
    assert_eq!(v["normalized"]["region"], "CA", "state names become codes");
    // A warning alone is ok.
    let (code, out) = run(
        r#"{"line1":"Main Street","name":"A","city":"Austin","region":"TX","postal_code":"73301","country":"US"}"#,
        &["--json"],
    );
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!((v["ok"].as_bool(), v["issues"][0]["severity"].as_str()), (Some(true), Some("warning")));
    // Unreadable input.
    assert_eq!(run("not json", &[]).0, 2);
    assert_eq!(run("[1, 2]", &[]).0, 2);
}

/// Operators work held orders through the real `dropline` binary against the real queues: a
/// held order fixed and released ends at its supplier; an override is recorded and respected;
/// what can't be overridden or released is refused with a clear error.
#[tokio::test]
async fn held_orders_fixed_overridden_and_released_reach_their_supplier() {
    use dropline_domain::wire::messages::Step;
    let stack = dropline_tests::Stack::start(dropline_tests::StackOptions::default()).await;
    let env = vec![
        ("DROPLINE_ORDERS_TABLE", stack.infra.orders_table.clone()),
        ("DROPLINE_VALIDATE_QUEUE_URL", stack.infra.queues.urls[&Step::Validate].clone()),
        ("DROPLINE_CATALOG_TABLE", stack.infra.catalog_table.clone()),
        ("DROPLINE_OPERATOR", "alice".to_string()),
    ];
    let mut ids = Vec::new();
    for case in ["bad_address_missing_zip", "unpaid_pending", "unmapped_sku"] {
        let d = dropline_tests::delivery(case);
        let (status, body) = stack.post_delivery(&d, d.secret()).await;
        assert_eq!(status, 200, "{body}");
        ids.push(body["order_id"].as_str().expect("order id").to_string());
    }
    stack.settle().await;
    let (zip, unpaid, unmapped) = (&ids[0], &ids[1], &ids[2]);
    let store = stack.store.clone();
    let status = |id: &str| {
        let id = OrderId::new(id).expect("id");
        let store = store.clone();
        async move { store.get(&id).await.expect("get").expect("stored") }
    };
    for id in &ids {
        assert_eq!(status(id).await.status, OrderStatus::OnHold);
    }

    // holds list, by category, and as JSON; holds show.
    let (code, out, err) = dropline(&["holds", "list"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("3 held order(s)"), "{out}");
    assert!(out.contains("address_field_missing (address)") && out.contains("payment_not_accepted (payment)"), "{out}");
    let (_, out, _) = dropline(&["holds", "list", "--category", "address", "--json"], &env);
    let rows: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{out}");
    assert_eq!(rows[0]["order_id"], zip.as_str());
    assert_eq!(rows[0]["holds"][0]["field"], "shipping_address.postal_code");
    let (_, out, _) = dropline(&["holds", "list", "--older-than", "1d"], &env);
    assert!(out.starts_with("0 held order(s)"), "none held a day yet: {out}");
    let (code, _, err) = dropline(&["holds", "list", "--category", "weather"], &env);
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = dropline(&["holds", "show", zip], &env);
    assert_eq!(code, 0);
    assert!(out.contains("address_field_missing") && out.contains("resolve:"), "{out}");

    // Fix the address and release: validated, routed, sent.
    let (code, out, err) = dropline(&["order", "set-address", zip, "--postal-code", "97214"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("shipping address set (postal_code)"), "{out}");
    let (code, out, err) = dropline(&["holds", "release", zip, "--note", "zip confirmed with the customer"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("RECEIVED and queued for validation"), "{out}");
    // Override the payment hold with a note, then release.
    let (code, _, err) = dropline(&["holds", "override", unpaid, "payment_not_accepted", "--note", ""], &env);
    assert_eq!(code, 2, "a note is required: {err}");
    let (code, _, err) = dropline(
        &["holds", "override", unpaid, "payment_not_accepted", "--note", "bank transfer received, checked by hand"],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = dropline(&["holds", "release", unpaid], &env);
    assert_eq!(code, 0, "{err}");
    // Refusals: a reason that can't be overridden, a reason the order doesn't have, a release of
    // an order that isn't held.
    let (code, _, err) = dropline(&["holds", "override", unmapped, "sku_unmapped", "--note", "ship it"], &env);
    assert_eq!(code, 2);
    assert!(err.contains("can't be overridden"), "{err}");
    let (code, _, err) = dropline(&["holds", "override", unmapped, "margin_below_floor", "--note", "x"], &env);
    assert!(code == 2 && err.contains("not held for margin_below_floor"), "{err}");

    stack.settle().await;
    let (code, _, err) = dropline(&["holds", "release", zip], &env);
    assert!(code == 2 && err.contains("not ON_HOLD"), "{err}");
    for id in [zip, unpaid] {
        let r = status(id).await;
        assert_eq!(r.status, OrderStatus::Submitted, "{id}: {:?}", r.holds);
        assert_eq!(r.purchase_orders.len(), 1);
        let actors: Vec<&str> = r.timeline.iter().map(|e| e.actor.as_str()).collect();
        assert!(actors.contains(&"operator:alice"), "who made the change is on the timeline: {actors:?}");
    }
    let paid_by_hand = status(unpaid).await;
    let w = paid_by_hand.warnings.iter().find(|w| w.code == "payment_not_accepted").expect("kept as a warning");
    assert!(w.message.contains("overridden by operator:alice: bank transfer received"), "{}", w.message);
    assert_eq!(stack.suppliers.requests(), 2, "each released order reached its supplier once");
    assert_eq!(status(unmapped).await.status, OrderStatus::OnHold);
    let timeline = &status(zip).await.timeline;
    assert!(!timeline.iter().any(|e| e.note.contains("97214")), "addresses stay out of the timeline");
}

/// `dropline feed import` maps a supplier's CSV onto its offers in the catalog table (rejected
/// rows listed, the rest applied); the new cost reaches the margin check of the next order.
/// `dropline catalog verify` reports what a store's variants would hit.
#[tokio::test]
async fn supplier_feeds_update_the_catalog_and_catalog_verify_reports_problems() {
    use dropline_domain::primitives::ids::Sku;
    let stack = dropline_tests::Stack::start(dropline_tests::StackOptions::default()).await;
    let dir = std::env::temp_dir().join(format!("{}-feed", stack.infra.prefix));
    std::fs::create_dir_all(&dir).expect("dir");
    let mapping = dir.join("northwind.json");
    std::fs::write(
        &mapping,
        r#"{"match_on": "supplier_sku", "columns": {"supplier_sku": "Item No", "stock": "On Hand", "cost": "Unit Cost"}}"#,
    )
    .expect("write");
    let feed = dir.join("northwind.csv");
    std::fs::write(
        &feed,
        "Item No,On Hand,Unit Cost\nNW-TEE-001-BK-M,37,$48.00\nNW-GONE-1,5,1.00\nNW-TEE-001-BK-S,lots,6.40\n",
    )
    .expect("write");
    let env = vec![("DROPLINE_CATALOG_TABLE", stack.infra.catalog_table.clone())];
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "feed".to_string(),
            "import".into(),
            feed.display().to_string(),
            "--supplier".into(),
            "northwind-us".into(),
            "--mapping".into(),
            mapping.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: Vec<String>| dropline(&a.iter().map(String::as_str).collect::<Vec<_>>(), &env);
    let sku = Sku::new("TEE-BLK-M").expect("sku");
    let stock_of_tee = || async {
        let v =
            dropline_app::ports::Catalog::view(stack.ledger.as_ref(), std::slice::from_ref(&sku)).await.expect("view");
        let o = v.offers_for(&sku).iter().find(|o| o.supplier_id.as_str() == "northwind-us").expect("offer").clone();
        (o.stock, o.cost.to_string(), o.stock_as_of.is_some())
    };

    let (code, out, err) = run(args(&["--dry-run"]));
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(stock_of_tee().await, (140, "6.40".to_string(), false), "a dry run writes nothing");
    let (code, out, err) = run(args(&[]));
    assert_eq!(code, 1, "some rows rejected: {err}");
    assert!(out.contains("3 row(s): 1 updated, 0 unchanged, 2 rejected"), "{out}");
    assert!(out.contains("line 3: no offer of northwind-us has supplier SKU \"NW-GONE-1\""), "{out}");
    assert!(out.contains("line 4: stock \"lots\" is not a number"), "{out}");
    assert_eq!(stock_of_tee().await, (37, "48.00".to_string(), true));
    let (code, _, err) =
        dropline(&["feed", "import", "/nonexistent.csv", "--supplier", "x", "--mapping", "/nope.json"], &env);
    assert_eq!(code, 2, "{err}");

    // The tee now costs more than it sells for: the next order holds as pricing.
    let d = shopify_delivery();
    let (status, body) = stack.post_delivery(&d, d.secret()).await;
    assert_eq!(status, 200, "{body}");
    stack.settle().await;
    let id = OrderId::new(body["order_id"].as_str().expect("id")).expect("id");
    let r = stack.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::OnHold);
    assert_eq!(r.holds.iter().map(|h| h.code.as_str()).collect::<Vec<_>>(), vec!["margin_below_floor"]);

    // catalog verify against the table, with the store's variants.
    let variants = dir.join("variants.csv");
    std::fs::write(&variants, "sku,title\nTEE-BLK-M,Tee\nBEANIE-KNT-NVY,Beanie\n").expect("write");
    let v = variants.display().to_string();
    let (code, out, err) = dropline(&["catalog", "verify", "--store-variants", &v, "--json"], &env);
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["ok"], false);
    let kinds: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["kind"].as_str().unwrap_or(""), f["sku"].as_str().unwrap_or("")))
        .collect();
    assert!(kinds.contains(&("unmapped", "BEANIE-KNT-NVY")), "{kinds:?}");
    assert!(kinds.contains(&("discontinued", "POSTER-A3-MAP")), "{kinds:?}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn dev_runner(prefix: &str, ports: (u16, u16, u16)) -> tokio::process::Child {
    tokio::process::Command::new(binary("dropline"))
        .args([
            "dev",
            "--prefix",
            prefix,
            "--listen",
            &format!("127.0.0.1:{}", ports.0),
            "--suppliers-listen",
            &format!("127.0.0.1:{}", ports.1),
            "--carrier-listen",
            &format!("127.0.0.1:{}", ports.2),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn dropline dev")
}

async fn wait_for_port(port: u16) {
    let until = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < until, "dropline dev did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Posts the demo's US Shopify order to a runner's ingest; returns the order id it answered.
async fn post_order(port: u16) -> OrderId {
    let req = shopify_delivery().request(dropline_tests::SHOPIFY_SECRET);
    let mut post = reqwest::Client::new().post(format!("http://127.0.0.1:{port}{}", req.path));
    for (k, v) in &req.headers {
        post = post.header(k.as_str(), v.as_bytes());
    }
    let answer = post.body(req.body.to_vec()).send().await.expect("post");
    assert_eq!(answer.status().as_u16(), 200);
    let reply: Value = answer.json().await.expect("json");
    OrderId::new(reply["order_id"].as_str().expect("order id")).expect("id")
}

/// `make dev` survives its runner: killed with SIGKILL right after it answered a webhook, then
/// started again, the runner finds the order (the emulators' lifetime is not the runner's) and
/// takes it to its supplier. It used to stop DynamoDB Local and moto on exit, losing everything.
#[tokio::test]
async fn the_dev_runner_killed_and_restarted_loses_nothing() {
    let aws = aws().await;
    let prefix = unique("devkill");
    let ports = (free_port(), free_port(), free_port());
    let mut first = dev_runner(&prefix, ports);
    wait_for_port(ports.0).await;
    let order_id = post_order(ports.0).await;
    first.start_kill().expect("kill -9");
    let _ = first.wait().await;

    let mut second = dev_runner(&prefix, ports);
    wait_for_port(ports.0).await;
    let store = DynamoOrderStore::new(aws.dynamodb().clone(), format!("{prefix}-orders"));
    let until = Instant::now() + Duration::from_secs(90);
    loop {
        let r = store.get(&order_id).await.expect("get").expect("the order survived the runner");
        if matches!(r.status, OrderStatus::Submitted | OrderStatus::Accepted | OrderStatus::Shipped) {
            break;
        }
        assert!(Instant::now() < until, "order stuck at {} after the restart: {:?}", r.status, r.timeline);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    second.start_kill().expect("kill");
}

/// What the independent supplier stand-in saw: each purchase-order request with its time, its
/// idempotency key, whether its signature verified, the status it was answered with, and its
/// body.
#[derive(Default)]
struct StandInBooks {
    failing: bool,
    requests: Vec<(Instant, String, bool, u16, Vec<u8>)>,
}

/// A supplier stand-in of its own (not the runner's simulated suppliers): it survives the
/// runner, checks each request's signature, and answers 500 while `failing`.
async fn supplier_stand_in(secret: String) -> (u16, std::sync::Arc<std::sync::Mutex<StandInBooks>>) {
    use axum::http::{HeaderMap, StatusCode};
    use dropline_domain::wire::supplier::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER};
    let books = std::sync::Arc::new(std::sync::Mutex::new(StandInBooks { failing: true, ..Default::default() }));
    let seen = books.clone();
    let app = axum::Router::new().route(
        "/po",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let signed = dropline_domain::wire::signature::verify(&[&secret], &body, &header(SIGNATURE_HEADER));
                let mut b = seen.lock().expect("books");
                let status = if b.failing { 500 } else { 200 };
                b.requests.push((Instant::now(), header(IDEMPOTENCY_HEADER), signed, status, body.to_vec()));
                let code = StatusCode::from_u16(status).expect("status");
                (code, axum::Json(json!({ "supplier_reference": "STAND-IN-1" })))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, books)
}

/// Defect 3b, measured from outside. The runner (`dropline dev`) sends a purchase order to an
/// independent supplier stand-in, which answers 500; the runner is killed with SIGKILL during
/// its backoff and started again. The send's lock used to outlive the invocation by 15 minutes:
/// every redelivery was refused ("being sent by another invocation") until the message
/// dead-lettered and escalation sent it about 20 minutes later. Now the lock ends with the
/// invocation, the first redelivery sends, and the supplier gets the same idempotency key: one
/// purchase order, accepted once. The delay after the restart is printed (the message's
/// visibility timeout bounds it; tests assert no wall-clock time).
#[tokio::test]
async fn a_send_cut_short_by_kill_9_reaches_the_supplier_on_the_first_redelivery() {
    let aws = aws().await;
    let prefix = unique("sendkill");
    let (stand_in, books) = supplier_stand_in(dropline_local::demo::supplier_secret("northwind-us")).await;
    let mut doc: Value =
        serde_json::to_value(dropline_local::demo::catalog().expect("catalog")).expect("catalog as json");
    for s in doc["suppliers"].as_array_mut().expect("suppliers") {
        if s["id"] == "northwind-us" {
            s["endpoint"] = json!(format!("http://127.0.0.1:{stand_in}/po"));
        }
    }
    let dir = std::env::temp_dir().join(&prefix);
    std::fs::create_dir_all(&dir).expect("dir");
    let catalog = dir.join("catalog.json");
    std::fs::write(&catalog, doc.to_string()).expect("write");
    let ports = (free_port(), free_port(), free_port());
    let runner = |with_catalog: bool, log: &str| {
        let mut c = tokio::process::Command::new(binary("dropline"));
        c.args(["dev", "--prefix", &prefix, "--listen", &format!("127.0.0.1:{}", ports.0)])
            .args(["--suppliers-listen", &format!("127.0.0.1:{}", ports.1)])
            .args(["--carrier-listen", &format!("127.0.0.1:{}", ports.2)]);
        if with_catalog {
            c.arg("--catalog").arg(&catalog);
        }
        c.stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join(log)).expect("log"))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn dropline dev")
    };

    let mut first = runner(true, "first.log");
    wait_for_port(ports.0).await;
    let order_id = post_order(ports.0).await;

    // The first attempt is answered 500; the runner dies in the backoff before its retry.
    let until = Instant::now() + Duration::from_secs(90);
    while books.lock().expect("books").requests.is_empty() {
        assert!(Instant::now() < until, "the purchase order never reached the stand-in");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.start_kill().expect("kill -9");
    let _ = first.wait().await;
    books.lock().expect("books").failing = false;
    let attempts_before = books.lock().expect("books").requests.len();

    let restarted = Instant::now();
    let mut second = runner(false, "second.log");
    let until = Instant::now() + Duration::from_secs(180);
    let delivered_at = loop {
        if let Some(r) = books.lock().expect("books").requests.iter().find(|r| r.3 == 200) {
            break r.0;
        }
        assert!(Instant::now() < until, "the purchase order did not reach the supplier after the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    println!(
        "kill -9 mid-send: {attempts_before} attempt(s) answered 500 before the kill; the purchase order reached the \
         supplier {:.1} s after the restart",
        (delivered_at - restarted).as_secs_f64()
    );
    let store = DynamoOrderStore::new(aws.dynamodb().clone(), format!("{prefix}-orders"));
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let r = store.get(&order_id).await.expect("get").expect("order");
        if r.status == OrderStatus::Submitted {
            break;
        }
        assert!(Instant::now() < until, "order at {} after the supplier took it: {:?}", r.status, r.timeline);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    second.start_kill().expect("kill");
    let _ = second.wait().await;

    let b = books.lock().expect("books");
    assert!(b.requests.iter().all(|r| r.2), "every request signed with the supplier's secret");
    let keys: std::collections::BTreeSet<&str> = b.requests.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(keys.len(), 1, "one purchase order, one idempotency key: {keys:?}");
    // Same key, same body: the retry after the crash sent the first attempt's document (it
    // carried the status time, which the send itself moves).
    assert!(b.requests.iter().all(|r| r.4 == b.requests[0].4), "a retry changed the body under the same key");
    assert_eq!(b.requests.iter().filter(|r| r.3 == 200).count(), 1, "accepted once");
    let log = std::fs::read_to_string(dir.join("second.log")).expect("log");
    assert!(!log.contains("being sent by another invocation"), "a redelivery met the dead invocation's lock");
    assert!(!log.contains("changed after it was sent"), "the redelivery saw a different document");
    // Off a terminal the runner logs JSON lines, never colour codes.
    assert!(!log.contains('\u{1b}'), "colour codes in a log file");
    assert!(log.lines().count() > 2 && log.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()), "{log}");
}
