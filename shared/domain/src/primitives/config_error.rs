//! Why a configuration value can't be used: where it was read (a file or a variable), the
//! field, and the problem. One error type for every parser of policy and configuration.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file or variable the value came from; empty when the parser of a single value does
    /// not know it (its caller adds it with [`ConfigError::at`]).
    pub origin: String,
    /// The field within it, if any (`suppliers[1].calendar.cutoff`).
    pub field: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(source: impl Into<String>, field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { origin: source.into(), field: field.into(), problem: problem.into() }
    }

    /// The same error, read from `source`.
    pub fn at(mut self, source: impl Into<String>) -> Self {
        self.origin = source.into();
        self
    }
}

/// A parser's own problem, before its caller says where the value came from.
impl From<String> for ConfigError {
    fn from(problem: String) -> Self {
        Self::new("", "", problem)
    }
}

impl From<&str> for ConfigError {
    fn from(problem: &str) -> Self {
        Self::new("", "", problem)
    }
}

/// `source: field: problem`, leaving out what is empty.
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in [&self.origin, &self.field].into_iter().filter(|p| !p.is_empty()) {
            write!(f, "{part}: ")?;
        }
        f.write_str(&self.problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_what_is_known() {
        assert_eq!(ConfigError::new("routing.json", "zones", "empty").to_string(), "routing.json: zones: empty");
        assert_eq!(
            ConfigError::from("not a number").at("DROPLINE_MARGIN_FLOOR").to_string(),
            "DROPLINE_MARGIN_FLOOR: not a number"
        );
        assert_eq!(ConfigError::from("bad").to_string(), "bad");
    }
}
