//! The party's signing keys, one per statement, and the pinned identities
//! of its peers.
//!
//! Every signature this node makes goes through here, and each statement
//! has its own key and its own method:
//!
//! * [`Keyring::sign_checkpoint`]: the log key, for this party's feeds;
//! * [`ReceiptSigner`]: the receipt key. Only [`crate::feeds`] can make
//!   one, and only ingest uses it, after it has verified an update and
//!   while it commits the entries: nothing else can make a receipt;
//! * [`Keyring::witness_cosign`]: the witness key, for logs this node
//!   witnesses (never counts as delivery);
//! * [`Keyring::node_sign`]: the node key, for link tests and read requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use parley_log::identity::{Identity, Role};
use parley_log::note::cosignature_line;
use parley_log::{Checkpoint, Note, NoteSignature, SigningKey, VerifierKey};
use parley_store::{FeedId, Peer};

/// The four private keys of a party.
#[derive(Clone, Debug)]
pub struct PartyKeys {
    pub log: SigningKey,
    pub receipt: SigningKey,
    pub witness: SigningKey,
    pub node: SigningKey,
}

impl PartyKeys {
    /// Fresh keys for `party`, each named for its role.
    ///
    /// # Errors
    /// `party` is not a valid key name.
    pub fn generate(party: &str) -> Result<PartyKeys, parley_log::keys::KeyError> {
        Ok(PartyKeys {
            log: SigningKey::generate(&Role::Log.key_name(party))?,
            receipt: SigningKey::generate(&Role::Receipt.key_name(party))?,
            witness: SigningKey::generate(&Role::Witness.key_name(party))?,
            node: SigningKey::generate(&Role::Node.key_name(party))?,
        })
    }

    pub fn get(&self, role: Role) -> &SigningKey {
        match role {
            Role::Log => &self.log,
            Role::Receipt => &self.receipt,
            Role::Witness => &self.witness,
            Role::Node => &self.node,
        }
    }

    /// The public key of a role, of the type that role signs with.
    pub fn verifier(&self, role: Role) -> VerifierKey {
        let k = self.get(role);
        match role.key_type() {
            parley_log::KeyType::Ed25519 => k.verifier(),
            parley_log::KeyType::CosignatureV1 => k.cosigner(),
        }
    }
}

/// A pinned peer, ready to use.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    pub party: String,
    /// Where the peer's nodes listen: one address, or its active node's and
    /// its standbys' (tried in turn).
    pub urls: Arc<[String]>,
    /// Which of `urls` answered last; shared by every copy of this peer.
    current: Arc<std::sync::atomic::AtomicUsize>,
    pub identity: Identity,
}

impl PeerInfo {
    /// The address to call now.
    pub fn url(&self) -> &str {
        let i = self.current.load(std::sync::atomic::Ordering::Relaxed);
        &self.urls[i % self.urls.len()]
    }

    /// After the address failed (unreachable, or a standby that is not
    /// active): the next call tries the peer's next address.
    pub fn fail_over(&self) {
        if self.urls.len() > 1 {
            self.current
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Every address, as pinned (space-separated).
    pub fn urls_text(&self) -> String {
        self.urls.join(" ")
    }

    /// The current log key of one of this peer's feeds (named after the origin).
    pub fn feed_key(&self, feed: &FeedId) -> VerifierKey {
        self.identity.log_key_for(&feed.origin())
    }

    /// Every log key (current and retired) of one of this peer's feeds.
    pub fn feed_keys(&self, feed: &FeedId) -> Vec<VerifierKey> {
        self.identity.log_keys_for(&feed.origin())
    }

    /// The keys this peer signs a statement with (current last).
    pub fn keys(&self, role: Role) -> Vec<VerifierKey> {
        self.identity.all(role).cloned().collect()
    }

    /// The current key of a role.
    pub fn key(&self, role: Role) -> VerifierKey {
        self.identity
            .current(role)
            .expect("a parsed identity has every role")
            .clone()
    }
}

/// Signs receipts. Only the feed engine can construct one.
pub struct ReceiptSigner {
    key: SigningKey,
}

impl ReceiptSigner {
    /// The receipt (cosignature/v1 under the receipt key) of a checkpoint.
    pub fn sign(&self, checkpoint: &Checkpoint, time: u64) -> NoteSignature {
        cosignature_line(&self.key, &checkpoint.to_text(), time)
    }
}

/// The party's keys and the pinned keys of its peers.
pub struct Keyring {
    party: String,
    keys: RwLock<PartyKeys>,
    identity: RwLock<Identity>,
    feed_keys: Mutex<HashMap<String, SigningKey>>,
    peers: RwLock<HashMap<String, PeerInfo>>,
}

/// Why a stored peer cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("peer {party}: stored identity is invalid: {why}")]
pub struct BadPeer {
    pub party: String,
    pub why: String,
}

impl Keyring {
    /// # Errors
    /// The keys do not form a valid identity for `party` (a key reused for
    /// two statements, or misnamed).
    pub fn new(
        party: &str,
        keys: PartyKeys,
    ) -> Result<Keyring, parley_log::identity::IdentityError> {
        let identity = Identity::new(party, Role::ALL.map(|r| (r, keys.verifier(r))))?;
        Ok(Keyring {
            party: party.to_string(),
            keys: RwLock::new(keys),
            identity: RwLock::new(identity),
            feed_keys: Mutex::default(),
            peers: RwLock::default(),
        })
    }

    /// The keys with their history: `identity` (the node's
    /// `party.identity`) lists retired keys too, and its current keys
    /// must be the private keys' public halves.
    ///
    /// # Errors
    /// Its current keys are not `keys`.
    pub fn with_history(identity: Identity, keys: PartyKeys) -> Result<Keyring, String> {
        for role in Role::ALL {
            let current = identity.current(role).ok_or("incomplete identity")?;
            if *current != keys.verifier(role) {
                return Err(format!(
                    "the current {role} key in the identity file ({current}) is not the private key in keys/{role}.key"
                ));
            }
        }
        Ok(Keyring {
            party: identity.party.clone(),
            keys: RwLock::new(keys),
            identity: RwLock::new(identity),
            feed_keys: Mutex::default(),
            peers: RwLock::default(),
        })
    }

    fn keys(&self) -> std::sync::RwLockReadGuard<'_, PartyKeys> {
        self.keys.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the key of `role` with a fresh one and returns the signed
    /// rotation statement (by the old and the new key) and the new private
    /// key, which the caller must store. Old records stay verifiable: the
    /// old public key stays in the identity.
    pub fn rotate(&self, role: Role, time: u64) -> (String, SigningKey) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        let mut identity = self.identity.write().unwrap_or_else(|e| e.into_inner());
        let new = SigningKey::generate(&role.key_name(&self.party)).expect("valid name");
        let mut next = keys.clone();
        match role {
            Role::Log => next.log = new.clone(),
            Role::Receipt => next.receipt = new.clone(),
            Role::Witness => next.witness = new.clone(),
            Role::Node => next.node = new.clone(),
        }
        let rotation = parley_log::Rotation {
            party: self.party.clone(),
            role,
            old: keys.verifier(role),
            new: next.verifier(role),
            time,
        };
        let signed = rotation.sign(keys.get(role), &new);
        identity
            .rotate(role, rotation.new)
            .expect("a fresh key fits its role");
        *keys = next;
        self.feed_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        (signed, new)
    }

    pub fn party(&self) -> &str {
        &self.party
    }

    /// This party's public identity (what `parley identity export` prints).
    pub fn identity(&self) -> Identity {
        self.identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Signs a checkpoint of one of this party's feeds with the log key,
    /// under the feed's origin.
    pub fn sign_checkpoint(&self, feed: &FeedId, checkpoint: &Checkpoint) -> Note {
        let origin = feed.origin();
        let key = self
            .feed_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(origin.clone())
            .or_insert_with(|| {
                self.keys()
                    .log
                    .renamed(&origin)
                    .expect("origins are valid key names")
            })
            .clone();
        checkpoint
            .sign(&key)
            .expect("the feed key is named after the origin")
    }

    /// The receipt signer, for the feed engine only.
    pub(crate) fn receipt_signer(&self) -> ReceiptSigner {
        ReceiptSigner {
            key: self.keys().receipt.clone(),
        }
    }

    /// A witness cosignature of a checkpoint of a log this node witnesses.
    pub fn witness_cosign(&self, checkpoint: &Checkpoint, time: u64) -> NoteSignature {
        cosignature_line(&self.keys().witness, &checkpoint.to_text(), time)
    }

    /// Signs a node-to-node message (link test, read request) with the node key.
    pub fn node_sign(&self, note: &mut Note) {
        note.sign(&self.keys().node);
    }

    /// The node key, for building signed read requests.
    pub fn node_key(&self) -> SigningKey {
        self.keys().node.clone()
    }

    /// This party's current public key of a role.
    pub fn own_key(&self, role: Role) -> VerifierKey {
        self.keys().verifier(role)
    }

    // Peers.

    /// Replaces the pinned peers with what the store holds.
    ///
    /// # Errors
    /// A stored identity does not parse.
    pub fn load_peers(&self, peers: Vec<Peer>) -> Result<(), BadPeer> {
        let old = self.peers.read().unwrap_or_else(|e| e.into_inner()).clone();
        let mut map = HashMap::new();
        for p in peers {
            let identity = Identity::parse(&p.identity).map_err(|e| BadPeer {
                party: p.party.clone(),
                why: e.to_string(),
            })?;
            let urls: Arc<[String]> = peer_urls(&p.url).into();
            // A re-read keeps which of a peer's addresses answered last (a
            // standby's peer must not go back to the dead address).
            let current = old
                .get(&p.party)
                .filter(|o| o.urls == urls)
                .map(|o| o.current.clone())
                .unwrap_or_default();
            map.insert(
                p.party.clone(),
                PeerInfo {
                    party: p.party,
                    urls,
                    current,
                    identity,
                },
            );
        }
        *self.peers.write().unwrap_or_else(|e| e.into_inner()) = map;
        Ok(())
    }

    pub fn peer(&self, party: &str) -> Option<PeerInfo> {
        self.peers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(party)
            .cloned()
    }

    pub fn peers(&self) -> Vec<PeerInfo> {
        let mut v: Vec<PeerInfo> = self
            .peers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.party.cmp(&b.party));
        v
    }

    /// The party whose current node key is `key`: this party or a pinned
    /// peer. A TLS client presenting that key's certificate is that party.
    pub fn party_of_node_key(&self, key: &[u8; 32]) -> Option<String> {
        if self.own_key(Role::Node).public_bytes() == *key {
            return Some(self.party.clone());
        }
        self.peers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .find(|p| p.key(Role::Node).public_bytes() == *key)
            .map(|p| p.party.clone())
    }

    /// The identity of `party`: this party's own or a pinned peer's.
    pub fn identity_of(&self, party: &str) -> Option<Identity> {
        if party == self.party {
            return Some(self.identity());
        }
        self.peer(party).map(|p| p.identity)
    }

    /// Every public key this node knows, for verifying bundles: its own and
    /// every pinned peer's, current and retired.
    pub fn all_public_keys(&self) -> Vec<VerifierKey> {
        let mut out: Vec<VerifierKey> = self
            .identity()
            .keys()
            .iter()
            .map(|(_, k)| k.clone())
            .collect();
        for p in self.peers() {
            out.extend(p.identity.keys().iter().map(|(_, k)| k.clone()));
        }
        out
    }
}

/// A pinned peer's addresses: one URL, or several separated by spaces or
/// commas (its active node and standbys).
pub fn peer_urls(pinned: &str) -> Vec<String> {
    let urls: Vec<String> = pinned
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|u| !u.is_empty())
        .map(|u| u.trim_end_matches('/').to_string())
        .collect();
    if urls.is_empty() {
        vec![String::new()]
    } else {
        urls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer pinned at two addresses keeps the one that answered last
    /// when the peers are read again (they are, on every list).
    #[test]
    fn a_reread_keeps_the_address_a_peer_failed_over_to() {
        let ours = Keyring::new("nato", PartyKeys::generate("nato").unwrap()).unwrap();
        let theirs = Keyring::new("russia", PartyKeys::generate("russia").unwrap()).unwrap();
        let pin = |url: &str| Peer {
            party: "russia".into(),
            url: url.into(),
            identity: theirs.identity().to_text(),
            added_at: 0,
        };
        ours.load_peers(vec![pin("https://a:1 https://b:2")])
            .unwrap();
        assert_eq!(ours.peer("russia").unwrap().url(), "https://a:1");
        ours.peer("russia").unwrap().fail_over();
        ours.load_peers(vec![pin("https://a:1 https://b:2")])
            .unwrap();
        assert_eq!(ours.peer("russia").unwrap().url(), "https://b:2");
        // Pinned anew at other addresses: the first of those.
        ours.load_peers(vec![pin("https://c:3,https://d:4")])
            .unwrap();
        assert_eq!(ours.peer("russia").unwrap().url(), "https://c:3");
    }
}
