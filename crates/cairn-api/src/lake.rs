//! What the API needs of CloudTrail Lake. The Lake (and DataFusion with it) lives in `cairn-lake`,
//! which the API does not depend on: the binary hands a [`LakeQueries`] to [`crate::AppState`].

use std::sync::Arc;

use cairn_model::ApiError;
use cairn_store::records::{QueryRecord, QueryRequest, QueryResult};

/// Lake queries: start, look up, page through results, cancel.
pub trait LakeQueries: Send + Sync {
    /// Validates and plans the statement (`InvalidQueryStatementException` and friends), then runs it
    /// in the background.
    fn start_query(&self, request: QueryRequest) -> Result<QueryRecord, ApiError>;
    /// A query of `account_id`, or `QueryIdNotFoundException`.
    fn query(&self, account_id: &str, id: &str) -> Result<QueryRecord, ApiError>;
    /// Every query of `account_id` still kept.
    fn queries_of(&self, account_id: &str) -> Vec<QueryRecord>;
    /// The results of a finished query (`None` until it finished).
    fn results(&self, query: &QueryRecord) -> Result<Option<Arc<QueryResult>>, ApiError>;
    /// Cancels a queued or running query (`InactiveQueryException` otherwise).
    fn cancel(&self, account_id: &str, id: &str) -> Result<QueryRecord, ApiError>;
}
