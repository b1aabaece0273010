//! Store and forward: one delivery worker per peer pushes this node's
//! feeds to members and checkpoints to witnesses, until each is
//! acknowledged, retrying with exponential backoff and jitter. What is
//! waiting is never kept as a copy: it is "the feed beyond what the peer
//! has cosigned", so nothing can be lost or sent twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parley_store::{DeliveryRole, FeedId};
use tokio::sync::watch;

use super::client::{self, CallError};
use super::wire::{FeedUpdate, Reason, ReceiptMessage};
use super::witness_client;
use crate::feeds;
use crate::state::Node;

/// Exponential backoff with full jitter.
struct Backoff {
    initial: u64,
    max: u64,
    current: u64,
}

impl Backoff {
    fn new(initial: u64, max: u64) -> Backoff {
        Backoff {
            initial,
            max,
            current: 0,
        }
    }

    fn reset(&mut self) {
        self.current = 0;
    }

    fn next(&mut self) -> Duration {
        self.current = if self.current == 0 {
            self.initial
        } else {
            (self.current * 2).min(self.max)
        };
        let mut r = [0u8; 8];
        getrandom::fill(&mut r).expect("the OS random source is available");
        let jitter = u64::from_le_bytes(r) % (self.current / 2 + 1);
        Duration::from_millis(self.current / 2 + jitter)
    }
}

/// What one pass of a worker achieved.
enum Pass {
    /// Nothing is waiting.
    Idle,
    /// Progress was made; more may be waiting.
    Progress,
    /// Nothing can be done before this long (work held back to be sent
    /// together with what follows it).
    Due(Duration),
}

/// Where the worker believes the peer is, per feed and role.
type Cursors = HashMap<(FeedId, DeliveryRole), u64>;

/// One kind of delivery work: a pass does what is waiting, at most a batch
/// per feed.
trait Worker {
    /// The name its wake handle and link status are kept under.
    fn name(&self) -> &str;
    async fn pass(&mut self, node: &Arc<Node>) -> Result<Pass, CallError>;
    /// Called when a pass fails, before waiting.
    fn failed(&self, node: &Node, e: &CallError, retry_in: Duration);
}

/// Runs a worker until shutdown: again at once after progress, after 30 s
/// when idle, after exponential backoff with jitter on failure. A wake
/// ends an idle wait; it ends a backoff only once the link is up again.
async fn run_worker(node: Arc<Node>, mut worker: impl Worker, mut shutdown: watch::Receiver<bool>) {
    let fed = &node.dir.config.federation;
    let mut backoff = Backoff::new(fed.retry_initial_ms, fed.retry_max_ms);
    let wake = node.wake_handle(worker.name());
    loop {
        let wait = match worker.pass(&node).await {
            Ok(Pass::Progress) => {
                backoff.reset();
                continue;
            }
            Ok(Pass::Idle) => {
                backoff.reset();
                // Idle feeds are resubmitted to witnesses for fresh
                // cosignatures, so wake at least that often.
                Duration::from_secs(30.min(fed.witness_refresh_secs.max(1)))
            }
            Ok(Pass::Due(d)) => {
                backoff.reset();
                d
            }
            Err(e) => {
                let d = backoff.next();
                worker.failed(&node, &e, d);
                d
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified(), if backoff.current == 0 || node.link(worker.name()).up == Some(true) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Delivers this node's feeds to one member, and checkpoints to one
/// parley witness.
struct PeerWorker {
    peer: String,
    cursors: Cursors,
    /// When this node last shared cosignatures of each feed with the peer.
    shared_at: HashMap<FeedId, std::time::Instant>,
    /// When this node last submitted each feed to the peer as a witness.
    witnessed: Pace,
}

impl Worker for PeerWorker {
    fn name(&self) -> &str {
        &self.peer
    }

    async fn pass(&mut self, node: &Arc<Node>) -> Result<Pass, CallError> {
        deliver(
            node,
            &self.peer,
            &mut self.cursors,
            &mut self.shared_at,
            &mut self.witnessed,
        )
        .await
    }

    fn failed(&self, _node: &Node, e: &CallError, retry_in: Duration) {
        tracing::debug!(peer = %self.peer, error = %e, retry_in_ms = retry_in.as_millis() as u64, "delivery failed");
    }
}

/// Runs the delivery worker of one peer until shutdown.
pub async fn run_peer(node: Arc<Node>, peer: String, shutdown: watch::Receiver<bool>) {
    let worker = PeerWorker {
        peer,
        cursors: Cursors::new(),
        shared_at: HashMap::new(),
        witnessed: Pace::default(),
    };
    run_worker(node, worker, shutdown).await;
}

async fn cursor(
    node: &Arc<Node>,
    cursors: &mut Cursors,
    peer: &str,
    feed: &FeedId,
    role: DeliveryRole,
) -> Result<u64, CallError> {
    if let Some(c) = cursors.get(&(feed.clone(), role)) {
        return Ok(*c);
    }
    let (p, f) = (peer.to_string(), feed.clone());
    let c = node
        .db(move |s| s.delivered(&p, &f, role))
        .await
        .map_err(|e| CallError::Protocol(e.to_string()))?;
    cursors.insert((feed.clone(), role), c);
    Ok(c)
}

/// One pass: at most one batch per feed, pushes first, then witness work.
async fn deliver(
    node: &Arc<Node>,
    peer: &str,
    cursors: &mut Cursors,
    shared_at: &mut HashMap<FeedId, std::time::Instant>,
    witnessed: &mut Pace,
) -> Result<Pass, CallError> {
    let mut due: Option<Duration> = None;
    let Some(info) = node.peer(peer) else {
        return Ok(Pass::Idle);
    };
    let mut progress = false;
    let max = node.dir.config.federation.max_batch_entries;
    for channel in node.channels_with_member(&node.party) {
        let feed = FeedId::new(&channel.id, &node.party);
        if channel.is_member(peer) {
            let from = cursor(node, cursors, peer, &feed, DeliveryRole::Push).await?;
            let Some(update) = feeds::build_update(node, &feed, from, max)
                .await
                .map_err(|e| CallError::Protocol(e.to_string()))?
            else {
                continue;
            };
            match client::push(node, &info, &FeedUpdate::encode(&update)).await {
                Ok(reply) => {
                    node.record_link(peer, Ok(()));
                    feeds::accept_cosignature(
                        node,
                        &feed,
                        reply.size,
                        peer,
                        &reply.cosignature,
                        DeliveryRole::Push,
                    )
                    .await
                    .map_err(|r| CallError::Protocol(format!("{peer}'s receipt: {r}")))?;
                    cursors.insert((feed, DeliveryRole::Push), reply.size);
                    progress = true;
                }
                Err(CallError::Refused { body, .. })
                    if body.error == Reason::SizeMismatch.as_str() && body.size.is_some() =>
                {
                    node.record_link(peer, Ok(()));
                    cursors.insert((feed, DeliveryRole::Push), body.size.unwrap_or(0));
                    progress = true;
                }
                Err(e) => {
                    node.record_link(
                        peer,
                        if e.reached() {
                            Ok(())
                        } else {
                            Err(e.to_string())
                        },
                    );
                    if e.reached() {
                        // The link works, but delivery is stuck: say why.
                        node.note_refusal(peer, e.to_string());
                        tracing::warn!(%peer, feed = %feed.origin(), error = %e, "push refused");
                    }
                    return Err(e);
                }
            }
        }
    }
    for channel in node.channels_with_member(&node.party) {
        if channel.is_member(peer) {
            let feed = FeedId::new(&channel.id, &node.party);
            // Under load, cosignatures are shared together, a few times a
            // second, rather than one message per receipt: with dozens of
            // members every receipt is shared with every other member.
            let since = shared_at.get(&feed).map(std::time::Instant::elapsed);
            if let Some(wait) = since.and_then(|s| SHARE_INTERVAL.checked_sub(s))
                && !wait.is_zero()
            {
                if node.cosignature_generation(&feed)
                    != cursors
                        .get(&(feed.clone(), DeliveryRole::Shared))
                        .copied()
                        .unwrap_or(u64::MAX)
                {
                    due = Some(due.map_or(wait, |d| d.min(wait)));
                }
                continue;
            }
            let (read, more) = share(node, &info, &feed, cursors).await?;
            if read {
                shared_at.insert(feed, std::time::Instant::now());
            }
            progress |= more;
        }
    }
    for channel in node
        .channel_list()
        .into_iter()
        .filter(|c| c.is_witness(peer))
    {
        for author in &channel.charter.members {
            let feed = FeedId::new(&channel.id, author);
            if let Some(wait) = witnessed.wait(&feed) {
                due = Some(due.map_or(wait, |d| d.min(wait)));
                continue;
            }
            let at = cursor(node, cursors, peer, &feed, DeliveryRole::Witness).await?;
            let target = witness_client::WitnessTarget::parley(&info);
            match witness_client::submit(node, &target, &feed, at).await? {
                Some(next) => {
                    witnessed.submitted(&feed);
                    cursors.insert((feed, DeliveryRole::Witness), next);
                    progress = true;
                }
                None => continue,
            }
        }
    }
    Ok(match (progress, due) {
        (true, _) => Pass::Progress,
        (false, Some(d)) => Pass::Due(d),
        (false, None) => Pass::Idle,
    })
}

/// Submits checkpoints to one external C2SP witness.
struct ExternalWorker {
    target: witness_client::WitnessTarget,
    witness: parley_domain::ExternalWitness,
    cursors: Cursors,
    submitted: Pace,
}

impl Worker for ExternalWorker {
    fn name(&self) -> &str {
        &self.target.name
    }

    async fn pass(&mut self, node: &Arc<Node>) -> Result<Pass, CallError> {
        witness_pass(
            node,
            &self.target,
            &self.witness,
            &mut self.cursors,
            &mut self.submitted,
        )
        .await
    }

    fn failed(&self, node: &Node, e: &CallError, retry_in: Duration) {
        node.note_refusal(&self.target.name, e.to_string());
        tracing::warn!(witness = %self.target.name, error = %e, retry_in_ms = retry_in.as_millis() as u64, "witness submission failed");
    }
}

/// Runs the submissions to one external C2SP witness until shutdown: for
/// every channel that names it, the latest checkpoint of each member feed
/// this node holds, one request in flight, retried with exponential
/// backoff after any failure.
pub async fn run_external_witness(
    node: Arc<Node>,
    witness: parley_domain::ExternalWitness,
    shutdown: watch::Receiver<bool>,
) {
    let target = match witness_client::WitnessTarget::external(&witness) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(vkey = %witness.vkey, "external witness: {e}");
            return;
        }
    };
    let worker = ExternalWorker {
        target,
        witness,
        cursors: Cursors::new(),
        submitted: Pace::default(),
    };
    run_worker(node, worker, shutdown).await;
}

/// One pass over the member feeds of the channels naming `witness`.
async fn witness_pass(
    node: &Arc<Node>,
    target: &witness_client::WitnessTarget,
    witness: &parley_domain::ExternalWitness,
    cursors: &mut Cursors,
    submitted: &mut Pace,
) -> Result<Pass, CallError> {
    let mut progress = false;
    let mut due: Option<Duration> = None;
    for channel in node
        .channel_list()
        .into_iter()
        .filter(|c| c.charter.external_witnesses.contains(witness) && c.is_member(&node.party))
    {
        for author in &channel.charter.members {
            let feed = FeedId::new(&channel.id, author);
            if let Some(wait) = submitted.wait(&feed) {
                due = Some(due.map_or(wait, |d| d.min(wait)));
                continue;
            }
            let at = cursor(node, cursors, &target.name, &feed, DeliveryRole::Witness).await?;
            if let Some(next) = witness_client::submit(node, target, &feed, at).await? {
                submitted.submitted(&feed);
                cursors.insert((feed, DeliveryRole::Witness), next);
                progress = true;
            }
        }
    }
    Ok(match (progress, due) {
        (true, _) => Pass::Progress,
        (false, Some(d)) => Pass::Due(d),
        (false, None) => Pass::Idle,
    })
}

/// Least time between two submissions of one feed to one witness. Under
/// load a witness then sees each log at most ten times a second from each
/// member, whatever the rate of checkpoints: the latest checkpoint is
/// submitted, and everything before it is covered by its consistency
/// proof. The first submission after a quiet spell goes at once.
const WITNESS_INTERVAL: Duration = Duration::from_millis(100);

/// When each feed was last submitted to one witness.
#[derive(Default)]
struct Pace(HashMap<FeedId, std::time::Instant>);

impl Pace {
    /// How long to wait before `feed` may be submitted again, if at all.
    fn wait(&self, feed: &FeedId) -> Option<Duration> {
        let since = self.0.get(feed)?.elapsed();
        WITNESS_INTERVAL.checked_sub(since).filter(|w| !w.is_zero())
    }

    fn submitted(&mut self, feed: &FeedId) {
        self.0.insert(feed.clone(), std::time::Instant::now());
    }
}

/// Most cosignatures in one message.
const SHARE_BATCH: u64 = 512;
/// Least time between two shares of one feed with one member.
const SHARE_INTERVAL: Duration = Duration::from_millis(250);

/// Shares with member `peer` the cosignatures this node holds on its own
/// `feed` that `peer` lacks (others' receipts, witness cosignatures), in
/// the order this node stored them, from where the last share stopped
/// (the `shared` delivery cursor is a store position). A cosignature for a
/// size `peer` does not hold yet waits, and everything after it, until
/// `peer` holds that size. Returns whether it read the store (there was
/// something new), and whether there may be more to share at once.
async fn share(
    node: &Arc<Node>,
    peer: &crate::state::PeerInfo,
    feed: &FeedId,
    cursors: &mut Cursors,
) -> Result<(bool, bool), CallError> {
    // Nothing new stored on this feed since the last pass: nothing to read.
    let generation = node.cosignature_generation(feed);
    if cursors.get(&(feed.clone(), DeliveryRole::Shared)) == Some(&generation) {
        return Ok((false, false));
    }
    let (p, f) = (peer.party.clone(), feed.clone());
    let (held, batch) = node
        .db(move |s| {
            let held = s.delivered(&p, &f, DeliveryRole::Push)?;
            let after = s.delivered(&p, &f, DeliveryRole::Shared)?;
            Ok((held, s.cosignatures_stored_after(&f, after, SHARE_BATCH)?))
        })
        .await
        .map_err(|e| CallError::Protocol(e.to_string()))?;
    let full = batch.len() as u64 == SHARE_BATCH;
    let ready: Vec<_> = batch.iter().take_while(|(_, c)| c.size <= held).collect();
    let waiting = ready.len() < batch.len();
    let Some(&(last, _)) = ready.last().copied() else {
        if !waiting {
            cursors.insert((feed.clone(), DeliveryRole::Shared), generation);
        }
        return Ok((true, false));
    };
    let lines: Vec<_> = ready
        .iter()
        .filter(|(_, c)| c.cosigner != peer.party)
        .map(|(_, c)| super::wire::SharedLine {
            size: c.size,
            cosigner: c.cosigner.clone(),
            statement: c.statement.as_str().to_string(),
            line: c.line.clone(),
        })
        .collect();
    if !lines.is_empty() {
        let msg = super::wire::SharedCosignatures {
            channel: feed.channel.clone(),
            author: feed.author.clone(),
            cosignatures: lines,
        };
        client::share_cosignatures(node, peer, &msg).await?;
    }
    let (p, f) = (peer.party.clone(), feed.clone());
    node.db(move |s| s.set_delivered(&p, &f, DeliveryRole::Shared, last))
        .await
        .map_err(|e| CallError::Protocol(e.to_string()))?;
    if !full && !waiting {
        cursors.insert((feed.clone(), DeliveryRole::Shared), generation);
    }
    Ok((true, full))
}

/// Pulls what this node lacks of `peer`'s feeds (after a restart or when
/// the link returns), stores it with the same checks as a push, and sends
/// the receipts back.
pub async fn catch_up(node: Arc<Node>, peer: String) {
    let Some(info) = node.peer(&peer) else { return };
    for channel in node.channels_with_member(&peer) {
        if !channel.is_member(&node.party) {
            continue;
        }
        let feed = FeedId::new(&channel.id, &peer);
        loop {
            let f = feed.clone();
            let from = match node.db(move |s| s.feed_head(&f)).await {
                Ok(h) => h.map_or(0, |h| h.size),
                Err(e) => {
                    tracing::error!(error = %e, "catch-up: reading the feed head");
                    return;
                }
            };
            let update = match client::pull(&node, &info, &feed, from).await {
                Ok(Some(u)) => u,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "catch-up pull failed");
                    return;
                }
            };
            let update = match update.decode() {
                Ok(u) => u,
                Err(r) => {
                    tracing::warn!(%peer, "catch-up answer refused: {r}");
                    break;
                }
            };
            match feeds::ingest(&node, update).await {
                Ok(reply) => {
                    tracing::info!(%peer, feed = %feed.origin(), size = reply.size, "caught up");
                    let msg = ReceiptMessage {
                        channel: feed.channel.clone(),
                        author: feed.author.clone(),
                        size: reply.size,
                        cosigner: node.party.clone(),
                        cosignature: reply.cosignature,
                    };
                    if let Err(e) = client::send_receipt(&node, &info, &msg).await {
                        tracing::debug!(%peer, error = %e, "receipt after catch-up not delivered");
                    }
                }
                Err(e) => {
                    tracing::warn!(%peer, "catch-up refused: {e}");
                    break;
                }
            }
        }
    }
}
