//! The routing tree: "which routes (and so which receivers) does this alert go to?"
//!
//! The tree is built by [`crate::config`] with inheritance already applied, so each [`Route`]
//! carries its resolved options. [`RouteTree::route`] is Alertmanager's depth-first,
//! left-to-right search with `continue`:
//!
//! 1. a node whose matchers do not all hold returns nothing;
//! 2. children are visited in order and their results appended; after a child that returned
//!    something, the scan stops unless that child has `continue: true`;
//! 3. a node none of whose children matched returns itself.
//!
//! ```
//! use alertroute::Config;
//! use exposition::Labels;
//! let cfg = Config::load(r#"
//! route:
//!   receiver: default
//!   routes:
//!     - matchers: ['team="db"']
//!       receiver: db
//! receivers: [{name: default}, {name: db}]
//! "#).unwrap();
//! let hits = cfg.route.route(&Labels::from_pairs(&[("team", "db")]));
//! assert_eq!(hits[0].receiver, "db");
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use exposition::{Labels, Matcher};

use crate::matchers::{go_quote, matchers_to_string};

mod index;
use index::{AltMatch, ChildIndex};

thread_local! {
    /// Candidate stack reused across calls (no allocation per routed alert).
    static SCRATCH: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Index of a node in a [`RouteTree`]; the root is `RouteId(0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteId(pub usize);

/// Which labels form the group key of an alert on a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// `group_by: ['...']`: every label.
    All,
    /// These label names (empty: one group for the whole route).
    Labels(Vec<String>),
}

impl GroupBy {
    /// The group labels of an alert: the subset of `labels` named here (absent ones absent).
    pub fn group_labels(&self, labels: &Labels) -> Labels {
        match self {
            GroupBy::All => labels.clone(),
            GroupBy::Labels(names) => labels.keep_only(names),
        }
    }
}

/// One node with its resolved options.
#[derive(Debug, Clone)]
pub struct Route {
    /// This node's index.
    pub id: RouteId,
    /// The parent (none for the root).
    pub parent: Option<RouteId>,
    /// The children, in config order.
    pub children: Vec<RouteId>,
    /// The receiver (inherited when unset).
    pub receiver: String,
    /// Grouping (inherited when unset).
    pub group_by: GroupBy,
    /// Wait before the first notification of a new group, ms.
    pub group_wait_ms: i64,
    /// Wait between flushes of a group, ms.
    pub group_interval_ms: i64,
    /// Wait before re-sending an unchanged group, ms.
    pub repeat_interval_ms: i64,
    /// All matchers of this node (legacy `match`/`match_re` and `matchers`), sorted.
    pub matchers: Vec<Matcher>,
    /// Whether siblings after this one are still tried once it matched.
    pub continue_matching: bool,
    /// Names of time intervals during which notifications are muted (not inherited).
    pub mute_time_intervals: Vec<String>,
    /// Names of time intervals outside which notifications are muted (not inherited).
    pub active_time_intervals: Vec<String>,
    /// Route labels (master only), merged with the parent's.
    pub labels: BTreeMap<String, String>,
    /// The route key: parent key + `/` + `{matchers}`; the root's is `{}`.
    pub key: String,
}

impl Route {
    /// Whether this node's own matchers all hold (absent labels read as "").
    #[inline]
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matchers
            .iter()
            .all(|m| m.matches(labels.get(m.name()).unwrap_or("")))
    }
}

/// The routing tree: an arena of [`Route`]s, root first.
#[derive(Debug, Clone)]
pub struct RouteTree {
    nodes: Vec<Route>,
    /// Per node, an index over its children when it has many.
    indexes: Vec<Option<ChildIndex>>,
    /// Per node, its matchers with regex alternations pre-analysed (same order).
    fast: Vec<Vec<FastMatcher>>,
}

/// A node matcher as evaluated by the tree: the matcher itself or its regex-free form.
#[derive(Debug, Clone)]
enum FastMatcher {
    Plain(Matcher),
    Alt(AltMatch),
}

impl RouteTree {
    /// Builds a tree from nodes whose ids are their indices, root at 0.
    pub(crate) fn from_nodes(nodes: Vec<Route>) -> RouteTree {
        let indexes = nodes
            .iter()
            .map(|n| {
                (n.children.len() >= index::MIN_CHILDREN).then(|| {
                    ChildIndex::build(n.children.iter().map(|c| nodes[c.0].matchers.as_slice()))
                })
            })
            .collect();
        let fast = nodes
            .iter()
            .map(|n| {
                n.matchers
                    .iter()
                    .map(|m| match AltMatch::new(m) {
                        Some(a) => FastMatcher::Alt(a),
                        None => FastMatcher::Plain(m.clone()),
                    })
                    .collect()
            })
            .collect();
        RouteTree {
            nodes,
            indexes,
            fast,
        }
    }

    #[inline]
    fn node_matches(&self, id: RouteId, labels: &Labels) -> bool {
        self.fast[id.0].iter().all(|f| match f {
            FastMatcher::Plain(m) => m.matches(labels.get(m.name()).unwrap_or("")),
            FastMatcher::Alt(a) => a.matches(labels),
        })
    }

    /// The root (default route).
    pub fn root(&self) -> &Route {
        &self.nodes[0]
    }

    /// A node by id.
    pub fn get(&self, id: RouteId) -> Option<&Route> {
        self.nodes.get(id.0)
    }

    /// All nodes, depth-first pre-order.
    pub fn iter(&self) -> std::slice::Iter<'_, Route> {
        self.nodes.iter()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Never true: a tree has at least its root.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The routes an alert with `labels` goes to, in match order (never empty).
    pub fn route(&self, labels: &Labels) -> Vec<&Route> {
        let mut out = Vec::new();
        self.route_into(labels, &mut out);
        out
    }

    /// Like [`route`](Self::route) but reuses `out` (cleared first) and returns ids.
    pub fn route_into<'a>(&'a self, labels: &Labels, out: &mut Vec<&'a Route>) {
        out.clear();
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            s.clear();
            self.match_node(RouteId(0), labels, out, &mut s);
        });
    }

    /// Returns true if the node matched (and so appended at least one route).
    fn match_node<'a>(
        &'a self,
        id: RouteId,
        labels: &Labels,
        out: &mut Vec<&'a Route>,
        scratch: &mut Vec<u32>,
    ) -> bool {
        let node = &self.nodes[id.0];
        if !self.node_matches(id, labels) {
            return false;
        }
        let before = out.len();
        match &self.indexes[id.0] {
            None => {
                for &c in &node.children {
                    if self.match_node(c, labels, out, scratch)
                        && !self.nodes[c.0].continue_matching
                    {
                        break;
                    }
                }
            }
            Some(index) => {
                // Candidates are appended to one scratch stack shared by the recursion.
                let start = scratch.len();
                index.candidates(labels, scratch);
                let end = scratch.len();
                for i in start..end {
                    let c = node.children[scratch[i] as usize];
                    if self.match_node(c, labels, out, scratch)
                        && !self.nodes[c.0].continue_matching
                    {
                        break;
                    }
                }
                scratch.truncate(start);
            }
        }
        if out.len() == before {
            out.push(node);
        }
        true
    }

    /// The receivers an alert goes to, comma-separated, as `amtool config routes test` prints.
    pub fn receivers_for(&self, labels: &Labels) -> String {
        self.route(labels)
            .iter()
            .map(|r| r.receiver.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The tree as `amtool config routes show` prints it.
    pub fn show(&self) -> String {
        let mut s = String::from("Routing tree:\n.\n");
        let root = self.root();
        let _ = writeln!(s, "└── default-route  receiver: {}", root.receiver);
        self.show_children(root, "    ", &mut s);
        s.push('\n');
        s
    }

    fn show_children(&self, node: &Route, prefix: &str, s: &mut String) {
        let n = node.children.len();
        for (i, &c) in node.children.iter().enumerate() {
            let child = &self.nodes[c.0];
            let last = i + 1 == n;
            // amtool names every node without matchers `default-route`, not only the root.
            let slug = if child.matchers.is_empty() {
                "default-route".to_string()
            } else {
                matchers_to_string(&child.matchers)
            };
            let _ = writeln!(
                s,
                "{prefix}{}{}{}  receiver: {}",
                if last { "└── " } else { "├── " },
                slug,
                if child.continue_matching {
                    "  continue: true"
                } else {
                    ""
                },
                child.receiver
            );
            // treeprint's continuation bar is followed by two no-break spaces and a space.
            let next = format!("{prefix}{}", if last { "    " } else { "│\u{a0}\u{a0} " });
            self.show_children(child, &next, s);
        }
    }
}

/// The group key string: `<route key>:<group labels>` with labels printed as
/// `{a="1", b="2"}` (comma and space, Go-quoted values, sorted by name).
pub fn group_key(route_key: &str, group_labels: &Labels) -> String {
    let mut s = String::with_capacity(route_key.len() + 32);
    s.push_str(route_key);
    s.push_str(":{");
    for (i, l) in group_labels.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&l.name);
        s.push('=');
        s.push_str(&go_quote(&l.value));
    }
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use exposition::Labels;

    #[test]
    fn show_names_every_matcherless_node_default_route() {
        let cfg = crate::Config::load(
            "route:\n  receiver: a\n  routes:\n    - receiver: b\n      continue: true\n      routes: [{matchers: ['x=\"1\"']}]\n\
             receivers: [{name: a}, {name: b}]",
        )
        .unwrap();
        assert_eq!(
            cfg.route.show(),
            "Routing tree:\n.\n└── default-route  receiver: a\n    └── default-route  continue: true  receiver: b\n        └── {x=\"1\"}  receiver: b\n\n"
        );
    }

    #[test]
    fn group_key_format() {
        let l = Labels::from_pairs(&[
            ("alertname", "A"),
            ("cluster", "x"),
            ("severity", "critical"),
        ]);
        assert_eq!(
            group_key("{}/{severity=\"critical\"}", &l),
            r#"{}/{severity="critical"}:{alertname="A", cluster="x", severity="critical"}"#
        );
        assert_eq!(
            group_key("{}", &Labels::from_pairs(&[("alertname", "F")])),
            r#"{}:{alertname="F"}"#
        );
    }

    /// The plain scan, for comparison with the indexed search.
    fn linear<'a>(t: &'a RouteTree, id: RouteId, l: &Labels, out: &mut Vec<&'a Route>) -> bool {
        let node = t.get(id).unwrap();
        if !node.matches(l) {
            return false;
        }
        let before = out.len();
        for &c in &node.children {
            if linear(t, c, l, out) && !t.get(c).unwrap().continue_matching {
                break;
            }
        }
        if out.len() == before {
            out.push(node);
        }
        true
    }

    #[test]
    fn indexed_search_equals_linear_scan() {
        let kinds = [
            r#"team="t{i}""#,
            r#"team=~"t{i}|x{i}""#,
            r#"service=~"svc-{i}-(a|b)[0-9]*""#,
            r#"service=~"svc-{i}.*""#,
            r#"service=~".*-{i}""#,
            r#"team!="t{i}""#,
            r#"team="""#,
            r#"env=~"p|""#,
            r#"service=~"svc-{i}-a.*|x{i}""#,
        ];
        let mut y = String::from("route:\n  receiver: r\n  routes:\n");
        for i in 0..60 {
            let m = kinds[i % kinds.len()].replace("{i}", &(i % 7).to_string());
            let cont = if i % 3 == 0 { "true" } else { "false" };
            y +=
                &format!("    - matchers: ['{m}']\n      continue: {cont}\n      receiver: r{i}\n");
        }
        y += "receivers: [{name: r}";
        for i in 0..60 {
            y += &format!(", {{name: r{i}}}");
        }
        y += "]\n";
        let cfg = crate::Config::load(&y).unwrap();
        let t = &cfg.route;
        assert!(t.indexes[0].is_some());
        let mut x: u64 = 12345;
        let mut rnd = move |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        for _ in 0..3000 {
            let mut pairs = Vec::new();
            if rnd(4) > 0 {
                pairs.push((
                    "team",
                    format!("{}{}", ["t", "x", "y"][rnd(3) as usize], rnd(8)),
                ));
            }
            if rnd(4) > 0 {
                let s = format!(
                    "svc-{}{}",
                    rnd(8),
                    ["-a1", "-b", "-c2", "", "x"][rnd(5) as usize]
                );
                pairs.push(("service", s));
            }
            if rnd(2) > 0 {
                pairs.push(("env", ["p", "q"][rnd(2) as usize].to_string()));
            }
            let l = Labels::from_pairs(&pairs);
            let mut want = Vec::new();
            linear(t, RouteId(0), &l, &mut want);
            let got = t.route(&l);
            let ids = |v: &[&Route]| v.iter().map(|r| r.id).collect::<Vec<_>>();
            assert_eq!(ids(&got), ids(&want), "labels {l}");
        }
    }

    #[test]
    fn match_order_continue_and_duplicates() {
        let cfg = crate::Config::load(
            r#"
route:
  receiver: root
  routes:
    - matchers: [a="1"]
      receiver: us-oncall
      continue: true
      routes:
        - matchers: [b="1"]
          continue: true
        - matchers: [b=~".*"]
    - matchers: [a=~"1|2"]
      receiver: us-oncall
    - matchers: [a=~".+"]
      receiver: shadowed
receivers: [{name: root}, {name: us-oncall}, {name: shadowed}]
"#,
        )
        .unwrap();
        let t = &cfg.route;
        let r = |pairs: &[(&str, &str)]| t.receivers_for(&Labels::from_pairs(pairs));
        // Nested continue keeps scanning the nested siblings; the parent is not added; the
        // parent's continue lets the next top-level sibling match; the same receiver twice.
        assert_eq!(
            r(&[("a", "1"), ("b", "1")]),
            "us-oncall,us-oncall,us-oncall"
        );
        assert_eq!(r(&[("a", "1")]), "us-oncall,us-oncall");
        assert_eq!(r(&[("a", "2")]), "us-oncall");
        assert_eq!(r(&[("a", "3")]), "shadowed");
        assert_eq!(r(&[]), "root");
        let keys: Vec<&str> = t
            .route(&Labels::from_pairs(&[("a", "1")]))
            .iter()
            .map(|r| r.key.as_str())
            .collect();
        assert_eq!(keys, [r#"{}/{a="1"}/{b=~".*"}"#, r#"{}/{a=~"1|2"}"#]);
    }

    #[test]
    fn group_by_subsets() {
        let l = Labels::from_pairs(&[("a", "1"), ("b", "2")]);
        assert_eq!(GroupBy::All.group_labels(&l), l);
        assert_eq!(
            GroupBy::Labels(vec!["b".into(), "zz".into()]).group_labels(&l),
            Labels::from_pairs(&[("b", "2")])
        );
        assert!(GroupBy::Labels(vec![]).group_labels(&l).is_empty());
    }
}
