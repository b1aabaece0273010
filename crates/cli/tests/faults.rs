//! Faults between and around real nodes: a cut link, peers that hang,
//! babble or never stop talking, requests that do the same, and a disk
//! that fills up or turns read-only. Each test is bounded in time and
//! count, targets only 127.0.0.1, and prints what it injected.

mod net;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use net::faulty::{Behaviour, Faulty};
use net::tls::exchange;
use net::{Net, Party, http, json, ok, open_channel, parley, wait_until};
use parley_store::{DeliveryRole, FeedId, Store};
use serde_json::{Value, json as j};

/// Nodes whose calls to peers give up after 2 s (test timing only).
fn quick_net(names: &[&str]) -> Net {
    let net = Net::new(names);
    for p in &net.parties {
        p.configure("request_timeout_secs = 20", "request_timeout_secs = 2");
    }
    net
}

fn backlog(p: &Party, peer: &str) -> (u64, Value) {
    let s = p.peer_status(peer);
    (s["backlog_entries"].as_u64().unwrap(), s)
}

fn receipted(p: &Party, channel: &str, peer: &str) -> u64 {
    p.store()
        .delivered(peer, &FeedId::new(channel, &p.name), DeliveryRole::Push)
        .unwrap()
}

/// Sends `n` messages through `parley send`; returns the feed size after.
fn send_n(p: &Party, channel: &str, n: usize, label: &str) -> u64 {
    for i in 0..n {
        p.send_text(channel, &format!("{label} {i}"));
    }
    p.feed_size(channel, &p.name)
}

#[test]
fn a_cut_link_shows_its_backlog_and_delivers_everything_when_it_returns() {
    let mut net = quick_net(&["nato", "russia", "osce"]);
    let link = Faulty::start(0, net.get("russia").port, Behaviour::Pass);
    net.get("nato").repin(net.get("russia"), &link.url());
    net.start_all();
    open_channel(&net);
    let started = Instant::now();
    let (nato, russia) = (net.get("nato"), net.get("russia"));

    let mut injected = Vec::new();
    for fault in [Behaviour::Stall, Behaviour::Drop] {
        link.set(fault);
        let size = send_n(nato, "nato.mil", 10, &format!("during {fault:?}"));
        wait_until(30, "nato to show the link down with a backlog", || {
            let (b, s) = backlog(nato, "russia");
            b > 0 && s["link"] == "down" && s["last_error"].is_string()
        });
        // The node still answers its users, and russia → nato still flows.
        russia.send_text("nato.mil", &format!("reply during {fault:?}"));
        let rs = russia.feed_size("nato.mil", "russia");
        wait_until(30, "russia's message to reach nato directly", || {
            nato.feed_size("nato.mil", "russia") == rs
        });
        let (b, _) = backlog(nato, "russia");
        assert!(
            russia.feed_size("nato.mil", "nato") < size,
            "nothing crosses a cut link"
        );
        injected.push(format!("{fault:?} with {b} entries waiting"));
    }
    link.set(Behaviour::Pass);
    let restored = Instant::now();
    let size = nato.feed_size("nato.mil", "nato");
    wait_until(60, "russia to hold everything nato sent", || {
        russia.feed_size("nato.mil", "nato") == size
    });
    wait_until(60, "nato to hold russia's receipt for everything", || {
        receipted(nato, "nato.mil", "russia") == size
    });
    wait_until(30, "the backlog to be empty", || {
        backlog(nato, "russia").0 == 0
    });
    assert_eq!(
        nato.feed_root("nato.mil", "nato"),
        russia.feed_root("nato.mil", "nato")
    );
    for p in ["nato", "russia"] {
        net.get(p).audit();
    }
    net::figure(format!(
        "cut link: {}; {size} entries delivered and receipted {:.1} s after the link returned; {} connections through the proxy; {:.1} s in all",
        injected.join(", then "),
        restored.elapsed().as_secs_f64(),
        link.accepted.load(std::sync::atomic::Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    ));
}

#[test]
fn hostile_peers_neither_stall_the_node_nor_grow_its_memory() {
    let mut net = quick_net(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    // A second channel, nato with osce, must keep working throughout.
    ok(&[
        "channel",
        "create",
        "--dir",
        net.get("nato").d(),
        "--id",
        "nato.ops",
        "--members",
        "nato,osce",
        "--level",
        "expert",
        "--languages",
        "en",
    ]);
    let od = net.get("osce").d().to_string();
    wait_until(20, "osce to receive the ops charter", || {
        json(&["channel", "list", "--dir", &od])
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c["id"] == "nato.ops"))
    });
    ok(&["channel", "accept", "--dir", &od, "--id", "nato.ops"]);
    let russia_port = net.get("russia").port;
    net.p("russia").stop();
    let hostile = Faulty::impersonating(net.get("russia"), russia_port, Behaviour::Stall);
    let baseline_kib = net.get("nato").rss_kib();
    let mut report = Vec::new();
    for (b, expect) in [
        (Behaviour::Stall, "timed out"),
        (Behaviour::Garbage, "invalid HTTP"),
        (Behaviour::GarbageJson, "bad answer"),
        (Behaviour::Endless, "longer than"),
        (Behaviour::Oversized, "announces"),
    ] {
        hostile.set(b);
        let nato = net.get("nato");
        send_n(nato, "nato.mil", 3, &format!("to a {b:?} russia"));
        // Other peers and the node's own users are served meanwhile.
        assert_eq!(console_login_page(nato), 200, "the console answers");
        let ops = send_n(
            nato,
            "nato.ops",
            3,
            &format!("to osce while russia is {b:?}"),
        );
        wait_until(30, "osce to receipt everything on ops", || {
            receipted(nato, "nato.ops", "osce") == ops
        });
        wait_until(
            30,
            &format!("nato to say why russia ({b:?}) gets nothing"),
            || {
                let (_, s) = backlog(nato, "russia");
                s["last_error"].as_str().is_some_and(|e| e.contains(expect))
            },
        );
        std::thread::sleep(Duration::from_secs(2));
        let rss = nato.rss_kib();
        assert!(
            rss < baseline_kib + 64 * 1024,
            "nato grew from {baseline_kib} KiB to {rss} KiB against a {b:?} peer"
        );
        let (waiting, s) = backlog(nato, "russia");
        assert!(waiting > 0);
        report.push(format!(
            "{b:?}: {waiting} waiting, rss {} MiB, {:?}",
            rss / 1024,
            s["last_error"].as_str().unwrap_or("")
        ));
    }
    drop(hostile);
    net.p("russia").start();
    let nato = net.get("nato");
    let size = nato.feed_size("nato.mil", "nato");
    wait_until(60, "the real russia to receipt everything", || {
        receipted(nato, "nato.mil", "russia") == size
    });
    net::figure(format!(
        "hostile peers (baseline rss {} MiB):",
        baseline_kib / 1024
    ));
    for r in report {
        net::figure(format!("  {r}"));
    }
}

/// The console's sign-in page: its HTTP status.
fn console_login_page(p: &Party) -> u16 {
    let (rt, c) = http();
    rt.block_on(async {
        let r = c
            .get(format!("{}/login", p.console_url()))
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    })
}

#[test]
fn hostile_requests_are_refused_with_a_reason_and_change_nothing() {
    let mut net = quick_net(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    russia.send_text("nato.mil", "first");
    let rs = russia.feed_size("nato.mil", "russia");
    wait_until(30, "nato to hold russia's message", || {
        nato.feed_size("nato.mil", "russia") == rs
    });
    let before = (
        nato.feed_size("nato.mil", "russia"),
        nato.feed_size("nato.mil", "nato"),
    );
    let baseline_kib = nato.rss_kib();
    let port = nato.port;
    let push = "POST /federation/v1/push HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n";

    // Idle connections that never send a byte, from another host, do
    // not stop service to this one.
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| net::connect_from([127, 0, 0, 2], port))
        .collect();
    assert_eq!(nato.status()["party"], "nato");

    // An oversized body is refused by its announced length.
    let big = exchange(
        russia,
        port,
        &format!("{push}content-length: 40000000\r\n\r\n"),
        vec![],
        Duration::ZERO,
    );
    assert!(big.contains("413"), "oversized: {big}");
    // An endless body is cut off at the limit.
    let chunk = format!("100000\r\n{}\r\n", "a".repeat(0x100000)).into_bytes();
    let endless = exchange(
        russia,
        port,
        &format!("{push}transfer-encoding: chunked\r\n\r\n"),
        vec![chunk; 200],
        Duration::ZERO,
    );
    assert!(endless.contains("413"), "endless: {endless}");
    // A body trickled in, byte by byte, is timed out.
    let t = Instant::now();
    let trickle = exchange(
        russia,
        port,
        &format!("{push}content-length: 100000\r\n\r\n"),
        vec![b" ".to_vec(); 8],
        Duration::from_millis(500),
    );
    assert!(
        trickle.contains("408"),
        "trickle: {trickle} after {:?}",
        t.elapsed()
    );

    // Replays: russia's genuine update, fetched as a peer would, then sent
    // again. The same entries get the receipt already given; altered
    // entries under the same signed checkpoint are refused.
    let (rt, _) = http();
    let c = net::tls::client(Some(russia));
    let update = russia.feed_update("nato.mil", 0);
    let replay = |u: &Value| -> (u16, Value) {
        rt.block_on(async {
            let r = c
                .post(format!("{}/federation/v1/push", nato.url()))
                .json(u)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
        })
    };
    let (status, answer) = replay(&update);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["size"], rs);
    russia.send_text("nato.mil", "second");
    let rs2 = russia.feed_size("nato.mil", "russia");
    wait_until(30, "nato to hold russia's second message", || {
        nato.feed_size("nato.mil", "russia") == rs2
    });
    let (status, answer) = replay(&update);
    assert_eq!(
        (status, answer["size"].as_u64()),
        (200, Some(rs)),
        "an old push is answered with the old receipt"
    );
    let mut altered = update.clone();
    let last = altered["entries"].as_array().unwrap().len() - 1;
    altered["entries"][last] = j!("AAAA");
    let (status, answer) = replay(&altered);
    assert_eq!(
        (status, answer["error"].as_str()),
        (422, Some("root_mismatch")),
        "{answer}"
    );

    // Reading a feed (catch-up) takes a member's signed request.
    let osce = net.get("osce");
    let unsigned = rt.block_on(async {
        let url = format!(
            "{}/federation/v1/feeds/nato.mil/russia?from=0",
            russia.url()
        );
        c.get(url).send().await.unwrap().status().as_u16()
    });
    assert_eq!(unsigned, 403, "an unsigned read is refused");
    let (status, answer) = russia.feed_update_for(osce, "nato.mil", 0);
    assert_eq!(
        (status, answer["error"].as_str()),
        (403, Some("not_member")),
        "the witness is pinned but may not read entries: {answer}"
    );
    assert_eq!(
        russia.feed_update_for(nato, "nato.mil", 0).0,
        200,
        "a member may"
    );

    let rss = nato.rss_kib();
    assert!(
        rss < baseline_kib + 64 * 1024,
        "nato grew from {baseline_kib} KiB to {rss} KiB"
    );
    assert_eq!(
        (
            nato.feed_size("nato.mil", "russia"),
            nato.feed_size("nato.mil", "nato")
        ),
        (rs2, before.1),
        "only russia's real second message was stored"
    );
    nato.audit();
    drop(idle);
    net::figure(format!(
        "hostile requests: 200 idle connections, a 40 MB announced body ({big}), 200 MiB streamed ({endless}), a trickle ({trickle}), \
         3 replays (2 answered with the receipt already given, 1 altered and refused), \
         feed reads unsigned and by a non-member refused; rss {} → {} MiB",
        baseline_kib / 1024,
        rss / 1024
    ));
}

/// A small RAM file system mounted over a node directory, unmounted when
/// dropped. Needs mount rights (root in CI).
struct SmallDisk(std::path::PathBuf);

/// Runs a command as root: directly when the tests run as root (as in CI),
/// else through `sudo -n` if that is allowed. Whether it succeeded.
fn privileged(args: &[&str]) -> bool {
    let run = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    run(args[0], &args[1..]) || run("sudo", &[&["-n"], args].concat())
}

/// Moves a node directory's files onto a fresh mount at the same path,
/// owned by the test's user and synced to disk (as an installed node's
/// files long are). If `mount` fails, the directory stays as it was.
fn move_onto_mount(dir: &std::path::Path, mount: impl FnOnce() -> bool) -> bool {
    let keep = dir.with_extension("orig");
    std::fs::rename(dir, &keep).unwrap();
    std::fs::create_dir(dir).unwrap();
    if !mount() {
        std::fs::remove_dir(dir).unwrap();
        std::fs::rename(&keep, dir).unwrap();
        return false;
    }
    let owner = format!("{}:{}", id("-u"), id("-g"));
    assert!(privileged(&["chown", &owner, dir.to_str().unwrap()]));
    let copied = std::process::Command::new("cp")
        .args(["-a", &format!("{}/.", keep.display())])
        .arg(dir)
        .status()
        .unwrap();
    assert!(copied.success());
    // Unsynced, the copy could vanish with a disk error (delayed allocation).
    assert!(
        std::process::Command::new("sync")
            .status()
            .unwrap()
            .success()
    );
    true
}

impl SmallDisk {
    fn over(dir: &std::path::Path, size: &str) -> Option<SmallDisk> {
        let options = format!("size={size},mode=0700,uid={},gid={}", id("-u"), id("-g"));
        let dir_text = dir.to_str().unwrap();
        move_onto_mount(dir, || {
            privileged(&["mount", "-t", "tmpfs", "-o", &options, "tmpfs", dir_text])
        })
        .then(|| SmallDisk(dir.to_path_buf()))
    }

    fn remount(&self, how: &str) {
        let ok = privileged(&[
            "mount",
            "-o",
            &format!("remount,{how}"),
            self.0.to_str().unwrap(),
        ]);
        assert!(ok, "remount {how}");
    }

    /// Fills the disk; returns the filler's path.
    fn fill(&self) -> std::path::PathBuf {
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let mut small = [0u8; 512];
        while f.write_all(&small[..]).is_ok() {
            small[0] ^= 1;
        }
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        privileged(&["umount", "-l", self.0.to_str().unwrap()]);
    }
}

/// A send through the local API: its HTTP status and answer.
fn api_send(p: &Party, text: &str) -> (u16, Value) {
    try_api_send(p, text).unwrap()
}

/// As [`api_send`]; `None` when the connection itself is refused.
fn try_api_send(p: &Party, text: &str) -> Option<(u16, Value)> {
    let (rt, c) = http();
    rt.block_on(async {
        let r = c
            .post(format!("{}/api/v1/entries", p.console_url()))
            .bearer_auth(p.token())
            .json(&j!({"channel": "nato.mil", "kind": "hotline_message",
                "body": {"priority": "routine", "text": {"en": text}}}))
            .send()
            .await
            .ok()?;
        Some((r.status().as_u16(), r.json().await.unwrap_or(Value::Null)))
    })
}

#[test]
fn a_full_or_read_only_disk_refuses_work_clearly_and_resumes() {
    if net::on_postgres() {
        // The record is not in the node directory on PostgreSQL: this is
        // SQLite's disk (run in the SQLite leg); the server's failure is
        // `a_database_server_that_goes_away_refuses_work_and_resumes`.
        return;
    }
    let mut net = quick_net(&["nato", "russia", "osce"]);
    let dir = net.get("nato").dir.clone();
    let Some(disk) = SmallDisk::over(&dir, "6m") else {
        net::cannot_run(
            "disk",
            "mounting a tmpfs to fill failed (needs root, or sudo -n)",
        );
        return;
    };
    // The node logs to the same small disk, as a node logging to a file would.
    std::os::unix::fs::symlink(dir.join("serve.log"), dir.with_extension("log")).unwrap();
    net.start_all();
    open_channel(&net);
    let mut report = Vec::new();
    for fault in ["full", "full again"] {
        let (nato, russia) = (net.get("nato"), net.get("russia"));
        let size_before = nato.feed_size("nato.mil", "nato");
        let filler = disk.fill();
        // Sends are refused with the reason, and nothing is stored.
        let mut refused = 0;
        let mut stored = 0;
        let mut answer = Value::Null;
        for i in 0..20 {
            let (status, a) = api_send(nato, &format!("while the disk is {fault} {i}"));
            if status == 507 {
                refused += 1;
                answer = a;
            } else {
                assert_eq!(status, 200, "{a}");
                stored += 1;
            }
        }
        assert!(refused > 0, "a {fault} disk must refuse sends");
        assert_eq!(answer["error"], "storage_unavailable");
        let msg = answer["message"].as_str().unwrap().to_string();
        assert!(msg.contains("disk holding the database is full"), "{msg}");
        // A peer's pushes are refused, not acknowledged: they wait at russia.
        russia.send_text("nato.mil", &format!("to nato while its disk is {fault}"));
        wait_until(30, "russia to see why nato takes nothing", || {
            let (b, s) = backlog(russia, "nato");
            b > 0
                && s["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("storage_unavailable"))
        });
        assert_eq!(
            receipted(russia, "nato.mil", "nato") + 1,
            russia.feed_size("nato.mil", "russia")
        );
        // Space returns: the node takes work again by itself.
        std::fs::remove_file(filler).unwrap();
        let (status, a) = api_send(nato, &format!("after the disk was {fault}"));
        assert_eq!(status, 200, "{a}");
        assert_eq!(nato.feed_size("nato.mil", "nato"), size_before + stored + 1);
        let rs = russia.feed_size("nato.mil", "russia");
        wait_until(
            60,
            "russia's waiting message to be stored and receipted",
            || receipted(russia, "nato.mil", "nato") == rs,
        );
        report.push(format!(
            "{fault}: {refused} sends refused ({msg:?}), {stored} stored before it bit"
        ));
    }
    let nato = net.get("nato");
    nato.audit();
    assert_eq!(
        nato.feed_root("nato.mil", "nato"),
        net.get("russia").feed_root("nato.mil", "nato")
    );

    // Read-only: Linux refuses to remount a file system read-only while a
    // process has files open on it for writing (EBUSY), so the node is
    // stopped, the disk made read-only, and the node started on it.
    net.p("nato").stop();
    disk.remount("ro");
    let serve = parley(&["serve", "--dir", net.get("nato").d()]);
    let err = String::from_utf8_lossy(&serve.stderr).to_string();
    assert_eq!(serve.status.code(), Some(3), "{err}");
    assert!(err.contains("Read-only file system"), "says why: {err}");
    disk.remount("rw");
    net.p("nato").start();
    let (status, a) = api_send(net.get("nato"), "after the disk was read-only");
    assert_eq!(status, 200, "{a}");
    report.push(format!(
        "read-only at start: serve exits 3 with {:?}",
        err.trim()
    ));
    net.p("nato").kill();
    drop(disk);
    net::figure(format!(
        "disk faults on a 6 MiB tmpfs: {}",
        report.join("; ")
    ));
}

/// An ext4 image mounted (loop) over a node directory with
/// `errors=remount-ro`, so a file-system error turns it read-only under the
/// running node, as a failing disk does. Unmounted when dropped.
struct Ext4Disk {
    dir: std::path::PathBuf,
    image: std::path::PathBuf,
}

impl Ext4Disk {
    fn over(dir: &std::path::Path) -> Option<Ext4Disk> {
        let image = dir.with_extension("img");
        std::fs::File::create(&image)
            .unwrap()
            .set_len(32 << 20)
            .unwrap();
        if !privileged(&["mkfs.ext4", "-q", image.to_str().unwrap()]) {
            return None;
        }
        let disk = Ext4Disk {
            dir: dir.to_path_buf(),
            image,
        };
        move_onto_mount(dir, || disk.mount()).then_some(disk)
    }

    fn mount(&self) -> bool {
        privileged(&[
            "mount",
            "-o",
            "loop,errors=remount-ro",
            self.image.to_str().unwrap(),
            self.dir.to_str().unwrap(),
        ])
    }

    /// The kernel's own error path: ext4 records an error and, as mounted,
    /// turns the file system read-only with the node's files open.
    fn fail(&self) {
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
        let dev = mounts
            .lines()
            .find(|l| l.split(' ').nth(1) == self.dir.to_str())
            .and_then(|l| l.split(' ').next())
            .unwrap()
            .trim_start_matches("/dev/")
            .to_string();
        let knob = format!("/sys/fs/ext4/{dev}/trigger_fs_error");
        assert!(
            privileged(&["sh", "-c", &format!("echo parley-test > {knob}")]),
            "{knob}"
        );
    }

    /// What an operator does after a disk error: unmount, check, mount.
    fn repair(&self) {
        assert!(
            privileged(&["umount", self.dir.to_str().unwrap()]),
            "umount"
        );
        let fsck = std::process::Command::new("e2fsck")
            .args(["-fy", self.image.to_str().unwrap()])
            .output()
            .unwrap();
        // 0: clean, 1: errors corrected.
        assert!(
            fsck.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&fsck.stdout)
        );
        assert!(self.mount(), "mount after e2fsck");
    }

    fn read_only(&self) -> bool {
        std::fs::read_to_string("/proc/mounts")
            .unwrap()
            .lines()
            .filter(|l| l.split(' ').nth(1) == self.dir.to_str())
            .any(|l| {
                l.split(' ')
                    .nth(3)
                    .is_some_and(|o| o.split(',').any(|f| f == "ro" || f == "emergency_ro"))
            })
    }
}

impl Drop for Ext4Disk {
    fn drop(&mut self) {
        privileged(&["umount", "-l", self.dir.to_str().unwrap()]);
    }
}

fn id(flag: &str) -> String {
    let out = std::process::Command::new("id").arg(flag).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_disk_turning_read_only_under_traffic_loses_nothing_acknowledged() {
    if net::on_postgres() {
        // The record is not in the node directory on PostgreSQL: this is
        // SQLite's disk (run in the SQLite leg); the server's failure is
        // `a_database_server_that_goes_away_refuses_work_and_resumes`.
        return;
    }
    let mut net = quick_net(&["nato", "russia", "osce"]);
    let dir = net.get("nato").dir.clone();
    let Some(disk) = Ext4Disk::over(&dir) else {
        net::cannot_run(
            "disk",
            "mounting a loop ext4 image failed (needs root, /dev/loop* and mkfs.ext4)",
        );
        return;
    };
    net.start_all();
    open_channel(&net);
    let mut acked = Vec::new();
    for i in 0..10 {
        let (status, a) = api_send(net.get("nato"), &format!("before the disk error {i}"));
        assert_eq!(status, 200, "{a}");
        acked.push(a["seq"].as_u64().unwrap());
    }
    disk.fail();
    assert!(disk.read_only(), "the file system turned read-only");
    let (mut refused, mut answer) = (0, Value::Null);
    for i in 0..10 {
        let (status, a) = api_send(net.get("nato"), &format!("after the disk error {i}"));
        assert_eq!(status, 507, "nothing can be stored now: {a}");
        refused += 1;
        answer = a;
    }
    assert_eq!(answer["error"], "storage_unavailable");
    let msg = answer["message"].as_str().unwrap().to_string();
    let russia = net.get("russia");
    russia.send_text("nato.mil", "to nato while its disk is read-only");
    wait_until(30, "russia to see why nato takes nothing (disk)", || {
        let (b, s) = backlog(russia, "nato");
        b > 0
            && s["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("storage_unavailable"))
    });

    // The operator's repair: stop, check the file system, start.
    net.p("nato").kill();
    disk.repair();
    net.p("nato").start();
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    let stored = nato.store();
    let feed = FeedId::new("nato.mil", "nato");
    for seq in &acked {
        assert!(
            stored.entry(&feed, *seq).unwrap().is_some(),
            "acknowledged entry {seq} survived"
        );
    }
    assert_eq!(
        nato.feed_size("nato.mil", "nato"),
        acked.last().unwrap() + 1,
        "nothing refused was stored"
    );
    let (status, a) = api_send(nato, "after the repair");
    assert_eq!(status, 200, "{a}");
    let rs = russia.feed_size("nato.mil", "russia");
    wait_until(
        60,
        "russia's waiting message to be stored and receipted",
        || receipted(russia, "nato.mil", "nato") == rs,
    );
    nato.audit();
    net.p("nato").kill();
    drop(disk);
    net::figure(format!(
        "disk turned read-only under a running node (ext4 errors=remount-ro): {refused} sends refused ({msg:?}); \
         after e2fsck all {} acknowledged entries were there and russia's waiting entry was delivered",
        acked.len()
    ));
}

/// PostgreSQL's own fault: the database server goes away (a restart, a
/// network cut) while the node runs. Sends are refused with the reason and
/// change nothing, a peer's pushes wait, and once the server is back the
/// node takes work again by itself and everything acknowledged is there.
#[test]
fn a_database_server_that_goes_away_refuses_work_and_resumes() {
    if !net::on_postgres() {
        // SQLite has no server; its disk's faults are the tests above.
        return;
    }
    let mut net = quick_net(&["nato", "russia", "osce"]);
    // nato reaches its database through a link the test can cut.
    let pg_port: u16 = std::env::var("PGPORT").map_or(5432, |p| p.parse().unwrap());
    let proxy = Faulty::start(0, pg_port, Behaviour::Pass);
    let url = net.databases[0].url.clone();
    let through_proxy: Vec<String> = url
        .split_whitespace()
        .map(|kv| match kv.split_once('=') {
            Some(("host", _)) => "host=127.0.0.1".to_string(),
            Some(("port", _)) => format!("port={}", proxy.port),
            _ => kv.to_string(),
        })
        .collect();
    net.get("nato").configure(&url, &through_proxy.join(" "));
    net.start_all();
    open_channel(&net);
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    let (status, a) = api_send(nato, "before the database went away");
    assert_eq!(status, 200, "{a}");
    let size_before = nato.feed_size("nato.mil", "nato");

    proxy.set(Behaviour::Drop);
    // Sends are refused with the reason: at first the store's
    // (`storage_unavailable`), then, once the node finds it can no longer
    // confirm its lease on the database, the node's own (`not_active`: it
    // stops acting until it holds the lease again). Nothing is stored.
    let mut reasons = std::collections::BTreeSet::new();
    let mut msg = String::new();
    let outage = Instant::now();
    let mut switches = 0;
    while outage.elapsed() < Duration::from_secs(3) {
        // The instant the node hands its addresses from its active
        // listeners to its standby ones, a connection may be refused.
        let Some((status, a)) = try_api_send(nato, "while the database is away") else {
            switches += 1;
            assert!(switches < 5, "the node's addresses stay refused");
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        match (status, a["error"].as_str()) {
            (507, Some("storage_unavailable")) | (503, Some("not_active")) => {}
            _ => panic!("{status}: {a}"),
        }
        msg = a["message"].as_str().unwrap().to_string();
        assert!(msg.contains("database"), "{msg}");
        reasons.insert(a["error"].as_str().unwrap().to_string());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(reasons.contains("not_active"), "{reasons:?}");
    // A peer's pushes are refused, not acknowledged: they wait at russia.
    russia.send_text("nato.mil", "to nato while its database is away");
    wait_until(30, "russia to see why nato takes nothing", || {
        let (b, s) = backlog(russia, "nato");
        b > 0
            && s["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("not_active") || e.contains("storage_unavailable"))
    });
    assert_eq!(nato_size_now(&net), size_before, "nothing stored meanwhile");

    proxy.set(Behaviour::Pass);
    wait_until(30, "nato to take sends again", || {
        try_api_send(nato, "after the database came back").is_some_and(|(s, _)| s == 200)
    });
    assert_eq!(nato.feed_size("nato.mil", "nato"), size_before + 1);
    let rs = russia.feed_size("nato.mil", "russia");
    wait_until(60, "russia's waiting message to be receipted", || {
        receipted(russia, "nato.mil", "nato") == rs
    });
    wait_until(60, "nato's messages to be receipted by russia", || {
        receipted(nato, "nato.mil", "russia") == nato.feed_size("nato.mil", "nato")
    });
    nato.audit();
    assert_eq!(
        nato.feed_root("nato.mil", "nato"),
        russia.feed_root("nato.mil", "nato")
    );
    net::figure(format!(
        "PostgreSQL server away: sends refused ({reasons:?}, last {msg:?}); after it returned, \
         nato active again by itself and every entry on both sides ({} of nato's)",
        nato.feed_size("nato.mil", "nato")
    ));
}

/// nato's feed size read from its database directly, past the cut link
/// (its API answers `not_active` while it stands by).
fn nato_size_now(net: &Net) -> u64 {
    parley_store::PostgresStore::open(&net.databases[0].url)
        .unwrap()
        .feed_head(&FeedId::new("nato.mil", "nato"))
        .unwrap()
        .map_or(0, |h| h.size)
}
