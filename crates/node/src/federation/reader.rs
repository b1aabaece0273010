//! Who may read a feed. Catch-up (`GET /federation/v1/feeds/…`) hands out a
//! feed's entries, which only the channel's members may see, so the reader
//! signs its request with its node key: a short note naming itself, the
//! feed, the size it reads from and the time, sent base64 in the
//! `Parley-Reader` header. The author's node answers only a pinned peer
//! that is a member of the channel (or itself).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use parley_log::{Note, SigningKey, Timestamp};
use parley_store::FeedId;

use super::wire::{Reason, Refused};
use crate::state::Node;

/// The request header that carries the signed read request.
pub const HEADER: &str = "parley-reader";
const READ: &str = "parley/feed-read/v1";
/// Requests older or newer than this are refused (replays, bad clocks).
const MAX_SKEW_SECS: i64 = 600;

/// The header value for `reader` (whose node key is `key`) reading `feed`
/// from `from` on.
pub fn request(key: &SigningKey, reader: &str, feed: &FeedId, from: u64) -> String {
    let text = format!(
        "{READ}\nreader {}\nfeed {}\nfrom {from}\ntime {}\n",
        reader,
        feed.origin(),
        Timestamp::now().unix()
    );
    let mut note = Note::new(&text).expect("well-formed text");
    note.sign(key);
    STANDARD.encode(note.to_string())
}

fn bad(what: impl Into<String>) -> Refused {
    Refused::new(Reason::BadRequest, format!("{HEADER}: {}", what.into()))
}

/// Checks a read request for `feed` from `from`; returns the reader.
pub fn check(
    node: &Node,
    feed: &FeedId,
    from: u64,
    header: Option<&str>,
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
    if (Timestamp::now().unix() - time).abs() > MAX_SKEW_SECS {
        return Err(bad(format!(
            "signed at {time}, more than {MAX_SKEW_SECS} s from now"
        )));
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
