//! `traffic-guardian canary`: mint, list and retire canary credentials in a
//! home. The minted value crosses to the host CLI once, to be printed; the
//! home keeps only keyed hashes under its fingerprint key.

use crate::core::canary::{self, CanaryKind};
use crate::core::home::HomeLayout;
use crate::storage::canary_file;
use crate::storage::keyfile::load_or_create_key;
use crate::system::timestamp_now;
use napi::{Error, Result, Status};
use napi_derive::napi;
use std::path::Path;

/// One canary as listed: identity only, never a value or hash.
#[napi(object)]
pub struct CanaryInfo {
    /// `can_` + 12 hex digits.
    pub id: String,
    pub group: String,
    /// `aws`, `github`, `anthropic`, `openai`, `slack` or `generic`.
    pub kind: String,
    #[napi(js_name = "created_at")]
    pub created_at: String,
}

/// A minted canary: `lines` are `NAME=value` to plant, shown once.
#[napi(object)]
pub struct MintedCanary {
    pub info: CanaryInfo,
    /// `[env name, value]` pairs.
    pub lines: Vec<Vec<String>>,
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::new(Status::GenericFailure, e.to_string())
}

fn info(r: &canary::CanaryRecord) -> CanaryInfo {
    CanaryInfo {
        id: r.id.clone(),
        group: r.group.clone(),
        kind: r.kind.as_str().to_owned(),
        created_at: r.created_at.clone(),
    }
}

/// Mints a canary of `kind` for `group` in the home `home` (created 0700 if
/// needed) and records it by hash. The running guardian loads it at start.
#[napi]
pub fn canary_new(home: String, group: String, kind: String) -> Result<MintedCanary> {
    let Some(kind) = CanaryKind::parse(&kind) else {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "unknown canary kind \"{}\"; expected one of: aws github anthropic openai slack generic",
                kind.chars().take(40).collect::<String>()
            ),
        ));
    };
    let layout = HomeLayout::of(Path::new(&home));
    crate::storage::ensure_private_dir(&layout.home).map_err(fail)?;
    let key = load_or_create_key(&layout.fingerprint_key_file).map_err(fail)?;
    let mut random = [0u8; 256];
    let mut id = [0u8; 6];
    getrandom::fill(&mut random).map_err(fail)?;
    getrandom::fill(&mut id).map_err(fail)?;
    let mut records = canary_file::load(&layout.canary_file).map_err(fail)?;
    let minted =
        canary::mint(&key, &group, kind, &random, id, timestamp_now()).map_err(|e| match e {
            canary::CanaryError::BadGroup(_) => Error::new(Status::InvalidArg, e.to_string()),
            other => fail(other),
        })?;
    random.fill(0);
    records.push(minted.record.clone());
    canary_file::save(&layout.canary_file, &records).map_err(fail)?;
    Ok(MintedCanary {
        info: info(&minted.record),
        lines: minted
            .lines
            .into_iter()
            .map(|(n, v)| vec![n.to_owned(), v])
            .collect(),
    })
}

/// The canaries recorded in the home `home`.
#[napi]
pub fn canary_list(home: String) -> Result<Vec<CanaryInfo>> {
    let layout = HomeLayout::of(Path::new(&home));
    Ok(canary_file::load(&layout.canary_file)
        .map_err(fail)?
        .iter()
        .map(info)
        .collect())
}

/// Removes canary `id` from the home; returns it, or `null` if absent.
#[napi]
pub fn canary_retire(home: String, id: String) -> Result<Option<CanaryInfo>> {
    let layout = HomeLayout::of(Path::new(&home));
    let mut records = canary_file::load(&layout.canary_file).map_err(fail)?;
    let Some(pos) = records.iter().position(|r| r.id == id) else {
        return Ok(None);
    };
    let gone = records.remove(pos);
    canary_file::save(&layout.canary_file, &records).map_err(fail)?;
    Ok(Some(info(&gone)))
}
