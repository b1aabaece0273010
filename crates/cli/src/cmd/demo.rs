//! `parley demo`: four real nodes (NATO, Russia, the United States, an OSCE
//! witness) on
//! embedded SQLite, the 2016–2022 story replayed, then traffic that keeps
//! flowing — until Ctrl-C. Running it again resumes where it stopped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use super::api::Api;
use super::ports;
use super::scenario::{self, Scenario};
use crate::cli::DemoArgs;

const STORY: &str = include_str!("../../../../scenarios/nato-russia-2016-2022.toml");
/// Demo sign-ins: fine on a laptop, never in a deployment.
pub(crate) const DEMO_PASSWORD: &str = "parley-demo";
/// The demo's parties. The OSCE is a witness (and chairs a channel); the
/// United States is there because a Vienna Document inspection needs two
/// participating States (an alliance is not one) and the January 2022
/// negotiation had a bilateral track. New parties go last: the ports of the
/// first ones do not move.
const PARTIES: [&str; 4] = ["nato", "russia", "osce", "usa"];
/// The clock the demo's nodes share while the story replays.
const STORY_CLOCK: &str = "story-clock";
/// Russia's duty officer who reads the console in Russian.
const RUSSIAN_DUTY: &str = "dezhurny";
/// How far back the story begins (its first step is `at = "-60d"`).
const STORY_SPAN_SECS: i64 = 60 * 86_400;
const ROLES: [(&str, &str); 6] = [
    ("duty", "duty_officer"),
    ("diplomat", "diplomat"),
    ("expert", "expert"),
    ("signatory", "signatory"),
    ("auditor", "auditor"),
    ("admin", "administrator"),
];

fn exe() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("finding the parley binary")
}

fn parley(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(exe()?)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        anyhow::bail!(
            "parley {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn dir_of(root: &Path, party: &str) -> PathBuf {
    root.join(party)
}

/// Creates the nodes, pins them to each other, adds the console users.
fn create(root: &Path, base: u16) -> anyhow::Result<()> {
    println!("creating {} nodes in {}", PARTIES.len(), root.display());
    // The story begins two months back; see parley_node::clock.
    parley_node::clock::start_story_clock(&root.join(STORY_CLOCK), -STORY_SPAN_SECS)?;
    for (i, p) in PARTIES.iter().enumerate() {
        let d = dir_of(root, p);
        parley(&[
            "init",
            "--party",
            p,
            "--dir",
            &d.to_string_lossy(),
            "--listen",
            &format!("127.0.0.1:{}", base + i as u16),
            "--json",
        ])?;
        // Link tests every 15 s, so the Links view moves while you watch;
        // and the story clock the nodes share.
        let cfg = d.join("parley.toml");
        let text = std::fs::read_to_string(&cfg)?.replace(
            "link_test_interval_secs = 60",
            "link_test_interval_secs = 15",
        ) + &format!("\n[demo]\nstory_clock = \"../{STORY_CLOCK}\"\n");
        std::fs::write(&cfg, text)?;
        let roles: &[(&str, &str)] = if *p == "osce" { &ROLES[4..] } else { &ROLES };
        for (name, role) in roles {
            // API tokens too: the story's signatures are the signatories'.
            add_user(&d, name, role, &["--token"])?;
        }
        // Russia's watch floor reads its console in Russian: a duty officer
        // whose preference is set (the console's switch and `?lang=` still
        // choose another).
        if *p == "russia" {
            add_user(&d, RUSSIAN_DUTY, "duty_officer", &["--language", "ru"])?;
        }
    }
    for (i, a) in PARTIES.iter().enumerate() {
        for (j, b) in PARTIES.iter().enumerate() {
            if i != j {
                parley(&[
                    "peer",
                    "add",
                    "--dir",
                    &dir_of(root, a).to_string_lossy(),
                    "--identity",
                    &dir_of(root, b).join("party.identity").to_string_lossy(),
                    "--url",
                    &format!("https://127.0.0.1:{}", base + j as u16),
                ])?;
            }
        }
    }
    Ok(())
}

/// Adds a console user with the demo's password (and `extra` options).
fn add_user(dir: &Path, name: &str, role: &str, extra: &[&str]) -> anyhow::Result<()> {
    let dir = dir.to_string_lossy();
    let mut args = vec![
        "user",
        "add",
        "--dir",
        &dir,
        "--name",
        name,
        "--role",
        role,
        "--password",
        DEMO_PASSWORD,
    ];
    args.extend_from_slice(extra);
    parley(&args).map(|_| ())
}

/// The `parley serve` processes; stopped (SIGTERM, then wait) on drop.
struct Nodes(Vec<Child>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for c in &self.0 {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        for c in &mut self.0 {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if matches!(c.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start(root: &Path) -> anyhow::Result<Nodes> {
    let mut children = Vec::new();
    for p in PARTIES {
        let d = dir_of(root, p);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("serve.log"))?;
        children.push(
            Command::new(exe()?)
                .args(["serve", "--dir", &d.to_string_lossy()])
                .env(
                    "RUST_LOG",
                    std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
                )
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()?,
        );
    }
    let mut nodes = Nodes(children);
    for (i, p) in PARTIES.iter().enumerate() {
        let api = Api::open(&dir_of(root, p))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while api.get("/status").is_err() {
            let exited = matches!(nodes.0[i].try_wait(), Ok(Some(_)));
            if exited || Instant::now() > deadline {
                let log = dir_of(root, p).join("serve.log");
                anyhow::bail!(
                    "the {p} node did not start: {}\n(its whole log: {})",
                    last_error(&log).unwrap_or_else(|| "it did not answer within 30 s".into()),
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(nodes)
}

/// The last lines `parley serve` wrote about why it stopped.
fn last_error(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let lines: Vec<&str> = text
        .lines()
        .rev()
        .take_while(|l| l.starts_with("parley: "))
        .collect();
    (!lines.is_empty()).then(|| {
        lines
            .iter()
            .rev()
            .map(|l| l.trim_start_matches("parley: "))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// Refuses to start when a port a node needs is taken, naming its holder.
fn check_ports(addrs: &[(String, std::net::SocketAddr)]) -> anyhow::Result<()> {
    for (what, addr) in addrs {
        if !ports::is_free(*addr) {
            let who = ports::holder(*addr).unwrap_or_else(|| "another process".into());
            anyhow::bail!(
                "{what} needs {addr}, which is in use by {who}. Stop that process, or run the \
                 demo elsewhere: parley demo --dir OTHER_DIR --port OTHER_PORT"
            );
        }
    }
    Ok(())
}

/// The addresses the demo's nodes listen on, from their configurations.
fn addresses(root: &Path) -> anyhow::Result<Vec<(String, std::net::SocketAddr)>> {
    let mut out = Vec::new();
    for p in PARTIES {
        let c = parley_node::config::read_config(&dir_of(root, p))?;
        out.push((format!("the {p} node (its peers' port)"), c.listen));
        out.push((format!("the {p} node (its console)"), c.console.listen));
    }
    Ok(out)
}

/// Holds the demo directory for as long as this demo runs: a second
/// `parley demo` on it is refused instead of faking success against the
/// first one's nodes. The lock goes with the process, however it ends.
fn lock(root: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(root)
        .with_context(|| format!("creating the demo directory {}", root.display()))?;
    let path = root.join("demo.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "a demo already runs in {}: its consoles are up. Stop it (Ctrl-C in its terminal) \
             before running it again, or start another with --dir OTHER_DIR --port OTHER_PORT",
            root.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// "an immediate", "a routine".
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// SIGINT or SIGTERM sets the flag.
fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        rt.block_on(async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
        });
        f.store(true, Ordering::SeqCst);
    });
    Ok(flag)
}

/// Sleeps up to `secs`, waking early when asked to stop.
fn nap(stop: &AtomicBool, secs: u64) -> bool {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    !stop.load(Ordering::SeqCst)
}

/// A random number below `n` (from the OS random source, via entry salts).
fn random(n: usize) -> usize {
    let s = parley_log::Entry::random_salt();
    (u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]) % n.max(1) as u64)
        as usize
}

const MESSAGES: [(&str, &str, &str); 6] = [
    (
        "routine",
        "Exercise BALTOPS naval units will transit the Danish straits tomorrow from 06:00Z.",
        "Корабли учения BALTOPS пройдут Датские проливы завтра с 06:00Z.",
    ),
    (
        "priority",
        "Reconnaissance flight planned over international waters of the Black Sea, 10:00–14:00Z.",
        "Разведывательный полёт над международными водами Чёрного моря, 10:00–14:00Z.",
    ),
    (
        "routine",
        "Hotline test: the quick brown fox jumps over the lazy dog 1234567890.",
        "Проверка линии: съешь же ещё этих мягких французских булок 1234567890.",
    ),
    (
        "immediate",
        "Unannounced aircraft approaching the air policing area, please identify.",
        "Неопознанный самолёт приближается к зоне воздушного патрулирования, просим опознать.",
    ),
    (
        "flash",
        "Missile test launch window opens in 30 minutes; impact area well inside national waters.",
        "Окно испытательного пуска ракеты открывается через 30 минут; район падения — в национальных водах.",
    ),
    (
        "routine",
        "Meeting of military experts proposed for next week; agenda to follow.",
        "Предлагаем встречу военных экспертов на следующей неделе; повестка будет направлена.",
    ),
];

/// Traffic after the story: messages both ways, most acknowledged, some left
/// to go overdue, and a clarification request coming due.
fn traffic(root: &Path, stop: &AtomicBool) -> anyhow::Result<()> {
    let apis: BTreeMap<&str, Api> = ["nato", "russia"]
        .iter()
        .map(|p| Ok((*p, Api::open(&dir_of(root, p))?)))
        .collect::<anyhow::Result<_>>()?;
    let open = apis["russia"].post("/entries", &json!({
        "channel": "nato.mil", "kind": "clarification_request",
        "body": {"to": "nato", "concerns": {"en": "Concentration of armoured units near the border of Belarus outside their normal locations.", "ru": "Сосредоточение бронетанковых подразделений у границы Беларуси вне мест постоянной дислокации."}, "location": "Lithuania, Poland", "questions": ["How many armoured units, and where?", "When do they return to their normal locations?"]}
    }));
    match open {
        Ok(r) => println!(
            "traffic: russia asks nato for clarification ({}): the reply comes due in 48 hours",
            r["id"].as_str().unwrap_or("")
        ),
        Err(e) => println!("traffic: russia's request for clarification was refused: {e:#}"),
    }
    let mut n = 0usize;
    while nap(stop, 20 + random(25) as u64) {
        n += 1;
        let (from, to) = if random(2) == 0 {
            ("nato", "russia")
        } else {
            ("russia", "nato")
        };
        let (prio, en, ru) = MESSAGES[random(MESSAGES.len())];
        let body = json!({"priority": prio, "text": {"en": en, "ru": ru}});
        let sent = match apis[from].post(
            "/entries",
            &json!({"channel": "nato.mil", "kind": "hotline_message", "body": body}),
        ) {
            Ok(sent) => sent,
            Err(e) => {
                println!("traffic: {from}'s {prio} message was refused: {e:#}");
                continue;
            }
        };
        let id = sent["id"].as_str().unwrap_or("").to_string();
        println!(
            "traffic: {from} sends {} {prio} message ({id})",
            article(prio)
        );
        // Most messages are acknowledged after a while; every fifth is left
        // for the duty officer to acknowledge (or to go overdue).
        if !n.is_multiple_of(5) && nap(stop, 5 + random(20) as u64) {
            let ack = json!({"channel": "nato.mil", "kind": "acknowledgement", "body": {"by": "Duty officer"}, "refs": [id]});
            for _ in 0..20 {
                if apis[to].post("/entries", &ack).is_ok() {
                    break;
                }
                if !nap(stop, 1) {
                    break;
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn run(a: DemoArgs) -> anyhow::Result<()> {
    let root = a.dir.clone();
    let _lock = lock(&root)?;
    let fresh = !dir_of(&root, "nato").join("parley.toml").exists();
    if fresh {
        let wanted: Vec<(String, std::net::SocketAddr)> = PARTIES
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                let port = a.port + i as u16;
                [
                    (format!("the {p} node (its peers' port)"), port),
                    (format!("the {p} node (its console)"), port + 1000),
                ]
            })
            .map(|(w, port)| (w, std::net::SocketAddr::from(([127, 0, 0, 1], port))))
            .collect();
        check_ports(&wanted)?;
        create(&root, a.port)?;
    } else {
        println!("resuming the demo in {}", root.display());
        check_ports(&addresses(&root)?)?;
    }
    let stop = stop_flag()?;
    let nodes = start(&root)?;
    let marker = root.join("story.done");
    let clock = root.join(STORY_CLOCK);
    if !marker.exists() && !fresh {
        // Replaying again would repeat what was written, on a clock that
        // cannot go back: keep what there is and go on in real time.
        println!(
            "the story was interrupted last time: what it wrote is kept; going on in real time"
        );
    } else if !marker.exists() {
        let story = Scenario::parse(STORY)?;
        println!("\nreplaying: {}", story.title);
        println!(
            "(on a story clock the nodes share: it starts two months back and jumps forward to each chapter; every entry is dated by it, as it was written)\n"
        );
        let dirs: BTreeMap<String, PathBuf> = PARTIES
            .iter()
            .map(|p| (p.to_string(), dir_of(&root, p)))
            .collect();
        scenario::run(&story, &dirs, Some(&clock), &mut |line| println!("{line}"))?;
    }
    if !marker.exists() {
        parley_node::clock::advance_story_clock(&clock, 0)?;
        std::fs::write(
            &marker,
            "the story was replayed and the story clock has caught up with real time\n",
        )?;
    }
    let consoles: Vec<String> = PARTIES
        .iter()
        .map(|p| parley_node::config::read_config(&dir_of(&root, p)).map(|c| c.console_url()))
        .collect::<Result<_, _>>()?;
    println!("\nthe consoles (sign in with password \"{DEMO_PASSWORD}\"; demo only):");
    for (p, console) in PARTIES.iter().zip(&consoles) {
        let users = match *p {
            "osce" => "auditor, admin",
            "russia" => "duty, diplomat, expert, signatory, auditor, admin; dezhurny (in Russian)",
            _ => "duty, diplomat, expert, signatory, auditor, admin",
        };
        println!("  {:<7} {console}/   users: {users}", p.to_uppercase());
    }
    println!(
        "\nlink tests run every 15 s; new traffic every half minute. Ctrl-C stops everything; run the same command to resume."
    );
    if !a.no_traffic {
        traffic(&root, &stop)?;
    } else {
        while nap(&stop, 3600) {}
    }
    println!("\nstopping the nodes…");
    drop(nodes);
    println!("stopped. The record is kept in {}.", root.display());
    Ok(())
}
