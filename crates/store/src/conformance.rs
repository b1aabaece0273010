//! The store contract, as tests every backend runs: what the node relies
//! on, over `&dyn Store` and nothing else.
//!
//! A backend's test file calls [`conformance_suite!`](crate::conformance_suite)
//! with a function that makes fresh, empty storage and returns an opener:
//! each call of the opener opens *the same* storage again (a second handle,
//! or a reopening after the first was dropped). The checks panic on a
//! broken promise, like any test.

use std::sync::Arc;

use parley_log::merkle::MemoryTree;
use parley_log::tiles::{TileNodes, TileStore, TiledTree};
use parley_log::{Hash, leaf_hash};

use crate::{
    ActionRecord, Append, Cosignature, DeliveryRole, EvidenceKind, EvidenceRecord, FeedHead,
    FeedId, NewEntry, Peer, Statement, Store, StoreError, TileBuffer, WitnessedRecord,
};

/// Opens the storage under test (again).
pub type Opener<'a> = &'a (dyn Fn() -> Box<dyn Store> + Sync);

/// Defines one `#[test]` per check of the contract, each on fresh storage
/// from `$fresh: fn() -> (Guard, impl Fn() -> Box<dyn Store> + Sync)`; the
/// guard (a temporary directory, a throwaway database) lives as long as
/// the test.
#[macro_export]
macro_rules! conformance_suite {
    ($fresh:path) => {
        $crate::conformance_suite!(@each $fresh,
            appends_are_atomic_and_guarded_by_size,
            concurrent_writers_never_fork_a_feed,
            writes_at_once_on_one_handle_each_keep_or_lose_only_their_own,
            a_failed_append_keeps_nothing,
            peers_keep_their_key_and_update_their_address,
            cosignatures_are_kept_once_per_statement,
            deliveries_never_go_backwards,
            witnessed_sizes_swap_only_from_the_expected_size,
            evidence_is_recorded_once,
            actions_are_numbered_in_order,
            a_snapshot_never_overwrites,
            one_holder_of_the_lease_at_a_time,
            cosignatures_are_read_back_in_the_order_stored,
        );
    };
    (@each $fresh:path, $($check:ident),+ $(,)?) => {
        $(
            #[test]
            fn $check() {
                let (_guard, open) = $fresh();
                $crate::conformance::$check(&open);
            }
        )+
    };
}

/// Appends `n` entries to a feed the way the node does, in one commit.
///
/// # Errors
/// The store's refusal (a conflict when `tree` is stale).
pub fn append(
    store: &dyn Store,
    tree: &mut TiledTree,
    feed: &FeedId,
    n: u64,
    tag: &str,
) -> Result<(), StoreError> {
    let old = tree.size();
    let entries: Vec<NewEntry> = (old..old + n)
        .map(|seq| {
            let bytes = format!("{}/{} entry {seq} {tag}", feed.channel, feed.author).into_bytes();
            NewEntry {
                seq,
                hash: leaf_hash(&bytes),
                kind: "hotline_message".into(),
                time: 1_700_000_000 + seq as i64,
                refs: vec![],
                bytes,
            }
        })
        .collect();
    let mut buf = TileBuffer::default();
    let mut next = tree.clone();
    next.append(
        &entries.iter().map(|e| e.hash).collect::<Vec<_>>(),
        &mut buf,
    )
    .expect("tiles are buffered in memory");
    store.append(&Append {
        feed: feed.clone(),
        old_size: old,
        entries,
        tiles: buf.0,
        head: FeedHead {
            size: next.size(),
            root: next.root(),
        },
        checkpoint: format!("checkpoint {}", next.size()),
        cosignature: None,
        received_at: 1_700_000_500,
        actions: vec![],
    })?;
    *tree = next;
    Ok(())
}

/// A feed's tiles, read through the store as proofs read them.
pub struct FeedTiles<'a>(pub &'a dyn Store, pub FeedId);

impl TileStore for FeedTiles<'_> {
    type Error = StoreError;
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.read_tile(&self.1, level, index)
    }
    fn write_tile(&mut self, _: u8, _: u64, _: &[u8]) -> Result<(), StoreError> {
        unreachable!("read only")
    }
}

/// The tree a store holds for a feed, rebuilt from its tiles.
fn stored_tree(store: &dyn Store, feed: &FeedId) -> TiledTree {
    let size = store.feed_head(feed).unwrap().map_or(0, |h| h.size);
    TiledTree::load(&FeedTiles(store, feed.clone()), size).unwrap()
}

pub fn appends_are_atomic_and_guarded_by_size(open: Opener<'_>) {
    let store = open();
    let feed = FeedId::new("hotline", "nato");
    let mut tree = TiledTree::new();
    append(store.as_ref(), &mut tree, &feed, 300, "").unwrap();
    append(store.as_ref(), &mut tree, &feed, 5, "").unwrap();
    // A stale writer (expecting the old size) is refused and changes nothing.
    let mut stale = TiledTree::load(&FeedTiles(store.as_ref(), feed.clone()), 300).unwrap();
    let err = append(store.as_ref(), &mut stale, &feed, 1, "stale").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 300,
                actual: 305,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(store.feed_head(&feed).unwrap().unwrap().size, 305);
    assert_eq!(store.entries(&feed, 0, 1000).unwrap().len(), 305);

    // Roots and proofs from stored tiles match an in-memory tree, after
    // opening the storage again.
    drop(store);
    let store = open();
    let mem = MemoryTree::from_leaf_hashes(
        (0..305u64).map(|s| leaf_hash(format!("hotline/nato entry {s} ").as_bytes())),
    );
    let tiles = FeedTiles(store.as_ref(), feed.clone());
    let mut nodes = TileNodes::new(&tiles);
    assert_eq!(
        parley_log::merkle::root(&mut nodes, 305).unwrap(),
        mem.root()
    );
    assert_eq!(stored_tree(store.as_ref(), &feed).root(), mem.root());
    assert_eq!(
        store.checkpoint_sizes(&feed, 1, 1000).unwrap(),
        vec![300, 305]
    );
    assert_eq!(
        store.checkpoint(&feed, 305).unwrap().unwrap(),
        "checkpoint 305"
    );
    let e = store.entry(&feed, 7).unwrap().unwrap();
    assert_eq!(store.entry_by_hash(&e.hash).unwrap().unwrap(), e);
}

/// Four writers, each with its own handle, race to extend one feed: every
/// append either lands on the size it expected or is refused as a
/// conflict, so the feed is one sequence with one root, never two.
pub fn concurrent_writers_never_fork_a_feed(open: Opener<'_>) {
    const WRITERS: u64 = 4;
    const EACH: u64 = 10;
    let feed = FeedId::new("c", "nato");
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let feed = feed.clone();
            s.spawn(move || {
                let store = open();
                let mut landed = 0;
                let mut conflicts = 0u64;
                while landed < EACH {
                    let mut tree = stored_tree(store.as_ref(), &feed);
                    // Let the others move on: many appends arrive stale.
                    std::thread::sleep(std::time::Duration::from_micros(300));
                    match append(store.as_ref(), &mut tree, &feed, 1, &format!("w{w}")) {
                        Ok(()) => landed += 1,
                        Err(StoreError::Conflict { .. }) => conflicts += 1,
                        Err(e) => panic!("writer {w}: {e}"),
                    }
                    assert!(conflicts < 100_000, "writer {w} never got through");
                }
            });
        }
    });
    let store = open();
    let stored = store.entries(&feed, 0, 1000).unwrap();
    assert_eq!(stored.len() as u64, WRITERS * EACH);
    for (i, e) in stored.iter().enumerate() {
        assert_eq!(e.seq, i as u64, "one entry per position");
    }
    let mem = MemoryTree::from_leaf_hashes(stored.iter().map(|e| e.hash));
    let head = store.feed_head(&feed).unwrap().unwrap();
    assert_eq!((head.size, head.root), (WRITERS * EACH, mem.root()));
    assert_eq!(stored_tree(store.as_ref(), &feed).root(), mem.root());
}

/// Eight threads write through one handle at once (a backend may run
/// writes that arrive together in one transaction and commit them
/// together): each thread's appends, a stale append that must conflict,
/// and an append that must fail on a hash another feed holds. Every write
/// reported stored is there, and every write reported failed left nothing,
/// whatever else shared its commit.
pub fn writes_at_once_on_one_handle_each_keep_or_lose_only_their_own(open: Opener<'_>) {
    const THREADS: u64 = 8;
    const EACH: u64 = 12;
    let store = open();
    let taken = FeedId::new("c", "taken");
    append(store.as_ref(), &mut TiledTree::new(), &taken, 1, "").unwrap();
    let taken_bytes = b"c/taken entry 0 ".to_vec();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let store = store.as_ref();
            let taken_bytes = taken_bytes.clone();
            s.spawn(move || {
                let feed = FeedId::new("c", &format!("p{t}"));
                let mut tree = TiledTree::new();
                for i in 0..EACH {
                    append(store, &mut tree, &feed, 1, "kept").unwrap();
                    match i % 3 {
                        // Stale: this size is already taken by our own append.
                        0 => {
                            let mut stale =
                                TiledTree::load(&FeedTiles(store, feed.clone()), tree.size() - 1)
                                    .unwrap();
                            let err = append(store, &mut stale, &feed, 1, "stale").unwrap_err();
                            assert!(
                                matches!(err, StoreError::Conflict { .. }),
                                "thread {t}: {err}"
                            );
                        }
                        // The same bytes as an entry of another feed.
                        1 => {
                            let fresh = format!("p{t} {i} refused").into_bytes();
                            let err = store.append(&Append {
                                feed: feed.clone(),
                                old_size: tree.size(),
                                // The first entry is new: it is written
                                // before the second fails, and must go.
                                entries: vec![
                                    NewEntry {
                                        seq: tree.size(),
                                        hash: leaf_hash(&fresh),
                                        kind: "k".into(),
                                        time: 0,
                                        refs: vec![],
                                        bytes: fresh.clone(),
                                    },
                                    NewEntry {
                                        seq: tree.size() + 1,
                                        hash: leaf_hash(&taken_bytes),
                                        kind: "k".into(),
                                        time: 0,
                                        refs: vec![],
                                        bytes: taken_bytes.clone(),
                                    },
                                ],
                                tiles: vec![],
                                head: FeedHead {
                                    size: tree.size() + 2,
                                    root: Hash([0; 32]),
                                },
                                checkpoint: String::new(),
                                cosignature: None,
                                received_at: 0,
                                actions: vec![sample_action()],
                            });
                            assert!(err.is_err(), "thread {t}: a taken hash was stored");
                        }
                        _ => {
                            store
                                .set_delivered(&format!("p{t}"), &feed, DeliveryRole::Push, i)
                                .unwrap();
                        }
                    }
                }
            });
        }
    });
    let store = open();
    for t in 0..THREADS {
        let feed = FeedId::new("c", &format!("p{t}"));
        let stored = store.entries(&feed, 0, 1000).unwrap();
        assert_eq!(
            stored.len() as u64,
            EACH,
            "thread {t}: every kept append, nothing else"
        );
        for (i, e) in stored.iter().enumerate() {
            assert_eq!(e.seq, i as u64);
            assert!(
                String::from_utf8_lossy(&e.bytes).ends_with(" kept"),
                "thread {t}: a refused append was stored at {i}"
            );
        }
        let mem = MemoryTree::from_leaf_hashes(stored.iter().map(|e| e.hash));
        assert_eq!(store.feed_head(&feed).unwrap().unwrap().root, mem.root());
        assert_eq!(
            store
                .delivered(&format!("p{t}"), &feed, DeliveryRole::Push)
                .unwrap(),
            (0..EACH).filter(|i| i % 3 == 2).max().unwrap()
        );
    }
    assert!(
        store.actions(0, 1000).unwrap().is_empty(),
        "the refused appends' actions were not kept"
    );
}

pub fn a_failed_append_keeps_nothing(open: Opener<'_>) {
    let store = open();
    let mut tree = TiledTree::new();
    append(store.as_ref(), &mut tree, &FeedId::new("c", "a"), 3, "").unwrap();
    // The same bytes (same hash) in another feed are refused whole.
    let bytes = b"c/a entry 0 ".to_vec();
    let other = FeedId::new("c", "b");
    let err = store.append(&Append {
        feed: other.clone(),
        old_size: 0,
        entries: vec![NewEntry {
            seq: 0,
            hash: leaf_hash(&bytes),
            kind: "k".into(),
            time: 0,
            refs: vec![],
            bytes,
        }],
        tiles: vec![],
        head: FeedHead {
            size: 1,
            root: Hash([0; 32]),
        },
        checkpoint: String::new(),
        cosignature: None,
        received_at: 0,
        actions: vec![],
    });
    assert!(err.is_err());
    assert!(store.feed_head(&other).unwrap().is_none());
    assert!(store.entries(&other, 0, 10).unwrap().is_empty());
}

pub fn peers_keep_their_key_and_update_their_address(open: Opener<'_>) {
    let store = open();
    let peer = Peer {
        party: "russia".into(),
        url: "https://127.0.0.1:1".into(),
        identity: "parley-identity/v1\nparty russia\nlog russia+1+A\n".into(),
        added_at: 1,
    };
    store.add_peer(&peer).unwrap();
    store
        .add_peer(&Peer {
            url: "https://127.0.0.1:2".into(),
            ..peer.clone()
        })
        .unwrap();
    assert_eq!(store.peers().unwrap().len(), 1);
    assert_eq!(store.peers().unwrap()[0].url, "https://127.0.0.1:2");
    assert!(matches!(
        store.add_peer(&Peer {
            identity: "parley-identity/v1\nparty russia\nlog russia+2+B\n".into(),
            ..peer
        }),
        Err(StoreError::PeerKeyChanged(_))
    ));
}

pub fn cosignatures_are_kept_once_per_statement(open: Opener<'_>) {
    let store = open();
    let feed = FeedId::new("c", "nato");
    let c = Cosignature {
        feed: feed.clone(),
        size: 3,
        cosigner: "russia".into(),
        statement: Statement::Receipt,
        time: 100,
        line: "— russia/receipt x\n".into(),
    };
    assert!(store.add_cosignature(&c).unwrap());
    assert!(!store.add_cosignature(&c).unwrap(), "twice changes nothing");
    assert_eq!(store.cosignatures(&feed, 0).unwrap(), vec![c.clone()]);
    assert_eq!(store.cosignatures(&feed, 4).unwrap(), vec![]);
    assert_eq!(
        store
            .last_cosignature_by("russia", Statement::Receipt)
            .unwrap(),
        Some(100)
    );
    assert_eq!(
        store
            .last_cosignature_by("russia", Statement::Witness)
            .unwrap(),
        None,
        "a receipt is not a witness cosignature"
    );
    let w = Cosignature {
        statement: Statement::Witness,
        line: "— russia/witness y\n".into(),
        ..c
    };
    assert!(store.add_cosignature(&w).unwrap(), "another statement");
    assert_eq!(store.cosignatures(&feed, 0).unwrap().len(), 2);
    assert_eq!(store.all_cosignatures().unwrap().len(), 2);
}

/// A reader that keeps the last position it saw gets each cosignature once,
/// in the order stored (not signed): a cosignature signed earlier but
/// stored later comes after; a duplicate takes no position; other feeds'
/// cosignatures do not show.
pub fn cosignatures_are_read_back_in_the_order_stored(open: Opener<'_>) {
    let store = open();
    let feed = FeedId::new("c", "nato");
    let other = FeedId::new("c", "russia");
    let cosig = |feed: &FeedId, size: u64, who: &str, time: i64| Cosignature {
        feed: feed.clone(),
        size,
        cosigner: who.into(),
        statement: Statement::Receipt,
        time,
        line: format!("— {who}/receipt {size} {time}\n"),
    };
    let first = [cosig(&feed, 2, "russia", 200), cosig(&feed, 1, "osce", 300)];
    for c in &first {
        assert!(store.add_cosignature(c).unwrap());
    }
    assert!(
        store
            .add_cosignature(&cosig(&other, 1, "nato", 50))
            .unwrap()
    );
    let read = store.cosignatures_stored_after(&feed, 0, 10).unwrap();
    assert_eq!(
        read.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
        first.to_vec()
    );
    assert!(read[0].0 < read[1].0, "positions grow");
    let mut at = read[1].0;
    assert!(!store.add_cosignature(&first[0]).unwrap());
    // Signed before everything above, stored after it.
    let late = cosig(&feed, 3, "ukraine", 10);
    assert!(store.add_cosignature(&late).unwrap());
    let next = store.cosignatures_stored_after(&feed, at, 10).unwrap();
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(next[0].1, late);
    at = next[0].0;
    assert!(
        store
            .cosignatures_stored_after(&feed, at, 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.cosignatures_stored_after(&feed, 0, 1).unwrap().len(),
        1,
        "limit"
    );
}

pub fn deliveries_never_go_backwards(open: Opener<'_>) {
    let store = open();
    let feed = FeedId::new("c", "nato");
    let at = |role| store.delivered("russia", &feed, role).unwrap();
    assert_eq!(at(DeliveryRole::Push), 0);
    store
        .set_delivered("russia", &feed, DeliveryRole::Push, 5)
        .unwrap();
    store
        .set_delivered("russia", &feed, DeliveryRole::Push, 3)
        .unwrap();
    assert_eq!(at(DeliveryRole::Push), 5, "never backwards");
    assert_eq!(at(DeliveryRole::Witness), 0, "each role on its own");
}

pub fn witnessed_sizes_swap_only_from_the_expected_size(open: Opener<'_>) {
    let store = open();
    let w = WitnessedRecord {
        origin: "o".into(),
        size: 5,
        root: Hash([1; 32]),
        note: "n".into(),
    };
    assert!(store.swap_witnessed(None, &w).unwrap());
    assert!(!store.swap_witnessed(None, &w).unwrap());
    let w2 = WitnessedRecord {
        size: 9,
        ..w.clone()
    };
    assert!(!store.swap_witnessed(Some(4), &w2).unwrap());
    assert!(store.swap_witnessed(Some(5), &w2).unwrap());
    assert_eq!(store.witnessed("o").unwrap().unwrap().size, 9);
    assert_eq!(store.witnessed_all().unwrap().len(), 1);
}

pub fn evidence_is_recorded_once(open: Opener<'_>) {
    let store = open();
    let ev = EvidenceRecord {
        id: 0,
        kind: EvidenceKind::Equivocation,
        origin: "o".into(),
        party: "nato".into(),
        detected_at: 1,
        detected_by: "russia".into(),
        summary: "s".into(),
        evidence: "{}".into(),
        proven: true,
    };
    let id = store.add_evidence(&ev).unwrap();
    assert_eq!(store.add_evidence(&ev).unwrap(), id, "recorded once");
    let held = store.evidence().unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].kind, EvidenceKind::Equivocation);
}

/// A duty officer's send, as the action log records one (for tests).
pub fn sample_action() -> ActionRecord {
    ActionRecord {
        id: 0,
        time: 1,
        user: "duty".into(),
        role: "duty_officer".into(),
        client: "127.0.0.1:5000".into(),
        action: "send hotline_message".into(),
        target: "nato.mil".into(),
        entry: Some("nato.mil/nato/1".into()),
        outcome: "ok".into(),
    }
}

pub fn actions_are_numbered_in_order(open: Opener<'_>) {
    let store: Arc<dyn Store> = Arc::from(open());
    let rec = sample_action();
    let a = store.record_action(&rec).unwrap();
    let b = store
        .record_action(&ActionRecord {
            entry: None,
            outcome: "refused: x".into(),
            ..rec
        })
        .unwrap();
    assert!(b > a);
    let all = store.actions(0, 10).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].entry.as_deref(), Some("nato.mil/nato/1"));
    assert_eq!(store.actions(a, 10).unwrap().len(), 1);
}

/// A snapshot is written to a new file only (a backend with nothing on
/// disk may refuse to make one); an existing file is never touched.
pub fn a_snapshot_never_overwrites(open: Opener<'_>) {
    let store = open();
    let mut tree = TiledTree::new();
    append(store.as_ref(), &mut tree, &FeedId::new("c", "a"), 3, "").unwrap();
    let dir = std::env::temp_dir().join(format!(
        "parley-conformance-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("backup");
    let _ = std::fs::remove_file(&out);
    if store.snapshot_to(&out).is_ok() {
        assert!(out.exists(), "a snapshot that succeeds is on disk");
        std::fs::remove_file(&out).unwrap();
    }
    std::fs::write(&out, b"keep me").unwrap();
    assert!(store.snapshot_to(&out).is_err(), "an existing file is kept");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two handles on one storage (two processes of a party): one holds the
/// lease, the other waits; once the holder lets go, the other takes it.
pub fn one_holder_of_the_lease_at_a_time(open: Opener<'_>) {
    let (a, b) = (open(), open());
    let (la, lb) = (a.lease().unwrap(), b.lease().unwrap());
    assert!(la.try_hold().unwrap(), "a free lease is taken");
    assert!(la.try_hold().unwrap(), "the holder keeps it");
    assert!(!lb.try_hold().unwrap(), "a held lease is not taken");
    assert!(!lb.try_hold().unwrap(), "nor on asking again");
    drop(la);
    drop(a);
    // A server may take a moment to see a session end.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !lb.try_hold().unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "a released lease is taken by the next"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(lb.try_hold().unwrap());
}
