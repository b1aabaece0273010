//! `parley channel …`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::api::{Api, ApiFailure, report};
use crate::cli::{ChannelActArgs, ChannelCommand, NodeArgs};
use crate::output;

pub(crate) fn run(cmd: ChannelCommand) -> anyhow::Result<()> {
    match cmd {
        ChannelCommand::Create(a) => {
            let api = Api::open(&a.dir.dir)?;
            let mut charter = json!({
                "members": a.members,
                "witnesses": a.witnesses,
                "level": a.level,
                "languages": a.languages,
                "rules": {"flash_ack_minutes": a.flash_ack_minutes, "immediate_ack_minutes": a.immediate_ack_minutes, "annual_calendar": a.annual_calendar, "annual_exchange": a.annual_exchange},
            });
            if let Some(l) = &a.authentic_language {
                charter["rules"]["authentic_language"] = json!(l);
            }
            if a.translations_required {
                charter["rules"]["translations_required"] = json!(true);
            }
            if let Some(r) = &a.incidents_at_sea {
                charter["rules"]["incidents_at_sea"] = json!(r);
            }
            if let Some(r) = &a.ruleset {
                charter["rules"]["ruleset"] = json!(r);
            }
            if !a.participating_states.is_empty() {
                charter["rules"]["participating_states"] = json!(a.participating_states);
            }
            if let Some(t) = &a.title {
                charter["title"] = json!(t);
            }
            let mut external = Vec::new();
            for w in &a.external_witnesses {
                let Some((url, vkey)) = w.trim().split_once(char::is_whitespace) else {
                    anyhow::bail!(
                        "--external-witness {w:?}: give the submission URL and the vkey, separated by a space"
                    );
                };
                external.push(json!({"url": url, "vkey": vkey.trim()}));
            }
            if !external.is_empty() {
                charter["external_witnesses"] = json!(external);
            }
            let r = api
                .post("/channels", &json!({"id": a.id, "charter": charter}))
                .map_err(|e| report(a.json.json, e))?;
            done(
                a.json.json,
                &r,
                &format!(
                    "created channel {}; it opens when every member has accepted",
                    a.id
                ),
            )
        }
        ChannelCommand::Accept(a) => act(a, "accept", "accepted"),
        ChannelCommand::Suspend(a) => act(a, "suspend", "suspended"),
        ChannelCommand::Resume(a) => act(a, "resume", "resumed"),
        ChannelCommand::Policy { dir, id } => {
            let api = Api::open(&dir.dir)?;
            let text = api.get_text(&format!("/channels/{id}/policy"))?;
            output::text(&text)
        }
        ChannelCommand::List(NodeArgs { dir, json }) => {
            let api = Api::open(&dir.dir)?;
            let list = api.get("/channels").map_err(|e| report(json.json, e))?;
            if json.json {
                return output::json(&list);
            }
            let rows = list.as_array().cloned().unwrap_or_default();
            if rows.is_empty() {
                return output::lines(["no channels"]);
            }
            output::lines(rows.iter().map(channel_line))
        }
    }
}

pub(crate) fn channel_line(c: &Value) -> String {
    let mut s = format!(
        "{:<20} {:<9} {:<20} members {}",
        c["id"].as_str().unwrap_or(""),
        c["level"].as_str().unwrap_or(""),
        c["state"].as_str().unwrap_or(""),
        join(&c["members"]),
    );
    if !c["witnesses"].as_array().is_none_or(Vec::is_empty) {
        s.push_str(&format!("; witnesses {}", join(&c["witnesses"])));
    }
    if !c["waiting_for"].as_array().is_none_or(Vec::is_empty) {
        s.push_str(&format!("; waiting for {}", join(&c["waiting_for"])));
    }
    if let Some(reason) = c["suspension"]["reason"].as_str() {
        s.push_str(&format!(
            "; suspended by {}: {reason}",
            c["suspension"]["by"].as_str().unwrap_or("?")
        ));
    }
    s
}

pub(crate) fn join(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn act(a: ChannelActArgs, act: &str, done_word: &str) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let mut body = json!({});
    if let Some(r) = &a.reason {
        body["reason"] = json!(r);
    }
    let path = format!("/channels/{}/{act}", a.id);
    // The charter travels from its creator by push: right after `create`
    // it may still be on its way, so an acceptance waits for it a while.
    let deadline = Instant::now() + Duration::from_secs(if act == "accept" { a.wait } else { 0 });
    let mut told = false;
    let r = loop {
        match api.post(&path, &body) {
            Err(e) if is_not_found(&e) && Instant::now() < deadline => {
                if !told && !a.json.json {
                    eprintln!("waiting for the charter of channel {} to arrive…", a.id);
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(e) if is_not_found(&e) && act == "accept" => {
                let mut f = e.downcast::<ApiFailure>()?;
                f.message = format!(
                    "no charter of channel {} has arrived in {} s; is its creator running, with this node pinned as a peer? (`parley status` shows the links)",
                    a.id, a.wait
                );
                return Err(report(a.json.json, f.into()));
            }
            other => break other.map_err(|e| report(a.json.json, e))?,
        }
    };
    done(a.json.json, &r, &format!("{done_word} channel {}", a.id))
}

fn done(as_json: bool, r: &Value, what: &str) -> anyhow::Result<()> {
    if as_json {
        return output::json(r);
    }
    output::lines([
        what.to_string(),
        format!(
            "  entry {} hash {}",
            r["id"].as_str().unwrap_or(""),
            r["hash"].as_str().unwrap_or("")
        ),
    ])
}

fn is_not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<ApiFailure>()
        .is_some_and(|f| f.status == 404)
}
