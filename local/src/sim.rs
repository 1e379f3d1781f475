//! Simulated suppliers and carrier, for the demo (in-process) and for `make dev` and the tests
//! (real HTTP servers on loopback). They behave like the real counterparts as Dropline sees
//! them: a supplier dedupes purchase orders on their idempotency key, acknowledges and ships
//! them by calling back (signed); a carrier moves a parcel through its statuses.

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use dropline_app::ports::{CarrierTracker, GatewayError, PortResult, SupplierGateway};
use dropline_domain::catalog::Supplier;
use dropline_domain::order::{AckStatus, SupplierEvent};
use dropline_domain::wire::signature;
use dropline_domain::wire::supplier::{
    CancellationNotice, IDEMPOTENCY_HEADER, PurchaseOrderDocument, SIGNATURE_HEADER, SubmitReceipt, SupplierCallback,
    TrackingReport,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How a simulated supplier answers.
#[derive(Debug, Clone, Default)]
pub struct SupplierBehaviour {
    /// Supplier SKUs it rejects as out of stock.
    pub reject_skus: HashSet<String>,
    /// Answer transport errors (HTTP 503) for the first N submissions.
    pub fail_first: usize,
}

/// What a simulated supplier has seen and decided; shared by the in-process and HTTP forms.
#[derive(Default)]
pub struct SupplierBook {
    /// Requests received, duplicates included.
    pub requests: usize,
    /// Distinct purchase orders received, by idempotency key.
    pub received: BTreeMap<String, PurchaseOrderDocument>,
    /// Callbacks not yet delivered: (supplier id, event).
    pub outbox: Vec<(String, SupplierEvent)>,
    /// Cancellation notices received (purchase order ids), duplicates included.
    pub cancellations: Vec<String>,
    failures_left: Option<usize>,
}

/// The decision for a newly received purchase order: acknowledgment, then shipment if accepted.
pub fn respond(doc: &PurchaseOrderDocument, behaviour: &SupplierBehaviour) -> Vec<SupplierEvent> {
    let po = doc.purchase_order_id.to_string();
    if let Some(line) = doc.lines.iter().find(|l| behaviour.reject_skus.contains(&l.supplier_sku)) {
        return vec![SupplierEvent::Acknowledgment {
            purchase_order_id: po,
            status: AckStatus::Rejected,
            reason_code: Some("INVENTORY_OUT_OF_STOCK".into()),
            message: Some(format!("{} is out of stock", line.supplier_sku)),
            supplier_reference: None,
        }];
    }
    let digest = Sha256::digest(po.as_bytes());
    let digits: String = digest.iter().take(8).map(|b| format!("{:02}", b % 100)).collect();
    vec![
        SupplierEvent::Acknowledgment {
            purchase_order_id: po.clone(),
            status: AckStatus::Accepted,
            reason_code: None,
            message: None,
            supplier_reference: Some(format!("{}-{}", doc.supplier_id.as_str().to_ascii_uppercase(), &digits[..6])),
        },
        SupplierEvent::Shipment {
            purchase_order_id: po,
            carrier: "dhl".into(),
            tracking_number: format!("JD{digits}"),
            shipped_at: None,
        },
    ]
}

/// A simulated transport failure (the supplier answers 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulatedOutage;

impl SupplierBook {
    /// Records a submission: `Ok(duplicate)`, or a simulated outage.
    pub fn receive(
        &mut self,
        supplier: &str,
        doc: PurchaseOrderDocument,
        behaviour: &SupplierBehaviour,
    ) -> Result<bool, SimulatedOutage> {
        self.requests += 1;
        let left = self.failures_left.get_or_insert(behaviour.fail_first);
        if *left > 0 {
            *left -= 1;
            return Err(SimulatedOutage);
        }
        if self.received.contains_key(&doc.idempotency_key) {
            return Ok(true);
        }
        for e in respond(&doc, behaviour) {
            self.outbox.push((supplier.to_string(), e));
        }
        self.received.insert(doc.idempotency_key.clone(), doc);
        Ok(false)
    }
}

/// In-process suppliers behind `sim://<name>` endpoints.
#[derive(Default)]
pub struct SimulatedSuppliers {
    pub book: Mutex<SupplierBook>,
    pub behaviour: HashMap<String, SupplierBehaviour>,
}

impl SimulatedSuppliers {
    pub fn take_outbox(&self) -> Vec<(String, SupplierEvent)> {
        std::mem::take(&mut lock(&self.book).outbox)
    }
    pub fn received_per_supplier(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for d in lock(&self.book).received.values() {
            *m.entry(d.supplier_id.to_string()).or_default() += 1;
        }
        m
    }
    pub fn requests(&self) -> usize {
        lock(&self.book).requests
    }
    /// Cancellation notices received (purchase order ids), duplicates included.
    pub fn cancellations(&self) -> Vec<String> {
        lock(&self.book).cancellations.clone()
    }
}

#[async_trait]
impl SupplierGateway for SimulatedSuppliers {
    async fn cancel(&self, _supplier: &Supplier, notice: &CancellationNotice) -> Result<(), GatewayError> {
        lock(&self.book).cancellations.push(notice.purchase_order_id.to_string());
        Ok(())
    }

    async fn submit(&self, supplier: &Supplier, po: &PurchaseOrderDocument) -> Result<SubmitReceipt, GatewayError> {
        let behaviour = self.behaviour.get(supplier.id.as_str()).cloned().unwrap_or_default();
        match lock(&self.book).receive(supplier.id.as_str(), po.clone(), &behaviour) {
            Ok(duplicate) => Ok(SubmitReceipt { supplier_reference: None, duplicate }),
            Err(SimulatedOutage) => Err(GatewayError::Transient("simulated outage".into())),
        }
    }
}

/// A scripted carrier: each check of a parcel moves it one status further; a few parcels hit an
/// exception (returned to sender) instead of delivery.
#[derive(Default)]
pub struct SimulatedCarrier {
    checks: Mutex<HashMap<String, usize>>,
}

const PROGRESSION: [&str; 4] = ["pre_transit", "in_transit", "out_for_delivery", "delivered"];

impl SimulatedCarrier {
    pub fn answer(&self, tracking_number: &str) -> TrackingReport {
        let mut checks = lock(&self.checks);
        let n = checks.entry(tracking_number.to_string()).or_default();
        *n += 1;
        let exceptional = Sha256::digest(tracking_number.as_bytes())[0] % 8 == 0;
        let status =
            if exceptional && *n >= 3 { "return_to_sender" } else { PROGRESSION[(*n).min(PROGRESSION.len()) - 1] };
        TrackingReport { status: status.into(), description: Some(format!("simulated scan {n}")), updated_at: None }
    }
}

#[async_trait]
impl CarrierTracker for SimulatedCarrier {
    async fn track(&self, _carrier: &str, tracking_number: &str) -> PortResult<TrackingReport> {
        Ok(self.answer(tracking_number))
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP forms
// ---------------------------------------------------------------------------------------------

/// A simulated supplier served over HTTP: `POST /suppliers/{id}/orders` takes purchase orders
/// (signature checked when a secret is set); callbacks go to `{callback_base}/suppliers/{id}/events`,
/// signed with the supplier's secret.
pub struct HttpSupplierSim {
    pub addr: SocketAddr,
    pub state: Arc<SupplierSimState>,
}

pub struct SupplierSimState {
    pub book: Mutex<SupplierBook>,
    pub secrets: HashMap<String, String>,
    pub behaviour: HashMap<String, SupplierBehaviour>,
    pub callback_base: String,
    pub client: reqwest::Client,
    /// Send callbacks right away (dev) or keep them in the outbox (tests deliver them).
    pub auto_callback: bool,
}

impl HttpSupplierSim {
    pub fn endpoint(&self, supplier: &str) -> String {
        format!("http://{}/suppliers/{supplier}/orders", self.addr)
    }

    /// Distinct purchase orders received per supplier.
    pub fn received_per_supplier(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for d in lock(&self.state.book).received.values() {
            *m.entry(d.supplier_id.to_string()).or_default() += 1;
        }
        m
    }

    pub fn requests(&self) -> usize {
        lock(&self.state.book).requests
    }

    /// Cancellation notices received (purchase order ids), duplicates included.
    pub fn cancellations(&self) -> Vec<String> {
        lock(&self.state.book).cancellations.clone()
    }

    /// Sends every queued callback; returns the HTTP statuses.
    pub async fn deliver_callbacks(&self) -> Vec<u16> {
        let outbox = std::mem::take(&mut lock(&self.state.book).outbox);
        let mut out = Vec::new();
        for (supplier, event) in outbox {
            out.push(send_callback(&self.state, &supplier, &event).await);
        }
        out
    }
}

/// Signs and posts one supplier callback; returns the HTTP status (0 when unreachable).
pub async fn send_callback(state: &SupplierSimState, supplier: &str, event: &SupplierEvent) -> u16 {
    let callback = SupplierCallback::new(event.clone(), chrono::Utc::now());
    let body = serde_json::to_vec(&callback).unwrap_or_default();
    let secret = state.secrets.get(supplier).cloned().unwrap_or_default();
    let url = format!("{}/suppliers/{supplier}/events", state.callback_base.trim_end_matches('/'));
    match state
        .client
        .post(url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature::sign(secret.as_bytes(), &body))
        .body(body)
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(e) => {
            tracing::warn!(supplier, error = %e, "simulated supplier could not call back");
            0
        }
    }
}

/// The 401 for a request whose signature does not verify with the supplier's secret (none when
/// no secret is set, or it verifies).
fn unsigned(
    state: &SupplierSimState,
    supplier: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<(StatusCode, String)> {
    let secret = state.secrets.get(supplier)?;
    let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    (!signature::verify(&[secret.as_str()], body, sig))
        .then(|| (StatusCode::UNAUTHORIZED, r#"{"error":"invalid_signature"}"#.into()))
}

async fn supplier_orders(
    State(state): State<Arc<SupplierSimState>>,
    Path(supplier): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if let Some(refused) = unsigned(&state, &supplier, &headers, &body) {
        return refused;
    }
    let Ok(doc) = serde_json::from_slice::<PurchaseOrderDocument>(&body) else {
        return (StatusCode::BAD_REQUEST, r#"{"error":"invalid_purchase_order"}"#.into());
    };
    let key = headers.get(IDEMPOTENCY_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if key != doc.idempotency_key {
        return (StatusCode::BAD_REQUEST, r#"{"error":"idempotency_key_mismatch"}"#.into());
    }
    let behaviour = state.behaviour.get(&supplier).cloned().unwrap_or_default();
    let result = lock(&state.book).receive(&supplier, doc, &behaviour);
    match result {
        Err(SimulatedOutage) => (StatusCode::SERVICE_UNAVAILABLE, r#"{"error":"simulated_outage"}"#.into()),
        Ok(duplicate) => {
            if state.auto_callback && !duplicate {
                let state = state.clone();
                tokio::spawn(async move {
                    // Like a real supplier: answer the request first, call back a moment later.
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    let outbox = std::mem::take(&mut lock(&state.book).outbox);
                    for (supplier, event) in outbox {
                        send_callback(&state, &supplier, &event).await;
                    }
                });
            }
            (StatusCode::OK, serde_json::json!({"duplicate": duplicate}).to_string())
        }
    }
}

async fn supplier_cancellation(
    State(state): State<Arc<SupplierSimState>>,
    Path((supplier, po)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if let Some(refused) = unsigned(&state, &supplier, &headers, &body) {
        return refused;
    }
    match serde_json::from_slice::<CancellationNotice>(&body) {
        Ok(n) if n.purchase_order_id.to_string() == po => {
            lock(&state.book).cancellations.push(po);
            (StatusCode::OK, r#"{"cancelled":true}"#.into())
        }
        _ => (StatusCode::BAD_REQUEST, r#"{"error":"invalid_cancellation"}"#.into()),
    }
}

/// Starts a simulated supplier server on `addr` (port 0 picks one).
pub async fn serve_suppliers(
    addr: SocketAddr,
    secrets: HashMap<String, String>,
    behaviour: HashMap<String, SupplierBehaviour>,
    callback_base: String,
    auto_callback: bool,
) -> std::io::Result<HttpSupplierSim> {
    let state = Arc::new(SupplierSimState {
        book: Mutex::new(SupplierBook::default()),
        secrets,
        behaviour,
        callback_base,
        client: reqwest::Client::new(),
        auto_callback,
    });
    let app = Router::new()
        .route("/suppliers/{id}/orders", post(supplier_orders))
        .route("/suppliers/{id}/orders/{po}/cancellation", post(supplier_cancellation))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "simulated supplier server stopped");
        }
    });
    Ok(HttpSupplierSim { addr, state })
}

/// A simulated carrier tracking API (`GET /trackings/{carrier}/{number}`).
pub struct HttpCarrierSim {
    pub addr: SocketAddr,
    pub carrier: Arc<SimulatedCarrier>,
}

impl HttpCarrierSim {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

pub async fn serve_carrier(addr: SocketAddr) -> std::io::Result<HttpCarrierSim> {
    let carrier = Arc::new(SimulatedCarrier::default());
    let app = Router::new()
        .route(
            "/trackings/{carrier}/{number}",
            get(
                |State(c): State<Arc<SimulatedCarrier>>, Path((_carrier, number)): Path<(String, String)>| async move {
                    axum::Json(c.answer(&number))
                },
            ),
        )
        .with_state(carrier.clone());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "simulated carrier server stopped");
        }
    });
    Ok(HttpCarrierSim { addr, carrier })
}
