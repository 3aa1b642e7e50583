//! The table filter language (see the [table module](super) for the grammar): parsing and
//! evaluation against the cells of one object.

use chrono::{DateTime, NaiveDate, Utc};

use super::bad_query;
use super::build::RawValue;
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

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Exists(String),
    Cmp { path: String, op: Op, lit: Literal },
}

impl Expr {
    /// Every path the filter reads.
    pub(crate) fn paths(&self, out: &mut Vec<String>) {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.paths(out);
                b.paths(out);
            }
            Expr::Not(a) => a.paths(out),
            Expr::Exists(p) | Expr::Cmp { path: p, .. } => out.push(p.clone()),
        }
    }

    /// Evaluates the filter; `get` gives the cell of a path (by the index `resolve` chose).
    pub(crate) fn eval<'a>(&self, get: &dyn Fn(&str) -> Option<&'a RawValue>) -> bool {
        match self {
            Expr::And(a, b) => a.eval(get) && b.eval(get),
            Expr::Or(a, b) => a.eval(get) || b.eval(get),
            Expr::Not(a) => !a.eval(get),
            Expr::Exists(p) => get(p).is_some(),
            Expr::Cmp { path, op, lit } => get(path).is_some_and(|v| compare(v, *op, lit)),
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

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Op(Op),
    /// A bare word (a path, a keyword or a value) or a back-quoted path (`true`).
    Word(String, bool),
    /// A quoted text.
    Text(String),
}

const NQL_TYPES: [&str; 14] = [
    "float",
    "int",
    "integer",
    "bool",
    "boolean",
    "string",
    "datetime",
    "floatseries",
    "stringseries",
    "stringset",
    "experimentstate",
    "runstate",
    "gitref",
    "artifact",
];

fn tokenize(s: &str) -> Result<Vec<Tok>> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('=', Some('=')) => (Op::Eq, 2),
                    ('=', _) => (Op::Eq, 1),
                    ('!', Some('=')) => (Op::Ne, 2),
                    ('<', Some('=')) => (Op::Le, 2),
                    ('<', Some('>')) => (Op::Ne, 2),
                    ('<', _) => (Op::Lt, 1),
                    ('>', Some('=')) => (Op::Ge, 2),
                    ('>', _) => (Op::Gt, 1),
                    _ => {
                        return Err(bad_query(format!(
                            "unexpected '!' at character {}; use != or NOT",
                            i + 1
                        )))
                    }
                };
                out.push(Tok::Op(op));
                i += len;
            }
            '"' | '\'' | '`' => {
                let quote = c;
                let start = i;
                i += 1;
                let mut text = String::new();
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(bad_query(format!(
                                "the quote {quote} at character {} is not closed",
                                start + 1
                            )))
                        }
                        Some('\\') if chars.get(i + 1).is_some() => {
                            text.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&ch) if ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            text.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(if quote == '`' {
                    Tok::Word(text, true)
                } else {
                    Tok::Text(text)
                });
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(
                        chars[i],
                        '(' | ')' | '=' | '!' | '<' | '>' | '"' | '\'' | '`'
                    )
                {
                    i += 1;
                }
                let mut word: String = chars[start..i].iter().collect();
                // NQL writes `path:type`; the type is known from the store.
                if let Some((p, t)) = word.rsplit_once(':') {
                    if NQL_TYPES.contains(&t.to_ascii_lowercase().as_str()) && !p.is_empty() {
                        word = p.to_owned();
                    }
                }
                out.push(Tok::Word(word, false));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
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
        let mut left = self.and()?;
        while is_kw(self.peek(), "or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.unary()?;
        while is_kw(self.peek(), "and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr> {
        if is_kw(self.peek(), "not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if is_kw(self.peek(), "exists") {
            self.pos += 1;
            return Ok(Expr::Exists(self.path()?));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            if self.next() != Some(Tok::RParen) {
                return Err(bad_query("a '(' is not closed by ')'"));
            }
            return Ok(e);
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
                crate::path::FieldPath::parse(&w)?;
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

/// Parses a filter; an empty or blank text is no filter.
pub(crate) fn parse(s: &str) -> Result<Option<Expr>> {
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser { toks, pos: 0 };
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
mod tests {
    use super::*;
    use crate::types::RunState;
    use std::collections::HashMap;

    fn eval(q: &str, cells: &[(&str, RawValue)]) -> bool {
        let map: HashMap<&str, &RawValue> = cells.iter().map(|(k, v)| (*k, v)).collect();
        parse(q).unwrap().unwrap().eval(&|p| map.get(p).copied())
    }

    #[test]
    fn precedence_and_types() {
        let cells = [
            ("params/lr", RawValue::Float(0.01)),
            ("epochs", RawValue::Int(10)),
            ("opt", RawValue::Str("Adam".into())),
            ("sys/state", RawValue::State(RunState::Inactive)),
            ("sys/tags", RawValue::Set(vec!["a".into(), "b c".into()])),
            ("ok", RawValue::Bool(true)),
            ("when", RawValue::Time(1_000_000_000_000)),
        ];
        assert!(eval("params/lr < 0.1 AND epochs >= 10", &cells));
        assert!(eval("params/lr:float = 0.01", &cells));
        assert!(eval("params/lr > 1 OR epochs = 10 AND opt = Adam", &cells));
        assert!(!eval(
            "(params/lr > 1 OR epochs = 10) AND opt = 'SGD'",
            &cells
        ));
        assert!(eval(
            "sys/state = inactive and not sys/state = Active",
            &cells
        ));
        assert!(eval("sys/tags:stringSet CONTAINS \"b c\"", &cells));
        assert!(!eval("sys/tags CONTAINS b", &cells));
        assert!(eval("opt contains da", &cells));
        assert!(eval("ok = true AND ok != false", &cells));
        assert!(eval(
            "when < 2002-01-01 AND when > '2001-09-09T00:00:00Z'",
            &cells
        ));
        assert!(eval("EXISTS opt AND NOT missing EXISTS", &cells));
        assert!(!eval("missing = 1", &cells));
        assert!(eval("NOT missing = 1", &cells));
        assert!(
            !eval("epochs = '10'", &cells),
            "quoted text is not a number"
        );
        assert!(eval("`params/lr` <= 0.01", &cells));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (q, want) in [
            ("params/lr <", "expected a value"),
            ("params/lr 3", "expected an operator"),
            ("(a = 1", "not closed"),
            ("a = 1 b = 2", "join conditions"),
            ("a = 'x", "not closed"),
            ("and = 1", "keyword"),
            ("a//b = 1", "empty segment"),
        ] {
            let err = parse(q).unwrap_err().to_string();
            assert!(err.contains(want), "{q}: {err}");
        }
        assert_eq!(parse("  ").unwrap(), None);
    }
}
