//! The node's status: links, backlogs, channels, feeds and alarms.

use std::sync::Arc;

use parley_domain::ChannelState;
use parley_store::{DeliveryRole, EvidenceRecord, FeedId, StoreError};
use serde_json::{Value, json};

use crate::state::Node;

pub fn channel_json(c: &ChannelState) -> Value {
    let state = if !c.is_accepted() {
        "awaiting acceptance"
    } else if c.suspension().is_some() {
        "suspended"
    } else {
        "active"
    };
    json!({
        "id": c.id,
        "title": c.charter.title,
        "creator": c.creator,
        "level": c.charter.level.as_str(),
        "members": c.charter.members,
        "witnesses": c.charter.witnesses,
        "external_witnesses": c.charter.external_witnesses.iter().map(|w| json!({"name": w.name(), "url": w.url, "vkey": w.vkey})).collect::<Vec<_>>(),
        "languages": c.charter.languages,
        "rules": {"flash_ack_minutes": c.charter.rules.flash_ack_minutes, "immediate_ack_minutes": c.charter.rules.immediate_ack_minutes},
        "state": state,
        "waiting_for": c.waiting_for(),
        "suspension": c.suspension().map(|s| json!({"by": s.by, "time": s.time.to_string(), "reason": s.reason})),
        "charter_hash": c.charter_hash.to_hex(),
        "created_at": c.created_at.to_string(),
    })
}

/// A party's keys, each with its role and whether it is current or
/// retired (rotated away; it still verifies what it signed).
pub fn keys_json(id: &parley_log::Identity) -> Value {
    Value::Array(
        id.keys()
            .iter()
            .map(|(r, k)| {
                let current = id.current(*r) == Some(k);
                json!({"role": r.as_str(), "vkey": k.to_string(), "current": current})
            })
            .collect(),
    )
}

pub fn evidence_json(e: &EvidenceRecord) -> Value {
    json!({
        "id": e.id,
        "kind": e.kind.as_str(),
        "party": e.party,
        "origin": e.origin,
        "summary": e.summary,
        "detected_at": e.detected_at,
        "detected_by": e.detected_by,
        "proven": e.proven,
    })
}

/// Entries of this node's feeds waiting for `peer`'s receipt, and feeds
/// whose latest checkpoint `peer` (as a witness) has not cosigned.
pub async fn backlog(node: &Arc<Node>, peer: &str) -> Result<(u64, u64), StoreError> {
    let mut pushes: Vec<FeedId> = Vec::new();
    let mut witnessed: Vec<FeedId> = Vec::new();
    for c in node.channel_list() {
        if c.is_member(peer) && c.is_member(&node.party) {
            pushes.push(FeedId::new(&c.id, &node.party));
        }
        let external = c
            .charter
            .external_witnesses
            .iter()
            .any(|w| w.name() == peer);
        if c.is_witness(peer) || (external && c.is_member(&node.party)) {
            witnessed.extend(c.charter.members.iter().map(|m| FeedId::new(&c.id, m)));
        }
    }
    let peer = peer.to_string();
    node.db(move |s| {
        let mut entries = 0;
        for f in &pushes {
            let size = s.feed_head(f)?.map_or(0, |h| h.size);
            entries += size.saturating_sub(s.delivered(&peer, f, DeliveryRole::Push)?);
        }
        let mut checkpoints = 0;
        for f in &witnessed {
            let size = s.feed_head(f)?.map_or(0, |h| h.size);
            if size > s.delivered(&peer, f, DeliveryRole::Witness)? {
                checkpoints += 1;
            }
        }
        Ok((entries, checkpoints))
    })
    .await
}

pub async fn status(node: &Arc<Node>) -> Result<Value, StoreError> {
    let mut peers = Vec::new();
    for p in node.peer_list() {
        let link = node.link(&p.party);
        let (entries, checkpoints) = backlog(node, &p.party).await?;
        let party = p.party.clone();
        // A member's last receipt, or a witness's last cosignature.
        let last_receipt = node
            .db(move |s| {
                Ok(
                    s.last_cosignature_by(&party, parley_store::Statement::Receipt)?
                        .max(s.last_cosignature_by(&party, parley_store::Statement::Witness)?),
                )
            })
            .await?;
        peers.push(json!({
            "party": p.party,
            "url": p.urls_text(),
            "keys": keys_json(&p.identity),
            "link": match link.up { Some(true) => "up", Some(false) => "down", None => "unknown" },
            "since": link.since,
            "last_ok": link.last_ok,
            "last_error": link.last_error,
            "last_receipt": last_receipt,
            "backlog_entries": entries,
            "backlog_checkpoints": checkpoints,
        }));
    }
    let feeds = node.db(|s| s.feeds()).await?;
    let evidence = node.db(|s| s.evidence()).await?;
    let rotations = node.db(|s| s.rotations()).await?;
    let mut external = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in node.channel_list() {
        for w in &c.charter.external_witnesses {
            let name = w.name();
            if !seen.insert(name.clone()) {
                continue;
            }
            let link = node.link(&name);
            let (_, checkpoints) = backlog(node, &name).await?;
            let who = name.clone();
            let last = node
                .db(move |s| s.last_cosignature_by(&who, parley_store::Statement::Witness))
                .await?;
            external.push(json!({
                "name": name,
                "url": w.url,
                "supports": "C2SP tlog-witness add-checkpoint (no link tests, no catch-up)",
                "link": match link.up { Some(true) => "up", Some(false) => "down", None => "unknown" },
                "since": link.since,
                "last_error": link.last_error,
                "last_cosignature": last,
                "backlog_checkpoints": checkpoints,
            }));
        }
    }
    let ledger = node.cached_ledger().map(|c| c.ledger.len());
    Ok(json!({
        "party": node.party,
        "ledger": {"ready": ledger.is_some(), "entries": ledger},
        "identity": node.keys.identity().to_text(),
        "keys": keys_json(&node.keys.identity()),
        "rotations": rotations.iter().map(|r| json!({"party": r.party, "role": r.role, "recorded_at": r.recorded_at})).collect::<Vec<_>>(),
        "url": node.dir.config.public_url(),
        "console": node.dir.config.console_url(),
        "transport": if node.dir.config.federation.plaintext { "plain HTTP (federation.plaintext)" } else { "mutual TLS 1.3" },
        "warnings": node.dir.config.warnings(),
        "peers": peers,
        "external_witnesses": external,
        "channels": node.channel_list().iter().map(channel_json).collect::<Vec<_>>(),
        "feeds": feeds.iter().map(|(f, h)| json!({"channel": f.channel, "author": f.author, "size": h.size, "root": h.root.to_hex()})).collect::<Vec<_>>(),
        "evidence": evidence.iter().map(evidence_json).collect::<Vec<_>>(),
    }))
}
