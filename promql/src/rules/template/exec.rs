//! Template execution: what text does a parsed template produce for given data?

use super::functions;
use super::parser::{Arg, Command, Node, Pipeline};
use super::value::TValue;
use super::ExpandContext;

/// Limit on loop iterations per expansion, so a template cannot run away.
const MAX_STEPS: usize = 1_000_000;
/// Limit on the expanded text (1 MiB).
const MAX_OUTPUT: usize = 1 << 20;

pub(super) struct State<'a, 'b> {
    vars: Vec<(String, TValue)>,
    pub(super) ctx: &'a ExpandContext<'b>,
    steps: usize,
}

enum Flow {
    Normal,
    Break,
    Continue,
}

/// Runs `nodes` with `dot` as `.` and the given predeclared variables.
pub(super) fn execute(
    nodes: &[Node],
    dot: &TValue,
    vars: Vec<(String, TValue)>,
    ctx: &ExpandContext<'_>,
) -> Result<String, String> {
    let mut st = State {
        vars,
        ctx,
        steps: 0,
    };
    st.vars.insert(0, ("$".to_string(), dot.clone()));
    let mut out = String::new();
    run(nodes, dot, &mut st, &mut out)?;
    Ok(out)
}

fn run(nodes: &[Node], dot: &TValue, st: &mut State, out: &mut String) -> Result<Flow, String> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Action(p) => {
                let v = eval_pipe(p, dot, st)?;
                if p.vars.is_empty() {
                    v.print(out);
                }
            }
            Node::If { cond, then, els } => {
                let mark = st.vars.len();
                let c = eval_pipe(cond, dot, st)?;
                let f = if c.truthy() {
                    run(then, dot, st, out)?
                } else {
                    run(els, dot, st, out)?
                };
                st.vars.truncate(mark);
                if !matches!(f, Flow::Normal) {
                    return Ok(f);
                }
            }
            Node::With { val, body, els } => {
                let mark = st.vars.len();
                let v = eval_pipe(val, dot, st)?;
                let f = if v.truthy() {
                    run(body, &v, st, out)?
                } else {
                    run(els, dot, st, out)?
                };
                st.vars.truncate(mark);
                if !matches!(f, Flow::Normal) {
                    return Ok(f);
                }
            }
            Node::Range { over, body, els } => {
                let mark = st.vars.len();
                let coll = eval_pipe_value(over, dot, st)?;
                let items: Vec<(TValue, TValue)> = match coll {
                    TValue::List(l) => l
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (TValue::Int(i as i64), v))
                        .collect(),
                    TValue::Map(m) => m.into_iter().map(|(k, v)| (TValue::Str(k), v)).collect(),
                    TValue::Int(n) => {
                        if n > MAX_STEPS as i64 {
                            return Err(format!("range over {n} is too long"));
                        }
                        (0..n.max(0))
                            .map(|i| (TValue::Int(i), TValue::Int(i)))
                            .collect()
                    }
                    TValue::Nil => Vec::new(),
                    other => return Err(format!("range can't iterate over {}", other.to_text())),
                };
                if items.is_empty() {
                    run(els, dot, st, out)?;
                }
                for (k, v) in items {
                    st.steps += 1;
                    if st.steps > MAX_STEPS {
                        return Err("template ran too many steps".into());
                    }
                    if out.len() > MAX_OUTPUT {
                        return Err("template output too large".into());
                    }
                    let inner = st.vars.len();
                    match over.vars.len() {
                        1 => st.vars.push((over.vars[0].clone(), v.clone())),
                        2 => {
                            st.vars.push((over.vars[0].clone(), k));
                            st.vars.push((over.vars[1].clone(), v.clone()));
                        }
                        _ => {}
                    }
                    let f = run(body, &v, st, out)?;
                    st.vars.truncate(inner);
                    if matches!(f, Flow::Break) {
                        break;
                    }
                }
                st.vars.truncate(mark);
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
    }
    Ok(Flow::Normal)
}

/// Evaluates a pipeline and binds its declared variables (range binds per element instead).
fn eval_pipe(p: &Pipeline, dot: &TValue, st: &mut State) -> Result<TValue, String> {
    let v = eval_pipe_value(p, dot, st)?;
    if let Some(name) = p.vars.first() {
        if p.assign {
            match st.vars.iter_mut().rev().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = v.clone(),
                None => return Err(format!("undefined variable: {name}")),
            }
        } else {
            st.vars.push((name.clone(), v.clone()));
        }
    }
    Ok(v)
}

fn eval_pipe_value(p: &Pipeline, dot: &TValue, st: &mut State) -> Result<TValue, String> {
    let mut v: Option<TValue> = None;
    for c in &p.cmds {
        v = Some(eval_cmd(c, dot, st, v.take())?);
    }
    Ok(v.unwrap_or(TValue::Nil))
}

fn eval_cmd(
    c: &Command,
    dot: &TValue,
    st: &mut State,
    piped: Option<TValue>,
) -> Result<TValue, String> {
    match &c.args[0] {
        Arg::Func(name) => {
            let mut args = Vec::with_capacity(c.args.len());
            for a in &c.args[1..] {
                args.push(eval_arg(a, dot, st)?);
            }
            if let Some(p) = piped {
                args.push(p);
            }
            functions::call(name, args, st)
        }
        a => eval_arg(a, dot, st),
    }
}

fn eval_arg(a: &Arg, dot: &TValue, st: &mut State) -> Result<TValue, String> {
    match a {
        Arg::Func(name) => functions::call(name, Vec::new(), st),
        Arg::Field(names) => walk(dot.clone(), names),
        Arg::Var(n, names) => {
            let v = st
                .vars
                .iter()
                .rev()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("undefined variable: {n}"))?;
            walk(v, names)
        }
        Arg::Lit(v) => Ok(v.clone()),
        Arg::Group(p, names) => {
            let v = eval_pipe_value(p, dot, st)?;
            walk(v, names)
        }
    }
}

fn walk(mut v: TValue, names: &[String]) -> Result<TValue, String> {
    for n in names {
        v = match v {
            // missingkey=zero, as Prometheus configures its templates.
            TValue::Map(mut m) => m.remove(n).unwrap_or(TValue::Str(String::new())),
            TValue::Nil => return Err(format!("nil pointer evaluating .{n}")),
            other => {
                return Err(format!(
                    "can't evaluate field {n} in type {}",
                    other.type_name()
                ))
            }
        };
    }
    Ok(v)
}
