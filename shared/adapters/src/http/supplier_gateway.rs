//! Purchase orders and cancellation notices to suppliers as signed JSON over HTTPS.

use super::egress::{Egress, read_capped};
use super::retry::{RetryPolicy, describe, http_client};
use async_trait::async_trait;
use dropline_app::ports::{GatewayError, SupplierGateway};
use dropline_app::secrets::SecretCache;
use dropline_domain::catalog::Supplier;
use dropline_domain::wire::signature;
use dropline_domain::wire::supplier::{
    CancellationNotice, IDEMPOTENCY_HEADER, PurchaseOrderDocument, SIGNATURE_HEADER, SubmitReceipt,
};

/// Sends purchase orders to `https://` supplier endpoints.
pub struct HttpSupplierGateway {
    client: reqwest::Client,
    /// Read again after its TTL: a supplier's rotated key is used without a redeploy.
    secrets: SecretCache,
    policy: RetryPolicy,
    egress: Egress,
}

/// The most of a supplier's answer that is read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

impl HttpSupplierGateway {
    pub fn new(secrets: SecretCache, policy: RetryPolicy, egress: Egress) -> Self {
        Self { client: http_client(policy.timeout, egress), secrets, policy, egress }
    }

    /// The key to sign with for a supplier reachable over HTTPS. Configuration problems are
    /// retried (and end in the DLQ, with its alarm) rather than recorded as the supplier's
    /// refusal: fixing the configuration and redriving then works.
    async fn secret_for(&self, supplier: &Supplier) -> Result<String, GatewayError> {
        if !dropline_domain::catalog::endpoint_allowed(&supplier.endpoint) || supplier.endpoint.starts_with("sim://") {
            return Err(GatewayError::Transient(format!("supplier {} has no usable https endpoint", supplier.id)));
        }
        let book = self.secrets.current().await;
        book.supplier(supplier.id.as_str()).first().map(|s| s.to_string()).ok_or_else(|| {
            GatewayError::Transient(format!("no signing secret configured for supplier {}", supplier.id))
        })
    }

    /// One signed JSON POST: the status and the body's text.
    async fn post_signed(
        &self,
        supplier: &Supplier,
        url: &str,
        idempotency_key: &str,
        body: &[u8],
    ) -> Result<(reqwest::StatusCode, String), GatewayError> {
        let secret = self.secret_for(supplier).await?;
        // A configuration problem: retried, it surfaces in the DLQ with this reason.
        self.egress
            .check_url(url)
            .map_err(|why| GatewayError::Transient(format!("supplier {} endpoint refused: {why}", supplier.id)))?;
        let resp = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header(IDEMPOTENCY_HEADER, idempotency_key)
            .header(SIGNATURE_HEADER, signature::sign(secret.as_bytes(), body))
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| GatewayError::Transient(describe(e)))?;
        let status = resp.status();
        let body = read_capped(resp, MAX_ANSWER_BYTES).await.unwrap_or_default();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// Runs `attempt` up to the policy's attempts, backing off between them; a refusal or a
    /// success ends it.
    async fn with_retries<T, F, Fut>(
        &self,
        supplier: &Supplier,
        po: &dropline_domain::primitives::ids::PurchaseOrderId,
        what: &str,
        salt: u64,
        attempt: F,
    ) -> Result<T, GatewayError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, GatewayError>>,
    {
        let mut last = GatewayError::Transient("no attempt made".into());
        for n in 0..self.policy.max_attempts.max(1) {
            if n > 0 {
                tokio::time::sleep(self.policy.backoff(n - 1, salt)).await;
            }
            match attempt().await {
                Err(e @ GatewayError::Transient(_)) => {
                    tracing::warn!(order_id = %po.order_id(), po = %po, supplier = %supplier.id, what, attempt = n + 1, error = %e, "supplier request failed");
                    last = e;
                }
                done => return done,
            }
        }
        Err(last)
    }

    async fn attempt(
        &self,
        supplier: &Supplier,
        po: &PurchaseOrderDocument,
        body: &[u8],
    ) -> Result<SubmitReceipt, GatewayError> {
        let (status, text) = self.post_signed(supplier, &supplier.endpoint, &po.idempotency_key, body).await?;
        if status.is_success() {
            return Ok(serde_json::from_str::<SubmitReceipt>(&text).unwrap_or_default());
        }
        // Only 400 and 422 say "this purchase order is wrong"; 409 says "already have it". Auth,
        // routing and size errors are our configuration: retried, they surface in the DLQ. The
        // body may echo the customer's details: it is not kept, only its error code when it has
        // one (a short token such as `invalid_sku`).
        match status.as_u16() {
            409 => Ok(SubmitReceipt { supplier_reference: None, duplicate: true }),
            400 | 422 => Err(GatewayError::Refused(match error_code(&text) {
                Some(code) => format!("HTTP {} {code}", status.as_u16()),
                None => format!("HTTP {} (the answer's text is not kept)", status.as_u16()),
            })),
            code => Err(GatewayError::Transient(format!("HTTP {code}"))),
        }
    }
}

/// The `error` or `code` field of a JSON answer, when it is a short token (never free text).
fn error_code(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let code = ["code", "error", "reason_code"].iter().find_map(|k| v.get(*k).and_then(|c| c.as_str()))?;
    let token = !code.is_empty()
        && code.len() <= 64
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    token.then(|| code.to_string())
}

#[async_trait]
impl SupplierGateway for HttpSupplierGateway {
    async fn submit(&self, supplier: &Supplier, po: &PurchaseOrderDocument) -> Result<SubmitReceipt, GatewayError> {
        let body = serde_json::to_vec(po).map_err(|e| GatewayError::Refused(e.to_string()))?;
        let salt = po.purchase_order_id.seq() as u64 ^ po.idempotency_key.len() as u64;
        self.with_retries(supplier, &po.purchase_order_id, "purchase order", salt, || self.attempt(supplier, po, &body))
            .await
    }

    async fn cancel(&self, supplier: &Supplier, notice: &CancellationNotice) -> Result<(), GatewayError> {
        let body = serde_json::to_vec(notice).map_err(|e| GatewayError::Refused(e.to_string()))?;
        let url = format!("{}/{}/cancellation", supplier.endpoint.trim_end_matches('/'), notice.purchase_order_id);
        let salt = notice.purchase_order_id.seq() as u64;
        self.with_retries(supplier, &notice.purchase_order_id, "cancellation", salt, || async {
            let (status, _) = self.post_signed(supplier, &url, &notice.idempotency_key, &body).await?;
            // Cancelled now, already, or unknown to the supplier (never received): all done.
            match status.as_u16() {
                200..=299 | 404 | 409 | 410 => Ok(()),
                code @ (400 | 422) => Err(GatewayError::Refused(format!("HTTP {code}"))),
                code => Err(GatewayError::Transient(format!("HTTP {code}"))),
            }
        })
        .await
    }
}
