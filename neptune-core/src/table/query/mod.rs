//! The table filter language (see the [table module](super) for the grammar): parsing and
//! evaluation against the cells of one object.

use chrono::{DateTime, NaiveDate, Utc};

mod lex;

use lex::{tokenize, Tok};

use super::build::RawValue;
use super::{bad_query, MAX_QUERY_CONDITIONS, MAX_QUERY_DEPTH, MAX_QUERY_LEN};
use crate::error::Result;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

/// A literal of a condition, with its readings as a number and a boolean.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Literal {
    text: String,
    num: Option<f64>,
    boolean: Option<bool>,
    time_ms: Option<i64>,
}

impl Literal {
    fn new(text: String, quoted: bool) -> Self {
        let num = if quoted {
            None
        } else {
            text.parse::<f64>().ok()
        };
        let boolean = match text.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        let time_ms = parse_time(&text).map(|t| t.timestamp_millis());
        Literal {
            text,
            num,
            boolean,
            time_ms,
        }
    }
}

impl Literal {
    /// The literal read as a number (unquoted numbers only).
    pub(crate) fn num(&self) -> Option<f64> {
        self.num
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// A parsed filter. A chain `a AND b AND c` is one `And` of its terms, so the depth of the tree
/// is the nesting of the text (parentheses and `NOT`), which the parser bounds by
/// [`MAX_QUERY_DEPTH`]: walking (and dropping) a filter never recurses per term.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Exists(String),
    Cmp { path: String, op: Op, lit: Literal },
}

impl Expr {
    /// Every path the filter reads.
    pub(crate) fn paths(&self, out: &mut Vec<String>) {
        match self {
            Expr::And(terms) | Expr::Or(terms) => {
                for t in terms {
                    t.paths(out);
                }
            }
            Expr::Not(a) => a.paths(out),
            Expr::Exists(p) | Expr::Cmp { path: p, .. } => out.push(p.clone()),
        }
    }

    /// Evaluates the filter; `get` gives the cell of a path (by the index `resolve` chose).
    pub(crate) fn eval<'a>(&self, get: &dyn Fn(&str) -> Option<&'a RawValue>) -> bool {
        match self {
            Expr::And(terms) => terms.iter().all(|t| t.eval(get)),
            Expr::Or(terms) => terms.iter().any(|t| t.eval(get)),
            Expr::Not(a) => !a.eval(get),
            Expr::Exists(p) => get(p).is_some(),
            Expr::Cmp { path, op, lit } => get(path).is_some_and(|v| compare(v, *op, lit)),
        }
    }

    /// The depth of the tree (a condition is 1).
    #[cfg(test)]
    pub(crate) fn depth(&self) -> usize {
        match self {
            Expr::And(terms) | Expr::Or(terms) => {
                1 + terms.iter().map(Expr::depth).max().unwrap_or(0)
            }
            Expr::Not(a) => 1 + a.depth(),
            Expr::Exists(_) | Expr::Cmp { .. } => 1,
        }
    }
}

fn ordered<T: PartialOrd>(a: T, op: Op, b: T) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Contains => false,
    }
}

fn compare(v: &RawValue, op: Op, lit: &Literal) -> bool {
    match v {
        RawValue::Float(x) => lit.num.is_some_and(|n| ordered(*x, op, n)),
        RawValue::Int(x) => lit.num.is_some_and(|n| ordered(*x as f64, op, n)),
        RawValue::Bool(x) => match op {
            Op::Eq | Op::Ne => lit.boolean.is_some_and(|b| ordered(*x, op, b)),
            _ => false,
        },
        RawValue::Str(s) => match op {
            Op::Contains => s.contains(lit.text.as_str()),
            _ => ordered(s.as_str(), op, lit.text.as_str()),
        },
        RawValue::Time(ms) => lit.time_ms.is_some_and(|t| ordered(*ms, op, t)),
        RawValue::State(s) => match op {
            Op::Eq => s.as_str().eq_ignore_ascii_case(&lit.text),
            Op::Ne => !s.as_str().eq_ignore_ascii_case(&lit.text),
            _ => false,
        },
        RawValue::Set(members) => match op {
            Op::Contains => members.contains(&lit.text),
            Op::Eq => members.len() == 1 && members[0] == lit.text,
            Op::Ne => !(members.len() == 1 && members[0] == lit.text),
            _ => false,
        },
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// Parentheses and `NOT`s open around the current token.
    depth: usize,
    /// Conditions read so far.
    conditions: usize,
}

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w, false)) if w.eq_ignore_ascii_case(kw))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr> {
        let first = self.and()?;
        if !is_kw(self.peek(), "or") {
            return Ok(first);
        }
        let mut terms = vec![first];
        while is_kw(self.peek(), "or") {
            self.pos += 1;
            terms.push(self.and()?);
        }
        Ok(Expr::Or(terms))
    }

    fn and(&mut self) -> Result<Expr> {
        let first = self.unary()?;
        if !is_kw(self.peek(), "and") {
            return Ok(first);
        }
        let mut terms = vec![first];
        while is_kw(self.peek(), "and") {
            self.pos += 1;
            terms.push(self.unary()?);
        }
        Ok(Expr::And(terms))
    }

    /// Enters a `NOT` or a parenthesis: past [`MAX_QUERY_DEPTH`] levels, an error.
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_QUERY_DEPTH {
            return Err(bad_query(format!(
                "the query nests deeper than {MAX_QUERY_DEPTH} levels of parentheses and NOT; \
                 write it with fewer levels"
            )));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr> {
        if is_kw(self.peek(), "not") {
            self.pos += 1;
            self.enter()?;
            let e = Expr::Not(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(e);
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            self.enter()?;
            let e = self.or()?;
            if self.next() != Some(Tok::RParen) {
                return Err(bad_query("a '(' is not closed by ')'"));
            }
            self.depth -= 1;
            return Ok(e);
        }
        self.conditions += 1;
        if self.conditions > MAX_QUERY_CONDITIONS {
            return Err(bad_query(format!(
                "the query has more than {MAX_QUERY_CONDITIONS} conditions; select with fewer \
                 (several ids, states, owners or tags go in their own arguments)"
            )));
        }
        if is_kw(self.peek(), "exists") {
            self.pos += 1;
            return Ok(Expr::Exists(self.path()?));
        }
        let path = self.path()?;
        if is_kw(self.peek(), "exists") {
            self.pos += 1;
            return Ok(Expr::Exists(path));
        }
        let op = match self.next() {
            Some(Tok::Op(op)) => op,
            Some(Tok::Word(w, false)) if w.eq_ignore_ascii_case("contains") => Op::Contains,
            other => {
                return Err(bad_query(format!(
                    "expected an operator (=, !=, <, <=, >, >=, CONTAINS, EXISTS) after {path:?}, \
                     found {}",
                    describe(other.as_ref())
                )))
            }
        };
        let lit = match self.next() {
            Some(Tok::Text(t)) => Literal::new(t, true),
            Some(Tok::Word(w, _)) => Literal::new(w, false),
            other => {
                return Err(bad_query(format!(
                    "expected a value after {path:?}, found {}",
                    describe(other.as_ref())
                )))
            }
        };
        Ok(Expr::Cmp { path, op, lit })
    }

    fn path(&mut self) -> Result<String> {
        match self.next() {
            Some(Tok::Word(w, quoted)) => {
                let reserved = ["and", "or", "not", "exists", "contains"];
                if !quoted && reserved.iter().any(|k| w.eq_ignore_ascii_case(k)) {
                    return Err(bad_query(format!(
                        "expected a field path, found the keyword {w:?} (back-quote a path \
                         that is a keyword: `{w}`)"
                    )));
                }
                crate::model::path::FieldPath::parse(&w)?;
                Ok(w)
            }
            other => Err(bad_query(format!(
                "expected a field path, found {}",
                describe(other.as_ref())
            ))),
        }
    }
}

fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "the end of the query".to_owned(),
        Some(Tok::LParen) => "'('".to_owned(),
        Some(Tok::RParen) => "')'".to_owned(),
        Some(Tok::Op(op)) => format!("the operator {op:?}"),
        Some(Tok::Word(w, _)) => format!("{w:?}"),
        Some(Tok::Text(t)) => format!("the text {t:?}"),
    }
}

/// Parses a filter; an empty or blank text is no filter. The text, its nesting and its number
/// of conditions are bounded ([`MAX_QUERY_LEN`], [`MAX_QUERY_DEPTH`],
/// [`MAX_QUERY_CONDITIONS`]): past them, an error naming the limit.
pub(crate) fn parse(s: &str) -> Result<Option<Expr>> {
    if s.len() > MAX_QUERY_LEN {
        return Err(bad_query(format!(
            "the query is {} bytes long, more than the limit of {MAX_QUERY_LEN}",
            s.len()
        )));
    }
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        conditions: 0,
    };
    let e = p.or()?;
    if let Some(t) = p.peek() {
        return Err(bad_query(format!(
            "unexpected {} after a complete condition; join conditions with AND or OR",
            describe(Some(t))
        )));
    }
    Ok(Some(e))
}

#[cfg(test)]
mod tests;
