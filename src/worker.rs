//! A thread of rounds: a round, a wait, again, until told to stop (the outlier sweeper, the
//! Redis reporters and pollers).

use std::io;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A thread that runs rounds until dropped; dropping it wakes the thread from its wait and
/// joins it (a round in progress ends first).
#[derive(Debug)]
pub(crate) struct Worker {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Runs `round` at once and then again after each wait it returns.
    pub(crate) fn spawn<F>(name: &str, mut round: F) -> io::Result<Self>
    where
        F: FnMut() -> Duration + Send + 'static,
    {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new().name(name.into()).spawn(move || {
            loop {
                let wait = round();
                match stopped.recv_timeout(wait) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
            }
        })?;
        Ok(Worker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.stop.take()); // wakes the thread: its channel is closed
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
