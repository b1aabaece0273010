//! `parley tree …`: RFC 9162 roots and proofs for any log.

use anyhow::Context;
use parley_log::hash::Hash;
use parley_log::merkle::{MemoryTree, verify_consistency, verify_inclusion};
use serde_json::json;

use super::read_stdin;
use crate::cli::TreeCommand;
use crate::output;

/// Proofs have at most 64 hashes; leave room for blank lines and CRLF.
const PROOF_INPUT_LIMIT: usize = 64 * 200;
const LEAVES_INPUT_LIMIT: usize = 1 << 30;

pub(crate) fn run(cmd: TreeCommand) -> anyhow::Result<()> {
    match cmd {
        TreeCommand::Root { json } => {
            let input = read_stdin(LEAVES_INPUT_LIMIT)?;
            let text = String::from_utf8(input).context("input is not text")?;
            let mut tree = MemoryTree::new();
            // Every line is a leaf; an empty line is the empty leaf (RFC
            // 6962's reference tree starts with one).
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                let leaf = parley_log::hash::hex_decode(line).ok_or_else(|| {
                    output::failure(json.json, format!("line {}: leaf is not hex", i + 1))
                })?;
                tree.append(parley_log::leaf_hash(&leaf));
            }
            let root = tree.root();
            if json.json {
                output::json(
                    &json!({"size": tree.size(), "root": root.to_hex(), "root_base64": root.to_base64()}),
                )
            } else {
                output::lines([format!("{}", tree.size()), root.to_hex()])
            }
        }
        TreeCommand::VerifyInclusion {
            size,
            index,
            leaf_hash,
            root,
            json,
        } => {
            let leaf = hash_arg("--leaf-hash", &leaf_hash, json.json)?;
            let root = hash_arg("--root", &root, json.json)?;
            let proof = read_proof(json.json)?;
            verify_inclusion(index, size, &leaf, &proof, &root).map_err(|e| {
                output::failure(json.json, format!("inclusion proof does not verify: {e}"))
            })?;
            report(
                json.json,
                format!("leaf {index} is included in the tree of size {size}"),
            )
        }
        TreeCommand::VerifyConsistency {
            old_size,
            new_size,
            old_root,
            new_root,
            json,
        } => {
            let old_root = hash_arg("--old-root", &old_root, json.json)?;
            let new_root = hash_arg("--new-root", &new_root, json.json)?;
            let proof = read_proof(json.json)?;
            verify_consistency(old_size, new_size, &old_root, &new_root, &proof).map_err(|e| {
                output::failure(json.json, format!("consistency proof does not verify: {e}"))
            })?;
            report(
                json.json,
                format!("the tree of size {new_size} extends the tree of size {old_size}"),
            )
        }
    }
}

fn report(as_json: bool, what: String) -> anyhow::Result<()> {
    if as_json {
        output::json(&json!({"ok": true, "proves": what}))
    } else {
        output::lines([format!("ok: {what}")])
    }
}

fn hash_arg(flag: &str, s: &str, as_json: bool) -> anyhow::Result<Hash> {
    Hash::parse(s).map_err(|e| output::failure(as_json, format!("{flag} {s:?}: {e}")))
}

fn read_proof(as_json: bool) -> anyhow::Result<Vec<Hash>> {
    let input = read_stdin(PROOF_INPUT_LIMIT)?;
    let text = String::from_utf8(input)
        .map_err(|_| output::failure(as_json, "proof input is not text"))?;
    text.lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| {
            Hash::parse(l)
                .map_err(|e| output::failure(as_json, format!("proof line {}: {e}", i + 1)))
        })
        .collect()
}
