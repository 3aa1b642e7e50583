//! The current time in Unix milliseconds, read one way everywhere.

/// Current Unix time in milliseconds, exact: creation and modification times, tokens, queue
/// files.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The kernel's coarse real-time clock (a few ns to read; ticks every 1–4 ms).
#[cfg(target_os = "linux")]
fn coarse_tick() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    if rc == 0 {
        // time_t and c_long are i64 on 64-bit Linux, narrower elsewhere.
        #[allow(clippy::useless_conversion)]
        let ns = i64::from(ts.tv_sec) * 1_000_000_000 + i64::from(ts.tv_nsec);
        ns
    } else {
        i64::MIN
    }
}

#[cfg(not(target_os = "linux"))]
fn coarse_tick() -> i64 {
    i64::MIN
}

thread_local! {
    /// The coarse tick of the last exact read on this thread, and that read.
    static CLOCK: std::cell::Cell<(i64, i64)> = const { std::cell::Cell::new((i64::MIN, 0)) };
}

/// Current Unix time in milliseconds, for series timestamps.
///
/// The exact clock costs ~40 ns here, a large part of an append. So it is read once per
/// tick of the coarse clock and thread: a loop that logs slower than the tick gets exact
/// times; a faster one gets the time of the tick's first call, off by at most one tick.
#[inline]
pub(crate) fn now_ms_fast() -> i64 {
    let tick = coarse_tick();
    if tick == i64::MIN {
        return now_ms();
    }
    CLOCK.with(|c| {
        let (last_tick, ms) = c.get();
        if last_tick == tick {
            ms
        } else {
            let ms = now_ms();
            c.set((tick, ms));
            ms
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_clocks_agree_within_a_tick() {
        let before = now_ms();
        let fast = now_ms_fast();
        let after = now_ms();
        // The fast clock may return the start of the current coarse tick (≤ 4 ms) or, when its
        // cached tick is the current one, a read from within it.
        assert!(fast <= after, "{fast} > {after}");
        assert!(fast >= before - 10, "{fast} long before {before}");
        assert!(
            before > 1_700_000_000_000,
            "{before} is not a current Unix time in ms"
        );
    }
}
