//! AWS-shaped errors: one code per exception the CloudTrail API can return.

use std::fmt;

macro_rules! error_codes {
    ($($variant:ident => $code:literal, $status:literal;)*) => {
        /// Every error code cairn can put in `__type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// The `__type` string AWS returns.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status AWS answers with for this code.
            pub fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }
        }
    };
}

error_codes! {
    // Protocol and authentication (common to all AWS JSON services).
    MissingAuthenticationToken => "MissingAuthenticationTokenException", 403;
    IncompleteSignature => "IncompleteSignatureException", 400;
    UnrecognizedClient => "UnrecognizedClientException", 400;
    InvalidSignature => "InvalidSignatureException", 400;
    AccessDenied => "AccessDeniedException", 400;
    UnknownOperation => "UnknownOperationException", 400;
    Serialization => "SerializationException", 400;
    RequestEntityTooLarge => "RequestEntityTooLargeException", 413;
    InternalFailure => "InternalFailure", 500;
    ServiceUnavailable => "ServiceUnavailableException", 503;
    Throttling => "ThrottlingException", 400;
    // CloudTrail (botocore cloudtrail 2013-11-01 exception shapes; all HTTP 400).
    CloudTrailArnInvalid => "CloudTrailARNInvalidException", 400;
    CloudTrailAccessNotEnabled => "CloudTrailAccessNotEnabledException", 400;
    CloudWatchLogsDeliveryUnavailable => "CloudWatchLogsDeliveryUnavailableException", 400;
    Conflict => "ConflictException", 400;
    EventDataStoreArnInvalid => "EventDataStoreARNInvalidException", 400;
    EventDataStoreNotFound => "EventDataStoreNotFoundException", 400;
    EventDataStoreAlreadyExists => "EventDataStoreAlreadyExistsException", 400;
    EventDataStoreMaxLimitExceeded => "EventDataStoreMaxLimitExceededException", 400;
    EventDataStoreTerminationProtected => "EventDataStoreTerminationProtectedException", 400;
    InactiveEventDataStore => "InactiveEventDataStoreException", 400;
    InvalidEventDataStoreStatus => "InvalidEventDataStoreStatusException", 400;
    InvalidEventDataStoreCategory => "InvalidEventDataStoreCategoryException", 400;
    EventDataStoreHasOngoingImport => "EventDataStoreHasOngoingImportException", 400;
    AccountHasOngoingImport => "AccountHasOngoingImportException", 400;
    ImportNotFound => "ImportNotFoundException", 400;
    InvalidImportSource => "InvalidImportSourceException", 400;
    ChannelArnInvalid => "ChannelARNInvalidException", 400;
    ChannelNotFound => "ChannelNotFoundException", 400;
    ChannelAlreadyExists => "ChannelAlreadyExistsException", 400;
    ChannelMaxLimitExceeded => "ChannelMaxLimitExceededException", 400;
    ChannelExistsForEds => "ChannelExistsForEDSException", 400;
    InvalidSource => "InvalidSourceException", 400;
    // Resource-based policies.
    ResourceArnNotValid => "ResourceARNNotValidException", 400;
    ResourcePolicyNotValid => "ResourcePolicyNotValidException", 400;
    ResourcePolicyNotFound => "ResourcePolicyNotFoundException", 400;
    InsightNotEnabled => "InsightNotEnabledException", 400;
    InsufficientS3BucketPolicy => "InsufficientS3BucketPolicyException", 400;
    InsufficientSnsTopicPolicy => "InsufficientSnsTopicPolicyException", 400;
    InvalidCloudWatchLogsLogGroupArn => "InvalidCloudWatchLogsLogGroupArnException", 400;
    InvalidCloudWatchLogsRoleArn => "InvalidCloudWatchLogsRoleArnException", 400;
    InvalidEventSelectors => "InvalidEventSelectorsException", 400;
    InvalidHomeRegion => "InvalidHomeRegionException", 400;
    InvalidInsightSelectors => "InvalidInsightSelectorsException", 400;
    InvalidEventCategory => "InvalidEventCategoryException", 400;
    InvalidKmsKeyId => "InvalidKmsKeyIdException", 400;
    InvalidLookupAttributes => "InvalidLookupAttributesException", 400;
    InvalidMaxResults => "InvalidMaxResultsException", 400;
    InvalidNextToken => "InvalidNextTokenException", 400;
    InvalidParameter => "InvalidParameterException", 400;
    InvalidParameterCombination => "InvalidParameterCombinationException", 400;
    InvalidS3BucketName => "InvalidS3BucketNameException", 400;
    InvalidS3Prefix => "InvalidS3PrefixException", 400;
    InvalidSnsTopicName => "InvalidSnsTopicNameException", 400;
    InvalidTagParameter => "InvalidTagParameterException", 400;
    InvalidTimeRange => "InvalidTimeRangeException", 400;
    InvalidToken => "InvalidTokenException", 400;
    InvalidTrailName => "InvalidTrailNameException", 400;
    // CloudTrail Lake queries and dashboards.
    InvalidQueryStatement => "InvalidQueryStatementException", 400;
    InvalidQueryStatus => "InvalidQueryStatusException", 400;
    InvalidDateRange => "InvalidDateRangeException", 400;
    MaxConcurrentQueries => "MaxConcurrentQueriesException", 400;
    QueryIdNotFound => "QueryIdNotFoundException", 400;
    InactiveQuery => "InactiveQueryException", 400;
    ServiceQuotaExceeded => "ServiceQuotaExceededException", 400;
    MaximumNumberOfTrailsExceeded => "MaximumNumberOfTrailsExceededException", 400;
    NotOrganizationMasterAccount => "NotOrganizationMasterAccountException", 400;
    OperationNotPermitted => "OperationNotPermittedException", 400;
    OrganizationsNotInUse => "OrganizationsNotInUseException", 400;
    // AWS Organizations (the one call CloudTrail tools make).
    AwsOrganizationsNotInUse => "AWSOrganizationsNotInUseException", 400;
    ResourceNotFound => "ResourceNotFoundException", 400;
    ResourceTypeNotSupported => "ResourceTypeNotSupportedException", 400;
    S3BucketDoesNotExist => "S3BucketDoesNotExistException", 400;
    TagsLimitExceeded => "TagsLimitExceededException", 400;
    TrailAlreadyExists => "TrailAlreadyExistsException", 400;
    TrailNotFound => "TrailNotFoundException", 400;
    UnsupportedOperation => "UnsupportedOperationException", 400;
    // The CloudTrail Data service (PutAuditEvents) names its errors without the suffix.
    DataChannelNotFound => "ChannelNotFound", 400;
    DataInvalidChannelArn => "InvalidChannelARN", 400;
    DataChannelInsufficientPermission => "ChannelInsufficientPermission", 400;
    DataChannelUnsupportedSchema => "ChannelUnsupportedSchema", 400;
    DataDuplicatedAuditEventId => "DuplicatedAuditEventId", 400;
    Validation => "ValidationException", 400;
    // Amazon EventBridge (the rules API; ResourceNotFound and Validation are shared).
    InvalidEventPattern => "InvalidEventPatternException", 400;
    LimitExceeded => "LimitExceededException", 400;
    // Amazon CloudWatch Logs (the embedded endpoint; ResourceNotFound and InvalidParameter are shared).
    ResourceAlreadyExists => "ResourceAlreadyExistsException", 400;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as the client sees it: a code and a message.
///
/// Every failure a handler can meet ends as one of these; the protocol layer
/// renders it as `{"__type": code, "Message": message}` (JSON) or S3 XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into() }
    }

    /// An internal failure: the detail is logged by the caller, never sent.
    pub fn internal() -> ApiError {
        ApiError::new(
            ErrorCode::InternalFailure,
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }

    /// `InvalidParameterException` in the form AWS uses for model constraints.
    pub fn invalid_parameter(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidParameter, message)
    }
}

/// Bounds how much of client input is echoed back in an error message.
pub fn truncate_for_message(input: &str) -> String {
    const MAX_CHARS: usize = 256;
    if input.chars().count() <= MAX_CHARS {
        return input.to_owned();
    }
    let mut out: String = input.chars().take(MAX_CHARS).collect();
    out.push_str("...");
    out
}
