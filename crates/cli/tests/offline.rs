//! The offline commands, run as a user runs them: the real binary, real
//! files, standard input and exit codes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use parley_log::bundle::{feed_origin, make_bundle};
use parley_log::checkpoint::Checkpoint;
use parley_log::hash::{Hash, leaf_hash, node_hash};
use parley_log::merkle::{MemoryTree, NodeSource, consistency_proof, inclusion_proof, range_hash};
use parley_log::{Entry, SigningKey, Timestamp};
use serde_json::Value;

fn parley(args: &[&str], stdin: impl AsRef<[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("parley runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_ref())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "failed: {}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

fn fails(o: Output, reason: &str) {
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout: {}stderr: {}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(reason),
        "stderr {:?} lacks {reason:?}",
        stderr(&o)
    );
}

#[test]
fn key_generate_writes_a_private_key_only_its_owner_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = ok(parley(
        &["key", "generate", "--name", "nato", "--out", out, "--json"],
        "",
    ));
    let v: Value = serde_json::from_str(&o).unwrap();
    let vkey = std::fs::read_to_string(dir.path().join("nato.vkey")).unwrap();
    assert_eq!(vkey.trim(), v["vkey"].as_str().unwrap());
    assert!(vkey.starts_with("nato+"));
    let key = dir.path().join("nato.key");
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .starts_with("PRIVATE+KEY+nato+")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // An existing key is never overwritten.
    fails(
        parley(&["key", "generate", "--name", "nato", "--out", out], ""),
        "never overwritten",
    );
    fails(
        parley(&["key", "generate", "--name", "bad name", "--out", out], ""),
        "invalid",
    );
}

#[test]
fn note_sign_and_verify_with_signatures_and_cosignatures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    ok(parley(
        &["key", "generate", "--name", "example.com/log", "--out", d],
        "",
    ));
    ok(parley(
        &["key", "generate", "--name", "witness.example", "--out", d],
        "",
    ));
    let log_key = format!("{d}/example.com_log.key");
    let log_vkey = format!("{d}/example.com_log.vkey");
    let w_key = format!("{d}/witness.example.key");
    let w_vkey = std::fs::read_to_string(format!("{d}/witness.example.vkey")).unwrap();

    let text = "example.com/log\n3\nWqx3HImawpLnS/Gv4ubjAvi1WIOy0b8Ze0amvqbavKk=\n";
    let signed = ok(parley(&["note", "sign", "--key", &log_key], text));
    assert!(signed.starts_with(text));
    let cosigned = ok(parley(
        &[
            "note",
            "sign",
            "--key",
            &w_key,
            "--cosign",
            "--time",
            "1700000000",
        ],
        &signed,
    ));
    let out = ok(parley(
        &[
            "note",
            "verify",
            "--vkey",
            &log_vkey,
            "--vkey",
            w_vkey.trim(),
        ],
        &cosigned,
    ));
    assert_eq!(
        out,
        "example.com/log\nwitness.example cosigned at 2023-11-14T22:13:20Z (1700000000)\n"
    );

    let j: Value = serde_json::from_str(&ok(parley(
        &["note", "verify", "--vkey", w_vkey.trim(), "--json"],
        &cosigned,
    )))
    .unwrap();
    assert_eq!(j["signers"][0]["type"], "cosignature/v1");
    assert_eq!(j["signers"][0]["time"], 1_700_000_000);

    fails(
        parley(
            &["note", "verify", "--vkey", &log_vkey],
            cosigned.replace("\n3\n", "\n4\n"),
        ),
        "does not verify",
    );
    let stranger = SigningKey::generate("stranger")
        .unwrap()
        .verifier()
        .to_string();
    fails(
        parley(&["note", "verify", "--vkey", &stranger], &cosigned),
        "no signature from a known key",
    );
    fails(
        parley(
            &["note", "verify", "--vkey", &log_vkey],
            cosigned.replace('\n', "\r\n"),
        ),
        "carriage return",
    );
    fails(
        parley(&["note", "sign", "--key", &log_key], "no final newline"),
        "newline",
    );
    let o = parley(
        &["note", "verify", "--vkey", &log_vkey, "--json"],
        "garbage\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&o)).unwrap()["ok"],
        false
    );
}

#[test]
fn tree_root_and_proofs_from_the_rfc6962_vectors() {
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../log/tests/vectors/transparency-dev-merkle.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let leaves: Vec<&str> = vectors["reference_tree"]["leaf_inputs_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let out = ok(parley(&["tree", "root"], &(leaves.join("\n") + "\n")));
    assert_eq!(
        out,
        format!(
            "8\n{}\n",
            vectors["reference_tree"]["root_hashes_by_size"][8]
                .as_str()
                .unwrap()
        )
    );

    for probe in vectors["inclusion"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["desc"] == "happy path")
    {
        let proof: Vec<&str> = probe["proof"]
            .as_array()
            .map(|a| a.iter().map(|h| h.as_str().unwrap()).collect())
            .unwrap_or_default();
        let args = [
            "tree",
            "verify-inclusion",
            "--size",
            &probe["treeSize"].to_string(),
            "--index",
            &probe["leafIdx"].to_string(),
            "--leaf-hash",
            probe["leafHash"].as_str().unwrap(),
            "--root",
            probe["root"].as_str().unwrap(),
        ];
        ok(parley(&args, proof.join("\n")));
        // The same proof in hex works too; one changed hash does not.
        let hex: Vec<String> = proof
            .iter()
            .map(|h| Hash::parse(h).unwrap().to_hex())
            .collect();
        ok(parley(&args, hex.join("\n")));
        if let Some(first) = hex.first() {
            let bad = format!(
                "{}{}",
                if first.starts_with('0') { "1" } else { "0" },
                &first[1..]
            );
            fails(
                parley(
                    &args,
                    [bad]
                        .into_iter()
                        .chain(hex[1..].iter().cloned())
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                "does not verify",
            );
        }
    }
    for probe in vectors["consistency"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["desc"] == "happy path" && p["size1"] != p["size2"])
    {
        let proof: Vec<&str> = probe["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect();
        let args = [
            "tree",
            "verify-consistency",
            "--old-size",
            &probe["size1"].to_string(),
            "--new-size",
            &probe["size2"].to_string(),
            "--old-root",
            probe["root1"].as_str().unwrap(),
            "--new-root",
            probe["root2"].as_str().unwrap(),
        ];
        ok(parley(&args, proof.join("\n")));
        fails(parley(&args, proof[1..].join("\n")), "does not verify");
    }
    fails(
        parley(
            &[
                "tree",
                "verify-inclusion",
                "--size",
                "3",
                "--index",
                "0",
                "--leaf-hash",
                "00",
                "--root",
                "00",
            ],
            "",
        ),
        "64 digits",
    );
}

/// A tree of 2^63 + 5 leaves where every leaf is the same except index 3:
/// real hashes, consistent at every level, far too big to build.
struct HugeTree(Vec<Hash>);
impl NodeSource for HugeTree {
    type Error = std::convert::Infallible;
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        let (lo, hi) = (u128::from(index) << level, (u128::from(index) + 1) << level);
        if !(lo..hi).contains(&3) {
            return Ok(self.0[usize::from(level)]);
        }
        if level == 0 {
            return Ok(leaf_hash(b"the odd one"));
        }
        Ok(node_hash(
            &self.node(level - 1, index * 2)?,
            &self.node(level - 1, index * 2 + 1)?,
        ))
    }
}

#[test]
fn tree_commands_handle_logs_of_2_pow_63_entries() {
    let mut uniform = vec![leaf_hash(b"same")];
    for l in 0..64 {
        uniform.push(node_hash(&uniform[l], &uniform[l]));
    }
    let mut t = HugeTree(uniform);
    let size = (1u64 << 63) + 5;
    let root = range_hash(&mut t, 0, size).unwrap();
    let proof = inclusion_proof(&mut t, 3, size).unwrap();
    let lines: Vec<String> = proof.iter().map(Hash::to_base64).collect();
    let args = [
        "tree",
        "verify-inclusion",
        "--size",
        &size.to_string(),
        "--index",
        "3",
        "--leaf-hash",
        &leaf_hash(b"the odd one").to_hex(),
        "--root",
        &root.to_hex(),
    ];
    assert_eq!(
        ok(parley(&args, lines.join("\n"))),
        format!("ok: leaf 3 is included in the tree of size {size}\n")
    );
    let old = 1u64 << 62;
    let cproof = consistency_proof(&mut t, old, size).unwrap();
    let old_root = range_hash(&mut t, 0, old).unwrap();
    let lines: Vec<String> = cproof.iter().map(Hash::to_hex).collect();
    let args = [
        "tree",
        "verify-consistency",
        "--old-size",
        &old.to_string(),
        "--new-size",
        &size.to_string(),
        "--old-root",
        &old_root.to_hex(),
        "--new-root",
        &root.to_hex(),
        "--json",
    ];
    let j: Value = serde_json::from_str(&ok(parley(&args, lines.join("\n")))).unwrap();
    assert_eq!(j["ok"], true);
}

fn sample_bundle(dir: &Path) -> (String, SigningKey, SigningKey, SigningKey) {
    let nato = SigningKey::generate("nato").unwrap();
    // One key per statement: russia cosigns with its receipt key, the
    // OSCE with its witness key.
    let russia = SigningKey::generate("russia/receipt").unwrap();
    let osce = SigningKey::generate("osce/witness").unwrap();
    let mut tree = MemoryTree::new();
    let mut entries = Vec::new();
    for seq in 0..3u64 {
        let e = Entry {
            channel: "nrc".into(),
            author: "nato".into(),
            seq,
            time: Timestamp::parse("2022-01-12T10:00:00Z")
                .unwrap()
                .plus_seconds(seq as i64),
            kind: "meeting_invitation".into(),
            refs: vec![],
            salt: Entry::random_salt(),
            body: serde_json::json!({"venue": "Brussels"}),
        };
        let bytes = e.encode().unwrap();
        tree.append(e.leaf_hash().unwrap());
        entries.push(bytes);
    }
    let origin = feed_origin("nrc", "nato");
    let mut note = Checkpoint::new(&origin, 3, tree.root())
        .sign(&nato.renamed(&origin).unwrap())
        .unwrap();
    note.cosign(&russia, 1_642_000_000);
    note.cosign(&osce, 1_642_000_100);
    let bundle = make_bundle(&entries[1], 1, tree.inclusion_proof(1, 3).unwrap(), &note);
    let path = dir.join("entry.tlog-proof");
    std::fs::write(&path, &bundle).unwrap();
    for (file, vkey) in [
        ("nato", nato.verifier()),
        ("russia", russia.cosigner()),
        ("osce", osce.cosigner()),
    ] {
        std::fs::write(dir.join(format!("{file}.vkey")), format!("{vkey}\n")).unwrap();
    }
    (path.to_str().unwrap().to_string(), nato, russia, osce)
}

#[test]
fn verify_bundle_prints_what_it_proves_and_refuses_any_change() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (bundle, _, _, osce) = sample_bundle(dir.path());
    let vk = |n: &str| format!("{d}/{n}.vkey");
    let out = ok(parley(
        &[
            "verify",
            &bundle,
            "--vkey",
            &vk("nato"),
            "--vkey",
            &vk("russia"),
            "--vkey",
            &osce.cosigner().to_string(),
        ],
        "",
    ));
    assert!(
        out.contains("verified: entry nrc/nato/1 (meeting_invitation)"),
        "{out}"
    );
    assert!(
        out.contains("delivered to russia at 2022-01-12T15:06:40Z (receipt)"),
        "{out}"
    );
    assert!(
        out.contains("witnessed by osce/witness at 2022-01-12T15:08:20Z"),
        "{out}"
    );

    let j: Value = serde_json::from_str(&ok(parley(
        &["verify", &bundle, "--vkey", &vk("nato"), "--json"],
        "",
    )))
    .unwrap();
    assert_eq!(j["entry"]["seq"], 1);
    assert_eq!(j["entry"]["body"]["venue"], "Brussels");
    assert_eq!(
        (
            j["receipts"].as_array().unwrap().len(),
            j["witnesses"].as_array().unwrap().len()
        ),
        (0, 0),
        "only keys given are checked"
    );

    let bytes = std::fs::read(&bundle).unwrap();
    let args = [
        "verify",
        "-",
        "--vkey",
        &vk("nato"),
        "--vkey",
        &vk("russia"),
        "--vkey",
        &vk("osce"),
    ];
    // Every byte, whatever it becomes (binary, not UTF-8, included).
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x20;
        let o = parley(&args, &b);
        assert_eq!(
            o.status.code(),
            Some(1),
            "byte {i} changed and still verified"
        );
    }
    fails(
        parley(&["verify", &bundle, "--vkey", &vk("russia")], ""),
        "no trusted key for \"nato\"",
    );
}

#[test]
fn verify_bundle_against_a_tlog_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (bundle, nato, russia, osce) = sample_bundle(dir.path());
    let log = nato.renamed("parley/nrc/nato").unwrap().verifier();
    let policy = |quorum: &str| {
        let p = dir.path().join("policy.txt");
        std::fs::write(
            &p,
            format!(
                "log {log}\nwitness russia {}\nwitness osce {}\n{quorum}",
                russia.cosigner(),
                osce.cosigner()
            ),
        )
        .unwrap();
        p.to_str().unwrap().to_string()
    };
    ok(parley(
        &[
            "verify",
            &bundle,
            "--policy",
            &policy("group both all russia osce\nquorum both\n"),
        ],
        "",
    ));
    let extra = SigningKey::generate("extra").unwrap().cosigner();
    let p = dir.path().join("strict.txt");
    std::fs::write(&p, format!("log {log}\nwitness russia {}\nwitness extra {extra}\ngroup both all russia extra\nquorum both\n", russia.cosigner())).unwrap();
    fails(
        parley(&["verify", &bundle, "--policy", p.to_str().unwrap()], ""),
        "quorum",
    );
    fails(
        parley(
            &["verify", &bundle, "--policy", &policy("quorum nobody\n")],
            "",
        ),
        "policy line 4",
    );
}
