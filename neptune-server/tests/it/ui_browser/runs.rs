//! The runs table in a real browser: tag chips that filter, and Active rows updated in place.

use serde_json::json;

use super::{row_ids, runs_url, setup};
use crate::ui_seed;

#[test]
fn a_tag_chip_filters_and_active_rows_update_in_place() {
    let data = tempfile::tempdir().unwrap();
    let (server, b, ids) = setup(data.path(), 6, "read");

    // A click on a row's tag chip keeps the runs with that tag; the filter is in the URL.
    b.go(&runs_url(&server, ""));
    assert_eq!(row_ids(&b).len(), 6);
    b.click(&format!("#runs tr[data-id='{}'] a.chip", ids[0]));
    b.wait_for(
        "the tag filter",
        "location.search.includes('tags=baseline')",
    );
    assert_eq!(row_ids(&b), vec![ids[3].clone(), ids[0].clone()]);
    assert_eq!(
        b.js(
            "return [document.querySelector('#tag-filter').textContent.includes('baseline'), document.querySelectorAll('#runs a.chip.on').length]",
            json!([])
        ),
        json!([true, 2])
    );
    b.screenshot("runs-tag-filter");
    // A second chip narrows further (tags are ANDed): no run has both.
    b.go(&runs_url(&server, "&tags=sweep"));
    assert_eq!(row_ids(&b).len(), 4);
    b.click(&format!("#runs tr[data-id='{}'] a.chip:not(.on)", ids[1]));
    b.wait_for("two tags", "location.search.includes('tags=sweep%2C')");
    assert_eq!(row_ids(&b), vec![ids[4].clone(), ids[1].clone()]);
    // The chip above the table takes its tag out again.
    b.click("#tag-filter a.chip:last-of-type");
    b.wait_for(
        "one tag left",
        "document.querySelectorAll('#runs tbody tr').length === 4",
    );

    // An Active run's row follows its writes without a reload.
    let run = ui_seed::open(data.path(), "live", &["live"]);
    let s = run.field("train/live").float_series().unwrap();
    for i in 0..10 {
        s.append(i as f64).unwrap();
    }
    run.wait().unwrap();
    b.go(&runs_url(&server, "&cols=train/live"));
    let cell = format!(
        "(() => {{ const tr = document.querySelector(\"#runs tr[data-id='{}']\"); \
         const i = Array.from(document.querySelectorAll('#runs th')).findIndex(h => h.dataset.path === 'train/live'); \
         return tr ? [tr.dataset.state, tr.children[i].textContent] : null; }})()",
        run.id()
    );
    assert_eq!(
        b.js(&format!("return {cell}"), json!([])),
        json!(["Active", "9"])
    );
    b.js("window.__same_page = 1; return 0", json!([]));
    for i in 10..50 {
        s.append(i as f64).unwrap();
    }
    run.wait().unwrap();
    b.wait_for(
        "the row to update",
        &format!("(() => {{ const c = {cell}; return c && c[1] === '49'; }})()"),
    );
    b.screenshot("runs-live");
    run.stop().unwrap();
    b.wait_for(
        "the row to leave Active",
        &format!("(() => {{ const c = {cell}; return c && c[0] === 'Inactive'; }})()"),
    );
    assert_eq!(
        b.js(
            "return [window.__same_page, window.neptune.rowPolls >= 2, document.querySelector(\"#runs td[data-state] .badge\") !== null]",
            json!([])
        ),
        json!([1, true, true]),
        "the page was reloaded or never polled"
    );
}
