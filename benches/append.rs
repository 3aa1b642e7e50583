//! Cost of one append on a FloatSeries in async mode, into the embedded store.
//!
//! `cargo bench --bench append`

// criterion_group! defines a public fn; a benchmark binary has no API to document.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use neptune::{Mode, Run};

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = Run::builder()
        .home(dir.path())
        .mode(Mode::Async)
        .open()
        .expect("run");
    let typed = run.field("bench/typed").float_series().expect("series");
    let mut x = 0.0;
    c.bench_function("append/typed_float_series_async", |b| {
        b.iter(|| {
            x += 1.0;
            typed.append(std::hint::black_box(x))
        })
    });
    let untyped = run.field("bench/untyped");
    c.bench_function("append/untyped_handler_async", |b| {
        b.iter(|| {
            x += 1.0;
            untyped.append(std::hint::black_box(x))
        })
    });
    run.stop().expect("stop");
}

criterion_group!(benches, append);
criterion_main!(benches);
