//! Idempotency records in DynamoDB, in Powertools' record shape.

use super::errors::classify;
use super::items::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};
use dropline_app::idempotency::{IdempotencyRecord, IdempotencyStatus};
use dropline_app::ports::{IdempotencyStore, PutOutcome};
use dropline_app::ports::{PortError, PortResult};

pub struct DynamoIdempotencyStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoIdempotencyStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn from_item(item: &Item) -> PortResult<IdempotencyRecord> {
        let bad = |what: &str| PortError::Permanent(format!("idempotency record without {what}"));
        Ok(IdempotencyRecord {
            id: get_s(item, "id").ok_or_else(|| bad("id"))?.to_string(),
            status: match get_s(item, "status") {
                Some("COMPLETED") => IdempotencyStatus::Completed,
                Some("INPROGRESS") => IdempotencyStatus::InProgress,
                _ => return Err(bad("a known status")),
            },
            expiration: get_n(item, "expiration").ok_or_else(|| bad("expiration"))?,
            in_progress_expiration: get_n(item, "in_progress_expiration"),
            data: get_s(item, "data").map(String::from),
            validation: get_s(item, "validation").unwrap_or_default().to_string(),
        })
    }
}

#[async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn put_in_progress(&self, record: &IdempotencyRecord, now: DateTime<Utc>) -> PortResult<PutOutcome> {
        let mut item = Item::new();
        item.insert("id".into(), s(&record.id));
        item.insert("status".into(), s(record.status.as_str()));
        item.insert("expiration".into(), n(record.expiration));
        if let Some(ms) = record.in_progress_expiration {
            item.insert("in_progress_expiration".into(), n(ms));
        }
        item.insert("validation".into(), s(&record.validation));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(id) OR expiration < :now OR (#status = :inprogress AND in_progress_expiration < :now_ms)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":now_ms", n(now.timestamp_millis()))
            .expression_attribute_values(":inprogress", s(IdempotencyStatus::InProgress.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(PutOutcome::Acquired),
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                let old = match se.err() {
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => {
                        c.item().cloned()
                    }
                    _ => None,
                };
                let existing = match old {
                    Some(item) => Self::from_item(&item)?,
                    None => self
                        .get(&record.id)
                        .await?
                        .ok_or_else(|| PortError::Transient(format!("idempotency record {} vanished", record.id)))?,
                };
                Ok(PutOutcome::Exists(existing))
            }
            Err(e) => Err(classify("PutItem(idempotency)", e)),
        }
    }

    async fn complete(&self, id: &str, data: &str, expiration: i64) -> PortResult<()> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", s(id))
            .update_expression("SET #status = :c, #data = :d, expiration = :e REMOVE in_progress_expiration")
            .condition_expression("attribute_exists(id)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#data", "data")
            .expression_attribute_values(":c", s(IdempotencyStatus::Completed.as_str()))
            .expression_attribute_values(":d", s(data))
            .expression_attribute_values(":e", n(expiration))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                Err(PortError::Conflict(format!("no idempotency record {id}")))
            }
            Err(e) => Err(classify("UpdateItem(idempotency)", e)),
        }
    }

    async fn delete(&self, id: &str) -> PortResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("id", s(id))
            .send()
            .await
            .map_err(|e| classify("DeleteItem(idempotency)", e))?;
        Ok(())
    }

    async fn get(&self, id: &str) -> PortResult<Option<IdempotencyRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem(idempotency)", e))?;
        out.item().map(Self::from_item).transpose()
    }
}
