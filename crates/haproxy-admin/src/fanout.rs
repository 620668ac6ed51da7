//! The one fan-out helper: run a job per item on its own thread, at most
//! `limit` at a time, join them all, and hand back each item's result in
//! item order. A worker that panicked is reported as
//! [`Error::WorkerPanicked`] for its item, never as something the peer
//! did.

use crate::{Error, Result};

/// Runs `job` for every item of `items` concurrently (at most `limit`
/// threads at once; `limit` 0 counts as 1) and returns the results in item
/// order. `task` names the job in a panic report; `name` names the item
/// (its endpoint).
pub(crate) fn fan_out<I: Sync, T: Send>(
    items: &[I],
    limit: usize,
    task: &'static str,
    name: impl Fn(&I) -> String,
    job: impl Fn(&I) -> Result<T> + Sync,
) -> Vec<Result<T>> {
    let mut out = Vec::with_capacity(items.len());
    let job = &job;
    for chunk in items.chunks(limit.max(1)) {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunk.iter().map(|i| s.spawn(move || job(i))).collect();
            for (h, i) in handles.into_iter().zip(chunk) {
                out.push(h.join().unwrap_or_else(|_| {
                    Err(Error::WorkerPanicked {
                        task,
                        item: name(i),
                    })
                }));
            }
        });
    }
    out
}

/// Runs `job` over `items` cut in chunks of `chunk`, on `threads` worker
/// threads (chunk `k` on worker `k % threads`), and hands every result to
/// `f` in item order on the calling thread while the workers go on: the
/// caller's work (writing a listing) overlaps theirs (combining it). Each
/// worker keeps at most one finished chunk waiting, so memory stays
/// bounded however many items there are. Stops at `f`'s first error. A
/// chunk whose worker panicked is done again on the calling thread (where
/// a second panic would show).
///
/// # Errors
///
/// The first error `f` returns.
pub(crate) fn in_order<I: Sync, T: Send, E>(
    items: &[I],
    threads: usize,
    chunk: usize,
    job: impl Fn(&[I]) -> Vec<T> + Sync,
    mut f: impl FnMut(T) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    use std::sync::mpsc::sync_channel;
    let threads = threads.max(1);
    let chunks: Vec<&[I]> = items.chunks(chunk.max(1)).collect();
    let job = &job;
    let chunks = &chunks;
    let workers = threads.min(chunks.len());
    std::thread::scope(|s| {
        let (receivers, handles): (Vec<_>, Vec<_>) = (0..workers)
            .map(|w| {
                let (tx, rx) = sync_channel::<Vec<T>>(1);
                let h = s.spawn(move || {
                    for part in chunks.iter().skip(w).step_by(workers) {
                        // The receiver is gone: the caller stopped.
                        if tx.send(job(part)).is_err() {
                            return;
                        }
                    }
                });
                (rx, h)
            })
            .unzip();
        let mut hand_on = || {
            for (k, part) in chunks.iter().enumerate() {
                let done = receivers[k % workers].recv().unwrap_or_else(|_| job(part));
                for t in done {
                    f(t)?;
                }
            }
            Ok(())
        };
        let result = hand_on();
        // Stops the workers (their next send fails), then joins them: a
        // worker's panic was answered above by doing its chunk here.
        drop(receivers);
        for h in handles {
            let _ = h.join();
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_item_order_and_a_panic_is_its_own_error() {
        let items: Vec<u32> = (0..10).collect();
        let got = fan_out(
            &items,
            3,
            "test job",
            |i| format!("item {i}"),
            |&i| {
                if i == 4 {
                    panic!("deliberate");
                }
                Ok(i * 2)
            },
        );
        assert_eq!(got.len(), 10);
        for (i, r) in got.iter().enumerate() {
            match r {
                Ok(v) => assert_eq!(*v, 2 * i as u32),
                Err(Error::WorkerPanicked { task, item }) => {
                    assert_eq!((i, *task, item.as_str()), (4, "test job", "item 4"));
                }
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(fan_out(&[] as &[u8], 0, "none", |_| String::new(), |_| Ok(())).is_empty());
    }

    #[test]
    fn in_order_keeps_item_order_stops_early_and_redoes_a_panicked_chunk() {
        let items: Vec<u32> = (0..1000).collect();
        let mut seen = Vec::new();
        let r: std::result::Result<(), ()> = in_order(
            &items,
            3,
            7,
            |part| part.iter().map(|i| i * 2).collect(),
            |v| {
                seen.push(v);
                Ok(())
            },
        );
        assert_eq!(r, Ok(()));
        assert_eq!(seen, items.iter().map(|i| i * 2).collect::<Vec<_>>());

        let mut n = 0;
        let r = in_order(
            &items,
            2,
            10,
            |part| part.to_vec(),
            |_| {
                n += 1;
                if n == 25 {
                    Err("stop")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!((r, n), (Err("stop"), 25));

        // A worker's panic: the chunk is done again on the caller's thread.
        let first = std::sync::atomic::AtomicBool::new(true);
        let mut seen = Vec::new();
        let r: std::result::Result<(), ()> = in_order(
            &items[..20],
            2,
            5,
            |part| {
                if part[0] == 5 && first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    panic!("deliberate");
                }
                part.to_vec()
            },
            |v| {
                seen.push(v);
                Ok(())
            },
        );
        assert_eq!(r, Ok(()));
        assert_eq!(seen, items[..20].to_vec());
    }
}
