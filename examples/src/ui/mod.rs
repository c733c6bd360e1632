//! The query page: which bytes answer `GET /`, `/graph` and `/static/...`?
//!
//! One HTML page, one script and one stylesheet, plus the vendored [uPlot] chart library
//! (MIT, its licence served beside it), all compiled into the binary with `include_str!`
//! so the page needs no build step and no network at run time. The page talks to the
//! server only through the public HTTP API (`api/v1/query`, `api/v1/query_range`,
//! `api/v1/label/__name__/values`, `api/v1/alerts`, `api/v1/rules`, `api/v1/targets`)
//! with relative URLs, so the same files work when served in front of a real Prometheus.
//!
//! [uPlot]: https://github.com/leeoniya/uPlot
//!
//! ```
//! let page = examples::ui::asset("/").unwrap();
//! assert_eq!(page.content_type, "text/html; charset=utf-8");
//! assert!(examples::ui::asset("/static/app.js").is_some());
//! assert!(examples::ui::asset("/static/nope.js").is_none());
//! ```

/// One file the page is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The URL path it is served at (for the page itself: `/`).
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every file of the page, the page itself first.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: HTML,
        body: include_str!("index.html"),
    },
    Asset {
        path: "/static/app.js",
        content_type: JS,
        body: include_str!("app.js"),
    },
    Asset {
        path: "/static/app.css",
        content_type: CSS,
        body: include_str!("app.css"),
    },
    Asset {
        path: "/static/vendor/uPlot.iife.min.js",
        content_type: JS,
        body: include_str!("vendor/uPlot.iife.min.js"),
    },
    Asset {
        path: "/static/vendor/uPlot.min.css",
        content_type: CSS,
        body: include_str!("vendor/uPlot.min.css"),
    },
    Asset {
        path: "/static/vendor/uPlot.LICENSE",
        content_type: TEXT,
        body: include_str!("vendor/uPlot.LICENSE"),
    },
];

/// The paths that show the page (Prometheus's own UI lives at `/graph`; the alert, rule
/// and target views are sections of the same page).
const PAGE_PATHS: &[&str] = &["/", "/graph", "/alerts", "/rules", "/targets"];

/// The file served at `path`, if any: the page for `/`, `/graph`, `/alerts`, `/rules` and
/// `/targets`, the static files under `/static/`.
pub fn asset(path: &str) -> Option<&'static Asset> {
    if PAGE_PATHS.contains(&path) {
        return ASSETS.first();
    }
    if !path.starts_with("/static/") {
        return None;
    }
    ASSETS.iter().find(|a| a.path == path)
}

/// The route label used in `/metrics` for `path` (a bounded set, like Prometheus's).
pub fn handler_name(path: &str) -> &'static str {
    if path.starts_with("/static/") {
        "/static/*filepath"
    } else {
        match path {
            "/graph" => "/graph",
            "/alerts" => "/alerts",
            "/rules" => "/rules",
            "/targets" => "/targets",
            _ => "/",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_paths_serve_the_html() {
        for p in PAGE_PATHS {
            let a = asset(p).unwrap();
            assert_eq!(a.content_type, HTML);
            assert!(a.body.contains("<title>"), "{p}");
        }
    }

    #[test]
    fn the_html_references_only_files_we_serve() {
        let html = asset("/").unwrap().body;
        let mut seen = 0;
        for part in html.split("\"static/").skip(1) {
            let file = &part[..part.find('"').unwrap()];
            let a = asset(&format!("/static/{file}"))
                .unwrap_or_else(|| panic!("index.html links static/{file}, which is not served"));
            assert!(!a.body.is_empty());
            seen += 1;
        }
        assert_eq!(seen, 4, "app.js, app.css, uPlot js and css");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no network at run time"
        );
    }

    #[test]
    fn the_api_serves_the_page_beside_the_endpoints() {
        use crate::api::{Api, ApiOptions, Request};
        use std::sync::{Arc, RwLock};
        let db = tsdb::Db::in_memory(tsdb::HeadOptions::default());
        let api = Api::new(Arc::new(RwLock::new(db)), ApiOptions::default());
        let call =
            |method: &str, url: &str| api.handle(&Request::new(method, url, None, b"", None));
        for url in ["/", "/graph?g0.expr=up&g0.tab=0", "/alerts", "/rules"] {
            let r = call("GET", url);
            assert_eq!((r.status, r.content_type.as_str()), (200, HTML), "{url}");
            assert_eq!(r.body, asset("/").unwrap().body.as_bytes(), "{url}");
        }
        assert_eq!(call("HEAD", "/static/app.css").content_type, CSS);
        let js = call("GET", "/static/vendor/uPlot.iife.min.js");
        assert_eq!((js.status, js.content_type.as_str()), (200, JS));
        // Only reads show the page; a POST to / is not a page, and unknown files are 404s.
        assert_eq!(call("POST", "/").status, 404);
        assert_eq!(call("GET", "/static/app.js.map").status, 404);
        // The API is untouched.
        assert_eq!(call("GET", "/api/v1/query?query=1&time=1").status, 200);
        let metrics = String::from_utf8(call("GET", "/metrics").body).unwrap();
        assert!(
            metrics.contains("handler=\"/static/*filepath\""),
            "{metrics}"
        );
    }

    #[test]
    fn static_lookup_is_exact() {
        assert_eq!(asset("/static/app.css").unwrap().content_type, CSS);
        assert_eq!(asset("/static/app.js").unwrap().content_type, JS);
        assert!(asset("/static/../Cargo.toml").is_none());
        assert!(asset("/static/").is_none());
        assert!(asset("/api/v1/query").is_none());
        assert!(asset("/app.js").is_none());
        assert_eq!(handler_name("/static/app.js"), "/static/*filepath");
        assert_eq!(handler_name("/"), "/");
    }
}
