//! Domain commands: kinds, schemas, examples and rule sets (offline), and
//! the views a node derives (obligations, timeline, silence, exercises,
//! meetings, negotiations, commitments).

use parley_domain::{kinds, rules};
use parley_log::Timestamp;
use serde_json::{Value, json};

use super::api::{Api, report};
use crate::cli::{AtArgs, JsonOnly, NodeArgs, ObligationsArgs, TimelineArgs};
use crate::output;

fn spec(kind: &str) -> anyhow::Result<&'static kinds::KindSpec> {
    kinds::get(kind)
        .ok_or_else(|| anyhow::anyhow!("unknown kind {kind:?}; `parley kinds` lists them"))
}

pub(crate) fn kinds(a: JsonOnly) -> anyhow::Result<()> {
    if a.json.json {
        let v: Vec<Value> = kinds::all()
            .iter()
            .map(|k| json!({"kind": k.name, "title": k.title, "description": k.description}))
            .collect();
        return output::json(&Value::Array(v));
    }
    output::lines(
        kinds::all()
            .iter()
            .map(|k| format!("{:<24} {}", k.name, k.description)),
    )
}

pub(crate) fn roles(a: crate::cli::RolesArgs) -> anyhow::Result<()> {
    use parley_node::console::auth::{ROLES, role_table_markdown};
    if a.markdown {
        return output::text(&role_table_markdown());
    }
    if a.json.json {
        let v: Vec<Value> = ROLES
            .iter()
            .map(|r| json!({"role": r.as_str(), "title": r.title(), "may_send": r.kinds()}))
            .collect();
        return output::json(&Value::Array(v));
    }
    output::lines(
        ROLES
            .iter()
            .map(|r| format!("{:<14} {}: {}", r.as_str(), r.title(), r.sends_in_words())),
    )
}

pub(crate) fn schema(kind: &str) -> anyhow::Result<()> {
    output::json(&spec(kind)?.schema())
}

pub(crate) fn example(kind: &str) -> anyhow::Result<()> {
    output::json(&spec(kind)?.example(Timestamp::now()))
}

pub(crate) fn rules(a: JsonOnly) -> anyhow::Result<()> {
    let mut out = Vec::new();
    let mut js = Vec::new();
    for rs in rules::all() {
        let mut figures: Vec<(String, String, String, String)> = Vec::new();
        let mut fig = |what: &str, value: String, tag: &str, source: &str| {
            figures.push((what.into(), value, tag.into(), source.into()));
        };
        let n = &rs.notification;
        fig(
            "notification lead time",
            format!("{} days", n.lead_days.value),
            &n.lead_days.tag,
            &n.lead_days.source,
        );
        for t in &n.thresholds {
            fig(
                "notifiable at",
                format!("{} {}", t.op, t.describe()),
                &t.tag,
                &t.source,
            );
        }
        let s = &n.sorties_to_include;
        fig(
            "air sorties to include",
            format!(">= {}", rules::group(s.value)),
            &s.tag,
            &s.source,
        );
        for t in &rs.observation.thresholds {
            fig(
                "observation required at",
                format!("{} {}", t.op, t.describe()),
                &t.tag,
                &t.source,
            );
        }
        let r = &rs.observation.reply_days;
        fig(
            "answer to an invitation to observe",
            format!("{} days", r.value),
            &r.tag,
            &r.source,
        );
        for t in &rs.constraints.thresholds {
            fig(
                "two years' notice above",
                format!("{} {}", t.op, t.describe()),
                &t.tag,
                &t.source,
            );
        }
        let c = &rs.calendar.due;
        fig(
            "annual calendar due",
            format!("{:02}-{:02} for the next year", c.month, c.day),
            &c.tag,
            &c.source,
        );
        let rr = &rs.risk_reduction;
        fig(
            "reply to a request for clarification",
            format!("{} hours", rr.reply_hours.value),
            &rr.reply_hours.tag,
            &rr.reply_hours.source,
        );
        fig(
            "meeting convened after a request",
            format!("{} hours", rr.meeting_hours.value),
            &rr.meeting_hours.tag,
            &rr.meeting_hours.source,
        );
        let d = &rs.exchange.military_information.due;
        fig(
            "military information (Ch. I) due",
            format!("{:02}-{:02} for the next year", d.month, d.day),
            &d.tag,
            &d.source,
        );
        let m = &rs.exchange.defence_planning_months;
        fig(
            "defence planning (Ch. II) due",
            format!("{} months after the budget", m.value),
            &m.tag,
            &m.source,
        );
        let i = &rs.inspection;
        let e = &rs.evaluation;
        for (what, f, unit) in [
            ("inspections a State accepts a year", &i.per_year, ""),
            (
                "inspections from the same State",
                &i.per_year_from_same_state,
                "",
            ),
            ("reply to an inspection request", &i.reply_hours, " hours"),
            ("inspection team enters within", &i.entry_hours, " hours"),
            ("inspection lasts at most", &i.duration_hours, " hours"),
            ("inspectors at most", &i.inspectors, ""),
            ("inspection report within", &i.report_days, " days"),
            (
                "evaluation quota: one visit per",
                &e.units_per_visit,
                " units",
            ),
            ("evaluation visits a year at most", &e.per_year, ""),
            (
                "visits from the same State: 1 in",
                &e.same_state_share,
                " of the quota",
            ),
            (
                "below this quota, 1 from the same State",
                &e.small_quota,
                "",
            ),
            ("visits to one unit a year", &e.per_unit_per_year, ""),
            (
                "visits to one unit by the same State",
                &e.per_unit_from_same_state,
                "",
            ),
            ("evaluation visit requested ahead", &e.lead_days, " days"),
            (
                "reply to an evaluation visit request",
                &e.reply_hours,
                " hours",
            ),
            ("evaluation team at most", &e.team, ""),
            (
                "evaluation visit lasts at most",
                &e.duration_hours,
                " hours",
            ),
            ("evaluation report within", &e.report_days, " days"),
        ] {
            fig(what, format!("{}{unit}", f.value), &f.tag, &f.source);
        }
        let nb = &rs.numbering;
        for f in &nb.formats {
            fig(
                "message number format",
                format!(
                    "{}/SENDER/YY/SERIAL/{} {}",
                    nb.prefix,
                    f.designation.as_deref().unwrap_or("-"),
                    f.kind
                ),
                &f.tag,
                &f.source,
            );
        }
        out.push(format!(
            "{} — {}   (tags: V verified, K from the primary text, U uncertain)",
            rs.name(),
            rs.title
        ));
        for (what, value, tag, source) in &figures {
            out.push(format!("  [{tag}] {what:<38} {value:<58} {source}"));
        }
        js.push(json!({
            "name": rs.name(),
            "title": rs.title,
            "figures": figures.iter().map(|(w, v, t, s)| json!({"what": w, "value": v, "tag": t, "source": s})).collect::<Vec<_>>(),
        }));
    }
    for ag in parley_domain::agreements::all() {
        let mut figures = vec![
            (
                "notice of a dangerous activity".to_string(),
                format!("{} days ahead, as a rule", ag.notice_days.value),
                ag.notice_days.tag.clone(),
                ag.notice_days.source.clone(),
            ),
            (
                "review meeting every".to_string(),
                format!("{} months", ag.review_months.value),
                ag.review_months.tag.clone(),
                ag.review_months.source.clone(),
            ),
        ];
        for x in &ag.articles {
            figures.push((
                format!("article {}", x.id),
                x.title.clone(),
                x.tag.clone(),
                x.source.clone(),
            ));
        }
        out.push(format!("{} — {}", ag.name(), ag.title));
        for (what, value, tag, source) in &figures {
            out.push(format!("  [{tag}] {what:<38} {value:<58} {source}"));
        }
        js.push(json!({
            "name": ag.name(),
            "title": ag.title,
            "figures": figures.iter().map(|(w, v, t, s)| json!({"what": w, "value": v, "tag": t, "source": s})).collect::<Vec<_>>(),
        }));
    }
    if a.json.json {
        return output::json(&Value::Array(js));
    }
    output::lines(out)
}

/// "2 d 03 h", "3 h 05 min", "42 s".
pub(crate) fn duration(secs: i64) -> String {
    let s = secs.abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if d >= 2 {
        format!("{d} days")
    } else if d == 1 {
        format!("1 d {h:02} h")
    } else if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min")
    } else {
        format!("{s} s")
    }
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|v| format!("{k}={}", v.replace('+', "%2B").replace(':', "%3A")))
        })
        .collect();
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

fn obligation_line(o: &Value) -> String {
    let status = o["status"].as_str().unwrap_or("");
    let when = match status {
        "met" | "met_late" => format!(
            "met by {} at {}{}",
            o["met_by"].as_str().unwrap_or(""),
            o["met_at"].as_str().unwrap_or(""),
            if status == "met_late" { " (late)" } else { "" }
        ),
        "pending" => "not yet delivered: no clock runs".to_string(),
        _ => match (o["due"].as_str(), o["remaining_seconds"].as_i64()) {
            (Some(due), Some(r)) if r < 0 => format!("due {due}, overdue by {}", duration(r)),
            (Some(due), Some(r)) => format!("due {due}, in {}", duration(r)),
            _ => String::new(),
        },
    };
    let open_questions: Vec<&str> = o["unanswered_questions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut line = format!(
        "{:<9} {:>7} → {:<7} {}  [{}]",
        status.to_uppercase(),
        o["debtor"].as_str().unwrap_or(""),
        o["creditor"].as_str().unwrap_or(""),
        o["description"].as_str().unwrap_or(""),
        when
    );
    for q in open_questions {
        line.push_str(&format!("\n          unanswered: {q}"));
    }
    line
}

pub(crate) fn obligations(a: ObligationsArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let path = format!(
        "/obligations{}",
        query(&[
            ("party", a.party.clone()),
            ("channel", a.channel.clone()),
            ("overdue", a.overdue.then(|| "true".into())),
            ("at", a.at.clone()),
            ("met", Some(a.met.to_string())),
            ("all", a.all.then(|| "true".into())),
        ])
    );
    let v = api.get(&path).map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&v);
    }
    let list = v["obligations"].as_array().cloned().unwrap_or_default();
    let mut out = vec![format!(
        "obligations as of {}",
        v["at"].as_str().unwrap_or("")
    )];
    if list.is_empty() {
        out.push("  none".into());
    }
    out.extend(list.iter().map(obligation_line));
    let (listed, total) = (
        v["met_listed"].as_u64().unwrap_or(0),
        v["met_total"].as_u64().unwrap_or(0),
    );
    if listed < total && !a.all {
        out.push(format!(
            "  … and {} met earlier (--met N lists more, --all lists every obligation)",
            total - listed
        ));
    }
    output::lines(out)
}

pub(crate) fn silence(s: crate::cli::SilenceArgs) -> anyhow::Result<()> {
    if let (Some(entry), Some(debtor)) = (&s.proof, &s.debtor) {
        let api = Api::open(&s.at.dir.dir)?;
        let text = api
            .get_text(&format!(
                "/silence/proof{}",
                query(&[
                    ("entry", Some(entry.clone())),
                    ("debtor", Some(debtor.clone()))
                ])
            ))
            .map_err(|e| report(s.at.json.json, e))?;
        return match &s.out {
            Some(path) => {
                std::fs::write(path, &text)?;
                output::lines([format!(
                    "wrote the proof that {debtor} has not answered {entry} to {}; check it with parley verify",
                    path.display()
                )])
            }
            None => output::text(&text),
        };
    }
    let a = s.at;
    let api = Api::open(&a.dir.dir)?;
    let v = api
        .get(&format!("/silence{}", query(&[("at", a.at.clone())])))
        .map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&v);
    }
    let list = v["silence"].as_array().cloned().unwrap_or_default();
    let mut out = vec![format!(
        "unanswered as of {}",
        v["at"].as_str().unwrap_or("")
    )];
    if list.is_empty() {
        out.push("  nothing: every obligation is met".into());
    }
    for o in &list {
        out.push(format!(
            "{:<10} {} owes {}: {} — silent for {}{}",
            o["status"].as_str().unwrap_or("").to_uppercase(),
            o["debtor"].as_str().unwrap_or(""),
            o["creditor"].as_str().unwrap_or(""),
            o["description"].as_str().unwrap_or(""),
            duration(o["silent_for_seconds"].as_i64().unwrap_or(0)),
            if o["starts_proven"] == true {
                ""
            } else {
                " (delivery not proven here)"
            },
        ));
    }
    output::lines(out)
}

pub(crate) fn timeline(a: TimelineArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let v = api
        .get(&format!(
            "/timeline{}",
            query(&[
                ("channel", Some(a.channel.clone())),
                ("from", a.from.map(|f| f.to_string())),
                ("limit", Some(a.limit.to_string())),
            ])
        ))
        .map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&v);
    }
    let list = v["timeline"].as_array().cloned().unwrap_or_default();
    let (from, to, total) = (
        v["from"].as_u64().unwrap_or(0),
        v["to"].as_u64().unwrap_or(0),
        v["total"].as_u64().unwrap_or(0),
    );
    let note = (to - from < total)
        .then(|| format!("entries {from}–{to} of {total} (--from N and --limit N show others)"));
    output::lines(note.into_iter().chain(list.iter().map(|e| {
        let refs = e["refs"].as_array().filter(|r| !r.is_empty()).map(|r| {
            format!(
                "  ↳ {}",
                r.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        format!(
            "{}  {:<8} {:<24} {:<22} {}{}",
            e["time"].as_str().unwrap_or(""),
            e["author"].as_str().unwrap_or(""),
            e["id"].as_str().unwrap_or(""),
            e["kind"].as_str().unwrap_or(""),
            e["summary"].as_str().unwrap_or(""),
            refs.unwrap_or_default()
        )
    })))
}

pub(crate) fn exercises(a: NodeArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let v = api.get("/exercises").map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&v);
    }
    let mut out = Vec::new();
    for n in v["notifications"].as_array().into_iter().flatten() {
        let a = &n["assessment"];
        let mut badges = Vec::new();
        badges.push(
            if a["notifiable"].as_array().is_some_and(|x| !x.is_empty()) {
                "NOTIFIABLE"
            } else {
                "below thresholds"
            },
        );
        if a["observation"].as_array().is_some_and(|x| !x.is_empty()) {
            badges.push("OBSERVATION REQUIRED");
        }
        match a["timing"].as_str() {
            Some("late") => badges.push("LATE"),
            Some("at_commencement") => badges.push("ALERT: notified at commencement"),
            Some("voluntary") => badges.push("voluntary"),
            _ => {}
        }
        if a["observation_exempt"] == true {
            badges.push("alert of 72 h or less: no observation");
        }
        if n["chapter_viii"].as_array().is_some_and(|b| !b.is_empty()) {
            badges.push("CH. VIII BREACH");
        }
        out.push(format!(
            "{} – {}  {} ({}), {} troops  [{}]  {}",
            n["start"].as_str().unwrap_or(""),
            n["end"].as_str().unwrap_or(""),
            n["designation"].as_str().unwrap_or(""),
            n["author"].as_str().unwrap_or(""),
            n["forces"]["troops"],
            badges.join(", "),
            n["id"].as_str().unwrap_or("")
        ));
        if a["late"] == true {
            out.push(format!(
                "      notified {} days ahead; {} required — late: {}",
                a["lead_days"],
                a["required_lead_days"],
                n["late"]["reason"].as_str().unwrap_or("NOT MARKED")
            ));
        }
        for b in n["chapter_viii"].as_array().into_iter().flatten() {
            out.push(format!("      Chapter VIII: {}", b.as_str().unwrap_or("")));
        }
    }
    for c in v["calendars"].as_array().into_iter().flatten() {
        let n = c["activities"].as_array().map_or(0, Vec::len);
        out.push(format!(
            "calendar {} by {}: {} ({})",
            c["year"],
            c["author"].as_str().unwrap_or(""),
            if n == 0 {
                "nil".to_string()
            } else {
                format!("{n} activities")
            },
            c["id"].as_str().unwrap_or("")
        ));
    }
    if out.is_empty() {
        out.push("no notified activities".into());
    }
    output::lines(out)
}

pub(crate) fn verification(a: crate::cli::YearArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let v = api
        .get(&format!(
            "/verification{}",
            query(&[("year", a.year.map(|y| y.to_string()))])
        ))
        .map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&v);
    }
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut out = Vec::new();
    for c in v["channels"].as_array().into_iter().flatten() {
        out.push(format!(
            "channel {} — quotas for {}",
            s(&c["channel"]),
            v["year"]
        ));
        for q in c["quotas"].as_array().into_iter().flatten() {
            let evaluation = match q["evaluation_quota"].as_i64() {
                Some(quota) => format!(
                    "{} of {} ({} left; {} reported)",
                    q["evaluations"],
                    rules::count(quota, "evaluation visit", "evaluation visits"),
                    q["evaluations_left"],
                    rules::count(q["units"].as_i64().unwrap_or(0), "unit", "units")
                ),
                None => format!(
                    "{} evaluation visits (quota unknown: no Chapter I information)",
                    q["evaluations"]
                ),
            };
            out.push(format!(
                "  {:<12} {} of {} inspections ({} left); {evaluation}",
                s(&q["state"]),
                q["inspections"],
                q["inspection_quota"],
                q["inspections_left"]
            ));
        }
        for r in c["requests"].as_array().into_iter().flatten() {
            let standing = match r["standing"]["standing"].as_str() {
                Some("within") if r["counted"] == true => "WITHIN QUOTA".to_string(),
                Some("within") => "within quota, not counted".to_string(),
                _ => format!("BEYOND QUOTA: {}", s(&r["standing"]["rule"])),
            };
            let reply = match r["reply"]["body"]["decision"].as_str() {
                Some(d) => format!(
                    "{}{}",
                    d.to_uppercase(),
                    r["reply"]["body"]["ground"]
                        .as_str()
                        .map(|g| format!(" ({g})"))
                        .unwrap_or_default()
                ),
                None => "no reply".into(),
            };
            let report = if r["report"].is_null() {
                "no report"
            } else {
                "reported"
            };
            out.push(format!(
                "  {} {} of {} by {}  [{standing}]  {reply}, {report}  {}",
                s(&r["asked_at"]),
                s(&r["family"]).replace('_', " "),
                s(&r["to"]),
                s(&r["from"]),
                s(&r["id"])
            ));
            for f in r["findings"].as_array().into_iter().flatten() {
                out.push(format!("      rule: {}", s(f)));
            }
        }
        for r in c["returns"].as_array().into_iter().flatten() {
            let what = if r["units"].is_null() {
                "defence planning (Ch. II)".to_string()
            } else {
                format!("military information (Ch. I), {} units", r["units"])
            };
            let late = r["days_late"]
                .as_i64()
                .map(|d| format!("  LATE by {d} days"))
                .unwrap_or_default();
            out.push(format!(
                "  {} for {} by {}: due {}, sent {}{late}  {}",
                what,
                r["year"],
                s(&r["author"]),
                s(&r["due"]),
                s(&r["sent"]),
                s(&r["id"])
            ));
        }
    }
    if out.is_empty() {
        out.push("nothing under Vienna Document Chapters I, II or IX".into());
    }
    output::lines(out)
}

pub(crate) fn meetings(a: AtArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let v = api
        .get(&format!("/meetings{}", query(&[("at", a.at.clone())])))
        .map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&v);
    }
    let mut out = Vec::new();
    for m in v.as_array().into_iter().flatten() {
        out.push(format!(
            "{} — {} at {} ({}), invited by {}",
            m["id"].as_str().unwrap_or(""),
            m["invitation"]["title"].as_str().unwrap_or(""),
            m["invitation"]["venue"].as_str().unwrap_or(""),
            m["invitation"]["level"].as_str().unwrap_or(""),
            m["author"].as_str().unwrap_or("")
        ));
        for r in m["replies"].as_array().into_iter().flatten() {
            out.push(format!(
                "    reply from {}: {}",
                r["party"].as_str().unwrap_or(""),
                r["reply"]["response"].as_str().unwrap_or("")
            ));
        }
        for ag in m["agendas"].as_array().into_iter().flatten() {
            let items: Vec<String> = ag["items"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, it)| {
                    format!(
                        "{}. {} ({})",
                        i + 1,
                        it["title"].as_str().unwrap_or(""),
                        it["sponsor"].as_str().unwrap_or("")
                    )
                })
                .collect();
            out.push(format!(
                "    agenda {} by {}: {} — {}",
                ag["id"].as_str().unwrap_or(""),
                ag["proposed_by"].as_str().unwrap_or(""),
                items.join("; "),
                if ag["agreed"] == true {
                    "AGREED by all".to_string()
                } else {
                    format!("waiting for {}", super::channel::join(&ag["waiting_for"]))
                }
            ));
        }
        for r in m["records"].as_array().into_iter().flatten() {
            out.push(format!(
                "    record {}: {} difference(s); {}; {}",
                r["id"].as_str().unwrap_or(""),
                r["record"]["differences"].as_array().map_or(0, Vec::len),
                confirmations_text(&r["confirmations"]),
                disclosure_text(&r["disclosure"]),
            ));
        }
    }
    if out.is_empty() {
        out.push("no meetings".into());
    }
    output::lines(out)
}

/// "confirmed by A, B; objected to by C (what)", or "not yet confirmed".
fn confirmations_text(list: &Value) -> String {
    let all = list.as_array().cloned().unwrap_or_default();
    let confirmed: Vec<&str> = all
        .iter()
        .filter(|c| c["confirm"] == true)
        .filter_map(|c| c["party"].as_str())
        .collect();
    let objections: Vec<String> = all
        .iter()
        .filter(|c| c["confirm"] == false)
        .map(|c| {
            format!(
                "{} ({})",
                c["party"].as_str().unwrap_or(""),
                c["objections"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })
        .collect();
    let mut parts = Vec::new();
    if !confirmed.is_empty() {
        parts.push(format!("confirmed by {}", confirmed.join(", ")));
    }
    if !objections.is_empty() {
        parts.push(format!("objected to by {}", objections.join(", ")));
    }
    if parts.is_empty() {
        "not yet confirmed".into()
    } else {
        parts.join("; ")
    }
}

fn disclosure_text(d: &Value) -> String {
    if d["public"] == true {
        return format!("PUBLIC ({})", d["because"].as_str().unwrap_or(""));
    }
    let mut why = Vec::new();
    let waiting = super::channel::join(&d["waiting_for"]);
    if !waiting.is_empty() {
        why.push(format!("waiting for consent from {waiting}"));
    }
    if let Some(e) = d["embargo_until"].as_str() {
        why.push(format!("embargoed until {e}"));
    }
    let objected = super::channel::join(&d["objected_by"]);
    if !objected.is_empty() {
        why.push(format!("blocked by {objected}'s objection"));
    }
    format!("confidential ({})", why.join("; "))
}

pub(crate) fn negotiations(a: NodeArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let v = api
        .get("/negotiations")
        .map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&v);
    }
    let mut out = Vec::new();
    for d in v.as_array().into_iter().flatten() {
        out.push(format!(
            "{} ({}){}",
            d["document"].as_str().unwrap_or(""),
            d["channel"].as_str().unwrap_or(""),
            d["negotiation"]
                .as_str()
                .map(|n| format!(" — a track of negotiation {n}"))
                .unwrap_or_default()
        ));
        for ver in d["versions"].as_array().into_iter().flatten() {
            out.push(format!(
                "    {} {} by {} — {}{}",
                ver["draft"]["version"].as_str().unwrap_or(""),
                ver["id"].as_str().unwrap_or(""),
                ver["author"].as_str().unwrap_or(""),
                if ver["committed"] == true {
                    "COMMITMENT: signed by all".to_string()
                } else {
                    format!("unsigned by {}", super::channel::join(&ver["unsigned_by"]))
                },
                ver["parent"]
                    .as_str()
                    .map(|p| format!(" (revises {p})"))
                    .unwrap_or_default()
            ));
            for l in ver["links"].as_array().into_iter().flatten() {
                let seen = match l["seen"].as_str() {
                    Some("verified") => "VERIFIED",
                    Some("mismatch") => "FALSE LINK",
                    Some("missing") => "not held here",
                    _ => "in a channel this node does not see",
                };
                out.push(format!(
                    "        links {}: {seen}",
                    l["entry"].as_str().unwrap_or("")
                ));
            }
            for a in ver["draft"]["articles"].as_array().into_iter().flatten() {
                out.push(format!(
                    "        article {}: {}",
                    a["article"].as_str().unwrap_or(""),
                    a["status"].as_str().unwrap_or("").replace('_', " ")
                ));
            }
            for s in ver["signed_superseded"].as_array().into_iter().flatten() {
                out.push(format!(
                    "        SIGNED A SUPERSEDED VERSION: {} signed after {} replaced it",
                    s["party"].as_str().unwrap_or(""),
                    s["superseded_by"].as_str().unwrap_or("")
                ));
            }
        }
    }
    if out.is_empty() {
        out.push("no drafts".into());
    }
    output::lines(out)
}

pub(crate) fn commitments(a: NodeArgs) -> anyhow::Result<()> {
    let api = Api::open(&a.dir.dir)?;
    let v = api
        .get("/commitments")
        .map_err(|e| report(a.json.json, e))?;
    if a.json.json {
        return output::json(&v);
    }
    let list = v.as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        return output::lines(["no commitments: no draft is signed by all its signatories"]);
    }
    output::lines(list.iter().map(|c| {
        format!(
            "{} {} \"{}\" — signed by {} ({}); prove each signature with `parley proof`",
            c["document"].as_str().unwrap_or(""),
            c["version"].as_str().unwrap_or(""),
            c["title"].as_str().unwrap_or(""),
            c["signatures"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| format!(
                    "{} in {}",
                    s["party"].as_str().unwrap_or(""),
                    s["id"].as_str().unwrap_or("")
                ))
                .collect::<Vec<_>>()
                .join(", "),
            c["id"].as_str().unwrap_or("")
        )
    }))
}
