//! Outbound requests to supplier and carrier endpoints (SSRF): only public addresses after DNS,
//! no redirects followed with the signed body, answers read up to a limit and never kept
//! verbatim. Against real HTTP servers on loopback (allowed only where a test says so).

use chrono::Utc;
use dropline_adapters::http::{Egress, HttpCarrierTracker, HttpSupplierGateway, RetryPolicy};
use dropline_app::ports::{CarrierTracker, GatewayError, SupplierGateway};
use dropline_domain::catalog::Supplier;
use dropline_domain::order::{PoStatus, PurchaseOrder};
use dropline_domain::primitives::ids::{PurchaseOrderId, SupplierId};
use dropline_domain::wire::secrets::SecretBook;
use dropline_domain::wire::supplier::PurchaseOrderDocument;
use dropline_tests::contract::new_record;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server on 127.0.0.1 that answers every request with `response`, counting requests.
async fn serve(response: String) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("127.0.0.1:{port}"), hits)
}

fn http(status: &str, headers: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}", body.len())
}

fn document() -> (Supplier, PurchaseOrderDocument) {
    let mut record = new_record(1, Utc::now());
    let po = PurchaseOrder {
        id: PurchaseOrderId::new(record.id.clone(), 1),
        number: "1001-1".into(),
        supplier_id: SupplierId::new("acme-us").expect("id"),
        lines: vec![],
        status: PoStatus::Pending,
        status_since: Utc::now(),
        created_at: None,
        submitted_at: None,
        accepted_at: None,
        supplier_reference: None,
        rejection: None,
        shipment: None,
        promise: None,
        last_word: None,
        void_notice: None,
        void_notice_sent: false,
    };
    record.purchase_orders.push(po.clone());
    let supplier = Supplier::new(po.supplier_id.clone(), "Acme", vec!["US".into()], "https://unused.example");
    (supplier, PurchaseOrderDocument::build(&record, &po))
}

fn gateway(egress: Egress) -> HttpSupplierGateway {
    let policy = RetryPolicy { timeout: Duration::from_secs(2), max_attempts: 1, ..RetryPolicy::default() };
    HttpSupplierGateway::new(
        dropline_app::secrets::SecretCache::fixed(SecretBook::new().with("suppliers/acme-us", "s3cret")),
        policy,
        egress,
    )
}

#[tokio::test]
async fn a_redirect_is_not_followed_with_the_signed_body() {
    let (target, target_hits) = serve(http("200 OK", "", "{}")).await;
    let (addr, _) = serve(http("307 Temporary Redirect", &format!("location: http://{target}/po\r\n"), "")).await;
    let (mut supplier, po) = document();
    supplier.endpoint = format!("http://{addr}/po");
    let answer = gateway(Egress::WITH_LOOPBACK).submit(&supplier, &po).await;
    assert!(matches!(&answer, Err(GatewayError::Transient(m)) if m.contains("307")), "{answer:?}");
    assert_eq!(target_hits.load(Ordering::SeqCst), 0, "the redirect's target was never called");
}

#[tokio::test]
async fn loopback_private_and_metadata_endpoints_are_refused_when_deployed() {
    let (addr, hits) = serve(http("200 OK", "", "{}")).await;
    let port = addr.rsplit(':').next().expect("port");
    let (mut supplier, po) = document();
    for endpoint in [
        format!("http://{addr}/po"),
        // A name that resolves to loopback: refused after DNS, not by its spelling.
        format!("https://localhost:{port}/po"),
        "https://169.254.169.254/latest/meta-data/".to_string(),
        "https://10.0.0.7/po".to_string(),
    ] {
        supplier.endpoint = endpoint.clone();
        let answer = gateway(Egress::PUBLIC_ONLY).submit(&supplier, &po).await;
        assert!(matches!(answer, Err(GatewayError::Transient(_))), "{endpoint}: {answer:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the loopback server");
    let tracker =
        HttpCarrierTracker::new(&format!("https://localhost:{port}"), Duration::from_secs(2), Egress::PUBLIC_ONLY);
    assert!(tracker.track("ups", "1Z999AA10123456784").await.is_err());
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_refusal_keeps_the_suppliers_error_code_not_its_text() {
    let body = r#"{"code":"invalid_address","message":"Ada Lovelace, 12 Main St, 555-0100 is not deliverable"}"#;
    let (addr, _) = serve(http("422 Unprocessable Entity", "content-type: application/json\r\n", body)).await;
    let (mut supplier, po) = document();
    supplier.endpoint = format!("http://{addr}/po");
    let answer = gateway(Egress::WITH_LOOPBACK).submit(&supplier, &po).await;
    match answer {
        Err(GatewayError::Refused(reason)) => {
            assert_eq!(reason, "HTTP 422 invalid_address");
        }
        other => panic!("{other:?}"),
    }
    let (addr, _) = serve(http("400 Bad Request", "", "Ada Lovelace lives at 12 Main St")).await;
    supplier.endpoint = format!("http://{addr}/po");
    let answer = gateway(Egress::WITH_LOOPBACK).submit(&supplier, &po).await;
    assert!(matches!(&answer, Err(GatewayError::Refused(r)) if !r.contains("Main St")), "{answer:?}");
}

#[tokio::test]
async fn an_endless_tracking_answer_is_read_up_to_its_limit() {
    // A body that claims to be huge: the tracker stops reading and refuses it as unreadable.
    let big = format!(r#"{{"status":"in_transit","description":"{}"}}"#, "x".repeat(200_000));
    let (addr, _) = serve(http("200 OK", "content-type: application/json\r\n", &big)).await;
    let tracker = HttpCarrierTracker::new(&format!("http://{addr}"), Duration::from_secs(2), Egress::WITH_LOOPBACK);
    let answer = tracker.track("ups", "1Z999AA10123456784").await;
    assert!(answer.is_err(), "cut at 64 KB, it is not JSON: {answer:?}");
}
