//! HTTP adapters: the supplier gateway (purchase orders as signed JSON) and the carrier tracker.

use async_trait::async_trait;
use dropline_app::ports::{CarrierTracker, GatewayError, PortError, PortResult, SupplierGateway};
use dropline_domain::catalog::Supplier;
use dropline_domain::wire::secrets::SecretBook;
use dropline_domain::wire::signature;
use dropline_domain::wire::supplier::{
    CancellationNotice, IDEMPOTENCY_HEADER, PurchaseOrderDocument, SIGNATURE_HEADER, SubmitReceipt, TrackingReport,
};
use std::time::Duration;

/// Retry policy for one submission inside one invocation. Failures beyond it go back to the
/// queue (SQS retries with its visibility timeout, then the dead-letter queue).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub timeout: Duration,
    pub max_attempts: u32,
    pub base_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(5), max_attempts: 3, base_backoff: Duration::from_millis(200) }
    }
}

impl RetryPolicy {
    /// Exponential backoff with deterministic jitter per attempt (no RNG needed).
    pub fn backoff(&self, attempt: u32, salt: u64) -> Duration {
        let base = self.base_backoff.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << attempt.min(10));
        let jitter = (salt.wrapping_mul(6364136223846793005).wrapping_add(u64::from(attempt)) >> 33) % (base.max(1));
        Duration::from_millis(exp + jitter)
    }
}

pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(2)))
        .user_agent(concat!("dropline/", env!("CARGO_PKG_VERSION")))
        .build()
        // Builder errors only come from TLS back-end initialisation; fall back to the default client.
        .unwrap_or_default()
}

/// Sends purchase orders to `https://` supplier endpoints.
pub struct HttpSupplierGateway {
    client: reqwest::Client,
    secrets: SecretBook,
    policy: RetryPolicy,
}

impl HttpSupplierGateway {
    pub fn new(secrets: SecretBook, policy: RetryPolicy) -> Self {
        Self { client: http_client(policy.timeout), secrets, policy }
    }

    /// The key to sign with for a supplier reachable over HTTPS. Configuration problems are
    /// retried (and end in the DLQ, with its alarm) rather than recorded as the supplier's
    /// refusal: fixing the configuration and redriving then works.
    fn secret_for(&self, supplier: &Supplier) -> Result<&str, GatewayError> {
        if !dropline_domain::catalog::endpoint_allowed(&supplier.endpoint) || supplier.endpoint.starts_with("sim://") {
            return Err(GatewayError::Transient(format!("supplier {} has no usable https endpoint", supplier.id)));
        }
        self.secrets.supplier(supplier.id.as_str()).first().copied().ok_or_else(|| {
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
        let secret = self.secret_for(supplier)?;
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
        Ok((status, resp.text().await.unwrap_or_default()))
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
        // body (which may echo customer data) goes only into the stored rejection, never a log.
        match status.as_u16() {
            409 => Ok(SubmitReceipt { supplier_reference: None, duplicate: true }),
            400 | 422 => {
                let snippet: String = text.chars().take(200).collect();
                Err(GatewayError::Refused(format!("HTTP {status}: {snippet}")))
            }
            code => Err(GatewayError::Transient(format!("HTTP {code}"))),
        }
    }
}

/// An error's text without its URL (which may carry a credential).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    if e.is_timeout() {
        format!("timed out: {e}")
    } else if e.is_connect() {
        format!("connection failed: {e}")
    } else {
        e.to_string()
    }
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

/// Asks a tracking API: `GET {base}/trackings/{carrier}/{number}` answering
/// `{"status": "...", "description": "...", "updated_at": "..."}` (an aggregator's shape).
pub struct HttpCarrierTracker {
    client: reqwest::Client,
    base: String,
}

impl HttpCarrierTracker {
    /// A tracker with no API behind it: every check fails with a clear reason.
    pub fn unconfigured() -> Self {
        Self { client: http_client(Duration::from_secs(1)), base: String::new() }
    }

    pub fn new(base: &str, timeout: Duration) -> Self {
        Self { client: http_client(timeout), base: base.trim_end_matches('/').to_string() }
    }
}

fn path_segment(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect()
}

#[async_trait]
impl CarrierTracker for HttpCarrierTracker {
    async fn track(&self, carrier: &str, tracking_number: &str) -> PortResult<TrackingReport> {
        if self.base.is_empty() {
            return Err(PortError::Permanent("no carrier tracking API configured (DROPLINE_CARRIER_API_URL)".into()));
        }
        let url = format!("{}/trackings/{}/{}", self.base, path_segment(carrier), path_segment(tracking_number));
        let resp = self.client.get(&url).send().await.map_err(|e| PortError::Transient(describe(e)))?;
        let status = resp.status();
        if status.as_u16() == 404 {
            return Ok(TrackingReport {
                status: "unknown".into(),
                description: Some("not known to the carrier yet".into()),
                updated_at: None,
            });
        }
        if !status.is_success() {
            let e = format!("tracking API answered HTTP {status}");
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                PortError::Transient(e)
            } else {
                PortError::Permanent(e)
            });
        }
        resp.json::<TrackingReport>()
            .await
            .map_err(|e| PortError::Permanent(format!("unreadable tracking answer: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded_by_jitter() {
        let p = RetryPolicy::default();
        let a = p.backoff(0, 7);
        let b = p.backoff(1, 7);
        let c = p.backoff(2, 7);
        assert!(a >= Duration::from_millis(200) && a < Duration::from_millis(400));
        assert!(b >= Duration::from_millis(400) && b < Duration::from_millis(600));
        assert!(c >= Duration::from_millis(800) && c < Duration::from_millis(1000));
    }
}
