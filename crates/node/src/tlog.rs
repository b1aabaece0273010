//! Read-only C2SP tlog-tiles endpoints for every feed this node holds:
//! `/tlog/<channel>/<author>/checkpoint` and `…/tile/<L>/<N>[.p/<W>]`.
//! Entry bundles are never served (entries are for members only). Hashes
//! reveal no text (entries are salted), but checkpoints and tiles still
//! tell which channels exist, how much each party sent and who cosigned
//! when: by default they answer only the channel's members and witnesses,
//! identified by their TLS certificates. `[tlog] public` or
//! `public_channels` opens them to anyone (monitors, the press).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parley_log::tiles::{FULL_TILE_BYTES, TileKind, TilePath};
use parley_log::{Note, NoteSignature};
use parley_store::FeedId;

use crate::state::Node;

fn plain(status: StatusCode, body: String) -> Response {
    (
        status,
        [("content-type", "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Whether `caller` may read the tiles of `channel`. An unknown channel
/// answers as a closed one, so that closing does not reveal existence.
fn may_read(node: &Node, caller: &crate::tls::Caller, channel: &str) -> bool {
    if node.dir.config.tlog.is_public(channel) {
        return true;
    }
    let Some(party) = crate::federation::server::tls_party(node, caller) else {
        return false;
    };
    party == node.party
        || node
            .channel(channel)
            .is_some_and(|c| c.is_member(&party) || c.is_witness(&party))
}

fn closed() -> Response {
    plain(
        StatusCode::FORBIDDEN,
        "this channel's tiles are for its members and witnesses (connect with your node's \
         TLS certificate); its operator has not opened them\n"
            .into(),
    )
}

pub async fn checkpoint(
    State(node): State<Arc<Node>>,
    Extension(caller): Extension<crate::tls::Caller>,
    Path((channel, author)): Path<(String, String)>,
) -> Response {
    if !may_read(&node, &caller, &channel) {
        return closed();
    }
    let feed = FeedId::new(&channel, &author);
    let found = node
        .db(move |s| {
            let Some(head) = s.feed_head(&feed)? else {
                return Ok(None);
            };
            let Some(text) = s.checkpoint(&feed, head.size)? else {
                return Ok(None);
            };
            let cosigs = s.cosignatures(&feed, head.size)?;
            Ok(Some((text, cosigs)))
        })
        .await;
    match found {
        Ok(Some((text, cosigs))) => {
            let Ok(mut note) = Note::parse(text.as_bytes()) else {
                return plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "stored checkpoint unreadable\n".into(),
                );
            };
            for c in cosigs {
                if let Ok(sig) = NoteSignature::parse_line(&c.line) {
                    note.add_signature(sig);
                }
            }
            (
                [
                    ("content-type", "text/plain; charset=utf-8"),
                    ("cache-control", "no-cache, max-age=5"),
                ],
                note.to_string(),
            )
                .into_response()
        }
        Ok(None) => plain(StatusCode::NOT_FOUND, "no such feed\n".into()),
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

pub async fn tile(
    State(node): State<Arc<Node>>,
    Extension(caller): Extension<crate::tls::Caller>,
    Path((channel, author, rest)): Path<(String, String, String)>,
) -> Response {
    if !may_read(&node, &caller, &channel) {
        return closed();
    }
    let Ok(path) = TilePath::parse(&format!("tile/{rest}")) else {
        return plain(StatusCode::NOT_FOUND, "not a tile path\n".into());
    };
    let TileKind::Hashes(level) = path.kind else {
        return plain(
            StatusCode::FORBIDDEN,
            "entry bundles are for channel members only\n".into(),
        );
    };
    let feed = FeedId::new(&channel, &author);
    let index = path.index;
    let data = node.db(move |s| s.read_tile(&feed, level, index)).await;
    let want = path.width.map_or(FULL_TILE_BYTES, |w| usize::from(w) * 32);
    match data {
        Ok(Some(d)) if d.len() >= want => (
            [
                ("content-type", "application/octet-stream"),
                ("cache-control", "public, max-age=31536000, immutable"),
            ],
            d[..want].to_vec(),
        )
            .into_response(),
        Ok(_) => plain(StatusCode::NOT_FOUND, "no such tile\n".into()),
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}
