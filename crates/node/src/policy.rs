//! A channel's trust, written as a C2SP tlog-policy: what an outside
//! verifier (or `parley verify --policy`) needs to check a bundle from it.

use parley_domain::ChannelState;
use parley_log::Role;
use parley_store::FeedId;

use crate::keyring::Keyring;

/// Why a policy cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("member {0:?} is not pinned here: its keys are unknown")]
    UnknownMember(String),
    #[error("witness {0:?} is not pinned here: its key is unknown")]
    UnknownWitness(String),
    #[error("external witness {name:?}: {why}")]
    BadExternal { name: String, why: String },
}

/// The channel's tlog-policy:
///
/// * `log`: each member feed's log key, named after its origin;
/// * `witness`: each member's receipt key (a receipt is a cosignature
///   under it), each parley witness's witness key, each external witness;
/// * `group receipts <n-1> …`: every other member's receipt (an author
///   never receipts its own feed, and `parley verify` ignores it if it did);
/// * `group witnesses all …` and `quorum` over both.
///
/// # Errors
/// A member's or witness's keys are not known to this node.
pub fn channel_policy(keys: &Keyring, channel: &ChannelState) -> Result<String, PolicyError> {
    let c = &channel.charter;
    let mut out = format!(
        "# C2SP tlog-policy of parley channel {:?}{}\n# printed by {}; members {}\n",
        channel.id,
        c.title
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default(),
        keys.party(),
        c.members.join(", "),
    );
    let mut receipts = Vec::new();
    for m in &c.members {
        let id = keys
            .identity_of(m)
            .ok_or_else(|| PolicyError::UnknownMember(m.clone()))?;
        let origin = FeedId::new(&channel.id, m).origin();
        out.push_str(&format!("log {}\n", id.log_key_for(&origin)));
        let name = format!("{m}-receipt");
        out.push_str(&format!(
            "witness {name} {}\n",
            id.current(Role::Receipt).expect("complete identity")
        ));
        receipts.push(name);
    }
    let mut witnesses = Vec::new();
    for w in &c.witnesses {
        let id = keys
            .identity_of(w)
            .ok_or_else(|| PolicyError::UnknownWitness(w.clone()))?;
        let name = format!("{w}-witness");
        out.push_str(&format!(
            "witness {name} {}\n",
            id.current(Role::Witness).expect("complete identity")
        ));
        witnesses.push(name);
    }
    for (i, w) in c.external_witnesses.iter().enumerate() {
        let key = w.key().map_err(|e| PolicyError::BadExternal {
            name: w.vkey.clone(),
            why: e.to_string(),
        })?;
        let name = format!("external-{}", i + 1);
        out.push_str(&format!("witness {name} {key} {}\n", w.url));
        witnesses.push(name);
    }
    let needed = receipts.len().saturating_sub(1);
    out.push_str(&format!("group receipts {needed} {}\n", receipts.join(" ")));
    if witnesses.is_empty() {
        out.push_str("quorum receipts\n");
    } else {
        out.push_str(&format!("group witnesses all {}\n", witnesses.join(" ")));
        out.push_str("group delivered-and-witnessed all receipts witnesses\n");
        out.push_str("quorum delivered-and-witnessed\n");
    }
    Ok(out)
}
