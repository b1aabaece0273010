//! Views derived from a ledger: the exercise calendar, meetings with their
//! agenda negotiation and records, and negotiations with their commitments.

use std::collections::BTreeMap;

use parley_log::Timestamp;
use serde::Serialize;

use crate::exercises::{AnnualCalendar, Assessment, PriorNotification, ruleset_of};
use crate::kinds::parse_body;
use crate::ledger::{Known, Ledger};
use crate::meetings::{
    AgendaItem, MeetingInvitation, MeetingRecord, MeetingReply, RecordConfirmation,
};
use crate::negotiation::{DraftDocument, DraftSignature};

/// A notified activity and how it measures up.
pub struct Exercise<'a> {
    pub source: &'a Known,
    pub notification: PriorNotification,
    pub assessment: Assessment,
    /// What breaks the Chapter VIII constraining provisions, each with its
    /// rule (empty: nothing).
    pub chapter_viii: Vec<String>,
}

/// Every prior notification, by start date.
pub fn exercises(ledger: &Ledger) -> Vec<Exercise<'_>> {
    let mut out: Vec<Exercise> = ledger
        .of_kind("prior_notification")
        .filter_map(|k| {
            let n: PriorNotification = parse_body(&k.entry.body).ok()?;
            let rs = ruleset_of(ledger.channels.get(&k.entry.channel));
            Some(Exercise {
                assessment: n.assess(k.entry.time, rs),
                notification: n,
                source: k,
                chapter_viii: vec![],
            })
        })
        .collect();
    let breaches: Vec<Vec<String>> = out.iter().map(|e| chapter_viii(ledger, &out, e)).collect();
    for (e, b) in out.iter_mut().zip(breaches) {
        e.chapter_viii = b;
    }
    out.sort_by(|a, b| {
        (a.notification.start, a.source.id()).cmp(&(b.notification.start, b.source.id()))
    });
    out
}

/// The Chapter VIII constraining provisions, for one notified activity
/// against the same State's others: the two-year forecast of an activity
/// above the constraint thresholds, at most one such activity in any three
/// calendar years, at most six above 13,000 troops (three above 25,000) a
/// year, at most three of those at once. Figures come from the rule set.
fn chapter_viii(ledger: &Ledger, all: &[Exercise<'_>], e: &Exercise<'_>) -> Vec<String> {
    let rs = ruleset_of(ledger.channels.get(&e.source.entry.channel));
    let c = &rs.constraints;
    let author = &e.source.entry.author;
    let year = e.notification.start.year();
    let mine: Vec<&Exercise<'_>> = all
        .iter()
        .filter(|x| x.source.entry.author == *author)
        .collect();
    let above = |t: &[crate::rules::Threshold], x: &Exercise<'_>| {
        t.iter()
            .any(|t| t.met_by(x.notification.forces.get(&t.field)))
    };
    let mut out = Vec::new();
    if above(&c.thresholds, e) {
        let forecast = ledger
            .of_kind("activity_forecast")
            .filter(|k| k.entry.author == *author)
            .filter_map(|k| {
                Some((
                    k,
                    parse_body::<crate::exercises::ActivityForecast>(&k.entry.body).ok()?,
                ))
            })
            .any(|(k, f)| {
                i64::from(f.year) == year
                    && f.in_time(k.entry.time, rs)
                    && f.activities.iter().any(|a| {
                        a.designation
                            .trim()
                            .eq_ignore_ascii_case(e.notification.designation.trim())
                    })
            });
        if !forecast {
            out.push(format!(
                "not communicated by 15 November {} ({})",
                year - c.forecast_years_ahead.value,
                c.forecast_years_ahead.source
            ));
        }
        let crowded = (year - 2..=year).any(|w| {
            mine.iter()
                .filter(|x| above(&c.thresholds, x))
                .filter(|x| (w..w + 3).contains(&x.notification.start.year()))
                .count() as i64
                > c.large_per_three_years.value
        });
        if crowded {
            out.push(format!(
                "more than {} such activity in three calendar years ({})",
                c.large_per_three_years.value, c.large_per_three_years.source
            ));
        }
    }
    if above(&c.medium, e) {
        let same_year = |t: &[crate::rules::Threshold]| {
            mine.iter()
                .filter(|x| above(t, x) && x.notification.start.year() == year)
                .count() as i64
        };
        if same_year(&c.medium) > c.medium_per_year.value {
            out.push(format!(
                "more than {} such activities in {year} ({})",
                c.medium_per_year.value, c.medium_per_year.source
            ));
        }
        if above(&c.larger, e) && same_year(&c.larger) > c.larger_per_year.value {
            out.push(format!(
                "more than {} larger activities in {year} ({})",
                c.larger_per_year.value, c.larger_per_year.source
            ));
        }
        let (s, t) = (e.notification.start, e.notification.end);
        let at_once = mine
            .iter()
            .filter(|x| above(&c.medium, x))
            .filter(|x| x.notification.start <= t && s <= x.notification.end)
            .count() as i64;
        if at_once > c.medium_at_once.value {
            out.push(format!(
                "more than {} such activities at once ({})",
                c.medium_at_once.value, c.medium_at_once.source
            ));
        }
    }
    out
}

/// A notice of a dangerous activity at sea, with how far ahead it came.
pub struct DangerNotice<'a> {
    pub source: &'a Known,
    pub notice: crate::incidents::DangerousActivityNotice,
    /// Whole days between the notice and the start.
    pub days_ahead: i64,
    /// Days the channel's agreement asks for, as a rule.
    pub days_required: Option<i64>,
}

/// Every notice of a dangerous activity at sea, newest start first.
pub fn danger_notices(ledger: &Ledger) -> Vec<DangerNotice<'_>> {
    let mut out: Vec<DangerNotice<'_>> = ledger
        .of_kind("dangerous_activity_notice")
        .filter_map(|k| {
            let notice =
                parse_body::<crate::incidents::DangerousActivityNotice>(&k.entry.body).ok()?;
            let agreement = ledger
                .channels
                .get(&k.entry.channel)
                .and_then(crate::ChannelState::incidents_at_sea);
            Some(DangerNotice {
                days_ahead: (notice.start.0.unix() - k.entry.time.unix()).div_euclid(86_400),
                days_required: agreement.map(|a| a.notice_days.value),
                source: k,
                notice,
            })
        })
        .collect();
    out.sort_by_key(|d| std::cmp::Reverse(d.notice.start));
    out
}

/// Every annual calendar, by year.
pub fn calendars(ledger: &Ledger) -> Vec<(&Known, AnnualCalendar)> {
    let mut out: Vec<(&Known, AnnualCalendar)> = ledger
        .of_kind("annual_calendar")
        .filter_map(|k| Some((k, parse_body(&k.entry.body).ok()?)))
        .collect();
    out.sort_by_key(|(k, c)| (c.year, k.id()));
    out
}

/// An agenda proposal and who has agreed to exactly it.
pub struct Agenda<'a> {
    pub proposal: &'a Known,
    pub items: Vec<AgendaItem>,
    /// The proposer (proposing is agreeing) and every member whose
    /// agreement entry references this proposal's hash.
    pub agreed_by: Vec<String>,
    /// Members who have not agreed to it.
    pub waiting_for: Vec<String>,
}

impl Agenda<'_> {
    pub fn agreed(&self) -> bool {
        self.waiting_for.is_empty()
    }
}

/// Whether a record is public. An embargo means "not before": a record is
/// public only when every member consented, none objects to it, and its
/// embargo (if any) has passed; a passed embargo alone publishes nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disclosure {
    /// Every member consented, no objection stands, the embargo is over.
    Public,
    /// Not public: the members whose consent is missing, the embargo still
    /// running (if any), and the members whose objection blocks it.
    Confidential {
        waiting: Vec<String>,
        embargo: Option<Timestamp>,
        objected_by: Vec<String>,
    },
}

/// A meeting record with its confirmations and consents.
pub struct Record<'a> {
    pub source: &'a Known,
    pub record: MeetingRecord,
    /// (member, confirmed, objections, entry).
    pub confirmations: Vec<(String, bool, Vec<String>, &'a Known)>,
    pub consents: Vec<String>,
    pub disclosure: Disclosure,
}

/// A meeting: the invitation, replies, agendas and records.
pub struct Meeting<'a> {
    pub invitation: &'a Known,
    pub details: MeetingInvitation,
    pub replies: Vec<(&'a Known, MeetingReply)>,
    pub agendas: Vec<Agenda<'a>>,
    pub records: Vec<Record<'a>>,
}

impl Meeting<'_> {
    /// The first agenda every member agreed to.
    pub fn agreed_agenda(&self) -> Option<&Agenda<'_>> {
        self.agendas.iter().find(|a| a.agreed())
    }
}

/// Every meeting, newest invitation first, as of `at` (for disclosure).
pub fn meetings(ledger: &Ledger, at: Timestamp) -> Vec<Meeting<'_>> {
    let mut out = Vec::new();
    for inv in ledger.of_kind("meeting_invitation") {
        let Ok(details) = parse_body::<MeetingInvitation>(&inv.entry.body) else {
            continue;
        };
        let members: Vec<String> = ledger
            .channels
            .get(&inv.entry.channel)
            .map(|c| c.charter.members.clone())
            .unwrap_or_default();
        let mut replies = Vec::new();
        let mut agendas = Vec::new();
        let mut records = Vec::new();
        for r in ledger.referencing(&inv.hash) {
            match r.entry.kind.as_str() {
                "meeting_reply" => {
                    if let Ok(body) = parse_body::<MeetingReply>(&r.entry.body) {
                        replies.push((r, body));
                    }
                }
                "agenda_proposal" => {
                    let Ok(p) = parse_body::<crate::meetings::AgendaProposal>(&r.entry.body) else {
                        continue;
                    };
                    let mut agreed_by = vec![r.entry.author.clone()];
                    for a in ledger
                        .referencing(&r.hash)
                        .filter(|a| a.entry.kind == "agenda_agreement")
                    {
                        if !agreed_by.contains(&a.entry.author) {
                            agreed_by.push(a.entry.author.clone());
                        }
                    }
                    let waiting_for = members
                        .iter()
                        .filter(|m| !agreed_by.contains(m))
                        .cloned()
                        .collect();
                    agendas.push(Agenda {
                        proposal: r,
                        items: p.items,
                        agreed_by,
                        waiting_for,
                    });
                }
                "meeting_record" => {
                    if let Ok(record) = parse_body::<MeetingRecord>(&r.entry.body) {
                        records.push(record_view(ledger, r, record, &members, at));
                    }
                }
                _ => {}
            }
        }
        out.push(Meeting {
            invitation: inv,
            details,
            replies,
            agendas,
            records,
        });
    }
    out.sort_by_key(|m| std::cmp::Reverse(m.invitation.entry.time));
    out
}

fn record_view<'a>(
    ledger: &'a Ledger,
    source: &'a Known,
    record: MeetingRecord,
    members: &[String],
    at: Timestamp,
) -> Record<'a> {
    let mut confirmations = Vec::new();
    let mut consents = Vec::new();
    for r in ledger.referencing(&source.hash) {
        match r.entry.kind.as_str() {
            "record_confirmation" => {
                if let Ok(c) = parse_body::<RecordConfirmation>(&r.entry.body) {
                    confirmations.push((r.entry.author.clone(), c.confirm, c.objections, r));
                }
            }
            "disclosure_consent" if !consents.contains(&r.entry.author) => {
                consents.push(r.entry.author.clone())
            }
            _ => {}
        }
    }
    let waiting: Vec<String> = members
        .iter()
        .filter(|m| !consents.contains(m))
        .cloned()
        .collect();
    // A member's latest word on the record counts: an objection stands
    // until that member confirms.
    let mut latest: BTreeMap<&str, (u64, bool)> = BTreeMap::new();
    for (party, ok, _, k) in &confirmations {
        let e = latest.entry(party.as_str()).or_insert((k.entry.seq, *ok));
        if k.entry.seq >= e.0 {
            *e = (k.entry.seq, *ok);
        }
    }
    let objected_by: Vec<String> = latest
        .iter()
        .filter(|(_, (_, ok))| !ok)
        .map(|(p, _)| p.to_string())
        .collect();
    let embargo = record.embargo_until.map(|e| e.0).filter(|e| *e > at);
    let disclosure = if waiting.is_empty() && embargo.is_none() && objected_by.is_empty() {
        Disclosure::Public
    } else {
        Disclosure::Confidential {
            waiting,
            embargo,
            objected_by,
        }
    };
    Record {
        source,
        record,
        confirmations,
        consents,
        disclosure,
    }
}

/// One version of a negotiated text.
pub struct Version<'a> {
    pub source: &'a Known,
    pub draft: DraftDocument,
    /// The version this one revises.
    pub parent: Option<String>,
    /// (signatory, signature entry).
    pub signatures: Vec<(String, &'a Known)>,
    /// Its links to versions in other tracks, as this node can check them.
    pub links: Vec<Link>,
    /// Versions (in any track this node sees) that revise or link to this
    /// one, with when they were stated: this one is superseded from then.
    pub superseded_by: Vec<(String, parley_log::Timestamp)>,
}

/// A link to a version in another channel, as one node sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Link {
    pub entry: String,
    pub hash: String,
    pub seen: LinkSeen,
}

/// What a node can say of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkSeen {
    /// This node holds that version under that id and hash.
    Verified,
    /// This node holds an entry with that hash under another id, or the id
    /// names an entry with another hash: the link is false.
    Mismatch,
    /// In a channel this node is not a member of: named, not verifiable.
    NotVisible,
    /// In a channel this node is in, but it holds no such version: not
    /// delivered yet, or false.
    Missing,
}

impl Version<'_> {
    /// The signatures made after a newer version existed: a party signed a
    /// text already superseded.
    pub fn signed_superseded(&self) -> Vec<(&str, &str)> {
        let Some(first) = self.superseded_by.iter().map(|(_, t)| *t).min() else {
            return vec![];
        };
        let by = self
            .superseded_by
            .iter()
            .min_by_key(|(_, t)| *t)
            .map_or("", |(id, _)| id.as_str());
        self.signatures
            .iter()
            .filter(|(_, k)| k.entry.time >= first)
            .map(|(p, _)| (p.as_str(), by))
            .collect()
    }
}

impl Version<'_> {
    /// Signed by every named signatory: a commitment.
    pub fn committed(&self) -> bool {
        self.draft
            .signatories
            .iter()
            .all(|s| self.signatures.iter().any(|(p, _)| p == s))
    }

    pub fn unsigned_by(&self) -> Vec<&str> {
        self.draft
            .signatories
            .iter()
            .filter(|s| !self.signatures.iter().any(|(p, _)| p == *s))
            .map(String::as_str)
            .collect()
    }
}

/// A negotiated document and its versions, oldest first.
pub struct Document<'a> {
    pub document: String,
    pub channel: String,
    pub versions: Vec<Version<'a>>,
}

/// Every negotiated document.
pub fn negotiations(ledger: &Ledger) -> Vec<Document<'_>> {
    let mut docs: Vec<Document> = Vec::new();
    for k in ledger.of_kind("draft_document") {
        let Ok(draft) = parse_body::<DraftDocument>(&k.entry.body) else {
            continue;
        };
        let signatures = ledger
            .referencing(&k.hash)
            .filter(|s| {
                s.entry.kind == "draft_signature"
                    && parse_body::<DraftSignature>(&s.entry.body).is_ok()
            })
            .filter(|s| draft.signatories.contains(&s.entry.author))
            .map(|s| (s.entry.author.clone(), s))
            .collect();
        let links = draft.links.iter().map(|l| link_seen(ledger, l)).collect();
        let version = Version {
            parent: k
                .entry
                .refs
                .first()
                .and_then(|r| ledger.get(r))
                .map(Known::id),
            source: k,
            signatures,
            links,
            superseded_by: vec![],
            draft,
        };
        let key = (k.entry.channel.clone(), version.draft.document.clone());
        match docs
            .iter_mut()
            .find(|d| (d.channel.clone(), d.document.clone()) == key)
        {
            Some(d) => d.versions.push(version),
            None => docs.push(Document {
                document: key.1,
                channel: key.0,
                versions: vec![version],
            }),
        }
    }
    // A version is superseded by each version that revises it or links to
    // it with a verified link, in any track this node sees.
    let mut newer: std::collections::HashMap<String, Vec<(String, parley_log::Timestamp)>> =
        std::collections::HashMap::new();
    for v in docs.iter().flat_map(|d| &d.versions) {
        let later = (v.source.id(), v.source.entry.time);
        for target in v.parent.iter().chain(
            v.links
                .iter()
                .filter(|l| l.seen == LinkSeen::Verified)
                .map(|l| &l.entry),
        ) {
            newer.entry(target.clone()).or_default().push(later.clone());
        }
    }
    for v in docs.iter_mut().flat_map(|d| d.versions.iter_mut()) {
        v.superseded_by = newer.remove(&v.source.id()).unwrap_or_default();
    }
    // Order by revision depth (a revision after the version it revises,
    // whatever the clocks say), then by stated time.
    for d in &mut docs {
        let parents: std::collections::HashMap<String, Option<String>> = d
            .versions
            .iter()
            .map(|v| (v.source.id(), v.parent.clone()))
            .collect();
        let depth = |id: &str| {
            let mut n = 0;
            let mut cur = parents.get(id).cloned().flatten();
            while let Some(p) = cur {
                n += 1;
                cur = parents.get(&p).cloned().flatten();
                if n > parents.len() {
                    break;
                }
            }
            n
        };
        d.versions
            .sort_by_key(|v| (depth(&v.source.id()), v.source.entry.time, v.source.id()));
    }
    docs
}

fn link_seen(ledger: &Ledger, l: &crate::negotiation::VersionLink) -> Link {
    let by_hash = parley_log::Hash::from_hex(&l.hash)
        .ok()
        .and_then(|h| ledger.get(&h));
    let channel = l.channel().unwrap_or("");
    let seen = match by_hash {
        Some(k) if k.id() == l.entry && k.entry.kind == "draft_document" => LinkSeen::Verified,
        Some(_) => LinkSeen::Mismatch,
        // Not held: false if this node is in that channel (it would hold
        // the version), else simply out of its sight.
        None if ledger.channels.contains_key(channel) => LinkSeen::Missing,
        None => LinkSeen::NotVisible,
    };
    Link {
        entry: l.entry.clone(),
        hash: l.hash.clone(),
        seen,
    }
}

/// One negotiation conducted in several channels (tracks): its documents,
/// one per track this node sees.
pub struct Negotiation<'a> {
    pub id: String,
    pub tracks: Vec<Document<'a>>,
}

/// The documents that name a negotiation, grouped by it (a document whose
/// versions name none is its own, under its channel and id).
pub fn negotiation_tracks(ledger: &Ledger) -> Vec<Negotiation<'_>> {
    let mut out: Vec<Negotiation<'_>> = Vec::new();
    for d in negotiations(ledger) {
        let Some(id) = d
            .versions
            .iter()
            .rev()
            .find_map(|v| v.draft.negotiation.clone())
        else {
            continue;
        };
        match out.iter_mut().find(|n| n.id == id) {
            Some(n) => n.tracks.push(d),
            None => out.push(Negotiation {
                id,
                tracks: vec![d],
            }),
        }
    }
    out
}

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
}

/// A line diff (longest common subsequence) between two texts.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(DiffLine::Same(a[i].into()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(DiffLine::Removed(a[i].into()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].into()));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changed_lines() {
        let d = diff_lines("1. A\n2. B\n3. C", "1. A\n2. B'\n3. C\n4. D");
        assert_eq!(
            d,
            vec![
                DiffLine::Same("1. A".into()),
                DiffLine::Removed("2. B".into()),
                DiffLine::Added("2. B'".into()),
                DiffLine::Same("3. C".into()),
                DiffLine::Added("4. D".into()),
            ]
        );
    }
}
