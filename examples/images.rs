//! Logs images and a model file from a small training loop: a 2-D point classifier trained by
//! gradient descent, its decision map as an image per epoch (a FileSeries), a loss chart (an
//! HTML file), the trained weights (a File, serialized), the dataset (an Artifact) and the
//! script itself (a FileSet). Then reads everything back.
//!
//! ```text
//! cargo run --example images
//! ```
//! Data goes to `./.neptune` (or `NEPTUNE_HOME`); set `NEPTUNE_MODE=debug` to keep it in memory.

use neptune::{File, FileLogOptions, LineChart, Run};

/// A logistic-regression model on (x, y) points.
#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Model {
    w: [f64; 2],
    b: f64,
}

impl Model {
    fn predict(&self, p: [f64; 2]) -> f64 {
        let z = self.w[0] * p[0] + self.w[1] * p[1] + self.b;
        1.0 / (1.0 + (-z).exp())
    }
}

/// Points above the line y = 0.5 x + 0.1 are class 1 (a small deterministic data set).
fn dataset() -> Vec<([f64; 2], f64)> {
    let mut seed = 42u64;
    let mut rand = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..200)
        .map(|_| {
            let p = [rand() * 2.0 - 1.0, rand() * 2.0 - 1.0];
            (p, if p[1] > 0.5 * p[0] + 0.1 { 1.0 } else { 0.0 })
        })
        .collect()
}

/// The model's probability over [-1, 1]², as a 64×64 RGB image (red: class 0, blue: class 1).
fn decision_map(m: &Model) -> Vec<f32> {
    let n = 64;
    let mut pixels = Vec::with_capacity(n * n * 3);
    for row in 0..n {
        for col in 0..n {
            let p = [
                col as f64 / (n - 1) as f64 * 2.0 - 1.0,
                1.0 - row as f64 / (n - 1) as f64 * 2.0,
            ];
            let q = m.predict(p) as f32;
            pixels.extend([1.0 - q, 0.2, q]); // values in [0, 1]: autoscaled to [0, 255]
        }
    }
    pixels
}

fn main() -> neptune::Result<()> {
    let run = Run::builder()
        .name("images example")
        .tags(["example", "images"])
        .open()?;
    println!("logging to {}", run.id());

    // The dataset, tracked as an artifact (hashed, not uploaded).
    let data = dataset();
    let data_dir =
        std::env::temp_dir().join(format!("neptune-images-example-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).map_err(|e| neptune::Error::Io {
        context: "creating the data folder".into(),
        source: e,
    })?;
    let csv: String = data
        .iter()
        .map(|(p, y)| format!("{},{},{}\n", p[0], p[1], y))
        .collect();
    std::fs::write(data_dir.join("train.csv"), csv).map_err(|e| neptune::Error::Io {
        context: "writing the data set".into(),
        source: e,
    })?;
    run.field("datasets/train")
        .track_files(data_dir.to_str().unwrap_or("."), None)?;

    let lr = 0.5;
    run.field("params/lr").assign(lr)?;
    let loss_series = run.field("train/loss").float_series()?;
    let maps = run.field("train/decision_map").file_series()?;
    let mut model = Model {
        w: [0.0, 0.0],
        b: 0.0,
    };
    for epoch in 0..20 {
        let (mut gw, mut gb, mut loss) = ([0.0, 0.0], 0.0, 0.0);
        for (p, y) in &data {
            let q = model.predict(*p);
            loss -= y * q.max(1e-9).ln() + (1.0 - y) * (1.0 - q).max(1e-9).ln();
            gw[0] += (q - y) * p[0];
            gw[1] += (q - y) * p[1];
            gb += q - y;
        }
        let n = data.len() as f64;
        model.w[0] -= lr * gw[0] / n;
        model.w[1] -= lr * gw[1] / n;
        model.b -= lr * gb / n;
        loss_series.append(loss / n)?;
        if epoch % 5 == 4 {
            let image = File::as_image_array(&decision_map(&model), &[64, 64, 3], true)?;
            maps.append_with(
                image,
                FileLogOptions::new()
                    .step(epoch)
                    .name(format!("epoch {epoch}"))
                    .description(format!("loss {:.4}", loss / n)),
            )?;
        }
    }

    // The trained model as a file, a loss chart, and this script as a file set.
    run.field("model/weights")
        .upload(File::as_serialized(&model)?)?;
    let chart = LineChart::new("training loss").series("train", &loss_series.fetch_values()?);
    run.field("train/loss_chart")
        .upload(File::as_html(&chart))?;
    run.field("source_code/files")
        .upload_files(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/images.rs"))?;
    run.wait()?;

    // Read back.
    let back: Model = run.field("model/weights").file()?.fetch_serialized()?;
    assert_eq!(back, model);
    let out = data_dir.join("downloads");
    let images = maps.download_to(&out)?;
    println!(
        "model {back:?}; {} decision maps downloaded to {}",
        images.len(),
        out.display()
    );
    println!(
        "dataset version {}",
        run.field("datasets/train").fetch_hash()?
    );
    run.stop()?;
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
}
