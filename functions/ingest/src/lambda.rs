//! The API Gateway (HTTP API) edge: `lambda_http` requests in, JSON responses out.

use crate::{Ingest, WebRequest, WebResponse};
use chrono::{TimeZone, Utc};
use lambda_http::{Body, Request, RequestExt, Response};

/// Converts an API Gateway request, lets `ingest` handle it, and converts the answer back.
pub async fn handle(ingest: &Ingest, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    let deadline =
        req.lambda_context_ref().and_then(|c| Utc.timestamp_millis_opt(i64::try_from(c.deadline).ok()?).single());
    let method = req.method().as_str().to_string();
    let path = req.raw_http_path().to_string();
    let (parts, body) = req.into_parts();
    let body = match body {
        Body::Empty => bytes::Bytes::new(),
        Body::Text(t) => bytes::Bytes::from(t),
        Body::Binary(b) => bytes::Bytes::from(b),
        // `Body` is non-exhaustive; anything new is treated as empty.
        _ => bytes::Bytes::new(),
    };
    let answer = ingest.handle(WebRequest { method, path, headers: parts.headers, body, deadline }).await;
    Ok(to_response(&answer))
}

pub fn to_response(answer: &WebResponse) -> Response<Body> {
    let mut resp = Response::new(Body::Text(answer.body.to_string()));
    *resp.status_mut() = http::StatusCode::from_u16(answer.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    resp
}
