//! CancelRequest: stopping a statement from another connection, as PostgreSQL does.
//!
//! At startup every connection is given a process id and a secret key (BackendKeyData,
//! sent by pgwire's startup handlers) and registers them here with its session's
//! [`hdb::CancelHandle`]. A client that wants a statement stopped opens a new
//! connection and sends CancelRequest with that pid and key instead of a startup
//! message; the listener looks the pair up ([`Cancels::cancel`]) and raises the
//! handle's flag, and the running statement fails with 57014 ("canceling statement due
//! to user request"). Nothing is answered on the cancelling connection, which is then
//! closed, as in PostgreSQL; a wrong key or an unknown pid does nothing. The handle
//! never waits on the session (busy running the statement), and a cancel that arrives
//! while nothing runs has no effect (each statement starts with the flag down).
//!
//! A connection's entry lives as long as its [`Registration`]: dropped with the
//! connection, so a pid is never cancelled after its connection has gone.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use pgwire::messages::startup::SecretKey;

/// The backend keys of the connections being served.
#[derive(Debug, Default)]
pub struct Cancels {
    by_pid: Mutex<HashMap<i32, (SecretKey, hdb::CancelHandle)>>,
}

impl Cancels {
    /// Registers a connection's key and handle until the returned registration is
    /// dropped. `None` if another connection holds this pid (random pids collide one
    /// time in two billion; that connection then cannot be cancelled).
    pub fn register(
        self: &Arc<Self>,
        pid: i32,
        secret: SecretKey,
        handle: hdb::CancelHandle,
    ) -> Option<Registration> {
        let mut by_pid = self.by_pid.lock();
        if by_pid.contains_key(&pid) {
            return None;
        }
        by_pid.insert(pid, (secret, handle));
        Some(Registration {
            cancels: Arc::clone(self),
            pid,
        })
    }

    /// Cancels the statement of connection `pid` if `secret` is its key; whether it did.
    pub fn cancel(&self, pid: i32, secret: &SecretKey) -> bool {
        match self.by_pid.lock().get(&pid) {
            Some((key, handle)) if key.eq_value(secret) => {
                handle.cancel();
                true
            }
            _ => false,
        }
    }
}

/// A connection's entry in [`Cancels`], removed when this is dropped.
#[derive(Debug)]
pub struct Registration {
    cancels: Arc<Cancels>,
    pid: i32,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.cancels.by_pid.lock().remove(&self.pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_key_cancels_and_only_while_registered() {
        let db = hdb::Database::open_in_memory().expect("a database");
        let session = db.session();
        let cancels = Arc::new(Cancels::default());
        let registration = cancels
            .register(7, SecretKey::I32(42), session.cancel_handle())
            .expect("registered");
        assert!(
            cancels
                .register(7, SecretKey::I32(1), session.cancel_handle())
                .is_none()
        );
        assert!(!cancels.cancel(7, &SecretKey::I32(41)), "wrong key");
        assert!(!cancels.cancel(8, &SecretKey::I32(42)), "unknown pid");
        assert!(cancels.cancel(7, &SecretKey::Bytes(42i32.to_be_bytes().to_vec().into())));
        drop(registration);
        assert!(
            !cancels.cancel(7, &SecretKey::I32(42)),
            "gone with its connection"
        );
    }
}
