//! The HTTP backend: runs logged to a team `neptune-server` (feature `http`).
//!
//! Two layers. [`HttpBackend`] is a [`Writer`](crate::Writer) and a [`Reader`](crate::Reader)
//! over the server's JSON API (`/api/v1`, see [`crate::wire`]), one request per call, on a
//! thread of its own with its own tokio runtime. [`QueuedBackend`] is the writer a run uses
//! (with the `HttpBackend` as its reader): every write is first made durable in a local queue
//! on disk (`NEPTUNE_HOME/queue/<queue id>/`), then uploaded in order by a background thread
//! that retries for as long as the run lives; offline runs only fill the queue, and
//! [`sync`] uploads what a stopped, killed or offline run left there.
//!
//! ```no_run
//! # fn main() -> neptune_core::Result<()> {
//! use neptune_core::Run;
//! // Or set NEPTUNE_URL and NEPTUNE_API_TOKEN and call `neptune_core::init_run()`.
//! let run = Run::builder()
//!     .url("http://127.0.0.1:8080")
//!     .api_token("nep_…")
//!     .project("ml-team/nli")
//!     .open()?;
//! run.field("train/loss").append(0.5)?;
//! run.wait()?; // returns once the server acknowledged
//! # Ok(()) }
//! ```

mod client;
mod pipe;
mod progress;
pub mod queue_disk;
mod queued;
pub mod sync;
mod upload;

pub use client::{Fail, HttpBackend};
pub(crate) use queued::{nap, Backoff};
pub use queued::{QueueMode, QueuedBackend};
pub(crate) use upload::{Sent, Uploader, MAX_REQUEST_BYTES};
