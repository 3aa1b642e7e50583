//! The table filter language (see the [table module](super) for the grammar): parsing and
//! evaluation against the cells of one object.

use chrono::{DateTime, NaiveDate, Utc};

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
mod tests {
    use super::*;
    use crate::model::types::RunState;
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

/// Bounds on input: deep and wide queries give errors naming the limit, never a stack overflow.
#[cfg(test)]
mod limits {
    use super::*;

    fn err(q: &str) -> String {
        parse(q).unwrap_err().to_string()
    }

    #[test]
    fn deep_nesting_is_refused_with_the_limit() {
        let n = 10_000;
        let nots = format!("{}a = 1", "NOT ".repeat(n));
        assert!(
            err(&nots).contains("deeper than 64 levels"),
            "{}",
            err(&nots)
        );
        let parens = format!("{}a = 1{}", "(".repeat(n), ")".repeat(n));
        assert!(err(&parens).contains("deeper than 64 levels"));
        let open = "(".repeat(n);
        assert!(err(&open).contains("deeper than 64 levels"));
        let mixed = "NOT (".repeat(n);
        assert!(err(&mixed).contains("deeper than 64 levels"));
        // At the limit, it parses.
        let at = MAX_QUERY_DEPTH / 2;
        let ok = format!("{}a = 1{}", "NOT (".repeat(at), ")".repeat(at));
        let e = parse(&ok).unwrap().unwrap();
        assert_eq!(e.depth(), at + 1);
        assert!(
            !e.eval(&|_| None),
            "an even number of NOTs of a false condition"
        );
    }

    #[test]
    fn long_chains_are_flat_and_bounded() {
        let chain = |n: usize, op: &str| {
            (0..n)
                .map(|i| format!("x{i} = {i}"))
                .collect::<Vec<_>>()
                .join(op)
        };
        let e = parse(&chain(MAX_QUERY_CONDITIONS, " AND "))
            .unwrap()
            .unwrap();
        assert_eq!(e.depth(), 2, "one AND of every condition");
        let v = RawValue::Int(3);
        assert!(!e.eval(&|_| Some(&v)));
        let e = parse(&chain(MAX_QUERY_CONDITIONS, " OR "))
            .unwrap()
            .unwrap();
        assert_eq!(e.depth(), 2);
        assert!(e.eval(&|p| (p == "x3").then_some(&v)));
        let e = err(&chain(10_000, " AND "));
        assert!(e.contains("more than 1000 conditions"), "{e}");
        let e = err(&"x = 1 AND ".repeat(20_000));
        assert!(e.contains("more than 1000 conditions"), "{e}");
        let long = format!("a = '{}'", "x".repeat(MAX_QUERY_LEN));
        assert!(err(&long).contains("more than the limit of 262144"));
    }
}

/// Property tests: whatever the text, parsing returns (a filter or an error) without a panic,
/// and a filter's tree stays within the nesting bound.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// The deepest tree a query within the limits gives: each level of parentheses can add an
    /// OR and an AND, each NOT one level.
    const MAX_TREE_DEPTH: usize = 2 * (MAX_QUERY_DEPTH + 1) + 1;

    fn check(q: &str) {
        if let Ok(Some(e)) = parse(q) {
            assert!(e.depth() <= MAX_TREE_DEPTH, "{q}: depth {}", e.depth());
            let v = RawValue::Str("1".into());
            let _ = e.eval(&|_| Some(&v));
            let mut paths = Vec::new();
            e.paths(&mut paths);
            assert!(paths.len() <= MAX_QUERY_CONDITIONS);
        }
    }

    const TOKENS: &[&str] = &[
        "(",
        ")",
        "NOT",
        "not",
        "AND",
        "OR",
        "or",
        "EXISTS",
        "CONTAINS",
        "a",
        "b/c",
        "`a b`",
        "=",
        "==",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "!",
        "1",
        "-2.5e3",
        "'x'",
        "\"y\"",
        "'",
        "\"",
        "`",
        "\\",
        "true",
        "2024-01-01",
        "a:float",
        ":",
        "//",
        "sys/tags:stringSet",
    ];

    /// A filter as a tree, to render as text and evaluate directly.
    #[derive(Clone, Debug)]
    enum Gen {
        Cmp(u8, i8),
        Not(Box<Gen>),
        And(Vec<Gen>),
        Or(Vec<Gen>),
    }

    impl Gen {
        fn text(&self) -> String {
            match self {
                Gen::Cmp(p, v) => format!("p{p} > {v}"),
                Gen::Not(g) => format!("NOT ({})", g.text()),
                Gen::And(gs) => format!(
                    "({})",
                    gs.iter().map(Gen::text).collect::<Vec<_>>().join(" AND ")
                ),
                Gen::Or(gs) => format!(
                    "({})",
                    gs.iter().map(Gen::text).collect::<Vec<_>>().join(" OR ")
                ),
            }
        }

        fn eval(&self, cells: &[RawValue]) -> bool {
            match self {
                Gen::Cmp(p, v) => {
                    matches!(cells[*p as usize], RawValue::Int(x) if x > i64::from(*v))
                }
                Gen::Not(g) => !g.eval(cells),
                Gen::And(gs) => gs.iter().all(|g| g.eval(cells)),
                Gen::Or(gs) => gs.iter().any(|g| g.eval(cells)),
            }
        }
    }

    fn gen() -> impl Strategy<Value = Gen> {
        let leaf = (0u8..4, any::<i8>()).prop_map(|(p, v)| Gen::Cmp(p, v));
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                inner.clone().prop_map(|g| Gen::Not(Box::new(g))),
                prop::collection::vec(inner.clone(), 1..6).prop_map(Gen::And),
                prop::collection::vec(inner, 1..6).prop_map(Gen::Or),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_text_parses_or_fails_cleanly(q in any::<String>()) {
            check(&q);
        }

        #[test]
        fn any_token_soup_parses_or_fails_cleanly(
            toks in prop::collection::vec(prop::sample::select(TOKENS), 0..400)
        ) {
            check(&toks.join(" "));
            check(&toks.concat());
        }

        #[test]
        fn deep_and_wide_structures_are_bounded(
            depth in 0usize..3000,
            width in 1usize..3000,
            kinds in prop::collection::vec(0u8..3, 1..8),
            join in prop::sample::select(&[" AND ", " OR ", " and ", " AND NOT "][..]),
        ) {
            // Levels of NOT, ( and NOT ( in turn, around a chain of `width` conditions.
            let mut open = String::new();
            let mut close = String::new();
            let mut levels = 0;
            for i in 0..depth {
                match kinds[i % kinds.len()] {
                    0 => { open.push_str("NOT "); levels += 1; }
                    1 => { open.push('('); close.push(')'); levels += 1; }
                    _ => { open.push_str("NOT ("); close.push(')'); levels += 2; }
                }
            }
            let chain = (0..width).map(|i| format!("f{i} = {i}")).collect::<Vec<_>>().join(join);
            let q = format!("{open}{chain}{close}");
            let not_terms = usize::from(join == " AND NOT " && width > 1);
            let within = levels + not_terms <= MAX_QUERY_DEPTH && width <= MAX_QUERY_CONDITIONS;
            match parse(&q) {
                Ok(Some(e)) => {
                    prop_assert!(within);
                    prop_assert!(e.depth() <= MAX_TREE_DEPTH);
                }
                Ok(None) => prop_assert!(false, "a non-empty query gave no filter"),
                Err(e) => {
                    let m = e.to_string();
                    prop_assert!(!within, "{m}");
                    prop_assert!(
                        m.contains("deeper than 64 levels")
                            || m.contains("more than 1000 conditions"),
                        "{m}"
                    );
                }
            }
        }

        #[test]
        fn the_parsed_filter_means_what_the_text_says(
            g in gen(),
            cells in prop::collection::vec(any::<i8>(), 4),
        ) {
            let cells: Vec<RawValue> = cells.into_iter().map(|v| RawValue::Int(v.into())).collect();
            let e = parse(&g.text()).unwrap().unwrap();
            let get = |p: &str| -> Option<&RawValue> {
                p.strip_prefix('p').and_then(|i| i.parse::<usize>().ok()).map(|i| &cells[i])
            };
            prop_assert_eq!(e.eval(&get), g.eval(&cells));
        }
    }
}
