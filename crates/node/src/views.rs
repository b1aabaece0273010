//! What users look at, derived from the feeds: delivery state per
//! recipient, references both ways, proof bundles.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use parley_log::merkle::inclusion_proof;
use parley_log::tiles::TileNodes;
use parley_log::{Entry, Hash, Note, NoteSignature, make_bundle};
use parley_store::{Cosignature, FeedId, FeedTiles, Statement, StoreError, StoredEntry};
use serde::Serialize;

use crate::state::Node;

/// Where an entry stands with one recipient.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub party: String,
    /// Proven delivery: the earliest time in the recipient's own signed
    /// receipt (cosignature) covering the entry. `None`: not yet, or not
    /// visible from this node.
    pub delivered_at: Option<i64>,
    /// The checkpoint size that receipt is for.
    pub receipt_size: Option<u64>,
    /// The receipt itself: the recipient's cosignature/v1 line under its
    /// receipt key, on the author's checkpoint at `receipt_size`.
    pub receipt: Option<String>,
    /// Whether this node can see the recipient's receipts (it sees receipts
    /// for its own feeds, and its own receipts for others').
    pub visible: bool,
    pub acknowledged: Option<RefBy>,
    /// The recipient's entries that answer this one, by the one rule of
    /// what answers what (`obligations::answering_kinds`).
    pub answered: Vec<RefBy>,
    /// The recipient's other entries that reference this one without
    /// answering it (e.g. a free reply to an invitation).
    pub referenced: Vec<RefBy>,
}

/// An entry that references another.
#[derive(Clone, Debug, Serialize)]
pub struct RefBy {
    pub id: String,
    pub kind: String,
    pub author: String,
    pub time: i64,
    pub hash: String,
}

impl RefBy {
    pub fn of(e: &StoredEntry) -> RefBy {
        RefBy {
            id: e.id(),
            kind: e.kind.clone(),
            author: e.author.clone(),
            time: e.time,
            hash: e.hash.to_hex(),
        }
    }
}

/// The earliest receipt by each member covering entry `seq`. Witness
/// cosignatures are not receipts and are left out.
pub fn earliest_receipts(cosigs: &[Cosignature], seq: u64) -> BTreeMap<String, &Cosignature> {
    earliest(cosigs, seq, Statement::Receipt)
}

/// The earliest cosignature making `statement`, by each cosigner, covering
/// entry `seq`.
pub fn earliest(
    cosigs: &[Cosignature],
    seq: u64,
    statement: Statement,
) -> BTreeMap<String, &Cosignature> {
    let mut out: BTreeMap<String, &Cosignature> = BTreeMap::new();
    for c in cosigs
        .iter()
        .filter(|c| c.size > seq && c.statement == statement)
    {
        let e = out.entry(c.cosigner.clone()).or_insert(c);
        if c.time < e.time {
            *e = c;
        }
    }
    out
}

/// The earliest witness cosignature by each witness covering an entry: the
/// witness saw this history then. It is not a receipt.
pub async fn witnessed(node: &Arc<Node>, e: &StoredEntry) -> Result<Vec<Cosignature>, StoreError> {
    let (feed, seq) = (e.feed(), e.seq);
    let cosigs = node.db(move |s| s.cosignatures(&feed, seq + 1)).await?;
    Ok(earliest(&cosigs, seq, Statement::Witness)
        .into_values()
        .cloned()
        .collect())
}

/// Delivery state of an entry for every other member of its channel.
pub async fn delivery(node: &Arc<Node>, e: &StoredEntry) -> Result<Vec<Delivery>, StoreError> {
    let (feed, seq, hash) = (e.feed(), e.seq, e.hash);
    let (cosigs, refs) = node
        .db(move |s| Ok((s.cosignatures(&feed, seq + 1)?, s.referencing(&hash)?)))
        .await?;
    let receipts = earliest_receipts(&cosigs, e.seq);
    let answers = parley_domain::obligations::answering_kinds(&e.kind);
    let members = node
        .channel(&e.channel)
        .map(|c| c.charter.members)
        .unwrap_or_default();
    Ok(members
        .into_iter()
        .filter(|m| *m != e.author)
        .map(|m| {
            let visible = e.author == node.party || m == node.party;
            let r = receipts.get(&m);
            let by: Vec<&StoredEntry> = refs.iter().filter(|x| x.author == m).collect();
            Delivery {
                delivered_at: r.map(|r| r.time),
                receipt_size: r.map(|r| r.size),
                receipt: r.map(|r| r.line.clone()),
                visible,
                acknowledged: by
                    .iter()
                    .find(|x| x.kind == "acknowledgement")
                    .map(|x| RefBy::of(x)),
                answered: by
                    .iter()
                    .filter(|x| x.kind != "acknowledgement" && answers.contains(&x.kind.as_str()))
                    .map(|x| RefBy::of(x))
                    .collect(),
                referenced: by
                    .iter()
                    .filter(|x| x.kind != "acknowledgement" && !answers.contains(&x.kind.as_str()))
                    .map(|x| RefBy::of(x))
                    .collect(),
                party: m,
            }
        })
        .collect())
}

/// Resolves an entry given as `channel/author/seq` or as a hex leaf hash.
pub async fn find_entry(node: &Arc<Node>, id: &str) -> Result<Option<StoredEntry>, StoreError> {
    if let Ok(h) = Hash::from_hex(id) {
        return node.db(move |s| s.entry_by_hash(&h)).await;
    }
    let parts: Vec<&str> = id.split('/').collect();
    let [channel, author, seq] = parts[..] else {
        return Ok(None);
    };
    let Ok(seq) = seq.parse::<u64>() else {
        return Ok(None);
    };
    let feed = FeedId::new(channel, author);
    node.db(move |s| s.entry(&feed, seq)).await
}

/// The checkpoint to prove an entry against: the one carrying receipts from
/// the most members, then the most witnesses (the earliest such), else the
/// feed's latest.
fn best_checkpoint(cosigs: &[Cosignature], seq: u64, head: u64) -> u64 {
    let mut by_size: BTreeMap<u64, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for c in cosigs.iter().filter(|c| c.size > seq) {
        let n = by_size.entry(c.size).or_default();
        match c.statement {
            Statement::Receipt => n.0.insert(&c.cosigner),
            Statement::Witness => n.1.insert(&c.cosigner),
        };
    }
    let count = |n: &(BTreeSet<&str>, BTreeSet<&str>)| (n.0.len(), n.1.len());
    let best = by_size.values().map(count).max().unwrap_or((0, 0));
    by_size
        .iter()
        .find(|(_, n)| count(n) == best && best != (0, 0))
        .map_or(head, |(size, _)| *size)
}

/// Which of a cosigner's signatures on one checkpoint a note carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The first: when it first held that size (delivery times).
    Earliest,
    /// The last: that it still held nothing newer then (silence).
    Latest,
}

/// The feed's signed checkpoint at `size` with one cosignature per
/// cosigner and statement.
///
/// # Errors
/// The store fails or holds no checkpoint at that size.
pub fn cosigned_note(
    s: &dyn parley_store::Store,
    feed: &FeedId,
    size: u64,
    which: Which,
) -> Result<Note, StoreError> {
    let text = s
        .checkpoint(feed, size)?
        .ok_or_else(|| StoreError::Corrupt(format!("no checkpoint at {size}")))?;
    let mut note =
        Note::parse(text.as_bytes()).map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let mut chosen: BTreeMap<(String, &'static str), Cosignature> = BTreeMap::new();
    for c in s
        .cosignatures(feed, size)?
        .into_iter()
        .filter(|c| c.size == size)
    {
        let key = (c.cosigner.clone(), c.statement.as_str());
        let keep = chosen.get(&key).is_none_or(|o| match which {
            Which::Earliest => c.time < o.time,
            Which::Latest => c.time > o.time,
        });
        if keep {
            chosen.insert(key, c);
        }
    }
    for c in chosen.values() {
        if let Ok(sig) = NoteSignature::parse_line(&c.line) {
            note.add_signature(sig);
        }
    }
    Ok(note)
}

/// A proof bundle (C2SP tlog-proof with the entry) for a stored entry.
///
/// # Errors
/// The store fails or lacks what the feed should hold.
pub async fn proof_bundle(node: &Arc<Node>, e: &StoredEntry) -> Result<String, StoreError> {
    let (feed, seq) = (e.feed(), e.seq);
    let size = node
        .db(move |s| {
            let head = s
                .feed_head(&feed)?
                .ok_or_else(|| StoreError::Corrupt("entry without feed".into()))?;
            Ok(best_checkpoint(
                &s.cosignatures(&feed, seq + 1)?,
                seq,
                head.size,
            ))
        })
        .await?;
    proof_bundle_at(node, e, size).await
}

/// A proof bundle of a stored entry against the checkpoint at `size`.
///
/// # Errors
/// The store fails, or holds no checkpoint at `size`.
pub async fn proof_bundle_at(
    node: &Arc<Node>,
    e: &StoredEntry,
    size: u64,
) -> Result<String, StoreError> {
    let e = e.clone();
    node.db(move |s| {
        let feed = e.feed();
        let note = cosigned_note(s, &feed, size, Which::Earliest)?;
        let tiles = FeedTiles {
            store: s,
            feed: &feed,
        };
        let path = inclusion_proof(&mut TileNodes::new(&tiles), e.seq, size)
            .map_err(|err| StoreError::Corrupt(err.to_string()))?;
        Ok(make_bundle(&e.bytes, e.seq, path, &note))
    })
    .await
}

/// A one-line summary of an entry for lists: the first of its body's
/// naming fields that it has (a string, or a text in several languages, or
/// the first of a list of items), so that a list never just repeats the
/// kind's name.
pub fn summary(e: &Entry) -> String {
    use serde_json::Value;
    fn text_of(v: &Value) -> Option<String> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Object(m) => m
                .get("en")
                .or_else(|| m.values().next())
                .and_then(Value::as_str)
                .map(str::to_string),
            Value::Array(a) => a.first().and_then(|x| match x {
                Value::Object(o) => o.get("title").and_then(text_of),
                other => text_of(other),
            }),
            _ => None,
        }
    }
    // Not `by` or `signed_by`: an acknowledgement or a signature is named
    // by what it refers to (the lists do that when this is empty).
    const NAMING: [&str; 15] = [
        "subject",
        "title",
        "designation",
        "reason",
        "text",
        "concerns",
        "description",
        "items",
        "questions",
        "area_description",
        "unit",
        "findings",
        "explanation",
        "policy",
        "decision",
    ];
    let b = &e.body;
    let text = NAMING
        .iter()
        .find_map(|k| b.get(*k).and_then(text_of))
        .or_else(|| {
            b.get("year").and_then(Value::as_i64).map(|y| {
                if let Some(units) = b.get("units").and_then(Value::as_array) {
                    return match units.len() {
                        0 => format!("{y}: no units (a nil report)"),
                        1 => format!("{y}: 1 unit"),
                        n => format!("{y}: {n} units"),
                    };
                }
                let n = b
                    .get("activities")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                match n {
                    0 => format!("{y}: no notifiable activity (a nil calendar)"),
                    1 => format!("{y}: 1 activity"),
                    n => format!("{y}: {n} activities"),
                }
            })
        })
        .unwrap_or_default();
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 120 {
        format!("{}…", one_line.chars().take(119).collect::<String>())
    } else {
        one_line
    }
}
