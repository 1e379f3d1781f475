//! Measures DynamoDB capacity and partition heat: asks every call for its consumed capacity
//! (`ReturnConsumedCapacity=INDEXES`), sums it per table and index, and charges each write's
//! units to the partition keys it touched (the table's, and each index's old and new key).
//!
//! For measurements only (the bench's bill and load run): it remembers every item's index keys,
//! so it grows with the items written. Production clients carry only the request counter.

use aws_sdk_dynamodb::operation::{
    batch_get_item::BatchGetItemOutput, batch_write_item::BatchWriteItemInput, batch_write_item::BatchWriteItemOutput,
    delete_item::DeleteItemInput, delete_item::DeleteItemOutput, get_item::GetItemInput, get_item::GetItemOutput,
    put_item::PutItemInput, put_item::PutItemOutput, query::QueryInput, query::QueryOutput, scan::ScanInput,
    scan::ScanOutput, transact_get_items::TransactGetItemsInput, transact_get_items::TransactGetItemsOutput,
    transact_write_items::TransactWriteItemsInput, transact_write_items::TransactWriteItemsOutput,
    update_item::UpdateItemInput, update_item::UpdateItemOutput,
};
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity, ReturnConsumedCapacity, ReturnValue};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The attributes that name an item in its table (every Dropline table has one of them as its
/// hash key).
const TABLE_KEYS: [&str; 2] = ["pk", "id"];

/// Read and write units consumed by one table or index.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Units {
    pub read: f64,
    pub write: f64,
}

/// The writes one partition key took.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyHeat {
    /// Write units charged to the key over the run.
    pub write_units: f64,
    /// Write requests that touched it.
    pub writes: u64,
    /// The most write units it took within one second of the run.
    pub peak_per_second: f64,
    second: u64,
    in_second: f64,
}

/// What the meter measured.
#[derive(Debug, Clone, Default)]
pub struct Metered {
    /// Units per table, and per index as `table/index`.
    pub units: BTreeMap<String, Units>,
    /// Heat per partition key: (`table` or `table/index`, key value).
    pub heat: HashMap<(String, String), KeyHeat>,
    /// Conditional writes refused (DynamoDB charges them; their units are not returned, so
    /// they are counted as one write unit each in `units`).
    pub refused_writes: u64,
}

impl Metered {
    /// Write units of every table and index.
    pub fn write_units(&self) -> f64 {
        self.units.values().map(|u| u.write).sum()
    }
    pub fn read_units(&self) -> f64 {
        self.units.values().map(|u| u.read).sum()
    }
    /// The partition keys that took the most write units, hottest first.
    pub fn hottest(&self, n: usize) -> Vec<(&(String, String), &KeyHeat)> {
        let mut all: Vec<_> = self.heat.iter().collect();
        all.sort_by(|a, b| b.1.write_units.total_cmp(&a.1.write_units).then_with(|| a.0.cmp(b.0)));
        all.truncate(n);
        all
    }
}

#[derive(Debug)]
struct State {
    /// Each index's partition attribute (`index` -> attribute).
    index_keys: Vec<(String, String)>,
    started: Instant,
    measured: Metered,
    /// Each item's index partition values as last written: (table, key) -> index -> value.
    shadow: HashMap<(String, String), BTreeMap<String, String>>,
}

/// Measures DynamoDB capacity and partition heat for one or more clients (clone it into each).
#[derive(Debug, Clone)]
pub struct CapacityMeter(Arc<Mutex<State>>);

/// One item a write touches: its table, its key, and (when the request says) its index values
/// after the write (`None` for an update whose result the output tells, or a transaction's
/// update, which keeps what was there).
#[derive(Debug, Clone)]
struct Touch {
    table: String,
    key: String,
    after: After,
}

#[derive(Debug, Clone)]
enum After {
    /// The whole item is this (a put): its index values.
    Item(BTreeMap<String, String>),
    /// The item is gone.
    Deleted,
    /// Changed in place: index values from the output's new attributes, when it has them.
    Updated,
}

/// The call in flight, noted before it is sent: whether it writes, and what.
#[derive(Debug, Clone, Default)]
struct Planned {
    writes: bool,
    touches: Vec<Touch>,
}

impl Storable for Planned {
    type Storer = StoreReplace<Self>;
}

fn key_of(item: &HashMap<String, AttributeValue>) -> String {
    TABLE_KEYS
        .iter()
        .find_map(|k| item.get(*k))
        .map(|v| match v {
            AttributeValue::S(s) => s.clone(),
            AttributeValue::N(n) => n.clone(),
            other => format!("{other:?}"),
        })
        .unwrap_or_default()
}

fn value_text(v: &AttributeValue) -> Option<String> {
    match v {
        AttributeValue::S(s) => Some(s.clone()),
        AttributeValue::N(n) => Some(n.clone()),
        _ => None,
    }
}

impl CapacityMeter {
    /// A meter that knows each index's partition attribute (`(index, attribute)`).
    pub fn new(index_keys: &[(&str, &str)]) -> Self {
        Self(Arc::new(Mutex::new(State {
            index_keys: index_keys.iter().map(|(i, a)| (i.to_string(), a.to_string())).collect(),
            started: Instant::now(),
            measured: Metered::default(),
            shadow: HashMap::new(),
        })))
    }

    /// What was measured since the start or the last reset.
    pub fn snapshot(&self) -> Metered {
        self.0.lock().map(|s| s.measured.clone()).unwrap_or_default()
    }

    /// Starts measuring anew (the items' index values are kept: they are what the table holds).
    pub fn reset(&self) {
        if let Ok(mut s) = self.0.lock() {
            s.measured = Metered::default();
            s.started = Instant::now();
        }
    }

    fn index_values(state: &State, item: &HashMap<String, AttributeValue>) -> BTreeMap<String, String> {
        state
            .index_keys
            .iter()
            .filter_map(|(index, attr)| item.get(attr).and_then(value_text).map(|v| (index.clone(), v)))
            .collect()
    }

    fn plan(&self, input: &mut aws_smithy_runtime_api::client::interceptors::context::Input) -> Planned {
        let Ok(state) = self.0.lock() else { return Planned::default() };
        let mut touches = Vec::new();
        let indexes = ReturnConsumedCapacity::Indexes;
        if let Some(i) = input.downcast_mut::<PutItemInput>() {
            i.return_consumed_capacity = Some(indexes);
            let item = i.item.clone().unwrap_or_default();
            touches.push(Touch {
                table: i.table_name.clone().unwrap_or_default(),
                key: key_of(&item),
                after: After::Item(Self::index_values(&state, &item)),
            });
        } else if let Some(i) = input.downcast_mut::<UpdateItemInput>() {
            i.return_consumed_capacity = Some(indexes);
            // The new values of what the update set, to follow the index keys it moves (the
            // caller asked for nothing back, so it reads nothing of them).
            if i.return_values.is_none() {
                i.return_values = Some(ReturnValue::UpdatedNew);
            }
            touches.push(Touch {
                table: i.table_name.clone().unwrap_or_default(),
                key: key_of(i.key.as_ref().unwrap_or(&HashMap::new())),
                after: After::Updated,
            });
        } else if let Some(i) = input.downcast_mut::<DeleteItemInput>() {
            i.return_consumed_capacity = Some(indexes);
            touches.push(Touch {
                table: i.table_name.clone().unwrap_or_default(),
                key: key_of(i.key.as_ref().unwrap_or(&HashMap::new())),
                after: After::Deleted,
            });
        } else if let Some(i) = input.downcast_mut::<TransactWriteItemsInput>() {
            i.return_consumed_capacity = Some(indexes);
            for t in i.transact_items.iter().flatten() {
                if let Some(p) = t.put() {
                    touches.push(Touch {
                        table: p.table_name().to_string(),
                        key: key_of(p.item()),
                        after: After::Item(Self::index_values(&state, p.item())),
                    });
                } else if let Some(u) = t.update() {
                    touches.push(Touch {
                        table: u.table_name().to_string(),
                        key: key_of(u.key()),
                        after: After::Updated,
                    });
                } else if let Some(d) = t.delete() {
                    touches.push(Touch {
                        table: d.table_name().to_string(),
                        key: key_of(d.key()),
                        after: After::Deleted,
                    });
                }
            }
        } else if let Some(i) = input.downcast_mut::<BatchWriteItemInput>() {
            i.return_consumed_capacity = Some(indexes);
            for (table, requests) in i.request_items.iter().flatten() {
                for r in requests {
                    if let Some(p) = r.put_request() {
                        touches.push(Touch {
                            table: table.clone(),
                            key: key_of(p.item()),
                            after: After::Item(Self::index_values(&state, p.item())),
                        });
                    } else if let Some(d) = r.delete_request() {
                        touches.push(Touch { table: table.clone(), key: key_of(d.key()), after: After::Deleted });
                    }
                }
            }
        } else if let Some(i) = input.downcast_mut::<GetItemInput>() {
            i.return_consumed_capacity = Some(indexes);
        } else if let Some(i) = input.downcast_mut::<QueryInput>() {
            i.return_consumed_capacity = Some(indexes);
        } else if let Some(i) = input.downcast_mut::<ScanInput>() {
            i.return_consumed_capacity = Some(indexes);
        } else if let Some(i) = input.downcast_mut::<TransactGetItemsInput>() {
            i.return_consumed_capacity = Some(indexes);
        } else if let Some(i) = input.downcast_mut::<aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemInput>() {
            i.return_consumed_capacity = Some(indexes);
        }
        let writes = input.downcast_ref::<PutItemInput>().is_some()
            || input.downcast_ref::<UpdateItemInput>().is_some()
            || input.downcast_ref::<DeleteItemInput>().is_some()
            || input.downcast_ref::<TransactWriteItemsInput>().is_some()
            || input.downcast_ref::<BatchWriteItemInput>().is_some();
        Planned { writes, touches }
    }

    fn settle(
        &self,
        planned: &Planned,
        consumed: &[ConsumedCapacity],
        updated: Option<&HashMap<String, AttributeValue>>,
    ) {
        let Ok(mut guard) = self.0.lock() else { return };
        let state = &mut *guard;
        let second = state.started.elapsed().as_secs();
        for c in consumed {
            let table = c.table_name().unwrap_or_default().to_string();
            let t = state.measured.units.entry(table.clone()).or_default();
            // Without the breakdown the total is the table's.
            let table_units = c.table().map_or_else(|| total_of(c), capacity_of);
            let (read, write) = if planned.writes { (0.0, table_units) } else { (table_units, 0.0) };
            t.read += read;
            t.write += write;
            let touched: Vec<&Touch> = planned.touches.iter().filter(|t| t.table == table).collect();
            if write > 0.0 && !touched.is_empty() {
                // A transaction or batch reports its table's total: shared by its items.
                let each = write / touched.len() as f64;
                for touch in &touched {
                    charge(&mut state.measured.heat, (table.clone(), touch.key.clone()), each, second);
                }
            }
            for (index, cap) in c.global_secondary_indexes().into_iter().flatten() {
                let name = format!("{table}/{index}");
                let u = state.measured.units.entry(name.clone()).or_default();
                let units = capacity_of(cap);
                let w = if planned.writes { units } else { 0.0 };
                if planned.writes {
                    u.write += units
                } else {
                    u.read += units
                }
                if w <= 0.0 || touched.is_empty() {
                    continue;
                }
                // The index partitions each item left and entered share the index's units.
                let mut parts = Vec::new();
                for touch in &touched {
                    let before = state.shadow.get(&(table.clone(), touch.key.clone())).and_then(|m| m.get(index));
                    let after = new_value(state, touch, index, updated);
                    match (before, after.as_ref()) {
                        (Some(b), Some(a)) if b == a => parts.push(a.clone()),
                        (b, a) => parts.extend(b.cloned().into_iter().chain(a.cloned())),
                    }
                }
                if parts.is_empty() {
                    continue;
                }
                let each = w / parts.len() as f64;
                for p in parts {
                    charge(&mut state.measured.heat, (name.clone(), p), each, second);
                }
            }
        }
        // Each item's index values are now what it was written with.
        for touch in &planned.touches {
            let slot = (touch.table.clone(), touch.key.clone());
            match &touch.after {
                After::Item(values) => {
                    state.shadow.insert(slot, values.clone());
                }
                After::Deleted => {
                    state.shadow.remove(&slot);
                }
                After::Updated => {
                    if let Some(new) = updated {
                        let values: Vec<(String, String)> = state
                            .index_keys
                            .iter()
                            .filter_map(|(i, a)| new.get(a).and_then(value_text).map(|v| (i.clone(), v)))
                            .collect();
                        let entry = state.shadow.entry(slot).or_default();
                        entry.extend(values);
                    }
                }
            }
        }
    }

    fn refused(&self, planned: &Planned) {
        let Ok(mut guard) = self.0.lock() else { return };
        let state = &mut *guard;
        let second = state.started.elapsed().as_secs();
        state.measured.refused_writes += 1;
        for touch in &planned.touches {
            state.measured.units.entry(touch.table.clone()).or_default().write += 1.0;
            charge(&mut state.measured.heat, (touch.table.clone(), touch.key.clone()), 1.0, second);
        }
    }
}

/// The units of one table's or index's share of a call. AWS splits them into read and write
/// units; DynamoDB Local gives only `CapacityUnits` (the call says which they are).
fn capacity_of(c: &aws_sdk_dynamodb::types::Capacity) -> f64 {
    c.write_capacity_units().or(c.read_capacity_units()).or(c.capacity_units()).unwrap_or(0.0)
}

fn total_of(c: &ConsumedCapacity) -> f64 {
    c.write_capacity_units().or(c.read_capacity_units()).or(c.capacity_units()).unwrap_or(0.0)
}

/// The index value an item has after the write, for `index`.
fn new_value(
    state: &State,
    touch: &Touch,
    index: &str,
    updated: Option<&HashMap<String, AttributeValue>>,
) -> Option<String> {
    match &touch.after {
        After::Item(values) => values.get(index).cloned(),
        After::Deleted => None,
        After::Updated => {
            let attr = state.index_keys.iter().find(|(i, _)| i == index).map(|(_, a)| a.as_str());
            attr.and_then(|a| updated.and_then(|u| u.get(a)).and_then(value_text)).or_else(|| {
                state.shadow.get(&(touch.table.clone(), touch.key.clone())).and_then(|m| m.get(index)).cloned()
            })
        }
    }
}

fn charge(heat: &mut HashMap<(String, String), KeyHeat>, key: (String, String), units: f64, second: u64) {
    let h = heat.entry(key).or_default();
    h.write_units += units;
    h.writes += 1;
    if h.second != second {
        h.second = second;
        h.in_second = 0.0;
    }
    h.in_second += units;
    h.peak_per_second = h.peak_per_second.max(h.in_second);
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "DroplineCapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let planned = self.plan(context.input_mut());
        cfg.interceptor_state().store_put(planned);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let planned = cfg.load::<Planned>().cloned().unwrap_or_default();
        let output = match context.output_or_error() {
            Ok(o) => o,
            Err(e) => {
                // A refused condition is billed; a throttle or a server error is not.
                if planned.writes && format!("{e:?}").contains("ConditionalCheckFailed") {
                    self.refused(&planned);
                }
                return Ok(());
            }
        };
        let one = |c: Option<&ConsumedCapacity>| c.cloned().into_iter().collect::<Vec<_>>();
        if let Some(o) = output.downcast_ref::<PutItemOutput>() {
            self.settle(&planned, &one(o.consumed_capacity()), None);
        } else if let Some(o) = output.downcast_ref::<UpdateItemOutput>() {
            self.settle(&planned, &one(o.consumed_capacity()), o.attributes());
        } else if let Some(o) = output.downcast_ref::<DeleteItemOutput>() {
            self.settle(&planned, &one(o.consumed_capacity()), None);
        } else if let Some(o) = output.downcast_ref::<TransactWriteItemsOutput>() {
            self.settle(&planned, o.consumed_capacity(), None);
        } else if let Some(o) = output.downcast_ref::<BatchWriteItemOutput>() {
            self.settle(&planned, o.consumed_capacity(), None);
        } else if let Some(o) = output.downcast_ref::<GetItemOutput>() {
            self.settle(&planned, &one(o.consumed_capacity()), None);
        } else if let Some(o) = output.downcast_ref::<QueryOutput>() {
            self.settle(&planned, &one(o.consumed_capacity()), None);
        } else if let Some(o) = output.downcast_ref::<ScanOutput>() {
            self.settle(&planned, &one(o.consumed_capacity()), None);
        } else if let Some(o) = output.downcast_ref::<BatchGetItemOutput>() {
            self.settle(&planned, o.consumed_capacity(), None);
        } else if let Some(o) = output.downcast_ref::<TransactGetItemsOutput>() {
            self.settle(&planned, o.consumed_capacity(), None);
        }
        Ok(())
    }
}
