//! A gettext catalogue (`.po`): exact strings, plurals, and patterns.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use regex::{Regex, RegexSet};

const RUSSIAN: &str = include_str!("ru.po");

/// One language's translations of the console's English.
pub struct Catalogue {
    exact: HashMap<String, String>,
    /// `msgid` (the English singular) → the plural forms, in the order of
    /// the catalogue's `Plural-Forms`.
    plurals: HashMap<String, Vec<String>>,
    patterns: Vec<Pattern>,
    set: RegexSet,
    /// The domain's own words a message may carry as a value (`msgctxt
    /// "value"`: a kind's name, a meeting's scope): the only values
    /// translated inside a message. Any other value (a unit a party named,
    /// a channel's title) is shown as written, whatever it spells.
    values: HashMap<String, String>,
    /// The fixed values a body's field may take (`msgctxt "code"`: `ship`,
    /// `quota_used`), shown translated only in a field whose schema lists them.
    codes: HashMap<String, String>,
}

/// A message with `{placeholders}`: the English as a regular expression,
/// and the translation to fill with what it captured.
struct Pattern {
    english: Regex,
    names: Vec<String>,
    translation: String,
    /// Letters outside placeholders: of two patterns that match, the one
    /// that says more is the one meant.
    literal_len: usize,
}

/// A `.po` file that cannot be read: where, and what is wrong.
#[derive(Debug)]
pub struct CatalogueError {
    pub line: usize,
    pub what: String,
}

impl std::fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

/// One `msgid` … `msgstr` block.
#[derive(Default)]
struct Message {
    context: Option<String>,
    id: String,
    plural_id: Option<String>,
    strs: Vec<String>,
    line: usize,
}

impl Catalogue {
    /// The Russian catalogue, read once (it is part of the binary).
    ///
    /// # Panics
    /// If `ru.po` does not parse: a test reads it first.
    pub fn russian() -> &'static Catalogue {
        static RU: OnceLock<Catalogue> = OnceLock::new();
        RU.get_or_init(|| Catalogue::parse(RUSSIAN).expect("ru.po parses (tested)"))
    }

    /// Reads a catalogue.
    ///
    /// # Errors
    /// A line that is not a `.po` keyword, comment or continued string; a
    /// string that does not close; a message without translation.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let mut exact = HashMap::new();
        let mut plurals = HashMap::new();
        let mut patterns = Vec::new();
        let mut values = HashMap::new();
        let mut codes = HashMap::new();
        for m in messages(text)? {
            if m.id.is_empty() {
                continue; // the header
            }
            let first = m.strs.first().cloned().unwrap_or_default();
            match m.context.as_deref() {
                Some("value") => {
                    values.insert(m.id, first);
                    continue;
                }
                Some("code") => {
                    codes.insert(m.id, first);
                    continue;
                }
                _ => {}
            }
            if m.strs.iter().all(String::is_empty) {
                return Err(CatalogueError {
                    line: m.line,
                    what: format!("{:?} has no translation", m.id),
                });
            }
            if m.plural_id.is_some() {
                plurals.insert(m.id, m.strs);
                continue;
            }
            let translation = m.strs.into_iter().next().unwrap_or_default();
            if let Some(p) = Pattern::of(&m.id, &translation, m.line)? {
                patterns.push(p);
            }
            exact.insert(m.id, translation);
        }
        let set = RegexSet::new(patterns.iter().map(|p| p.english.as_str())).map_err(|e| {
            CatalogueError {
                line: 0,
                what: e.to_string(),
            }
        })?;
        Ok(Catalogue {
            exact,
            plurals,
            patterns,
            set,
            values,
            codes,
        })
    }

    pub fn exact(&'static self, en: &str) -> Option<&'static str> {
        self.exact.get(en).map(String::as_str)
    }

    pub fn plural(&'static self, one: &str, form: usize) -> Option<&'static str> {
        self.plurals
            .get(one)
            .and_then(|f| f.get(form))
            .map(String::as_str)
    }

    /// A body's fixed value (`msgctxt "code"`), translated.
    pub fn code(&'static self, en: &str) -> Option<&'static str> {
        self.codes.get(en).map(String::as_str)
    }

    /// Whether the catalogue translates the fixed value `en`.
    pub fn has_code(&self, en: &str) -> bool {
        self.codes.contains_key(en)
    }

    /// Whether the catalogue holds `en`, as a string or a plural.
    pub fn has(&self, en: &str) -> bool {
        self.exact.contains_key(en) || self.plurals.contains_key(en)
    }

    /// `en` translated: exactly, else by the most specific pattern (each
    /// value it carries translated where it is one of the domain's own
    /// words), else unchanged.
    pub fn translate<'a>(&self, en: &'a str) -> Cow<'a, str> {
        if let Some(t) = self.exact.get(en) {
            return Cow::Owned(t.clone());
        }
        let best = self
            .set
            .matches(en)
            .into_iter()
            .max_by_key(|&i| self.patterns[i].literal_len);
        let Some(i) = best else {
            return Cow::Borrowed(en);
        };
        let p = &self.patterns[i];
        let Some(caps) = p.english.captures(en) else {
            return Cow::Borrowed(en);
        };
        let mut out = p.translation.clone();
        for (k, name) in p.names.iter().enumerate() {
            let value = caps.get(k + 1).map_or("", |m| m.as_str());
            let value = match self.values.get(value) {
                Some(v) => v.clone(),
                None => grouped_as_russian(value),
            };
            out = out.replace(&format!("{{{name}}}"), &value);
        }
        Cow::Owned(out)
    }
}

impl Pattern {
    /// The pattern of a message with placeholders (`None`: it has none).
    fn of(id: &str, translation: &str, line: usize) -> Result<Option<Pattern>, CatalogueError> {
        let mut names = Vec::new();
        let mut re = String::from("^");
        let mut literal_len = 0;
        let mut rest = id;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let name = &rest[open + 1..open + close];
            re.push_str(&regex::escape(&rest[..open]));
            literal_len += rest[..open].len();
            let after = &rest[open + close + 1..];
            // Two values with only a space between ("an {} {id}"): the
            // first takes every word but the last (a kind's title has
            // several words, an entry id none).
            re.push_str(if after.starts_with(" {") {
                "(.+)"
            } else {
                "(.+?)"
            });
            names.push(name.to_string());
            rest = after;
        }
        if names.is_empty() {
            return Ok(None);
        }
        re.push_str(&regex::escape(rest));
        literal_len += rest.len();
        re.push('$');
        for n in &names {
            if !translation.contains(&format!("{{{n}}}")) {
                return Err(CatalogueError {
                    line,
                    what: format!("{id:?}: the translation drops {{{n}}}"),
                });
            }
        }
        let english = Regex::new(&re).map_err(|e| CatalogueError {
            line,
            what: e.to_string(),
        })?;
        Ok(Some(Pattern {
            english,
            names,
            translation: translation.to_string(),
            literal_len,
        }))
    }
}

/// A number the domain grouped the English way (`12,700`) grouped the
/// Russian way (`12 700`, a no-break space); any other value unchanged.
fn grouped_as_russian(value: &str) -> String {
    let mut groups = value.split(',');
    let first_ok = groups
        .next()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    let rest_ok = value.contains(',')
        && value
            .split(',')
            .skip(1)
            .all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
    if first_ok && rest_ok {
        value.replace(',', "\u{a0}")
    } else {
        value.to_string()
    }
}

/// The messages of a `.po` text, in order.
fn messages(text: &str) -> Result<Vec<Message>, CatalogueError> {
    let mut out: Vec<Message> = Vec::new();
    // Which string a continuation line extends.
    enum Into {
        Id,
        Plural,
        Str(usize),
    }
    let mut into = None;
    let mut context = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |what: &str| CatalogueError {
            line: line_no,
            what: what.to_string(),
        };
        let (keyword, rest) = match line.find(' ') {
            Some(i) if !line.starts_with('"') => (&line[..i], line[i + 1..].trim()),
            _ => ("", line),
        };
        let value = unquote(rest).ok_or_else(|| err("a string that does not close"))?;
        match keyword {
            "msgctxt" => context = Some(value),
            "msgid" => {
                out.push(Message {
                    context: context.take(),
                    id: value,
                    line: line_no,
                    ..Message::default()
                });
                into = Some(Into::Id);
            }
            "msgid_plural" => {
                let m = out
                    .last_mut()
                    .ok_or_else(|| err("msgid_plural before msgid"))?;
                m.plural_id = Some(value);
                into = Some(Into::Plural);
            }
            "" => {
                let m = out.last_mut().ok_or_else(|| err("a string before msgid"))?;
                match into {
                    Some(Into::Id) => m.id.push_str(&value),
                    Some(Into::Plural) => {
                        if let Some(p) = m.plural_id.as_mut() {
                            p.push_str(&value);
                        }
                    }
                    Some(Into::Str(i)) => m.strs[i].push_str(&value),
                    None => return Err(err("a string before msgid")),
                }
            }
            k if k == "msgstr" || k.starts_with("msgstr[") => {
                let m = out.last_mut().ok_or_else(|| err("msgstr before msgid"))?;
                let index = match k.strip_prefix("msgstr[") {
                    Some(i) => i
                        .trim_end_matches(']')
                        .parse::<usize>()
                        .map_err(|_| err("msgstr[N] needs a number"))?,
                    None => 0,
                };
                if index != m.strs.len() {
                    return Err(err("plural forms out of order"));
                }
                m.strs.push(value);
                into = Some(Into::Str(index));
            }
            other => return Err(err(&format!("unknown keyword {other:?}"))),
        }
    }
    Ok(out)
}

/// `"a \"b\"\n"` → `a "b"` and a newline.
fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            other => out.push(other),
        }
    }
    Some(out)
}
