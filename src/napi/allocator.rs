//! The addon's allocator, tuned when Node loads the addon, and reported
//! for diagnostics (see [`crate::allocator`]).

use napi_derive::napi;

/// Runs when the addon is loaded, before any export is called.
#[napi_derive::module_init]
fn tune_allocator() {
    crate::allocator::tune();
}

/// The allocator the addon runs with and its memory options.
#[napi(object)]
pub struct AllocatorInfo {
    /// `mimalloc` (the published addon) or `system`.
    pub name: String,
    /// mimalloc's arena eager commit (absent for the system allocator).
    pub arena_eager_commit: Option<i64>,
    /// Milliseconds before freed memory is returned to the OS (absent for
    /// the system allocator).
    pub purge_delay_ms: Option<i64>,
}

/// The allocator the addon runs with, read back from it.
#[napi]
pub fn allocator_info() -> AllocatorInfo {
    let s = crate::allocator::settings();
    AllocatorInfo {
        name: s.name.to_owned(),
        arena_eager_commit: s.arena_eager_commit,
        purge_delay_ms: s.purge_delay_ms,
    }
}
