//! The feed engine: appending to this node's own feeds, and verifying then
//! storing the updates peers send of theirs, with the receipt that only
//! such a store produces.
//!
//! Both paths hold the feed's slot lock from reading the tree to the
//! commit, and the store refuses any append whose expected size is stale,
//! so a feed can never fork here. The engine knows no transport: it takes
//! decoded [`FeedUpdate`]s and returns [`IngestError`]s, which the HTTP
//! layer (`federation::server`) translates for peers.

use std::sync::Arc;

use parley_domain::{ChannelState, Violation};
use parley_log::checkpoint::CheckpointError;
use parley_log::equivocation::Equivocation;
use parley_log::identity::Role;
use parley_log::merkle::{consistency_proof, consistency_roots, root, verify_consistency};
use parley_log::note::verify_one;
use parley_log::tiles::TileNodes;
use parley_log::{Checkpoint, Entry, Hash, Note, NoteSignature, SignedCheckpoint, Timestamp};
use parley_store::{
    ActionRecord, Append, Cosignature, DeliveryRole, EvidenceRecord, FeedHead, FeedId, FeedTiles,
    NewEntry, Statement, StoreError, TileBuffer,
};
use serde_json::Value;

pub use crate::appending::{AppendError, Appended};
use crate::appending::{Pending, Reply};
use crate::state::{Event, Node};

/// A feed's new entries with the signed checkpoint that covers them.
#[derive(Clone, Debug)]
pub struct FeedUpdate {
    pub feed: FeedId,
    /// The receiver's size as the sender believes it; `entries` start at
    /// this sequence number.
    pub old_size: u64,
    /// The sender's root at `old_size`. With it a fork from any size,
    /// powers of two included, yields verifiable evidence.
    pub old_root: Option<Hash>,
    /// Canonical entry bytes, sequence numbers `old_size..`.
    pub entries: Vec<Vec<u8>>,
    /// The author's signed checkpoint at `old_size + entries.len()`.
    pub checkpoint: String,
    /// RFC 9162 consistency proof from `old_size` to the checkpoint's size.
    pub consistency: Vec<Hash>,
}

/// This node's receipt for a peer's feed: its cosignature/v1 under its
/// receipt key, made by ingest only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub size: u64,
    /// The signature line.
    pub cosignature: String,
}

/// What is wrong with what a peer sent, in the engine's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Malformed input.
    Malformed,
    /// The author (or cosigner) is not a pinned peer.
    UnknownAuthor,
    /// A signature does not verify against the pinned key.
    BadSignature,
    /// An entry is not in canonical form.
    NonCanonical,
    /// Sequence numbers do not fit the feed or the checkpoint.
    BadSequence,
    /// The sender's idea of this node's size is wrong.
    SizeMismatch,
    /// The channel is not known here (yet).
    UnknownChannel,
    /// The author, or this node, is not a member of the channel.
    NotMember,
    /// An entry breaks its kind's rules.
    InvalidEntry,
    /// The entries do not hash to the signed root.
    RootMismatch,
    /// The consistency proof does not verify.
    BadConsistencyProof,
    /// The author signed two histories: evidence was recorded.
    Equivocation,
    /// A time is further ahead of this node's clock than the allowed skew:
    /// evidence of the attempt was recorded.
    FromTheFuture,
    /// This node cannot write now; nothing was stored.
    StorageUnavailable,
    /// This node failed.
    Internal,
}

/// Why the engine refuses a peer's input. Nothing was stored.
#[derive(Clone, Debug)]
pub struct IngestError {
    pub fault: Fault,
    pub message: String,
    /// This node's size of the feed, where that tells the sender where to resume.
    pub size: Option<u64>,
    pub violations: Vec<Violation>,
}

impl IngestError {
    pub fn new(fault: Fault, message: impl Into<String>) -> IngestError {
        IngestError {
            fault,
            message: message.into(),
            size: None,
            violations: Vec::new(),
        }
    }
}

impl std::fmt::Display for IngestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        for v in &self.violations {
            write!(f, "; {v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for IngestError {}

/// Appends one entry to this node's feed in `channel`, signs the new
/// checkpoint and commits both before returning.
pub async fn append_own(
    node: &Arc<Node>,
    channel: &str,
    kind: &str,
    body: Value,
    refs: Vec<Hash>,
) -> Result<Appended, AppendError> {
    append_own_by(node, channel, kind, body, refs, None).await
}

/// As [`append_own`], with the action of whoever made the entry, which is
/// committed with it (its `entry` and `target` filled in here).
///
/// # Errors
/// As [`append_own`].
pub async fn append_own_by(
    node: &Arc<Node>,
    channel: &str,
    kind: &str,
    body: Value,
    refs: Vec<Hash>,
    action: Option<ActionRecord>,
) -> Result<Appended, AppendError> {
    // Runs to completion even if the caller goes away (a client that hangs
    // up must not leave a committed entry unapplied in memory).
    let (node, channel, kind) = (node.clone(), channel.to_string(), kind.to_string());
    tokio::spawn(async move { append_own_now(&node, &channel, &kind, body, refs, action).await })
        .await
        .expect("appending does not panic")
}

/// Appends wait in their feed's queue; whoever takes the feed's slot next
/// commits every entry waiting, with one signed checkpoint and one durable
/// commit (group commit). Under load a commit carries many entries, and
/// each is acknowledged only once that commit has landed.
async fn append_own_now(
    node: &Arc<Node>,
    channel: &str,
    kind: &str,
    body: Value,
    refs: Vec<Hash>,
    action: Option<ActionRecord>,
) -> Result<Appended, AppendError> {
    // A new channel is named in its creator's namespace.
    let channel = if kind == "channel_charter" {
        parley_log::entry::qualify_channel(&node.party, channel)
    } else {
        channel.to_string()
    };
    let feed = FeedId::new(&channel, &node.party);
    let (reply, mut answer) = tokio::sync::oneshot::channel();
    let queue = node.append_queue(&feed);
    queue
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Pending {
            kind: kind.to_string(),
            body,
            refs,
            action,
            reply,
        });
    let slot = node.feed_slot(&feed);
    // Answered while waiting: a holder of the slot committed ours with its
    // own, and this append leaves the slot's line at once. Waiting for the
    // slot only to find the queue empty would put each answered append
    // behind the next commit (a convoy: one answer per commit).
    tokio::select! {
        biased;
        answered = &mut answer => return answered.expect("every waiting append is answered"),
        mut slot = slot.lock() => {
            let batch = std::mem::take(&mut *queue.lock().unwrap_or_else(|e| e.into_inner()));
            // Empty: the holder before us took ours as we took the slot.
            if !batch.is_empty() {
                commit_batch(node, &feed, &mut slot, batch).await;
            }
        }
    }
    answer.await.expect("every waiting append is answered")
}

/// An entry of a batch that passed its checks.
struct Ready {
    entry: Entry,
    hash: Hash,
    bytes: Vec<u8>,
    action: Option<ActionRecord>,
    reply: Reply,
}

/// Checks each waiting entry, commits those that pass in one append, and
/// answers every waiter.
async fn commit_batch(
    node: &Arc<Node>,
    feed: &FeedId,
    slot: &mut crate::state::FeedSlot,
    batch: Vec<Pending>,
) {
    let tree = match node.tree(slot, feed).await {
        Ok(t) => t,
        Err(e) => {
            for p in batch {
                let _ = p.reply.send(Err(AppendError::Store(shared(&e))));
            }
            return;
        }
    };
    let mut ready: Vec<Ready> = Vec::with_capacity(batch.len());
    for p in batch {
        let seq = tree.size() + ready.len() as u64;
        match check_one(node, feed, seq, p.kind, p.body, p.refs).await {
            Ok((entry, hash, bytes)) => ready.push(Ready {
                entry,
                hash,
                bytes,
                action: p.action,
                reply: p.reply,
            }),
            Err(e) => {
                let _ = p.reply.send(Err(e));
            }
        }
    }
    if ready.is_empty() {
        return;
    }
    let hashes: Vec<Hash> = ready.iter().map(|r| r.hash).collect();
    let mut tiles = TileBuffer::default();
    let mut next = tree.clone();
    next.append(&hashes, &mut tiles)
        .expect("buffer writes cannot fail");
    let append_checkpoint = node
        .keys
        .sign_checkpoint(
            feed,
            &Checkpoint::new(&feed.origin(), next.size(), next.root()),
        )
        .to_string();
    let append = Append {
        feed: feed.clone(),
        old_size: tree.size(),
        entries: ready
            .iter()
            .map(|r| NewEntry {
                seq: r.entry.seq,
                hash: r.hash,
                kind: r.entry.kind.clone(),
                time: r.entry.time.unix(),
                refs: r.entry.refs.clone(),
                bytes: r.bytes.clone(),
            })
            .collect(),
        tiles: tiles.0,
        head: FeedHead {
            size: next.size(),
            root: next.root(),
        },
        checkpoint: append_checkpoint.clone(),
        cosignature: None,
        received_at: ready[0].entry.time.unix(),
        actions: ready
            .iter_mut()
            .filter_map(|r| {
                r.action.take().map(|a| ActionRecord {
                    entry: Some(r.entry.id()),
                    target: feed.channel.clone(),
                    outcome: "ok".into(),
                    ..a
                })
            })
            .collect(),
    };
    // Until the commit is known to have landed, the cached tree is unknown.
    slot.tree = None;
    if let Err(e) = node.db(move |s| s.append(&append)).await {
        for r in ready {
            let _ = r.reply.send(Err(AppendError::Store(shared(&e))));
        }
        return;
    }
    let kept: Vec<(Hash, &[u8])> = ready.iter().map(|r| (r.hash, r.bytes.as_slice())).collect();
    node.keep_recent_append(feed, tree.frontier(), &kept, &append_checkpoint);
    slot.tree = Some(next);
    for r in &ready {
        node.apply_to_channels(&r.entry, r.hash);
        node.emit(Event::Entry {
            id: r.entry.id(),
            channel: feed.channel.clone(),
            author: node.party.clone(),
            kind: r.entry.kind.clone(),
        });
    }
    if let Some(c) = node.channel(&feed.channel) {
        node.wake_channel(&c);
    }
    tracing::info!(
        feed = %feed.origin(),
        entries = ready.len(),
        size = next_size(&ready),
        "appended"
    );
    for r in ready {
        let _ = r.reply.send(Ok(Appended {
            id: r.entry.id(),
            seq: r.entry.seq,
            hash: r.hash,
            time: r.entry.time,
        }));
    }
}

fn next_size(ready: &[Ready]) -> u64 {
    ready.last().map_or(0, |r| r.entry.seq + 1)
}

/// Makes entry `seq` of this node's feed and checks it against the
/// channel's state and rules and what it references.
async fn check_one(
    node: &Arc<Node>,
    feed: &FeedId,
    seq: u64,
    kind: String,
    body: Value,
    refs: Vec<Hash>,
) -> Result<(Entry, Hash, Vec<u8>), AppendError> {
    let channel = feed.channel.as_str();
    let state = if kind == "channel_charter" {
        if node.channel(channel).is_some() || seq > 0 {
            return Err(AppendError::ChannelExists(channel.into()));
        }
        None
    } else {
        let s = node
            .channel(channel)
            .ok_or_else(|| AppendError::UnknownChannel(channel.into()))?;
        s.may_append(&node.party, &kind)?;
        Some(s)
    };
    let entry = Entry {
        channel: channel.into(),
        author: node.party.clone(),
        seq,
        time: crate::clock::now(),
        kind,
        refs,
        salt: Entry::random_salt(),
        body,
    };
    let mut violations = parley_domain::validate(&entry, state.as_ref())
        .err()
        .unwrap_or_default();
    violations.extend(check_references(node, &entry).await?);
    if parley_domain::kinds::get(&entry.kind).is_some_and(|k| k.checks_history()) {
        // Quotas and who may answer what: judged on everything this node holds.
        let book = crate::ledger::current(node).await?;
        violations.extend(parley_domain::kinds::check_in_history(&entry, &book));
    }
    if !violations.is_empty() {
        return Err(AppendError::Invalid(violations));
    }
    let bytes = entry.encode()?;
    let hash = entry.leaf_hash()?;
    Ok((entry, hash, bytes))
}

/// A store failure told to each of several waiters: the same kind of
/// failure (so a full disk still reads as storage unavailable), the
/// driver's own error kept as text.
fn shared(e: &StoreError) -> StoreError {
    let text = || Box::new(std::io::Error::other(e.to_string()));
    match e {
        StoreError::Unavailable { reason, .. } => StoreError::Unavailable {
            reason,
            source: text(),
        },
        StoreError::Conflict {
            feed,
            expected,
            actual,
        } => StoreError::Conflict {
            feed: feed.clone(),
            expected: *expected,
            actual: *actual,
        },
        _ => StoreError::Backend(text()),
    }
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

fn internal(e: impl std::fmt::Display) -> IngestError {
    IngestError::new(Fault::Internal, e.to_string())
}

/// A store failure as the peer should see it: "cannot write now, retry"
/// when the disk is full or read-only, else an internal failure.
fn store_failed(e: StoreError) -> IngestError {
    match e.storage_unavailable() {
        Some(why) => {
            tracing::error!(error = %e, "cannot store a peer's update");
            IngestError::new(
                Fault::StorageUnavailable,
                format!("nothing was stored: {why}"),
            )
        }
        None => internal(e),
    }
}

/// Verifies a peer's feed update and, only if everything holds, stores it
/// and returns this node's receipt of the checkpoint.
///
/// This is the only code that produces a receipt: the receipt is signed
/// with the receipt key once the update is verified, is committed in the
/// same transaction as the entries, and is returned only after that
/// commit.
///
/// # Errors
/// An [`IngestError`] saying what is wrong; nothing is stored. A fork is
/// recorded as evidence before the error returns.
pub async fn ingest(node: &Arc<Node>, u: FeedUpdate) -> Result<Receipt, IngestError> {
    // Runs to completion even if the peer hangs up mid-request.
    let node = node.clone();
    tokio::spawn(async move { ingest_now(&node, u).await })
        .await
        .expect("ingesting does not panic")
}

/// Opens a checkpoint with one of the author's log keys (current or
/// retired), keeping only that signature.
fn open_checkpoint(
    peer: &crate::keyring::PeerInfo,
    feed: &FeedId,
    text: &str,
) -> Result<(Checkpoint, Note), IngestError> {
    let note = Note::parse(text.as_bytes())
        .map_err(|e| IngestError::new(Fault::Malformed, format!("checkpoint: {e}")))?;
    let mut refusal = None;
    for key in peer.feed_keys(feed).iter().rev() {
        match SignedCheckpoint::open_note(note.clone(), key, &[]) {
            Ok(signed) => {
                let mut log_note = signed.note;
                log_note.retain_signatures(|s| s.name == key.name() && s.key_id == key.id());
                return Ok((signed.checkpoint, log_note));
            }
            Err(
                CheckpointError::MissingLogSignature(_)
                | CheckpointError::Note(parley_log::note::NoteError::BadSignature { .. }),
            ) => {
                refusal = Some(IngestError::new(
                    Fault::BadSignature,
                    format!(
                        "the checkpoint is not signed by {}'s pinned log key",
                        feed.author
                    ),
                ));
            }
            Err(e) => {
                return Err(IngestError::new(
                    Fault::Malformed,
                    format!("checkpoint: {e}"),
                ));
            }
        }
    }
    Err(refusal.unwrap_or_else(|| internal("a pinned identity has a log key")))
}

async fn ingest_now(node: &Arc<Node>, u: FeedUpdate) -> Result<Receipt, IngestError> {
    let feed = u.feed.clone();
    for (what, v) in [("channel", &feed.channel), ("author", &feed.author)] {
        parley_log::entry::check_identifier(v)
            .map_err(|e| IngestError::new(Fault::Malformed, format!("{what}: {e}")))?;
    }
    if feed.author == node.party {
        return Err(IngestError::new(
            Fault::Malformed,
            "this node does not take updates of its own feed",
        ));
    }
    let peer = node.peer(&feed.author).ok_or_else(|| {
        IngestError::new(
            Fault::UnknownAuthor,
            format!("{:?} is not a pinned peer of {}", feed.author, node.party),
        )
    })?;
    let (cp, log_note) = open_checkpoint(&peer, &feed, &u.checkpoint)?;
    // Nothing is stored, and nothing receipted, for a feed that holds
    // nothing or a channel this node was never shown the charter of:
    // such pushes would only plant names and cosignatures.
    if cp.size == 0 {
        return Err(IngestError::new(
            Fault::Malformed,
            "a checkpoint of size 0 delivers nothing; nothing was stored",
        ));
    }
    if node.channel(&feed.channel).is_none() && u.old_size > 0 {
        return Err(IngestError::new(
            Fault::UnknownChannel,
            format!(
                "channel {} is not known here; its charter comes first",
                feed.channel
            ),
        ));
    }
    if cp.size != u.old_size + u.entries.len() as u64 {
        return Err(IngestError::new(
            Fault::BadSequence,
            format!(
                "{} entries from {} do not end at the checkpoint size {}",
                u.entries.len(),
                u.old_size,
                cp.size
            ),
        ));
    }

    let slot = node.feed_slot(&feed);
    let mut slot = slot.lock().await;
    let tree = node.tree(&mut slot, &feed).await.map_err(store_failed)?;
    let ours = tree.size();
    if cp.size <= ours {
        return known_checkpoint(node, &feed, &cp, &log_note, ours, &u).await;
    }
    if u.old_size != ours {
        let mut r = IngestError::new(
            Fault::SizeMismatch,
            format!("this node holds {ours} entries of {feed:?}; send from there"),
        );
        r.size = Some(ours);
        return Err(r);
    }
    if ours > 0
        && let Err(e) = verify_consistency(ours, cp.size, &tree.root(), &cp.root, &u.consistency)
    {
        let fork = Fork {
            feed: &feed,
            checkpoint: &cp,
            their_note: &log_note,
            ours,
            our_root: tree.root(),
            proof: &u.consistency,
            their_old_root: u.old_root,
        };
        return Err(conflicting_proof(node, fork, e).await);
    }

    let (entries, leaves) = decode_entries(node, &u, ours)?;
    let mut next = tree.clone();
    let mut tiles = TileBuffer::default();
    next.append(&leaves, &mut tiles)
        .expect("buffer writes cannot fail");
    if next.root() != cp.root {
        return Err(IngestError::new(
            Fault::RootMismatch,
            format!(
                "the entries hash to {}, not to the signed root {}",
                next.root(),
                cp.root
            ),
        ));
    }
    let now = crate::clock::now().unix();
    if let Some(refusal) = refuse_future_dated(node, &u, &entries, now).await {
        return Err(refusal);
    }
    let line = node.keys.receipt_signer().sign(&cp, now as u64).to_line();
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
            statement: Statement::Receipt,
            time: now,
            line: line.clone(),
        }),
        received_at: now,
        actions: vec![],
    };
    slot.tree = None;
    node.db(move |s| s.append(&append))
        .await
        .map_err(|e| match e {
            StoreError::Conflict { actual, .. } => {
                let mut r =
                    IngestError::new(Fault::SizeMismatch, "another update was stored first");
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
        node.wake_external_witnesses(&c);
    }
    tracing::info!(feed = %feed.origin(), from = ours, to = cp.size, "stored update and receipted");
    Ok(Receipt {
        size: cp.size,
        cosignature: line,
    })
}

/// Refuses an update holding an entry dated further ahead of this node's
/// clock than the allowed skew, and keeps the signed update as evidence:
/// a time from the future would otherwise order events wrongly for good
/// (a suspension dated 2099 outlasting every resumption).
async fn refuse_future_dated(
    node: &Arc<Node>,
    u: &FeedUpdate,
    entries: &[(Entry, Vec<u8>)],
    now: i64,
) -> Option<IngestError> {
    let skew = node.dir.config.federation.clock_skew();
    let (e, bytes) = entries
        .iter()
        .find(|(e, _)| e.time.unix() > now.saturating_add(skew))?;
    let ahead = e.time.unix() - now;
    let summary = format!(
        "{} dated {} ({ahead} s ahead of {}'s clock; at most {skew} s allowed)",
        e.id(),
        e.time,
        node.party
    );
    let evidence = serde_json::json!({
        "format": "parley-future-dated/v1",
        "origin": u.feed.origin(),
        "entry": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes),
        "entry_time": e.time.to_string(),
        "received_at": Timestamp::from_unix(now).map(|t| t.to_string()),
        "receiver": node.party,
        "allowed_skew_secs": skew,
        "checkpoint": u.checkpoint,
        "old_size": u.old_size,
        "entries": u.entries.iter().map(|b| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b)).collect::<Vec<_>>(),
        "consistency": u.consistency.iter().map(|h| h.to_base64()).collect::<Vec<_>>(),
    });
    let rec = EvidenceRecord {
        id: 0,
        kind: parley_store::EvidenceKind::FutureDated,
        origin: u.feed.origin(),
        party: u.feed.author.clone(),
        detected_at: now,
        detected_by: node.party.clone(),
        summary: summary.clone(),
        evidence: serde_json::to_string_pretty(&evidence).unwrap_or_default(),
        proven: false,
    };
    match node.db(move |s| s.add_evidence(&rec)).await {
        Ok(id) => {
            tracing::error!(party = %u.feed.author, evidence = id, "FUTURE-DATED ENTRY refused: {summary}");
            node.emit(Event::Evidence {
                id,
                party: u.feed.author.clone(),
            });
        }
        Err(err) => {
            tracing::error!(error = %err, "could not store the evidence of a future-dated entry")
        }
    }
    Some(IngestError::new(
        Fault::FromTheFuture,
        format!(
            "entry {} is dated {}, {ahead} s ahead of this node's clock; at most {skew} s is \
             allowed (check the sending node's clock). Nothing was stored; the attempt was kept as evidence.",
            e.id(),
            e.time
        ),
    ))
}

/// Refuses a cosignature dated further ahead of this node's clock than
/// the allowed skew: "as of T the feed was size N" must not be claimed for
/// a T still to come (a proof of silence would rest on it).
fn not_from_the_future(cosigner: &str, time: i64, skew: i64) -> Result<(), IngestError> {
    let now = crate::clock::now().unix();
    if time > now.saturating_add(skew) {
        return Err(IngestError::new(
            Fault::FromTheFuture,
            format!(
                "{cosigner}'s cosignature is dated {time}, {} s ahead of this node's clock; \
                 at most {skew} s is allowed",
                time - now
            ),
        ));
    }
    Ok(())
}

/// An update's decoded entries with their bytes, and their leaf hashes.
type Decoded = (Vec<(Entry, Vec<u8>)>, Vec<Hash>);

/// Decodes and checks every entry of an update against its feed and
/// channel; each entry's leaf hash comes from the decoding, hashed once.
fn decode_entries(node: &Node, u: &FeedUpdate, first_seq: u64) -> Result<Decoded, IngestError> {
    let mut state: Option<ChannelState> = node.channel(&u.feed.channel);
    let mut out = Vec::with_capacity(u.entries.len());
    let mut leaves = Vec::with_capacity(u.entries.len());
    for (i, bytes) in u.entries.iter().enumerate() {
        let seq = first_seq + i as u64;
        let (e, leaf) = Entry::decode_with_leaf(bytes).map_err(|err| {
            IngestError::new(
                Fault::NonCanonical,
                format!("entry {seq} is not a canonical entry: {err}"),
            )
        })?;
        if e.channel != u.feed.channel || e.author != u.feed.author {
            return Err(IngestError::new(
                Fault::Malformed,
                format!(
                    "entry {seq} belongs to {}/{}, not to this feed",
                    e.channel, e.author
                ),
            ));
        }
        if e.seq != seq {
            return Err(IngestError::new(
                Fault::BadSequence,
                format!("entry at position {seq} carries sequence number {}", e.seq),
            ));
        }
        if e.kind == "channel_charter" && state.is_none() {
            let charter: parley_domain::Charter = parley_domain::kinds::parse_body(&e.body)
                .map_err(|v| {
                    let mut r = IngestError::new(
                        Fault::InvalidEntry,
                        format!("entry {seq}: invalid charter"),
                    );
                    r.violations = vec![v];
                    r
                })?;
            if !charter.members.contains(&node.party) {
                return Err(IngestError::new(
                    Fault::NotMember,
                    format!("{} is not a member of channel {}", node.party, e.channel),
                ));
            }
            state = Some(ChannelState::from_charter(&e, charter, leaf));
        }
        let Some(s) = state.as_mut() else {
            return Err(IngestError::new(
                Fault::UnknownChannel,
                format!(
                    "channel {} is not known here yet; its charter comes first",
                    u.feed.channel
                ),
            ));
        };
        if !s.is_member(&e.author) {
            return Err(IngestError::new(
                Fault::NotMember,
                format!("{} is not a member of channel {}", e.author, e.channel),
            ));
        }
        if let Err(violations) = parley_domain::validate(&e, Some(s)) {
            let mut r = IngestError::new(
                Fault::InvalidEntry,
                format!("entry {} breaks its kind's rules", e.id()),
            );
            r.violations = violations;
            return Err(r);
        }
        s.apply(&e);
        out.push((e, bytes.clone()));
        leaves.push(leaf);
    }
    Ok((out, leaves))
}

/// A push of entries this node already holds (a retry after a lost answer,
/// or a replay) is answered only if it carries exactly those entries.
async fn same_entries_as_held(
    node: &Arc<Node>,
    feed: &FeedId,
    u: &FeedUpdate,
) -> Result<(), IngestError> {
    if u.entries.is_empty() {
        return Ok(());
    }
    let (f, from, n) = (feed.clone(), u.old_size, u.entries.len() as u64);
    let held = node
        .db(move |s| s.entries(&f, from, n))
        .await
        .map_err(store_failed)?;
    for (i, bytes) in u.entries.iter().enumerate() {
        let seq = u.old_size + i as u64;
        let same = held.get(i).is_some_and(|h| {
            h.seq == seq && parley_log::entry::leaf_of(bytes).ok() == Some(h.hash)
        });
        if !same {
            return Err(IngestError::new(
                Fault::RootMismatch,
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
) -> Result<Receipt, IngestError> {
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
        return receipt_for_held(node, feed, cp, their_note).await;
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
    Err(IngestError::new(Fault::Equivocation, summary))
}

/// The receipt for a size this node already holds with the same root: the
/// one given before, or a new one stored with the checkpoint it signs.
async fn receipt_for_held(
    node: &Arc<Node>,
    feed: &FeedId,
    cp: &Checkpoint,
    their_note: &Note,
) -> Result<Receipt, IngestError> {
    let (f, size, party) = (feed.clone(), cp.size, node.party.clone());
    let existing = node
        .db(move |s| {
            Ok(s.cosignatures(&f, size)?.into_iter().find(|c| {
                c.size == size && c.cosigner == party && c.statement == Statement::Receipt
            }))
        })
        .await
        .map_err(store_failed)?;
    if let Some(c) = existing {
        return Ok(Receipt {
            size,
            cosignature: c.line,
        });
    }
    let now = crate::clock::now().unix();
    let line = node.keys.receipt_signer().sign(cp, now as u64).to_line();
    let c = Cosignature {
        feed: feed.clone(),
        size,
        cosigner: node.party.clone(),
        statement: Statement::Receipt,
        time: now,
        line: line.clone(),
    };
    let note = their_note.to_string();
    node.db(move |s| s.add_cosigned_checkpoint(&note, &c))
        .await
        .map_err(store_failed)?;
    Ok(Receipt {
        size,
        cosignature: line,
    })
}

/// A checkpoint whose consistency proof from this node's size fails.
struct Fork<'a> {
    feed: &'a FeedId,
    checkpoint: &'a Checkpoint,
    their_note: &'a Note,
    ours: u64,
    our_root: Hash,
    proof: &'a [Hash],
    their_old_root: Option<Hash>,
}

impl Fork<'_> {
    /// The root the author's tree had at this node's size, when the proof
    /// shows it: the proof itself names it (any size that is not a power
    /// of two), or the root the sender states binds to the signed root
    /// through the proof (a power of two, where the proof cannot name it).
    fn their_prefix(&self) -> Option<Hash> {
        let cp = self.checkpoint;
        if let Ok((prefix, new)) = consistency_roots(self.ours, cp.size, &self.our_root, self.proof)
            && new == cp.root
            && prefix != self.our_root
        {
            return Some(prefix);
        }
        self.their_old_root.filter(|r| {
            *r != self.our_root
                && verify_consistency(self.ours, cp.size, r, &cp.root, self.proof).is_ok()
        })
    }
}

/// A consistency proof that does not verify: proven evidence of a fork
/// when the proof shows the other prefix, otherwise an unproven conflict
/// kept for the operator (a signed checkpoint that this node cannot
/// reconcile with the history it holds).
async fn conflicting_proof(
    node: &Arc<Node>,
    fork: Fork<'_>,
    err: parley_log::merkle::VerifyError,
) -> IngestError {
    let (feed, cp, ours) = (fork.feed, fork.checkpoint, fork.ours);
    let f = feed.clone();
    let our_note = node
        .db(move |s| s.checkpoint(&f, ours))
        .await
        .ok()
        .flatten();
    let Some(our_note) = our_note else {
        return internal("no checkpoint stored for a held size");
    };
    if let Some(prefix) = fork.their_prefix() {
        let evidence = Equivocation {
            first: our_note,
            second: fork.their_note.to_string(),
            prefix: Some((prefix, fork.proof.to_vec())),
        };
        let summary = format!(
            "{} signed size {} whose first {} entries differ from the {} this node holds",
            feed.author, cp.size, ours, ours
        );
        record_evidence(node, feed, &evidence, true, summary.clone()).await;
        return IngestError::new(Fault::Equivocation, summary);
    }
    let summary = format!(
        "{} signed size {} but its consistency proof from the {} entries this node holds does not verify ({err}); unproven: the proof does not show the other history",
        feed.author, cp.size, ours
    );
    let evidence = Equivocation {
        first: our_note,
        second: fork.their_note.to_string(),
        prefix: None,
    };
    record_evidence(node, feed, &evidence, false, summary).await;
    IngestError::new(
        Fault::BadConsistencyProof,
        format!(
            "the consistency proof from {ours} to {} does not verify: {err}",
            cp.size
        ),
    )
}

/// Stores evidence of a fork, logs it and raises the alarm. Proven
/// evidence is checked against the author's log keys first.
pub async fn record_evidence(
    node: &Arc<Node>,
    feed: &FeedId,
    ev: &Equivocation,
    proven: bool,
    summary: String,
) {
    if proven {
        let keys = node
            .keys
            .identity_of(&feed.author)
            .map(|i| i.all(Role::Log).cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        if !keys.iter().any(|k| ev.verify(k).is_ok()) {
            tracing::error!("built evidence does not verify; not recording it");
            return;
        }
    }
    let rec = EvidenceRecord {
        id: 0,
        kind: parley_store::EvidenceKind::Equivocation,
        origin: feed.origin(),
        party: feed.author.clone(),
        detected_at: crate::clock::now().unix(),
        detected_by: node.party.clone(),
        summary: summary.clone(),
        evidence: ev.to_json(),
        proven,
    };
    match node.db(move |s| s.add_evidence(&rec)).await {
        Ok(id) => {
            tracing::error!(party = %feed.author, origin = %feed.origin(), evidence = id, proven, "EQUIVOCATION: {summary}");
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
///
/// # Errors
/// The store fails, or lacks entries or a checkpoint it should hold.
pub async fn build_update(
    node: &Arc<Node>,
    feed: &FeedId,
    from: u64,
    max: u64,
) -> Result<Option<FeedUpdate>, StoreError> {
    // Usually what is to be pushed was committed moments ago: built from
    // memory, without a trip to the store.
    if let Some(u) = node.recent_update(feed, from, max) {
        return Ok(Some(FeedUpdate {
            feed: feed.clone(),
            old_size: from,
            old_root: u.old_root,
            entries: u.entries,
            checkpoint: u.checkpoint,
            consistency: u.consistency,
        }));
    }
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
        let (old_root, proof) = if from > 0 {
            let tiles = FeedTiles { store: s, feed: &f };
            let mut nodes = TileNodes::new(&tiles);
            (
                Some(root(&mut nodes, from).map_err(|e| StoreError::Corrupt(e.to_string()))?),
                consistency_proof(&mut nodes, from, size)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )
        } else {
            (None, vec![])
        };
        Ok(Some(FeedUpdate {
            feed: f.clone(),
            old_size: from,
            old_root,
            entries: entries.into_iter().map(|e| e.bytes).collect(),
            checkpoint: note,
            consistency: proof,
        }))
    })
    .await
}

/// Checks and stores a cosignature on this node's checkpoint of `feed` at
/// `size`: a member's receipt (`DeliveryRole::Push`, under its receipt
/// key) or a witness's cosignature (`DeliveryRole::Witness`, under its
/// witness key). A witness cosignature is never taken as a receipt: the
/// keys differ, and each is checked against the role it claims.
///
/// # Errors
/// The cosigner is not pinned, not a member (or witness) of the channel,
/// the line is not by its key for that role, or does not verify.
pub async fn accept_cosignature(
    node: &Arc<Node>,
    feed: &FeedId,
    size: u64,
    cosigner: &str,
    line: &str,
    role: DeliveryRole,
) -> Result<i64, IngestError> {
    let peer = node.peer(cosigner).ok_or_else(|| {
        IngestError::new(
            Fault::UnknownAuthor,
            format!("{cosigner:?} is not a pinned peer"),
        )
    })?;
    let channel = node.channel(&feed.channel).ok_or_else(|| {
        IngestError::new(
            Fault::UnknownChannel,
            format!("channel {} is not known here", feed.channel),
        )
    })?;
    let (key_role, statement, allowed) = match role {
        DeliveryRole::Push => (
            Role::Receipt,
            Statement::Receipt,
            channel.is_member(cosigner) && cosigner != feed.author,
        ),
        DeliveryRole::Witness => (
            Role::Witness,
            Statement::Witness,
            channel.is_witness(cosigner),
        ),
        DeliveryRole::Shared => {
            return Err(internal("shared cosignatures go through accept_shared"));
        }
    };
    if !allowed {
        return Err(IngestError::new(
            Fault::NotMember,
            format!(
                "{cosigner} cannot give a {} for {}: it is not a {} of channel {}",
                statement.as_str(),
                feed.origin(),
                if role == DeliveryRole::Push {
                    "member"
                } else {
                    "witness"
                },
                feed.channel
            ),
        ));
    }
    let sig = NoteSignature::parse_line(line)
        .map_err(|e| IngestError::new(Fault::Malformed, format!("cosignature: {e}")))?;
    let keys = peer.keys(key_role);
    if !keys
        .iter()
        .any(|k| sig.name == k.name() && sig.key_id == k.id())
    {
        return Err(IngestError::new(
            Fault::BadSignature,
            format!(
                "the cosignature is not by {cosigner}'s pinned {key_role} key ({})",
                peer.key(key_role).name()
            ),
        ));
    }
    store_cosignature(node, feed, size, cosigner, &keys, &sig, statement, role).await
}

/// Checks and stores an external C2SP witness's cosignature on this
/// node's checkpoint of `feed` at `size`, under the key the channel's
/// charter names. It is a witness cosignature, never a receipt.
///
/// # Errors
/// The line is not by that key, or does not verify.
pub async fn accept_external_cosignature(
    node: &Arc<Node>,
    feed: &FeedId,
    size: u64,
    name: &str,
    keys: &[parley_log::VerifierKey],
    sig: &NoteSignature,
) -> Result<i64, IngestError> {
    let named = node.channel(&feed.channel).is_some_and(|c| {
        c.charter
            .external_witnesses
            .iter()
            .any(|w| w.key().is_ok_and(|k| keys.contains(&k)))
    });
    if !named {
        return Err(IngestError::new(
            Fault::NotMember,
            format!("{name} is not a witness of channel {}", feed.channel),
        ));
    }
    store_cosignature(
        node,
        feed,
        size,
        name,
        keys,
        sig,
        Statement::Witness,
        DeliveryRole::Witness,
    )
    .await
}

/// Verifies a cosignature line against the checkpoint stored at `size` and
/// one of `keys`, then stores it with the delivery progress it proves.
#[allow(clippy::too_many_arguments)]
async fn store_cosignature(
    node: &Arc<Node>,
    feed: &FeedId,
    size: u64,
    cosigner: &str,
    keys: &[parley_log::VerifierKey],
    sig: &NoteSignature,
    statement: Statement,
    role: DeliveryRole,
) -> Result<i64, IngestError> {
    let key = keys
        .iter()
        .find(|k| sig.name == k.name() && sig.key_id == k.id())
        .ok_or_else(|| IngestError::new(Fault::BadSignature, "not signed by the expected key"))?;
    // One trip to the store: read the checkpoint, verify the cosignature
    // on it, store it (every step before the write is quick, and each hop
    // to the store's thread costs two wake-ups).
    let (f, key, sig, who) = (feed.clone(), key.clone(), sig.clone(), cosigner.to_string());
    let skew = node.dir.config.federation.clock_skew();
    let (time, fresh) = node
        .db(move |s| {
            let Some(note) = s.checkpoint(&f, size)? else {
                return Ok(Err(IngestError::new(
                    Fault::Malformed,
                    format!("no checkpoint of size {size} here"),
                )));
            };
            let time = match cosignature_time(&note, &key, &sig, &who, skew) {
                Ok(t) => t,
                Err(e) => return Ok(Err(e)),
            };
            let c = Cosignature {
                feed: f,
                size,
                cosigner: who,
                statement,
                time,
                line: sig.to_line(),
            };
            Ok(Ok((time, s.add_receipt(&c, role)?)))
        })
        .await
        .map_err(store_failed)??;
    if fresh {
        node.cosignature_stored(feed);
        node.emit(Event::Receipt {
            feed: feed.clone(),
            size,
            cosigner: cosigner.to_string(),
        });
        // The other members get it next (shared cosignatures).
        if feed.author == node.party
            && let Some(c) = node.channel(&feed.channel)
        {
            for m in c
                .charter
                .members
                .iter()
                .filter(|m| **m != node.party && *m != cosigner)
            {
                node.wake(m);
            }
        }
    }
    Ok(time)
}

/// The time a cosignature on the checkpoint `note` states, once it is
/// verified under `key` and found no later than this node's clock allows.
fn cosignature_time(
    note: &str,
    key: &parley_log::VerifierKey,
    sig: &NoteSignature,
    cosigner: &str,
    skew: i64,
) -> Result<i64, IngestError> {
    let text = Note::parse(note.as_bytes())
        .map_err(internal)?
        .text()
        .to_string();
    let time = verify_one(key, &text, sig)
        .map_err(|e| IngestError::new(Fault::BadSignature, e.to_string()))?
        .ok_or_else(|| IngestError::new(Fault::BadSignature, "not a cosignature/v1 signature"))?
        as i64;
    not_from_the_future(cosigner, time, skew)?;
    Ok(time)
}

/// A cosignature another member's node collected on its own feed and
/// shares, so that every member holds every receipt and reaches the same
/// delivery times and verdicts.
#[derive(Clone, Debug)]
pub struct SharedCosignature {
    pub size: u64,
    pub cosigner: String,
    pub statement: Statement,
    pub line: String,
}

/// Checks and stores cosignatures shared by the author of `feed`: each
/// verified under its cosigner's key for its statement, against the
/// checkpoint this node holds. Returns how many were new.
///
/// # Errors
/// The feed is this node's own or unknown, a cosigner may not make that
/// statement in the channel, a line does not verify, or a checkpoint is
/// not held here. Nothing of the batch is stored then.
pub async fn accept_shared(
    node: &Arc<Node>,
    feed: &FeedId,
    shared: Vec<SharedCosignature>,
) -> Result<usize, IngestError> {
    if feed.author == node.party {
        return Err(IngestError::new(
            Fault::Malformed,
            "this node holds every cosignature on its own feeds",
        ));
    }
    let channel = node.channel(&feed.channel).ok_or_else(|| {
        IngestError::new(
            Fault::UnknownChannel,
            format!("channel {} is not known here", feed.channel),
        )
    })?;
    // Each line's signer and key are found in order; the checkpoints they
    // sign are read in one trip to the store; the signatures are verified
    // on every core. The first failure in the batch's order is the one
    // reported, as if each had been checked in turn.
    let mut resolved = Vec::with_capacity(shared.len());
    let mut stopped = None;
    for c in shared {
        match shared_key(node, &channel, feed, &c) {
            Ok((sig, key)) => resolved.push((c, sig, key)),
            Err(e) => {
                stopped = Some(e);
                break;
            }
        }
    }
    // Several lines (a receipt, a witness's) often sign one checkpoint:
    // each is read once.
    let (f, sizes) = (
        feed.clone(),
        resolved
            .iter()
            .map(|(c, ..)| c.size)
            .collect::<std::collections::BTreeSet<_>>(),
    );
    let held = node
        .db(move |s| {
            sizes
                .into_iter()
                .map(|size| Ok((size, s.checkpoint(&f, size)?)))
                .collect::<Result<std::collections::HashMap<_, _>, StoreError>>()
        })
        .await
        .map_err(store_failed)?;
    let skew = node.dir.config.federation.clock_skew();
    let work_len = resolved.len();
    let work: Vec<_> = resolved
        .into_iter()
        .map(|r| {
            let note = held.get(&r.0.size).cloned().flatten();
            (r, note)
        })
        .collect();
    let verify = move || {
        let times = crate::parallel::map(&work, |_, ((c, sig, key), note)| {
            // A checkpoint this node never received (it got a later one in
            // one batch) cannot carry the cosignature here: skipped.
            note.as_ref()
                .map(|note| cosignature_time(note, key, sig, &c.cosigner, skew))
        });
        (work, times)
    };
    // A few lines are verified here; more, off the async workers and on
    // every core.
    let verified = if crate::parallel::worth_spreading(work_len) {
        tokio::task::spawn_blocking(verify)
            .await
            .expect("verification does not panic")
    } else {
        verify()
    };
    let mut checked = Vec::with_capacity(verified.0.len());
    for (((c, sig, _), _), time) in verified.0.into_iter().zip(verified.1) {
        let Some(time) = time.transpose()? else {
            continue;
        };
        checked.push(Cosignature {
            feed: feed.clone(),
            size: c.size,
            cosigner: c.cosigner,
            statement: c.statement,
            time,
            line: sig.to_line(),
        });
    }
    if let Some(e) = stopped {
        return Err(e);
    }
    let n = checked.len();
    let fresh = node
        .db(move |s| {
            let mut fresh = 0;
            for c in &checked {
                fresh += usize::from(s.add_cosignature(c)?);
            }
            Ok(fresh)
        })
        .await
        .map_err(store_failed)?;
    if fresh > 0 {
        node.emit(Event::Receipt {
            feed: feed.clone(),
            size: 0,
            cosigner: String::new(),
        });
    }
    tracing::debug!(feed = %feed.origin(), n, fresh, "shared cosignatures stored");
    Ok(fresh)
}

/// Parses a shared cosignature line and finds the key its cosigner must
/// have made it with, for the statement it claims in this channel.
fn shared_key(
    node: &Node,
    channel: &ChannelState,
    feed: &FeedId,
    c: &SharedCosignature,
) -> Result<(NoteSignature, parley_log::VerifierKey), IngestError> {
    let sig = NoteSignature::parse_line(&c.line)
        .map_err(|e| IngestError::new(Fault::Malformed, format!("cosignature: {e}")))?;
    let keys: Vec<parley_log::VerifierKey> = match c.statement {
        Statement::Receipt if channel.is_member(&c.cosigner) && c.cosigner != feed.author => node
            .keys
            .identity_of(&c.cosigner)
            .map(|i| i.all(Role::Receipt).cloned().collect())
            .unwrap_or_default(),
        Statement::Witness if channel.is_witness(&c.cosigner) => node
            .peer(&c.cosigner)
            .map(|p| p.keys(Role::Witness))
            .unwrap_or_default(),
        Statement::Witness => channel
            .charter
            .external_witnesses
            .iter()
            .filter_map(|w| w.key().ok())
            .filter(|k| k.name() == c.cosigner)
            .collect(),
        Statement::Receipt => vec![],
    };
    let key = keys
        .into_iter()
        .find(|k| sig.name == k.name() && sig.key_id == k.id())
        .ok_or_else(|| {
            IngestError::new(
                Fault::BadSignature,
                format!(
                    "{} may not make a {} on {} with this key",
                    c.cosigner,
                    c.statement.as_str(),
                    feed.origin()
                ),
            )
        })?;
    Ok((sig, key))
}

/// Re-affirms this node's receipt of each peer feed it holds whose latest
/// receipt here is older than `witness_refresh_secs`: a fresh receipt of
/// the same, already verified and stored, checkpoint ("as of T I still
/// hold this feed up to size N"), which proofs of silence can rest on in
/// a channel without a witness. Returns how many were refreshed.
///
/// # Errors
/// The store fails.
pub async fn refresh_receipts(node: &Arc<Node>) -> Result<usize, StoreError> {
    let every = node.dir.config.federation.witness_refresh_secs as i64;
    let me = node.party.clone();
    let due = node
        .db(move |s| {
            let now = crate::clock::now().unix();
            let mut due = Vec::new();
            for (feed, head) in s.feeds()? {
                if feed.author == me || head.size == 0 {
                    continue;
                }
                let latest = s
                    .cosignatures(&feed, head.size)?
                    .into_iter()
                    .filter(|c| {
                        c.size == head.size && c.cosigner == me && c.statement == Statement::Receipt
                    })
                    .map(|c| c.time)
                    .max();
                if latest.is_some_and(|t| now - t >= every)
                    && let Some(note) = s.checkpoint(&feed, head.size)?
                {
                    due.push((feed, head.size, note));
                }
            }
            Ok(due)
        })
        .await?;
    let mut n = 0;
    for (feed, size, note) in due {
        let Ok(parsed) = Note::parse(note.as_bytes()) else {
            continue;
        };
        let Ok(cp) = Checkpoint::parse(parsed.text()) else {
            continue;
        };
        let now = crate::clock::now().unix();
        let c = Cosignature {
            feed: feed.clone(),
            size,
            cosigner: node.party.clone(),
            statement: Statement::Receipt,
            time: now,
            line: node.keys.receipt_signer().sign(&cp, now as u64).to_line(),
        };
        node.db(move |s| s.add_cosigned_checkpoint(&note, &c))
            .await?;
        n += 1;
    }
    Ok(n)
}
