//! The progress a stopping run shows while its last values go to the server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::backend::http::queue_disk::DiskQueue;

/// A progress bar on stderr (hidden when it is not a terminal) and a log line every few
/// seconds, updated from the queue's count of values not yet acknowledged.
pub(crate) struct StopProgress {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StopProgress {
    pub(crate) fn start(q: &Arc<DiskQueue>, url: &str) -> StopProgress {
        let done = Arc::new(AtomicBool::new(false));
        let (q, url, flag) = (q.clone(), url.to_owned(), done.clone());
        let thread = std::thread::Builder::new()
            .name("neptune-stop-progress".into())
            .spawn(move || {
                let total = q.pending_values();
                let bar = indicatif::ProgressBar::with_draw_target(
                    Some(total),
                    indicatif::ProgressDrawTarget::stderr(),
                );
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg} [{bar:30}] {pos}/{len} values ({eta} left)",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar.set_message(format!("uploading to {url}"));
                let mut ticks = 0u32;
                while !flag.load(Ordering::Acquire) {
                    let left = q.pending_values();
                    bar.set_position(total.saturating_sub(left));
                    if ticks.is_multiple_of(50) {
                        tracing::info!("waiting for {left} value(s) to reach {url}");
                    }
                    ticks += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                bar.finish_and_clear();
            })
            .ok();
        StopProgress { done, thread }
    }

    pub(crate) fn finish(mut self) {
        self.done.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
