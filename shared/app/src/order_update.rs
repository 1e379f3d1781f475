//! Loading an order a message names, and the optimistic read-modify-write loop on it.

use crate::batch::StepError;
use crate::ports::{OrderStore, PortError};
use dropline_domain::order::OrderRecord;
use dropline_domain::primitives::ids::OrderId;

/// Loads an order a message names; a message for an order that doesn't exist can never be
/// processed.
pub async fn load_order(store: &dyn OrderStore, id: &OrderId) -> Result<OrderRecord, StepError> {
    store.get(id).await?.ok_or_else(|| StepError::Poison(format!("order {id} does not exist")))
}

/// What `update_order` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated<T> {
    pub record: OrderRecord,
    /// False when `change` found nothing to do (the record is as loaded).
    pub changed: bool,
    pub value: T,
}

/// Loads the order, applies `change` and saves it with the version check, retrying from a fresh
/// read when another writer got there first. `change` returns `Ok(None)` when there is nothing to
/// do, `Ok(Some(v))` after changing the record.
pub async fn update_order<T, F>(
    store: &dyn OrderStore,
    id: &OrderId,
    change: F,
) -> Result<Updated<Option<T>>, StepError>
where
    F: FnMut(&mut OrderRecord) -> Result<Option<T>, StepError>,
{
    update_from(store, id, None, change).await
}

/// Like `update_order`, starting from a record the caller has just read (saving that read);
/// a version conflict reloads.
pub async fn update_from<T, F>(
    store: &dyn OrderStore,
    id: &OrderId,
    loaded: Option<OrderRecord>,
    mut change: F,
) -> Result<Updated<Option<T>>, StepError>
where
    F: FnMut(&mut OrderRecord) -> Result<Option<T>, StepError>,
{
    const ATTEMPTS: usize = 8;
    let mut loaded = loaded;
    for attempt in 1..=ATTEMPTS {
        let current = match loaded.take() {
            Some(r) => r,
            None => load_order(store, id).await?,
        };
        let mut next = current.clone();
        match change(&mut next)? {
            None => return Ok(Updated { record: current, changed: false, value: None }),
            Some(v) => match store.save(&next).await {
                Ok(saved) => return Ok(Updated { record: saved, changed: true, value: Some(v) }),
                Err(PortError::Conflict(_)) if attempt < ATTEMPTS => {
                    tracing::debug!(order_id = %id, attempt, "version conflict; reloading");
                    continue;
                }
                Err(e) => return Err(e.into()),
            },
        }
    }
    Err(StepError::Retry(format!("order {id}: too many concurrent writers")))
}
