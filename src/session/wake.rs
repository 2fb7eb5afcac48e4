//! Waking a loop without a window (headless mode, the command-line writers) when its inbox goes
//! from empty to non-empty: the inbox's waker notifies, the loop waits with a timeout.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use crate::mqtt::inbox::Waker;

/// A flag and a condition variable: [`WakeSignal::waker`] sets it, [`WakeSignal::wait`] sleeps
/// until it is set or the timeout passes.
#[derive(Debug, Default)]
pub struct WakeSignal {
    pending: Mutex<bool>,
    signal: Condvar,
}

impl WakeSignal {
    /// A new signal, shared with the inbox's waker.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The waker to install on an inbox.
    pub fn waker(self: &Arc<Self>) -> Waker {
        let signal = Arc::clone(self);
        Box::new(move || signal.notify())
    }

    /// Sets the flag and wakes a waiting loop.
    pub fn notify(&self) {
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.signal.notify_one();
    }

    /// Waits until notified or `timeout` passes, and clears the flag.
    pub fn wait(&self, timeout: Duration) {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut pending, _) = self
            .signal
            .wait_timeout_while(pending, timeout, |pending| !*pending)
            .unwrap_or_else(PoisonError::into_inner);
        *pending = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_notification_ends_the_wait_and_is_consumed() {
        let signal = WakeSignal::new();
        (signal.waker())();
        let started = Instant::now();
        signal.wait(Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(30));
        // Consumed: the next wait runs to its (short) timeout.
        let started = Instant::now();
        signal.wait(Duration::from_millis(20));
        assert!(started.elapsed() >= Duration::from_millis(20));
    }
}
