//! CloudTrail Lake: event data stores (create, edit retention, selectors and termination protection,
//! delete and restore), the query editor with the sample queries (SearchSampleQueries), a query's
//! results as a table with paging and a CSV download, and the query history. Every action is the
//! CloudTrail call of the same name.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::html::{alert, api_error, attachment, escape, percent, utc_time};
use crate::{Console, Visit};

/// What a sample query names instead of the event data store's ID.
const STORE_PLACEHOLDER: &str = "<EDS_ID>";
/// Result rows per page.
const ROWS_PER_PAGE: i64 = 50;
/// The most rows one CSV download holds (GetQueryResults keeps at most this many for a query anyway).
const MAX_DOWNLOAD_PAGES: usize = 100;

/// The ID an event data store's ARN ends with.
fn store_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The caller's event data stores, each as GetEventDataStore gives it.
async fn stores(console: &Console, visit: &Visit) -> Result<Vec<Value>, String> {
    let listed = visit.call(console, "ListEventDataStores", json!({})).await.map_err(|e| api_error(&e))?;
    let mut stores = Vec::new();
    for listed in listed.get("EventDataStores").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let arn = listed.get("EventDataStoreArn").and_then(Value::as_str).unwrap_or("");
        match visit.call(console, "GetEventDataStore", json!({ "EventDataStore": arn })).await {
            Ok(store) => stores.push(store),
            Err(error) => return Err(api_error(&error)),
        }
    }
    Ok(stores)
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

pub(crate) async fn list(State(console): State<Arc<Console>>, visit: Visit) -> Response {
    render(&console, &visit, None, StatusCode::OK).await
}

/// The event data stores page, with `error` (an action's failure) above the list.
async fn render(console: &Console, visit: &Visit, error: Option<String>, status: StatusCode) -> Response {
    let mut body =
        String::from(r#"<p><a href="/lake/query">Query editor</a> · <a href="/lake/queries">Query history</a></p>"#);
    if let Some(error) = error {
        body.push_str(&alert(&error));
    }
    match stores(console, visit).await {
        Ok(stores) if stores.is_empty() => body.push_str("<p>No event data stores yet.</p>"),
        Ok(stores) => body.push_str(&stores_table(&stores, visit.csrf())),
        Err(error) => body.push_str(&alert(&error)),
    }
    body.push_str("<h2>Create an event data store</h2>");
    body.push_str(&store_form(&StoreForm::new_store(), visit.csrf(), None));
    visit.respond(status, "Lake: event data stores", &body)
}

fn stores_table(stores: &[Value], csrf: &str) -> String {
    let mut out = String::from(
        r#"<table><thead><tr><th scope="col">Name</th><th scope="col">ID</th><th scope="col">Status</th><th scope="col">Retention (days)</th><th scope="col">Multi-region</th><th scope="col">Termination protection</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead><tbody>"#,
    );
    for store in stores {
        let arn = text(store, "EventDataStoreArn");
        let id = store_id(arn);
        let name = escape(text(store, "Name"));
        let status = text(store, "Status");
        let flag = |key: &str| if store.get(key).and_then(Value::as_bool).unwrap_or(false) { "Yes" } else { "No" };
        let action = |action: &str, label: &str| {
            format!(
                r#"<form method="post" action="/lake/stores/{id}/{action}"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" aria-label="{label} {name}">{label}</button></form>"#,
                id = escape(&percent(id)),
                csrf = escape(csrf),
            )
        };
        let actions = if status == "PENDING_DELETION" {
            action("restore", "Restore")
        } else {
            format!(
                r#"<a href="/lake/query?store={id}" aria-label="Query {name}">Query</a> <a href="/lake/stores/{id}" aria-label="Edit {name}">Edit</a>{delete}"#,
                id = escape(&percent(id)),
                delete = action("delete", "Delete"),
            )
        };
        let _ = write!(
            out,
            r#"<tr><td>{name}</td><td><code>{id}</code></td><td>{status}</td><td>{retention}</td><td>{multi}</td><td>{protection}</td><td>{created}</td><td>{actions}</td></tr>"#,
            id = escape(id),
            status = escape(status),
            retention = store.get("RetentionPeriod").and_then(Value::as_i64).unwrap_or_default(),
            multi = flag("MultiRegionEnabled"),
            protection = flag("TerminationProtectionEnabled"),
            created = escape(&utc_time(store.get("CreatedTimestamp").and_then(Value::as_f64)).unwrap_or_default()),
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// An event data store's settings as the create and edit forms send them.
#[derive(Debug, Deserialize)]
pub(crate) struct StoreForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    retention: String,
    multi_region: Option<String>,
    termination_protection: Option<String>,
    /// `AdvancedEventSelectors` as a JSON array; empty: all management events (create) or as they are.
    #[serde(default)]
    selectors: String,
}

impl StoreForm {
    fn new_store() -> StoreForm {
        StoreForm {
            csrf: String::new(),
            name: String::new(),
            retention: "2557".to_owned(),
            multi_region: Some("on".to_owned()),
            termination_protection: Some("on".to_owned()),
            selectors: String::new(),
        }
    }

    fn of_store(store: &Value) -> StoreForm {
        let on = |key: &str| store.get(key).and_then(Value::as_bool).unwrap_or(false).then(|| "on".to_owned());
        StoreForm {
            csrf: String::new(),
            name: text(store, "Name").to_owned(),
            retention: store.get("RetentionPeriod").and_then(Value::as_i64).unwrap_or_default().to_string(),
            multi_region: on("MultiRegionEnabled"),
            termination_protection: on("TerminationProtectionEnabled"),
            selectors: store
                .get("AdvancedEventSelectors")
                .and_then(|selectors| serde_json::to_string_pretty(selectors).ok())
                .unwrap_or_default(),
        }
    }

    /// CreateEventDataStore input, or UpdateEventDataStore input for the store `arn`.
    fn input(&self, arn: Option<&str>) -> Result<Value, String> {
        let retention: i64 = self
            .retention
            .trim()
            .parse()
            .map_err(|_| format!("The retention period must be a number of days, not {:?}.", self.retention))?;
        let mut input = json!({
            "Name": self.name.trim(),
            "RetentionPeriod": retention,
            "MultiRegionEnabled": self.multi_region.is_some(),
            "TerminationProtectionEnabled": self.termination_protection.is_some(),
        });
        if let Some(arn) = arn {
            input["EventDataStore"] = json!(arn);
        }
        if !self.selectors.trim().is_empty() {
            let selectors: Value = serde_json::from_str(&self.selectors)
                .map_err(|error| format!("The advanced event selectors are not JSON: {error}."))?;
            if !selectors.is_array() {
                return Err("Give the advanced event selectors as a JSON array.".to_owned());
            }
            input["AdvancedEventSelectors"] = selectors;
        }
        Ok(input)
    }
}

/// The create form, or with `arn` the edit form of that store.
fn store_form(form: &StoreForm, csrf: &str, arn: Option<&str>) -> String {
    let checked = |value: &Option<String>| if value.is_some() { " checked" } else { "" };
    let (action, submit) = match arn {
        Some(arn) => (format!("/lake/stores/{}/update", escape(&percent(store_id(arn)))), "Save changes"),
        None => ("/lake/stores/create".to_owned(), "Create event data store"),
    };
    format!(
        r#"<form method="post" action="{action}">
<input type="hidden" name="csrf" value="{csrf}">
<label for="store-name">Name</label><input id="store-name" name="name" value="{name}" required>
<label for="store-retention">Retention period (days, 7–3653)</label><input id="store-retention" name="retention" type="number" min="7" max="3653" value="{retention}" required>
<label><input type="checkbox" name="multi_region" value="on"{multi}> Events of all regions</label>
<label><input type="checkbox" name="termination_protection" value="on"{protection}> Termination protection</label>
<label for="store-selectors">Advanced event selectors (JSON array; empty: {empty})</label>
<textarea id="store-selectors" name="selectors" rows="8">{selectors}</textarea>
<p><button type="submit">{submit}</button></p></form>"#,
        csrf = escape(csrf),
        name = escape(&form.name),
        retention = escape(&form.retention),
        multi = checked(&form.multi_region),
        protection = checked(&form.termination_protection),
        empty = if arn.is_some() { "keep them as they are" } else { "all management events" },
        selectors = escape(&form.selectors),
    )
}

pub(crate) async fn create(State(console): State<Arc<Console>>, visit: Visit, Form(form): Form<StoreForm>) -> Response {
    if let Err(forged) = visit.check(&form.csrf) {
        return forged.into_response();
    }
    let created = match form.input(None) {
        Ok(input) => visit.call(&console, "CreateEventDataStore", input).await.map_err(|e| api_error(&e)),
        Err(error) => Err(error),
    };
    match created {
        Ok(_) => Redirect::to("/lake").into_response(),
        Err(error) => render(&console, &visit, Some(error), StatusCode::BAD_REQUEST).await,
    }
}

/// The edit page of one store.
pub(crate) async fn edit(State(console): State<Arc<Console>>, visit: Visit, Path(id): Path<String>) -> Response {
    match visit.call(&console, "GetEventDataStore", json!({ "EventDataStore": id })).await {
        Ok(store) => edit_page(&visit, &StoreForm::of_store(&store), text(&store, "EventDataStoreArn"), None),
        Err(error) => visit.respond(StatusCode::NOT_FOUND, "Event data store", &alert(&api_error(&error))),
    }
}

fn edit_page(visit: &Visit, form: &StoreForm, arn: &str, error: Option<String>) -> Response {
    let mut body = String::from(r#"<p><a href="/lake">Back to event data stores</a></p>"#);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    if let Some(error) = error {
        body.push_str(&alert(&error));
    }
    body.push_str(&store_form(form, visit.csrf(), Some(arn)));
    visit.respond(status, &format!("Edit event data store {}", form.name), &body)
}

/// `POST /lake/stores/{id}/{action}`: `update` (UpdateEventDataStore with the edit form), `delete`
/// (DeleteEventDataStore) or `restore` (RestoreEventDataStore).
pub(crate) async fn act(
    State(console): State<Arc<Console>>,
    visit: Visit,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<StoreForm>,
) -> Response {
    if let Err(forged) = visit.check(&form.csrf) {
        return forged.into_response();
    }
    let result = match action.as_str() {
        "update" => match form.input(Some(&id)) {
            Ok(input) => visit.call(&console, "UpdateEventDataStore", input).await.map_err(|e| api_error(&e)),
            Err(error) => Err(error),
        },
        "delete" => visit
            .call(&console, "DeleteEventDataStore", json!({ "EventDataStore": id }))
            .await
            .map_err(|e| api_error(&e)),
        "restore" => visit
            .call(&console, "RestoreEventDataStore", json!({ "EventDataStore": id }))
            .await
            .map_err(|e| api_error(&e)),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match (result, action.as_str()) {
        (Ok(_), _) => Redirect::to("/lake").into_response(),
        (Err(error), "update") => edit_page(&visit, &form, &id, Some(error)),
        (Err(error), _) => render(&console, &visit, Some(error), StatusCode::BAD_REQUEST).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct EditorQuery {
    /// The store the editor is for (its ID).
    #[serde(default)]
    store: String,
    /// The statement to start with.
    #[serde(default)]
    sql: String,
    /// Sample queries: a search phrase.
    #[serde(default)]
    search: String,
}

/// The sample query search used when none is asked for.
const DEFAULT_SEARCH: &str = "top events users errors console logins";

/// The query editor: a store, a statement, and the sample queries.
pub(crate) async fn editor(
    State(console): State<Arc<Console>>,
    visit: Visit,
    Query(query): Query<EditorQuery>,
) -> Response {
    editor_page(&console, &visit, &query, None).await
}

async fn editor_page(console: &Console, visit: &Visit, query: &EditorQuery, error: Option<String>) -> Response {
    let mut body =
        String::from(r#"<p><a href="/lake">Event data stores</a> · <a href="/lake/queries">Query history</a></p>"#);
    if let Some(error) = &error {
        body.push_str(&alert(error));
    }
    let stores = match stores(console, visit).await {
        Ok(stores) => stores,
        Err(error) => return visit.respond(StatusCode::BAD_REQUEST, "Lake query editor", &alert(&error)),
    };
    let active: Vec<&Value> = stores.iter().filter(|store| text(store, "Status") == "ENABLED").collect();
    let Some(first) = active.first() else {
        body.push_str(r#"<p>No event data store to query yet: <a href="/lake">create one</a>.</p>"#);
        return visit.respond(StatusCode::OK, "Lake query editor", &body);
    };
    let chosen = if query.store.is_empty() { store_id(text(first, "EventDataStoreArn")) } else { &query.store };
    let options: String = active
        .iter()
        .map(|store| {
            let id = store_id(text(store, "EventDataStoreArn"));
            let selected = if id == chosen { " selected" } else { "" };
            format!(
                r#"<option value="{id}"{selected}>{} ({id})</option>"#,
                escape(text(store, "Name")),
                id = escape(id)
            )
        })
        .collect();
    let statement = if query.sql.is_empty() {
        format!(
            "SELECT eventtime, eventname, useridentity.arn, sourceipaddress FROM {chosen} ORDER BY eventtime DESC LIMIT 10"
        )
    } else {
        query.sql.clone()
    };
    let _ = write!(
        body,
        r#"<form method="post" action="/lake/query">
<input type="hidden" name="csrf" value="{csrf}">
<label for="query-store">Event data store</label><select id="query-store" name="store">{options}</select>
<label for="query-sql">SQL (the store's ID is its table name)</label><textarea id="query-sql" name="sql" rows="8" required>{statement}</textarea>
<p><button type="submit">Run query</button></p></form>"#,
        csrf = escape(visit.csrf()),
        statement = escape(&statement),
    );
    body.push_str(&samples(console, visit, chosen, &query.search).await);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    visit.respond(status, "Lake query editor", &body)
}

/// The sample queries that best match `search` (SearchSampleQueries), each ready for store `store`.
async fn samples(console: &Console, visit: &Visit, store: &str, search: &str) -> String {
    let phrase = if search.trim().is_empty() { DEFAULT_SEARCH } else { search.trim() };
    let mut out = format!(
        r#"<h2>Sample queries</h2><form method="get" action="/lake/query" role="search"><input type="hidden" name="store" value="{store}">
<label for="sample-search">Search the sample queries</label><input id="sample-search" name="search" value="{search}">
<p><button type="submit">Search</button></p></form>"#,
        store = escape(store),
        search = escape(search),
    );
    match visit.call(console, "SearchSampleQueries", json!({ "SearchPhrase": phrase, "MaxResults": 10 })).await {
        Ok(output) => {
            out.push_str(r#"<ul class="samples">"#);
            for sample in output.get("SearchResults").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
                let sql = text(sample, "SQL").replace(STORE_PLACEHOLDER, store);
                let _ = write!(
                    out,
                    r#"<li><a href="/lake/query?store={store}&amp;sql={sql}">{name}</a>: {description}</li>"#,
                    store = escape(&percent(store)),
                    sql = escape(&percent(&sql)),
                    name = escape(text(sample, "Name")),
                    description = escape(text(sample, "Description")),
                );
            }
            out.push_str("</ul>");
        }
        Err(error) => out.push_str(&alert(&api_error(&error))),
    }
    out
}

#[derive(Debug, Deserialize)]
pub(crate) struct RunForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    store: String,
    #[serde(default)]
    sql: String,
}

/// Starts the form's query (StartQuery) and goes to its results.
pub(crate) async fn run(State(console): State<Arc<Console>>, visit: Visit, Form(form): Form<RunForm>) -> Response {
    if let Err(forged) = visit.check(&form.csrf) {
        return forged.into_response();
    }
    match visit.call(&console, "StartQuery", json!({ "QueryStatement": form.sql })).await {
        Ok(output) => Redirect::to(&format!("/lake/queries/{}", percent(text(&output, "QueryId")))).into_response(),
        Err(error) => {
            let query = EditorQuery { store: form.store, sql: form.sql, search: String::new() };
            editor_page(&console, &visit, &query, Some(api_error(&error))).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResultsQuery {
    #[serde(default)]
    next: String,
}

/// One query: its statement and status, and once it finished, a page of its results. A query still
/// running reloads the page every second.
pub(crate) async fn results(
    State(console): State<Arc<Console>>,
    visit: Visit,
    Path(id): Path<String>,
    Query(query): Query<ResultsQuery>,
) -> Response {
    let described = match visit.call(&console, "DescribeQuery", json!({ "QueryId": id })).await {
        Ok(described) => described,
        Err(error) => return visit.respond(StatusCode::NOT_FOUND, "Lake query", &alert(&api_error(&error))),
    };
    let status = text(&described, "QueryStatus");
    let mut body = format!(
        r#"<p><a href="/lake/query">Query editor</a> · <a href="/lake/queries">Query history</a></p>
<pre aria-label="Query statement">{}</pre><p>Status: <strong id="query-status">{}</strong></p>"#,
        escape(text(&described, "QueryString")),
        escape(status),
    );
    if matches!(status, "QUEUED" | "RUNNING") {
        return visit.respond_refreshing(StatusCode::OK, "Lake query", &body, 1);
    }
    if let Some(message) = described.get("ErrorMessage").and_then(Value::as_str) {
        body.push_str(&alert(message));
    }
    if status == "FINISHED" {
        let mut input = json!({ "QueryId": id, "MaxQueryResults": ROWS_PER_PAGE });
        if !query.next.is_empty() {
            input["NextToken"] = json!(query.next);
        }
        match visit.call(&console, "GetQueryResults", input).await {
            Ok(output) => body.push_str(&results_table(&id, &described, &output)),
            Err(error) => body.push_str(&alert(&api_error(&error))),
        }
    }
    visit.respond(StatusCode::OK, "Lake query", &body)
}

/// GetQueryResults' rows (each a list of one-member objects) as column names and values.
fn rows_of(output: &Value) -> (Vec<String>, Vec<Vec<String>>) {
    let rows = output.get("QueryResultRows").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let columns: Vec<String> = rows
        .first()
        .and_then(Value::as_array)
        .map(|cells| cells.iter().filter_map(|cell| cell.as_object()?.keys().next().cloned()).collect())
        .unwrap_or_default();
    let values = rows
        .iter()
        .map(|row| {
            row.as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|cell| match cell.as_object().and_then(|cell| cell.values().next()) {
                    Some(Value::String(text)) => text.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                })
                .collect()
        })
        .collect();
    (columns, values)
}

fn results_table(id: &str, described: &Value, output: &Value) -> String {
    let statistics = described.get("QueryStatistics").cloned().unwrap_or(Value::Null);
    let number = |key: &str| statistics.get(key).and_then(Value::as_i64).unwrap_or_default();
    let total = output.pointer("/QueryStatistics/TotalResultsCount").and_then(Value::as_i64).unwrap_or_default();
    let mut out = format!(
        r#"<p>{total} rows · {scanned} events scanned · {millis} ms · <a href="/lake/queries/{id}/results.csv" download>Download CSV</a></p>"#,
        scanned = number("EventsScanned"),
        millis = number("ExecutionTimeInMillis"),
        id = escape(&percent(id)),
    );
    let (columns, rows) = rows_of(output);
    if rows.is_empty() {
        out.push_str("<p>The query returned no rows.</p>");
    } else {
        out.push_str(r#"<table aria-label="Query results"><thead><tr>"#);
        for column in &columns {
            let _ = write!(out, r#"<th scope="col">{}</th>"#, escape(column));
        }
        out.push_str("</tr></thead><tbody>");
        for row in &rows {
            out.push_str("<tr>");
            for value in row {
                let _ = write!(out, "<td>{}</td>", escape(value));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
    }
    if let Some(next) = output.get("NextToken").and_then(Value::as_str) {
        let _ = write!(
            out,
            r#"<p><a href="/lake/queries/{}?next={}">Next {ROWS_PER_PAGE} rows</a></p>"#,
            escape(&percent(id)),
            escape(&percent(next))
        );
    }
    out
}

/// All of a finished query's rows as CSV, with a header row of its columns.
pub(crate) async fn results_csv(State(console): State<Arc<Console>>, visit: Visit, Path(id): Path<String>) -> Response {
    let mut input = json!({ "QueryId": id, "MaxQueryResults": 1000 });
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut wrote_header = false;
    for _ in 0..MAX_DOWNLOAD_PAGES {
        let output = match visit.call(&console, "GetQueryResults", input.clone()).await {
            Ok(output) => output,
            Err(error) => return (StatusCode::BAD_REQUEST, api_error(&error)).into_response(),
        };
        if text(&output, "QueryStatus") != "FINISHED" {
            return (StatusCode::CONFLICT, format!("Query {id} is {}, not FINISHED.", text(&output, "QueryStatus")))
                .into_response();
        }
        let (columns, rows) = rows_of(&output);
        if !wrote_header && !columns.is_empty() {
            let _ = writer.write_record(&columns);
            wrote_header = true;
        }
        for row in rows {
            let _ = writer.write_record(&row);
        }
        match output.get("NextToken").and_then(Value::as_str) {
            Some(next) => input["NextToken"] = json!(next),
            None => break,
        }
    }
    let bytes = writer.into_inner().unwrap_or_default();
    attachment(&format!("query-{id}.csv"), "text/csv; charset=utf-8", bytes)
}

/// Queries shown in the history.
const HISTORY_LENGTH: usize = 50;

/// The newest queries of every store (ListQueries), with their statements (DescribeQuery).
pub(crate) async fn history(State(console): State<Arc<Console>>, visit: Visit) -> Response {
    let mut body =
        String::from(r#"<p><a href="/lake">Event data stores</a> · <a href="/lake/query">Query editor</a></p>"#);
    let stores = match stores(&console, &visit).await {
        Ok(stores) => stores,
        Err(error) => return visit.respond(StatusCode::BAD_REQUEST, "Lake query history", &alert(&error)),
    };
    let mut queries: Vec<(f64, String, String, String)> = Vec::new();
    for store in stores.iter().filter(|store| text(store, "Status") == "ENABLED") {
        let arn = text(store, "EventDataStoreArn");
        let input = json!({ "EventDataStore": arn, "MaxResults": HISTORY_LENGTH });
        match visit.call(&console, "ListQueries", input).await {
            Ok(output) => {
                for query in output.get("Queries").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
                    let created = query.get("CreationTime").and_then(Value::as_f64).unwrap_or_default();
                    let id = text(query, "QueryId").to_owned();
                    if !queries.iter().any(|(_, seen, _, _)| *seen == id) {
                        queries.push((
                            created,
                            id,
                            text(query, "QueryStatus").to_owned(),
                            text(store, "Name").to_owned(),
                        ));
                    }
                }
            }
            Err(error) => body.push_str(&alert(&api_error(&error))),
        }
    }
    queries.sort_by(|a, b| b.0.total_cmp(&a.0));
    queries.truncate(HISTORY_LENGTH);
    if queries.is_empty() {
        body.push_str("<p>No queries in the last seven days.</p>");
        return visit.respond(StatusCode::OK, "Lake query history", &body);
    }
    body.push_str(r#"<table><thead><tr><th scope="col">Started</th><th scope="col">Status</th><th scope="col">Event data store</th><th scope="col">Statement</th></tr></thead><tbody>"#);
    for (created, id, status, store) in &queries {
        let statement = match visit.call(&console, "DescribeQuery", json!({ "QueryId": id })).await {
            Ok(described) => text(&described, "QueryString").to_owned(),
            Err(error) => api_error(&error),
        };
        let _ = write!(
            body,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td><a href="/lake/queries/{}"><code>{}</code></a></td></tr>"#,
            escape(&utc_time(Some(*created)).unwrap_or_default()),
            escape(status),
            escape(store),
            escape(&percent(id)),
            escape(&shortened(&statement, 160)),
        );
    }
    body.push_str("</tbody></table>");
    visit.respond(StatusCode::OK, "Lake query history", &body)
}

/// `text` cut to `limit` characters, with an ellipsis when cut.
fn shortened(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_rows_become_columns_and_text() {
        let output = json!({"QueryResultRows": [
            [{"eventname": "CreateTrail"}, {"n": "3"}],
            [{"eventname": "<b>"}, {"n": null}],
        ]});
        let (columns, rows) = rows_of(&output);
        assert_eq!(columns, ["eventname", "n"]);
        assert_eq!(rows, [vec!["CreateTrail".to_owned(), "3".to_owned()], vec!["<b>".to_owned(), String::new()]]);
        let page = results_table("q1", &json!({}), &output);
        assert!(page.contains("&lt;b&gt;") && !page.contains("<b>"), "{page}");
    }

    #[test]
    fn a_store_form_becomes_create_or_update_input() {
        let mut form = StoreForm::new_store();
        form.name = "audit".to_owned();
        assert_eq!(
            form.input(None),
            Ok(
                json!({"Name": "audit", "RetentionPeriod": 2557, "MultiRegionEnabled": true, "TerminationProtectionEnabled": true})
            )
        );
        form.selectors = r#"[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]"#.to_owned();
        form.termination_protection = None;
        let update = form.input(Some("arn:eds")).unwrap();
        assert_eq!(update["EventDataStore"], "arn:eds");
        assert_eq!(update["TerminationProtectionEnabled"], false);
        assert!(update["AdvancedEventSelectors"].is_array());
        form.retention = "ten".to_owned();
        assert!(form.input(None).is_err());
        form.retention = "30".to_owned();
        form.selectors = "{}".to_owned();
        assert!(form.input(None).unwrap_err().contains("array"));
    }

    #[test]
    fn long_statements_are_shortened_on_a_character_boundary() {
        assert_eq!(shortened("SELECT é", 7), "SELECT …");
        assert_eq!(shortened("SELECT", 7), "SELECT");
    }
}
