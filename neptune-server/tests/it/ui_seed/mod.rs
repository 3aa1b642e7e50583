//! Runs for the UI's tests, benchmarks and screenshots: metrics, parameters, logs, images,
//! HTML and text files, and hostile strings (`<script>` in a name, a tag and a value).
#![allow(dead_code)]

use std::path::Path;

use neptune_core::{File, Run};

/// The project the seeded runs are in.
pub const PROJECT: &str = "team/vision";
/// The name of the run whose strings try to inject markup.
pub const HOSTILE_NAME: &str = "<script>window.__pwned=1</script>";

/// A 32×32 RGB gradient, shifted by `k`.
fn picture(k: usize) -> Vec<f32> {
    let mut px = Vec::with_capacity(32 * 32 * 3);
    for r in 0..32 {
        for c in 0..32 {
            px.extend([
                ((r + k * 7) % 32) as f32 / 31.0,
                c as f32 / 31.0,
                ((k * 5) % 8) as f32 / 7.0,
            ]);
        }
    }
    px
}

/// Opens a run of [`PROJECT`] in the store at `home`.
pub fn open(home: &Path, name: &str, tags: &[&str]) -> Run {
    Run::builder()
        .home(home)
        .project(PROJECT)
        .name(name)
        .tags(tags.iter().copied())
        .open()
        .expect("open a run")
}

/// Logs `runs` finished runs with `points` points per training series; returns their ids.
pub fn seed(home: &Path, runs: usize, points: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..runs {
        let hostile = i == 1;
        let name = if hostile {
            HOSTILE_NAME.to_owned()
        } else {
            format!("resnet-{i}")
        };
        let tags: Vec<&str> = match i % 3 {
            0 => vec!["baseline"],
            1 => vec!["<b>bold</b>", "sweep"],
            _ => vec!["sweep"],
        };
        let run = open(home, &name, &tags);
        let f = |p: &str| run.field(p);
        f("params/lr").assign(0.001 * (i + 1) as f64).unwrap();
        f("params/batch_size")
            .assign(32 * (1 + i % 4) as i64)
            .unwrap();
        f("params/optimizer")
            .assign(if hostile {
                "<img src=x onerror=window.__pwned=2>"
            } else if i % 2 == 0 {
                "adam"
            } else {
                "sgd"
            })
            .unwrap();
        f("params/seed").assign(7i64).unwrap();
        let loss = f("train/loss").float_series().unwrap();
        let acc = f("train/acc").float_series().unwrap();
        let rate = 1.0 + i as f64 * 0.35;
        for s in 0..points {
            let t = s as f64 / points.max(1) as f64;
            let noise = ((s * 7919 + i * 104_729) % 1000) as f64 / 1000.0 - 0.5;
            loss.append(2.5 * (-rate * 4.0 * t).exp() + 0.05 * noise + 0.1)
                .unwrap();
            acc.append(1.0 - 0.9 * (-rate * 3.0 * t).exp() + 0.01 * noise)
                .unwrap();
        }
        let eval = f("eval/acc").float_series().unwrap();
        for e in 0..50 {
            eval.append(0.5 + 0.4 * (1.0 - (-(e as f64) / (8.0 + i as f64)).exp()))
                .unwrap();
        }
        let log = f("logs/stdout").string_series().unwrap();
        for l in 0..300 {
            log.append(format!("epoch {} step {} loss ok", l / 30, l * 10))
                .unwrap();
        }
        log.append("<script>window.__pwned=3</script> done")
            .unwrap();
        f("samples/preview")
            .upload(File::as_image_array(&picture(i), &[32, 32, 3], true).unwrap())
            .unwrap();
        f("reports/page")
            .upload(
                File::from_content(
                    "<html><body><h3>report</h3><script>parent.window.__pwned=4;\
                     document.body.append('script ran')</script></body></html>",
                )
                .with_extension("html"),
            )
            .unwrap();
        f("data/summary")
            .upload(File::from_content("epoch,loss\n0,2.5\n1,1.1\n2,0.7\n").with_extension("csv"))
            .unwrap();
        let maps = f("train/maps").file_series().unwrap();
        for k in 0..3 {
            maps.append(File::as_image_array(&picture(i + k * 3), &[32, 32, 3], true).unwrap())
                .unwrap();
        }
        ids.push(run.id().to_owned());
        run.stop().unwrap();
    }
    ids
}
