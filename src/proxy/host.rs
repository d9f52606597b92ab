//! Facts about the host the proxy runs on, read at the edge: the addresses
//! of its network interfaces (for the pivot guard) and the open-file limit.

use std::io;
use std::net::IpAddr;

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Every address of every interface of this host (loopback, docker
/// bridges and veth ends included), as the kernel lists them now.
pub fn interface_addrs() -> io::Result<Vec<IpAddr>> {
    let mut addrs: Vec<IpAddr> = if_addrs::get_if_addrs()?
        .into_iter()
        .map(|i| i.ip().to_canonical())
        .collect();
    addrs.sort_unstable();
    addrs.dedup();
    Ok(addrs)
}

/// The open-file limit before and after [`raise_nofile_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NofileLimit {
    pub before: Option<u64>,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, so that the
/// connection caps, not a low default soft limit, bound the descriptors.
/// `None` means unlimited.
pub fn raise_nofile_limit() -> io::Result<NofileLimit> {
    let cur = getrlimit(Resource::Nofile);
    if cur.current != cur.maximum {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: cur.maximum,
                maximum: cur.maximum,
            },
        )?;
    }
    let now = getrlimit(Resource::Nofile);
    Ok(NofileLimit {
        before: cur.current,
        soft: now.current,
        hard: now.maximum,
    })
}
