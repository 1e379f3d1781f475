//! One invocation of a handler, which a fault can stop at any await: the future is dropped
//! there, as Lambda drops an invocation that timed out or was killed. Each invocation has its
//! own scope, so concurrent invocations crash independently.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

#[derive(Default)]
struct Switch {
    fired: AtomicBool,
    notify: Notify,
}

tokio::task_local! {
    static SCOPE: Arc<Switch>;
}

/// Whether the current code runs inside an invocation.
pub(super) fn inside() -> bool {
    SCOPE.try_with(|_| ()).is_ok()
}

/// Stops the current invocation here: it never resumes.
pub(super) async fn crash<T>() -> T {
    if let Ok(switch) = SCOPE.try_with(Arc::clone) {
        switch.fired.store(true, Ordering::SeqCst);
        switch.notify.notify_one();
    }
    std::future::pending::<T>().await
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    Finished(T),
    Crashed,
}

impl<T> Outcome<T> {
    pub fn finished(self) -> Option<T> {
        match self {
            Outcome::Finished(t) => Some(t),
            Outcome::Crashed => None,
        }
    }
}

/// Runs handler invocations in crashable scopes.
pub struct Invocation;

impl Invocation {
    pub async fn run<F: Future>(f: F) -> Outcome<F::Output> {
        let switch = Arc::new(Switch::default());
        let scoped = SCOPE.scope(switch.clone(), f);
        tokio::pin!(scoped);
        loop {
            tokio::select! {
                biased;
                () = switch.notify.notified() => {
                    if switch.fired.load(Ordering::SeqCst) {
                        return Outcome::Crashed;
                    }
                }
                out = &mut scoped => return Outcome::Finished(out),
            }
        }
    }
}
