//! The addon's allocator: mimalloc, with the feature `mimalloc` (on in
//! `npm run build:addon` and the benches; off for `cargo test`, whose
//! allocation-counting test brings its own global allocator).
//!
//! Why: forwarding allocates on the async workers and the scan pool frees
//! the same memory (queued frames, jobs, a message's inspector). glibc frees
//! a block into the arena that allocated it, under that arena's lock, so the
//! workers' own `malloc` calls waited on the scan thread. On 1 KiB GETs at
//! saturation that lock (`__lll_lock_wait_private`/`__lll_lock_wake_private`
//! under `malloc`/`free`) was 12 % of the guardian's samples against 3 % for
//! the bare proxy; mimalloc frees across threads without a lock (see
//! BENCHMARKS.md for the A/B).
//!
//! Two options keep its memory near glibc's under a download load (peak RSS
//! in `benches/proxy.rs --only load_memory`, HTTP guardian: glibc 145 MB;
//! mimalloc as shipped 295 MB; with these 175 MB): arenas are not committed
//! eagerly, and freed pages go back to the OS after 10 ms instead of 1 s.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` in mimalloc v3's `mi_option_e` (the
/// bindings name no constant for it): see [`tune`] for the guard on it.
#[cfg(feature = "mimalloc")]
const OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
/// `mi_option_purge_delay`, likewise.
#[cfg(feature = "mimalloc")]
const OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Commit arena memory as it is used, not up front.
pub const ARENA_EAGER_COMMIT: i64 = 0;
/// Milliseconds before freed memory is returned to the OS.
pub const PURGE_DELAY_MS: i64 = 10;

/// The allocator in use and its memory options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocatorSettings {
    /// `"mimalloc"` or `"system"`.
    pub name: &'static str,
    /// mimalloc's arena eager commit (`None` for the system allocator).
    pub arena_eager_commit: Option<i64>,
    /// mimalloc's purge delay in milliseconds (`None` for the system allocator).
    pub purge_delay_ms: Option<i64>,
}

/// Each option with mimalloc v3's default for it and our value.
#[cfg(feature = "mimalloc")]
const TUNED: [(libmimalloc_sys::mi_option_t, std::ffi::c_long, i64); 2] = [
    // Eager commit where the OS overcommits (2).
    (OPTION_ARENA_EAGER_COMMIT, 2, ARENA_EAGER_COMMIT),
    (OPTION_PURGE_DELAY, 1000, PURGE_DELAY_MS),
];

/// Sets the allocator's memory options; a no-op without mimalloc. Runs
/// when the library is loaded (the addon's load hook), before any guardian
/// runs. An option is set only while it still reads as mimalloc's default:
/// a value given in `MIMALLOC_ARENA_EAGER_COMMIT` or `MIMALLOC_PURGE_DELAY`
/// stays as the operator set it, and an option number that no longer names
/// that option (another mimalloc) is not written.
pub fn tune() {
    #[cfg(feature = "mimalloc")]
    for (option, default, ours) in TUNED {
        // SAFETY: `mi_option_get` and `mi_option_set` only read and store an
        // option value; mimalloc reads these when it next commits or purges.
        unsafe {
            if libmimalloc_sys::mi_option_get(option) == default {
                libmimalloc_sys::mi_option_set(option, ours as _);
            }
        }
    }
}

/// What the allocator is and the options it runs with, read back from it.
pub fn settings() -> AllocatorSettings {
    #[cfg(feature = "mimalloc")]
    {
        // SAFETY: `mi_option_get` only reads an option value.
        let (eager, purge) = unsafe {
            (
                libmimalloc_sys::mi_option_get(OPTION_ARENA_EAGER_COMMIT),
                libmimalloc_sys::mi_option_get(OPTION_PURGE_DELAY),
            )
        };
        AllocatorSettings {
            name: "mimalloc",
            arena_eager_commit: Some(eager),
            purge_delay_ms: Some(purge),
        }
    }
    #[cfg(not(feature = "mimalloc"))]
    AllocatorSettings {
        name: "system",
        arena_eager_commit: None,
        purge_delay_ms: None,
    }
}

#[cfg(all(test, feature = "mimalloc"))]
mod tests {
    use super::*;

    /// The options hold once the library is loaded: the addon's load hook
    /// (`napi::allocator`, a constructor, which runs in this test binary
    /// too) has tuned them, and tuning again changes nothing.
    #[test]
    fn the_loaded_library_runs_tuned() {
        let tuned = AllocatorSettings {
            name: "mimalloc",
            arena_eager_commit: Some(ARENA_EAGER_COMMIT),
            purge_delay_ms: Some(PURGE_DELAY_MS),
        };
        assert_eq!(settings(), tuned);
        tune();
        assert_eq!(settings(), tuned);
    }
}
