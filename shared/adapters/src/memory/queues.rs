//! Work queues in memory, with SQS's semantics: visibility timeouts, receive counts, redrive to a dead-letter queue.

use super::counter::OpCounter;
use super::sync::lock;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use dropline_app::ports::{Clock, PortResult, QueueConsumer, ReceivedMessage, WorkQueue};
use dropline_domain::wire::messages::{Step, WorkMessage};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

struct QueuedMessage {
    id: String,
    body: String,
    receive_count: u32,
    invisible_until: DateTime<Utc>,
    receipt: String,
    sent_at: DateTime<Utc>,
}

impl QueuedMessage {
    fn received(&self) -> ReceivedMessage {
        ReceivedMessage {
            message_id: self.id.clone(),
            receipt: self.receipt.clone(),
            body: self.body.clone(),
            receive_count: self.receive_count,
            sent_at: self.sent_at,
        }
    }
}

#[derive(Default)]
struct QueuePair {
    main: VecDeque<QueuedMessage>,
    dead: VecDeque<QueuedMessage>,
}

/// SQS-like queues, one per step, each with a dead-letter queue.
pub struct MemoryQueues {
    clock: Arc<dyn Clock>,
    queues: Mutex<HashMap<Step, QueuePair>>,
    seq: AtomicU64,
    pub visibility_timeout: Duration,
    pub max_receive_count: u32,
    pub ops: OpCounter,
}

impl MemoryQueues {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            queues: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            visibility_timeout: Duration::seconds(30),
            max_receive_count: 5,
            ops: OpCounter::default(),
        }
    }

    fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}-{:08}", self.seq.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Messages waiting (visible or in flight) and dead letters.
    pub fn depth(&self, step: Step) -> (usize, usize) {
        let q = lock(&self.queues);
        q.get(&step).map(|p| (p.main.len(), p.dead.len())).unwrap_or((0, 0))
    }

    /// The bodies of the dead letters of a step.
    pub fn dead_letter_bodies(&self, step: Step) -> Vec<String> {
        let q = lock(&self.queues);
        q.get(&step).map(|p| p.dead.iter().map(|m| m.body.clone()).collect()).unwrap_or_default()
    }

    /// Sends a raw body (tests use it to inject poison messages).
    pub fn send_raw(&self, step: Step, body: &str) {
        let now = self.clock.now();
        let msg = QueuedMessage {
            id: self.next_id("msg"),
            body: body.to_string(),
            receive_count: 0,
            invisible_until: now,
            receipt: String::new(),
            sent_at: now,
        };
        lock(&self.queues).entry(step).or_default().main.push_back(msg);
    }
}

#[async_trait]
impl WorkQueue for MemoryQueues {
    async fn enqueue(&self, step: Step, messages: &[WorkMessage]) -> PortResult<()> {
        self.ops.hit("send");
        for m in messages {
            self.send_raw(step, &m.to_json());
        }
        Ok(())
    }

    async fn keep_hidden(&self, step: Step, receipts: &[String], seconds: u32) -> PortResult<()> {
        self.ops.hit("change_visibility");
        let until = self.clock.now() + Duration::seconds(seconds.into());
        if let Some(pair) = lock(&self.queues).get_mut(&step) {
            // A receipt of an earlier receive no longer applies (as in SQS).
            for m in pair.main.iter_mut().filter(|m| receipts.contains(&m.receipt)) {
                m.invisible_until = until;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for MemoryQueues {
    async fn receive(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        self.ops.hit("receive");
        let now = self.clock.now();
        let mut queues = lock(&self.queues);
        let pair = queues.entry(step).or_default();
        // Redrive: a visible message already received maxReceiveCount times goes to the DLQ.
        let mut i = 0;
        while i < pair.main.len() {
            if pair.main[i].invisible_until <= now && pair.main[i].receive_count >= self.max_receive_count {
                if let Some(m) = pair.main.remove(i) {
                    pair.dead.push_back(m);
                }
            } else {
                i += 1;
            }
        }
        let mut out = Vec::new();
        for m in pair.main.iter_mut() {
            if out.len() >= max {
                break;
            }
            if m.invisible_until > now {
                continue;
            }
            m.receive_count += 1;
            m.invisible_until = now + self.visibility_timeout;
            m.receipt = format!("{}#{}", m.id, m.receive_count);
            out.push(m.received());
        }
        Ok(out)
    }

    async fn delete(&self, step: Step, receipt: &str) -> PortResult<()> {
        self.ops.hit("delete");
        let mut queues = lock(&self.queues);
        if let Some(pair) = queues.get_mut(&step) {
            pair.main.retain(|m| m.receipt != receipt);
        }
        Ok(())
    }

    async fn peek_dead_letters(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        let queues = lock(&self.queues);
        Ok(queues
            .get(&step)
            .map(|p| p.dead.iter().take(max).map(QueuedMessage::received).collect())
            .unwrap_or_default())
    }

    async fn redrive(&self, step: Step, max: usize) -> PortResult<usize> {
        let now = self.clock.now();
        let mut queues = lock(&self.queues);
        let pair = queues.entry(step).or_default();
        let mut moved = 0;
        while moved < max {
            let Some(mut m) = pair.dead.pop_front() else {
                break;
            };
            m.receive_count = 0;
            m.invisible_until = now;
            pair.main.push_back(m);
            moved += 1;
        }
        Ok(moved)
    }
}

// ---------------------------------------------------------------------------------------------
