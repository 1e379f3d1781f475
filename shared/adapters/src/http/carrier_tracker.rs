//! Asking a carrier (or an aggregator) where a parcel is.

use super::egress::{Egress, read_capped};
use super::retry::{describe, http_client};
use async_trait::async_trait;
use dropline_app::ports::{CarrierTracker, PortError, PortResult};
use dropline_domain::wire::supplier::TrackingReport;
use std::time::Duration;

/// Asks a tracking API: `GET {base}/trackings/{carrier}/{number}` answering
/// `{"status": "...", "description": "...", "updated_at": "..."}` (an aggregator's shape).
pub struct HttpCarrierTracker {
    client: reqwest::Client,
    base: String,
    egress: Egress,
}

/// The most of a tracking answer that is read, and of its description that is kept.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
const MAX_DESCRIPTION_CHARS: usize = 200;

impl HttpCarrierTracker {
    /// A tracker with no API behind it: every check fails with a clear reason.
    pub fn unconfigured() -> Self {
        let egress = Egress::PUBLIC_ONLY;
        Self { client: http_client(Duration::from_secs(1), egress), base: String::new(), egress }
    }

    pub fn new(base: &str, timeout: Duration, egress: Egress) -> Self {
        Self { client: http_client(timeout, egress), base: base.trim_end_matches('/').to_string(), egress }
    }
}

pub(super) fn path_segment(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect()
}

#[async_trait]
impl CarrierTracker for HttpCarrierTracker {
    async fn track(&self, carrier: &str, tracking_number: &str) -> PortResult<TrackingReport> {
        if self.base.is_empty() {
            return Err(PortError::Permanent("no carrier tracking API configured (DROPLINE_CARRIER_API_URL)".into()));
        }
        let url = format!("{}/trackings/{}/{}", self.base, path_segment(carrier), path_segment(tracking_number));
        self.egress.check_url(&url).map_err(|why| PortError::Permanent(format!("tracking API refused: {why}")))?;
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
        let body = read_capped(resp, MAX_ANSWER_BYTES).await.map_err(|e| PortError::Transient(describe(e)))?;
        let mut report: TrackingReport = serde_json::from_slice(&body)
            .map_err(|e| PortError::Permanent(format!("unreadable tracking answer: {e}")))?;
        report.status = report.status.chars().take(64).collect();
        report.description = report.description.map(|d| d.chars().take(MAX_DESCRIPTION_CHARS).collect());
        Ok(report)
    }
}
