//! `parley send`, `inbox`, `show`, `proof`, `status`.

use anyhow::Context;
use parley_log::Timestamp;
use serde_json::{Value, json};

use super::api::{Api, report};
use super::channel::{channel_line, join};
use super::read_input;
use crate::cli::{InboxArgs, NodeArgs, SendArgs, ShowArgs};
use crate::output;

/// Entries are at most 64 KiB; leave room for whitespace in the file.
const BODY_LIMIT: usize = 1 << 20;

pub(crate) fn send(a: SendArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let (kind, mut body) = match (&a.body, &a.text) {
        (Some(path), _) => {
            let bytes = read_input(path, BODY_LIMIT)?;
            let body: Value = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            let kind = a
                .kind
                .clone()
                .context("--kind is required with --body (see `parley kinds`)")?;
            (kind, body)
        }
        (None, Some(text)) => (
            a.kind.clone().unwrap_or_else(|| "hotline_message".into()),
            json!({"priority": a.priority, "text": {a.lang.clone(): text}}),
        ),
        (None, None) => anyhow::bail!("give --text or --body"),
    };
    if !a.to.is_empty() {
        body["to"] = json!(a.to);
    }
    let r = api
        .post(
            "/entries",
            &json!({"channel": a.channel, "kind": kind, "body": body, "refs": a.refs}),
        )
        .map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&r);
    }
    output::lines([
        r["id"].as_str().unwrap_or("").to_string(),
        format!("hash {}", r["hash"].as_str().unwrap_or("")),
    ])
}

fn time(v: &Value) -> String {
    match v {
        Value::Number(n) => n
            .as_i64()
            .and_then(Timestamp::from_unix)
            .map_or_else(|| n.to_string(), |t| t.to_string()),
        Value::String(s) => s.clone(),
        _ => "-".into(),
    }
}

/// "russia: delivered 2026-…Z, acknowledged" for each recipient.
fn delivery_line(d: &Value) -> String {
    let party = d["party"].as_str().unwrap_or("?");
    let mut s = if !d["delivered_at"].is_null() {
        format!("{party}: delivered {}", time(&d["delivered_at"]))
    } else if d["visible"] == true {
        format!("{party}: sent, no receipt yet")
    } else {
        format!("{party}: (receipts not visible here)")
    };
    if let Some(ack) = d["acknowledged"].as_object() {
        s.push_str(&format!(
            ", acknowledged {} by {}",
            time(&ack["time"]),
            ack["id"].as_str().unwrap_or("")
        ));
    }
    for ans in d["answered"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            ", answered by {} ({})",
            ans["id"].as_str().unwrap_or(""),
            ans["kind"].as_str().unwrap_or("")
        ));
    }
    for r in d["referenced"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            ", referenced by {} ({}, which does not answer it)",
            r["id"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or("")
        ));
    }
    s
}

pub(crate) fn inbox(a: InboxArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let mut path = format!("/inbox?limit={}", a.limit);
    if let Some(c) = &a.channel {
        path.push_str(&format!("&channel={c}"));
    }
    let rows = api.get(&path).map_err(|e| report(a.json.json, e))?;
    let rows: Vec<Value> = rows
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| a.all || r["kind"] != "link_test")
        .collect();
    if a.json.json {
        return output::json(&Value::Array(rows));
    }
    if rows.is_empty() {
        return output::lines(["no entries"]);
    }
    let mut out = Vec::new();
    for r in &rows {
        let prio = r["priority"]
            .as_str()
            .map(|p| format!(" [{}]", p.to_uppercase()))
            .unwrap_or_default();
        let number = r["number"]
            .as_str()
            .map(|n| format!("  {n}"))
            .unwrap_or_default();
        out.push(format!(
            "{}  {:<28} {}{}  {}{number}",
            r["time"].as_str().unwrap_or(""),
            r["id"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or(""),
            prio,
            r["summary"].as_str().unwrap_or("")
        ));
        for d in r["delivery"].as_array().into_iter().flatten() {
            out.push(format!("      {}", delivery_line(d)));
        }
    }
    output::lines(out)
}

fn entry_path(entry: &str) -> String {
    format!("/entries/{}", entry.trim_matches('/'))
}

/// Resolves a hash to `channel/author/seq` through the inbox-independent
/// show endpoint: ids pass through, hashes are looked up.
fn resolve(api: &Api, entry: &str) -> anyhow::Result<String> {
    if entry.matches('/').count() == 2 {
        return Ok(entry.to_string());
    }
    let rows = api.get("/inbox?limit=10000")?;
    rows.as_array()
        .into_iter()
        .flatten()
        .find(|r| r["hash"] == entry)
        .and_then(|r| r["id"].as_str().map(str::to_string))
        .with_context(|| {
            format!("no entry {entry:?} on this node (give channel/author/seq or a hash)")
        })
}

pub(crate) fn show(a: ShowArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let id = resolve(&api, &a.entry).map_err(|e| report(a.json.json, e))?;
    let e = api
        .get(&entry_path(&id))
        .map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&e);
    }
    let mut out = vec![
        format!(
            "{}  ({})",
            e["id"].as_str().unwrap_or(""),
            e["kind"].as_str().unwrap_or("")
        ),
        format!("  author:   {}", e["author"].as_str().unwrap_or("")),
        format!(
            "  time:     {} (stated by the author)",
            e["time"].as_str().unwrap_or("")
        ),
        format!("  received: {}", time(&e["received_at"])),
        format!("  hash:     {}", e["hash"].as_str().unwrap_or("")),
    ];
    if let Some(n) = e["number"]["text"].as_str() {
        out.insert(
            1,
            format!(
                "  number:   {n} ({})",
                e["number"]["format_title"].as_str().unwrap_or("")
            ),
        );
    }
    if let Some(text) = e["body"]["text"].as_object() {
        for (lang, t) in text {
            out.push(format!("  [{lang}] {}", t.as_str().unwrap_or("")));
        }
    }
    out.push(format!("  body:     {}", e["body"]));
    for r in e["references"].as_array().into_iter().flatten() {
        out.push(format!(
            "  refers to {}",
            r["id"].as_str().unwrap_or(r["hash"].as_str().unwrap_or(""))
        ));
    }
    for r in e["referenced_by"].as_array().into_iter().flatten() {
        out.push(format!(
            "  referenced by {} ({})",
            r["id"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or("")
        ));
    }
    out.push("  delivery:".into());
    for d in e["delivery"].as_array().into_iter().flatten() {
        out.push(format!("    {}", delivery_line(d)));
        if let Some(line) = d["receipt"].as_str() {
            out.push(format!(
                "      receipt (checkpoint size {}): {}",
                d["receipt_size"],
                line.trim_end()
            ));
        }
    }
    for w in e["witnessed"].as_array().into_iter().flatten() {
        out.push(format!(
            "  witnessed by {} {} (not a receipt): {}",
            w["witness"].as_str().unwrap_or("?"),
            time(&w["time"]),
            w["cosignature"].as_str().unwrap_or("").trim_end()
        ));
    }
    output::lines(out)
}

pub(crate) fn proof(a: ShowArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let id = resolve(&api, &a.entry).map_err(|e| report(a.json.json, e))?;
    let bundle = api
        .get_text(&format!("{}/proof", entry_path(&id)))
        .map_err(|e| report(a.json.json, e))?;
    print!("{bundle}");
    Ok(())
}

pub(crate) fn status(a: NodeArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let s = api.get("/status").map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&s);
    }
    let mut out = vec![format!(
        "node {} at {} ({}); console {}",
        s["party"].as_str().unwrap_or(""),
        s["url"].as_str().unwrap_or(""),
        s["transport"].as_str().unwrap_or(""),
        s["console"].as_str().unwrap_or("")
    )];
    for w in s["warnings"].as_array().cloned().unwrap_or_default() {
        out.push(format!("  WARNING: {}", w.as_str().unwrap_or("")));
    }
    for k in s["keys"].as_array().cloned().unwrap_or_default() {
        out.push(format!(
            "  {:<8} key {}{}",
            k["role"].as_str().unwrap_or(""),
            k["vkey"].as_str().unwrap_or(""),
            if k["current"] == true {
                ""
            } else {
                " (retired)"
            }
        ));
    }
    for r in s["rotations"].as_array().cloned().unwrap_or_default() {
        out.push(format!(
            "  key rotation: {} rotated its {} key ({})",
            r["party"].as_str().unwrap_or(""),
            r["role"].as_str().unwrap_or(""),
            time(&r["recorded_at"])
        ));
    }
    let evidence = s["evidence"].as_array().cloned().unwrap_or_default();
    for e in &evidence {
        out.push(format!(
            "ALARM: equivocation by {} (evidence #{}, {}): {}",
            e["party"].as_str().unwrap_or(""),
            e["id"],
            if e["proven"] == true {
                "proven"
            } else {
                "unproven"
            },
            e["summary"].as_str().unwrap_or("")
        ));
    }
    out.push("peers:".into());
    for p in s["peers"].as_array().into_iter().flatten() {
        let since = if p["since"].is_null() {
            String::new()
        } else {
            format!(" since {}", time(&p["since"]))
        };
        out.push(format!(
            "  {:<12} link {}{}; last receipt {}; waiting: {}, {} to witness{}",
            p["party"].as_str().unwrap_or(""),
            p["link"].as_str().unwrap_or(""),
            since,
            if p["last_receipt"].is_null() {
                "never".to_string()
            } else {
                time(&p["last_receipt"])
            },
            output::count(
                p["backlog_entries"].as_u64().unwrap_or(0),
                "entry",
                "entries"
            ),
            output::count(
                p["backlog_checkpoints"].as_u64().unwrap_or(0),
                "checkpoint",
                "checkpoints"
            ),
            p["last_error"]
                .as_str()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default(),
        ));
    }
    for w in s["external_witnesses"].as_array().into_iter().flatten() {
        out.push(format!(
            "  witness {} at {} (C2SP tlog-witness): {}; last cosignature {}; {} checkpoints to witness{}",
            w["name"].as_str().unwrap_or(""),
            w["url"].as_str().unwrap_or(""),
            w["link"].as_str().unwrap_or(""),
            if w["last_cosignature"].is_null() {
                "never".to_string()
            } else {
                time(&w["last_cosignature"])
            },
            w["backlog_checkpoints"],
            w["last_error"]
                .as_str()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default(),
        ));
    }
    out.push("channels:".into());
    for c in s["channels"].as_array().into_iter().flatten() {
        out.push(format!("  {}", channel_line(c)));
    }
    out.push("feeds:".into());
    for f in s["feeds"].as_array().into_iter().flatten() {
        out.push(format!(
            "  {}/{} size {}",
            f["channel"].as_str().unwrap_or(""),
            f["author"].as_str().unwrap_or(""),
            f["size"]
        ));
    }
    let _ = join;
    output::lines(out)
}
