//! `{"wildcard": "..."}`: `*` stands for any run of characters, `\*` and `\\` for themselves.
//!
//! Validation follows event-ruler's `WildcardParser`, which reads the value with the quotes it
//! stores strings with (`"text"`), so the positions in its messages are one past the byte offset
//! in the pattern text: `**` anywhere is refused ("Consecutive wildcard characters at pos N"), and
//! so is a backslash before anything but `*` or `\` ("Invalid escape character at pos N").

/// A parsed wildcard: the literal pieces between its `*`s.
#[derive(Debug, Clone)]
pub(crate) struct Wildcard {
    source: Box<str>,
    /// `pieces.len()` is one more than the number of `*`s; the first piece must start the value,
    /// the last must end it.
    pieces: Vec<Box<str>>,
}

impl Wildcard {
    pub(crate) fn parse(text: &str) -> Result<Wildcard, String> {
        let bytes = text.as_bytes();
        let mut pieces = Vec::new();
        let mut piece = String::new();
        let mut run_start = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'*' => {
                    if bytes.get(i + 1) == Some(&b'*') {
                        return Err(format!("Consecutive wildcard characters at pos {}", i + 1));
                    }
                    piece.push_str(&text[run_start..i]);
                    pieces.push(std::mem::take(&mut piece).into_boxed_str());
                    i += 1;
                    run_start = i;
                }
                b'\\' => match bytes.get(i + 1) {
                    Some(&escaped @ (b'*' | b'\\')) => {
                        piece.push_str(&text[run_start..i]);
                        piece.push(escaped as char);
                        i += 2;
                        run_start = i;
                    }
                    // The closing quote event-ruler appends follows a trailing backslash.
                    _ => return Err(format!("Invalid escape character at pos {}", i + 1)),
                },
                _ => i += 1,
            }
        }
        piece.push_str(&text[run_start..]);
        pieces.push(piece.into_boxed_str());
        Ok(Wildcard { source: text.into(), pieces })
    }

    pub(crate) fn matches(&self, value: &str) -> bool {
        let (first, rest) = match self.pieces.split_first() {
            Some(split) => split,
            None => return false,
        };
        let Some((last, middle)) = rest.split_last() else {
            return value == &**first;
        };
        if value.len() < first.len() + last.len() || !value.starts_with(&**first) || !value.ends_with(&**last) {
            return false;
        }
        // Leftmost placement of each middle piece leaves the most room for the next ones.
        let mut remaining = &value[first.len()..value.len() - last.len()];
        for piece in middle {
            match remaining.find(&**piece) {
                Some(at) => remaining = &remaining[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

identity_is_source!(Wildcard);

#[cfg(test)]
mod tests;
