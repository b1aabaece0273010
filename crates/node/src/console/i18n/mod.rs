//! The console in English and Russian.
//!
//! English is the source language: every string the console shows is
//! written in English in the code and looked up in a gettext catalogue
//! (`ru.po`, the format translators' tools read) when the page is Russian.
//! Messages the domain builds with values in them ("reply within 24 hours")
//! are matched against the catalogue's patterns, whose `{placeholders}`
//! carry the values into the translation.
//!
//! The language of a request is chosen once, by [`choose`], and held for
//! the request's task ([`scope`]): the pages need not pass it down to every
//! helper that writes a word. What a peer wrote is never translated.

mod catalogue;
mod format;

use std::borrow::Cow;
use std::future::Future;

pub use catalogue::Catalogue;
pub use format::{date, date_time, date_time_seconds, number};

/// A language the console speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    /// The BCP 47 tag (`lang` attributes, the URL's `?lang=`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// The language's own name, as a language switch shows it.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ru => "Русский",
        }
    }

    /// Reads a tag: `ru`, `ru-RU`, `EN`; anything else is not ours.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.tag() == primary)
    }

    /// The first language of an `Accept-Language` header we speak, in the
    /// order of the header's weights.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut offered: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let lang = Lang::parse(it.next()?)?;
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        // Stable: of equal weights the header's first wins.
        offered.sort_by(|a, b| b.0.total_cmp(&a.0));
        offered.first().map(|(_, l)| *l)
    }
}

tokio::task_local! {
    static LANG: Lang;
}

/// Runs `f` (a request's handler) with `lang` as the console's language.
pub async fn scope<F: Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// The language of the request being served (English outside one).
pub fn current() -> Lang {
    LANG.try_with(|l| *l).unwrap_or(Lang::En)
}

/// Runs `f` with `lang` as the language, outside a request (tests, and
/// code that renders for another reader).
pub fn sync_scope<R>(lang: Lang, f: impl FnOnce() -> R) -> R {
    LANG.sync_scope(lang, f)
}

/// Where the language of a request comes from, strongest first.
pub struct Choice<'a> {
    /// `?lang=` in the URL: a link that says its language.
    pub url: Option<&'a str>,
    /// The choice made with the console's language switch, in this browser.
    pub cookie: Option<&'a str>,
    /// The signed-in user's `language` in `parley.toml`.
    pub user: Option<&'a str>,
    /// The browser's `Accept-Language`.
    pub accept: Option<&'a str>,
}

/// The language to answer in.
pub fn choose(c: &Choice<'_>) -> Lang {
    c.url
        .and_then(Lang::parse)
        .or_else(|| c.cookie.and_then(Lang::parse))
        .or_else(|| c.user.and_then(Lang::parse))
        .or_else(|| c.accept.and_then(Lang::from_accept_language))
        .unwrap_or(Lang::En)
}

/// A string of the console, in the request's language: `t!("Inbox")`.
/// (A macro, so that a local `t` in a template never hides it, and so that
/// the catalogue's test finds every string the console says.)
macro_rules! t {
    ($en:literal) => {
        $crate::console::i18n::text($en)
    };
}
pub(crate) use t;

/// A string of the console, in the request's language.
pub fn text(en: &'static str) -> &'static str {
    match current() {
        Lang::En => en,
        Lang::Ru => Catalogue::russian().exact(en).unwrap_or(en),
    }
}

/// A string with `{name}` placeholders, filled in, in the request's
/// language: `tf("Link to {party} is DOWN", &[("party", &p)])`.
pub fn tf(en: &'static str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    fill(text(en), args)
}

/// A message built elsewhere (the domain's rules and obligations, a kind's
/// title) in the request's language: exact, else by pattern, else as it is.
pub fn tr(en: &str) -> Cow<'_, str> {
    match current() {
        Lang::En => Cow::Borrowed(en),
        Lang::Ru => Catalogue::russian().translate(en),
    }
}

/// A fixed value of the protocol (`ship`, `quota_used`, `tabled`) in the
/// request's language; as it is in English, where it is the record's word.
pub fn code(value: &str) -> Cow<'_, str> {
    match current() {
        Lang::En => Cow::Borrowed(value),
        Lang::Ru => Catalogue::russian()
            .code(value)
            .map_or(Cow::Borrowed(value), Cow::Borrowed),
    }
}

/// `n` and the word for it: "1 entry", "3 entries"; "1 запись", "3 записи",
/// "5 записей".
pub fn count(n: u64, one: &'static str, many: &'static str) -> String {
    format!("{} {}", number(n), plural(n, one, many))
}

/// The word for `n` things, without the number.
pub fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    match current() {
        Lang::En => {
            if n == 1 {
                one
            } else {
                many
            }
        }
        Lang::Ru => Catalogue::russian()
            .plural(one, russian_plural_form(n))
            .unwrap_or(if n == 1 { one } else { many }),
    }
}

/// CLDR's rule for Russian cardinals, as the catalogue's `Plural-Forms`
/// states it: 0 one (1, 21, 101…), 1 few (2–4, 22–24…), 2 many (the rest).
pub fn russian_plural_form(n: u64) -> usize {
    let (d, h) = (n % 10, n % 100);
    if d == 1 && h != 11 {
        0
    } else if (2..=4).contains(&d) && !(12..=14).contains(&h) {
        1
    } else {
        2
    }
}

/// Puts `args` into the `{name}` placeholders of `template`.
pub fn fill(template: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    out
}

#[cfg(test)]
mod tests;
