//! A network of real `parley serve` processes on 127.0.0.1 for tests.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod faulty;
pub mod forge;
pub mod go;
pub mod tls;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_parley")
}

/// Runs `parley` with arguments; returns the output.
pub fn parley(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("parley runs")
}

/// Runs `parley` and insists on success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let o = parley(args);
    assert!(
        o.status.success(),
        "parley {args:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    serde_json::from_str(&ok(&a)).expect("JSON output")
}

/// A port free now, and never handed out before in this test process: the
/// kernel may give the same ephemeral port to two binds in a row (a node's
/// peers' port and console port came out equal once in CI).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A TCP connection to 127.0.0.1:`port` from the loopback address `ip`
/// (another "host", for limits per client address).
pub fn connect_from(ip: [u8; 4], port: u16) -> std::net::TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind((std::net::Ipv4Addr::from(ip), 0).into()).unwrap();
        s.connect(([127, 0, 0, 1], port).into())
            .await
            .unwrap()
            .into_std()
            .unwrap()
    })
}

/// A check that cannot run on this machine. It fails the test, unless the
/// run allows skipping `what` (`PARLEY_ALLOW_SKIP=what[,…]`, or `all`):
/// then the skip is said on stderr and written to `PARLEY_SKIP_LOG`, which
/// the test command summarizes at its end. A check never passes by not
/// running.
pub fn cannot_run(what: &str, why: &str) {
    let allowed = std::env::var("PARLEY_ALLOW_SKIP").unwrap_or_default();
    if !allowed
        .split(',')
        .any(|a| a.trim() == what || a.trim() == "all")
    {
        panic!(
            "the {what} check cannot run here: {why}. Install what it needs (scripts/test-all.sh \
             does), or allow the skip with PARLEY_ALLOW_SKIP={what}"
        );
    }
    eprintln!("SKIPPED ({what}): {why}");
    if let Some(log) = std::env::var_os("PARLEY_SKIP_LOG") {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        writeln!(f, "{what}: {why}").unwrap();
    }
}

/// Which store the test nodes keep their record in: SQLite (the default),
/// or PostgreSQL when `PARLEY_TEST_BACKEND=postgres` (the test command's
/// second leg, inside `pg_virtualenv`).
pub fn on_postgres() -> bool {
    std::env::var("PARLEY_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A fresh database for one node when the run is on PostgreSQL: its
/// `parley init --database` argument and the guard that drops it.
pub fn node_database(tag: &str) -> Option<parley_store::throwaway::ThrowawayDatabase> {
    if !on_postgres() {
        return None;
    }
    let server = parley_store::throwaway::ThrowawayDatabase::server().expect(
        "PARLEY_TEST_BACKEND=postgres needs a server: run inside pg_virtualenv, or set PARLEY_TEST_PG_URL",
    );
    Some(parley_store::throwaway::ThrowawayDatabase::create(&server, tag).unwrap())
}

/// A figure a reliability test measured (rounds, losses, memory, the
/// replay seed): printed, and written to `PARLEY_FIGURES_LOG`, which the
/// test command prints at its end — nextest hides a passing test's output.
pub fn figure(line: String) {
    println!("{line}");
    if let Some(log) = std::env::var_os("PARLEY_FIGURES_LOG") {
        use std::io::Write as _;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let test = std::thread::current().name().unwrap_or("").to_string();
            // One line per figure in the summary, whatever the figure quotes.
            let flat = line.split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = writeln!(f, "{test}: {flat}");
        }
    }
}

/// Polls `f` every 50 ms until it returns true or `secs` pass.
pub fn wait_until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {secs}s waiting for: {what}");
}

/// One party's node: its directory, address and (while running) process.
/// Its log is beside the directory (`<dir>.log`), so a full disk under
/// the directory cannot swallow it.
pub struct Party {
    pub name: String,
    pub dir: PathBuf,
    /// The port peers reach it on (mutual TLS).
    pub port: u16,
    /// The console and local API's port (plain HTTP on loopback).
    pub console_port: u16,
    /// Its identity file (public keys), for peers and verifiers.
    pub identity: String,
    child: Option<Child>,
}

impl Party {
    /// A handle on a node directory (its keys, ports), without a process.
    pub fn at(name: &str, dir: &Path) -> Party {
        let config = parley_node::config::read_config(dir).unwrap();
        Party {
            name: name.to_string(),
            identity: dir.join("party.identity").to_str().unwrap().to_string(),
            dir: dir.to_path_buf(),
            port: config.listen.port(),
            console_port: config.console.listen.port(),
            child: None,
        }
    }

    pub fn d(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// The URL peers reach it at.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The console's (and local API's) URL.
    pub fn console_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.console_port)
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(self.dir.join("api.token"))
            .unwrap()
            .trim()
            .to_string()
    }

    pub fn start(&mut self) {
        // Tests run in parallel and take free ports from the same range: a
        // port this node just released (to a hostile stand-in, or by a
        // restart) may be held for an instant by another test's socket.
        // `parley serve` then exits 5 at once; try again, briefly.
        for _ in 0..40 {
            self.spawn();
            std::thread::sleep(Duration::from_millis(100));
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            match exited {
                Some(status) if status.code() == Some(5) => {
                    self.child = None;
                    std::thread::sleep(Duration::from_millis(250));
                }
                _ => break,
            }
        }
        let d = self.d().to_string();
        wait_until(20, &format!("{} to answer", self.name), || {
            parley(&["status", "--dir", &d]).status.success()
        });
    }

    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Resident memory of the running process, in KiB (Linux /proc).
    pub fn rss_kib(&self) -> u64 {
        let pid = self.pid().expect("the node runs");
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Peak resident memory of the running process so far, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let pid = self.pid().expect("the node runs");
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Starts without waiting for the node to answer.
    pub fn spawn(&mut self) {
        self.spawn_under(&[]);
    }

    /// Starts under a wrapper command (e.g. `strace -f -o FILE`), and waits
    /// for the node to answer.
    pub fn start_under(&mut self, wrapper: &[&str]) {
        self.spawn_under(wrapper);
        let d = self.d().to_string();
        wait_until(60, &format!("{} to answer", self.name), || {
            parley(&["status", "--dir", &d]).status.success()
        });
    }

    fn spawn_under(&mut self, wrapper: &[&str]) {
        assert!(self.child.is_none(), "{} already runs", self.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.with_extension("log"))
            .unwrap();
        let (program, first) = match wrapper.split_first() {
            Some((p, rest)) => (*p, rest.iter().copied().chain([bin()]).collect::<Vec<_>>()),
            None => (bin(), vec![]),
        };
        self.child = Some(
            Command::new(program)
                .args(first)
                .args(["serve", "--dir", self.d()])
                .env("RUST_LOG", "info")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
    }

    /// Points this node at `peer` through another URL (a proxy), keeping
    /// the pinned key. Takes effect at the node's next start.
    pub fn repin(&self, peer: &Party, url: &str) {
        ok(&[
            "peer",
            "add",
            "--dir",
            self.d(),
            "--identity",
            &peer.identity,
            "--url",
            url,
        ]);
    }

    /// Adds a user with a role, the password "correct horse battery" and
    /// an API token (`parley --as NAME …`).
    pub fn add_user(&self, name: &str, role: &str) {
        ok(&[
            "user",
            "add",
            "--dir",
            self.d(),
            "--name",
            name,
            "--role",
            role,
            "--password",
            "correct horse battery",
            "--token",
        ]);
    }

    /// Changes one line of parley.toml (before the node starts).
    pub fn configure(&self, from: &str, to: &str) {
        let cfg = self.dir.join("parley.toml");
        let text = std::fs::read_to_string(&cfg).unwrap();
        assert!(text.contains(from), "parley.toml has no {from:?}");
        std::fs::write(&cfg, text.replace(from, to)).unwrap();
    }

    /// `parley audit --json`: every feed rechecked from the database.
    pub fn audit(&self) -> Value {
        let v = json(&["audit", "--dir", self.d()]);
        assert_eq!(v["ok"], true, "{} fails its audit: {v}", self.name);
        v
    }

    /// This node's own feed in `channel` from `from` on, as a member
    /// fetches it for catch-up (the same body a push carries); the read
    /// request is signed with `reader`'s key.
    pub fn feed_update_for(&self, reader: &Party, channel: &str, from: u64) -> (u16, Value) {
        let (rt, _) = http();
        let c = tls::client(Some(reader));
        let url = format!(
            "{}/federation/v1/feeds/{channel}/{}?from={from}",
            self.url(),
            self.name
        );
        let feed = parley_store::FeedId::new(channel, &self.name);
        let signed = parley_node::federation::reader::request(
            &reader.role_key(parley_log::Role::Node),
            &reader.name,
            &feed,
            from,
        );
        rt.block_on(async {
            let r = c
                .get(url)
                .header(parley_node::federation::reader::HEADER, signed)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
        })
    }

    /// This node's own feed in `channel` from `from` on, read as itself.
    pub fn feed_update(&self, channel: &str, from: u64) -> Value {
        let (status, update) = self.feed_update_for(self, channel, from);
        assert_eq!(status, 200, "{update}");
        update
    }

    /// The party's private log key (signs its feeds' checkpoints).
    pub fn key(&self) -> parley_log::SigningKey {
        self.role_key(parley_log::Role::Log)
    }

    /// The party's private key for one statement.
    pub fn role_key(&self, role: parley_log::Role) -> parley_log::SigningKey {
        let text = std::fs::read_to_string(self.dir.join(format!("keys/{role}.key"))).unwrap();
        parley_log::SigningKey::parse(text.trim()).unwrap()
    }

    /// The public key of one statement (`--vkey` for `parley verify`).
    pub fn vkey(&self, role: parley_log::Role) -> String {
        let id = parley_log::Identity::parse(&read(Path::new(&self.identity))).unwrap();
        id.current(role).unwrap().to_string()
    }

    /// SIGKILL: no chance to flush or shut down.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits until this node holds the entry `channel/author/seq` (a peer's
    /// entry is referred to only once it has arrived).
    pub fn wait_holds(&self, id: &str) {
        let mut parts = id.rsplitn(3, '/');
        let seq: u64 = parts.next().unwrap().parse().unwrap();
        let author = parts.next().unwrap().to_string();
        let channel = parts.next().unwrap().to_string();
        wait_until(30, &format!("{} to hold {id}", self.name), || {
            self.feed_size(&channel, &author) > seq
        });
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let status = c.wait().unwrap();
            assert!(
                status.success(),
                "{} did not shut down cleanly: {status}",
                self.name
            );
        }
    }

    /// `parley send --text`: a routine hotline message; returns the output.
    pub fn send_text(&self, channel: &str, text: &str) -> String {
        ok(&[
            "send",
            "--dir",
            self.d(),
            "--channel",
            channel,
            "--text",
            text,
        ])
    }

    pub fn status(&self) -> Value {
        json(&["status", "--dir", self.d()])
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.with_extension("log")).unwrap_or_default()
    }

    /// Size of a feed as this node holds it.
    pub fn feed_size(&self, channel: &str, author: &str) -> u64 {
        self.status()["feeds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["channel"] == channel && f["author"] == author)
            .map_or(0, |f| f["size"].as_u64().unwrap())
    }

    pub fn feed_root(&self, channel: &str, author: &str) -> String {
        self.status()["feeds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["channel"] == channel && f["author"] == author)
            .map(|f| f["root"].as_str().unwrap().to_string())
            .unwrap_or_default()
    }

    pub fn peer_status(&self, peer: &str) -> Value {
        self.status()["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["party"] == peer)
            .cloned()
            .unwrap()
    }

    /// Opens the node's store beside the running node (SQLite's WAL, or
    /// another set of PostgreSQL connections).
    pub fn store(&self) -> std::sync::Arc<dyn parley_store::Store> {
        parley_node::config::open_store_at(&self.dir).unwrap()
    }
}

impl Drop for Party {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A set of parties that have all pinned each other.
pub struct Net {
    pub root: tempfile::TempDir,
    pub parties: Vec<Party>,
    /// The parties' PostgreSQL databases, dropped after the parties stop.
    pub databases: Vec<parley_store::throwaway::ThrowawayDatabase>,
}

impl Net {
    /// Creates nodes with fast link tests and retries (test timing only;
    /// nothing about a node's clock is changed).
    pub fn new(names: &[&str]) -> Net {
        let root = tempfile::tempdir().unwrap();
        let mut parties = Vec::new();
        let mut databases = Vec::new();
        for name in names {
            let dir = root.path().join(name);
            let (port, console_port) = (free_port(), free_port());
            let (listen, console) = (
                format!("127.0.0.1:{port}"),
                format!("127.0.0.1:{console_port}"),
            );
            let mut args = vec![
                "init",
                "--party",
                name,
                "--dir",
                dir.to_str().unwrap(),
                "--listen",
                &listen,
                "--console",
                &console,
            ];
            let database = node_database(name);
            if let Some(db) = &database {
                args.extend(["--database", db.url.as_str()]);
            }
            json(&args);
            databases.extend(database);
            let cfg = dir.join("parley.toml");
            let mut text = std::fs::read_to_string(&cfg).unwrap();
            text = text
                .replace(
                    "link_test_interval_secs = 60",
                    "link_test_interval_secs = 1",
                )
                .replace("retry_initial_ms = 500", "retry_initial_ms = 100")
                .replace("retry_max_ms = 60000", "retry_max_ms = 1000");
            std::fs::write(&cfg, text).unwrap();
            parties.push(Party {
                name: name.to_string(),
                identity: dir.join("party.identity").to_str().unwrap().to_string(),
                dir,
                port,
                console_port,
                child: None,
            });
        }
        for a in &parties {
            for b in &parties {
                if a.name != b.name {
                    ok(&[
                        "peer",
                        "add",
                        "--dir",
                        a.d(),
                        "--identity",
                        &b.identity,
                        "--url",
                        &b.url(),
                    ]);
                }
            }
        }
        Net {
            root,
            parties,
            databases,
        }
    }

    /// Keeps the nodes' directories (logs, databases) when a test fails,
    /// and says where.
    fn keep_on_failure(&mut self) {
        if std::thread::panicking() {
            self.root.disable_cleanup(true);
            eprintln!(
                "the nodes' directories are kept in {}",
                self.root.path().display()
            );
        }
    }

    pub fn p(&mut self, name: &str) -> &mut Party {
        self.parties.iter_mut().find(|p| p.name == name).unwrap()
    }

    pub fn get(&self, name: &str) -> &Party {
        self.parties.iter().find(|p| p.name == name).unwrap()
    }

    pub fn start_all(&mut self) {
        for p in &mut self.parties {
            p.start();
        }
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.root.path().join(file)
    }
}

/// `nato` creates channel `mil` with `russia`, witnessed by `osce`, and
/// `russia` accepts; returns when both see it active.
pub fn open_channel(net: &Net) {
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    ok(&[
        "channel",
        "create",
        "--dir",
        nato.d(),
        "--id",
        "nato.mil",
        "--members",
        "nato,russia",
        "--witness",
        "osce",
        "--level",
        "military",
        "--languages",
        "en,ru",
    ]);
    accept_channel(russia, "nato.mil");
    let nd = nato.d().to_string();
    wait_until(20, "the channel to be active at nato", || {
        json(&["channel", "list", "--dir", &nd])[0]["state"] == "active"
    });
}

/// Waits for a channel's charter to reach `p`, then accepts it.
pub fn accept_channel(p: &Party, id: &str) {
    let d = p.d().to_string();
    wait_until(
        20,
        &format!("{} to receive the charter of {id}", p.name),
        || {
            json(&["channel", "list", "--dir", &d])
                .as_array()
                .is_some_and(|a| a.iter().any(|c| c["id"] == id))
        },
    );
    ok(&["channel", "accept", "--dir", p.d(), "--id", id]);
}

impl Drop for Net {
    fn drop(&mut self) {
        for p in &mut self.parties {
            p.kill();
        }
        self.keep_on_failure();
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// A small seeded generator, so a failing run can be replayed with
/// `PARLEY_SEED=<seed>` (the seed is printed).
pub struct Rng(u64);

impl Rng {
    pub fn from_env() -> Rng {
        let seed = std::env::var("PARLEY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        figure(format!("replay with PARLEY_SEED={seed}"));
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A one-thread runtime and an HTTP client, for tests that speak HTTP.
pub fn http() -> (tokio::runtime::Runtime, reqwest::Client) {
    parley_node::install_crypto();
    (
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        tls::client(None),
    )
}

/// Flips one bit of a base64 character in the last signature line of a
/// note (or of a single line), keeping it base64: a signature that no
/// longer verifies.
pub fn flip_signature(text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let last = lines
        .iter()
        .rposition(|l| l.starts_with('\u{2014}'))
        .unwrap();
    let mut chars: Vec<char> = lines[last].chars().collect();
    let i = chars.len() - 6;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    lines[last] = chars.into_iter().collect();
    let mut out = lines.join("\n");
    out.push('\n');
    out
}
