//! `#[derive(Loggable)]` for neptune: typed namespace handles for config and metrics structs.
//!
//! Use it through `neptune` (or `neptune_core` with its `derive` feature), which re-exports
//! it next to the `Loggable` trait, as serde does with its derives. The layout follows
//! serde_derive: this file is a thin entry; `internals/` parses the attributes into an IR and
//! checks it, collecting every error (`syn::Error::combine`); `expand/` generates code from
//! the IR only and, when there were errors, still emits the impls (stand-ins) so that one
//! mistake gives one diagnostic.

mod expand;
mod internals;
#[cfg(test)]
mod snapshots;

use proc_macro::TokenStream;
use syn::parse_macro_input;

/// Makes a struct a typed namespace, or a unit-only enum a String field.
///
/// For a struct with named fields it generates a `{Name}Handle` struct holding, for every
/// field, the typed handle of the field's type (`<T as Loggable>::Handle`), and the
/// `Loggable` impl that binds it to a path of any object, writes a whole value and reads it
/// back. Each leaf handle has exactly the methods of its field type: `append` only compiles on
/// a series, `assign` only on a single value.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use chrono::{DateTime, Utc};
/// use neptune_core::{FloatSeries, Loggable, Mode, Run, StringSeries};
///
/// #[derive(Loggable, Debug, PartialEq)]
/// struct Params { lr: f64, max_epochs: i64, optimizer: String, use_preprocessing: bool }
///
/// #[derive(Loggable)]
/// struct Train { loss: FloatSeries, acc: FloatSeries, tokens: StringSeries, end: Option<DateTime<Utc>> }
///
/// #[derive(Loggable)]
/// struct Experiment { params: Params, train: Train }
///
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let h = run.bind::<Experiment>("")?; // or Experiment::handle(&run, "")?
/// h.params.lr.assign(1e-3)?;
/// h.train.loss.append(0.5)?;
/// h.train.tokens.append("epoch 1")?;
/// let lr: f64 = h.params.lr.fetch()?;
/// assert_eq!(lr, 1e-3);
/// assert_eq!(h.train.loss.fetch_values()?.len(), 1);
///
/// // A whole value in one call, and back as the struct.
/// let p = Params { lr: 0.1, max_epochs: 10, optimizer: "Adam".into(), use_preprocessing: true };
/// run.field("params").assign_value(&p)?;
/// assert_eq!(run.field("params").fetch_as::<Params>()?, p);
/// # Ok(()) }
/// ```
///
/// # Field types
///
/// `f64`, `f32` (Float); every integer type (Integer, range-checked into `i64` on assign and
/// on read); `bool`; `String`; `chrono::DateTime<Utc>` (Datetime); `FloatSeries`,
/// `StringSeries` and `StringSet` (markers: their data goes through the handle); `Option<T>`
/// of a single value (absent until set; `None` writes nothing); unit-only enums with this
/// derive (a String holding the variant's name); structs with this derive (nested
/// namespaces). Another type is a compile error at the field, listing these:
///
/// ```compile_fail,E0277
/// #[derive(neptune_core::Loggable)]
/// struct Params {
///     layers: Vec<u32>, // `Vec<u32>` is not a neptune field type
/// }
/// ```
///
/// A handle has only its type's methods:
///
/// ```compile_fail,E0599
/// # fn main() -> neptune_core::Result<()> {
/// # use neptune_core::{FloatSeries, Loggable, Mode, Run};
/// #[derive(Loggable)]
/// struct Train { loss: FloatSeries }
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// run.bind::<Train>("train")?.loss.assign(0.5)?; // a FloatSeries has no assign
/// # Ok(()) }
/// ```
///
/// ```compile_fail,E0599
/// # fn main() -> neptune_core::Result<()> {
/// # use neptune_core::{Loggable, Mode, Run};
/// #[derive(Loggable)]
/// struct Params { lr: f64 }
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// run.bind::<Params>("params")?.lr.append(0.5)?; // a Float has no append
/// # Ok(()) }
/// ```
///
/// # Attributes
///
/// - `#[loggable(rename = "name")]` on a field: its path segment (no `/`).
/// - `#[loggable(skip)]` on a field: not logged; `fetch_as` fills it with `Default`.
/// - `#[loggable(flatten)]` on a field holding a `Loggable` struct: its fields sit in this
///   namespace (the handle keeps the nesting: `h.optim.beta1` is at `ns/beta1`).
/// - `#[loggable(rename_all = "...")]` on the struct or enum: `lowercase`, `UPPERCASE`,
///   `PascalCase`, `camelCase`, `snake_case`, `SCREAMING_SNAKE_CASE`, `kebab-case`,
///   `SCREAMING-KEBAB-CASE`.
/// - `#[loggable(rename = "name")]` on an enum variant: the String stored for it.
/// - `#[loggable(crate = "::path")]` on the struct or enum: where neptune is, for a renamed
///   dependency.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{Loggable, Mode, Run};
///
/// #[derive(Loggable, Default)]
/// struct Adam { beta1: f64, beta2: f64 }
///
/// #[derive(Loggable, Clone, Copy)]
/// #[loggable(rename_all = "snake_case")]
/// enum Schedule { LinearDecay, Cosine }
///
/// #[derive(Loggable)]
/// #[loggable(rename_all = "camelCase")]
/// struct Params {
///     learning_rate: f64,               // at "learningRate"
///     #[loggable(rename = "epochs")]
///     max_epochs: u32,                  // at "epochs"
///     #[loggable(flatten)]
///     adam: Adam,                       // at "beta1", "beta2"
///     #[loggable(skip)]
///     cache: Vec<String>,               // not logged
///     schedule: Schedule,               // "linear_decay" or "cosine"
/// }
///
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let p = Params { learning_rate: 0.1, max_epochs: 3, adam: Adam::default(),
///                  cache: vec![], schedule: Schedule::LinearDecay };
/// run.field("params").assign_value(&p)?;
/// assert!(run.exists("params/learningRate") && run.exists("params/beta1"));
/// assert_eq!(run.field("params/schedule").fetch()?.as_str(), Some("linear_decay"));
/// let h = run.bind::<Params>("params")?;
/// assert_eq!(h.adam.beta2.path().as_str(), "params/beta2");
/// # Ok(()) }
/// ```
///
/// Every mistake in the attributes is reported at once, each at its place:
///
/// ```compile_fail
/// #[derive(neptune_core::Loggable)]
/// struct Params {
///     #[loggable(rename = "lr", renamed = "x")] // unknown attribute
///     learning_rate: f64,
///     #[loggable(rename = "lr")]                // same path as learning_rate
///     lr: f64,
/// }
/// ```
///
/// Structs need named fields (they name the paths); enums need unit variants:
///
/// ```compile_fail
/// #[derive(neptune_core::Loggable)]
/// struct Params(f64, i64);
/// ```
///
/// ```compile_fail
/// #[derive(neptune_core::Loggable)]
/// enum Optimizer { Sgd, Adam { beta1: f64 } }
/// ```
///
/// # The resume check
///
/// Binding checks the whole type against the fields the object already has and reports every
/// mismatch in one `Err` before anything is written: resuming a run with a changed config
/// struct fails at `bind`, not in the background minutes later.
///
/// # Paths in generated code
///
/// Generated code names only `::core`, `::std` and a hidden, unstable module: this derive
/// names `::neptune_core::__private`; the `neptune` facade re-exports its twin
/// ([`LoggableFacade`](derive@LoggableFacade)) as `Loggable`, which names
/// `::neptune::__private`, because a user of the facade has no `neptune_core` in scope. Two
/// derives rather than a cargo feature: a feature would be unified across a build and switch
/// the path for crates that use `neptune_core` directly. `crate = "::path"` overrides both.
#[proc_macro_derive(Loggable, attributes(loggable))]
pub fn derive_loggable(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input, expand::DefaultCrate::Core).into()
}

/// The [`Loggable`](derive@Loggable) derive as the `neptune` facade re-exports it (under the
/// name `Loggable`): identical, except that generated code names `::neptune::__private`.
/// See [`Loggable`](derive@Loggable) for the field types, the attributes and examples.
#[proc_macro_derive(LoggableFacade, attributes(loggable))]
pub fn derive_loggable_facade(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input, expand::DefaultCrate::Facade).into()
}
