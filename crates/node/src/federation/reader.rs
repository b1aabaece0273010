//! Who may read a feed. Catch-up (`GET /federation/v1/feeds/…`) hands out a
//! feed's entries, which only the channel's members may see, so the reader
//! signs its request with its node key: a short note naming itself, the
//! feed, the size it reads from, the time and a random nonce, sent base64
//! in the `Parley-Reader` header. The author's node answers only a pinned
//! peer that is a member of the channel (or itself), only once per nonce
//! (a captured header does not read the feed again), and over TLS only
//! the party whose certificate the connection showed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use parley_log::{Note, SigningKey};
use parley_store::FeedId;

use super::wire::{Reason, Refused};
use crate::state::Node;

/// The request header that carries the signed read request.
pub const HEADER: &str = "parley-reader";
const READ: &str = "parley/feed-read/v2";

/// The header value for `reader` (whose node key is `key`) reading `feed`
/// from `from` on.
pub fn request(key: &SigningKey, reader: &str, feed: &FeedId, from: u64) -> String {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).expect("the OS random source is available");
    let text = format!(
        "{READ}\nreader {}\nfeed {}\nfrom {from}\ntime {}\nnonce {}\n",
        reader,
        feed.origin(),
        crate::clock::now().unix(),
        parley_log::hash::hex_encode(&nonce)
    );
    let mut note = Note::new(&text).expect("well-formed text");
    note.sign(key);
    STANDARD.encode(note.to_string())
}

fn bad(what: impl Into<String>) -> Refused {
    Refused::new(Reason::BadRequest, format!("{HEADER}: {}", what.into()))
}

/// Checks a read request for `feed` from `from`; returns the reader.
/// `tls_party` is the pinned party the connection's certificate proved,
/// when the node speaks TLS.
pub fn check(
    node: &Node,
    feed: &FeedId,
    from: u64,
    header: Option<&str>,
    tls_party: Option<&str>,
) -> Result<String, Refused> {
    let header = header.ok_or_else(|| {
        Refused::new(
            Reason::BadSignature,
            format!("reading a feed needs a signed {HEADER} header from a member"),
        )
    })?;
    let bytes = STANDARD
        .decode(header.trim())
        .map_err(|e| bad(format!("not base64: {e}")))?;
    let note = Note::parse(&bytes).map_err(|e| bad(e.to_string()))?;
    let text = note.text().to_string();
    let fields: Vec<(&str, &str)> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(' '))
        .collect();
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| bad(format!("no \"{name}\" line")))
    };
    if text.lines().next() != Some(READ) {
        return Err(bad(format!("must start with {READ}")));
    }
    let reader = get("reader")?.to_string();
    if get("feed")? != feed.origin() || get("from")? != from.to_string() {
        return Err(bad("signed for another feed or size than the one asked"));
    }
    let time: i64 = get("time")?.parse().map_err(|_| bad("bad time"))?;
    let nonce = get("nonce")?.to_string();
    if let Some(tls) = tls_party
        && tls != reader
    {
        return Err(Refused::new(
            Reason::NotAuthenticated,
            format!("the connection is {tls}'s, but the read request is signed as {reader}"),
        ));
    }
    let keys = node
        .keys
        .identity_of(&reader)
        .ok_or_else(|| {
            Refused::new(
                Reason::UnknownAuthor,
                format!("{reader:?} is not a pinned peer"),
            )
        })?
        .all(parley_log::identity::Role::Node)
        .cloned()
        .collect::<Vec<_>>();
    note.verify(&keys)
        .map_err(|e| Refused::new(Reason::BadSignature, format!("{HEADER}: {e}")))?;
    node.replays
        .check(&reader, time, &nonce, crate::clock::now().unix())
        .map_err(|why| Refused::new(Reason::BadRequest, format!("{HEADER}: {why}")))?;
    let member = node
        .channel(&feed.channel)
        .is_some_and(|c| c.is_member(&reader));
    if !member && reader != node.party {
        return Err(Refused::new(
            Reason::NotMember,
            format!("{reader} is not a member of channel {:?}", feed.channel),
        ));
    }
    Ok(reader)
}
