//! Seeded faults on every port: per call, fail before acting, act and then fail (the lost
//! acknowledgment), throttle, crash before or after acting (the invocation stops at that await,
//! as a Lambda timeout or an out-of-memory kill stops it), and, on queues, duplicate and
//! reordered deliveries.
//!
//! Faults happen only inside an invocation (`Invocation::run`): the driver's own reads, the
//! checker's and the quiet recovery phase see the adapters as they are.

mod catalog;
mod events;
mod idempotency;
mod orders;
mod partners;
mod queues;
mod scope;

pub use catalog::FaultyCatalog;
pub use events::FaultyEvents;
pub use idempotency::FaultyIdempotency;
pub use orders::FaultyOrders;
pub use partners::{FaultyCarrier, FaultyGateway};
pub use queues::FaultyQueues;
pub use scope::{Invocation, Outcome};

use crate::rng::Rng;
use dropline_app::ports::{PortError, PortResult};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// How often each fault is drawn, per port call.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    pub fail_before: f64,
    pub fail_after: f64,
    pub throttle: f64,
    pub crash_before: f64,
    /// Act, then stop: the write happened, the invocation never learns it (a hang past the
    /// deadline ends the same way).
    pub crash_after: f64,
    /// A queued message delivered twice.
    pub duplicate: f64,
}

impl Rates {
    pub const NONE: Rates =
        Rates { fail_before: 0.0, fail_after: 0.0, throttle: 0.0, crash_before: 0.0, crash_after: 0.0, duplicate: 0.0 };
    /// The soak's default: enough that every step meets every fault many times over a run.
    pub const DEFAULT: Rates = Rates {
        fail_before: 0.02,
        fail_after: 0.01,
        throttle: 0.01,
        crash_before: 0.004,
        crash_after: 0.004,
        duplicate: 0.03,
    };
}

/// The kinds of fault, as the report counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    FailBefore,
    FailAfter,
    Throttle,
    CrashBefore,
    CrashAfter,
    Duplicate,
    Reorder,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::FailBefore => "fail_before",
            Fault::FailAfter => "fail_after (lost acknowledgment)",
            Fault::Throttle => "throttle",
            Fault::CrashBefore => "crash_before",
            Fault::CrashAfter => "crash_after (hang past the deadline)",
            Fault::Duplicate => "duplicate_delivery",
            Fault::Reorder => "reordered_delivery",
        }
    }
}

/// The seeded source of faults every wrapper draws from, and their counts.
pub struct FaultPlan {
    rng: Mutex<Rng>,
    rates: Mutex<Rates>,
    enabled: AtomicBool,
    counts: Mutex<BTreeMap<(Fault, &'static str), u64>>,
}

impl FaultPlan {
    pub fn new(seed: u64, rates: Rates) -> Self {
        Self {
            rng: Mutex::new(Rng::new(seed ^ 0xFA17)),
            rates: Mutex::new(rates),
            enabled: AtomicBool::new(true),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// Turns faults on or off (the recovery phase runs without them).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
    }

    pub fn rates(&self) -> Rates {
        *lock(&self.rates)
    }

    /// Faults injected so far, by kind (summed over ports).
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        let mut out = BTreeMap::new();
        for ((f, _), n) in lock(&self.counts).iter() {
            *out.entry(f.as_str()).or_default() += n;
        }
        out
    }

    /// Faults injected so far, by kind and port.
    pub fn counts_by_port(&self) -> BTreeMap<(Fault, &'static str), u64> {
        lock(&self.counts).clone()
    }

    pub fn total(&self) -> u64 {
        lock(&self.counts).values().sum()
    }

    fn active(&self) -> bool {
        self.enabled.load(Ordering::SeqCst) && scope::inside()
    }

    fn count(&self, f: Fault, port: &'static str) {
        *lock(&self.counts).entry((f, port)).or_default() += 1;
    }

    /// Whether this delivery is duplicated (queues).
    pub fn duplicate(&self, port: &'static str) -> bool {
        if !self.active() {
            return false;
        }
        let p = self.rates().duplicate;
        let hit = lock(&self.rng).chance(p);
        if hit {
            self.count(Fault::Duplicate, port);
        }
        hit
    }

    /// Shuffles a batch (queues deliver out of order); counted when the order changed. The
    /// runner draws it (it plays the event source mapping), so no invocation is needed.
    pub fn reorder<T: Clone + PartialEq>(&self, port: &'static str, items: &mut [T]) {
        if !self.enabled.load(Ordering::SeqCst) || items.len() < 2 {
            return;
        }
        let before = items.to_vec();
        lock(&self.rng).shuffle(items);
        if before != items {
            self.count(Fault::Reorder, port);
        }
    }

    /// Whether the runner's delete of a processed message is lost (it comes back after its
    /// visibility timeout: a duplicate delivery).
    pub fn lose_delete(&self) -> bool {
        if !self.enabled.load(Ordering::SeqCst) {
            return false;
        }
        let p = self.rates().duplicate;
        let hit = lock(&self.rng).chance(p);
        if hit {
            self.count(Fault::Duplicate, "queue.delete");
        }
        hit
    }

    /// A draw for one call.
    fn draw(&self, port: &'static str, write: bool) -> Option<Fault> {
        if !self.active() {
            return None;
        }
        let r = self.rates();
        let u = lock(&self.rng).unit();
        let mut edge = 0.0;
        let mut table = vec![
            (Fault::FailBefore, r.fail_before),
            (Fault::Throttle, r.throttle),
            (Fault::CrashBefore, r.crash_before),
        ];
        if write {
            table.push((Fault::FailAfter, r.fail_after));
            table.push((Fault::CrashAfter, r.crash_after));
        }
        for (f, p) in table {
            edge += p;
            if u < edge {
                self.count(f, port);
                return Some(f);
            }
        }
        None
    }

    /// Runs one port call under a drawn fault. `write` calls can also act and then fail.
    pub async fn around<T, F>(&self, port: &'static str, write: bool, op: F) -> PortResult<T>
    where
        F: Future<Output = PortResult<T>>,
    {
        match self.draw(port, write) {
            None => op.await,
            Some(Fault::FailBefore) => Err(PortError::Transient(format!("injected: {port} failed before acting"))),
            Some(Fault::Throttle) => Err(PortError::Transient(format!("injected: {port} throttled"))),
            Some(Fault::CrashBefore) => scope::crash().await,
            Some(Fault::FailAfter) => {
                let _ = op.await;
                Err(PortError::Transient(format!("injected: {port} acted, then its answer was lost")))
            }
            Some(Fault::CrashAfter) => {
                let _ = op.await;
                scope::crash().await
            }
            Some(Fault::Duplicate | Fault::Reorder) => op.await,
        }
    }

    /// As `around`, for partners whose errors are not `PortError` (the supplier gateway).
    pub async fn around_with<T, E, F>(
        &self,
        port: &'static str,
        write: bool,
        transient: fn(String) -> E,
        op: F,
    ) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        match self.draw(port, write) {
            None => op.await,
            Some(Fault::FailBefore) => Err(transient(format!("injected: {port} failed before acting"))),
            Some(Fault::Throttle) => Err(transient(format!("injected: {port} throttled (429)"))),
            Some(Fault::CrashBefore) => scope::crash().await,
            Some(Fault::FailAfter) => {
                let _ = op.await;
                Err(transient(format!("injected: {port} acted, then its answer timed out")))
            }
            Some(Fault::CrashAfter) => {
                let _ = op.await;
                scope::crash().await
            }
            Some(Fault::Duplicate | Fault::Reorder) => op.await,
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
