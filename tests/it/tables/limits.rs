//! Queries too deep or too large: errors naming the limit.

use super::*;

/// Issue 9: a query nested thousands of levels deep, or with thousands of terms, columns or
/// ids, is an `Err` naming the limit (checked before anything is read), never a crash; wide
/// queries within the limits give the right table.
#[test]
fn deep_and_huge_queries_are_errors_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let [r1, r2, r3, _] = four_runs(&store);
    let project = Project::builder()
        .home(dir.path())
        .project(PROJECT)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let n = 10_000;
    let refused = |q: TableQuery, want: &str| {
        let e = project.fetch_runs_table(q).unwrap_err().to_string();
        assert!(e.contains(want), "{want}: {e}");
        assert!(!e.contains(&*dir.path().to_string_lossy()), "{e}");
    };
    let deep = "deeper than 64 levels";
    refused(TableQuery::new().query("NOT ".repeat(n) + "x = 1"), deep);
    refused(
        TableQuery::new().query(format!("{}x = 1{}", "(".repeat(n), ")".repeat(n))),
        deep,
    );
    refused(TableQuery::new().query("NOT (".repeat(n)), deep);
    refused(
        TableQuery::new().query(vec!["x = 1"; 10_000].join(" AND ")),
        "more than 1000 conditions",
    );
    refused(
        TableQuery::new().columns((0..20_000).map(|i| format!("c{i}"))),
        "20000 columns asked for, more than the limit of 10000",
    );
    refused(
        TableQuery::new().ids((0..40_000).map(|i| format!("X-{i}"))),
        "40000 ids asked for, more than the limit of 10000",
    );
    refused(
        TableQuery::new().tags((0..2_000).map(|i| format!("t{i}"))),
        "2000 tags asked for",
    );

    // Within the limits: a flat chain of 1,000 terms, 60 levels, thousands of columns and ids.
    let chain = (0..998)
        .map(|i| format!("NOT params/lr = {i}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let q = TableQuery::new().query(format!(
        "params/lr < 0.05 OR ({chain} AND params/lr > 0.05)"
    ));
    assert_eq!(
        sorted(runs(&store, q)),
        ids(&[&r1, &r2]),
        "the chain selects the runs with an lr"
    );
    let nested = format!(
        "{}params/lr < 0.05{}",
        "NOT (NOT (".repeat(15),
        "))".repeat(15)
    );
    assert_eq!(
        runs(&store, TableQuery::new().query(nested)),
        std::slice::from_ref(&r2)
    );
    let mut columns: Vec<String> = (0..5_000).map(|i| format!("c{i}")).collect();
    columns.push("params".into());
    let mut wanted: Vec<String> = (0..9_990).map(|i| format!("X-{i}")).collect();
    wanted.extend([r1.clone(), r3.clone()]);
    let t = store
        .fetch_table(
            &TableScope::runs(PROJECT),
            &TableQuery::new().columns(columns).ids(wanted),
        )
        .unwrap();
    assert_eq!(
        sorted(t.ids().into_iter().map(str::to_owned).collect()),
        ids(&[&r1, &r3])
    );
    assert_eq!(paths(&t), ["sys/creation_time", "sys/id", "params/lr"]);
}
