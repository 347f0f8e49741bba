//! Trails: the list with each trail's status; creating and editing one (scope, bucket and prefix,
//! validation, SNS topic, event selectors); starting and stopping its logging; deleting it; and the
//! log and digest files it delivered to an embedded bucket. Every action is the CloudTrail call of
//! the same name; files are read with S3 calls.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::html::{alert, api_error, attachment, escape, percent, utc_time};
use crate::{Console, Visit};

pub(crate) async fn list(State(console): State<Arc<Console>>, visit: Visit) -> Response {
    render(&console, &visit, None, StatusCode::OK).await
}

/// The trails page, with `error` (an action's failure) above the list.
async fn render(console: &Console, visit: &Visit, error: Option<String>, status: StatusCode) -> Response {
    let mut body = String::new();
    if let Some(error) = error {
        body.push_str(&alert(&error));
    }
    match visit.call(console, "DescribeTrails", json!({})).await {
        Ok(output) => {
            let trails = output.get("trailList").and_then(Value::as_array).cloned().unwrap_or_default();
            body.push_str(&table(console, visit, &trails).await);
        }
        Err(error) => body.push_str(&alert(&api_error(&error))),
    }
    body.push_str("<h2>Create a trail</h2>");
    body.push_str(&trail_form(&TrailForm::new_trail(), visit.csrf(), false));
    visit.respond(status, "Trails", &body)
}

/// Each trail with its GetTrailStatus.
async fn table(console: &Console, visit: &Visit, trails: &[Value]) -> String {
    if trails.is_empty() {
        return "<p>No trails yet.</p>".to_owned();
    }
    let mut out = String::from(
        r#"<table><thead><tr><th scope="col">Name</th><th scope="col">Actions</th><th scope="col">Logging</th><th scope="col">Last delivery</th><th scope="col">Last digest</th><th scope="col">Last error</th><th scope="col">Home region</th><th scope="col">Multi-region</th><th scope="col">S3 bucket</th><th scope="col">Log file validation</th></tr></thead><tbody>"#,
    );
    for trail in trails {
        let text = |key: &str| trail.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let flag = |key: &str| if trail.get(key).and_then(Value::as_bool).unwrap_or(false) { "Yes" } else { "No" };
        let arn = text("TrailARN");
        let status = Status::of(console, visit, &arn).await;
        let time = |key: &str| utc_time(status.get(key).and_then(Value::as_f64)).unwrap_or_else(|| "–".to_owned());
        let (logging, last_error) = (status.is_logging(), status.last_error());
        let (action, label) = if logging { ("stop", "Stop logging") } else { ("start", "Start logging") };
        let name = escape(&text("Name"));
        let _ = write!(
            out,
            r#"<tr><td>{name}</td><td>
<a href="/trails/edit?name={query_arn}" aria-label="Edit {name}">Edit</a> <a href="/trails/files?name={query_arn}" aria-label="Files of {name}">Files</a>
<form method="post" action="/trails/{action}"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="name" value="{arn}"><button type="submit" aria-label="{label}: {name}">{label}</button></form>
<form method="post" action="/trails/delete"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="name" value="{arn}"><button type="submit" aria-label="Delete {name}">Delete</button></form></td><td>{logging}</td><td>{delivered}</td><td>{digest}</td><td>{last_error}</td><td>{region}</td><td>{multi}</td><td>{bucket}</td><td>{validation}</td></tr>"#,
            region = escape(&text("HomeRegion")),
            multi = flag("IsMultiRegionTrail"),
            bucket = escape(&text("S3BucketName")),
            logging = if logging { "Logging" } else { "Off" },
            delivered = escape(&time("LatestDeliveryTime")),
            digest = escape(&time("LatestDigestDeliveryTime")),
            last_error = escape(&last_error),
            validation = flag("LogFileValidationEnabled"),
            csrf = escape(visit.csrf()),
            arn = escape(&arn),
            query_arn = escape(&percent(&arn)),
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// A trail's GetTrailStatus (null when it could not be read).
struct Status(Value);

impl Status {
    async fn of(console: &Console, visit: &Visit, arn: &str) -> Status {
        Status(visit.call(console, "GetTrailStatus", json!({ "Name": arn })).await.unwrap_or(Value::Null))
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    fn is_logging(&self) -> bool {
        self.get("IsLogging").and_then(Value::as_bool).unwrap_or(false)
    }

    /// The latest delivery, digest and notification errors, joined.
    fn last_error(&self) -> String {
        ["LatestDeliveryError", "LatestDigestDeliveryError", "LatestNotificationError"]
            .iter()
            .filter_map(|key| self.get(key).and_then(Value::as_str).filter(|e| !e.is_empty()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Every trail's state, for the overview: name, logging, last delivery and last error.
pub(crate) async fn states(console: &Console, visit: &Visit) -> String {
    let trails = match visit.call(console, "DescribeTrails", json!({})).await {
        Ok(output) => output.get("trailList").and_then(Value::as_array).cloned().unwrap_or_default(),
        Err(error) => return alert(&api_error(&error)),
    };
    if trails.is_empty() {
        return r#"<p>No trails: <a href="/trails">create one</a> to deliver log files.</p>"#.to_owned();
    }
    let mut out = String::from(
        r#"<table><thead><tr><th scope="col">Trail</th><th scope="col">Logging</th><th scope="col">Last delivery</th><th scope="col">Last error</th></tr></thead><tbody>"#,
    );
    for trail in &trails {
        let text = |key: &str| trail.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let status = Status::of(console, visit, &text("TrailARN")).await;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&text("Name")),
            if status.is_logging() { "Logging" } else { "Off" },
            escape(
                &utc_time(status.get("LatestDeliveryTime").and_then(Value::as_f64)).unwrap_or_else(|| "–".to_owned())
            ),
            escape(&status.last_error()),
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// A trail's settings as the create and edit forms send them.
#[derive(Debug, Deserialize)]
pub(crate) struct TrailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    bucket: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    sns_topic: String,
    multi_region: Option<String>,
    global_events: Option<String>,
    validation: Option<String>,
    start: Option<String>,
    /// `{"EventSelectors": [...]}` or `{"AdvancedEventSelectors": [...]}`; empty keeps the trail's.
    #[serde(default)]
    selectors: String,
}

impl TrailForm {
    /// The create form's defaults: all regions, global events, validation, start logging.
    fn new_trail() -> TrailForm {
        TrailForm {
            csrf: String::new(),
            name: String::new(),
            bucket: String::new(),
            prefix: String::new(),
            sns_topic: String::new(),
            multi_region: Some("on".to_owned()),
            global_events: Some("on".to_owned()),
            validation: Some("on".to_owned()),
            start: Some("on".to_owned()),
            selectors: String::new(),
        }
    }

    /// An existing trail's settings (GetTrail's `Trail`) and selectors (GetEventSelectors).
    fn of_trail(trail: &Value, selectors: &Value) -> TrailForm {
        let text = |key: &str| trail.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let on = |key: &str| trail.get(key).and_then(Value::as_bool).unwrap_or(false).then(|| "on".to_owned());
        let selectors = ["AdvancedEventSelectors", "EventSelectors"]
            .iter()
            .find_map(|key| selectors.get(*key).map(|value| json!({ *key: value })))
            .and_then(|value| serde_json::to_string_pretty(&value).ok())
            .unwrap_or_default();
        TrailForm {
            csrf: String::new(),
            name: text("Name"),
            bucket: text("S3BucketName"),
            prefix: text("S3KeyPrefix"),
            sns_topic: text("SnsTopicARN"),
            multi_region: on("IsMultiRegionTrail"),
            global_events: on("IncludeGlobalServiceEvents"),
            validation: on("LogFileValidationEnabled"),
            start: None,
            selectors,
        }
    }

    /// The settings as CreateTrail or UpdateTrail input; on update an empty text clears its setting.
    fn input(&self, update: bool) -> Value {
        let mut input = json!({
            "Name": self.name.trim(),
            "S3BucketName": self.bucket.trim(),
            "IsMultiRegionTrail": self.multi_region.is_some(),
            "IncludeGlobalServiceEvents": self.global_events.is_some(),
            "EnableLogFileValidation": self.validation.is_some(),
        });
        for (member, value) in [("S3KeyPrefix", self.prefix.trim()), ("SnsTopicName", self.sns_topic.trim())] {
            if update || !value.is_empty() {
                input[member] = json!(value);
            }
        }
        input
    }

    /// PutEventSelectors input for the form's selectors, if it has any, or why they cannot be sent.
    fn selectors_input(&self) -> Result<Option<Value>, String> {
        if self.selectors.trim().is_empty() {
            return Ok(None);
        }
        let parsed: Value = serde_json::from_str(&self.selectors)
            .map_err(|error| format!("The event selectors are not JSON: {error}."))?;
        let Some(object) = parsed.as_object().filter(|object| {
            object.len() == 1
                && (object.contains_key("EventSelectors") || object.contains_key("AdvancedEventSelectors"))
        }) else {
            return Err(
                "Give the event selectors as {\"EventSelectors\": [...]} or {\"AdvancedEventSelectors\": [...]}."
                    .to_owned(),
            );
        };
        let mut input = Value::Object(object.clone());
        input["TrailName"] = json!(self.name.trim());
        Ok(Some(input))
    }
}

/// The create form (`editing` false) or the edit form of one trail.
fn trail_form(form: &TrailForm, csrf: &str, editing: bool) -> String {
    let checked = |value: &Option<String>| if value.is_some() { " checked" } else { "" };
    let (action, name_field, start, submit) = if editing {
        (
            "/trails/update",
            format!(r#"<input type="hidden" name="name" value="{}">"#, escape(&form.name)),
            String::new(),
            "Save changes",
        )
    } else {
        (
            "/trails/create",
            format!(
                r#"<label for="trail-name">Trail name</label><input id="trail-name" name="name" value="{}" required>"#,
                escape(&form.name)
            ),
            format!(
                r#"<label><input type="checkbox" name="start" value="on"{}> Start logging now</label>"#,
                checked(&form.start)
            ),
            "Create trail",
        )
    };
    format!(
        r#"<form method="post" action="{action}">
<input type="hidden" name="csrf" value="{csrf}">{name_field}
<label for="trail-bucket">S3 bucket</label><input id="trail-bucket" name="bucket" value="{bucket}" required>
<label for="trail-prefix">S3 key prefix (optional)</label><input id="trail-prefix" name="prefix" value="{prefix}">
<label for="trail-sns">SNS topic for log file notifications (optional: name or ARN)</label><input id="trail-sns" name="sns_topic" value="{sns}">
<label><input type="checkbox" name="multi_region" value="on"{multi}> All regions</label>
<label><input type="checkbox" name="global_events" value="on"{global}> Include global service events (IAM, STS, sign-in)</label>
<label><input type="checkbox" name="validation" value="on"{validation}> Log file validation (signed digests)</label>
{start}
<label for="trail-selectors">Event selectors (JSON; empty keeps them as they are: all management events for a new trail)</label>
<textarea id="trail-selectors" name="selectors" rows="8" aria-describedby="selectors-help">{selectors}</textarea>
<p id="selectors-help" class="help">For example, management events and S3 data events: <code>{{"AdvancedEventSelectors": [{{"FieldSelectors": [{{"Field": "eventCategory", "Equals": ["Data"]}}, {{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}}]}}, {{"FieldSelectors": [{{"Field": "eventCategory", "Equals": ["Management"]}}]}}]}}</code></p>
<p><button type="submit">{submit}</button></p></form>"#,
        csrf = escape(csrf),
        bucket = escape(&form.bucket),
        prefix = escape(&form.prefix),
        sns = escape(&form.sns_topic),
        multi = checked(&form.multi_region),
        global = checked(&form.global_events),
        validation = checked(&form.validation),
        selectors = escape(&form.selectors),
    )
}

pub(crate) async fn create(State(console): State<Arc<Console>>, visit: Visit, Form(form): Form<TrailForm>) -> Response {
    if let Err(forged) = visit.check(&form.csrf) {
        return forged.into_response();
    }
    let result = async {
        let selectors = form.selectors_input()?;
        visit.call(&console, "CreateTrail", form.input(false)).await.map_err(|e| api_error(&e))?;
        if let Some(selectors) = selectors {
            visit.call(&console, "PutEventSelectors", selectors).await.map_err(|e| api_error(&e))?;
        }
        if form.start.is_some() {
            visit
                .call(&console, "StartLogging", json!({ "Name": form.name.trim() }))
                .await
                .map_err(|e| api_error(&e))?;
        }
        Ok::<_, String>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/trails").into_response(),
        Err(error) => render(&console, &visit, Some(error), StatusCode::BAD_REQUEST).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TrailQuery {
    #[serde(default)]
    name: String,
    /// Files: list keys after this one.
    #[serde(default)]
    after: String,
}

/// GetTrail's `Trail` for `name`.
async fn get_trail(console: &Console, visit: &Visit, name: &str) -> Result<Value, String> {
    let output = visit.call(console, "GetTrail", json!({ "Name": name })).await.map_err(|e| api_error(&e))?;
    Ok(output.get("Trail").cloned().unwrap_or(Value::Null))
}

pub(crate) async fn edit(
    State(console): State<Arc<Console>>,
    visit: Visit,
    Query(query): Query<TrailQuery>,
) -> Response {
    let loaded = async {
        let trail = get_trail(&console, &visit, &query.name).await?;
        let selectors = visit
            .call(&console, "GetEventSelectors", json!({ "TrailName": query.name }))
            .await
            .map_err(|e| api_error(&e))?;
        Ok::<_, String>(TrailForm::of_trail(&trail, &selectors))
    }
    .await;
    match loaded {
        Ok(form) => edit_page(&visit, &form, None, StatusCode::OK),
        Err(error) => visit.respond(StatusCode::NOT_FOUND, "Edit trail", &alert(&error)),
    }
}

fn edit_page(visit: &Visit, form: &TrailForm, error: Option<String>, status: StatusCode) -> Response {
    let mut body = String::from(r#"<p><a href="/trails">Back to Trails</a></p>"#);
    if let Some(error) = error {
        body.push_str(&alert(&error));
    }
    body.push_str(&trail_form(form, visit.csrf(), true));
    visit.respond(status, &format!("Edit trail {}", form.name), &body)
}

pub(crate) async fn update(State(console): State<Arc<Console>>, visit: Visit, Form(form): Form<TrailForm>) -> Response {
    if let Err(forged) = visit.check(&form.csrf) {
        return forged.into_response();
    }
    let result = async {
        let selectors = form.selectors_input()?;
        visit.call(&console, "UpdateTrail", form.input(true)).await.map_err(|e| api_error(&e))?;
        if let Some(selectors) = selectors {
            visit.call(&console, "PutEventSelectors", selectors).await.map_err(|e| api_error(&e))?;
        }
        Ok::<_, String>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/trails").into_response(),
        Err(error) => edit_page(&visit, &form, Some(error), StatusCode::BAD_REQUEST),
    }
}

#[derive(Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /trails/{action}`: `start`, `stop` or `delete` the form's trail (`StartLogging`,
/// `StopLogging`, `DeleteTrail`).
pub(crate) async fn act(
    State(console): State<Arc<Console>>,
    visit: Visit,
    Path(action): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let operation = match action.as_str() {
        "start" => "StartLogging",
        "stop" => "StopLogging",
        "delete" => "DeleteTrail",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    if let Err(forged) = visit.check(&form.csrf) {
        return forged.into_response();
    }
    match visit.call(&console, operation, json!({ "Name": form.name })).await {
        Ok(_) => Redirect::to("/trails").into_response(),
        Err(error) => render(&console, &visit, Some(api_error(&error)), StatusCode::BAD_REQUEST).await,
    }
}

/// Files listed per page.
const FILES_PER_PAGE: usize = 100;

/// The log and digest files a trail delivered (everything under its prefix's `AWSLogs/`), in key
/// order, which is account, region and time order.
pub(crate) async fn files(
    State(console): State<Arc<Console>>,
    visit: Visit,
    Query(query): Query<TrailQuery>,
) -> Response {
    let trail = match get_trail(&console, &visit, &query.name).await {
        Ok(trail) => trail,
        Err(error) => return visit.respond(StatusCode::NOT_FOUND, "Delivered files", &alert(&error)),
    };
    let text = |key: &str| trail.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let (name, bucket) = (text("Name"), text("S3BucketName"));
    let prefix = match text("S3KeyPrefix").as_str() {
        "" => "AWSLogs/".to_owned(),
        prefix => format!("{prefix}/AWSLogs/"),
    };
    let mut body = format!(
        r#"<p><a href="/trails">Back to Trails</a></p><p>Bucket <code>{}</code>, keys under <code>{}</code>.</p>"#,
        escape(&bucket),
        escape(&prefix)
    );
    let after = (!query.after.is_empty()).then(|| query.after.clone());
    match cairn_api::console::list_objects(&console.api, &visit.caller, &bucket, &prefix, after, FILES_PER_PAGE).await {
        Ok((objects, more)) => {
            if objects.is_empty() {
                body.push_str("<p>No files delivered yet.</p>");
            } else {
                body.push_str(r#"<table><thead><tr><th scope="col">Key</th><th scope="col">Size (bytes)</th><th scope="col">Last modified</th></tr></thead><tbody>"#);
                for object in &objects {
                    let _ = write!(
                        body,
                        r#"<tr><td><a href="/trails/file?bucket={}&amp;key={}" download>{}</a></td><td>{}</td><td>{}</td></tr>"#,
                        escape(&percent(&bucket)),
                        escape(&percent(&object.key)),
                        escape(object.key.strip_prefix(&prefix).unwrap_or(&object.key)),
                        object.size,
                        escape(&object.last_modified.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()),
                    );
                }
                body.push_str("</tbody></table>");
            }
            if let (true, Some(last)) = (more, objects.last()) {
                let _ = write!(
                    body,
                    r#"<p><a href="/trails/files?name={}&amp;after={}">More files</a></p>"#,
                    escape(&percent(&query.name)),
                    escape(&percent(&last.key))
                );
            }
        }
        Err(error) => body.push_str(&alert(&api_error(&error))),
    }
    visit.respond(StatusCode::OK, &format!("Files of trail {name}"), &body)
}

#[derive(Debug, Deserialize)]
pub(crate) struct FileQuery {
    #[serde(default)]
    bucket: String,
    #[serde(default)]
    key: String,
}

/// One delivered file, as stored (gzip JSON for log files and digests).
pub(crate) async fn file(
    State(console): State<Arc<Console>>,
    visit: Visit,
    Query(query): Query<FileQuery>,
) -> Response {
    match cairn_api::console::get_object(&console.api, &visit.caller, &query.bucket, &query.key).await {
        Ok((info, body)) => {
            let name = query.key.rsplit('/').next().unwrap_or("file");
            let content_type = info.content_type.as_deref().unwrap_or("application/octet-stream");
            attachment(name, content_type, body)
        }
        Err(error) => visit.respond(StatusCode::NOT_FOUND, "Delivered file", &alert(&api_error(&error))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_sends_empty_texts_to_clear_them_and_selectors_as_given() {
        let mut form = TrailForm::new_trail();
        form.name = " audit ".to_owned();
        form.bucket = "logs".to_owned();
        form.global_events = None;
        assert_eq!(
            form.input(true),
            json!({"Name": "audit", "S3BucketName": "logs", "IsMultiRegionTrail": true,
                   "IncludeGlobalServiceEvents": false, "EnableLogFileValidation": true,
                   "S3KeyPrefix": "", "SnsTopicName": ""})
        );
        assert!(form.input(false).get("S3KeyPrefix").is_none());
        assert_eq!(form.selectors_input(), Ok(None));
        form.selectors = r#"{"EventSelectors": [{"ReadWriteType": "WriteOnly"}]}"#.to_owned();
        assert_eq!(
            form.selectors_input(),
            Ok(Some(json!({"EventSelectors": [{"ReadWriteType": "WriteOnly"}], "TrailName": "audit"})))
        );
        form.selectors = "[1]".to_owned();
        assert!(form.selectors_input().is_err());
        form.selectors = "{".to_owned();
        assert!(form.selectors_input().unwrap_err().contains("not JSON"));
    }

    #[test]
    fn an_existing_trail_fills_the_edit_form() {
        let trail = json!({"Name": "audit", "S3BucketName": "logs", "S3KeyPrefix": "p", "IsMultiRegionTrail": false,
                           "IncludeGlobalServiceEvents": true, "LogFileValidationEnabled": true});
        let selectors = json!({"TrailARN": "arn", "AdvancedEventSelectors": [{"Name": "all"}]});
        let form = TrailForm::of_trail(&trail, &selectors);
        assert_eq!((form.prefix.as_str(), form.multi_region.is_none(), form.validation.is_some()), ("p", true, true));
        let selectors: Value = serde_json::from_str(&form.selectors).unwrap();
        assert_eq!(selectors, json!({"AdvancedEventSelectors": [{"Name": "all"}]}));
    }
}
