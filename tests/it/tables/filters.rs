//! Filters by tag, state, owner and id, the query language, sort and limit.

use super::*;

#[test]
fn filters_are_ored_within_a_group_and_anded_across() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let [r1, r2, r3, r4] = four_runs(&store);
    let q = TableQuery::new;

    // Default: trashed runs left out, newest first (creation ties broken by creation order).
    assert_eq!(runs(&store, q()), ord(&[&r3, &r2, &r1]));
    // ids ORed.
    assert_eq!(sorted(runs(&store, q().id(&r1).id(&r3))), ids(&[&r1, &r3]));
    // states ORed.
    assert_eq!(runs(&store, q().state(RunState::Active)), ord(&[&r2]));
    assert_eq!(
        sorted(runs(
            &store,
            q().state(RunState::Active).state(RunState::Inactive)
        )),
        ids(&[&r1, &r2, &r3])
    );
    // owners ORed.
    assert_eq!(
        sorted(runs(&store, q().owner("alice").owner("bob"))),
        ids(&[&r1, &r2])
    );
    // tags ANDed.
    assert_eq!(
        sorted(runs(&store, q().tag("a").tag("b"))),
        ids(&[&r1, &r3])
    );
    assert_eq!(runs(&store, q().tags(["c", "a"])), ord(&[&r3]));
    assert!(runs(&store, q().tag("a").tag("zzz")).is_empty());
    // Groups ANDed together, and with the query.
    assert_eq!(runs(&store, q().owner("alice").tag("a")), ord(&[&r1]));
    assert_eq!(
        runs(&store, q().ids(ord(&[&r1, &r2])).state(RunState::Inactive)),
        ord(&[&r1])
    );
    assert_eq!(
        runs(&store, q().tag("a").query("params/lr < 0.05")),
        ord(&[&r2])
    );
    assert!(runs(&store, q().owner("carol").tag("zzz")).is_empty());
    // Trashed: excluded by default, only them with Some(true), everything with None.
    assert_eq!(runs(&store, q().trashed(Some(true))), ord(&[&r4]));
    assert_eq!(
        sorted(runs(&store, q().trashed(None))),
        ids(&[&r1, &r2, &r3, &r4])
    );
    assert_eq!(
        runs(&store, q().trashed(None).owner("alice").tag("b")),
        ord(&[&r4, &r1])
    );
}

#[test]
fn the_query_language_filters_on_the_cells() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let [r1, r2, r3, _] = four_runs(&store);
    let q = |s: &str| sorted(runs(&store, TableQuery::new().query(s)));
    assert_eq!(
        q("params/lr >= 0.01 AND params/lr <= 0.1"),
        ids(&[&r1, &r2])
    );
    assert_eq!(
        q("params/lr:float = 0.1 OR sys/owner = carol"),
        ids(&[&r1, &r3])
    );
    assert_eq!(q("NOT EXISTS params/lr"), ids(&[&r3]));
    assert_eq!(q("sys/tags:stringSet CONTAINS \"c\""), ids(&[&r3]));
    assert_eq!(q("sys/state = active"), ids(&[&r2]));
    assert_eq!(q("sys/owner CONTAINS aro"), ids(&[&r3]));
    assert_eq!(
        q("(sys/owner = bob OR sys/owner = alice) AND NOT sys/state = Active"),
        ids(&[&r1])
    );
    assert_eq!(q("sys/creation_time > 2001-01-01"), ids(&[&r1, &r2, &r3]));
    assert!(q("sys/creation_time < '2001-01-01T00:00:00Z'").is_empty());
    assert_eq!(q(""), ids(&[&r1, &r2, &r3]));
    for (bad, says) in [
        ("params/lr <", "expected a value"),
        ("params/lr 0.1", "expected an operator"),
        ("(params/lr > 1", "not closed"),
    ] {
        let err = store
            .fetch_table(&TableScope::runs(PROJECT), &TableQuery::new().query(bad))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidValue { .. }) && err.to_string().contains(says),
            "{bad}: {err}"
        );
    }
}

#[test]
fn sort_limit_and_missing_values() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let [r1, r2, r3, _] = four_runs(&store);
    let q = || TableQuery::new().sort_by("params/lr");
    // Descending by default; runs without the sort field come last in both directions.
    assert_eq!(runs(&store, q()), ord(&[&r1, &r2, &r3]));
    assert_eq!(runs(&store, q().ascending(true)), ord(&[&r2, &r1, &r3]));
    assert_eq!(runs(&store, q().ascending(true).limit(1)), ord(&[&r2]));
    assert_eq!(
        runs(&store, TableQuery::new().ascending(true)),
        ord(&[&r1, &r2, &r3])
    );
    assert_eq!(runs(&store, TableQuery::new().limit(2)), ord(&[&r3, &r2]));
    // Sorting by text.
    assert_eq!(
        runs(
            &store,
            TableQuery::new().sort_by("sys/owner").ascending(true)
        ),
        ord(&[&r1, &r2, &r3])
    );
    let err = store
        .fetch_table(
            &TableScope::runs(PROJECT),
            &TableQuery::new().sort_by("params/nope"),
        )
        .unwrap_err();
    assert!(err.to_string().contains("params/nope"), "{err}");
    let err = store
        .fetch_table(&TableScope::runs(PROJECT), &TableQuery::new().limit(0))
        .unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
}
