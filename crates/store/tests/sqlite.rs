//! The SQLite store on real database files.

use parley_log::merkle::MemoryTree;
use parley_log::tiles::{TileNodes, TileStore, TiledTree};
use parley_log::{Hash, leaf_hash};
use parley_store::{
    Append, Cosignature, DeliveryRole, EvidenceRecord, FeedHead, FeedId, NewEntry, Peer,
    SqliteStore, Statement, Store, StoreError, TileBuffer, WitnessedRecord,
};

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("parley.db")).unwrap();
    (dir, store)
}

/// Appends `n` entries to a feed the way the node does, in one commit.
fn append(
    store: &SqliteStore,
    tree: &mut TiledTree,
    feed: &FeedId,
    n: u64,
) -> Result<(), StoreError> {
    let old = tree.size();
    let entries: Vec<NewEntry> = (old..old + n)
        .map(|seq| {
            let bytes = format!("entry {seq}").into_bytes();
            NewEntry {
                seq,
                hash: leaf_hash(&bytes),
                kind: "hotline_message".into(),
                time: 1_700_000_000 + seq as i64,
                refs: if seq > 0 {
                    vec![leaf_hash(format!("entry {}", seq - 1).as_bytes())]
                } else {
                    vec![]
                },
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
    .unwrap();
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
        action: None,
    })?;
    *tree = next;
    Ok(())
}

/// Reads a feed's tiles through the store, as proofs do.
struct FeedTiles<'a>(&'a SqliteStore, FeedId);
impl TileStore for FeedTiles<'_> {
    type Error = StoreError;
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.read_tile(&self.1, level, index)
    }
    fn write_tile(&mut self, _: u8, _: u64, _: &[u8]) -> Result<(), StoreError> {
        unreachable!("read only")
    }
}

#[test]
fn appends_are_atomic_and_guarded_by_size() {
    let (dir, store) = open();
    let feed = FeedId::new("hotline", "nato");
    let mut tree = TiledTree::new();
    append(&store, &mut tree, &feed, 300).unwrap();
    append(&store, &mut tree, &feed, 5).unwrap();
    // A stale writer (expecting the old size) is refused and changes nothing.
    let mut stale = TiledTree::load(&FeedTiles(&store, feed.clone()), 300).unwrap();
    let err = append(&store, &mut stale, &feed, 1).unwrap_err();
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

    // Roots and proofs from stored tiles match an in-memory tree, after reopening.
    drop(store);
    let store = SqliteStore::open(&dir.path().join("parley.db")).unwrap();
    let mem = MemoryTree::from_leaf_hashes(
        (0..305u64).map(|s| leaf_hash(format!("entry {s}").as_bytes())),
    );
    let tiles = FeedTiles(&store, feed.clone());
    let mut nodes = TileNodes::new(&tiles);
    assert_eq!(
        parley_log::merkle::root(&mut nodes, 305).unwrap(),
        mem.root()
    );
    let reloaded = TiledTree::load(&tiles, 305).unwrap();
    assert_eq!(reloaded.root(), mem.root());
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
    assert_eq!(store.referencing(&leaf_hash(b"entry 6")).unwrap()[0].seq, 7);
}

#[test]
fn duplicate_entries_cannot_be_stored() {
    let (_dir, store) = open();
    let feed = FeedId::new("c", "a");
    let mut tree = TiledTree::new();
    append(&store, &mut tree, &feed, 3).unwrap();
    let other = FeedId::new("c", "b");
    // The same bytes (same hash) in another feed violate the unique hash index.
    let bytes = b"entry 0".to_vec();
    let err = store.append(&Append {
        feed: other,
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
        action: None,
    });
    assert!(err.is_err());
    assert!(
        store.feed_head(&FeedId::new("c", "b")).unwrap().is_none(),
        "nothing of a failed append is kept"
    );
}

#[test]
fn peers_cosignatures_deliveries_witness_and_evidence() {
    let (_dir, store) = open();
    let peer = Peer {
        party: "russia".into(),
        url: "http://127.0.0.1:1".into(),
        identity: "parley-identity/v1\nparty russia\nlog russia+1+A\n".into(),
        added_at: 1,
    };
    store.add_peer(&peer).unwrap();
    store
        .add_peer(&Peer {
            url: "http://127.0.0.1:2".into(),
            ..peer.clone()
        })
        .unwrap();
    assert_eq!(store.peers().unwrap()[0].url, "http://127.0.0.1:2");
    assert!(matches!(
        store.add_peer(&Peer {
            identity: "parley-identity/v1\nparty russia\nlog russia+2+B\n".into(),
            ..peer
        }),
        Err(StoreError::PeerKeyChanged(_))
    ));

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
    assert!(
        !store.add_cosignature(&c).unwrap(),
        "the same receipt twice changes nothing"
    );
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
    // A witness cosignature of the same size by the same party is a
    // different statement, kept apart.
    let w = Cosignature {
        statement: Statement::Witness,
        line: "— russia/witness y\n".into(),
        ..c.clone()
    };
    assert!(store.add_cosignature(&w).unwrap());
    assert_eq!(store.cosignatures(&feed, 0).unwrap().len(), 2);

    assert_eq!(
        store
            .delivered("russia", &feed, DeliveryRole::Push)
            .unwrap(),
        0
    );
    store
        .set_delivered("russia", &feed, DeliveryRole::Push, 5)
        .unwrap();
    store
        .set_delivered("russia", &feed, DeliveryRole::Push, 3)
        .unwrap();
    assert_eq!(
        store
            .delivered("russia", &feed, DeliveryRole::Push)
            .unwrap(),
        5,
        "never backwards"
    );
    assert_eq!(
        store
            .delivered("russia", &feed, DeliveryRole::Witness)
            .unwrap(),
        0
    );

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
    assert!(
        !store.swap_witnessed(Some(4), &w2).unwrap(),
        "compare-and-swap on the old size"
    );
    assert!(store.swap_witnessed(Some(5), &w2).unwrap());
    assert_eq!(store.witnessed("o").unwrap().unwrap().size, 9);

    let ev = EvidenceRecord {
        id: 0,
        kind: parley_store::EvidenceKind::Equivocation,
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
    assert_eq!(store.evidence().unwrap().len(), 1);
}

#[test]
fn schema_version_is_recorded_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, SqliteStore::schema_version());
    conn.pragma_update(None, "user_version", v + 1).unwrap();
    drop(conn);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::SchemaTooNew { .. })
    ));
}

#[test]
fn the_action_log_is_append_only() {
    let (dir, store) = open();
    let rec = parley_store::ActionRecord {
        id: 0,
        time: 1,
        user: "duty".into(),
        role: "duty_officer".into(),
        client: "127.0.0.1:5000".into(),
        action: "send hotline_message".into(),
        target: "nato.mil".into(),
        entry: Some("nato.mil/nato/1".into()),
        outcome: "ok".into(),
    };
    let a = store.record_action(&rec).unwrap();
    let b = store
        .record_action(&parley_store::ActionRecord {
            entry: None,
            outcome: "refused: x".into(),
            ..rec.clone()
        })
        .unwrap();
    assert!(b > a);
    let all = store.actions(0, 10).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].entry.as_deref(), Some("nato.mil/nato/1"));
    assert_eq!(store.actions(a, 10).unwrap().len(), 1);
    // UPDATE and DELETE through SQLite are refused. (Whoever can write the
    // file could drop the triggers: the file is owner-only, and backups
    // and peers hold what was sent.)
    let conn = rusqlite::Connection::open(dir.path().join("parley.db")).unwrap();
    for sql in [
        "UPDATE action_log SET user = 'nobody'",
        "DELETE FROM action_log",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(store.actions(0, 10).unwrap().len(), 2);
}
