//! The ingest handler served over HTTP with API Gateway's routes (`make dev`, the tests).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use dropline_ingest::{Ingest, WebRequest};
use std::net::SocketAddr;
use std::sync::Arc;

async fn ingest_route(
    State(ingest): State<Arc<Ingest>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let answer = ingest
        .handle(WebRequest { method: method.to_string(), path: uri.path().to_string(), headers, body, deadline: None })
        .await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], answer.body.to_string())
}

/// Serves `ingest` on `addr` with the API's routes; returns the bound address.
pub async fn serve_ingest(addr: SocketAddr, ingest: Arc<Ingest>) -> std::io::Result<SocketAddr> {
    let app = Router::new().fallback(ingest_route).with_state(ingest);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "ingest server stopped");
        }
    });
    Ok(addr)
}
