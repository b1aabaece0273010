//! Link tests: a small signed note to each peer at a fixed interval, and
//! its signed answer. They keep each link's status, and bring catch-up
//! and delivery back as soon as a link returns.

use std::sync::Arc;
use std::time::Duration;

use parley_log::Note;
use tokio::sync::watch;

use super::client;
use super::wire::{Reason, Refused};
use crate::state::Node;

const PING: &str = "parley/link-test/v1";
const PONG: &str = "parley/link-test-reply/v1";

fn field<'a>(lines: &[&'a str], i: usize, name: &str) -> Result<&'a str, Refused> {
    lines
        .get(i)
        .and_then(|l| l.strip_prefix(name))
        .and_then(|l| l.strip_prefix(' '))
        .ok_or_else(|| {
            Refused::new(
                Reason::BadRequest,
                format!("link test: line {} must be \"{name} …\"", i + 1),
            )
        })
}

/// A link test from this node to `peer`, signed with the node key.
pub fn ping_note(node: &Node, peer: &str) -> String {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).expect("the OS random source is available");
    let text = format!(
        "{PING}\nfrom {}\nto {peer}\ntime {}\nnonce {}\n",
        node.party,
        crate::clock::now().unix(),
        parley_log::hash::hex_encode(&nonce)
    );
    let mut note = Note::new(&text).expect("well-formed text");
    node.keys.node_sign(&mut note);
    note.to_string()
}

/// Checks a peer's link test and signs the answer. Returns the sender.
/// A link test is accepted once (its nonce is remembered), within the
/// allowed clock skew, and over TLS only from the party the connection's
/// certificate proved (`tls_party`).
pub fn answer(
    node: &Node,
    body: &[u8],
    tls_party: Option<&str>,
) -> Result<(String, String), Refused> {
    let note = Note::parse(body)
        .map_err(|e| Refused::new(Reason::BadRequest, format!("link test: {e}")))?;
    let lines: Vec<&str> = note.text().lines().collect();
    if lines.first() != Some(&PING) {
        return Err(Refused::new(
            Reason::BadRequest,
            format!("link test must start with {PING}"),
        ));
    }
    let from = field(&lines, 1, "from")?;
    let to = field(&lines, 2, "to")?;
    let time: i64 = field(&lines, 3, "time")?
        .parse()
        .map_err(|_| Refused::new(Reason::BadRequest, "link test: bad time"))?;
    let nonce = field(&lines, 4, "nonce")?;
    if let Some(tls) = tls_party
        && tls != from
    {
        return Err(Refused::new(
            Reason::NotAuthenticated,
            format!("the connection is {tls}'s, but the link test is signed as {from}"),
        ));
    }
    if to != node.party {
        return Err(Refused::new(
            Reason::BadRequest,
            format!("this is {}, not {to}", node.party),
        ));
    }
    let peer = node.peer(from).ok_or_else(|| {
        Refused::new(
            Reason::UnknownAuthor,
            format!("{from:?} is not a pinned peer"),
        )
    })?;
    note.verify(&peer.keys(parley_log::identity::Role::Node))
        .map_err(|e| Refused::new(Reason::BadSignature, format!("link test: {e}")))?;
    let now = crate::clock::now().unix();
    node.replays
        .check(from, time, nonce, now)
        .map_err(|why| Refused::new(Reason::BadRequest, format!("link test: {why}")))?;
    let ping_hash = parley_log::leaf_hash(note.text().as_bytes());
    let text = format!(
        "{PONG}\nfrom {}\nto {from}\nping {ping_hash}\ntime {now}\n",
        node.party
    );
    let mut reply = Note::new(&text).expect("well-formed text");
    node.keys.node_sign(&mut reply);
    Ok((from.to_string(), reply.to_string()))
}

/// Sends one link test and checks the signed answer.
pub async fn test_link(node: &Node, peer: &str) -> Result<(), String> {
    let info = node.peer(peer).ok_or("not a pinned peer")?;
    let ping = ping_note(node, peer);
    let ping_text = Note::parse(ping.as_bytes())
        .map_err(|e| e.to_string())?
        .text()
        .to_string();
    let reply = client::ping(node, &info, ping)
        .await
        .map_err(|e| e.to_string())?;
    let note = Note::parse(reply.as_bytes()).map_err(|e| format!("reply: {e}"))?;
    note.verify(&info.keys(parley_log::identity::Role::Node))
        .map_err(|e| format!("reply: {e}"))?;
    let want = format!("ping {}", parley_log::leaf_hash(ping_text.as_bytes()));
    if !note.text().starts_with(PONG) || !note.text().lines().any(|l| l == want) {
        return Err("the reply does not answer this link test".into());
    }
    Ok(())
}

/// Tests every peer's link at the configured interval until shutdown.
pub async fn run(node: Arc<Node>, mut shutdown: watch::Receiver<bool>) {
    let every = Duration::from_secs(node.dir.config.federation.link_test_interval_secs.max(1));
    loop {
        if let Err(e) = crate::feeds::refresh_receipts(&node).await {
            tracing::warn!(error = %e, "refreshing receipts");
        }
        for p in node.peer_list() {
            let node = node.clone();
            tokio::spawn(async move {
                crate::rotation::deliver(&node, &p.party).await;
                let result = test_link(&node, &p.party).await;
                if let Err(e) = &result {
                    tracing::debug!(peer = %p.party, error = %e, "link test failed");
                }
                if node.record_link(&p.party, result) {
                    node.wake(&p.party);
                    super::outbox::catch_up(node.clone(), p.party.clone()).await;
                }
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}
