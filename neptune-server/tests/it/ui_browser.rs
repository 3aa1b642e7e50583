//! The web UI in a real browser: headless Chromium driven through WebDriver against the real
//! `neptune-server` binary on a loopback port (run through scripts/test, which installs
//! Debian's chromium and chromium-driver). Screenshots go to `target/ui-screenshots/`.

mod pages;
mod runs;
mod webdriver;

use crate::{common, ui_seed};

use std::path::Path;

use common::Server;
use serde_json::json;
use ui_seed::{HOSTILE_NAME, PROJECT};
use webdriver::Browser;

/// A server on a seeded store, and a browser signed in with a token of `scope`.
fn setup(data: &Path, runs: usize, scope: &str) -> (Server, Browser, Vec<String>) {
    let ids = ui_seed::seed(data, runs, 5_000);
    let server = Server::start(data);
    let token = common::token(data, PROJECT, scope);
    let b = Browser::start();
    sign_in(&b, &server, &token);
    (server, b, ids)
}

fn sign_in(b: &Browser, server: &Server, token: &str) {
    b.go(&format!("{}/runs?project={PROJECT}", server.url));
    assert!(
        b.url().ends_with("/signin"),
        "not asked for a token: {}",
        b.url()
    );
    b.type_into("#token", token);
    b.click("#signin");
    b.wait_for(
        "the projects page",
        "document.querySelector('#projects') !== null",
    );
}

fn runs_url(server: &Server, extra: &str) -> String {
    format!(
        "{}/runs?project={}{extra}",
        server.url,
        PROJECT.replace('/', "%2F")
    )
}

fn row_ids(b: &Browser) -> Vec<String> {
    serde_json::from_value(b.js(
        "return Array.from(document.querySelectorAll('#runs tbody tr')).map(r => r.dataset.id)",
        json!([]),
    ))
    .unwrap()
}

#[test]
fn runs_table_query_sort_compare_and_zoom() {
    let data = tempfile::tempdir().unwrap();
    let (server, b, ids) = setup(data.path(), 6, "read");
    b.screenshot("projects");

    // The table shows every logged run, newest first.
    b.go(&runs_url(&server, "&cols=train/loss,params/lr"));
    let mut shown = row_ids(&b);
    assert_eq!(shown.len(), 6);
    shown.reverse();
    assert_eq!(shown, ids);
    b.screenshot("runs");

    // `<script>` in a name, a tag and a value shows as text and runs nothing.
    let text = b.js(
        "return document.querySelector('#runs').textContent",
        json!([]),
    );
    assert!(text.as_str().unwrap().contains(HOSTILE_NAME), "{text}");
    assert!(text.as_str().unwrap().contains("<b>bold</b>"), "{text}");
    assert_eq!(
        b.js(
            "return document.querySelectorAll('#runs b, #runs script').length",
            json!([])
        ),
        0
    );
    assert_eq!(b.js("return window.__pwned === undefined", json!([])), true);

    // Paged on the server: 4 rows, then the other 2.
    b.go(&runs_url(&server, "&size=4"));
    assert_eq!(row_ids(&b).len(), 4);
    b.click("#next");
    b.wait_for("page 2", "location.search.includes('page=1')");
    assert_eq!(row_ids(&b), vec![ids[1].clone(), ids[0].clone()]);

    // A query narrows it (typed into the form, as a person would).
    b.go(&runs_url(&server, "&cols=train/loss,params/lr"));
    b.type_into("#q", "params/lr > 0.0035");
    b.click("#apply");
    b.wait_for(
        "the filtered table",
        "document.querySelectorAll('#runs tbody tr').length === 3",
    );
    assert!(
        b.url().contains("q=params%2Flr"),
        "the query is not in the URL: {}",
        b.url()
    );
    let mut want: Vec<String> = ids[3..].to_vec();
    want.reverse();
    assert_eq!(row_ids(&b), want);

    // Sorting by a metric orders it; a second click reverses.
    b.go(&runs_url(&server, "&cols=train/loss"));
    b.click("th[data-path='train/loss'] a");
    b.wait_for(
        "sorted by train/loss",
        "location.search.includes('sort=train%2Floss')",
    );
    let col = "Array.from(document.querySelectorAll('#runs tbody tr')).map(r => parseFloat(r.children[Array.from(document.querySelectorAll('#runs th')).findIndex(h => h.dataset.path === 'train/loss')].textContent))";
    let values: Vec<f64> =
        serde_json::from_value(b.js(&format!("return {col}"), json!([]))).unwrap();
    assert_eq!(values.len(), 6);
    assert!(
        values.windows(2).all(|w| w[0] >= w[1]),
        "not descending: {values:?}"
    );
    b.click("th[data-path='train/loss'] a");
    b.wait_for("ascending", "location.search.includes('asc=1')");
    let values: Vec<f64> =
        serde_json::from_value(b.js(&format!("return {col}"), json!([]))).unwrap();
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "not ascending: {values:?}"
    );

    // Three selected runs → Compare: three series on every chart.
    for id in &ids[..3] {
        b.click(&format!("#runs input[value='{id}']"));
    }
    b.click("#compare");
    b.wait_for("the charts", "window.neptune && window.neptune.ready");
    let charts = b.js(
        "const c = window.neptune.charts; return Object.keys(c).map(k => [k, c[k].lines, c[k].u.data.length, c[k].points])",
        json!([]),
    );
    let charts = charts.as_array().unwrap();
    assert_eq!(charts.len(), 3, "{charts:?}");
    for c in charts {
        assert_eq!(c[1], 3, "chart {c}: not three lines");
        assert_eq!(c[2], 4, "chart {c}: x and three series");
    }
    b.screenshot("compare");

    // Drag-zoom on train/loss fetches the range again, and only that range.
    let box_css = ".chart[data-path='train/loss'] .u-over";
    b.drag(box_css, 0.2, 0.4);
    b.wait_for(
        "the zoomed fetch",
        "window.neptune.charts['train/loss'].fetches === 2",
    );
    let z = b.js(
        "const c = window.neptune.charts['train/loss']; return [c.range, c.u.data[0][0], c.u.data[0][c.u.data[0].length - 1], c.exact]",
        json!([]),
    );
    let (lo, hi) = (z[0][0].as_f64().unwrap(), z[0][1].as_f64().unwrap());
    assert!(lo > 500.0 && hi < 2_500.0 && lo < hi, "zoom range {z}");
    assert!(
        z[1].as_f64().unwrap() >= lo.floor() && z[2].as_f64().unwrap() <= hi.ceil(),
        "data outside the zoom: {z}"
    );
    assert_eq!(
        b.js(
            "const c = window.neptune.charts; return [c['eval/acc'].range, c['train/acc'].fetches]",
            json!([])
        ),
        json!([null, 1]),
        "a drag zooms only its own chart"
    );
    b.screenshot("compare-zoomed");

    // The parameters table highlights what differs, and "only differences" hides the rest.
    let rows = b.js("return [document.querySelectorAll('#params tr.differs').length, document.querySelectorAll('#params tr.same').length]", json!([]));
    assert!(
        rows[0].as_u64().unwrap() >= 2 && rows[1].as_u64().unwrap() >= 1,
        "{rows}"
    );
    b.click("#only-diff");
    assert!(b.url().contains("diff=1"));
    let hidden = b.js(
        "return getComputedStyle(document.querySelector('#params tr.same')).display",
        json!([]),
    );
    assert_eq!(hidden, "none");
    assert_eq!(b.js("return window.__pwned === undefined", json!([])), true);
}

#[test]
fn run_page_previews_are_safe_and_live_charts_grow() {
    let data = tempfile::tempdir().unwrap();
    let (server, b, ids) = setup(data.path(), 2, "read");
    // The hostile run: its files, logs and values.
    b.go(&format!("{}/run/{}", server.url, ids[1]));
    b.wait_for("the image preview", "(() => { const i = document.querySelector('section.file img.preview'); return i && i.complete && i.naturalWidth === 32; })()");
    b.wait_for(
        "the log view",
        "document.querySelector('.log-lines').textContent.includes('epoch 9')",
    );
    let title = b.js(
        "return document.querySelector('#run-name').textContent",
        json!([]),
    );
    assert_eq!(title, HOSTILE_NAME);
    // The stored HTML is framed in a sandbox: it cannot reach the page.
    b.wait_for(
        "the HTML frame",
        "document.querySelector('iframe.preview') !== null",
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        b.js("const f = document.querySelector('iframe.preview'); let reach; try { reach = f.contentDocument === null ? 'none' : 'reachable'; } catch (e) { reach = 'none'; } return [f.getAttribute('sandbox'), reach, window.__pwned === undefined]", json!([])),
        json!(["", "none", true])
    );
    // Opened on its own, its scripts do not run either (CSP sandbox on the file itself).
    let frame_src = b.js(
        "return document.querySelector('iframe.preview').src",
        json!([]),
    );
    b.go(frame_src.as_str().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        b.js(
            "return document.body.innerText.includes('script ran')",
            json!([])
        ),
        false
    );
    b.go(&format!("{}/run/{}", server.url, ids[1]));
    b.wait_for("charts", "window.neptune && window.neptune.ready");
    b.screenshot("run");

    // A live run: its chart grows while this test appends.
    let run = ui_seed::open(data.path(), "live", &["live"]);
    let s = run.field("train/live").float_series().unwrap();
    for i in 0..100 {
        s.append(i as f64).unwrap();
    }
    run.wait().unwrap();
    b.go(&format!("{}/run/{}", server.url, run.id()));
    b.wait_for("the live chart", "window.neptune && window.neptune.ready && window.neptune.charts['train/live'].points[0] === 100");
    assert_eq!(
        b.js(
            "return document.querySelector('#run-state .badge').dataset.state",
            json!([])
        ),
        "Active"
    );
    for i in 100..250 {
        s.append(i as f64).unwrap();
    }
    run.wait().unwrap();
    b.wait_for(
        "the chart to grow",
        "window.neptune.charts['train/live'].points[0] === 250",
    );
    b.screenshot("run-live");
    run.stop().unwrap();
    b.wait_for(
        "the badge to leave live",
        "document.querySelector('#run-state .badge').dataset.state === 'Inactive'",
    );
}

#[test]
fn a_read_token_cannot_edit_and_a_write_token_can() {
    let data = tempfile::tempdir().unwrap();
    let (server, b, ids) = setup(data.path(), 1, "read");
    let run = format!("{}/run/{}", server.url, ids[0]);
    b.go(&run);
    assert_eq!(
        b.js(
            "return document.querySelector('#edit-form') === null",
            json!([])
        ),
        true
    );
    // A POST from the page itself (right Origin, the session cookie) is still refused.
    let status = webdriver_async(&b, "fetch(location.pathname + '/edit', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'name=x&description=&tags=hacked'}).then(r => r.status)");
    assert_eq!(status, 403);
    b.go(&run);
    assert!(!b
        .js(
            "return document.querySelector('#run-tags').textContent",
            json!([])
        )
        .as_str()
        .unwrap()
        .contains("hacked"));
    b.screenshot("run-read-only");

    // Sign out; a write token may edit the tags.
    b.click("header form button");
    b.wait_for("the sign-in page", "location.pathname === '/signin'");
    b.screenshot("signin");
    let write = common::token(data.path(), PROJECT, "write");
    b.type_into("#token", &write);
    b.click("#signin");
    b.wait_for("signed in", "document.querySelector('#projects') !== null");
    b.go(&run);
    b.click("details.edit summary");
    b.type_into("#edit-tags", "baseline, reviewed");
    b.click("#save");
    b.wait_for(
        "the new tag",
        "document.querySelector('#run-tags').textContent.includes('reviewed')",
    );
    b.screenshot("run-edited");
    // A cross-site form post (no matching Origin) is refused even with the cookie's session.
    let r = common::raw_with(
        &server.addr,
        "POST",
        &format!("/run/{}/edit", ids[0]),
        None,
        b"name=x&description=&tags=evil",
        &[("Origin", "http://evil.example")],
    );
    assert!(r.status == 403 || r.status == 303, "status {}", r.status);
}

/// Runs a promise-returning expression in the page and returns its value.
fn webdriver_async(b: &Browser, expr: &str) -> serde_json::Value {
    b.js(
        &format!("return (async () => {{ return await ({expr}); }})()"),
        json!([]),
    )
}
