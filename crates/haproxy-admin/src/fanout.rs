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
}
