//! `parley audit` is the last word of the crash, fault and fuzz suites:
//! here it is shown to fail. Copies of a real node's database each get
//! one alteration (an entry's byte, a tile, a checkpoint's signature, a
//! cosignature line, a cosignature's stored time); the audit of each
//! exits 1 and names what is wrong, and the unaltered copy passes.

mod net;

use std::path::{Path, PathBuf};

use net::{Net, flip_signature, open_channel, parley, wait_until};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
            let mode = std::fs::metadata(e.path()).unwrap().permissions();
            std::fs::set_permissions(&target, mode).unwrap();
        } else {
            // std::fs::copy keeps the mode: the copies stay owner-only.
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// One alteration of a database copy.
type Alteration<'a> = Box<dyn Fn(&rusqlite::Connection) + 'a>;

struct Copy {
    dir: PathBuf,
    db: rusqlite::Connection,
}

fn copy_of(node: &Path, root: &Path, name: &str) -> Copy {
    let dir = root.join(name);
    copy_dir(node, &dir);
    let db = rusqlite::Connection::open(dir.join("parley.db")).unwrap();
    Copy { dir, db }
}

/// `parley audit` on a copy: exit code and what it said.
fn audit(dir: &Path) -> (i32, String) {
    let o = parley(&["audit", "--dir", dir.to_str().unwrap()]);
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// nato's own feed, as the SQL filter of the tables that hold it.
const FEED: &str = "channel = 'nato.mil' AND author = 'nato'";

/// The sizes of nato's feed at which `table` holds a row (`also`: more of
/// the filter), in order.
fn sizes(db: &rusqlite::Connection, table: &str, also: &str) -> Vec<i64> {
    let mut q = db
        .prepare(&format!(
            "SELECT size FROM {table} WHERE {FEED} {also} ORDER BY size"
        ))
        .unwrap();
    q.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Breaks the signature in `column` of the row of `table` at `size` (`also`:
/// more of the filter).
fn break_signature(db: &rusqlite::Connection, table: &str, column: &str, also: &str, size: i64) {
    let text: String = db
        .query_row(
            &format!("SELECT {column} FROM {table} WHERE {FEED} {also} AND size = ?1"),
            [size],
            |r| r.get(0),
        )
        .unwrap();
    db.execute(
        &format!("UPDATE {table} SET {column} = ?1 WHERE {FEED} {also} AND size = ?2"),
        rusqlite::params![flip_signature(&text), size],
    )
    .unwrap();
}

/// Changes one byte inside the body's text of entry `seq`: still JSON,
/// another hash.
fn alter_entry(db: &rusqlite::Connection, seq: i64) {
    let bytes: Vec<u8> = db
        .query_row(
            &format!("SELECT bytes FROM entry WHERE {FEED} AND seq = ?1"),
            [seq],
            |r| r.get(0),
        )
        .unwrap();
    let at = bytes.windows(7).position(|w| w == b"message").unwrap();
    let mut b = bytes;
    b[at] = b'M';
    db.execute(
        &format!("UPDATE entry SET bytes = ?1 WHERE {FEED} AND seq = ?2"),
        rusqlite::params![b, seq],
    )
    .unwrap();
}

#[test]
fn the_audit_catches_every_kind_of_tampering_and_names_it() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    for i in 0..5 {
        net.get("nato")
            .send_text("nato.mil", &format!("message {i}"));
    }
    let (nato, russia, osce) = (net.get("nato"), net.get("russia"), net.get("osce"));
    let n = nato.feed_size("nato.mil", "nato");
    let receipted = |by: &str, statement: &str| {
        nato.store()
            .cosignatures(&parley_store::FeedId::new("nato.mil", "nato"), 1)
            .unwrap()
            .iter()
            .any(|c| c.cosigner == by && c.size == n && c.statement.as_str() == statement)
    };
    wait_until(
        30,
        "russia's receipt and the witness's cosignature of the last size",
        || {
            russia.feed_size("nato.mil", "nato") == n
                && receipted("russia", "receipt")
                && receipted("osce", "witness")
        },
    );
    let _ = osce;
    for p in ["nato", "russia", "osce"] {
        net.p(p).stop();
    }
    let nato_dir = net.get("nato").dir.clone();
    let root = tempfile::tempdir().unwrap();
    let feed = FEED;

    // The unaltered copy passes: the audit can say yes.
    let clean = copy_of(&nato_dir, root.path(), "clean");
    let (code, said) = audit(&clean.dir);
    assert_eq!(code, 0, "{said}");

    let cases: Vec<(&str, Alteration<'_>, &str)> = vec![
        (
            "one byte of an entry",
            Box::new(|db| alter_entry(db, 2)),
            "entry 2",
        ),
        (
            "a tile",
            Box::new(|db| {
                let data: Vec<u8> = db
                    .query_row(
                        &format!("SELECT data FROM tile WHERE {feed} AND level = 0 AND idx = 0"),
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                let mut d = data.clone();
                d[33] ^= 1;
                db.execute(
                    &format!("UPDATE tile SET data = ?1 WHERE {feed} AND level = 0 AND idx = 0"),
                    [d],
                )
                .unwrap();
            }),
            "tile",
        ),
        (
            "a checkpoint's signature",
            Box::new(|db| {
                let last = *sizes(db, "checkpoint", "").last().unwrap();
                break_signature(db, "checkpoint", "note", "", last);
            }),
            "checkpoint",
        ),
        (
            "a cosignature line",
            Box::new(|db| {
                let line: String = db
                    .query_row(&format!("SELECT line FROM cosignature WHERE {feed} AND cosigner = 'russia' ORDER BY size DESC LIMIT 1"), [], |r| r.get(0))
                    .unwrap();
                db.execute(
                    &format!("UPDATE cosignature SET line = ?1 WHERE {feed} AND cosigner = 'russia' AND line = ?2"),
                    rusqlite::params![flip_signature(&line), line],
                )
                .unwrap();
            }),
            "russia's cosignature",
        ),
        (
            "a cosignature's stored time",
            Box::new(|db| {
                db.execute(
                    &format!("UPDATE cosignature SET time = time - 86400 WHERE {feed} AND cosigner = 'russia'"),
                    [],
                )
                .unwrap();
            }),
            "stored with time",
        ),
    ];
    for (i, (what, alter, named)) in cases.iter().enumerate() {
        let copy = copy_of(&nato_dir, root.path(), &format!("case{i}"));
        alter(&copy.db);
        drop(copy.db);
        let (code, said) = audit(&copy.dir);
        assert_eq!(code, 1, "{what}: the audit passed: {said}");
        assert!(
            said.contains(named) && said.contains("nato.mil"),
            "{what}: the audit said {said:?}"
        );
        println!("{what}: {}", said.trim());
    }
}

/// The audit verifies signatures on every core, then reports the first
/// failure in the feed's order, as a one-by-one check would: with two
/// alterations, the earlier is the one named, whichever thread found it.
#[test]
fn with_two_alterations_the_audit_names_the_earlier() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    // One after the other: a checkpoint (and a receipt) per message, enough
    // for the checks to be spread over threads.
    for i in 0..40 {
        net.get("nato")
            .send_text("nato.mil", &format!("message {i}"));
    }
    let nato = net.get("nato");
    let n = nato.feed_size("nato.mil", "nato");
    let feed_id = parley_store::FeedId::new("nato.mil", "nato");
    wait_until(30, "russia's receipt of the last size", || {
        nato.store()
            .cosignatures(&feed_id, 1)
            .unwrap()
            .iter()
            .any(|c| c.cosigner == "russia" && c.size == n)
    });
    for p in ["nato", "russia", "osce"] {
        net.p(p).stop();
    }
    let nato_dir = net.get("nato").dir.clone();
    let root = tempfile::tempdir().unwrap();
    let break_checkpoint = |db: &rusqlite::Connection, size| {
        break_signature(db, "checkpoint", "note", "", size);
    };
    let russia = "AND cosigner = 'russia'";
    let break_receipt = |db: &rusqlite::Connection, size| {
        break_signature(db, "cosignature", "line", russia, size);
    };

    // A checkpoint early in the feed and one late: the early one is named.
    let copy = copy_of(&nato_dir, root.path(), "checkpoints");
    let checkpoints = sizes(&copy.db, "checkpoint", "");
    assert!(checkpoints.len() >= 30, "{checkpoints:?}");
    let (early, late) = (checkpoints[3], checkpoints[checkpoints.len() - 2]);
    break_checkpoint(&copy.db, late);
    break_checkpoint(&copy.db, early);
    drop(copy.db);
    let (code, said) = audit(&copy.dir);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains(&format!("checkpoint {early}:"))
            && !said.contains(&format!("checkpoint {late}:")),
        "the audit should name checkpoint {early}, not {late}: {said}"
    );

    // An early receipt and a late one: the early one is named.
    let copy = copy_of(&nato_dir, root.path(), "receipts");
    let receipts = sizes(&copy.db, "cosignature", russia);
    assert!(receipts.len() >= 20, "{receipts:?}");
    let (early, late) = (receipts[2], receipts[receipts.len() - 3]);
    break_receipt(&copy.db, late);
    break_receipt(&copy.db, early);
    drop(copy.db);
    let (code, said) = audit(&copy.dir);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains(&format!(
            "russia's cosignature at size {early} does not verify"
        )),
        "the audit should name russia's receipt at size {early}, not {late}: {said}"
    );

    // A late checkpoint and an entry before it: the entry is named.
    let copy = copy_of(&nato_dir, root.path(), "entry");
    break_checkpoint(&copy.db, late);
    alter_entry(&copy.db, 10);
    drop(copy.db);
    let (code, said) = audit(&copy.dir);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("entry 10"), "{said}");
}
