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
    if text.trim_start().starts_with('{') && text.contains(parley_log::silence::SILENCE_FORMAT) {
        return silence(&text, &trust, as_json);
    }
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

/// Checks a proof of silence and prints what it proves.
fn silence(text: &str, trust: &Trust, as_json: bool) -> anyhow::Result<()> {
    let proof = parley_log::silence::SilenceProof::from_json(text)
        .map_err(|e| output::failure(as_json, e))?;
    let answering = |kind: &str| {
        parley_domain::obligations::answering_kinds(kind)
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
    };
    let p = proof.verify(trust, &answering).map_err(|e| {
        output::failure(as_json, format!("the proof of silence does not hold: {e}"))
    })?;
    let e = &p.request.entry;
    let after_deadline = p.deadline.map(|d| p.as_of as i64 - d.unix());
    if as_json {
        return output::json(&json!({
            "ok": true,
            "silence": {
                "request": {"id": e.id(), "kind": e.kind, "author": e.author, "hash": p.request.leaf_hash.to_hex()},
                "debtor": p.debtor,
                "delivered_at": rfc3339(p.delivered_at),
                "debtor_feed_size": p.size,
                "as_of": rfc3339(p.as_of),
                "as_of_by": p.as_of_by,
                "deadline": p.deadline.map(|d| d.to_string()),
                "seconds_after_deadline": after_deadline,
                "answered_by": answering(&e.kind),
                "referencing_without_answering": p.referencing.iter().map(|(id, k)| json!({"id": id, "kind": k})).collect::<Vec<_>>(),
            }
        }));
    }
    let mut out = vec![
        format!(
            "proven: {} has not answered {} ({}) by {}",
            p.debtor,
            e.id(),
            e.kind,
            e.author
        ),
        format!(
            "  delivered to {} at {} (its receipt)",
            p.debtor,
            rfc3339(p.delivered_at)
        ),
        format!(
            "  {}'s feed in {}: all {} entries up to {} (cosigned by {}); none is a {} referencing it",
            p.debtor,
            e.channel,
            p.size,
            rfc3339(p.as_of),
            p.as_of_by,
            answering(&e.kind).join(" or ")
        ),
    ];
    match (p.deadline, after_deadline) {
        (Some(d), Some(secs)) if secs >= 0 => out.push(format!(
            "  deadline {d}: still no answer {} after it",
            super::domain::duration(secs)
        )),
        (Some(d), Some(secs)) => out.push(format!(
            "  deadline {d}: this proof shows silence only until {} before it",
            super::domain::duration(-secs)
        )),
        _ => out.push("  no deadline stated".into()),
    }
    for (id, kind) in &p.referencing {
        out.push(format!("  referenced without an answer by {id} ({kind})"));
    }
    out.push("  only the headers of the debtor's entries are revealed, never their bodies".into());
    output::lines(out)
}
