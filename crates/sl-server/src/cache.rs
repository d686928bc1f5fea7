//! Answers of analysis endpoints, kept in memory by their full request: endpoint,
//! dataset, canonical query, and the dataset's generation (its `updated_at` and event
//! count), so a new load of data is never answered from an old analysis.
//!
//! Analyses are deterministic (seeded), so a cached answer is the answer. A key being
//! computed is computed once: concurrent requests for it wait for the first one
//! instead of running the same analysis a hundred times. Failures are not kept.
//! The cache holds at most [`Cache::max_bytes`] of answers and drops the oldest first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;

use crate::error::ApiError;

type Slot = Arc<OnceLock<Result<Bytes, ApiError>>>;

/// The answer cache.
#[derive(Debug)]
pub struct Cache {
    inner: Mutex<Inner>,
    /// Largest total size of kept answers, bytes.
    pub max_bytes: usize,
}

#[derive(Debug, Default)]
struct Inner {
    slots: HashMap<String, Slot>,
    /// Keys of finished answers, oldest first, with their sizes.
    order: VecDeque<(String, usize)>,
    bytes: usize,
}

/// What [`Cache::get_or_compute`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The answer was computed by this call.
    Computed,
    /// The answer was kept (or computed by a concurrent call this one waited for).
    Hit,
}

impl Cache {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The kept answer for `key`, if there is one; never waits for one being computed.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        let slot = self.lock().slots.get(key).cloned()?;
        match slot.get() {
            Some(Ok(bytes)) => Some(bytes.clone()),
            _ => None,
        }
    }

    /// The answer for `key`, computing it with `f` when no answer is kept. Blocks while
    /// another thread computes the same key: call it on the blocking pool.
    pub fn get_or_compute(
        &self,
        key: &str,
        f: impl FnOnce() -> Result<Bytes, ApiError>,
    ) -> (Result<Bytes, ApiError>, Lookup) {
        let slot = self
            .lock()
            .slots
            .entry(key.to_string())
            .or_default()
            .clone();
        let mut ran = false;
        let result = slot
            .get_or_init(|| {
                ran = true;
                f()
            })
            .clone();
        let lookup = if ran { Lookup::Computed } else { Lookup::Hit };
        if ran {
            let mut inner = self.lock();
            match &result {
                Ok(bytes) => {
                    inner.bytes += bytes.len();
                    inner.order.push_back((key.to_string(), bytes.len()));
                    while inner.bytes > self.max_bytes {
                        let Some((old, size)) = inner.order.pop_front() else {
                            break;
                        };
                        inner.slots.remove(&old);
                        inner.bytes -= size;
                    }
                }
                Err(_) => {
                    // Only forget the slot this call filled (a newer one may be there).
                    if inner.slots.get(key).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                        inner.slots.remove(key);
                    }
                }
            }
        }
        (result, lookup)
    }

    /// Number of kept answers and their total size.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.order.len(), inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn computes_once_keeps_answers_and_forgets_failures() {
        let cache = Cache::new(1 << 20);
        let runs = AtomicUsize::new(0);
        let f = || {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(Bytes::from_static(b"answer"))
        };
        assert_eq!(cache.get_or_compute("a", f).1, Lookup::Computed);
        let (r, l) = cache.get_or_compute("a", f);
        assert_eq!(
            (r.expect("ok"), l),
            (Bytes::from_static(b"answer"), Lookup::Hit)
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(cache.get("a"), Some(Bytes::from_static(b"answer")));
        assert_eq!(cache.get("b"), None);
        let fail = || Err(ApiError::bad_request("no"));
        assert!(cache.get_or_compute("b", fail).0.is_err());
        // A failure is not kept: the next call computes again.
        assert_eq!(cache.get_or_compute("b", f).1, Lookup::Computed);
        assert_eq!(cache.usage(), (2, 12));
    }

    #[test]
    fn concurrent_callers_of_one_key_share_one_computation() {
        let cache = Arc::new(Cache::new(1 << 20));
        let runs = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (cache, runs) = (cache.clone(), runs.clone());
                std::thread::spawn(move || {
                    cache
                        .get_or_compute("k", || {
                            runs.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            Ok(Bytes::from_static(b"x"))
                        })
                        .0
                        .expect("ok")
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().expect("ok"), Bytes::from_static(b"x"));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_oldest_answers_go_first_when_full() {
        let cache = Cache::new(10);
        for k in ["a", "b", "c"] {
            let _ = cache.get_or_compute(k, || Ok(Bytes::from_static(b"12345")));
        }
        assert_eq!(cache.usage(), (2, 10));
        // "a" was dropped: computing it again runs.
        assert_eq!(
            cache
                .get_or_compute("a", || Ok(Bytes::from_static(b"12345")))
                .1,
            Lookup::Computed
        );
        assert_eq!(
            cache
                .get_or_compute("c", || Ok(Bytes::from_static(b"12345")))
                .1,
            Lookup::Hit
        );
    }
}
