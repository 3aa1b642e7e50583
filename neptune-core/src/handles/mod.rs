//! What a user holds: typed field handles, the untyped [`Handler`](crate::Handler) and
//! namespace handler, and [`Loggable`](crate::Loggable) for `#[derive(Loggable)]` structs.

pub(crate) mod handler;
pub(crate) mod loggable;
pub(crate) mod typed;
