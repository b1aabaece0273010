//! A broken rule: which field, and the rule it breaks, in words a user acts on.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// One rule an entry breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where: a JSON path into the body (`text.ru`), or `refs`, `kind`.
    pub field: String,
    /// What rule, stated so the user can fix it.
    pub rule: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Violation {
        Violation {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

/// Collects violations while a body is checked.
#[derive(Debug, Default)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    pub fn check(&mut self, ok: bool, field: impl Into<String>, rule: impl Into<String>) {
        if !ok {
            self.0.push(Violation::new(field, rule));
        }
    }

    pub fn push(&mut self, field: impl Into<String>, rule: impl Into<String>) {
        self.0.push(Violation::new(field, rule));
    }

    pub fn into_result(self) -> Result<(), Vec<Violation>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// Reads a body as its typed form; a mismatch names the field.
pub fn parse_body<T: DeserializeOwned>(body: &Value) -> Result<T, Violation> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        Violation::new(field, e.into_inner().to_string())
    })
}
