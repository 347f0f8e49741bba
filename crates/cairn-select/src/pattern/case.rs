//! `equals-ignore-case`, and the ignore-case forms of `prefix`, `suffix` and `anything-but`.
//!
//! event-ruler does not fold case: for each UTF-16 unit of the pattern it accepts exactly that
//! unit's lower-case or upper-case spelling (`Locale.ROOT`), either of which may be several
//! characters (`ß` → `SS`). So a value matches when it can be cut into one such spelling per
//! pattern unit. For an ASCII pattern this is plain ASCII case-insensitive comparison, which is
//! what the value index uses; other patterns are checked here.

#[derive(Debug, Clone)]
pub(crate) struct Caseless {
    source: Box<str>,
    /// For each pattern unit, its lower- and upper-case spellings.
    units: Vec<[Box<str>; 2]>,
}

impl Caseless {
    pub(crate) fn new(text: &str) -> Caseless {
        let mut units = Vec::with_capacity(text.len());
        for c in text.chars() {
            if c.len_utf16() == 2 {
                // Java cases each half of a surrogate pair alone; UTF-8 encoding a lone
                // surrogate gives "?", so such a character only ever matches "??".
                units.push(["?".into(), "?".into()]);
                units.push(["?".into(), "?".into()]);
            } else {
                units.push([c.to_lowercase().collect::<String>().into(), c.to_uppercase().collect::<String>().into()]);
            }
        }
        Caseless { source: text.into(), units }
    }

    pub(crate) fn text(&self) -> &str {
        &self.source
    }

    /// Whether the index can treat this pattern as ASCII case-insensitive text.
    pub(crate) fn is_ascii(&self) -> bool {
        self.source.is_ascii()
    }

    pub(crate) fn equals(&self, value: &str) -> bool {
        if self.is_ascii() {
            return value.eq_ignore_ascii_case(&self.source);
        }
        self.ends_after_prefix(value).contains(&value.len())
    }

    pub(crate) fn is_prefix_of(&self, value: &str) -> bool {
        if self.is_ascii() {
            let n = self.source.len();
            return value.len() >= n && value.as_bytes()[..n].eq_ignore_ascii_case(self.source.as_bytes());
        }
        !self.ends_after_prefix(value).is_empty()
    }

    pub(crate) fn is_suffix_of(&self, value: &str) -> bool {
        if self.is_ascii() {
            let n = self.source.len();
            return value.len() >= n
                && value.as_bytes()[value.len() - n..].eq_ignore_ascii_case(self.source.as_bytes());
        }
        // The same walk from the end: offsets where a suffix matching the pattern may start.
        let mut starts = vec![value.len()];
        for spellings in self.units.iter().rev() {
            let mut next = Vec::new();
            for &end in &starts {
                for spelling in spellings {
                    if value[..end].ends_with(&**spelling) {
                        next.push(end - spelling.len());
                    }
                }
            }
            next.sort_unstable();
            next.dedup();
            if next.is_empty() {
                return false;
            }
            starts = next;
        }
        true
    }

    /// Offsets in `value` where a prefix spelling the whole pattern can end.
    fn ends_after_prefix(&self, value: &str) -> Vec<usize> {
        let mut ends = vec![0];
        for spellings in &self.units {
            let mut next = Vec::new();
            for &start in &ends {
                for spelling in spellings {
                    if value[start..].starts_with(&**spelling) {
                        next.push(start + spelling.len());
                    }
                }
            }
            next.sort_unstable();
            next.dedup();
            if next.is_empty() {
                return next;
            }
            ends = next;
        }
        ends
    }
}

identity_is_source!(Caseless);

#[cfg(test)]
mod tests;
