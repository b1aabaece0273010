//! Feeds: appending to this node's own, and verifying then storing the
//! updates peers send of theirs.
//!
//! Both paths hold the feed's slot lock from reading the tree to the
//! commit, and the store refuses any append whose expected size is stale,
//! so a feed can never fork here.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use parley_domain::{ChannelState, Violation};
use parley_log::checkpoint::CheckpointError;
use parley_log::equivocation::Equivocation;
use parley_log::merkle::{consistency_proof, consistency_roots, root, verify_consistency};
use parley_log::note::{cosignature_line, verify_one};
use parley_log::tiles::TileNodes;
use parley_log::{
    Checkpoint, Entry, Hash, Note, NoteSignature, SignedCheckpoint, Timestamp, leaf_hash,
};
use parley_store::{
    Append, Cosignature, DeliveryRole, EvidenceRecord, FeedHead, FeedId, FeedTiles, NewEntry,
    StoreError, TileBuffer,
};
use serde_json::Value;

use crate::federation::wire::{FeedUpdate, PushReply, Reason, Refused};
use crate::state::{Event, Node};

/// What an append produced.
#[derive(Clone, Debug)]
pub struct Appended {
    pub id: String,
    pub seq: u64,
    pub hash: Hash,
    pub time: Timestamp,
}

/// Why this node refuses to append.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("the entry breaks {} rule(s)", .0.len())]
    Invalid(Vec<Violation>),
    #[error(transparent)]
    Refused(#[from] parley_domain::channel::ChannelRefusal),
    #[error("channel {0:?} does not exist on this node")]
    UnknownChannel(String),
    #[error("channel {0:?} already exists")]
    ChannelExists(String),
    #[error(transparent)]
    Entry(#[from] parley_log::entry::EntryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Appends one entry to this node's feed in `channel`, signs the new
/// checkpoint and commits both before returning.
pub async fn append_own(
    node: &Arc<Node>,
    channel: &str,
    kind: &str,
    body: Value,
    refs: Vec<Hash>,
) -> Result<Appended, AppendError> {
    // Runs to completion even if the caller goes away (a client that hangs
    // up must not leave a committed entry unapplied in memory).
    let (node, channel, kind) = (node.clone(), channel.to_string(), kind.to_string());
    tokio::spawn(async move { append_own_now(&node, &channel, &kind, body, refs).await })
        .await
        .expect("appending does not panic")
}

async fn append_own_now(
    node: &Arc<Node>,
    channel: &str,
    kind: &str,
    body: Value,
    refs: Vec<Hash>,
) -> Result<Appended, AppendError> {
    let feed = FeedId::new(channel, &node.party);
    let state = if kind == "channel_charter" {
        if node.channel(channel).is_some() {
            return Err(AppendError::ChannelExists(channel.into()));
        }
        None
    } else {
        let s = node
            .channel(channel)
            .ok_or_else(|| AppendError::UnknownChannel(channel.into()))?;
        s.may_append(&node.party, kind)?;
        Some(s)
    };
    let slot = node.feed_slot(&feed);
    let mut slot = slot.lock().await;
    let tree = node.tree(&mut slot, &feed).await?;
    let entry = Entry {
        channel: channel.into(),
        author: node.party.clone(),
        seq: tree.size(),
        time: Timestamp::now(),
        kind: kind.into(),
        refs,
        salt: Entry::random_salt(),
        body,
    };
    let mut violations = parley_domain::validate(&entry, state.as_ref())
        .err()
        .unwrap_or_default();
    violations.extend(check_references(node, &entry).await?);
    if !violations.is_empty() {
        return Err(AppendError::Invalid(violations));
    }
    let bytes = entry.encode()?;
    let hash = leaf_hash(&bytes);
    let mut tiles = TileBuffer::default();
    let mut next = tree.clone();
    next.append(&[hash], &mut tiles)
        .expect("buffer writes cannot fail");
    let checkpoint = Checkpoint::new(&feed.origin(), next.size(), next.root())
        .sign(&node.feed_signing_key(&feed))
        .expect("the feed key is named after the origin");
    let append = Append {
        feed: feed.clone(),
        old_size: tree.size(),
        entries: vec![NewEntry {
            seq: entry.seq,
            hash,
            kind: kind.into(),
            time: entry.time.unix(),
            refs: entry.refs.clone(),
            bytes,
        }],
        tiles: tiles.0,
        head: FeedHead {
            size: next.size(),
            root: next.root(),
        },
        checkpoint: checkpoint.to_string(),
        cosignature: None,
        received_at: entry.time.unix(),
    };
    // Until the commit is known to have landed, the cached tree is unknown.
    slot.tree = None;
    node.db(move |s| s.append(&append)).await?;
    slot.tree = Some(next);
    drop(slot);
    node.apply_to_channels(&entry, hash);
    node.emit(Event::Entry {
        id: entry.id(),
        channel: channel.into(),
        author: node.party.clone(),
        kind: kind.into(),
    });
    if let Some(c) = node.channel(channel) {
        node.wake_channel(&c);
    }
    tracing::info!(id = %entry.id(), kind, "appended");
    Ok(Appended {
        id: entry.id(),
        seq: entry.seq,
        hash,
        time: entry.time,
    })
}

/// The author's node holds what an entry references, so it checks what the
/// receivers cannot: the referenced entries exist here, in this channel,
/// and the first is of a kind this kind answers.
async fn check_references(node: &Arc<Node>, entry: &Entry) -> Result<Vec<Violation>, StoreError> {
    let mut out = Vec::new();
    let Some(spec) = parley_domain::kinds::get(&entry.kind) else {
        return Ok(out);
    };
    for (i, r) in entry.refs.iter().enumerate() {
        let h = *r;
        let Some(target) = node.db(move |s| s.entry_by_hash(&h)).await? else {
            out.push(Violation::new(
                format!("refs[{i}]"),
                format!("no entry {r} on this node"),
            ));
            continue;
        };
        if target.channel != entry.channel {
            out.push(Violation::new(
                format!("refs[{i}]"),
                format!(
                    "{} is in channel {}, not {}",
                    target.id(),
                    target.channel,
                    entry.channel
                ),
            ));
        }
        if i == 0 && !spec.ref_kinds.is_empty() && !spec.ref_kinds.contains(&target.kind.as_str()) {
            out.push(Violation::new(
                "refs[0]",
                format!(
                    "a {} answers a {}, but {} is a {}",
                    entry.kind,
                    spec.ref_kinds.join(" or "),
                    target.id(),
                    target.kind
                ),
            ));
        }
    }
    Ok(out)
}

fn internal(e: impl std::fmt::Display) -> Refused {
    Refused::new(Reason::Internal, e.to_string())
}

/// A store failure as the peer should see it: "cannot write now, retry"
/// when the disk is full or read-only, else an internal failure.
fn store_failed(e: StoreError) -> Refused {
    match e.storage_unavailable() {
        Some(why) => {
            tracing::error!(error = %e, "cannot store a peer's update");
            Refused::new(
                Reason::StorageUnavailable,
                format!("nothing was stored: {why}"),
            )
        }
        None => internal(e),
    }
}

/// Verifies a peer's feed update and, only if everything holds, stores it
/// and returns this node's cosignature of the checkpoint.
pub async fn ingest(node: &Arc<Node>, u: FeedUpdate) -> Result<PushReply, Refused> {
    // Runs to completion even if the peer hangs up mid-request.
    let node = node.clone();
    tokio::spawn(async move { ingest_now(&node, u).await })
        .await
        .expect("ingesting does not panic")
}

async fn ingest_now(node: &Arc<Node>, u: FeedUpdate) -> Result<PushReply, Refused> {
    for (what, v) in [("channel", &u.channel), ("author", &u.author)] {
        parley_log::entry::check_identifier(v)
            .map_err(|e| Refused::new(Reason::BadRequest, format!("{what}: {e}")))?;
    }
    if u.author == node.party {
        return Err(Refused::new(
            Reason::BadRequest,
            "this node does not take updates of its own feed",
        ));
    }
    let peer = node.peer(&u.author).ok_or_else(|| {
        Refused::new(
            Reason::UnknownAuthor,
            format!("{:?} is not a pinned peer of {}", u.author, node.party),
        )
    })?;
    let feed = FeedId::new(&u.channel, &u.author);
    let feed_key = peer.feed_key(&feed);
    let note = Note::parse(u.checkpoint.as_bytes())
        .map_err(|e| Refused::new(Reason::BadRequest, format!("checkpoint: {e}")))?;
    let signed = SignedCheckpoint::open_note(note, &feed_key, &[]).map_err(|e| match e {
        CheckpointError::MissingLogSignature(_)
        | CheckpointError::Note(parley_log::note::NoteError::BadSignature { .. }) => Refused::new(
            Reason::BadSignature,
            format!("the checkpoint is not signed by {}'s pinned key", u.author),
        ),
        e => Refused::new(Reason::BadRequest, format!("checkpoint: {e}")),
    })?;
    let cp = signed.checkpoint;
    let mut log_note = signed.note;
    log_note.retain_signatures(|s| s.name == feed_key.name() && s.key_id == feed_key.id());
    if cp.size != u.old_size + u.entries.len() as u64 {
        return Err(Refused::new(
            Reason::BadSequence,
            format!(
                "{} entries from {} do not end at the checkpoint size {}",
                u.entries.len(),
                u.old_size,
                cp.size
            ),
        ));
    }
    let proof = u
        .consistency
        .iter()
        .map(|h| Hash::from_base64(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Refused::new(Reason::BadRequest, format!("consistency proof: {e}")))?;

    let slot = node.feed_slot(&feed);
    let mut slot = slot.lock().await;
    let tree = node.tree(&mut slot, &feed).await.map_err(store_failed)?;
    let ours = tree.size();
    if cp.size <= ours {
        return known_checkpoint(node, &feed, &cp, &log_note, ours, &u).await;
    }
    if u.old_size != ours {
        let mut r = Refused::new(
            Reason::SizeMismatch,
            format!("this node holds {ours} entries of {feed:?}; send from there"),
        );
        r.size = Some(ours);
        return Err(r);
    }
    if ours > 0
        && let Err(e) = verify_consistency(ours, cp.size, &tree.root(), &cp.root, &proof)
    {
        return Err(
            conflicting_proof(node, &feed, &cp, &log_note, ours, tree.root(), &proof, e).await,
        );
    }

    let entries = decode_entries(node, &u, ours)?;
    let mut next = tree.clone();
    let mut tiles = TileBuffer::default();
    let leaves: Vec<Hash> = entries.iter().map(|(_, b)| leaf_hash(b)).collect();
    next.append(&leaves, &mut tiles)
        .expect("buffer writes cannot fail");
    if next.root() != cp.root {
        return Err(Refused::new(
            Reason::RootMismatch,
            format!(
                "the entries hash to {}, not to the signed root {}",
                next.root(),
                cp.root
            ),
        ));
    }
    let now = Timestamp::now().unix();
    let cp_text = cp.to_text();
    let line = cosignature_line(&node.key, &cp_text, now as u64).to_line();
    let new_entries: Vec<NewEntry> = entries
        .iter()
        .zip(&leaves)
        .map(|((e, bytes), hash)| NewEntry {
            seq: e.seq,
            hash: *hash,
            kind: e.kind.clone(),
            time: e.time.unix(),
            refs: e.refs.clone(),
            bytes: bytes.clone(),
        })
        .collect();
    let append = Append {
        feed: feed.clone(),
        old_size: ours,
        entries: new_entries,
        tiles: tiles.0,
        head: FeedHead {
            size: next.size(),
            root: next.root(),
        },
        checkpoint: log_note.to_string(),
        cosignature: Some(Cosignature {
            feed: feed.clone(),
            size: cp.size,
            cosigner: node.party.clone(),
            time: now,
            line: line.clone(),
        }),
        received_at: now,
    };
    slot.tree = None;
    node.db(move |s| s.append(&append))
        .await
        .map_err(|e| match e {
            StoreError::Conflict { actual, .. } => {
                let mut r = Refused::new(Reason::SizeMismatch, "another update was stored first");
                r.size = Some(actual);
                r
            }
            e => store_failed(e),
        })?;
    slot.tree = Some(next);
    drop(slot);
    for ((e, _), hash) in entries.iter().zip(&leaves) {
        node.apply_to_channels(e, *hash);
        node.emit(Event::Entry {
            id: e.id(),
            channel: e.channel.clone(),
            author: e.author.clone(),
            kind: e.kind.clone(),
        });
    }
    if let Some(c) = node.channel(&feed.channel) {
        for w in &c.charter.witnesses {
            node.wake(w);
        }
    }
    tracing::info!(feed = %feed.origin(), from = ours, to = cp.size, "stored update and cosigned");
    Ok(PushReply {
        size: cp.size,
        cosignature: line,
    })
}

/// Decodes and checks every entry of an update against its feed and channel.
fn decode_entries(
    node: &Node,
    u: &FeedUpdate,
    first_seq: u64,
) -> Result<Vec<(Entry, Vec<u8>)>, Refused> {
    let mut state: Option<ChannelState> = node.channel(&u.channel);
    let mut out = Vec::with_capacity(u.entries.len());
    for (i, b64) in u.entries.iter().enumerate() {
        let seq = first_seq + i as u64;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| Refused::new(Reason::BadRequest, format!("entry {seq} is not base64")))?;
        let e = Entry::decode(&bytes).map_err(|err| {
            Refused::new(
                Reason::NonCanonical,
                format!("entry {seq} is not a canonical entry: {err}"),
            )
        })?;
        if e.channel != u.channel || e.author != u.author {
            return Err(Refused::new(
                Reason::BadRequest,
                format!(
                    "entry {seq} belongs to {}/{}, not to this feed",
                    e.channel, e.author
                ),
            ));
        }
        if e.seq != seq {
            return Err(Refused::new(
                Reason::BadSequence,
                format!("entry at position {seq} carries sequence number {}", e.seq),
            ));
        }
        if e.kind == "channel_charter" && state.is_none() {
            let charter: parley_domain::Charter = parley_domain::kinds::parse_body(&e.body)
                .map_err(|v| {
                    let mut r = Refused::new(
                        Reason::InvalidEntry,
                        format!("entry {seq}: invalid charter"),
                    );
                    r.violations = vec![v];
                    r
                })?;
            if !charter.members.contains(&node.party) {
                return Err(Refused::new(
                    Reason::NotMember,
                    format!("{} is not a member of channel {}", node.party, e.channel),
                ));
            }
            state = Some(ChannelState::from_charter(&e, charter, leaf_hash(&bytes)));
        }
        let Some(s) = state.as_mut() else {
            return Err(Refused::new(
                Reason::UnknownChannel,
                format!(
                    "channel {} is not known here yet; its charter comes first",
                    u.channel
                ),
            ));
        };
        if !s.is_member(&e.author) {
            return Err(Refused::new(
                Reason::NotMember,
                format!("{} is not a member of channel {}", e.author, e.channel),
            ));
        }
        if let Err(violations) = parley_domain::validate(&e, Some(s)) {
            let mut r = Refused::new(
                Reason::InvalidEntry,
                format!("entry {} breaks its kind's rules", e.id()),
            );
            r.violations = violations;
            return Err(r);
        }
        s.apply(&e);
        out.push((e, bytes));
    }
    Ok(out)
}

/// A push of entries this node already holds (a retry after a lost answer,
/// or a replay) is answered only if it carries exactly those entries.
async fn same_entries_as_held(
    node: &Arc<Node>,
    feed: &FeedId,
    u: &FeedUpdate,
) -> Result<(), Refused> {
    if u.entries.is_empty() {
        return Ok(());
    }
    let (f, from, n) = (feed.clone(), u.old_size, u.entries.len() as u64);
    let held = node
        .db(move |s| s.entries(&f, from, n))
        .await
        .map_err(store_failed)?;
    for (i, b64) in u.entries.iter().enumerate() {
        let seq = u.old_size + i as u64;
        let same = STANDARD
            .decode(b64)
            .ok()
            .zip(held.get(i))
            .is_some_and(|(bytes, h)| h.seq == seq && leaf_hash(&bytes) == h.hash);
        if !same {
            return Err(Refused::new(
                Reason::RootMismatch,
                format!("entry {seq} is not the entry this node holds at that position"),
            ));
        }
    }
    Ok(())
}

/// A checkpoint no larger than what this node holds: either the same
/// history (answer with the receipt, changing nothing) or a fork.
async fn known_checkpoint(
    node: &Arc<Node>,
    feed: &FeedId,
    cp: &Checkpoint,
    their_note: &Note,
    ours: u64,
    u: &FeedUpdate,
) -> Result<PushReply, Refused> {
    let f = feed.clone();
    let size = cp.size;
    let (root_then, our_note_then, our_note_now, prefix_proof) = node
        .db(move |s| {
            let tiles = FeedTiles { store: s, feed: &f };
            let mut nodes = TileNodes::new(&tiles);
            let root_then =
                root(&mut nodes, size).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let proof = if size > 0 && size < ours {
                consistency_proof(&mut nodes, size, ours)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
            } else {
                vec![]
            };
            Ok((
                root_then,
                s.checkpoint(&f, size)?,
                s.checkpoint(&f, ours)?,
                proof,
            ))
        })
        .await
        .map_err(store_failed)?;
    if root_then == cp.root {
        same_entries_as_held(node, feed, u).await?;
        let now = Timestamp::now().unix();
        let f = feed.clone();
        let party = node.party.clone();
        let existing = node
            .db(move |s| {
                Ok(s.cosignatures(&f, size)?
                    .into_iter()
                    .find(|c| c.size == size && c.cosigner == party))
            })
            .await
            .map_err(store_failed)?;
        let line = match existing {
            Some(c) => c.line,
            None => {
                let line = cosignature_line(&node.key, &cp.to_text(), now as u64).to_line();
                let c = Cosignature {
                    feed: feed.clone(),
                    size,
                    cosigner: node.party.clone(),
                    time: now,
                    line: line.clone(),
                };
                let note = their_note.to_string();
                node.db(move |s| s.add_cosigned_checkpoint(&note, &c))
                    .await
                    .map_err(store_failed)?;
                line
            }
        };
        return Ok(PushReply {
            size,
            cosignature: line,
        });
    }
    let evidence = match (our_note_then, our_note_now) {
        (Some(ours_then), _) => Equivocation {
            first: ours_then,
            second: their_note.to_string(),
            prefix: None,
        },
        (None, Some(ours_now)) => Equivocation {
            first: their_note.to_string(),
            second: ours_now,
            prefix: Some((root_then, prefix_proof)),
        },
        (None, None) => return Err(internal("no checkpoint stored for a held feed")),
    };
    let summary = format!(
        "{} signed size {} with root {}, but the history this node holds has root {} there",
        feed.author, cp.size, cp.root, root_then
    );
    record_evidence(node, feed, &evidence, true, summary.clone()).await;
    Err(Refused::new(Reason::Equivocation, summary))
}

/// A consistency proof that does not verify: a fork if the proof itself
/// shows the new tree has another prefix, else just a bad proof.
#[allow(clippy::too_many_arguments)]
async fn conflicting_proof(
    node: &Arc<Node>,
    feed: &FeedId,
    cp: &Checkpoint,
    their_note: &Note,
    ours: u64,
    our_root: Hash,
    proof: &[Hash],
    err: parley_log::merkle::VerifyError,
) -> Refused {
    if let Ok((prefix, new)) = consistency_roots(ours, cp.size, &our_root, proof)
        && !ours.is_power_of_two()
        && new == cp.root
        && prefix != our_root
    {
        let f = feed.clone();
        if let Ok(Some(our_note)) = node.db(move |s| s.checkpoint(&f, ours)).await {
            let evidence = Equivocation {
                first: our_note,
                second: their_note.to_string(),
                prefix: Some((prefix, proof.to_vec())),
            };
            let summary = format!(
                "{} signed size {} whose first {} entries differ from the {} this node holds",
                feed.author, cp.size, ours, ours
            );
            record_evidence(node, feed, &evidence, true, summary.clone()).await;
            return Refused::new(Reason::Equivocation, summary);
        }
    }
    Refused::new(
        Reason::BadConsistencyProof,
        format!(
            "the consistency proof from {ours} to {} does not verify: {err}",
            cp.size
        ),
    )
}

/// Stores evidence of a fork, logs it and raises the alarm.
pub async fn record_evidence(
    node: &Arc<Node>,
    feed: &FeedId,
    ev: &Equivocation,
    proven: bool,
    summary: String,
) {
    if proven
        && let Some(p) = node.peer(&feed.author)
        && let Err(e) = ev.verify(&p.key)
    {
        tracing::error!(error = %e, "built evidence does not verify; not recording it");
        return;
    }
    let rec = EvidenceRecord {
        id: 0,
        origin: feed.origin(),
        party: feed.author.clone(),
        detected_at: Timestamp::now().unix(),
        detected_by: node.party.clone(),
        summary: summary.clone(),
        evidence: ev.to_json(),
        proven,
    };
    match node.db(move |s| s.add_evidence(&rec)).await {
        Ok(id) => {
            tracing::error!(party = %feed.author, origin = %feed.origin(), evidence = id, "EQUIVOCATION: {summary}");
            node.emit(Event::Evidence {
                id,
                party: feed.author.clone(),
            });
        }
        Err(e) => tracing::error!(error = %e, "could not store equivocation evidence"),
    }
}

/// Builds the update that brings a peer from `from` entries of one of this
/// node's feeds to a signed checkpoint: at most `max` entries, ending at a
/// size this node signed.
pub async fn build_update(
    node: &Arc<Node>,
    feed: &FeedId,
    from: u64,
    max: u64,
) -> Result<Option<FeedUpdate>, StoreError> {
    let f = feed.clone();
    node.db(move |s| {
        let Some(head) = s.feed_head(&f)? else {
            return Ok(None);
        };
        if from >= head.size {
            return Ok(None);
        }
        let upto = from.saturating_add(max.max(1)).min(i64::MAX as u64);
        let size = match s.checkpoint_sizes(&f, from + 1, upto)?.last() {
            Some(&k) => k,
            None => match s.checkpoint_sizes(&f, from + 1, i64::MAX as u64)?.first() {
                Some(&k) => k,
                None => return Ok(None),
            },
        };
        let entries = s.entries(&f, from, size - from)?;
        if entries.len() as u64 != size - from {
            return Err(StoreError::Corrupt(format!(
                "feed {f:?} lacks entries below {size}"
            )));
        }
        let note = s
            .checkpoint(&f, size)?
            .ok_or_else(|| StoreError::Corrupt(format!("no checkpoint at {size}")))?;
        let proof = if from > 0 {
            let tiles = FeedTiles { store: s, feed: &f };
            consistency_proof(&mut TileNodes::new(&tiles), from, size)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?
        } else {
            vec![]
        };
        Ok(Some(FeedUpdate {
            channel: f.channel.clone(),
            author: f.author.clone(),
            old_size: from,
            entries: entries.iter().map(|e| STANDARD.encode(&e.bytes)).collect(),
            checkpoint: note,
            consistency: proof.iter().map(Hash::to_base64).collect(),
        }))
    })
    .await
}

/// Checks and stores a cosignature by `cosigner` on this node's checkpoint
/// of `feed` at `size`: a member's receipt or a witness's signature.
pub async fn accept_cosignature(
    node: &Arc<Node>,
    feed: &FeedId,
    size: u64,
    cosigner: &str,
    line: &str,
    role: DeliveryRole,
) -> Result<i64, Refused> {
    let peer = node.peer(cosigner).ok_or_else(|| {
        Refused::new(
            Reason::UnknownAuthor,
            format!("{cosigner:?} is not a pinned peer"),
        )
    })?;
    let sig = NoteSignature::parse_line(line)
        .map_err(|e| Refused::new(Reason::BadRequest, format!("cosignature: {e}")))?;
    let key = peer.cosigner_key();
    if sig.name != key.name() || sig.key_id != key.id() {
        return Err(Refused::new(
            Reason::BadSignature,
            format!("the cosignature is not by {cosigner}'s pinned key"),
        ));
    }
    let f = feed.clone();
    let note = node
        .db(move |s| s.checkpoint(&f, size))
        .await
        .map_err(store_failed)?
        .ok_or_else(|| {
            Refused::new(
                Reason::BadRequest,
                format!("no checkpoint of size {size} here"),
            )
        })?;
    let text = Note::parse(note.as_bytes())
        .map_err(internal)?
        .text()
        .to_string();
    let time = verify_one(&key, &text, &sig)
        .map_err(|e| Refused::new(Reason::BadSignature, e.to_string()))?
        .ok_or_else(|| Refused::new(Reason::BadSignature, "not a cosignature/v1 signature"))?
        as i64;
    let c = Cosignature {
        feed: feed.clone(),
        size,
        cosigner: cosigner.to_string(),
        time,
        line: sig.to_line(),
    };
    let fresh = node
        .db(move |s| s.add_receipt(&c, role))
        .await
        .map_err(store_failed)?;
    if fresh {
        node.emit(Event::Receipt {
            feed: feed.clone(),
            size,
            cosigner: cosigner.to_string(),
        });
    }
    Ok(time)
}
