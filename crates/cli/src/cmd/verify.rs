//! `parley verify BUNDLE`: offline verification of a proof bundle.

use parley_log::bundle::{Trust, verify_bundle};
use parley_log::policy::Policy;
use serde_json::json;

use super::{load_identity, load_vkey, read_input};
use crate::cli::VerifyArgs;
use crate::cmd::note::rfc3339;
use crate::output;

const BUNDLE_LIMIT: usize = 1 << 20;

pub(crate) fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let as_json = args.json.json;
    let trust = match &args.policy {
        Some(path) => {
            let text = String::from_utf8(read_input(path, BUNDLE_LIMIT)?)
                .map_err(|_| output::failure(as_json, "the policy file is not UTF-8"))?;
            Trust::Policy(Policy::parse(&text).map_err(|e| output::failure(as_json, e))?)
        }
        None => {
            let mut known = Vec::new();
            for path in &args.identities {
                let id = load_identity(path)?;
                known.extend(id.keys().iter().map(|(_, k)| k.clone()));
            }
            Trust::Keys {
                known,
                required: args
                    .vkeys
                    .iter()
                    .map(|v| load_vkey(v))
                    .collect::<anyhow::Result<_>>()?,
            }
        }
    };
    let bytes = read_input(&args.bundle, BUNDLE_LIMIT)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| output::failure(as_json, "the bundle is not UTF-8"))?;
    let v = verify_bundle(&text, &trust)
        .map_err(|e| output::failure(as_json, format!("the bundle does not verify: {e}")))?;
    let e = &v.entry;
    if as_json {
        return output::json(&json!({
            "ok": true,
            "entry": {
                "id": e.id(),
                "channel": e.channel,
                "author": e.author,
                "seq": e.seq,
                "time": e.time.to_string(),
                "kind": e.kind,
                "hash": v.leaf_hash.to_hex(),
                "refs": e.refs.iter().map(|r| r.to_hex()).collect::<Vec<_>>(),
                "body": e.body,
            },
            "checkpoint": {"origin": v.origin, "size": v.tree_size, "root": v.root.to_base64()},
            "receipts": v.receipts().map(|(p, t)| json!({"party": p, "time": t, "time_rfc3339": rfc3339(t)})).collect::<Vec<_>>(),
            "witnesses": v.witnesses().map(|(n, t)| json!({"name": n, "time": t, "time_rfc3339": rfc3339(t)})).collect::<Vec<_>>(),
        }));
    }
    let mut out = vec![
        format!("verified: entry {} ({})", e.id(), e.kind),
        format!("  author:   {}", e.author),
        format!("  channel:  {}", e.channel),
        format!("  sequence: {}", e.seq),
        format!("  time:     {} (as stated by the author)", e.time),
        format!("  hash:     {}", v.leaf_hash),
        format!(
            "  in feed {} of size {}, signed by {}",
            v.origin, v.tree_size, e.author
        ),
    ];
    if v.receipts().next().is_none() {
        out.push("  delivery: not proven (no receipt from a member in this bundle)".into());
    }
    for (party, t) in v.receipts() {
        out.push(format!(
            "  delivered to {party} at {} (receipt)",
            rfc3339(t)
        ));
    }
    for (name, t) in v.witnesses() {
        out.push(format!(
            "  witnessed by {name} at {} (no other history seen; not a receipt)",
            rfc3339(t)
        ));
    }
    output::lines(out)
}
