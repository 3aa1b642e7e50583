//! Tests of the filter language: meanings, errors, bounds on input, and properties.

mod basics {
    use super::super::*;
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
mod limits {
    use super::super::*;

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
mod props {
    use super::super::*;
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
