//! How DynamoDB failures become product errors, and transaction cancellation reasons.

use std::collections::HashMap;
use std::error::Error as StdError;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::error::Error;

/// A failure that is not a failed condition: the table could not be reached, throttled us
/// past the SDK's retries, or (a defect) rejected the request. Logged here, once.
pub(crate) fn classify<E, R>(operation: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ThrottlingException"
                    | "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionConflictException"
            )
        ),
        _ => false,
    };
    if transient {
        tracing::error!(operation, error = %DisplayErrorContext(&err), "DynamoDB unavailable after retries");
        Error::Unavailable
    } else {
        tracing::error!(operation, error = %DisplayErrorContext(&err), "DynamoDB rejected a request");
        Error::Internal
    }
}

pub type Item = HashMap<String, AttributeValue>;

/// Why a transaction was cancelled, item by item, in the order the items were sent.
#[derive(Debug, Default)]
pub(crate) struct Cancelled {
    reasons: Vec<CancellationReason>,
}

impl Cancelled {
    pub(crate) fn new(reasons: Vec<CancellationReason>) -> Self {
        Self { reasons }
    }

    /// Did the condition of item `index` fail?
    pub(crate) fn failed(&self, index: usize) -> bool {
        self.reasons.get(index).and_then(|r| r.code()).is_some_and(|code| code == "ConditionalCheckFailed")
    }

    /// The item as it was when its condition failed (needs `ALL_OLD` on that item).
    pub(crate) fn old_item(&self, index: usize) -> Option<&Item> {
        self.reasons.get(index).and_then(|r| r.item())
    }

    /// Cancelled for a passing reason and for no failed condition: another request touching
    /// one of its items at that instant, or throttling of the (hot) partition. Retrying can
    /// only help, and the conditions are evaluated afresh.
    pub(crate) fn is_transient(&self) -> bool {
        let code = |c: &str| self.reasons.iter().any(|r| r.code() == Some(c));
        !code("ConditionalCheckFailed")
            && [
                "TransactionConflict",
                "ThrottlingError",
                "ProvisionedThroughputExceeded",
                "RequestLimitExceeded",
            ]
            .into_iter()
            .any(code)
    }

    /// Cancelled because the request itself was wrong (a defect, e.g. one item twice).
    pub(crate) fn is_invalid(&self) -> bool {
        self.reasons.iter().any(|r| r.code() == Some("ValidationError"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cancelled(codes: &[&str]) -> Cancelled {
        Cancelled::new(codes.iter().map(|c| CancellationReason::builder().code(*c).build()).collect())
    }

    #[test]
    fn passing_reasons_are_retried_failed_conditions_are_not() {
        assert!(cancelled(&["None", "TransactionConflict"]).is_transient());
        assert!(cancelled(&["ThrottlingError", "None"]).is_transient(), "a throttled hot partition");
        assert!(!cancelled(&["ConditionalCheckFailed", "TransactionConflict"]).is_transient());
        assert!(!cancelled(&["None", "ConditionalCheckFailed"]).is_transient());
        assert!(cancelled(&["ValidationError", "None"]).is_invalid());
        assert!(cancelled(&["None", "ConditionalCheckFailed"]).failed(1));
    }
}
