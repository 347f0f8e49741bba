//! Trails: the list with each trail's status, creating one, starting and stopping its logging, and
//! deleting it. Every action is the CloudTrail call of the same name.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cairn_api::Caller;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::html::{alert, api_error, escape, page, utc_time};
use crate::sessions::Session;
use crate::{Console, caller, form_session, session_of, to_sign_in, user_name};

pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let Some((_, session)) = session_of(&console, &headers) else { return to_sign_in() };
    let caller = caller(&console, &session, peer, &headers);
    render(&console, &caller, &session, None, StatusCode::OK).await
}

/// The trails page, with `error` (an action's failure) above the list.
async fn render(
    console: &Console,
    caller: &Caller,
    session: &Session,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let mut body = String::new();
    if let Some(error) = error {
        body.push_str(&alert(&error));
    }
    match cairn_api::console::call(&console.api, caller, "DescribeTrails", json!({})).await {
        Ok(output) => {
            let trails = output.get("trailList").and_then(Value::as_array).cloned().unwrap_or_default();
            body.push_str(&table(console, caller, session, &trails).await);
        }
        Err(error) => body.push_str(&alert(&api_error(&error))),
    }
    body.push_str(&create_form(&session.csrf));
    (status, Html(page("Trails", &body, Some((user_name(session), &session.csrf))))).into_response()
}

async fn table(console: &Console, caller: &Caller, session: &Session, trails: &[Value]) -> String {
    if trails.is_empty() {
        return "<p>No trails yet.</p>".to_owned();
    }
    let mut out = String::from(
        r#"<table><thead><tr><th scope="col">Name</th><th scope="col">Home region</th><th scope="col">Multi-region</th><th scope="col">S3 bucket</th><th scope="col">Logging</th><th scope="col">Last delivery</th><th scope="col">Last delivery error</th><th scope="col">Log file validation</th><th scope="col">Actions</th></tr></thead><tbody>"#,
    );
    for trail in trails {
        let text = |key: &str| trail.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let flag = |key: &str| if trail.get(key).and_then(Value::as_bool).unwrap_or(false) { "Yes" } else { "No" };
        let arn = text("TrailARN");
        let status = cairn_api::console::call(&console.api, caller, "GetTrailStatus", json!({ "Name": arn }))
            .await
            .unwrap_or(Value::Null);
        let logging = status.get("IsLogging").and_then(Value::as_bool).unwrap_or(false);
        let delivered =
            utc_time(status.get("LatestDeliveryTime").and_then(Value::as_f64)).unwrap_or_else(|| "–".to_owned());
        let delivery_error = status.get("LatestDeliveryError").and_then(Value::as_str).unwrap_or("");
        let (action, label) = if logging { ("stop", "Stop logging") } else { ("start", "Start logging") };
        let _ = write!(
            out,
            r#"<tr><td>{name}</td><td>{region}</td><td>{multi}</td><td>{bucket}</td><td>{logging}</td><td>{delivered}</td><td>{delivery_error}</td><td>{validation}</td><td>
<form method="post" action="/trails/{action}"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="name" value="{arn}"><button type="submit">{label}</button></form>
<form method="post" action="/trails/delete"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="name" value="{arn}"><button type="submit" aria-label="Delete {name}">Delete</button></form></td></tr>"#,
            name = escape(&text("Name")),
            region = escape(&text("HomeRegion")),
            multi = flag("IsMultiRegionTrail"),
            bucket = escape(&text("S3BucketName")),
            logging = if logging { "Logging" } else { "Off" },
            delivered = escape(&delivered),
            delivery_error = escape(delivery_error),
            validation = flag("LogFileValidationEnabled"),
            csrf = escape(&session.csrf),
            arn = escape(&arn),
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn create_form(csrf: &str) -> String {
    format!(
        r#"<h2>Create a trail</h2><form method="post" action="/trails/create">
<input type="hidden" name="csrf" value="{csrf}">
<label for="trail-name">Trail name</label><input id="trail-name" name="name" required>
<label for="trail-bucket">S3 bucket</label><input id="trail-bucket" name="bucket" required>
<label for="trail-prefix">S3 key prefix (optional)</label><input id="trail-prefix" name="prefix">
<label><input type="checkbox" name="multi_region" value="on" checked> All regions</label>
<label><input type="checkbox" name="validation" value="on" checked> Log file validation (signed digests)</label>
<label><input type="checkbox" name="start" value="on" checked> Start logging now</label>
<p><button type="submit">Create trail</button></p></form>"#,
        csrf = escape(csrf),
    )
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    bucket: String,
    #[serde(default)]
    prefix: String,
    multi_region: Option<String>,
    validation: Option<String>,
    start: Option<String>,
}

pub(crate) async fn create(
    State(console): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> Response {
    let session = match form_session(&console, &headers, &form.csrf) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let caller = caller(&console, &session, peer, &headers);
    let mut input = json!({
        "Name": form.name.trim(),
        "S3BucketName": form.bucket.trim(),
        "IsMultiRegionTrail": form.multi_region.is_some(),
        "IncludeGlobalServiceEvents": true,
        "EnableLogFileValidation": form.validation.is_some(),
    });
    if !form.prefix.trim().is_empty() {
        input["S3KeyPrefix"] = json!(form.prefix.trim());
    }
    let created = cairn_api::console::call(&console.api, &caller, "CreateTrail", input).await;
    let started = match (&created, form.start.is_some()) {
        (Ok(_), true) => {
            cairn_api::console::call(&console.api, &caller, "StartLogging", json!({ "Name": form.name.trim() })).await
        }
        (Ok(output), false) => Ok(output.clone()),
        (Err(error), _) => Err(error.clone()),
    };
    match started {
        Ok(_) => Redirect::to("/trails").into_response(),
        Err(error) => render(&console, &caller, &session, Some(api_error(&error)), StatusCode::BAD_REQUEST).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct TrailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /trails/{action}`: `start`, `stop` or `delete` the form's trail (`StartLogging`,
/// `StopLogging`, `DeleteTrail`).
pub(crate) async fn act(
    State(console): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(action): Path<String>,
    Form(form): Form<TrailForm>,
) -> Response {
    let operation = match action.as_str() {
        "start" => "StartLogging",
        "stop" => "StopLogging",
        "delete" => "DeleteTrail",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let session = match form_session(&console, &headers, &form.csrf) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let caller = caller(&console, &session, peer, &headers);
    match cairn_api::console::call(&console.api, &caller, operation, json!({ "Name": form.name })).await {
        Ok(_) => Redirect::to("/trails").into_response(),
        Err(error) => render(&console, &caller, &session, Some(api_error(&error)), StatusCode::BAD_REQUEST).await,
    }
}
