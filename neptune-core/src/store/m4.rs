//! M4 downsampling, and per-chunk block summaries that let a wide range skip decoding.
//!
//! [`M4`] takes points in x order and keeps, per bucket of equal x width, its first, lowest,
//! highest and last point. [`Summaries`] caches, per float chunk (its row id and point count,
//! so a chunk that grew is summarised again), the same four points of every block of
//! [`BLOCK`] consecutive points. When a bucket spans many blocks, feeding the blocks' four
//! points to [`M4`] gives every bucket its true lowest and highest point (the extremes of the
//! blocks are real points at their real x), with only a block's worth of imprecision in which
//! point is first or last; a million points become 62,500 block points, read from memory.
//! A chunk whose wall times never go backwards has the same summary by wall time, so a chart
//! by wall time (or relative time) skips decoding too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Points per block of a chunk summary.
pub(crate) const BLOCK: usize = 64;

/// Most block summaries kept (each 64 bytes): 64 MiB.
const MAX_BLOCKS: usize = 1 << 20;

/// Streaming M4 over `width` buckets spanning `[x0, x1]`.
pub(crate) struct M4 {
    x0: f64,
    scale: f64,
    width: usize,
    bucket: usize,
    /// (x, y) of the current bucket's first, lowest, highest and last point.
    cur: Option<[(f64, f64); 4]>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

impl M4 {
    pub(crate) fn new(x0: f64, x1: f64, width: usize) -> M4 {
        let span = x1 - x0;
        M4 {
            x0,
            scale: if span > 0.0 { width as f64 / span } else { 0.0 },
            width: width.max(1),
            bucket: 0,
            cur: None,
            x: Vec::with_capacity(width * 4),
            y: Vec::with_capacity(width * 4),
        }
    }

    fn flush(&mut self) {
        if let Some(mut pts) = self.cur.take() {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut last = f64::NAN;
            for (x, y) in pts {
                // Each point once (first, lowest, highest and last may be the same point).
                if x != last {
                    self.x.push(x);
                    self.y.push(y);
                    last = x;
                }
            }
        }
    }

    /// Adds a point; x must not decrease.
    #[inline]
    pub(crate) fn push(&mut self, x: f64, y: f64) {
        let b = (((x - self.x0) * self.scale).max(0.0) as usize).min(self.width - 1);
        match &mut self.cur {
            Some(p) if b == self.bucket => {
                // `<`/`>` are false for NaN, so a NaN never becomes the lowest or highest.
                if y < p[1].1 || p[1].1.is_nan() {
                    p[1] = (x, y);
                }
                if y > p[2].1 || p[2].1.is_nan() {
                    p[2] = (x, y);
                }
                p[3] = (x, y);
            }
            _ => {
                self.flush();
                self.bucket = b;
                self.cur = Some([(x, y); 4]);
            }
        }
    }

    pub(crate) fn finish(mut self) -> (Vec<f64>, Vec<f64>) {
        self.flush();
        (self.x, self.y)
    }
}

/// The first, lowest, highest and last point (step, value) of each block of a chunk, in
/// step order, flattened: 8 numbers a block.
pub(crate) fn summarise(steps: &[f64], values: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(steps.len().div_ceil(BLOCK) * 8);
    for (s, v) in steps.chunks(BLOCK).zip(values.chunks(BLOCK)) {
        let (mut lo, mut hi) = (0, 0);
        for i in 1..s.len() {
            if v[i] < v[lo] || v[lo].is_nan() {
                lo = i;
            }
            if v[i] > v[hi] || v[hi].is_nan() {
                hi = i;
            }
        }
        let last = s.len() - 1;
        for i in [0, lo, hi, last] {
            out.push(s[i]);
            out.push(v[i]);
        }
    }
    out
}

/// Feeds a chunk summary's block points to `m4`, in step order.
pub(crate) fn feed(m4: &mut M4, summary: &[f64]) {
    for b in summary.chunks_exact(8) {
        let mut pts = [(b[0], b[1]), (b[2], b[3]), (b[4], b[5]), (b[6], b[7])];
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut last = f64::NAN;
        for (x, y) in pts {
            if x != last {
                m4.push(x, y);
                last = x;
            }
        }
    }
}

/// What a chunk's blocks hold: its summary by step and, when its wall times never go back,
/// by wall time (Unix ms as x), with its first and last wall time.
#[derive(Debug)]
pub(crate) struct ChunkSummary {
    /// Block points by step (see [`summarise`]).
    pub by_step: Vec<f64>,
    /// Block points by wall time; `None` when a wall time is before the one before it.
    pub by_time: Option<Vec<f64>>,
    /// The first and last wall time (Unix ms).
    pub time_range: (f64, f64),
}

impl ChunkSummary {
    /// Summarises a decoded chunk.
    pub(crate) fn new(steps: &[f64], values: &[f64], stamps: &[i64]) -> ChunkSummary {
        let monotone = stamps.windows(2).all(|w| w[0] <= w[1]);
        let times: Vec<f64> = stamps.iter().map(|t| *t as f64).collect();
        ChunkSummary {
            by_step: summarise(steps, values),
            by_time: monotone.then(|| summarise(&times, values)),
            time_range: (
                times.first().copied().unwrap_or(0.0),
                times.last().copied().unwrap_or(0.0),
            ),
        }
    }
}

/// A chunk's summary, by (chunk row id, points in the chunk).
type ByChunk = HashMap<(i64, i64), Arc<ChunkSummary>>;

/// Chunk summaries, shared by a store's readers.
#[derive(Default)]
pub(crate) struct Summaries {
    map: Mutex<ByChunk>,
}

impl Summaries {
    pub(crate) fn get(&self, id: i64, n: i64) -> Option<Arc<ChunkSummary>> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(id, n)).cloned()
    }

    pub(crate) fn put(&self, id: i64, n: i64, s: Arc<ChunkSummary>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        // Two summaries a chunk.
        if map.len() * 2 * (super::chunk::CHUNK_POINTS / BLOCK) >= MAX_BLOCKS {
            map.clear();
        }
        // A grown chunk's older summary is never asked for again.
        map.remove(&(id, n - 1));
        map.insert((id, n), s);
    }
}

impl std::fmt::Debug for Summaries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Summaries")
    }
}
