//! A bound on the connections opened to each socket: HAProxy's `stats
//! maxconn` (10 by default) refuses the ones beyond it, so a program that
//! fans out must queue instead.

use crate::endpoint::Endpoint;
use crate::error::{Error, Phase, Result};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Connection slots per socket. A [`crate::Client`] owns one; its clones
/// share it; clients of different sockets may share one too (pass it with
/// [`crate::Client::limiter`]): the bound is per socket either way.
/// Nothing is global: two limiters do not know of each other.
#[derive(Debug, Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    max: usize,
    open: Mutex<HashMap<Endpoint, usize>>,
    freed: Condvar,
    /// Per socket, wakes one async waiter when a slot is freed (the same
    /// slots: blocking and async clients sharing a limiter share one
    /// bound). One waiter per freed slot, not all of them: a thousand
    /// queued tasks are not woken for every connection that ends.
    #[cfg(feature = "tokio")]
    freed_async: Mutex<HashMap<Endpoint, Arc<tokio::sync::Notify>>>,
}

impl Limiter {
    /// At most `max` connections (at least 1) open to each socket at once.
    pub fn new(max: usize) -> Limiter {
        Limiter {
            inner: Arc::new(Inner {
                max: max.max(1),
                open: Mutex::new(HashMap::new()),
                freed: Condvar::new(),
                #[cfg(feature = "tokio")]
                freed_async: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The bound per socket.
    pub fn max(&self) -> usize {
        self.inner.max
    }

    /// Connections open to `endpoint`'s socket through this limiter now.
    pub fn open(&self, endpoint: &Endpoint) -> usize {
        let map = self.inner.open.lock().unwrap_or_else(|p| p.into_inner());
        map.get(endpoint.connect_target()).copied().unwrap_or(0)
    }

    /// Takes a slot for `endpoint`'s socket, waiting until `until` (`None`:
    /// as long as it takes). `wait` is only what the error reports.
    pub(crate) fn acquire(
        &self,
        endpoint: &Endpoint,
        until: Option<Instant>,
        wait: Duration,
    ) -> Result<Permit> {
        let key = endpoint.connect_target().clone();
        let mut map = self.inner.open.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let n = map.entry(key.clone()).or_insert(0);
            if *n < self.inner.max {
                *n += 1;
                return Ok(Permit {
                    limiter: self.clone(),
                    key,
                });
            }
            map = match until {
                None => self
                    .inner
                    .freed
                    .wait(map)
                    .unwrap_or_else(|p| p.into_inner()),
                Some(until) => {
                    let now = Instant::now();
                    if now >= until {
                        return Err(Error::Timeout {
                            endpoint: endpoint.clone(),
                            phase: Phase::Queue,
                            after: wait,
                        });
                    }
                    self.inner
                        .freed
                        .wait_timeout(map, until - now)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0)
                }
            };
        }
    }
}

#[cfg(feature = "tokio")]
impl Limiter {
    /// Takes a slot without blocking a thread: the same slots and bound
    /// as [`Limiter::acquire`], waited for with tokio until `until`
    /// (`None`: as long as it takes). Cancel-safe: dropping the future
    /// holds no slot.
    pub(crate) async fn acquire_async(
        &self,
        endpoint: &Endpoint,
        until: Option<Instant>,
        wait: Duration,
    ) -> Result<Permit> {
        let key = endpoint.connect_target().clone();
        let notify = Arc::clone(
            self.inner
                .freed_async
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(key.clone())
                .or_default(),
        );
        loop {
            // Registered before the check, so a slot freed between the
            // check and the wait is not missed.
            let freed = notify.notified();
            let mut freed = std::pin::pin!(freed);
            freed.as_mut().enable();
            {
                let mut map = self.inner.open.lock().unwrap_or_else(|p| p.into_inner());
                let n = map.entry(key.clone()).or_insert(0);
                if *n < self.inner.max {
                    *n += 1;
                    return Ok(Permit {
                        limiter: self.clone(),
                        key,
                    });
                }
            }
            let timed_out = Error::Timeout {
                endpoint: endpoint.clone(),
                phase: Phase::Queue,
                after: wait,
            };
            match until {
                None => freed.await,
                Some(until) => {
                    let at = tokio::time::Instant::from_std(until);
                    if tokio::time::timeout_at(at, freed).await.is_err() {
                        return Err(timed_out);
                    }
                }
            }
        }
    }
}

/// A held slot; given back on drop.
#[derive(Debug)]
pub(crate) struct Permit {
    limiter: Limiter,
    key: Endpoint,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let inner = &self.limiter.inner;
        let mut map = inner.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
        drop(map);
        inner.freed.notify_all();
        #[cfg(feature = "tokio")]
        if let Some(n) = inner
            .freed_async
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&self.key)
        {
            // A waiter woken and then dropped (cancelled) hands the
            // wake-up on to the next one (tokio's `Notified` does).
            n.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_bound_connections_per_limiter() {
        let e = Endpoint::unix("/permit-test.sock");
        let soon = || Some(Instant::now() + Duration::from_millis(10));
        let l = Limiter::new(2);
        let a = l.acquire(&e, soon(), Duration::from_millis(10)).expect("1");
        let _b = l.acquire(&e, soon(), Duration::from_millis(10)).expect("2");
        assert_eq!(l.open(&e), 2);
        assert!(matches!(
            l.acquire(&e, soon(), Duration::from_millis(10)),
            Err(Error::Timeout {
                phase: Phase::Queue,
                ..
            })
        ));
        // Another limiter is another bound: nothing global.
        assert!(Limiter::new(1).acquire(&e, soon(), Duration::ZERO).is_ok());
        // A clone shares the slots.
        assert!(l.clone().acquire(&e, soon(), Duration::ZERO).is_err());
        drop(a);
        assert!(l.acquire(&e, soon(), Duration::ZERO).is_ok());
        // The master socket is the slot, whatever the target.
        let m1 = Endpoint::master("/m.sock", crate::Target::Relative(1));
        let m2 = Endpoint::master("/m.sock", crate::Target::Pid(7));
        let l = Limiter::new(1);
        let _p = l.acquire(&m1, soon(), Duration::ZERO).expect("m1");
        assert!(l.acquire(&m2, soon(), Duration::ZERO).is_err());
    }

    /// Async waiters each get a freed slot, one wake-up per slot, even
    /// when waiters woken for it were cancelled meanwhile.
    #[cfg(feature = "tokio")]
    #[test]
    fn async_waiters_are_woken_one_per_slot_through_cancellations() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let e = Endpoint::unix("/async-permit-test.sock");
            let l = Limiter::new(1);
            let held = l
                .acquire_async(&e, None, Duration::ZERO)
                .await
                .expect("first");
            let mut waiters = Vec::new();
            for n in 0..40 {
                let (l, e) = (l.clone(), e.clone());
                waiters.push(tokio::spawn(async move {
                    let take = l.acquire_async(&e, None, Duration::ZERO);
                    if n % 3 == 0 {
                        // Cancelled while queued, some after being woken.
                        let _ = tokio::time::timeout(Duration::from_millis(1), take).await;
                        return false;
                    }
                    let p = take.await.expect("slot");
                    assert_eq!(l.open(&e), 1, "never more than the bound");
                    tokio::task::yield_now().await;
                    drop(p);
                    true
                }));
            }
            tokio::task::yield_now().await;
            drop(held);
            let mut served = 0;
            for w in waiters {
                let done = tokio::time::timeout(Duration::from_secs(5), w)
                    .await
                    .expect("every waiter ends (no lost wake-up)")
                    .expect("task");
                served += usize::from(done);
            }
            assert_eq!(served, 26);
            assert_eq!(l.open(&e), 0);
        });
    }
}
