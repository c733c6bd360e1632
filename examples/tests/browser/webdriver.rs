//! A minimal WebDriver client for the browser tests: a handful of W3C WebDriver endpoints
//! over `ureq` and `serde_json`, no async runtime. Used as `mod webdriver` by
//! `tests/ui_browser.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const ENTER: &str = "\u{E007}";
pub const SHIFT: &str = "\u{E008}";
/// Releases held modifier keys.
pub const RELEASE: &str = "\u{E000}";

pub struct Chromedriver {
    proc: Proc,
}

pub struct Session {
    base: String,
    _profile: tempfile::TempDir,
}

pub fn find_program(env_var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

use crate::common::spawn_on_port;
/// A free loopback port and a child process killed on drop (the shared test helpers).
pub use crate::common::{free_port, Proc};

/// One WebDriver call: `Ok(value)` or `Err("error: message")`.
pub fn wd(method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
    let req = ureq::request(method, url).timeout(Duration::from_secs(60));
    let res = match body {
        Some(b) => req
            .set("Content-Type", "application/json")
            .send_string(&b.to_string()),
        None => req.call(),
    };
    let (ok, resp) = match res {
        Ok(r) => (true, r),
        Err(ureq::Error::Status(_, r)) => (false, r),
        Err(e) => return Err(format!("{method} {url}: {e}")),
    };
    let text = resp.into_string().map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if ok {
        Ok(value)
    } else {
        Err(format!(
            "{method} {url}: {}: {}",
            value["error"].as_str().unwrap_or("?"),
            value["message"].as_str().unwrap_or(&text)
        ))
    }
}

impl Chromedriver {
    pub fn start(program: &Path) -> Chromedriver {
        let port = free_port();
        let mut cmd = Command::new(program);
        cmd.arg(format!("--port={port}"));
        let proc = spawn_on_port(cmd, port, "chromedriver", Duration::from_secs(30), |base| {
            wd("GET", &format!("{base}/status"), None).is_ok_and(|v| v["ready"] == true)
        });
        Chromedriver { proc }
    }

    pub fn session(&self, chromium: &Path) -> Session {
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }}}});
        let v = wd("POST", &format!("{}/session", self.proc.base), Some(caps))
            .unwrap_or_else(|e| panic!("new session: {e}"));
        let id = v["sessionId"].as_str().expect("sessionId").to_string();
        Session {
            base: format!("{}/session/{id}", self.proc.base),
            _profile: profile,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = wd("DELETE", &self.base, None);
    }
}

impl Session {
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        wd(method, &format!("{}{path}", self.base), body).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn find(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element for {css}: {v}"))
            .to_string()
    }

    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    pub fn clear(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/clear"), Some(json!({})));
    }

    pub fn type_text(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn js(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Polls `script` (a function body returning a value) until `ok` accepts it.
    pub fn wait_for(&self, what: &str, script: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.js(script);
            if ok(&v) {
                return v;
            }
            if Instant::now() >= deadline {
                let page = self.js("return document.body.innerText;");
                panic!("timed out waiting for {what}: last {v}; page text:\n{page}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The text of each cell of the first table row `css` selects.
    pub fn cells(&self, css: &str) -> Vec<String> {
        let script = format!(
            "var r = document.querySelector({}); return r ? Array.from(r.cells).map(c => c.textContent) : [];",
            json!(css)
        );
        serde_json::from_value(self.js(&script)).unwrap()
    }

    pub fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.call("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Moves the mouse to `(x, y)` from the centre of the element `css` selects.
    pub fn hover(&self, css: &str, x: i64, y: i64) {
        let id = self.find(css);
        let actions = json!({"actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [{"type": "pointerMove", "duration": 0, "x": x, "y": y,
                         "origin": {ELEMENT_KEY: id}}],
        }]});
        self.call("POST", "/actions", Some(actions));
    }

    /// Presses the mouse at `from` px right of the element's centre, moves to `to`, releases.
    pub fn drag(&self, css: &str, from: i64, to: i64) {
        let id = self.find(css);
        let origin = json!({ ELEMENT_KEY: id });
        let actions = json!({"actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [
                {"type": "pointerMove", "duration": 0, "x": from, "y": 0, "origin": origin},
                {"type": "pointerDown", "button": 0},
                {"type": "pointerMove", "duration": 200, "x": to, "y": 0, "origin": origin},
                {"type": "pointerUp", "button": 0},
            ],
        }]});
        self.call("POST", "/actions", Some(actions));
    }

    pub fn screenshot(&self, to: &Path) {
        use base64::Engine as _;
        let v = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 png"))
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(to, png).unwrap();
    }
}

/// chromedriver and chromium, when both are installed.
pub fn browser() -> Option<(PathBuf, PathBuf)> {
    let driver = find_program("CHROMEDRIVER", &["chromedriver"])?;
    let chromium = find_program(
        "CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    )?;
    Some((driver, chromium))
}
