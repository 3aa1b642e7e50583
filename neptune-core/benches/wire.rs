//! Decoding and encoding of batch request bodies (`model/wire`), the server's cost per point
//! before it stores it: 200 batch lines of 5,000 float points (steps left to the store) and two
//! single values each, about 56 MB.
//!
//! `cargo bench -p neptune-core --bench wire`

// criterion_group! defines a public fn; a benchmark binary has no API to document.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use neptune_core::operation::{FloatPoint, Operation};
use neptune_core::wire::batch;
use neptune_core::FieldPath;

fn lines() -> (Vec<String>, u64) {
    let mut values = 0;
    let lines = (0..200u64)
        .map(|b| {
            let ops = vec![
                Operation::LogFloats {
                    path: FieldPath::parse(&format!("train/loss{}", b % 7)).expect("a path"),
                    points: (0..5000)
                        .map(|i| FloatPoint {
                            step: None,
                            value: 0.5 + i as f64 * 1e-3 / 7.0,
                            timestamp_ms: 1_700_000_000_000 + i,
                        })
                        .collect(),
                },
                Operation::AssignInt {
                    path: FieldPath::parse("epoch").expect("a path"),
                    value: b as i64,
                },
                Operation::AssignString {
                    path: FieldPath::parse("status").expect("a path"),
                    value: "running".into(),
                },
            ];
            values += batch::values(&ops);
            batch::encode(b + 1, &ops).expect("encodable")
        })
        .collect();
    (lines, values)
}

fn bench(c: &mut Criterion) {
    let (lines, values) = lines();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let body = batch::body("q-1", &refs);
    let ops: Vec<Vec<Operation>> = lines
        .iter()
        .map(|l| batch::decode(l.as_bytes()).expect("a batch").ops)
        .collect();
    let mut g = c.benchmark_group("wire");
    g.sample_size(10);
    g.throughput(Throughput::Elements(values));
    g.bench_function("decode_body", |b| {
        b.iter(|| batch::decode_body(&body).expect("a body"))
    });
    g.bench_function("encode_lines", |b| {
        b.iter(|| {
            ops.iter()
                .enumerate()
                .map(|(i, o)| batch::encode(i as u64 + 1, o).expect("encodable").len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
