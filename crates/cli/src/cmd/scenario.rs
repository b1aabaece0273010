//! Scenario files: a story told as steps, each performed by one party's
//! node through its local API. Dates in bodies are written relative to the
//! moment the step runs (`{{date+60}}`, `{{time+2h}}`, `{{year+1}}`);
//! `{{entry:LABEL}}` and `{{hash:LABEL}}` name an earlier step's entry by
//! its id and its hash (to link a version in another channel).
//!
//! A step may say when it happens, relative to the end of the story
//! (`at = "-40d"`: forty days before now). On nodes with real clocks that
//! is ignored and the story is compressed into a few seconds today. On the
//! demo's nodes, which share a declared story clock (`parley_node::clock`),
//! the clock jumps forward to each step's `at` before the step runs, so
//! the entries are dated as the story reads — by the clock they were
//! really written on — and the silences it tells of are visible.
//!
//! ```toml
//! [[step]]
//! say = "NATO opens the council channel."
//! at = "-60d"                  # optional: sixty days before the story ends
//! by = "nato"
//! do = "create_channel"        # create_channel | accept | suspend | resume | send | wait
//! channel = "nato.nrc"
//! charter = { members = ["nato", "russia"], level = "political", languages = ["en", "ru"] }
//!
//! [[step]]
//! by = "russia"
//! do = "send"
//! channel = "nato.nrc"
//! kind = "meeting_reply"
//! refs = ["invitation"]        # labels of earlier steps
//! as = "reply"                 # this step's label
//! body = { response = "accept" }
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use parley_domain::dates::Date;
use parley_log::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, ApiFailure};

/// A scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scenario {
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(rename = "step")]
    pub(crate) steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Step {
    /// Narration, printed as the step runs.
    #[serde(default)]
    pub(crate) say: Option<String>,
    pub(crate) by: String,
    #[serde(rename = "do")]
    pub(crate) action: String,
    #[serde(default)]
    pub(crate) channel: Option<String>,
    #[serde(default)]
    pub(crate) charter: Option<toml::Value>,
    #[serde(default)]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) body: Option<toml::Value>,
    #[serde(default)]
    pub(crate) refs: Vec<String>,
    #[serde(default, rename = "as")]
    pub(crate) label: Option<String>,
    #[serde(default)]
    pub(crate) reason: Option<String>,
    /// For `wait`: the label to wait for at party `by`.
    #[serde(default)]
    pub(crate) until: Option<String>,
    /// The user at party `by` who acts (with their API token and role),
    /// e.g. "signatory" for a signature; the node's operator by default.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// When the step happens, before the story's end: "-40d", "-44h",
    /// "-30m" (only on a story clock; see the module's comment).
    #[serde(default)]
    pub(crate) at: Option<String>,
}

/// "-40d" → seconds (≤ 0) before the end of the story.
fn parse_at(at: &str) -> anyhow::Result<i64> {
    let bad = || {
        anyhow::anyhow!(
            "at = {at:?}: write how long before the story's end, e.g. \"-40d\", \"-44h\" or \"-30m\""
        )
    };
    let digits = at.strip_prefix('-').ok_or_else(bad)?;
    let (n, unit) = digits.split_at(digits.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "d" => 86_400,
        "h" => 3600,
        "m" => 60,
        _ => return Err(bad()),
    };
    Ok(-n * secs)
}

impl Scenario {
    pub(crate) fn parse(text: &str) -> anyhow::Result<Scenario> {
        let s: Scenario = toml::from_str(text).context("reading the scenario")?;
        for (i, step) in s.steps.iter().enumerate() {
            let ok = matches!(
                step.action.as_str(),
                "create_channel" | "accept" | "suspend" | "resume" | "send" | "wait"
            );
            anyhow::ensure!(ok, "step {}: unknown action {:?}", i + 1, step.action);
            if let Some(at) = &step.at {
                parse_at(at).with_context(|| format!("step {}", i + 1))?;
            }
        }
        Ok(s)
    }

    pub(crate) fn load(path: &Path) -> anyhow::Result<Scenario> {
        Scenario::parse(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
    }

    /// Parties the scenario needs nodes for.
    pub(crate) fn parties(&self) -> Vec<String> {
        let mut p: Vec<String> = self.steps.iter().map(|s| s.by.clone()).collect();
        p.sort();
        p.dedup();
        p
    }
}

/// Replaces `{{date±N}}` (days from today), `{{time±N[smhd]}}`, `{{year±N}}`
/// and `{{nextyear+N}}` (days from 1 January next year) relative to `now`.
fn placeholders(v: Value, now: Timestamp) -> anyhow::Result<Value> {
    Ok(match v {
        Value::String(s) => match expand(&s, now)? {
            Some(x) => x,
            None => Value::String(s),
        },
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| placeholders(x, now))
                .collect::<anyhow::Result<_>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| Ok((k, placeholders(x, now)?)))
                .collect::<anyhow::Result<_>>()?,
        ),
        other => other,
    })
}

fn expand(s: &str, now: Timestamp) -> anyhow::Result<Option<Value>> {
    let Some(inner) = s.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) else {
        return Ok(None);
    };
    if inner.contains(':') {
        // `{{entry:LABEL}}`, `{{hash:LABEL}}`: see `labelled`.
        return Ok(None);
    }
    let (what, offset) = match inner.find(['+', '-']) {
        Some(i) => (&inner[..i], &inner[i..]),
        None => (inner, "+0"),
    };
    let (num, unit) = offset.split_at(
        offset
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .len(),
    );
    let n: i64 = num.parse().with_context(|| format!("placeholder {s:?}"))?;
    Ok(Some(match what {
        "date" => Value::String(Date::of(now).plus_days(n).to_string()),
        "year" => json!(Date::of(now).year() + n),
        // Days into next year: calendars for next year stay inside it.
        "nextyear" => Value::String(
            Date::from_ymd(Date::of(now).year() + 1, 1, 1)
                .context("next year is a valid year")?
                .plus_days(n)
                .to_string(),
        ),
        "time" => {
            let secs = match unit {
                "s" | "" => n,
                "m" => n * 60,
                "h" => n * 3600,
                "d" => n * 86_400,
                u => anyhow::bail!("placeholder {s:?}: unit {u:?} (use s, m, h or d)"),
            };
            Value::String(now.plus_seconds(secs).to_string())
        }
        _ => anyhow::bail!("unknown placeholder {s:?} (date, time, year or nextyear)"),
    }))
}

/// Replaces `{{entry:LABEL}}` by the id of the entry labelled so, and
/// `{{hash:LABEL}}` by its hash, once it has reached this node.
fn labelled(v: Value, api: &Api, labels: &BTreeMap<String, String>) -> anyhow::Result<Value> {
    Ok(match v {
        Value::String(s) => {
            let inner = s.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"));
            match inner.and_then(|i| i.split_once(':')) {
                Some((what @ ("entry" | "hash"), label)) => {
                    let id = labels
                        .get(label)
                        .with_context(|| format!("{s}: no earlier step is labelled {label:?}"))?;
                    if what == "entry" {
                        Value::String(id.clone())
                    } else {
                        patiently(|| api.get(&format!("/entries/{id}")))?["hash"].clone()
                    }
                }
                _ => Value::String(s),
            }
        }
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| labelled(x, api, labels))
                .collect::<anyhow::Result<_>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| Ok((k, labelled(x, api, labels)?)))
                .collect::<anyhow::Result<_>>()?,
        ),
        other => other,
    })
}

fn to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Runs a scenario against nodes (party → node directory). `say` receives
/// each line of narration and outcome.
///
/// With `story_clock` (the demo's), each step's `at` moves that clock
/// forward first; without, `at` is ignored.
///
/// # Errors
/// A node is missing or refuses a step (the error names the step).
pub(crate) fn run(
    scenario: &Scenario,
    nodes: &BTreeMap<String, std::path::PathBuf>,
    story_clock: Option<&Path>,
    say: &mut dyn FnMut(String),
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut apis: BTreeMap<(String, Option<String>), Api> = BTreeMap::new();
    for p in scenario.parties() {
        let dir = nodes
            .get(&p)
            .with_context(|| format!("the scenario needs a node for {p:?}: give --node {p}=DIR"))?;
        for user in scenario
            .steps
            .iter()
            .filter(|s| s.by == p)
            .map(|s| s.user.clone())
        {
            if !apis.contains_key(&(p.clone(), user.clone())) {
                let api = Api::open_as(dir, user.as_deref())?;
                apis.insert((p.clone(), user), api);
            }
        }
    }
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let api = &apis[&(step.by.clone(), step.user.clone())];
        let mut now = Timestamp::now();
        if let (Some(clock), Some(at)) = (story_clock, &step.at) {
            let offset = parley_node::clock::advance_story_clock(clock, parse_at(at)?)
                .with_context(|| format!("moving the story clock {}", clock.display()))?;
            now = now.plus_seconds(offset);
        } else if let Some(clock) = story_clock {
            now = now.plus_seconds(parley_node::clock::read_offset(clock));
        }
        if let Some(s) = &step.say {
            say(format!("— {} {s}", &now.to_string()[..10]));
        }
        let id = perform(api, step, &labels, now).with_context(|| {
            format!(
                "step {} ({} {} by {})",
                i + 1,
                step.action,
                step.kind.as_deref().unwrap_or(""),
                step.by
            )
        })?;
        if let (Some(id), Some(_)) = (&id, story_clock) {
            // Delivered before the clock moves on: its receipts are dated
            // in the chapter it belongs to, not in the next one.
            wait_delivered(api, id);
        }
        if let Some(id) = id {
            say(format!(
                "  {} {}: {id}",
                step.by,
                step.kind.as_deref().unwrap_or(&step.action)
            ));
            if let Some(l) = &step.label {
                labels.insert(l.clone(), id);
            }
        }
    }
    Ok(labels)
}

/// Waits (up to 30 s) until every recipient's receipt of entry `id` is in.
fn wait_delivered(api: &Api, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let delivered = api.get(&format!("/entries/{id}")).is_ok_and(|e| {
            e["delivery"]
                .as_array()
                .is_some_and(|d| d.iter().all(|r| !r["delivered_at"].is_null()))
        });
        if delivered {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Retries `f` while the node answers "not yet" (the channel's charter or a
/// referenced entry has not arrived), for up to 60 seconds.
fn patiently<T>(mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) => {
                let retry = e.downcast_ref::<ApiFailure>().is_some_and(|f| {
                    matches!(
                        f.code.as_str(),
                        "not_found" | "channel_state" | "unknown_ref"
                    ) || f
                        .violations
                        .iter()
                        .any(|(field, _)| field.starts_with("refs"))
                });
                if !retry || Instant::now() > deadline {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn perform(
    api: &Api,
    step: &Step,
    labels: &BTreeMap<String, String>,
    now: Timestamp,
) -> anyhow::Result<Option<String>> {
    let channel = || step.channel.clone().context("this step needs a channel");
    let refs: Vec<String> = step
        .refs
        .iter()
        .map(|l| {
            labels
                .get(l)
                .cloned()
                .with_context(|| format!("no earlier step is labelled {l:?}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let id = match step.action.as_str() {
        "create_channel" => {
            let charter = placeholders(
                to_json(
                    step.charter
                        .as_ref()
                        .context("create_channel needs a charter")?,
                ),
                now,
            )?;
            api.post("/channels", &json!({"id": channel()?, "charter": charter}))?
        }
        "accept" => {
            patiently(|| api.post(&format!("/channels/{}/accept", channel()?), &json!({})))?
        }
        "suspend" | "resume" => patiently(|| {
            api.post(
                &format!("/channels/{}/{}", channel()?, step.action),
                &json!({"reason": step.reason.clone().unwrap_or_default()}),
            )
        })?,
        "send" => {
            let body = placeholders(
                to_json(step.body.as_ref().context("send needs a body")?),
                now,
            )?;
            let body = labelled(body, api, labels)?;
            let kind = step.kind.clone().context("send needs a kind")?;
            // Wait until what it references has reached this node.
            for r in &refs {
                patiently(|| api.get(&format!("/entries/{r}")))?;
            }
            patiently(|| {
                api.post(
                    "/entries",
                    &json!({"channel": channel()?, "kind": kind, "body": body, "refs": refs}),
                )
            })?
        }
        "wait" => {
            let l = step.until.as_ref().context("wait needs until")?;
            let id = labels
                .get(l)
                .with_context(|| format!("no earlier step is labelled {l:?}"))?;
            patiently(|| api.get(&format!("/entries/{id}")))?;
            return Ok(None);
        }
        other => anyhow::bail!("unknown action {other:?}"),
    };
    Ok(id["id"].as_str().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_relative_to_now() {
        let now = Timestamp::parse("2026-11-22T10:00:00Z").unwrap();
        let v = placeholders(
            json!({"a": "{{date+60}}", "b": ["{{time-1h}}", "{{year+1}}"], "c": "x"}),
            now,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"a": "2027-01-21", "b": ["2026-11-22T09:00:00Z", 2027], "c": "x"})
        );
        assert!(placeholders(json!("{{weekday+1}}"), now).is_err());
    }

    #[test]
    fn a_step_happens_before_the_story_ends_never_after() {
        assert_eq!(parse_at("-40d").unwrap(), -40 * 86_400);
        assert_eq!(parse_at("-44h").unwrap(), -44 * 3600);
        assert_eq!(parse_at("-30m").unwrap(), -1800);
        for bad in ["40d", "+1d", "-d", "-2w", "", "-1.5d"] {
            assert!(parse_at(bad).is_err(), "{bad}");
        }
    }
}
