//! A typed append through a `#[derive(Loggable)]` handle next to the untyped handler.
//!
//! `cargo bench --bench typed_append` (async mode, into the embedded store in a temp dir).
//! The typed call is the bound `FloatSeriesHandle` itself (the same type core's
//! `float_series()` gives, measured next to it): no path parsing, no lookup and no allocation
//! per call. The untyped calls parse the path and look the series up every time.

// criterion_group! defines a public fn; a benchmark binary has no API to document.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use neptune::{FloatSeries, Loggable, Mode, Run};

#[derive(Loggable)]
struct Train {
    loss: FloatSeries,
}

#[derive(Loggable)]
struct Metrics {
    train: Train,
}

fn typed_append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = Run::builder()
        .home(dir.path())
        .mode(Mode::Async)
        .open()
        .expect("run");
    let plain = run
        .field("plain/train/loss")
        .float_series()
        .expect("series");
    let mut w = 0.0;
    c.bench_function("typed_append/core_float_series_handle", |b| {
        b.iter(|| {
            w += 1.0;
            plain.append(std::hint::black_box(w))
        })
    });
    let h = run.bind::<Metrics>("typed").expect("bind");
    let mut x = 0.0;
    c.bench_function("typed_append/derive_handle", |b| {
        b.iter(|| {
            x += 1.0;
            h.train.loss.append(std::hint::black_box(x))
        })
    });
    let mut y = 0.0;
    c.bench_function("typed_append/untyped_run_field_append", |b| {
        b.iter(|| {
            y += 1.0;
            run.field("untyped/train/loss")
                .append(std::hint::black_box(y))
        })
    });
    let handler = run.field("untyped/bound/loss");
    let mut z = 0.0;
    c.bench_function("typed_append/untyped_handler_append", |b| {
        b.iter(|| {
            z += 1.0;
            handler.append(std::hint::black_box(z))
        })
    });
    run.stop().expect("stop");
}

criterion_group!(benches, typed_append);
criterion_main!(benches);
