//! The running node's shared state: its identity, store, caches of feeds,
//! channels and peers, link status and the event stream.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use parley_domain::ChannelState;
use parley_log::Entry;
use parley_log::tiles::TiledTree;
use parley_store::{FeedId, FeedTiles, Store, StoreError};
use tokio::sync::{Notify, broadcast};

use crate::config::NodeDir;
use crate::keyring::Keyring;

/// Something that happened, for live views and for waking workers.
#[derive(Clone, Debug)]
pub enum Event {
    /// An entry was stored (appended here or received).
    Entry {
        id: String,
        channel: String,
        author: String,
        kind: String,
    },
    /// A cosignature (receipt or witness signature) was stored.
    Receipt {
        feed: FeedId,
        size: u64,
        cosigner: String,
    },
    /// A peer's link went up or down.
    Link { peer: String, up: bool },
    /// A fork was detected.
    Evidence { id: i64, party: String },
    /// A party (this one or a peer) rotated one of its keys.
    KeyRotated { party: String, role: String },
}

/// An event as a name and a JSON body, for the event stream.
pub fn event_json(e: &Event) -> (&'static str, serde_json::Value) {
    use serde_json::json;
    match e {
        Event::Entry {
            id,
            channel,
            author,
            kind,
        } => (
            "entry",
            json!({"id": id, "channel": channel, "author": author, "kind": kind}),
        ),
        Event::Receipt {
            feed,
            size,
            cosigner,
        } => (
            "receipt",
            json!({"channel": feed.channel, "author": feed.author, "size": size, "cosigner": cosigner}),
        ),
        Event::Link { peer, up } => ("link", json!({"peer": peer, "up": up})),
        Event::Evidence { id, party } => ("evidence", json!({"id": id, "party": party})),
        Event::KeyRotated { party, role } => ("key_rotated", json!({"party": party, "role": role})),
    }
}

pub use crate::keyring::PeerInfo;

/// Key rotation statements delivered to each peer since the node started:
/// (peer, statement).
#[derive(Default)]
pub struct RotationsDelivered(pub Mutex<std::collections::HashSet<(String, String)>>);

/// Link status of one peer.
#[derive(Clone, Debug, Default)]
pub struct LinkState {
    /// `None` until the first contact attempt.
    pub up: Option<bool>,
    /// When the link entered its current state.
    pub since: Option<i64>,
    pub last_ok: Option<i64>,
    pub last_error: Option<String>,
}

/// The in-memory right edge of one feed's tree, loaded on first use.
#[derive(Default)]
pub struct FeedSlot {
    pub tree: Option<TiledTree>,
}

/// Entries waiting to be appended to one of this node's feeds.
pub type AppendQueue = Arc<Mutex<Vec<crate::appending::Pending>>>;

pub struct Node {
    pub party: String,
    /// Our signing keys (one per statement) and the peers' pinned keys.
    pub keys: Keyring,
    pub dir: NodeDir,
    pub store: Arc<dyn Store>,
    /// For external C2SP witnesses (the web's usual TLS); peers are
    /// spoken to through [`Node::client_for`].
    pub http: reqwest::Client,
    /// This node's TLS certificate, bound to its node key.
    pub tls: Arc<crate::tls::TlsIdentity>,
    /// One mutual-TLS client per peer, pinned to its node key.
    peer_clients: Mutex<HashMap<String, PeerClient>>,
    /// Nonces of signed requests seen lately (link tests, feed reads).
    pub replays: crate::federation::replay::ReplayGuard,
    pub events: broadcast::Sender<Event>,
    /// Console sessions (in memory).
    pub sessions: crate::console::auth::Sessions,
    /// Throttles and bounds console sign-ins.
    pub signin: crate::console::signin::SignInGuard,
    /// Console users, from `parley.toml`.
    pub users: crate::console::auth::UserDirectory,
    feeds: Mutex<HashMap<FeedId, Arc<tokio::sync::Mutex<FeedSlot>>>>,
    /// Entries waiting for their feed's next commit.
    append_queues: Mutex<HashMap<FeedId, AppendQueue>>,
    /// Each of our feeds' latest committed appends, pushed from memory.
    recent: Mutex<HashMap<FeedId, crate::recent::RecentAppends>>,
    channels: RwLock<BTreeMap<String, ChannelState>>,
    wake: Mutex<HashMap<String, Arc<Notify>>>,
    links: Mutex<HashMap<String, LinkState>>,
    /// This party's key rotations delivered to each peer since start.
    pub rotations_delivered: RotationsDelivered,
    /// Bumped each time a cosignature is stored on a feed, so that sharing
    /// them with members reads the store only when something changed.
    cosignature_generations: Mutex<HashMap<FeedId, u64>>,
    /// Bumped by every event; views cached against it.
    version: std::sync::atomic::AtomicU64,
    ledger: Mutex<Option<crate::held::Current>>,
    /// Held while the ledger is brought up to date, one update at a time.
    ledger_turn: tokio::sync::Mutex<()>,
    /// Console users' read marks, loaded on first use.
    reads: Mutex<HashMap<String, crate::held::Reads>>,
}

struct PeerClient {
    theirs: [u8; 32],
    ours: [u8; 32],
    client: reqwest::Client,
}

/// Kinds whose entries shape a channel's state.
pub const CHANNEL_KINDS: [&str; 4] = [
    "channel_charter",
    "channel_acceptance",
    "channel_suspension",
    "channel_resumption",
];

impl Node {
    pub fn new(dir: NodeDir, store: Arc<dyn Store>) -> anyhow::Result<Arc<Node>> {
        let timeout = std::time::Duration::from_secs(dir.config.federation.request_timeout_secs);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(std::time::Duration::from_secs(5))
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .user_agent(concat!("parley/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let (events, _) = broadcast::channel(4096);
        let users = crate::console::auth::UserDirectory::new(&dir.path, dir.config.users.clone());
        let keys = dir.keyring();
        let tls = Arc::new(crate::tls::TlsIdentity::new(
            &dir.config.party,
            &keys.node_key(),
            dir.config
                .federation
                .tls_certificate
                .as_ref()
                .map(|c| dir.path.join(c)),
        )?);
        let replays =
            crate::federation::replay::ReplayGuard::new(dir.config.federation.clock_skew());
        let signin = crate::console::signin::SignInGuard::new(&dir.config.limits);
        let node = Arc::new(Node {
            signin,
            tls,
            replays,
            peer_clients: Mutex::default(),
            users,
            party: dir.config.party.clone(),
            keys,
            dir,
            store,
            http,
            events,
            sessions: Default::default(),
            feeds: Mutex::default(),
            append_queues: Mutex::default(),
            recent: Mutex::default(),
            channels: RwLock::default(),
            wake: Mutex::default(),
            links: Mutex::default(),
            rotations_delivered: Default::default(),
            cosignature_generations: Mutex::default(),
            version: std::sync::atomic::AtomicU64::new(0),
            ledger: Mutex::default(),
            ledger_turn: tokio::sync::Mutex::new(()),
            reads: Mutex::default(),
        });
        node.reload_peers()?;
        node.load_channels()?;
        Ok(node)
    }

    /// The console session a request carries, checked against the users
    /// configured now.
    pub fn session(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Option<crate::console::auth::Session> {
        self.sessions.current(headers, &self.users)
    }

    /// Runs a store call on the blocking pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .expect("store task does not panic")
    }

    pub fn now() -> i64 {
        crate::clock::now().unix()
    }

    pub fn emit(&self, e: Event) {
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _ = self.events.send(e);
    }

    /// Changes whenever anything is stored (every event).
    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn cached_ledger(&self) -> Option<crate::held::Current> {
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn cache_ledger(&self, current: crate::held::Current) {
        *self.ledger.lock().unwrap_or_else(|e| e.into_inner()) = Some(current);
    }

    /// Whether the ledger is being brought up to date right now.
    pub fn ledger_building(&self) -> bool {
        self.ledger_turn.try_lock().is_err()
    }

    pub async fn ledger_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.ledger_turn.lock().await
    }

    pub fn cached_reads(&self, user: &str) -> Option<crate::held::Reads> {
        self.reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(user)
            .cloned()
    }

    pub fn cache_reads(&self, user: &str, reads: crate::held::Reads) {
        self.reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user.to_string(), reads);
    }

    // Peers.

    /// Re-reads pinned peers (the CLI adds them to the database directly).
    pub fn reload_peers(&self) -> anyhow::Result<()> {
        self.keys.load_peers(self.store.peers()?)?;
        Ok(())
    }

    /// A pinned peer; re-reads the table once if it is not known yet.
    pub fn peer(&self, party: &str) -> Option<PeerInfo> {
        if let Some(p) = self.keys.peer(party) {
            return Some(p);
        }
        self.reload_peers().ok()?;
        self.keys.peer(party)
    }

    /// The HTTP client for one peer: mutual TLS with this node's current
    /// certificate, accepting only a server that holds the peer's current
    /// node key. Made again when either key changes.
    ///
    /// # Errors
    /// The TLS configuration cannot be built.
    pub fn client_for(&self, peer: &PeerInfo) -> Result<reqwest::Client, crate::tls::TlsError> {
        let own = self.keys.node_key();
        let theirs = peer.key(parley_log::identity::Role::Node).public_bytes();
        let ours = own.verifier().public_bytes();
        let mut clients = self.peer_clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&peer.party)
            && c.theirs == theirs
            && c.ours == ours
        {
            return Ok(c.client.clone());
        }
        let cert = self.tls.certificate(&own)?;
        let timeout =
            std::time::Duration::from_secs(self.dir.config.federation.request_timeout_secs);
        let client = crate::tls::peer_client(
            &cert,
            vec![theirs],
            timeout,
            self.dir.config.federation.plaintext,
        )?;
        clients.insert(
            peer.party.clone(),
            PeerClient {
                theirs,
                ours,
                client: client.clone(),
            },
        );
        Ok(client)
    }

    pub fn peer_list(&self) -> Vec<PeerInfo> {
        let _ = self.reload_peers();
        self.keys.peers()
    }

    // Channels.

    fn load_channels(&self) -> anyhow::Result<()> {
        let entries = self.store.entries_of_kinds(&CHANNEL_KINDS)?;
        let mut map = BTreeMap::new();
        let decoded: Vec<(Entry, parley_log::Hash)> = entries
            .iter()
            .map(|s| Ok((Entry::decode(&s.bytes)?, s.hash)))
            .collect::<Result<_, parley_log::entry::EntryError>>()?;
        for (e, hash) in decoded.iter().filter(|(e, _)| e.kind == "channel_charter") {
            let charter = parley_domain::kinds::parse_body(&e.body)
                .map_err(|v| anyhow::anyhow!("stored charter {} is invalid: {v}", e.id()))?;
            map.insert(
                e.channel.clone(),
                ChannelState::from_charter(e, charter, *hash),
            );
        }
        for (e, _) in decoded.iter().filter(|(e, _)| e.kind != "channel_charter") {
            if let Some(c) = map.get_mut(&e.channel) {
                c.apply(e);
            }
        }
        *self.channels.write().unwrap_or_else(|e| e.into_inner()) = map;
        Ok(())
    }

    pub fn channel(&self, id: &str) -> Option<ChannelState> {
        self.channels
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    pub fn channel_list(&self) -> Vec<ChannelState> {
        self.channels
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Folds a stored entry into the channel registry.
    pub fn apply_to_channels(&self, e: &Entry, hash: parley_log::Hash) {
        if !CHANNEL_KINDS.contains(&e.kind.as_str()) {
            return;
        }
        let mut map = self.channels.write().unwrap_or_else(|e| e.into_inner());
        if e.kind == "channel_charter" {
            if let Ok(charter) = parley_domain::kinds::parse_body(&e.body) {
                map.entry(e.channel.clone())
                    .or_insert_with(|| ChannelState::from_charter(e, charter, hash));
            }
        } else if let Some(c) = map.get_mut(&e.channel) {
            c.apply(e);
        }
    }

    /// Channels in which `party` is a member (other than this node).
    pub fn channels_with_member(&self, party: &str) -> Vec<ChannelState> {
        self.channel_list()
            .into_iter()
            .filter(|c| c.is_member(party))
            .collect()
    }

    // Feeds.

    /// The entries of this node's `feed` waiting for its next commit.
    pub fn append_queue(&self, feed: &FeedId) -> AppendQueue {
        self.append_queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(feed.clone())
            .or_default()
            .clone()
    }

    /// Keeps a commit of one of our feeds that has landed, for pushes
    /// (see [`crate::recent::RecentAppends::record`]).
    pub fn keep_recent_append(
        &self,
        feed: &FeedId,
        before: &parley_log::merkle::Frontier,
        entries: &[(parley_log::Hash, &[u8])],
        checkpoint: &str,
    ) {
        let mut all = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(feed.clone())
            .or_default()
            .record(before, entries, checkpoint);
    }

    /// The update of `feed` from `from`, built from its kept appends when
    /// they hold it (see [`crate::recent::RecentAppends::update`]). A read
    /// keeps nothing: only our own commits fill what is kept.
    pub fn recent_update(
        &self,
        feed: &FeedId,
        from: u64,
        max: u64,
    ) -> Option<crate::recent::RecentUpdate> {
        let all = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        all.get(feed)?.update(from, max)
    }

    pub fn feed_slot(&self, feed: &FeedId) -> Arc<tokio::sync::Mutex<FeedSlot>> {
        self.feeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(feed.clone())
            .or_default()
            .clone()
    }

    /// The feed's tree from the slot, loading its right edge from stored
    /// tiles on first use.
    pub async fn tree(&self, slot: &mut FeedSlot, feed: &FeedId) -> Result<TiledTree, StoreError> {
        if let Some(t) = &slot.tree {
            return Ok(t.clone());
        }
        let f = feed.clone();
        let tree = self
            .db(move |s| {
                let size = s.feed_head(&f)?.map_or(0, |h| h.size);
                TiledTree::load(&FeedTiles { store: s, feed: &f }, size).map_err(|e| match e {
                    parley_log::tiles::TileError::Store(e) => e,
                    e => StoreError::Corrupt(e.to_string()),
                })
            })
            .await?;
        slot.tree = Some(tree.clone());
        Ok(tree)
    }

    /// How many times a cosignature was stored on `feed` since start.
    pub fn cosignature_generation(&self, feed: &FeedId) -> u64 {
        self.cosignature_generations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(feed)
            .copied()
            .unwrap_or(0)
    }

    /// Notes that a cosignature was stored on `feed`.
    pub fn cosignature_stored(&self, feed: &FeedId) {
        *self
            .cosignature_generations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(feed.clone())
            .or_default() += 1;
    }

    // Workers and links.

    /// The notifier that wakes the delivery worker for `peer`.
    pub fn wake_handle(&self, peer: &str) -> Arc<Notify> {
        self.wake
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(peer.to_string())
            .or_default()
            .clone()
    }

    pub fn wake(&self, peer: &str) {
        self.wake_handle(peer).notify_one();
    }

    /// Members and witnesses of a channel other than this node.
    pub fn wake_channel(&self, channel: &ChannelState) {
        for p in channel
            .charter
            .members
            .iter()
            .chain(&channel.charter.witnesses)
        {
            if *p != self.party {
                self.wake(p);
            }
        }
        self.wake_external_witnesses(channel);
    }

    /// The submission workers of the channel's external witnesses.
    pub fn wake_external_witnesses(&self, channel: &ChannelState) {
        for w in &channel.charter.external_witnesses {
            self.wake(&w.name());
        }
    }

    pub fn link(&self, peer: &str) -> LinkState {
        self.links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(peer)
            .cloned()
            .unwrap_or_default()
    }

    /// Records the outcome of a contact with a peer; returns true when the
    /// link just came (back) up.
    /// Keeps a peer's refusal as the link's last error without calling the
    /// link down: the peer answers, but will not take what is waiting.
    pub fn note_refusal(&self, peer: &str, why: String) {
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        links.entry(peer.to_string()).or_default().last_error = Some(why);
    }

    pub fn record_link(&self, peer: &str, result: Result<(), String>) -> bool {
        let now = Node::now();
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        let l = links.entry(peer.to_string()).or_default();
        let up = result.is_ok();
        let changed = l.up != Some(up);
        if changed {
            l.since = Some(now);
            l.up = Some(up);
        }
        match result {
            Ok(()) => {
                l.last_ok = Some(now);
                l.last_error = None;
            }
            Err(e) => l.last_error = Some(e),
        }
        drop(links);
        if changed {
            if up {
                tracing::info!(peer, "link up");
            } else {
                tracing::warn!(peer, "link down");
            }
            self.emit(Event::Link {
                peer: peer.to_string(),
                up,
            });
        }
        changed && up
    }
}
