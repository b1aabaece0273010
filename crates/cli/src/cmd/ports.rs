//! Who holds a TCP port: so that "address already in use" can say what to
//! stop, instead of leaving the user to guess.

use std::net::SocketAddr;

/// "pid 4242 (parley serve --dir parley-demo/nato)", when this host shows
/// which process listens on `addr`'s port (Linux `/proc`; other users'
/// processes only to root); `None` when it cannot tell.
pub(crate) fn holder(addr: SocketAddr) -> Option<String> {
    let inodes = listening_inodes(addr.port());
    if inodes.is_empty() {
        return None;
    }
    for proc_dir in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = proc_dir
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(proc_dir.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|target| {
                let t = target.to_string_lossy();
                inodes.iter().any(|i| t == format!("socket:[{i}]"))
            })
        });
        if holds {
            let cmdline = std::fs::read(proc_dir.path().join("cmdline")).unwrap_or_default();
            let words: Vec<String> = cmdline
                .split(|b| *b == 0)
                .filter(|w| !w.is_empty())
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect();
            return Some(format!("pid {pid} ({})", words.join(" ")));
        }
    }
    Some("another user's process".into())
}

/// Socket inodes listening on `port` (IPv4 and IPv6).
fn listening_inodes(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEXADDR:HEXPORT; state 0A is LISTEN.
            let Some(local_port) = cols
                .get(1)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok())
            else {
                continue;
            };
            if local_port == port
                && cols.get(3) == Some(&"0A")
                && let Some(inode) = cols.get(9)
            {
                out.push((*inode).to_string());
            }
        }
    }
    out
}

/// Whether `addr` can be bound now (it is free).
pub(crate) fn is_free(addr: SocketAddr) -> bool {
    std::net::TcpListener::bind(addr).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_held_by_this_process_is_traced_to_it() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        assert!(!is_free(addr));
        let who = holder(addr).expect("this process's own socket is visible");
        assert!(
            who.starts_with(&format!("pid {} ", std::process::id())),
            "{who}"
        );
        drop(l);
        assert!(is_free(addr));
    }
}
