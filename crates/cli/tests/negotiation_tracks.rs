//! One negotiation in three tracks across real node processes: the
//! bilateral track (USA–Russia), the NATO–Russia Council and an all-party
//! track. Each member verifies the links to the versions it can see, sees
//! the others named but unverifiable, cannot link to what it cannot see,
//! and a signature on a superseded version is flagged on every node.

mod net;

use net::forge::{Forge, push};
use net::{Net, accept_channel, json, ok, parley, wait_until};
use serde_json::{Value, json as j};

fn open(net: &Net, by: &str, id: &str, members: &str) {
    ok(&[
        "channel",
        "create",
        "--dir",
        net.get(by).d(),
        "--id",
        id,
        "--members",
        members,
        "--level",
        "political",
        "--languages",
        "en,ru",
    ]);
    for m in members.split(',').filter(|m| *m != by) {
        accept_channel(net.get(m), id);
    }
    let d = net.get(by).d().to_string();
    wait_until(20, &format!("{id} to be active"), || {
        json(&["channel", "list", "--dir", &d])
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id && c["state"] == "active")
    });
}

/// Sends a draft version as `who`; returns (id, hash).
fn table(net: &Net, who: &str, channel: &str, body: &Value, refs: &[&str]) -> (String, String) {
    let out = send(net, who, channel, "draft_document", body, refs, None);
    assert!(
        out.status.success(),
        "{who}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let id = lines.next().unwrap().trim().to_string();
    let hash = lines
        .next()
        .unwrap()
        .trim()
        .trim_start_matches("hash ")
        .to_string();
    (id, hash)
}

fn send(
    net: &Net,
    who: &str,
    channel: &str,
    kind: &str,
    body: &Value,
    refs: &[&str],
    user: Option<&str>,
) -> std::process::Output {
    let file = net.path(&format!("{who}-{kind}-{}.json", rand_suffix()));
    std::fs::write(&file, body.to_string()).unwrap();
    let dir = net.get(who).d().to_string();
    let mut args: Vec<&str> = Vec::new();
    if let Some(u) = user {
        args.extend(["--as", u]);
    }
    args.extend([
        "send",
        "--dir",
        &dir,
        "--channel",
        channel,
        "--kind",
        kind,
        "--body",
        file.to_str().unwrap(),
    ]);
    for r in refs {
        args.extend(["--ref", r]);
    }
    parley(&args)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn draft(
    version: &str,
    signatories: &[&str],
    links: &[(&str, &str)],
    articles: &[(&str, &str)],
) -> Value {
    j!({
        "document": "security-guarantees",
        "title": "Treaty on security guarantees",
        "version": version,
        "text": {"en": format!("Article 1. ...\nArticle 2. ...\nArticle 3. ... ({version})")},
        "signatories": signatories,
        "negotiation": "security-guarantees-2021",
        "links": links.iter().map(|(e, h)| j!({"entry": e, "hash": h})).collect::<Vec<_>>(),
        "articles": articles.iter().map(|(a, s)| j!({"article": a, "status": s})).collect::<Vec<_>>(),
    })
}

/// Each link of the version `id`, as `who`'s node sees it.
fn links_seen(net: &Net, who: &str, id: &str) -> Vec<(String, String)> {
    let v = json(&["negotiations", "--dir", net.get(who).d()]);
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["versions"].as_array().unwrap().clone())
        .find(|ver| ver["id"] == id)
        .unwrap_or_else(|| panic!("{who} holds no version {id}: {v}"))["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["entry"].as_str().unwrap().to_string(),
                l["seen"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn each_member_verifies_the_tracks_it_can_see() {
    let mut net = Net::new(&["usa", "russia", "nato"]);
    net.get("usa").add_user("signatory", "signatory");
    net.start_all();
    open(&net, "usa", "usa.bilateral", "usa,russia");
    open(&net, "nato", "nato.nrc", "nato,russia");
    open(&net, "nato", "nato.osce", "nato,russia,usa");

    // Russia tables the text in the bilateral track and the Council.
    let (bi1, bi1_hash) = table(
        &net,
        "russia",
        "usa.bilateral",
        &draft(
            "v1",
            &["usa", "russia"],
            &[],
            &[("1", "tabled"), ("2", "tabled"), ("3", "tabled")],
        ),
        &[],
    );
    let (nrc1, nrc1_hash) = table(
        &net,
        "russia",
        "nato.nrc",
        &draft(
            "v1",
            &["nato", "russia"],
            &[(&bi1, &bi1_hash)],
            &[("1", "tabled"), ("2", "tabled")],
        ),
        &[],
    );
    // The USA answers in its track: article 1 agreed ad referendum, 2 in
    // brackets, 3 rejected.
    net.get("usa").wait_holds(&bi1);
    let (bi2, bi2_hash) = table(
        &net,
        "usa",
        "usa.bilateral",
        &draft(
            "v2",
            &["usa", "russia"],
            &[],
            &[
                ("1", "agreed_ad_referendum"),
                ("2", "bracketed"),
                ("3", "rejected"),
            ],
        ),
        &[&bi1],
    );

    // NATO cannot link to the bilateral version: it cannot see it.
    net.get("nato").wait_holds(&nrc1);
    let o = send(
        &net,
        "nato",
        "nato.osce",
        "draft_document",
        &draft("v1", &["nato", "russia", "usa"], &[(&bi2, &bi2_hash)], &[]),
        &[],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("links.0: this node holds no version usa.bilateral/usa/1"),
        "{err}"
    );
    // Nor link to a version under a hash that is not its.
    let o = send(
        &net,
        "nato",
        "nato.osce",
        "draft_document",
        &draft("v1", &["nato", "russia", "usa"], &[(&nrc1, &bi1_hash)], &[]),
        &[],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "a false hash");

    // Russia, in every track, tables the all-party version linking both.
    net.get("russia").wait_holds(&bi2);
    let (osce1, _) = table(
        &net,
        "russia",
        "nato.osce",
        &draft(
            "v1",
            &["nato", "russia", "usa"],
            &[(&nrc1, &nrc1_hash), (&bi2, &bi2_hash)],
            &[("1", "agreed_ad_referendum"), ("2", "bracketed")],
        ),
        &[],
    );
    for p in ["usa", "nato"] {
        net.get(p).wait_holds(&osce1);
    }
    let verified = |e: &str| (e.to_string(), "verified".to_string());
    let hidden = |e: &str| (e.to_string(), "not_visible".to_string());
    assert_eq!(
        links_seen(&net, "russia", &osce1),
        vec![verified(&nrc1), verified(&bi2)]
    );
    assert_eq!(
        links_seen(&net, "nato", &osce1),
        vec![verified(&nrc1), hidden(&bi2)]
    );
    assert_eq!(
        links_seen(&net, "usa", &osce1),
        vec![hidden(&nrc1), verified(&bi2)]
    );
    let text = ok(&["negotiations", "--dir", net.get("nato").d()]);
    assert!(
        text.contains("a track of negotiation security-guarantees-2021"),
        "{text}"
    );
    assert!(
        text.contains(&format!("links {bi2}: in a channel this node does not see")),
        "{text}"
    );

    // The USA's signatory signs v1 after v2 replaced it: flagged, on the
    // nodes that see the bilateral track.
    let o = send(
        &net,
        "usa",
        "usa.bilateral",
        "draft_signature",
        &j!({"signed_by": "Deputy Secretary of State"}),
        &[&bi1],
        Some("signatory"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let sig = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_string();
    net.get("russia").wait_holds(&sig);
    // The flag names the first version that superseded v1 on that node:
    // the USA sees only its own answer; Russia also the Council's version
    // linking v1, tabled before the answer (the same second or earlier,
    // by the one-second clock).
    for (p, superseders) in [("usa", vec![&bi2]), ("russia", vec![&nrc1, &bi2])] {
        let text = ok(&["negotiations", "--dir", net.get(p).d()]);
        assert!(
            superseders.iter().any(|by| text.contains(&format!(
                "SIGNED A SUPERSEDED VERSION: usa signed after {by} replaced it"
            ))),
            "{p}: {text}"
        );
        assert!(text.contains("article 3: rejected"), "{p}: {text}");
    }

    // NATO, past its own node's check, tables a version in the all-party
    // track that claims to continue the Council's draft under another
    // entry's hash (the bilateral v1's). Russia, which holds both, shows
    // the link false; so does the USA, outside the Council, because the
    // hash is a version it holds under another id.
    let nato = net.get("nato");
    let mut forge = Forge::from_node(nato.key(), "nato.osce", nato);
    net.p("nato").stop();
    let e = forge.entry(
        "draft_document",
        draft("v2", &["nato", "russia", "usa"], &[(&nrc1, &bi1_hash)], &[]),
    );
    let forged = e.id();
    forge.push_bytes(e.encode().unwrap());
    let from = forge.tree.size() - 1;
    for to in ["russia", "usa"] {
        let (status, body) = push(net.get(to), &forge.update(from));
        assert_eq!(status, 200, "{to}: {body}");
        net.get(to).wait_holds(&forged);
    }
    assert_eq!(
        links_seen(&net, "russia", &forged),
        vec![(nrc1.clone(), "mismatch".to_string())]
    );
    assert_eq!(
        links_seen(&net, "usa", &forged),
        vec![(nrc1.clone(), "mismatch".to_string())]
    );
}
