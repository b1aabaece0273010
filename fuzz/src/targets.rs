//! What each fuzz target checks, one function per target. The libFuzzer
//! binaries in `fuzz_targets/` call these; the main test suite includes
//! this file too (`crates/cli/tests/fuzz_regressions.rs`) and replays every
//! seed and every kept crash in `fuzz/regressions/<target>/` on stable,
//! without libFuzzer.

use parley_log::bundle::{Trust, verify_bundle};
use parley_log::keys::VerifierKey;
use parley_log::note::NoteSignature;
use parley_log::policy::Policy;
use parley_log::proof::TlogProof;
use parley_log::tiles::{TilePath, decode_entry_bundle};
use parley_log::witness::{Witnessed, judge, parse_add_checkpoint};
use parley_log::{Checkpoint, Entry, Hash, Note, SignedCheckpoint, SigningKey};

/// A target's check: panics on a bug.
pub type Check = fn(&[u8]);

/// Every target, by name, for the replay test.
pub const TARGETS: [(&str, Check); 9] = [
    ("note_parse", note_parse),
    ("checkpoint_parse", checkpoint_parse),
    ("entry_decode", entry_decode),
    ("bundle_verify", bundle_verify),
    ("witness_request", witness_request),
    ("tile_path", tile_path),
    ("key_parse", key_parse),
    ("policy_parse", policy_parse),
    ("entry_validate", entry_validate),
];

/// Any bytes as a signed note: what parses formats back to the same bytes.
pub fn note_parse(data: &[u8]) {
    if let Ok(note) = Note::parse(data) {
        assert_eq!(
            note.to_string().as_bytes(),
            data,
            "parse/format must round-trip"
        );
        let key = SigningKey::from_seed("fuzz.example", [7; 32]).unwrap();
        let _ = note.verify(&[key.verifier(), key.cosigner()]);
    }
}

/// Any bytes as a checkpoint and a signed checkpoint: what parses round-trips.
pub fn checkpoint_parse(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(cp) = Checkpoint::parse(text)
    {
        assert_eq!(cp.to_text(), text);
    }
    let key = SigningKey::from_seed("example.com/log", [1; 32]).unwrap();
    let _ = SignedCheckpoint::open(data, &key.verifier(), &[key.cosigner()]);
}

/// Any bytes as a feed entry: only canonical bytes decode.
pub fn entry_decode(data: &[u8]) {
    if let Ok(entry) = Entry::decode(data) {
        assert_eq!(
            entry.encode().unwrap(),
            data,
            "decode accepted a non-canonical entry"
        );
    }
}

/// Any text as a proof bundle: only bundles the fixed author key signed verify.
pub fn bundle_verify(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = TlogProof::parse(text);
    let nato = SigningKey::from_seed("nato", [1; 32]).unwrap();
    let russia = SigningKey::from_seed("russia/receipt", [2; 32]).unwrap();
    let trust = Trust::required(vec![nato.verifier(), russia.cosigner()]);
    if let Ok(v) = verify_bundle(text, &trust) {
        assert_eq!(v.entry.author, "nato");
        assert!(v.receipts().any(|(p, _)| p == "russia"));
    }
}

/// Any bytes as a tlog-witness add-checkpoint body: a 200 needs the log's signature.
pub fn witness_request(data: &[u8]) {
    let Ok(req) = parse_add_checkpoint(data) else {
        return;
    };
    let key = SigningKey::from_seed("example.com/log", [1; 32])
        .unwrap()
        .verifier();
    let state = Witnessed {
        size: 5,
        root: Hash([9; 32]),
        note: String::new(),
    };
    if judge(&req, Some(&key), Some(&state)).is_ok() {
        assert!(req.note.verify(&[key]).is_ok());
    }
}

/// Any text as a tile path, any bytes as an entry bundle: what parses
/// re-encodes to the same bytes.
pub fn tile_path(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = TilePath::parse(text);
    }
    if let Ok(entries) = decode_entry_bundle(data) {
        let again = parley_log::tiles::encode_entry_bundle(entries.iter().copied());
        assert_eq!(again, data, "an entry bundle must round-trip");
    }
}

/// Any text as a verifier key, a private key and a signature line.
pub fn key_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(k) = VerifierKey::parse(text) {
        let again = VerifierKey::parse(&k.to_string()).expect("a formatted vkey parses");
        assert_eq!(again.to_string(), k.to_string(), "a vkey must round-trip");
    }
    let _ = SigningKey::parse(text);
    if let Ok(s) = NoteSignature::parse_line(text) {
        let _ = s.to_line();
    }
}

/// Any text as a tlog-policy file.
pub fn policy_parse(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Policy::parse(text);
    }
}

/// Any JSON as an entry body of every kind, validated by the domain rules
/// (what a receiving node runs on each peer's entry): never panics.
pub fn entry_validate(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for kind in parley_domain::kinds::all().iter().map(|k| k.name) {
        let entry = Entry {
            channel: "mil".into(),
            author: "nato".into(),
            seq: 3,
            time: parley_log::Timestamp::from_unix(1_700_000_000).unwrap(),
            kind: kind.into(),
            refs: vec![],
            salt: [0; 16],
            body: body.clone(),
        };
        let _ = parley_domain::validate(&entry, None);
    }
}
