//! The HTTP thread: reqwest on a single-threaded tokio runtime of its own.

use std::future::Future;
use std::pin::Pin;

use crate::error::{Error, Result};

pub(super) type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The HTTP thread: a runtime that runs the jobs sent to it.
pub(super) struct Runtime {
    pub(super) jobs: tokio::sync::mpsc::UnboundedSender<Job>,
}

impl Runtime {
    pub(super) fn start() -> Result<Runtime> {
        let (jobs, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("cannot start the HTTP runtime", e))?;
        std::thread::Builder::new()
            .name("neptune-http".into())
            .spawn(move || {
                rt.block_on(async move {
                    while let Some(job) = rx.recv().await {
                        tokio::spawn(job);
                    }
                });
            })
            .map_err(|e| Error::io("cannot start the HTTP thread", e))?;
        Ok(Runtime { jobs })
    }

    /// Runs `fut` on the HTTP thread and waits for its output.
    pub(super) fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.jobs
            .send(Box::pin(async move {
                let _ = tx.send(fut.await);
            }))
            .map_err(|_| Error::Worker("the HTTP thread has stopped".into()))?;
        rx.recv()
            .map_err(|_| Error::Worker("the HTTP thread ended without answering".into()))
    }
}
