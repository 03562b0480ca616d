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

    pub(crate) fn is_conflict(&self) -> bool {
        let code = |c: &str| self.reasons.iter().any(|r| r.code() == Some(c));
        code("TransactionConflict") && !code("ConditionalCheckFailed")
    }
}
