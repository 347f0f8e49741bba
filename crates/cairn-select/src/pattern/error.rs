//! The one error a pattern can fail with.

use std::fmt;

/// A rejected event pattern: EventBridge's `InvalidEventPatternException`.
///
/// The message is event-ruler's (the engine EventBridge patterns follow), without Jackson's
/// `at [Source: ...; line: 1, column: 9]` location suffix: for example `Empty arrays are not
/// allowed` or `"source" must be an object or an array`. The API layer renders it as a 400 with
/// [`PatternError::CODE`] and [`PatternError::message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    message: String,
}

impl PatternError {
    /// The `__type` EventBridge answers a bad pattern with.
    pub const CODE: &'static str = "InvalidEventPatternException";
    /// The HTTP status that goes with [`PatternError::CODE`].
    pub const HTTP_STATUS: u16 = 400;

    pub(crate) fn new(message: impl Into<String>) -> PatternError {
        PatternError { message: message.into() }
    }

    /// Why the pattern was rejected.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatternError {}
