//! A stand-in for the Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API`), enough to run a function's
//! real binary: it hands out invocations on `/next` and collects responses and errors.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};

/// What the function answered.
#[derive(Debug)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<(String, String)>,
    waiting: HashMap<String, oneshot::Sender<Outcome>>,
    first_poll: Option<Instant>,
    init_error: Option<Value>,
    seq: u64,
}

#[derive(Clone, Default)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    notify: Arc<Notify>,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Shared,
}

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    s.inner.lock().unwrap_or_else(|p| p.into_inner())
}

async fn next(State(s): State<Shared>) -> impl IntoResponse {
    {
        let mut inner = lock(&s);
        inner.first_poll.get_or_insert_with(Instant::now);
    }
    loop {
        let notified = s.notify.notified();
        if let Some((id, body)) = lock(&s).queue.pop_front() {
            let mut headers = HeaderMap::new();
            let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
            let h = |v: String| HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static(""));
            headers.insert("lambda-runtime-aws-request-id", h(id));
            headers.insert("lambda-runtime-deadline-ms", h(deadline.to_string()));
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static("arn:aws:lambda:us-east-1:000000000000:function:dropline-test"),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
            );
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            return (StatusCode::OK, headers, body);
        }
        notified.await;
    }
}

async fn respond(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&s, &id, Outcome::Response(serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

async fn error(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&s, &id, Outcome::Error(serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

fn finish(s: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    if let Some(tx) = lock(s).waiting.remove(id) {
        let _ = tx.send(outcome);
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(s): State<Shared>, body: Bytes) -> StatusCode {
    lock(&s).init_error = Some(serde_json::from_slice(&body).unwrap_or(Value::Null));
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let shared = Shared::default();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind runtime api");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RuntimeApi { addr, shared }
    }

    /// `host:port` for `AWS_LAMBDA_RUNTIME_API`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Hands the function one event and waits for its answer.
    pub async fn invoke(&self, event: &Value, timeout: Duration) -> Option<Outcome> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = lock(&self.shared);
            inner.seq += 1;
            let id = format!("req-{}", inner.seq);
            inner.waiting.insert(id.clone(), tx);
            inner.queue.push_back((id, event.to_string()));
        }
        self.shared.notify.notify_waiters();
        tokio::time::timeout(timeout, rx).await.ok()?.ok()
    }

    /// When the function first asked for work (the end of its init).
    pub fn first_poll(&self) -> Option<Instant> {
        lock(&self.shared).first_poll
    }

    pub fn init_error(&self) -> Option<Value> {
        lock(&self.shared).init_error.clone()
    }

    /// Waits until the function polls for its first event (its init is done).
    pub async fn wait_first_poll(&self, timeout: Duration) -> Option<Instant> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(t) = self.first_poll() {
                return Some(t);
            }
            if self.init_error().is_some() {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        None
    }
}
