//! The catalogue is complete: every string the console can show has its
//! Russian, found the way `xgettext` finds them (the console's `t!`, `tf`,
//! `count`, `badge` calls; the domain's messages), and from the registries
//! (kinds, forms, roles, the schemas' field names).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::*;
use crate::console::auth::ROLES;
use crate::console::forms::{self, Field, Widget};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("source directory") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A Rust string literal's text: escapes and line continuations undone.
fn unescape(s: &str) -> String {
    let joined = Regex::new(r"\\\n\s*").expect("regex").replace_all(s, "");
    joined
        .replace("\\\"", "\"")
        .replace("\\n", "\n")
        .replace("\\\\", "\\")
}

/// A format string as the catalogue writes it: `{}` numbered `{1}`, `{2}`…
/// and `{x:?}` / `{:02}` without their format specs, so the translation can
/// name each value.
fn as_catalogue_id(format: &str) -> String {
    let re = Regex::new(r"\{([A-Za-z_0-9]*)(:[^}]*)?\}").expect("regex");
    let mut n = 0;
    re.replace_all(format, |c: &regex::Captures<'_>| {
        if c[1].is_empty() {
            n += 1;
            format!("{{{n}}}")
        } else {
            format!("{{{}}}", &c[1])
        }
    })
    .into_owned()
}

fn without_tests(src: &str) -> &str {
    src.find("#[cfg(test)]").map_or(src, |i| &src[..i])
}

/// Every English string of the console's own code.
fn console_strings(out: &mut BTreeSet<String>) {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console"),
        &mut files,
    );
    let lit = r#""((?:[^"\\]|\\(?s:.))*)""#;
    let calls = [
        Regex::new(&format!(r"(?:^|[^A-Za-z0-9_])t!\(\s*{lit}\s*\)")).expect("regex"),
        Regex::new(&format!(r"\btf\(\s*{lit}")).expect("regex"),
        Regex::new(&format!(r"\bbadge\(\s*{lit}")).expect("regex"),
        Regex::new(&format!(
            r#"(?:^|[^.\w])(?:count|plural)\([^;"\n]*?,\s*{lit},\s*"#
        ))
        .expect("regex"),
    ];
    for f in files
        .iter()
        .filter(|f| !f.to_string_lossy().contains("i18n"))
    {
        let src = std::fs::read_to_string(f).expect("source");
        for re in &calls {
            for c in re.captures_iter(without_tests(&src)) {
                out.insert(unescape(&c[1]));
            }
        }
    }
}

fn field_strings(fields: &[Field], out: &mut BTreeSet<String>) {
    for f in fields {
        out.insert(f.label.to_string());
        if !f.help.is_empty() {
            out.insert(f.help.to_string());
        }
        match &f.widget {
            Widget::Select(opts) => out.extend(opts.iter().map(|(_, l)| l.to_string())),
            Widget::Group(sub) | Widget::Rows(sub) => field_strings(sub, out),
            _ => {}
        }
    }
}

fn property_names(schema: &serde_json::Value, out: &mut BTreeSet<String>) {
    match schema {
        serde_json::Value::Object(o) => {
            if let Some(serde_json::Value::Object(props)) = o.get("properties") {
                out.extend(props.keys().map(|k| k.replace('_', " ")));
            }
            o.values().for_each(|v| property_names(v, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| property_names(v, out)),
        _ => {}
    }
}

/// What the registries hold: kinds, their forms and schemas, roles.
fn registry_strings(out: &mut BTreeSet<String>) {
    for k in parley_domain::kinds::all() {
        out.insert(k.title.to_string());
        out.insert(k.description.to_string());
        out.extend(k.follow_ups.iter().map(|f| f.label.to_string()));
        field_strings(forms::spec(k.name), out);
        property_names(&k.schema(), out);
    }
    out.extend(ROLES.iter().map(|r| r.title().to_string()));
    out.extend(
        parley_domain::negotiation::ArticleState::ALL
            .iter()
            .map(|a| a.label().to_string()),
    );
    out.extend(
        [
            parley_domain::channel::Level::Military,
            parley_domain::channel::Level::Political,
            parley_domain::channel::Level::Expert,
        ]
        .map(|l| l.as_str().to_string()),
    );
    // The precedence badges (`priority_badge`: the value in capitals).
    out.extend(
        parley_domain::hotline::Priority::ALL
            .iter()
            .map(|p| p.as_str().to_uppercase()),
    );
    // The thresholds the exercises page states ("9,000 troops").
    for rs in parley_domain::rules::all() {
        for t in rs
            .notification
            .thresholds
            .iter()
            .chain(&rs.observation.thresholds)
        {
            out.insert(format!("{{n}} {}", t.label));
        }
    }
    // The map's country names.
    let map = include_str!("../assets/europe.txt");
    out.extend(
        map.lines()
            .filter_map(|l| l.strip_prefix("label "))
            .map(str::to_string),
    );
}

/// The domain's messages: rules broken, obligations owed, findings. A
/// sentence of the domain starts in lower case (it follows a field name or
/// is put into another); those that do not are listed here by hand.
fn domain_strings(out: &mut BTreeSet<String>) {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../domain/src"),
        &mut files,
    );
    let lit = Regex::new(r#"(?s)"((?:[^"\\]|\\.)*)""#).expect("regex");
    let sentence = Regex::new(r"^[a-z{][^ ]* [A-Za-z{(]").expect("regex");
    let placeholder = Regex::new(r"\{[^}]*\}").expect("regex");
    let word = Regex::new(r"[A-Za-z]{2,}").expect("regex");
    let words = |s: &str| word.find_iter(&placeholder.replace_all(s, "")).count();
    // Comments hold quoted words that are not messages.
    let comment = Regex::new(r"(?m)^\s*//.*$|\s//[^\n]*").expect("regex");
    for f in &files {
        let src = std::fs::read_to_string(f).expect("source");
        let code = comment.replace_all(without_tests(&src), "");
        for c in lit.captures_iter(&code) {
            let s = unescape(&c[1]);
            if sentence.is_match(&s) && words(&s) >= 2 && !NOT_SHOWN.contains(&s.as_str()) {
                out.insert(as_catalogue_id(&s));
            }
        }
    }
}

/// Lower-case literals of the domain that no console page shows: panics'
/// messages and example data.
const NOT_SHOWN: &[&str] = &[
    "schemas serialize",
    "shipped agreements parse (tested)",
    "shipped rule sets parse (tested)",
    "a valid instant has a valid date",
    "every month has a first day",
    "the default rule set ships with parley",
    "joint strategic command",
    "military experts",
];

/// The warnings a node's configuration gives (the Links page shows them).
fn warning_strings(out: &mut BTreeSet<String>) {
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config.rs"))
        .expect("config.rs");
    let start = src.find("pub fn warnings(").expect("Config::warnings");
    let body = &src[start..start + src[start..].find("\n    }\n").expect("its end")];
    let lit = Regex::new(r#"(?s)"((?:[^"\\]|\\.)*)""#).expect("regex");
    out.extend(
        lit.captures_iter(body)
            .map(|c| as_catalogue_id(&unescape(&c[1])))
            .filter(|s| s.contains(' ')),
    );
}

fn wanted() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    console_strings(&mut out);
    warning_strings(&mut out);
    registry_strings(&mut out);
    domain_strings(&mut out);
    out.retain(|s| !s.trim().is_empty());
    out
}

fn po_quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

#[test]
fn the_russian_catalogue_parses() {
    Catalogue::parse(include_str!("ru.po")).unwrap_or_else(|e| panic!("ru.po {e}"));
}

#[test]
fn every_string_the_console_shows_has_its_russian() {
    let ru = Catalogue::parse(include_str!("ru.po")).expect("parses");
    let missing: Vec<String> = wanted().into_iter().filter(|s| !ru.has(s)).collect();
    if !missing.is_empty() {
        let stub: String = missing
            .iter()
            .map(|m| format!("msgid {}\nmsgstr \"\"\n\n", po_quote(m)))
            .collect();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/i18n-missing.po");
        let _ = std::fs::write(&path, &stub);
        panic!(
            "{} strings have no Russian in ru.po (stubs in {}):\n{stub}",
            missing.len(),
            path.display()
        );
    }
}

#[test]
fn every_fixed_value_of_a_body_has_its_russian() {
    let ru = Catalogue::parse(include_str!("ru.po")).expect("parses");
    let mut missing: BTreeSet<String> = BTreeSet::new();
    for k in parley_domain::kinds::all() {
        let codes = crate::console::pages::entry::Codes::of_kind(k.name);
        missing.extend(codes.all().filter(|c| !ru.has_code(c)).map(str::to_string));
    }
    let stub: String = missing
        .iter()
        .map(|m| format!("msgctxt \"code\"\nmsgid {}\nmsgstr \"\"\n\n", po_quote(m)))
        .collect();
    assert!(missing.is_empty(), "fixed values without Russian:\n{stub}");
}

#[test]
fn russian_plurals_follow_cldr() {
    let forms: Vec<usize> = [0, 1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111, 1001]
        .into_iter()
        .map(russian_plural_form)
        .collect();
    assert_eq!(forms, [2, 0, 1, 1, 2, 2, 2, 2, 0, 1, 2, 0, 2, 0]);
    sync_scope(Lang::Ru, || {
        assert_eq!(count(1, "entry", "entries"), "1 запись");
        assert_eq!(count(3, "entry", "entries"), "3 записи");
        assert_eq!(count(12_700, "entry", "entries"), "12\u{a0}700 записей");
    });
    sync_scope(Lang::En, || {
        assert_eq!(count(1_000_000, "entry", "entries"), "1,000,000 entries");
    });
}

#[test]
fn dates_and_numbers_are_written_per_language() {
    let t = 1_795_000_000; // 2026-11-18 11:06:40Z
    sync_scope(Lang::En, || {
        assert_eq!(date_time(t), "2026-11-18 11:06Z");
        assert_eq!(date_time_seconds(t), "2026-11-18 11:06:40Z");
        assert_eq!(date(t), "2026-11-18");
        assert_eq!(number(12_700), "12,700");
    });
    sync_scope(Lang::Ru, || {
        assert_eq!(date_time(t), "18.11.2026 11:06 UTC");
        assert_eq!(date_time_seconds(t), "18.11.2026 11:06:40 UTC");
        assert_eq!(date(t), "18.11.2026");
        assert_eq!(number(12_700), "12\u{a0}700");
    });
}

#[test]
fn the_url_beats_the_switch_beats_the_user_beats_the_browser() {
    let all = Choice {
        url: Some("ru"),
        cookie: Some("en"),
        user: Some("en"),
        accept: Some("en"),
    };
    assert_eq!(choose(&all), Lang::Ru);
    assert_eq!(
        choose(&Choice {
            url: Some("fr"),
            ..all
        }),
        Lang::En,
        "a language we do not speak in the URL is ignored"
    );
    let none = Choice {
        url: None,
        cookie: None,
        user: None,
        accept: None,
    };
    assert_eq!(choose(&none), Lang::En);
    assert_eq!(
        choose(&Choice {
            user: Some("ru"),
            ..none
        }),
        Lang::Ru
    );
    assert_eq!(
        choose(&Choice {
            accept: Some("de-DE,de;q=0.9,ru;q=0.8,en;q=0.7"),
            ..none
        }),
        Lang::Ru
    );
    assert_eq!(
        choose(&Choice {
            accept: Some("ru;q=0.5, en-GB"),
            ..none
        }),
        Lang::En
    );
    assert_eq!(
        choose(&Choice {
            accept: Some("ru;q=0"),
            ..none
        }),
        Lang::En
    );
}

#[test]
fn a_message_with_values_is_translated_by_its_pattern() {
    let ru = Catalogue::parse(
        "msgctxt \"value\"\nmsgid \"Incident report\"\nmsgstr \"Донесение об инциденте\"\n\n\
         msgid \"None.\"\nmsgstr \"Нет.\"\n\n\
         msgid \"{1} is reported twice\"\nmsgstr \"{1} заявлено дважды\"\n\n\
         msgid \"acknowledge {1} {2} within {minutes} minutes\"\n\
         msgstr \"подтвердить {1} {2} в течение {minutes} мин\"\n\n\
         msgid \"{party} ANSWERED\"\nmsgstr \"{party} ОТВЕТИЛ\"\n",
    )
    .expect("parses");
    assert_eq!(
        ru.translate("acknowledge Incident report usa.x/russia/3 within 30 minutes"),
        "подтвердить Донесение об инциденте usa.x/russia/3 в течение 30 мин"
    );
    assert_eq!(ru.translate("RUSSIA ANSWERED"), "RUSSIA ОТВЕТИЛ");
    // A value a party chose is never translated, even when it spells one
    // of the console's words: only the domain's own words are.
    assert_eq!(
        ru.translate("None. is reported twice"),
        "None. заявлено дважды"
    );
    assert_eq!(
        ru.translate("None."),
        "Нет.",
        "the console's own word, alone"
    );
    assert_eq!(ru.translate("no such message"), "no such message");
    let dropped = Catalogue::parse("msgid \"{party} ANSWERED\"\nmsgstr \"ОТВЕТИЛ\"\n");
    assert!(
        dropped.is_err_and(|e| e.what.contains("drops {party}")),
        "a translation that loses a value is refused"
    );
}

#[test]
fn a_broken_catalogue_says_where() {
    let e = Catalogue::parse("msgid \"a\"\nmsgstr \"b\"\nmsgid \"c\nmsgstr \"d\"\n")
        .err()
        .expect("refused");
    assert_eq!(e.line, 3);
    let e = Catalogue::parse("msgid \"a\"\nmsgstr \"\"\n")
        .err()
        .expect("refused");
    assert!(e.what.contains("no translation"), "{e}");
}

#[test]
fn the_switch_keeps_the_page_and_its_query() {
    assert_eq!(
        crate::console::language::href_in("/inbox?channel=nato.x&lang=en&page=2", Lang::Ru),
        "/inbox?channel=nato.x&page=2&lang=ru"
    );
    assert_eq!(
        crate::console::language::href_in("/obligations", Lang::En),
        "/obligations?lang=en"
    );
    assert_eq!(
        crate::console::language::href_in("//evil.example/inbox", Lang::Ru),
        "/evil.example/inbox?lang=ru",
        "the switch never points off this console"
    );
}
