//! The engine between handles and a backend: the queue that callers fill and the background
//! worker that drains it in batches.

pub(crate) mod queue;
pub(crate) mod worker;
