//! `parley note sign` and `parley note verify`.

use anyhow::Context;
use parley_log::note::{MAX_NOTE_BYTES, Note};
use parley_log::{KeyType, Timestamp};
use serde_json::json;

use super::{key::read_private, load_vkey, read_stdin};
use crate::cli::NoteCommand;
use crate::output;

pub(crate) fn run(cmd: NoteCommand) -> anyhow::Result<()> {
    match cmd {
        NoteCommand::Sign { key, cosign, time } => {
            let key = read_private(&key)?;
            let input = read_stdin(MAX_NOTE_BYTES)?;
            // An already signed note gets one more signature; anything else
            // is the text to sign.
            let mut note = match Note::parse(&input) {
                Ok(n) => n,
                Err(_) => {
                    let text = String::from_utf8(input).context("the note text is not UTF-8")?;
                    Note::new(&text).context("cannot sign this text")?
                }
            };
            if cosign {
                let t = time.unwrap_or_else(|| Timestamp::now().unix() as u64);
                note.cosign(&key, t);
            } else {
                note.sign(&key);
            }
            print!("{note}");
            Ok(())
        }
        NoteCommand::Verify { vkeys, json } => {
            // A 0x01 key also stands for its cosignature/v1 identity: some
            // witnesses publish 0x01 vkeys and cosign with 0x04 (the key ID
            // tells the two apart).
            let mut keys = Vec::new();
            for v in &vkeys {
                let k = load_vkey(v)?;
                if k.key_type() == KeyType::Ed25519 {
                    keys.push(k.as_cosigner());
                }
                keys.push(k);
            }
            let input = read_stdin(MAX_NOTE_BYTES)?;
            let verified = Note::parse(&input)
                .and_then(|n| n.verify(&keys))
                .map_err(|e| output::failure(json.json, e))?;
            if json.json {
                let signers: Vec<_> = verified
                    .iter()
                    .map(|s| {
                        json!({
                            "name": s.name,
                            "key_id": format!("{:08x}", s.key_id),
                            "type": match s.key_type { KeyType::Ed25519 => "ed25519", KeyType::CosignatureV1 => "cosignature/v1" },
                            "time": s.time,
                            "time_rfc3339": s.time.and_then(|t| Timestamp::from_unix(t as i64)).map(|t| t.to_string()),
                        })
                    })
                    .collect();
                output::json(&json!({"ok": true, "signers": signers}))
            } else {
                output::lines(verified.iter().map(|s| match s.time {
                    Some(t) => format!("{} cosigned at {} ({t})", s.name, rfc3339(t)),
                    None => s.name.clone(),
                }))
            }
        }
    }
}

pub(crate) fn rfc3339(t: u64) -> String {
    Timestamp::from_unix(t as i64).map_or_else(|| format!("@{t}"), |t| t.to_string())
}
