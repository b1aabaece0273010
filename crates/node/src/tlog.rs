//! Read-only C2SP tlog-tiles endpoints for every feed this node holds:
//! `/tlog/<channel>/<author>/checkpoint` and `…/tile/<L>/<N>[.p/<W>]`.
//! Hash tiles are public (entries are salted, so hashes reveal nothing);
//! entry bundles are not served, because entries are for members only.

use std::sync::Arc;

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

pub async fn checkpoint(
    State(node): State<Arc<Node>>,
    Path((channel, author)): Path<(String, String)>,
) -> Response {
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
    Path((channel, author, rest)): Path<(String, String, String)>,
) -> Response {
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
