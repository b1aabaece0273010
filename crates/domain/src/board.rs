//! The obligations board kept current as a ledger grows, so that reading it
//! costs what is shown, not the length of the history.
//!
//! Each entry's obligations depend on the entry, the entries that answer it,
//! the receipts of both, the channel's state and the clock. A ledger tells
//! the board which entries an event touched; the board derives those again
//! with [`of_entry`], and remembers for each entry the first time at which
//! the clock alone would change its answer (a deadline passing). What it
//! answers is exactly what [`derive`](crate::obligations::derive) would:
//! tests hold the two equal over random histories.
//!
//! A [`Book`] is a ledger with its board: every change to the ledger goes
//! through it, so the board learns what each change touched.

use std::collections::BTreeMap;
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};
use parley_log::Timestamp;

use crate::channel::ChannelState;
use crate::ledger::{Known, Ledger, Receipt};
use crate::obligations::{Obligation, changes_after, derive, of_entry, recurring, sort};

/// One entry's obligations as derived at `at`, valid until `until`.
#[derive(Debug)]
struct Derived {
    at: Timestamp,
    until: Option<Timestamp>,
    list: Vec<Obligation>,
}

impl Derived {
    fn valid_at(&self, at: Timestamp) -> bool {
        self.at <= at && self.until.is_none_or(|u| at < u)
    }
}

/// The obligations of every entry that has any, by entry.
#[derive(Clone, Default)]
pub struct Board {
    /// Entries touched since the last refresh.
    dirty: Vec<usize>,
    by_source: OrdMap<usize, Arc<Derived>>,
    /// When each entry's answer next changes with the clock.
    expiry: OrdSet<(Timestamp, usize)>,
    /// Entries with an obligation not met.
    unmet: OrdSet<usize>,
    /// Met obligations by the time they were met: (met at, entry, index).
    met: OrdSet<(Timestamp, usize, usize)>,
    refreshed: Option<Timestamp>,
}

impl Board {
    pub(crate) fn touch(&mut self, entries: impl IntoIterator<Item = usize>) {
        self.dirty.extend(entries);
    }

    /// The entries of `channel` with obligations.
    pub(crate) fn sources_in(&self, ledger: &Ledger, channel: &str) -> Vec<usize> {
        self.by_source
            .keys()
            .copied()
            .filter(|&i| ledger.at(i).entry.channel == channel)
            .collect()
    }

    pub(crate) fn needs_refresh(&self, at: Timestamp) -> bool {
        !self.dirty.is_empty()
            || self.refreshed.is_none_or(|r| at < r)
            || self.expiry.get_min().is_some_and(|(t, _)| *t <= at)
    }

    pub(crate) fn refresh(&mut self, ledger: &Ledger, at: Timestamp) {
        let mut todo = std::mem::take(&mut self.dirty);
        if self.refreshed.is_none_or(|r| at < r) {
            // First use, or the clock went back: derive everything.
            todo = ledger.indices().collect();
        }
        while let Some((t, i)) = self.expiry.get_min().cloned() {
            if t > at {
                break;
            }
            todo.push(i);
            self.expiry.remove(&(t, i));
        }
        todo.sort_unstable();
        todo.dedup();
        for i in todo {
            self.derive_one(ledger, i, at);
        }
        self.refreshed = Some(at);
    }

    fn derive_one(&mut self, ledger: &Ledger, i: usize, at: Timestamp) {
        if let Some(old) = self.by_source.remove(&i) {
            if let Some(u) = old.until {
                self.expiry.remove(&(u, i));
            }
            self.unmet.remove(&i);
            for (n, o) in old.list.iter().enumerate() {
                if let Some(m) = o.met_at.filter(|_| o.status.is_met()) {
                    self.met.remove(&(m, i, n));
                }
            }
        }
        let k = ledger.at(i);
        let list = of_entry(ledger, k, at);
        let until = changes_after(ledger, k, &list, at);
        if list.is_empty() && until.is_none() {
            return;
        }
        if let Some(u) = until {
            self.expiry.insert((u, i));
        }
        if list.iter().any(|o| !o.status.is_met()) {
            self.unmet.insert(i);
        }
        for (n, o) in list.iter().enumerate() {
            if let Some(m) = o.met_at.filter(|_| o.status.is_met()) {
                self.met.insert((m, i, n));
            }
        }
        self.by_source
            .insert(i, Arc::new(Derived { at, until, list }));
    }

    /// An entry's obligations at `at`.
    fn of(&self, ledger: &Ledger, i: usize, at: Timestamp) -> Vec<Obligation> {
        match self.by_source.get(&i) {
            Some(d) if d.valid_at(at) => d.list.clone(),
            Some(_) => of_entry(ledger, ledger.at(i), at),
            None => vec![],
        }
    }

    /// Whether this board answers for `at` (else [`derive`] must).
    fn answers_for(&self, at: Timestamp) -> bool {
        self.refreshed.is_some_and(|r| r <= at) && self.dirty.is_empty()
    }

    /// Every obligation at `at`, in the board's order.
    pub fn all(&self, ledger: &Ledger, at: Timestamp) -> Vec<Obligation> {
        if !self.answers_for(at) {
            return derive(ledger, at);
        }
        let mut out: Vec<Obligation> = self
            .by_source
            .keys()
            .flat_map(|&i| self.of(ledger, i, at))
            .collect();
        out.extend(recurring(ledger, at));
        sort(&mut out);
        out
    }

    /// The obligations not met at `at`, in the board's order: what the
    /// header counts and the silence report need, without the met ones.
    pub fn unmet(&self, ledger: &Ledger, at: Timestamp) -> Vec<Obligation> {
        if !self.answers_for(at) {
            return derive(ledger, at)
                .into_iter()
                .filter(|o| !o.status.is_met())
                .collect();
        }
        let mut sources: Vec<usize> = self.unmet.iter().copied().collect();
        // Entries whose answer changed with the clock since the refresh.
        sources.extend(
            self.expiry
                .iter()
                .take_while(|(t, _)| *t <= at)
                .map(|(_, i)| *i),
        );
        sources.sort_unstable();
        sources.dedup();
        let mut out: Vec<Obligation> = sources
            .into_iter()
            .flat_map(|i| self.of(ledger, i, at))
            .filter(|o| !o.status.is_met())
            .collect();
        out.extend(
            recurring(ledger, at)
                .into_iter()
                .filter(|o| !o.status.is_met()),
        );
        sort(&mut out);
        out
    }

    /// Met obligations, most recently met first, that `keep` accepts.
    pub fn met_latest<'a>(
        &'a self,
        keep: impl Fn(&Obligation) -> bool + 'a,
    ) -> impl Iterator<Item = &'a Obligation> + 'a {
        self.met
            .iter()
            .rev()
            .filter_map(|(_, i, n)| self.by_source.get(i).and_then(|d| d.list.get(*n)))
            .filter(move |o| keep(o))
    }

    /// How many obligations have been met.
    pub fn met_count(&self) -> usize {
        self.met.len()
    }

    /// The obligations an entry created, at `at`.
    pub fn of_source(
        &self,
        ledger: &Ledger,
        hash: &parley_log::Hash,
        at: Timestamp,
    ) -> Vec<Obligation> {
        match ledger.index_of(hash) {
            Some(i) if self.answers_for(at) => self.of(ledger, i, at),
            Some(i) => of_entry(ledger, ledger.at(i), at),
            None => vec![],
        }
    }
}

/// A ledger and its obligations board, kept current together.
#[derive(Clone)]
pub struct Book {
    ledger: Ledger,
    board: Board,
}

impl std::ops::Deref for Book {
    type Target = Ledger;
    fn deref(&self) -> &Ledger {
        &self.ledger
    }
}

impl Book {
    /// An empty book over `channels`.
    pub fn empty(channels: BTreeMap<String, ChannelState>) -> Book {
        Book {
            ledger: Ledger::empty(channels),
            board: Board::default(),
        }
    }

    /// Adds an entry; see [`Ledger::insert`].
    pub fn insert(&mut self, k: Known) -> bool {
        let new = self.ledger.insert(k);
        self.touch_what_changed();
        new
    }

    /// Folds in a signed receipt; see [`Ledger::receipt`].
    pub fn receipt(&mut self, r: &Receipt<'_>) {
        self.ledger.receipt(r);
        self.touch_what_changed();
    }

    /// Hands the board what the last change touched, and with each touched
    /// entry whose kind `reconsiders` others (a quota), every entry of
    /// those kinds in its channel.
    fn touch_what_changed(&mut self) {
        let mut touched = self.ledger.take_touched();
        let mut families: Vec<(&'static [&'static str], String)> = Vec::new();
        for &i in &touched {
            let e = &self.ledger.at(i).entry;
            if let Some(spec) = crate::kinds::get(&e.kind).filter(|s| !s.reconsiders.is_empty())
                && !families
                    .iter()
                    .any(|(r, c)| *r == spec.reconsiders && *c == e.channel)
            {
                families.push((spec.reconsiders, e.channel.clone()));
            }
        }
        for (kinds, channel) in families {
            touched.extend(self.ledger.indices_of(kinds, &channel));
        }
        self.board.touch(touched);
    }

    /// Replaces the channels' state; the obligations of channels whose
    /// state changed are derived again.
    pub fn set_channels(&mut self, channels: BTreeMap<String, ChannelState>) {
        let changed = self.ledger.set_channels(channels);
        let mut touched = self.ledger.take_touched();
        for c in &changed {
            touched.extend(self.board.sources_in(&self.ledger, c));
        }
        self.board.touch(touched);
    }

    /// Brings the board up to `at`: entries touched since the last call,
    /// and those whose standing changes by `at`, are derived again.
    pub fn refresh(&mut self, at: Timestamp) {
        self.board.refresh(&self.ledger, at);
    }

    /// Whether [`Book::refresh`] at `at` would change anything.
    pub fn needs_refresh(&self, at: Timestamp) -> bool {
        self.board.needs_refresh(at)
    }

    pub fn board(&self) -> &Board {
        &self.board
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
}
