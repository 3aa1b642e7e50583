//! Generated code compiles warning-free under `#![deny(warnings)]`: generics, lifetimes,
//! raw identifiers, deep nesting and visibility.
#![deny(warnings)]
#![deny(missing_docs, unused_qualifications, unused_results)]

use std::marker::PhantomData;

use neptune::{FloatSeries, Loggable, Mode, Run};

/// A generic metrics struct.
#[derive(Loggable)]
pub struct Metrics<T, M = f64>
where
    T: Clone,
{
    /// a value of a generic type
    pub value: T,
    /// an optional generic value
    pub best: Option<M>,
    /// a series
    pub loss: FloatSeries,
    #[loggable(skip)]
    marker: PhantomData<T>,
}

/// A struct with a lifetime and a const parameter, and keyword field names.
#[derive(Loggable)]
pub struct Keywords<'a, const N: usize> {
    /// r#type
    pub r#type: String,
    /// r#match
    pub r#match: i64,
    #[loggable(skip)]
    name: &'a str,
}

#[derive(Loggable)]
struct L5 {
    x: f64,
}
#[derive(Loggable)]
struct L4 {
    l5: L5,
    #[loggable(flatten)]
    flat: L5b,
}
#[derive(Loggable)]
struct L5b {
    y: Option<i32>,
}
#[derive(Loggable)]
struct L3 {
    l4: L4,
}
#[derive(Loggable)]
struct L2 {
    l3: L3,
}
#[derive(Loggable)]
struct L1 {
    l2: L2,
    generic: Metrics<u8>,
}

#[test]
fn generics_lifetimes_and_raw_identifiers() {
    let run = Run::builder().mode(Mode::Debug).open().unwrap();
    let m = Metrics::<i32> {
        value: 3,
        best: Some(1.5),
        loss: FloatSeries,
        marker: PhantomData,
    };
    run.field("m").assign_value(&m).unwrap();
    let back = run.field("m").fetch_as::<Metrics<i32>>().unwrap();
    assert_eq!((back.value, back.best), (3, Some(1.5)));
    let h = run.bind::<Metrics<i32>>("m").unwrap();
    h.loss.append(1.0).unwrap();
    assert_eq!(h.value.fetch().unwrap(), 3);

    let k = Keywords::<'_, 3> {
        r#type: "cnn".into(),
        r#match: 2,
        name: "local",
    };
    run.field("k").assign_value(&k).unwrap();
    assert!(run.exists("k/type") && run.exists("k/match"));
    let k2 = run.field("k").fetch_as::<Keywords<'static, 3>>().unwrap();
    assert_eq!((k2.r#type.as_str(), k2.name), ("cnn", ""));
    let _ = k.name;
}

#[test]
fn deep_nesting() {
    let run = Run::builder().mode(Mode::Debug).open().unwrap();
    let h = run.bind::<L1>("deep").unwrap();
    h.l2.l3.l4.l5.x.assign(1.0).unwrap();
    h.l2.l3.l4.flat.y.assign(4).unwrap();
    h.generic.loss.append(0.5).unwrap();
    assert!(run.exists("deep/l2/l3/l4/l5/x"));
    assert!(run.exists("deep/l2/l3/l4/y"));
    assert!(run.exists("deep/generic/loss"));
    let v = run.field("deep").fetch_as::<L2>();
    assert!(v.is_err(), "L2's fields are one level further down");
    let l2 = run.field("deep/l2").fetch_as::<L2>();
    assert!(l2.is_ok(), "{:?}", l2.err());
    let x = run.field("deep/l2/l3").fetch_as::<L3>().unwrap();
    assert_eq!((x.l4.l5.x, x.l4.flat.y), (1.0, Some(4)));
}
