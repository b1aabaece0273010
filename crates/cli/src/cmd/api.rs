//! A client of a running node's local API.

use std::fmt;
use std::path::Path;

use anyhow::Context;
use parley_node::config::{CONFIG_FILE, Config, TOKEN_FILE};
use serde_json::Value;

/// A refusal from the node's API, with every violated rule.
#[derive(Debug)]
pub(crate) struct ApiFailure {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) violations: Vec<(String, String)>,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if self.violations.is_empty() {
            return Ok(());
        }
        f.write_str(":")?;
        for (field, rule) in &self.violations {
            write!(f, "\n  - {field}: {rule}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiFailure {}

pub(crate) struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

/// The user `--as` names, for every call to a node's API.
static ACT_AS: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Sets who this run acts as (`--as USER`; the operator when `None`).
pub(crate) fn act_as(user: Option<String>) {
    let _ = ACT_AS.set(user);
}

impl Api {
    /// Reads the node directory's configuration and the API token of the
    /// user this run acts as (`--as`), or the operator's.
    pub(crate) fn open(dir: &Path) -> anyhow::Result<Api> {
        Api::open_as(dir, ACT_AS.get().cloned().flatten().as_deref())
    }

    /// As [`Api::open`], acting as `user` (the operator when `None`).
    pub(crate) fn open_as(dir: &Path, user: Option<&str>) -> anyhow::Result<Api> {
        let cfg_path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&cfg_path).with_context(|| {
            format!(
                "{} is not a parley node directory (no {CONFIG_FILE})",
                dir.display()
            )
        })?;
        let config: Config =
            toml::from_str(&text).with_context(|| format!("reading {}", cfg_path.display()))?;
        let token_file = match user {
            Some(u) => parley_node::config::user_token_path(dir, u),
            None => dir.join(TOKEN_FILE),
        };
        let token = std::fs::read_to_string(&token_file)
            .with_context(|| match user {
                Some(u) => format!(
                    "reading {}: issue {u} a token with `parley user token --name {u}`",
                    token_file.display()
                ),
                None => format!("reading {}", token_file.display()),
            })?
            .trim()
            .to_string();
        Ok(Api {
            base: format!("{}/api/v1", config.console_url()),
            token,
            client: match &config.console.tls_certificate {
                // The console's own certificate, pinned: the CLI reaches it
                // by address, whatever name or CA the certificate has.
                Some(cert) => parley_node::tls::console_client(
                    &dir.join(cert),
                    std::time::Duration::from_secs(60),
                )?,
                // No idle connections kept: the runtime runs only during a
                // call, so a connection the console closed in between (its
                // idle timeout) would be reused unknowingly and fail the
                // next request; a new loopback connection costs little.
                None => reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(60))
                    .pool_max_idle_per_host(0)
                    .build()?,
            },
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        })
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let resp = req.bearer_auth(&self.token).send().await.map_err(|e| {
            if e.is_connect() {
                anyhow::anyhow!(
                    "no node answers at {} (is `parley serve` running for this directory?)",
                    self.base.trim_end_matches("/api/v1")
                )
            } else {
                anyhow::anyhow!("calling the node: {e}")
            }
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        Err(ApiFailure {
            status,
            code: body["error"].as_str().unwrap_or("error").to_string(),
            message: body["message"]
                .as_str()
                .unwrap_or("the node refused the request")
                .to_string(),
            violations: body["violations"]
                .as_array()
                .map(|vs| {
                    vs.iter()
                        .map(|v| {
                            (
                                v["field"].as_str().unwrap_or("").to_string(),
                                v["rule"].as_str().unwrap_or("").to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
        .into())
    }

    pub(crate) fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.rt.block_on(async {
            let r = self
                .call(self.client.get(format!("{}{path}", self.base)))
                .await?;
            Ok(r.json().await?)
        })
    }

    pub(crate) fn get_text(&self, path: &str) -> anyhow::Result<String> {
        self.rt.block_on(async {
            let r = self
                .call(self.client.get(format!("{}{path}", self.base)))
                .await?;
            Ok(r.text().await?)
        })
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.rt.block_on(async {
            let r = self
                .call(self.client.post(format!("{}{path}", self.base)).json(body))
                .await?;
            Ok(r.json().await?)
        })
    }
}

/// Turns an API refusal into a reported failure (JSON on stdout with
/// `--json`, the message on stderr, exit code 1).
pub(crate) fn report(as_json: bool, err: anyhow::Error) -> anyhow::Error {
    match err.downcast::<ApiFailure>() {
        Ok(f) => {
            if as_json {
                let v: Vec<Value> = f
                    .violations
                    .iter()
                    .map(|(field, rule)| serde_json::json!({"field": field, "rule": rule}))
                    .collect();
                let _ = crate::output::json(&serde_json::json!({
                    "ok": false, "error": f.code, "message": f.message, "status": f.status, "violations": v
                }));
            }
            eprintln!("parley: {}", crate::output::safe(&f.to_string()));
            anyhow::Error::new(crate::output::Reported)
        }
        Err(e) => e,
    }
}
