//! Paginated Scans: for operator commands and whole-run checks only, never a request path.

use super::errors::classify;
use super::items::Item;
use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use dropline_app::ports::PortResult;

/// Every item `scan` (a Scan request with its table and any filter set) returns, page by page,
/// to `visit`; `what` names the request in errors.
pub(super) async fn scan_pages(
    scan: ScanFluentBuilder,
    what: &str,
    mut visit: impl FnMut(&Item) -> PortResult<()>,
) -> PortResult<()> {
    let mut start: Option<Item> = None;
    loop {
        let page = scan.clone().set_exclusive_start_key(start.take()).send().await.map_err(|e| classify(what, e))?;
        for item in page.items() {
            visit(item)?;
        }
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => return Ok(()),
        }
    }
}
