//! The router: `/health`, `/metrics`, and one authenticated endpoint routed by
//! the SigV4 credential scope's service (design.md §6).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use cairn_model::{ApiError, ErrorCode};

use crate::auth::authenticate;
use crate::caller::Caller;
use crate::state::AppState;
use crate::{cloudtrail, json11, s3};

/// The whole HTTP surface; the binary only binds and serves it.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .fallback(aws_request)
        // Bodies are read with the configured limit in `aws_request`, where an
        // oversized body still gets an AWS-shaped error.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    ([("content-type", "text/plain; version=0.0.4")], (state.render_metrics)()).into_response()
}

/// Which wire protocol a request speaks, known before it is authenticated so
/// that even an auth failure comes back in the client's error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Json,
    S3,
}

impl Protocol {
    fn of(parts: &http::request::Parts) -> Protocol {
        let has_target = parts.headers.contains_key("x-amz-target");
        if has_target || (parts.method == http::Method::POST && parts.uri.path() == "/") {
            Protocol::Json
        } else {
            Protocol::S3
        }
    }

    fn error(self, error: &ApiError, request_id: &str) -> Response {
        match self {
            Protocol::Json => json11::error(error, request_id),
            Protocol::S3 => s3::error_response(error, request_id),
        }
    }
}

async fn aws_request(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: http::Request<Body>,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let protocol = Protocol::of(&parts);
    let body: Bytes = match axum::body::to_bytes(body, state.settings.max_body_bytes).await {
        Ok(body) => body,
        Err(_) => {
            let error = ApiError::new(
                ErrorCode::RequestEntityTooLarge,
                format!("Request body is larger than the limit of {} bytes", state.settings.max_body_bytes),
            );
            return protocol.error(&error, &request_id);
        }
    };
    let authenticated = match authenticate(&state, &parts, &body) {
        Ok(authenticated) => authenticated,
        Err(error) => {
            tracing::debug!(code = error.code.as_str(), "request not authenticated");
            count_request("unknown", "unknown", Some(error.code), started);
            return protocol.error(&error, &request_id);
        }
    };
    let caller = Caller {
        principal: authenticated.principal,
        region: authenticated.region,
        service: authenticated.service,
        source_ip: peer.ip(),
        user_agent: parts.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
        request_id: request_id.clone(),
    };
    match caller.service.as_str() {
        "cloudtrail" => {
            let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_owned);
            // Handlers commit to the metadata store (fsync), so they run off the async workers.
            let service_state = state.clone();
            let service_caller = caller.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                cloudtrail::serve(&service_state, &service_caller, target.as_deref(), &body)
            })
            .await;
            let (operation, result) = outcome.unwrap_or_else(|_| ("unknown".to_owned(), Err(ApiError::internal())));
            count_request("cloudtrail", &operation, result.as_ref().err().map(|e| e.code), started);
            match result {
                Ok(output) => json11::success(output, &request_id),
                Err(error) => json11::error(&error, &request_id),
            }
        }
        "s3" => {
            let (operation, response) = s3::serve(state.clone(), &caller, &parts, body).await;
            count_request("s3", operation, None, started);
            response
        }
        other => {
            let error = ApiError::new(
                ErrorCode::UnknownOperation,
                format!("cairn does not serve the service '{}'", cairn_model::error::truncate_for_message(other)),
            );
            protocol.error(&error, &request_id)
        }
    }
}

fn count_request(service: &str, operation: &str, error: Option<ErrorCode>, started: Instant) {
    let outcome = error.map_or("ok", ErrorCode::as_str);
    metrics::counter!("cairn_api_requests_total", "service" => service.to_owned(), "operation" => operation.to_owned(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("cairn_api_request_seconds", "service" => service.to_owned())
        .record(started.elapsed().as_secs_f64());
}
