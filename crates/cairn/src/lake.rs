//! Wiring of the Lake: the API's [`LakeQueries`] over `cairn_lake::Lake`, and query results written to
//! buckets through trail delivery's destinations.

use std::sync::Arc;

use cairn_api::LakeQueries;
use cairn_deliver::destination::Destinations;
use cairn_lake::{Lake, ResultSink};
use cairn_model::ApiError;
use cairn_store::records::{QueryRecord, QueryRequest, QueryResult};
use futures::future::BoxFuture;

/// The Lake as the API sees it.
pub(crate) struct LakeApi(pub(crate) Arc<Lake>);

impl LakeQueries for LakeApi {
    fn start_query(&self, request: QueryRequest) -> Result<QueryRecord, ApiError> {
        self.0.start_query(request)
    }

    fn query(&self, account_id: &str, id: &str) -> Result<QueryRecord, ApiError> {
        self.0.query(account_id, id)
    }

    fn queries_of(&self, account_id: &str) -> Vec<QueryRecord> {
        self.0.queries_of(account_id)
    }

    fn results(&self, query: &QueryRecord) -> Result<Option<Arc<QueryResult>>, ApiError> {
        self.0.results(query)
    }

    fn cancel(&self, account_id: &str, id: &str) -> Result<QueryRecord, ApiError> {
        self.0.cancel(account_id, id)
    }
}

/// `DeliveryS3Uri` results go wherever trails deliver: embedded buckets or external endpoints.
pub(crate) struct BucketSink(pub(crate) Arc<Destinations>);

impl ResultSink for BucketSink {
    fn put(&self, bucket: String, key: String, body: Vec<u8>) -> BoxFuture<'static, Result<(), String>> {
        let destinations = Arc::clone(&self.0);
        Box::pin(async move {
            destinations.put(&bucket, &key, body, "application/gzip", &[]).await.map(|_| ()).map_err(|e| e.to_string())
        })
    }
}
