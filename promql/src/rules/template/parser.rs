//! Template parser: how do lexed pieces become a tree of text, actions and control blocks?
//!
//! Unknown functions and unsupported constructs (`define`, `template`, `block`) are parse
//! errors, so a rule file with such a template fails to load instead of expanding to "".

use super::functions;
use super::lexer::{lex, Piece, Tok};
use super::value::TValue;
use super::TemplateError;

/// A node of a parsed template.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Literal text.
    Text(String),
    /// `{{ pipeline }}`: the value is printed unless the pipeline declares a variable.
    Action(Pipeline),
    /// `{{if}} ... {{else}} ... {{end}}` (`else if` nests another `If` in `els`).
    If {
        /// The condition.
        cond: Pipeline,
        /// Taken when the condition is true.
        then: Vec<Node>,
        /// Taken otherwise.
        els: Vec<Node>,
    },
    /// `{{range}} ... {{else}} ... {{end}}`.
    Range {
        /// The collection (its declared variables bind index/key and element).
        over: Pipeline,
        /// Run per element.
        body: Vec<Node>,
        /// Run when the collection is empty.
        els: Vec<Node>,
    },
    /// `{{with}} ... {{else}} ... {{end}}`.
    With {
        /// The value that becomes dot.
        val: Pipeline,
        /// Run when it is non-empty.
        body: Vec<Node>,
        /// Run otherwise.
        els: Vec<Node>,
    },
    /// `{{break}}`.
    Break,
    /// `{{continue}}`.
    Continue,
}

/// A pipeline: optional variable declaration, then commands joined by `|`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// Byte offset of the action.
    pub pos: usize,
    /// Declared or assigned variables.
    pub vars: Vec<String>,
    /// `=` rather than `:=`.
    pub assign: bool,
    /// The commands.
    pub cmds: Vec<Command>,
}

/// One command: a function call or a single operand.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// Operand list; a function name first makes it a call.
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A function name.
    Func(String),
    /// A field chain on dot (`.` itself when empty).
    Field(Vec<String>),
    /// A variable with a field chain.
    Var(String, Vec<String>),
    /// A constant.
    Lit(TValue),
    /// A parenthesized pipeline with a field chain applied to its result.
    Group(Box<Pipeline>, Vec<String>),
}

/// Parses a template source into nodes.
pub fn parse(src: &str) -> Result<Vec<Node>, TemplateError> {
    let pieces = lex(src)?;
    let mut p = Parser {
        pieces,
        i: 0,
        vars: vec![vec!["$".to_string()]],
    };
    // Prometheus predefines these for every alert template.
    for v in ["$labels", "$externalLabels", "$externalURL", "$value"] {
        p.vars[0].push(v.to_string());
    }
    let (nodes, end) = p.list(0)?;
    if let Some((word, pos)) = end {
        return Err(TemplateError::syntax(
            pos,
            format!("unexpected {{{{{word}}}}}"),
        ));
    }
    Ok(nodes)
}

struct Parser {
    pieces: Vec<Piece>,
    i: usize,
    vars: Vec<Vec<String>>,
}

type End = Option<(String, usize)>;

impl Parser {
    /// Parses until `{{end}}`/`{{else ...}}` (returned) or the end of input (None).
    fn list(&mut self, depth: usize) -> Result<(Vec<Node>, End), TemplateError> {
        if depth > 100 {
            return Err(TemplateError::syntax(0, "template nested too deeply"));
        }
        let mut nodes = Vec::new();
        while self.i < self.pieces.len() {
            let piece = self.pieces[self.i].clone();
            self.i += 1;
            let (toks, pos) = match piece {
                Piece::Text(t) => {
                    nodes.push(Node::Text(t));
                    continue;
                }
                Piece::Action(t, p) => (t, p),
            };
            match toks.first() {
                Some(Tok::Ident(w)) if w == "end" => {
                    if toks.len() > 1 {
                        return Err(TemplateError::syntax(pos, "unexpected token in end"));
                    }
                    return Ok((nodes, Some(("end".into(), pos))));
                }
                Some(Tok::Ident(w)) if w == "else" => {
                    // Leave the tokens after `else` for the caller (else if / else with).
                    self.i -= 1;
                    return Ok((nodes, Some(("else".into(), pos))));
                }
                Some(Tok::Ident(w)) if w == "if" || w == "range" || w == "with" => {
                    let w = w.clone();
                    nodes.push(self.block(&w, &toks[1..], pos, depth)?);
                }
                Some(Tok::Ident(w)) if w == "break" || w == "continue" => {
                    nodes.push(if w == "break" {
                        Node::Break
                    } else {
                        Node::Continue
                    });
                }
                Some(Tok::Ident(w)) if matches!(w.as_str(), "define" | "template" | "block") => {
                    return Err(TemplateError::unsupported(pos, format!("{{{{{w}}}}}")));
                }
                _ => {
                    let pipe = self.pipeline(&toks, pos, true)?;
                    nodes.push(Node::Action(pipe));
                }
            }
        }
        Ok((nodes, None))
    }

    fn block(
        &mut self,
        kw: &str,
        toks: &[Tok],
        pos: usize,
        depth: usize,
    ) -> Result<Node, TemplateError> {
        self.vars.push(Vec::new());
        let cond = self.pipeline(toks, pos, true)?;
        if kw == "range" && cond.vars.len() > 2 {
            return Err(TemplateError::syntax(pos, "too many declarations in range"));
        }
        let (body, end) = self.list(depth + 1)?;
        let mut els = Vec::new();
        match end {
            None => {
                return Err(TemplateError::syntax(
                    pos,
                    format!("unexpected EOF in {kw}"),
                ))
            }
            Some((e, _)) if e == "end" => {}
            Some((_, epos)) => {
                // `else`, `else if ...`, `else with ...`.
                let Piece::Action(etoks, _) = self.pieces[self.i].clone() else {
                    return Err(TemplateError::syntax(epos, "internal: else without action"));
                };
                self.i += 1;
                self.vars.pop();
                self.vars.push(Vec::new());
                if etoks.len() > 1 {
                    let Tok::Ident(kw2) = &etoks[1] else {
                        return Err(TemplateError::syntax(epos, "unexpected token after else"));
                    };
                    if (kw2 == "if" && kw == "if") || (kw2 == "with" && kw == "with") {
                        // The nested block consumes the shared {{end}}.
                        let kw2 = kw2.clone();
                        els.push(self.block(&kw2, &etoks[2..], epos, depth + 1)?);
                        self.vars.pop();
                        return Ok(make(kw, cond, body, els));
                    }
                    return Err(TemplateError::syntax(epos, "unexpected token after else"));
                }
                let (e, end2) = self.list(depth + 1)?;
                els = e;
                match end2 {
                    Some((w, _)) if w == "end" => {}
                    Some((_, p2)) => {
                        return Err(TemplateError::syntax(p2, "expected end; found else"))
                    }
                    None => {
                        return Err(TemplateError::syntax(
                            pos,
                            format!("unexpected EOF in {kw}"),
                        ))
                    }
                }
            }
        }
        self.vars.pop();
        Ok(make(kw, cond, body, els))
    }

    fn declared(&self, v: &str) -> bool {
        self.vars.iter().any(|s| s.iter().any(|x| x == v))
    }

    fn pipeline(
        &mut self,
        toks: &[Tok],
        pos: usize,
        allow_decl: bool,
    ) -> Result<Pipeline, TemplateError> {
        let mut k = 0;
        let mut vars = Vec::new();
        let mut assign = false;
        // Declarations: `$x :=`, `$i, $e :=`, `$x =`.
        if allow_decl {
            let mut j = 0;
            let mut cand = Vec::new();
            while let Some(Tok::Var(n, f)) = toks.get(j) {
                if !f.is_empty() {
                    break;
                }
                cand.push(n.clone());
                j += 1;
                if toks.get(j) == Some(&Tok::Comma) {
                    j += 1;
                    continue;
                }
                break;
            }
            match toks.get(j) {
                Some(Tok::Declare) if !cand.is_empty() => {
                    vars = cand;
                    k = j + 1;
                }
                Some(Tok::Assign) if cand.len() == 1 => {
                    if !self.declared(&cand[0]) {
                        return Err(TemplateError::syntax(
                            pos,
                            format!("undefined variable \"{}\"", cand[0]),
                        ));
                    }
                    vars = cand;
                    assign = true;
                    k = j + 1;
                }
                _ => {}
            }
        }
        let mut cmds = Vec::new();
        let mut cur = Vec::new();
        while k < toks.len() {
            match &toks[k] {
                Tok::Pipe => {
                    if cur.is_empty() {
                        return Err(TemplateError::syntax(pos, "missing command before |"));
                    }
                    cmds.push(Command {
                        args: std::mem::take(&mut cur),
                    });
                    k += 1;
                }
                Tok::RParen => return Err(TemplateError::syntax(pos, "unexpected right paren")),
                _ => {
                    let (a, nk) = self.operand(toks, k, pos)?;
                    cur.push(a);
                    k = nk;
                }
            }
        }
        if cur.is_empty() {
            return Err(TemplateError::syntax(pos, "missing value for command"));
        }
        cmds.push(Command { args: cur });
        for c in &cmds[1..] {
            if !matches!(c.args[0], Arg::Func(_)) && c.args.len() == 1 {
                // Go: a non-function after | cannot take the piped argument.
                return Err(TemplateError::syntax(
                    pos,
                    "non executable command in pipeline stage",
                ));
            }
        }
        for c in &cmds {
            if !matches!(c.args[0], Arg::Func(_)) && c.args.len() > 1 {
                return Err(TemplateError::syntax(
                    pos,
                    "can't give argument to non-function",
                ));
            }
        }
        if !assign {
            if let Some(last) = self.vars.last_mut() {
                last.extend(vars.iter().cloned());
            }
        }
        Ok(Pipeline {
            pos,
            vars,
            assign,
            cmds,
        })
    }

    fn operand(
        &mut self,
        toks: &[Tok],
        k: usize,
        pos: usize,
    ) -> Result<(Arg, usize), TemplateError> {
        let a = match &toks[k] {
            Tok::Ident(n) => {
                if matches!(n.as_str(), "define" | "template" | "block") {
                    return Err(TemplateError::unsupported(pos, format!("{{{{{n}}}}}")));
                }
                if !functions::exists(n) {
                    return Err(TemplateError::syntax(
                        pos,
                        format!("function {n:?} not defined"),
                    ));
                }
                Arg::Func(n.clone())
            }
            Tok::Field { names, .. } => Arg::Field(names.clone()),
            Tok::Var(n, f) => {
                if !self.declared(n) {
                    return Err(TemplateError::syntax(
                        pos,
                        format!("undefined variable \"{n}\""),
                    ));
                }
                Arg::Var(n.clone(), f.clone())
            }
            Tok::Str(s) => Arg::Lit(TValue::Str(s.clone())),
            Tok::Num(v, true) if v.fract() == 0.0 && v.abs() < 9.0e15 => {
                Arg::Lit(TValue::Int(*v as i64))
            }
            Tok::Num(v, _) => Arg::Lit(TValue::Float(*v)),
            Tok::Bool(b) => Arg::Lit(TValue::Bool(*b)),
            Tok::Nil => Arg::Lit(TValue::Nil),
            Tok::LParen => {
                // Find the matching paren.
                let mut d = 0;
                let mut e = k;
                while e < toks.len() {
                    match toks[e] {
                        Tok::LParen => d += 1,
                        Tok::RParen => {
                            d -= 1;
                            if d == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    e += 1;
                }
                if e >= toks.len() {
                    return Err(TemplateError::syntax(pos, "unclosed left paren"));
                }
                let inner = self.pipeline(&toks[k + 1..e], pos, false)?;
                let mut fields = Vec::new();
                let mut nk = e + 1;
                while let Some(Tok::Field {
                    names,
                    spaced: false,
                }) = toks.get(nk)
                {
                    fields.extend(names.iter().cloned());
                    nk += 1;
                }
                return Ok((Arg::Group(Box::new(inner), fields), nk));
            }
            t => {
                return Err(TemplateError::syntax(
                    pos,
                    format!("unexpected {t:?} in operand"),
                ))
            }
        };
        Ok((a, k + 1))
    }
}

fn make(kw: &str, cond: Pipeline, body: Vec<Node>, els: Vec<Node>) -> Node {
    match kw {
        "if" => Node::If {
            cond,
            then: body,
            els,
        },
        "range" => Node::Range {
            over: cond,
            body,
            els,
        },
        _ => Node::With {
            val: cond,
            body,
            els,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks() {
        let n =
            parse("{{ if gt $value 1.0 }}hi{{ else if eq $value 0.0 }}zero{{ else }}lo{{ end }}")
                .unwrap();
        assert_eq!(n.len(), 1);
        assert!(matches!(&n[0], Node::If { els, .. } if matches!(els[0], Node::If { .. })));
        assert!(parse("{{ range $i, $x := . }}{{ $x }}{{ end }}").is_ok());
    }

    #[test]
    fn unknown_function_and_unsupported() {
        let e = parse("{{ nosuch 1 }}").unwrap_err();
        assert!(
            e.to_string().contains("function \"nosuch\" not defined"),
            "{e}"
        );
        let e = parse("{{ template \"x\" }}").unwrap_err();
        assert!(e.to_string().contains("unsupported"), "{e}");
        assert!(parse("{{ if 1 }}").is_err());
        assert!(parse("{{ end }}").is_err());
        assert!(parse("{{ $nope }}").is_err());
    }
}
