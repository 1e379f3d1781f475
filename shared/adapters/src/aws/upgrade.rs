//! What upgrading a deployed stack rewrites in place: orders stored before the `by-status`
//! index was write-sharded carry `status` but no `status_shard`, so the index (keyed on
//! `status_shard` since) does not hold them, and escalate and `dropline holds list` would not
//! see them until their next write. An operator command, never a request path: it scans.

use super::errors::classify;
use super::items::*;
use super::orders::DynamoOrderStore;
use super::scan::scan_pages;
use super::shards::{STATUS_SHARDS, shard_of, shard_value};
use aws_sdk_dynamodb::error::SdkError;
use dropline_app::ports::PortResult;

/// What a backfill found and did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Backfill {
    /// Orders without a `status_shard`.
    pub found: usize,
    /// Given one (none on a dry run).
    pub written: usize,
    /// Written by the pipeline meanwhile (they have one now): left alone.
    pub changed_meanwhile: usize,
}

impl DynamoOrderStore {
    /// Gives every order item that has a `status` and no `status_shard` the shard value the
    /// store writes today, so the `by-status` index holds it. Idempotent and safe beside a
    /// running pipeline: each write is conditional on the item still having that status and no
    /// shard, and touches neither the version nor the body. `dry_run` only counts.
    pub async fn backfill_status_shards(&self, dry_run: bool) -> PortResult<Backfill> {
        let mut out = Backfill::default();
        let scan = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("attribute_exists(#status) AND attribute_not_exists(status_shard)")
            .projection_expression("pk, #status")
            .expression_attribute_names("#status", "status");
        // The keys first (two short attributes each), then the writes.
        let mut old: Vec<(String, String)> = Vec::new();
        scan_pages(scan, "Scan(orders without status_shard)", |item| {
            if let (Some(pk), Some(status)) = (get_s(item, "pk"), get_s(item, "status")) {
                old.push((pk.to_string(), status.to_string()));
            }
            Ok(())
        })
        .await?;
        out.found = old.len();
        if dry_run {
            return Ok(out);
        }
        for (pk, status) in old {
            let shard = shard_value(&status, shard_of(&pk, STATUS_SHARDS));
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(pk))
                .update_expression("SET status_shard = :shard")
                .condition_expression("#status = :status AND attribute_not_exists(status_shard)")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":shard", s(shard))
                .expression_attribute_values(":status", s(status))
                .send()
                .await;
            match res {
                Ok(_) => out.written += 1,
                Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                    out.changed_meanwhile += 1
                }
                Err(e) => return Err(classify("UpdateItem(status_shard)", e)),
            }
        }
        Ok(out)
    }
}
