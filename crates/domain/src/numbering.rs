//! Message numbers: each notification carries a serial per sender, channel
//! and calendar year and, where the regime has one, its format's
//! designation (the OSCE's F-numbers), as `CBM/RUSSIA/27/0003/F25`. Which
//! kinds are numbered, the prefix and the designations are data in the
//! channel's rule set, not code.
//!
//! The serial is derived, not written into the entry: it counts the
//! sender's numbered entries of that year in its own feed of the channel,
//! in feed order, so every member (each holds the whole channel) computes
//! the same number, and no sender can give two messages one number or skip
//! one. A serial per channel rather than per sender across the network,
//! because no member sees the channels it is not in.

use std::collections::{BTreeMap, HashMap};

use parley_log::Hash;
use serde::Serialize;

use crate::dates::Date;
use crate::exercises::ruleset_of;
use crate::ledger::{Known, Ledger};

/// One message's number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageNumber {
    /// `PREFIX/SENDER/YY/SERIAL[/FORMAT]`.
    pub text: String,
    pub serial: u32,
    pub year: i64,
    /// The format's designation, e.g. "F25".
    pub format: Option<String>,
    /// The format's title, e.g. "Prior notification of military activities".
    pub format_title: String,
}

/// The numbers of every numbered entry this ledger holds, by entry hash.
pub fn numbers(ledger: &Ledger) -> HashMap<Hash, MessageNumber> {
    ledger
        .channels
        .keys()
        .flat_map(|c| of_channel(ledger, c))
        .collect()
}

/// The number of one entry (none: its kind is not numbered).
pub fn number(ledger: &Ledger, k: &Known) -> Option<MessageNumber> {
    of_channel(ledger, &k.entry.channel)
        .into_iter()
        .find(|(h, _)| *h == k.hash)
        .map(|(_, n)| n)
}

/// Entries whose number starts with `query` (case and spaces ignored),
/// newest first.
pub fn find<'a>(ledger: &'a Ledger, query: &str) -> Vec<(&'a Known, MessageNumber)> {
    let want = normalize(query);
    let mut out: Vec<(&Known, MessageNumber)> = numbers(ledger)
        .into_iter()
        .filter(|(_, n)| normalize(&n.text).starts_with(&want))
        .filter_map(|(h, n)| Some((ledger.get(&h)?, n)))
        .collect();
    out.sort_by(|a, b| (b.0.entry.time, &b.1.text).cmp(&(a.0.entry.time, &a.1.text)));
    out
}

fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

fn of_channel(ledger: &Ledger, channel: &str) -> Vec<(Hash, MessageNumber)> {
    let numbering = &ruleset_of(ledger.channels.get(channel)).numbering;
    let kinds: Vec<&str> = numbering.formats.iter().map(|f| f.kind.as_str()).collect();
    let mut entries = ledger.causal_order(&kinds, channel);
    entries.sort_by(|a, b| (&a.entry.author, a.entry.seq).cmp(&(&b.entry.author, b.entry.seq)));
    let mut serials: BTreeMap<(&str, i64), u32> = BTreeMap::new();
    entries
        .into_iter()
        .filter_map(|k| {
            let format = numbering.format_of(&k.entry.kind)?;
            let year = Date::of(k.entry.time).year();
            let serial = serials.entry((&k.entry.author, year)).or_default();
            *serial += 1;
            let mut text = format!(
                "{}/{}/{:02}/{:04}",
                numbering.prefix,
                k.entry.author.to_uppercase(),
                year.rem_euclid(100),
                serial
            );
            if let Some(d) = &format.designation {
                text.push('/');
                text.push_str(d);
            }
            Some((
                k.hash,
                MessageNumber {
                    text,
                    serial: *serial,
                    year,
                    format: format.designation.clone(),
                    format_title: format.title.clone(),
                },
            ))
        })
        .collect()
}
