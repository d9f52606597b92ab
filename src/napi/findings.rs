use super::types::{FindingPage, FindingQuery};
use crate::core::store::query_dir;
use napi::{Error, Result, Status};
use napi_derive::napi;
use std::path::Path;

/// Reads findings from a log directory without a running guardian (the
/// CLI's `findings` and `report`), newest first. Torn lines are skipped.
#[napi]
pub fn query_findings(log_dir: String, query: Option<FindingQuery>) -> Result<FindingPage> {
    query_dir(Path::new(&log_dir), &query.unwrap_or_default().into(), &[])
        .map(FindingPage::from)
        .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))
}
