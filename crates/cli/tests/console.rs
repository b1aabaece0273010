//! Console accounts against a running node: `parley user add/remove` act
//! on open sessions, and a wrong password opens nothing. (The console's
//! pages are driven in a real browser by `e2e/`.)

mod net;

use net::{Net, ok, parley};

/// A browser-like client: one cookie jar, no redirects followed.
struct Browser {
    base: String,
    cookie: Option<String>,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Browser {
    fn new(base: String) -> Browser {
        parley_node::install_crypto();
        Browser {
            base,
            cookie: None,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn sign_in(&mut self, name: &str, password: &str) -> u16 {
        let body = format!("name={name}&password={}", password.replace(' ', "+"));
        let resp = self
            .rt
            .block_on(
                self.http
                    .post(format!("{}/login", self.base))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send(),
            )
            .unwrap();
        if let Some(c) = resp.headers().get("set-cookie") {
            let c = c.to_str().unwrap();
            self.cookie = Some(c.split(';').next().unwrap().to_string());
        }
        resp.status().as_u16()
    }

    /// Status, Location and body of a page.
    fn get(&self, path: &str) -> (u16, String, String) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        self.rt.block_on(async {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let location = resp
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, location, resp.text().await.unwrap())
        })
    }
}

fn add_user(dir: &str, name: &str, role: &str) {
    ok(&[
        "user",
        "add",
        "--dir",
        dir,
        "--name",
        name,
        "--role",
        role,
        "--password",
        "long enough passphrase",
    ]);
}

#[test]
fn user_changes_act_on_open_sessions_and_wrong_passwords_open_nothing() {
    let mut net = Net::new(&["nato"]);
    let dir = net.get("nato").d().to_string();
    add_user(&dir, "duty", "duty_officer");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(net.get("nato").dir.join("parley.toml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "parley.toml holds password hashes");
    }
    net.p("nato").start();
    let mut browser = Browser::new(net.get("nato").console_url());

    assert_eq!(browser.sign_in("duty", "wrong passphrase"), 401);
    assert!(browser.cookie.is_none(), "a failed sign-in sets no session");
    assert_eq!(browser.get("/inbox").1, "/login");

    assert_eq!(browser.sign_in("duty", "long enough passphrase"), 303);
    let (status, _, page) = browser.get("/compose");
    assert_eq!(status, 200);
    assert!(
        page.contains("Hotline message"),
        "a duty officer may send one"
    );

    // The same user made an auditor: the open session loses the right at once.
    add_user(&dir, "duty", "auditor");
    let (_, _, page) = browser.get("/compose");
    assert!(
        page.contains("reads and verifies; it does not send"),
        "the new role applies to the open session"
    );

    // Removed: the open session ends at the next request.
    let out = ok(&["user", "remove", "--dir", &dir, "--name", "duty"]);
    assert!(out.contains("removed"));
    let (status, location, _) = browser.get("/inbox");
    assert_eq!((status, location.as_str()), (303, "/login"));

    let missing = parley(&["user", "remove", "--dir", &dir, "--name", "duty"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no console user \"duty\""));
    net.p("nato").stop();
}

/// A long history is read a page at a time: every entry reachable, none
/// silently cut (the inbox once stopped at 300 rows).
#[test]
fn a_long_inbox_is_paged_and_every_entry_stays_reachable() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    add_user(net.get("nato").d(), "duty", "duty_officer");
    net.start_all();
    net::open_channel(&net);
    let nato = net.get("nato");
    for i in 0..105 {
        nato.send_text("nato.mil", &format!("message number {i:03}"));
    }
    let mut browser = Browser::new(nato.console_url());
    assert_eq!(browser.sign_in("duty", "long enough passphrase"), 303);
    let (status, _, first) = browser.get("/inbox?channel=nato.mil");
    assert_eq!(status, 200);
    assert!(first.contains("message number 104"), "the newest first");
    assert!(!first.contains("message number 000"));
    let total = first
        .split("Entries 1–100 of ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or_else(|| panic!("a pager on the first page: {first}"));
    assert!(total.parse::<usize>().unwrap() >= 105);
    assert!(
        first.contains("page=1&amp;channel=nato.mil"),
        "a link to older"
    );
    let (_, _, older) = browser.get("/inbox?page=1&channel=nato.mil");
    assert!(older.contains("message number 000"), "the oldest on page 2");
    assert!(older.contains("page=0&amp;channel=nato.mil"), "and back");
}
