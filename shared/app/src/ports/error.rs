//! The errors every port reports.

/// Errors any adapter can report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// A conditional write lost a race: the stored item is not in the expected state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Worth retrying (throttling, timeouts, 5xx, connection errors).
    #[error("transient: {0}")]
    Transient(String),
    /// Will fail again the same way (validation error, 4xx, bad data).
    #[error("permanent: {0}")]
    Permanent(String),
}

impl PortError {
    pub fn is_transient(&self) -> bool {
        matches!(self, PortError::Transient(_) | PortError::Conflict(_))
    }
}

pub type PortResult<T> = Result<T, PortError>;
