//! SDK errors as port errors: throttling, 5xx and transport failures are transient.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use dropline_app::ports::PortError;

pub(super) const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "RequestThrottled",
    "KMSThrottlingException",
];

/// Maps an SDK error to a port error: throttling, 5xx and transport failures are transient.
pub fn classify<E, R>(op: &str, err: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let text = format!("{op}: {}", DisplayErrorContext(&err));
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            PortError::Transient(text)
        }
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("");
            if TRANSIENT_CODES.contains(&code) || code.contains("Throttl") {
                PortError::Transient(text)
            } else {
                PortError::Permanent(text)
            }
        }
        _ => PortError::Permanent(text),
    }
}
