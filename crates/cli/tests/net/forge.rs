//! Forging what a party could send: a feed rebuilt outside any node with
//! the party's own key, and raw HTTP to a node, for adversary tests.

#![allow(dead_code, unreachable_pub)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use parley_log::merkle::MemoryTree;
use parley_log::{Checkpoint, Entry, Hash, SigningKey, Timestamp, feed_origin};
use serde_json::{Value, json as j};

use super::Party;
pub use super::http;

/// POSTs a body as an outsider (no TLS certificate); returns the status
/// and the body text.
pub fn post(url: &str, body: Vec<u8>, content_type: &str) -> (u16, String) {
    post_with(super::tls::client(None), url, body, content_type)
}

/// POSTs a body over a connection showing `who`'s node certificate.
pub fn post_as(who: &Party, url: &str, body: Vec<u8>, content_type: &str) -> (u16, String) {
    post_with(super::tls::client(Some(who)), url, body, content_type)
}

/// GETs as `who` (its node certificate).
pub fn get_as(who: &Party, url: &str) -> (u16, String) {
    let (rt, _) = http();
    let c = super::tls::client(Some(who));
    rt.block_on(async {
        let r = c.get(url).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

fn post_with(c: reqwest::Client, url: &str, body: Vec<u8>, content_type: &str) -> (u16, String) {
    let (rt, _) = http();
    rt.block_on(async {
        let r = c
            .post(url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

pub fn get(url: &str) -> (u16, String) {
    let (rt, c) = http();
    rt.block_on(async {
        let r = c.get(url).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

/// A feed rebuilt outside any node, to forge updates with a party's key.
#[derive(Clone)]
pub struct Forge {
    pub key: SigningKey,
    pub channel: String,
    pub author: String,
    pub tree: MemoryTree,
    pub entries: Vec<Vec<u8>>,
}

impl Forge {
    pub fn new(key: SigningKey, channel: &str) -> Forge {
        Forge {
            author: key.name().to_string(),
            key,
            channel: channel.into(),
            tree: MemoryTree::new(),
            entries: vec![],
        }
    }

    /// Starts from a node's real feed, as served to members.
    pub fn from_node(key: SigningKey, channel: &str, node: &Party) -> Forge {
        let mut f = Forge::new(key, channel);
        let u = node.feed_update(channel, 0);
        for e in u["entries"].as_array().unwrap() {
            f.push_bytes(STANDARD.decode(e.as_str().unwrap()).unwrap());
        }
        f
    }

    pub fn push_bytes(&mut self, bytes: Vec<u8>) {
        // Bytes that are not an entry (to test refusals) hash as they are.
        let leaf =
            parley_log::entry::leaf_of(&bytes).unwrap_or_else(|_| parley_log::leaf_hash(&bytes));
        self.tree.append(leaf);
        self.entries.push(bytes);
    }

    pub fn entry(&self, kind: &str, body: Value) -> Entry {
        Entry {
            channel: self.channel.clone(),
            author: self.author.clone(),
            seq: self.entries.len() as u64,
            time: Timestamp::now(),
            kind: kind.into(),
            refs: vec![],
            salt: Entry::random_salt(),
            body,
        }
    }

    pub fn message(&mut self, text: &str) {
        let e = self.entry(
            "hotline_message",
            j!({"priority": "routine", "text": {"en": text}}),
        );
        self.push_bytes(e.encode().unwrap());
    }

    pub fn checkpoint(&self) -> String {
        let origin = feed_origin(&self.channel, &self.author);
        Checkpoint::new(&origin, self.tree.size(), self.tree.root())
            .sign(&self.key.renamed(&origin).unwrap())
            .unwrap()
            .to_string()
    }

    /// The update from `from` to the current size, as an honest sender
    /// makes it (stating its root at `from`).
    pub fn update(&mut self, from: u64) -> Value {
        let mut u = self.update_without_root(from);
        if from > 0 {
            u["old_root"] = j!(self.tree.root_at(from).to_base64());
        }
        u
    }

    /// The update from `from` without the sender's root at `from`.
    pub fn update_without_root(&mut self, from: u64) -> Value {
        let size = self.tree.size();
        let proof: Vec<String> = if from > 0 && from < size {
            self.tree
                .consistency_proof(from, size)
                .unwrap()
                .iter()
                .map(Hash::to_base64)
                .collect()
        } else {
            vec![]
        };
        j!({
            "channel": self.channel,
            "author": self.author,
            "old_size": from,
            "entries": self.entries[from as usize..].iter().map(|e| STANDARD.encode(e)).collect::<Vec<_>>(),
            "checkpoint": self.checkpoint(),
            "consistency": proof,
        })
    }
}

/// Pushes an update to `to` as its author would: over a connection
/// showing the author's node certificate (the author's directory is
/// beside `to`'s).
pub fn push(to: &Party, update: &Value) -> (u16, Value) {
    let author = update["author"].as_str().unwrap_or_default();
    let dir = to.dir.parent().unwrap().join(author);
    if !dir.exists() {
        // No such party: an outsider, without a pinned certificate.
        let (status, body) = post(
            &format!("{}/federation/v1/push", to.url()),
            update.to_string().into_bytes(),
            "application/json",
        );
        return (
            status,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        );
    }
    let from = Party::at(author, &dir);
    push_as(&from, to, update)
}

/// Pushes an update to `to` over a connection showing `from`'s certificate.
pub fn push_as(from: &Party, to: &Party, update: &Value) -> (u16, Value) {
    let (status, body) = post_as(
        from,
        &format!("{}/federation/v1/push", to.url()),
        update.to_string().into_bytes(),
        "application/json",
    );
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}
