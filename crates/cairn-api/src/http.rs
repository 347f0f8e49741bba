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
use crate::{cloudtrail, cloudtrail_data, events, json11, logs, organizations, recorder, s3};

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

/// Largest S3 request body (one object PUT); objects are held in memory while they are written.
const MAX_S3_BODY_BYTES: usize = 64 * 1024 * 1024;

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
        let json_path = matches!(parts.uri.path(), "/" | cloudtrail_data::PUT_AUDIT_EVENTS_PATH);
        if has_target || (parts.method == http::Method::POST && json_path) { Protocol::Json } else { Protocol::S3 }
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
    // S3 bodies are objects: a single PUT may be far larger than any API request (the AWS CLI sends
    // up to 8 MB in one).
    let limit = match protocol {
        Protocol::Json => state.settings.max_body_bytes,
        Protocol::S3 => state.settings.max_body_bytes.max(MAX_S3_BODY_BYTES),
    };
    let body: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(body) => body,
        Err(_) => {
            let error = ApiError::new(
                ErrorCode::RequestEntityTooLarge,
                format!("Request body is larger than the limit of {limit} bytes"),
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
        source_ip: crate::caller::source_ip(
            peer.ip(),
            parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()),
            &state.settings.trusted_proxies,
        ),
        user_agent: parts.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
        request_id: request_id.clone(),
    };
    match caller.service.as_str() {
        "cloudtrail" => serve_cloudtrail(state, caller, &parts, body, started).await,
        "s3" => serve_s3(state, caller, &parts, body, started).await,
        "organizations" => serve_organizations(state, caller, &parts, body, started).await,
        "cloudtrail-data" => serve_cloudtrail_data(state, caller, &parts, body, started).await,
        "events" => serve_events(state, caller, &parts, body, started).await,
        "logs" => serve_logs(state, caller, &parts, body, started).await,
        other => {
            let error = ApiError::new(
                ErrorCode::UnknownOperation,
                format!("cairn does not serve the service '{}'", cairn_model::error::truncate_for_message(other)),
            );
            protocol.error(&error, &request_id)
        }
    }
}

async fn serve_cloudtrail(
    state: Arc<AppState>,
    caller: Caller,
    parts: &http::request::Parts,
    body: Bytes,
    started: Instant,
) -> Response {
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let outcome = cloudtrail::serve_blocking(&state, &caller, target, body).await;
    let operation = outcome.operation.as_deref().unwrap_or("unknown");
    count_request("cloudtrail", operation, outcome.result.as_ref().err().map(|e| e.code), started);
    let call = outcome.recorded(&caller, false);
    record_then_answer(&state, &caller, call, &outcome.result).await
}

/// Records a JSON call (if it named an operation), then answers it; a call that cannot be recorded
/// is answered with the recorder's error instead.
async fn record_then_answer(
    state: &AppState,
    caller: &Caller,
    call: Option<recorder::Call<'_>>,
    result: &Result<serde_json::Value, ApiError>,
) -> Response {
    if let Some(call) = call
        && let Err(error) = recorder::record_call(state, call).await
    {
        return json11::error(&error, &caller.request_id);
    }
    match result {
        Ok(output) => json11::success(output, &caller.request_id),
        Err(error) => json11::error(error, &caller.request_id),
    }
}

/// The CloudTrail Data service: `POST /PutAuditEvents?channelArn=…` (restJson1), recorded as a data
/// event on the channel.
async fn serve_cloudtrail_data(
    state: Arc<AppState>,
    caller: Caller,
    parts: &http::request::Parts,
    body: Bytes,
    started: Instant,
) -> Response {
    if parts.method != http::Method::POST || parts.uri.path() != cloudtrail_data::PUT_AUDIT_EVENTS_PATH {
        let error = ApiError::new(
            ErrorCode::UnknownOperation,
            format!(
                "The CloudTrail Data service has one operation, POST {}; got {} {}.",
                cloudtrail_data::PUT_AUDIT_EVENTS_PATH,
                parts.method,
                cairn_model::error::truncate_for_message(parts.uri.path())
            ),
        );
        count_request("cloudtrail-data", "unknown", Some(error.code), started);
        return json11::error(&error, &caller.request_id);
    }
    let operation = cloudtrail_data::PUT_AUDIT_EVENTS;
    let handled = cloudtrail_data::put_audit_events(&state, &caller, parts.uri.query().unwrap_or(""), &body).await;
    count_request("cloudtrail-data", operation, handled.result.as_ref().err().map(|e| e.code), started);
    let call = recorder::Call {
        caller: &caller,
        event_source: "cloudtrail-data.amazonaws.com",
        operation,
        request_parameters: recorder::non_empty(&handled.request_parameters).cloned(),
        response_elements: None,
        error: handled.result.as_ref().err().map(|e| (e.code.as_str().to_owned(), e.message.clone())),
        read_only: false,
        from_console: false,
        resources: handled
            .channel_arn
            .iter()
            .map(|arn| cairn_model::event::NewResource {
                account_id: Some(caller.account_id().to_owned()),
                resource_type: "AWS::CloudTrail::Channel".to_owned(),
                arn: arn.clone(),
            })
            .collect(),
    };
    // A call on a channel is a data event on it; one that named no channel is recorded as is.
    let recorded = if handled.channel_arn.is_some() {
        let data = recorder::DataEvent { arn_prefixes: Vec::new(), additional_event_data: None };
        recorder::record_data_call(&state, call, data).await
    } else {
        recorder::record_call(&state, call).await
    };
    if let Err(error) = recorded {
        return json11::error(&error, &caller.request_id);
    }
    match handled.result {
        Ok(output) => json11::success(&output, &caller.request_id),
        Err(error) => json11::error(&error, &caller.request_id),
    }
}

/// EventBridge's rules API (AWS JSON 1.1, `AWSEvents.<Operation>`), recorded like CloudTrail calls
/// with the event source `events.amazonaws.com`.
async fn serve_events(
    state: Arc<AppState>,
    caller: Caller,
    parts: &http::request::Parts,
    body: Bytes,
    started: Instant,
) -> Response {
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let outcome = events::serve_blocking(&state, &caller, target, body).await;
    let operation = outcome.operation.as_deref().unwrap_or("unknown");
    count_request("events", operation, outcome.result.as_ref().err().map(|e| e.code), started);
    let call = outcome.recorded(&caller);
    record_then_answer(&state, &caller, call, &outcome.result).await
}

/// The embedded CloudWatch Logs endpoint (AWS JSON 1.1, `Logs_20140328.<Operation>`); its calls are
/// data-plane reads and writes of log events and are not recorded.
async fn serve_logs(
    state: Arc<AppState>,
    caller: Caller,
    parts: &http::request::Parts,
    body: Bytes,
    started: Instant,
) -> Response {
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (operation, result) = logs::serve_blocking(&state, &caller, target, body).await;
    count_request("logs", operation.unwrap_or("unknown"), result.as_ref().err().map(|e| e.code), started);
    match result {
        Ok(output) => json11::success(&output, &caller.request_id),
        Err(error) => json11::error(&error, &caller.request_id),
    }
}

async fn serve_organizations(
    state: Arc<AppState>,
    caller: Caller,
    parts: &http::request::Parts,
    body: Bytes,
    started: Instant,
) -> Response {
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let (operation, result) = organizations::serve(&state, &caller, target, &body);
    let name = operation.as_deref().unwrap_or("unknown");
    count_request("organizations", name, result.as_ref().err().map(|e| e.code), started);
    let call = operation.as_deref().map(|operation| recorder::Call {
        caller: &caller,
        event_source: "organizations.amazonaws.com",
        operation,
        request_parameters: None,
        response_elements: None,
        error: result.as_ref().err().map(|e| (e.code.as_str().to_owned(), e.message.clone())),
        read_only: recorder::is_read_only(operation),
        from_console: false,
        resources: Vec::new(),
    });
    record_then_answer(&state, &caller, call, &result).await
}

async fn serve_s3(
    state: Arc<AppState>,
    caller: Caller,
    parts: &http::request::Parts,
    body: Bytes,
    started: Instant,
) -> Response {
    let bytes_in = body.len();
    let outcome = s3::serve(state.clone(), &caller, parts, body).await;
    count_request("s3", outcome.operation, None, started);
    if outcome.operation == "unknown" {
        // Requests for S3 operations cairn does not serve are refused before
        // they do anything; they name no operation to record.
        return outcome.response;
    }
    let event_name = outcome.event_name();
    let call = recorder::Call {
        caller: &caller,
        event_source: "s3.amazonaws.com",
        operation: event_name,
        request_parameters: Some(s3_request_parameters(parts, &outcome)),
        response_elements: None,
        error: outcome.error.clone(),
        read_only: recorder::is_read_only(event_name),
        from_console: false,
        resources: match &outcome.key {
            Some(key) => recorder::object_resources(&caller, &outcome.bucket, key),
            None => recorder::bucket_resources(&caller, &outcome.bucket),
        },
    };
    let recorded = if outcome.is_data_event() {
        let data = recorder::DataEvent {
            arn_prefixes: outcome
                .listed_prefix()
                .map(|prefix| ("AWS::S3::Object".to_owned(), format!("arn:aws:s3:::{}/{prefix}", outcome.bucket)))
                .into_iter()
                .collect(),
            additional_event_data: Some(serde_json::json!({
                "SignatureVersion": "SigV4",
                "AuthenticationMethod": if outcome.presigned { "QueryString" } else { "AuthHeader" },
                "bytesTransferredIn": bytes_in,
                "bytesTransferredOut": outcome.bytes_out(),
            })),
        };
        recorder::record_data_call(&state, call, data).await
    } else {
        recorder::record_call(&state, call).await
    };
    if let Err(error) = recorded {
        return s3::error_response(&error, &caller.request_id);
    }
    outcome.response
}

/// `requestParameters` of an S3 call as S3 records them: `bucketName`, `Host`, then `key` for
/// object calls and the query parameters that shape a listing.
fn s3_request_parameters(parts: &http::request::Parts, outcome: &s3::S3Outcome) -> serde_json::Value {
    let mut parameters = serde_json::Map::new();
    if !outcome.bucket.is_empty() {
        parameters.insert("bucketName".into(), outcome.bucket.clone().into());
    }
    if let Some(host) = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()) {
        parameters.insert("Host".into(), host.into());
    }
    if let Some(key) = &outcome.key {
        parameters.insert("key".into(), key.clone().into());
    }
    for (name, value) in &outcome.parameters {
        parameters.entry(name.clone()).or_insert_with(|| value.clone().into());
    }
    serde_json::Value::Object(parameters)
}

fn count_request(service: &str, operation: &str, error: Option<ErrorCode>, started: Instant) {
    let outcome = error.map_or("ok", ErrorCode::as_str);
    metrics::counter!("cairn_api_requests_total", "service" => service.to_owned(), "operation" => operation.to_owned(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("cairn_api_request_seconds", "service" => service.to_owned())
        .record(started.elapsed().as_secs_f64());
}
