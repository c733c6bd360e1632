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
}

impl RouteTree {
    /// Builds a tree from nodes whose ids are their indices, root at 0.
    pub(crate) fn from_nodes(nodes: Vec<Route>) -> RouteTree {
        RouteTree { nodes }
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
        self.match_node(RouteId(0), labels, out);
    }

    /// Returns true if the node matched (and so appended at least one route).
    fn match_node<'a>(&'a self, id: RouteId, labels: &Labels, out: &mut Vec<&'a Route>) -> bool {
        let node = &self.nodes[id.0];
        if !node.matches(labels) {
            return false;
        }
        let before = out.len();
        for &c in &node.children {
            if self.match_node(c, labels, out) && !self.nodes[c.0].continue_matching {
                break;
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
            let _ = writeln!(
                s,
                "{prefix}{}{}{}  receiver: {}",
                if last { "└── " } else { "├── " },
                matchers_to_string(&child.matchers),
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
