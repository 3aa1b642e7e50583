//! Tables of models and model versions, and the same table from the memory backend.

use super::*;

#[test]
fn models_and_model_versions_tables() {
    let dir = tempfile::tempdir().unwrap();
    let open_model = |key: &str| {
        Model::builder()
            .home(dir.path())
            .project(PROJECT)
            .key(key)
            .open()
            .unwrap()
    };
    let forest = open_model("FOREST");
    let _svm = open_model("SVM");
    forest.field("kind").assign("trees").unwrap();
    forest.wait().unwrap();
    let mut versions = Vec::new();
    for acc in [0.5, 0.9, 0.7] {
        let v = ModelVersion::builder()
            .home(dir.path())
            .project(PROJECT)
            .model(forest.id())
            .open()
            .unwrap();
        v.field("val/acc").assign(acc).unwrap();
        v.stop().unwrap();
        versions.push(v.id().to_owned());
    }
    let project = Project::builder()
        .home(dir.path())
        .project(PROJECT)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let models = project.fetch_models_table(TableQuery::new()).unwrap();
    assert_eq!(models.ids(), ["TAB-SVM", "TAB-FOREST"]);
    assert_eq!(models.cell(1, "kind"), Some(&Cell::String("trees".into())));
    assert!(project
        .fetch_runs_table(TableQuery::new())
        .unwrap()
        .is_empty());

    let t = forest
        .fetch_model_versions_table(TableQuery::new().sort_by("val/acc"))
        .unwrap();
    assert_eq!(t.ids(), [&versions[1], &versions[2], &versions[0]]);
    assert_eq!(t.cell(0, "val/acc"), Some(&Cell::Float(0.9)));
    assert_eq!(
        t.cell(0, "sys/model_id"),
        Some(&Cell::String("TAB-FOREST".into()))
    );
    let store = Store::open(dir.path()).unwrap();
    let err = store
        .fetch_table(
            &TableScope::model_versions(PROJECT, "TAB-NOPE"),
            &TableQuery::new(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("TAB-NOPE"), "{err}");
    let err = store
        .fetch_table(&TableScope::runs("team/none"), &TableQuery::new())
        .unwrap_err();
    assert!(err.to_string().contains("team/none"), "{err}");
}

#[test]
fn the_memory_backend_gives_the_same_table_and_progress_is_reported() {
    let mem = Arc::new(MemoryBackend::new());
    for lr in [0.1, 0.2] {
        let run = Run::builder()
            .backend(mem.clone())
            .project(PROJECT)
            .git_ref(GitRef::Disabled)
            .tags(["t"])
            .open()
            .unwrap();
        run.field("params/lr").assign(lr).unwrap();
        run.stop().unwrap();
    }
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let progress = ProgressBar::Callback(Arc::new(move |done, total| {
        seen.lock().unwrap().push((done, total));
    }));
    let project = Project::builder()
        .backend(mem.clone())
        .project(PROJECT)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let t = project
        .fetch_runs_table(
            TableQuery::new()
                .sort_by("params/lr")
                .ascending(true)
                .progress_bar(progress),
        )
        .unwrap();
    assert_eq!(t.ids(), ["TAB-1", "TAB-2"]);
    assert_eq!(
        t.column("params/lr").unwrap(),
        [Some(&Cell::Float(0.1)), Some(&Cell::Float(0.2))]
    );
    assert_eq!(calls.lock().unwrap().last(), Some(&(2, 2)));
}
