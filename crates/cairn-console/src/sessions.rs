//! Signed-in sessions: an unguessable cookie value mapped to the principal and the CSRF token every
//! form of that session must carry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cairn_model::identity::Principal;

/// How long a session lasts without use.
const IDLE: Duration = Duration::from_secs(12 * 3600);

/// One signed-in browser.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) principal: Principal,
    pub(crate) csrf: String,
    last_used: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

/// 244 random bits (two v4 UUIDs), as hex.
pub(crate) fn token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

impl Sessions {
    /// A new session for `principal`; its cookie value.
    pub(crate) fn open(&self, principal: Principal) -> String {
        let key = token();
        let session = Session { principal, csrf: token(), last_used: Instant::now() };
        let mut sessions = self.by_token.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        sessions.retain(|_, s| s.last_used.elapsed() < IDLE);
        sessions.insert(key.clone(), session);
        key
    }

    /// The live session of cookie value `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Session> {
        let mut sessions = self.by_token.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let session = sessions.get_mut(key)?;
        if session.last_used.elapsed() >= IDLE {
            sessions.remove(key);
            return None;
        }
        session.last_used = Instant::now();
        Some(session.clone())
    }

    pub(crate) fn close(&self, key: &str) {
        self.by_token.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(key);
    }
}
