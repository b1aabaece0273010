//! Key rotation: a party replaces one of its keys with a statement signed
//! by the old and the new key (`parley-key-rotation/v1`); its peers check
//! the statement against the key they pinned and take the new key
//! automatically. The old public key stays in every identity, so every
//! record it signed stays verifiable. A lost or stolen key is not rotated
//! this way (the thief could rotate too): its owner's peers re-pin a new
//! identity out of band (`parley peer add --replace`).

use std::path::Path;
use std::sync::Arc;

use parley_log::Rotation;
use parley_log::identity::{ROTATION_HEADER, Role};
use parley_store::KeyRotation;

use crate::config::{IDENTITY_FILE, key_path};
use crate::federation::client;
use crate::state::{Event, Node};

/// Why a rotation could not be done or taken.
#[derive(Debug, thiserror::Error)]
pub enum RotationFailure {
    #[error("{0}")]
    Refused(String),
    #[error("{0:?} is not a pinned peer")]
    UnknownParty(String),
    #[error("another change to {0}'s identity was stored first; retry")]
    Conflict(String),
    #[error("storing the new key: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] parley_store::StoreError),
}

/// Writes a file whole, owner-only, then renames it into place.
fn write_atomically(path: &Path, contents: &str, private: bool) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Rotates this party's key of `role`: a fresh key, stored in place of the
/// old one; the identity file gains it (the old one stays, retired); the
/// signed statement is recorded and sent to every peer.
///
/// # Errors
/// The new key or identity file cannot be written, or the store fails.
pub async fn rotate_own(node: &Arc<Node>, role: Role) -> Result<String, RotationFailure> {
    let (statement, key) = node.keys.rotate(role, crate::clock::now().unix() as u64);
    let dir = node.dir.path.clone();
    write_atomically(
        &key_path(&dir, role),
        &format!("{}\n", key.to_private_string()),
        true,
    )?;
    write_atomically(
        &dir.join(IDENTITY_FILE),
        &node.keys.identity().to_text(),
        false,
    )?;
    let record = KeyRotation {
        id: 0,
        party: node.party.clone(),
        role: role.to_string(),
        statement: statement.clone(),
        recorded_at: crate::clock::now().unix(),
    };
    node.db(move |s| s.add_rotation(&record)).await?;
    tracing::warn!(%role, key = %node.keys.own_key(role), "rotated this party's key");
    node.emit(Event::KeyRotated {
        party: node.party.clone(),
        role: role.to_string(),
    });
    for p in node.peer_list() {
        let node = node.clone();
        tokio::spawn(async move { deliver(&node, &p.party).await });
    }
    Ok(statement)
}

/// Checks a peer's rotation statement against the key pinned for it and,
/// if it holds, pins the new key beside the old. Returns whether anything
/// changed (a statement already taken changes nothing).
///
/// # Errors
/// The statement is malformed, not signed by a pinned key and the new key,
/// or its party is not pinned.
pub async fn accept(node: &Arc<Node>, statement: &str) -> Result<bool, RotationFailure> {
    let party = statement
        .lines()
        .nth(1)
        .and_then(|l| l.strip_prefix("party "))
        .filter(|_| statement.starts_with(ROTATION_HEADER))
        .ok_or_else(|| RotationFailure::Refused(format!("not a {ROTATION_HEADER} statement")))?
        .to_string();
    let peer = node
        .peer(&party)
        .ok_or_else(|| RotationFailure::UnknownParty(party.clone()))?;
    let r = Rotation::verify(statement, &peer.identity)
        .map_err(|e| RotationFailure::Refused(e.to_string()))?;
    if peer.identity.all(r.role).any(|k| *k == r.new) {
        return Ok(false);
    }
    let mut next = peer.identity.clone();
    next.rotate(r.role, r.new.clone())
        .map_err(RotationFailure::Refused)?;
    let (old_text, new_text) = (peer.identity.to_text(), next.to_text());
    let record = KeyRotation {
        id: 0,
        party: party.clone(),
        role: r.role.to_string(),
        statement: statement.to_string(),
        recorded_at: crate::clock::now().unix(),
    };
    let p = party.clone();
    let swapped = node
        .db(move |s| s.replace_peer_identity(&p, &old_text, &new_text, Some(&record)))
        .await?;
    if !swapped {
        return Err(RotationFailure::Conflict(party));
    }
    let _ = node.reload_peers();
    tracing::warn!(%party, role = %r.role, new = %r.new, "a peer rotated its key; the new key is pinned beside the old");
    node.emit(Event::KeyRotated {
        party,
        role: r.role.to_string(),
    });
    Ok(true)
}

/// Sends this party's rotation statements to `peer` (each once per run;
/// taking one twice changes nothing). Runs before each link test, so a
/// rotated node key is known before the link test it signs.
pub async fn deliver(node: &Arc<Node>, peer: &str) {
    let Some(info) = node.peer(peer) else { return };
    let party = node.party.clone();
    let Ok(own) = node
        .db(move |s| {
            Ok(s.rotations()?
                .into_iter()
                .filter(|r| r.party == party)
                .collect::<Vec<_>>())
        })
        .await
    else {
        return;
    };
    for r in own {
        let key = (peer.to_string(), r.statement.clone());
        if node
            .rotations_delivered
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key)
        {
            continue;
        }
        match client::send_rotation(node, &info, &r.statement).await {
            Ok(()) => {
                node.rotations_delivered
                    .0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key);
            }
            Err(e) => {
                tracing::debug!(%peer, error = %e, "key rotation not delivered yet");
                return;
            }
        }
    }
}
