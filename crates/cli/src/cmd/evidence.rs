//! `parley evidence …`.

use parley_log::equivocation::Equivocation;
use serde_json::json;

use super::api::{Api, report};
use super::{load_log_keys, read_input};
use crate::cli::{EvidenceCommand, NodeArgs};
use crate::output;

pub(crate) fn run(cmd: EvidenceCommand) -> anyhow::Result<()> {
    match cmd {
        EvidenceCommand::List(NodeArgs { dir, json }) => {
            let api = Api::open(&dir.dir)?;
            let list = api.get("/evidence").map_err(|e| report(json.json, e))?;
            if json.json {
                return output::json(&list);
            }
            let rows = list.as_array().cloned().unwrap_or_default();
            if rows.is_empty() {
                return output::lines(["no evidence"]);
            }
            output::lines(rows.iter().map(|e| {
                format!(
                    "#{} {} {} {} ({}): {}",
                    e["id"],
                    e["kind"].as_str().unwrap_or(""),
                    e["party"].as_str().unwrap_or(""),
                    e["origin"].as_str().unwrap_or(""),
                    if e["proven"] == true {
                        "proven"
                    } else {
                        "unproven"
                    },
                    e["summary"].as_str().unwrap_or("")
                )
            }))
        }
        EvidenceCommand::Export { dir, id } => {
            let api = Api::open(&dir.dir)?;
            // JSON: unsafe characters as \u escapes, the same document.
            let text = api.get_text(&format!("/evidence/{id}"))?;
            print!("{}", output::safe_json(&text));
            Ok(())
        }
        EvidenceCommand::Verify { file, vkey, json } => {
            let keys = load_log_keys(&vkey)?;
            let text = String::from_utf8(read_input(&file, 1 << 20)?)
                .map_err(|_| output::failure(json.json, "the evidence file is not UTF-8"))?;
            let ev = Equivocation::from_json(&text).map_err(|e| output::failure(json.json, e))?;
            let mut last = None;
            let (key, proven) = keys
                .iter()
                .find_map(|k| match ev.verify(k) {
                    Ok(p) => Some((k, p)),
                    Err(e) => {
                        last = Some(e);
                        None
                    }
                })
                .ok_or_else(|| {
                    output::failure(
                        json.json,
                        format!(
                            "the evidence does not prove a fork: {}",
                            last.map_or("no key".into(), |e| e.to_string())
                        ),
                    )
                })?;
            let (a, b) = (&proven.first, &proven.second);
            let what = if a.size == b.size {
                format!(
                    "{} signed two different roots for size {}: {} and {}",
                    key.name(),
                    a.size,
                    a.root,
                    b.root
                )
            } else {
                format!(
                    "{} signed size {} with root {}, and size {} whose first {} entries have another root",
                    key.name(),
                    a.size,
                    a.root,
                    b.size,
                    a.size
                )
            };
            if json.json {
                return output::json(&json!({"ok": true, "origin": proven.origin, "proves": what}));
            }
            output::lines([
                format!("proven: {what}"),
                format!("  feed {}", proven.origin),
            ])
        }
    }
}
