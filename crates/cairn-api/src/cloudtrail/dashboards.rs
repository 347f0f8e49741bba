//! CloudTrail Lake dashboards (spec/api.md §1.10, §2.11): CreateDashboard, GetDashboard,
//! UpdateDashboard, DeleteDashboard, ListDashboards and StartDashboardRefresh.
//!
//! A dashboard belongs to one account and region and is addressed by name or ARN
//! (`arn:aws:cloudtrail:<region>:<account>:dashboard/<name>`). Each widget is a Lake query over event
//! data stores of the caller; a refresh starts one query per widget and remembers their IDs, so
//! DescribeQuery and GetQueryResults find a widget's query by `QueryAlias` and `RefreshId`. Only custom
//! dashboards exist here: the managed Highlights dashboard is not offered.

mod refresh;
mod schedule;
mod statement;

use std::collections::BTreeMap;

use cairn_model::arn::Arn;
use cairn_model::error::truncate_for_message;
use cairn_model::trail::Tag;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::records::{DashboardRecord, DashboardStatus, DashboardType, DashboardWidget, EventDataStoreStatus};
use cairn_store::{Change, Record};
use serde::Deserialize;
use serde_json::{Value, json};

use self::refresh::Trigger;
use self::schedule::{ScheduleInput, next_refresh, parameter_values, parse_schedule, schedule_output};
use super::input::required;
use super::{Ctx, tags};
use crate::json11::input;
use crate::pagination;

/// Custom dashboards per account and region (spec/api.md §2.12).
const MAX_DASHBOARDS_PER_REGION: usize = 100;
/// Widgets per custom dashboard (spec/api.md §2.12).
const MAX_WIDGETS: usize = 10;
/// The name that asks for the managed Highlights dashboard.
const HIGHLIGHTS_NAME: &str = "AWSCloudTrail-Highlights";
/// Dashboards per ListDashboards page when `MaxResults` is not given.
const DEFAULT_PAGE_SIZE: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WidgetInput {
    query_statement: Option<String>,
    query_parameters: Option<Vec<String>>,
    view_properties: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    name: Option<String>,
    refresh_schedule: Option<ScheduleInput>,
    tags_list: Option<Vec<Tag>>,
    termination_protection_enabled: Option<bool>,
    widgets: Option<Vec<WidgetInput>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    dashboard_id: Option<String>,
    widgets: Option<Vec<WidgetInput>>,
    refresh_schedule: Option<ScheduleInput>,
    termination_protection_enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DashboardIdInput {
    dashboard_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    name_prefix: Option<String>,
    #[serde(rename = "Type")]
    dashboard_type: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RefreshInput {
    dashboard_id: Option<String>,
    query_parameter_values: Option<BTreeMap<String, String>>,
}

// ---------------------------------------------------------------------------------------------
// Handlers

pub(crate) fn create_dashboard(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: CreateInput = input(raw)?;
    let name = required(request.name, "name")?;
    validate_name(&name, "name")?;
    if name == HIGHLIGHTS_NAME {
        return Err(ApiError::new(
            ErrorCode::UnsupportedOperation,
            "The managed Highlights dashboard is not available in cairn; create a custom dashboard instead.",
        ));
    }
    let widgets = parse_widgets(ctx, &name, request.widgets.unwrap_or_default())?;
    let refresh_schedule = request.refresh_schedule.map(parse_schedule).transpose()?;
    let tags = match request.tags_list {
        Some(tag_list) => tags::merged(&[], &tag_list)?,
        None => Vec::new(),
    };
    let now = ctx.now();
    let dashboard = DashboardRecord {
        account_id: ctx.account_id().to_owned(),
        region: ctx.region().to_owned(),
        name,
        dashboard_type: DashboardType::Custom,
        status: DashboardStatus::Created,
        widgets,
        next_scheduled_refresh: refresh_schedule.as_ref().and_then(|s| next_refresh(s, now)),
        refresh_schedule,
        termination_protection_enabled: request.termination_protection_enabled.unwrap_or(false),
        tags,
        created_at: now,
        updated_at: now,
        refreshes: Vec::new(),
        last_refresh_failure_reason: None,
    };
    ctx.state.dashboards.transact(|dashboards| {
        if dashboards.contains_key(&dashboard.key()) {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("A dashboard named {} already exists in {}.", dashboard.name, dashboard.region),
            ));
        }
        let count = dashboards.values().filter(|d| is_own(ctx, d)).count();
        if count >= MAX_DASHBOARDS_PER_REGION {
            return Err(ApiError::new(
                ErrorCode::ServiceQuotaExceeded,
                format!(
                    "Account {} already has {count} dashboards in {}; the limit is {MAX_DASHBOARDS_PER_REGION}.",
                    dashboard.account_id, dashboard.region
                ),
            ));
        }
        let mut output = json!({
            "DashboardArn": dashboard.arn(),
            "Name": dashboard.name,
            "Type": dashboard.dashboard_type.as_str(),
            "Widgets": widgets_output(&dashboard.widgets),
            "TagsList": dashboard.tags,
            "TerminationProtectionEnabled": dashboard.termination_protection_enabled,
        });
        if let Some(schedule) = &dashboard.refresh_schedule {
            output["RefreshSchedule"] = schedule_output(schedule);
        }
        Ok((output, vec![Change::Put(dashboard.clone())]))
    })
}

pub(crate) fn get_dashboard(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: DashboardIdInput = input(raw)?;
    let reference = DashboardRef::parse(&required(request.dashboard_id, "dashboardId")?)?;
    let dashboard = find(ctx, &reference)?;
    let mut output = json!({
        "DashboardArn": dashboard.arn(),
        "Type": dashboard.dashboard_type.as_str(),
        "Status": dashboard.status.as_str(),
        "Widgets": widgets_output(&dashboard.widgets),
        "CreatedTimestamp": cairn_model::clock::epoch_seconds(dashboard.created_at),
        "UpdatedTimestamp": cairn_model::clock::epoch_seconds(dashboard.updated_at),
        "TerminationProtectionEnabled": dashboard.termination_protection_enabled,
    });
    if let Some(schedule) = &dashboard.refresh_schedule {
        output["RefreshSchedule"] = schedule_output(schedule);
    }
    if let Some(last) = dashboard.last_refresh() {
        output["LastRefreshId"] = json!(last.id);
    }
    if let Some(reason) = &dashboard.last_refresh_failure_reason {
        output["LastRefreshFailureReason"] = json!(reason);
    }
    Ok(output)
}

pub(crate) fn update_dashboard(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: UpdateInput = input(raw)?;
    let reference = DashboardRef::parse(&required(request.dashboard_id, "dashboardId")?)?;
    let key = reference.key(ctx)?;
    let name = reference.name().to_owned();
    let widgets = request.widgets.map(|widgets| parse_widgets(ctx, &name, widgets)).transpose()?;
    let refresh_schedule = request.refresh_schedule.map(parse_schedule).transpose()?;
    ctx.state.dashboards.transact(|dashboards| {
        let Some(current) = dashboards.get(&key) else { return Err(not_found(ctx, &reference)) };
        let now = ctx.now();
        let mut dashboard = current.clone();
        if let Some(widgets) = widgets {
            dashboard.widgets = widgets;
        }
        if let Some(schedule) = refresh_schedule {
            dashboard.next_scheduled_refresh = next_refresh(&schedule, now);
            dashboard.refresh_schedule = Some(schedule);
        }
        if let Some(protected) = request.termination_protection_enabled {
            dashboard.termination_protection_enabled = protected;
        }
        dashboard.status = DashboardStatus::Updated;
        dashboard.updated_at = now;
        let mut output = json!({
            "DashboardArn": dashboard.arn(),
            "Name": dashboard.name,
            "Type": dashboard.dashboard_type.as_str(),
            "Widgets": widgets_output(&dashboard.widgets),
            "TerminationProtectionEnabled": dashboard.termination_protection_enabled,
            "CreatedTimestamp": cairn_model::clock::epoch_seconds(dashboard.created_at),
            "UpdatedTimestamp": cairn_model::clock::epoch_seconds(dashboard.updated_at),
        });
        if let Some(schedule) = &dashboard.refresh_schedule {
            output["RefreshSchedule"] = schedule_output(schedule);
        }
        Ok::<_, ApiError>((output, vec![Change::Put(dashboard)]))
    })
}

pub(crate) fn delete_dashboard(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: DashboardIdInput = input(raw)?;
    let reference = DashboardRef::parse(&required(request.dashboard_id, "dashboardId")?)?;
    let key = reference.key(ctx)?;
    let deleted = ctx.state.dashboards.transact(|dashboards| {
        let Some(current) = dashboards.get(&key) else { return Err(not_found(ctx, &reference)) };
        if current.termination_protection_enabled {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "Dashboard {} cannot be deleted because termination protection is enabled. \
                     Disable termination protection with UpdateDashboard first.",
                    current.arn()
                ),
            ));
        }
        Ok::<_, ApiError>((json!({}), vec![Change::Delete(key.clone())]))
    })?;
    super::resource_policies::drop_policy(ctx.state, &reference.shown(ctx));
    Ok(deleted)
}

pub(crate) fn list_dashboards(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ListInput = input(raw)?;
    let page_size = match request.max_results {
        None => DEFAULT_PAGE_SIZE,
        Some(max) => match usize::try_from(max) {
            Ok(max) if (1..=1000).contains(&max) => max,
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: \
                     Member must have value between 1 and 1000"
                )));
            }
        },
    };
    if let Some(prefix) = &request.name_prefix {
        validate_name(prefix, "namePrefix")?;
    }
    let wanted_type = match request.dashboard_type.as_deref() {
        None => None,
        Some(text) => Some(DashboardType::parse(text).ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'type' failed to satisfy constraint: \
                 Member must satisfy enum value set: [MANAGED, CUSTOM]",
                truncate_for_message(text)
            ))
        })?),
    };
    let after = request.next_token.as_deref().map(|token| pagination::decode(token, "ListDashboards")).transpose()?;
    ctx.state.dashboards.read(|dashboards| {
        let mut page: Vec<&DashboardRecord> = dashboards
            .iter()
            .filter(|(key, _)| after.as_ref().is_none_or(|after| *key > after))
            .map(|(_, dashboard)| dashboard)
            .filter(|d| is_own(ctx, d))
            .filter(|d| request.name_prefix.as_deref().is_none_or(|prefix| d.name.starts_with(prefix)))
            .filter(|d| wanted_type.is_none_or(|t| d.dashboard_type == t))
            .take(page_size + 1)
            .collect();
        let has_more = page.len() > page_size;
        page.truncate(page_size);
        let items: Vec<Value> =
            page.iter().map(|d| json!({"DashboardArn": d.arn(), "Type": d.dashboard_type.as_str()})).collect();
        let mut output = json!({ "Dashboards": items });
        if has_more && let Some(last) = page.last() {
            output["NextToken"] = json!(pagination::encode(&last.key(), "ListDashboards"));
        }
        Ok(output)
    })
}

pub(crate) fn start_dashboard_refresh(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: RefreshInput = input(raw)?;
    let reference = DashboardRef::parse(&required(request.dashboard_id, "dashboardId")?)?;
    let values = parameter_values(request.query_parameter_values.as_ref(), ctx.now())?;
    let key = reference.key(ctx)?;
    if ctx.state.dashboards.get(&key).is_none() {
        return Err(not_found(ctx, &reference));
    }
    let refresh_id = refresh::refresh(ctx.state, &key, &values, Trigger::Manual)?;
    Ok(json!({ "RefreshId": refresh_id }))
}

/// The ID of the Lake query that the widget `alias` ran in refresh `refresh_id` (the newest refresh
/// with that widget when no ID is given), for DescribeQuery and GetQueryResults.
pub(crate) fn query_id_of_alias(ctx: &Ctx<'_>, alias: &str, refresh_id: Option<&str>) -> Result<String, ApiError> {
    if !(1..=256).contains(&alias.chars().count()) {
        return Err(ApiError::invalid_parameter(
            "1 validation error detected: Value at 'queryAlias' failed to satisfy constraint: \
             Member must have length between 1 and 256",
        ));
    }
    if let Some(id) = refresh_id
        && (!(10..=20).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::invalid_parameter(format!(
            "RefreshId must be 10 to 20 digits; got '{}'.",
            truncate_for_message(id)
        )));
    }
    let found = ctx.state.dashboards.read(|dashboards| {
        dashboards
            .values()
            .filter(|d| is_own(ctx, d))
            .flat_map(|d| &d.refreshes)
            .filter(|r| refresh_id.is_none_or(|id| r.id == id))
            .flat_map(|r| r.queries.iter().map(move |q| (r, q)))
            .filter(|(_, q)| q.query_alias == alias)
            .max_by(|(a, _), (b, _)| a.started_at.cmp(&b.started_at).then_with(|| a.id.cmp(&b.id)))
            .map(|(_, q)| q.query_id.clone())
    });
    found.ok_or_else(|| {
        let shown = truncate_for_message(alias);
        ApiError::new(
            ErrorCode::QueryIdNotFound,
            match refresh_id {
                Some(id) => format!("Dashboard refresh {id} ran no query with the alias {shown}."),
                None => format!("No dashboard refresh ran a query with the alias {shown}."),
            },
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Finding a dashboard

/// A `DashboardId`: a dashboard's name or ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DashboardRef {
    Name(String),
    Arn { region: String, account: String, name: String },
}

impl DashboardRef {
    fn parse(value: &str) -> Result<DashboardRef, ApiError> {
        let shown = truncate_for_message(value);
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-:".contains(&b)) {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{shown}' at 'dashboardId' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: ^[a-zA-Z0-9._/\\-:]+$"
            )));
        }
        if !value.starts_with("arn:") {
            return Ok(DashboardRef::Name(value.to_owned()));
        }
        let invalid = || {
            ApiError::invalid_parameter(format!(
                "{shown} is not a dashboard ARN; expected arn:aws:cloudtrail:<region>:<account>:dashboard/<name>."
            ))
        };
        let arn = Arn::parse(value).ok_or_else(invalid)?;
        let name = arn.resource.strip_prefix("dashboard/").filter(|n| !n.is_empty()).ok_or_else(invalid)?;
        if arn.service != "cloudtrail" {
            return Err(invalid());
        }
        Ok(DashboardRef::Arn { region: arn.region.to_owned(), account: arn.account.to_owned(), name: name.to_owned() })
    }

    fn name(&self) -> &str {
        match self {
            DashboardRef::Name(name) | DashboardRef::Arn { name, .. } => name,
        }
    }

    /// The registry key of the dashboard the reference names, or `ResourceNotFoundException` for an
    /// ARN of another account or region (the caller sees only its own dashboards there).
    fn key(&self, ctx: &Ctx<'_>) -> Result<String, ApiError> {
        match self {
            DashboardRef::Name(name) => Ok(DashboardRecord::key_of(ctx.account_id(), ctx.region(), name)),
            DashboardRef::Arn { region, account, name } if region == ctx.region() && account == ctx.account_id() => {
                Ok(DashboardRecord::key_of(account, region, name))
            }
            DashboardRef::Arn { .. } => Err(not_found(ctx, self)),
        }
    }

    /// The ARN the reference names, as seen from the caller's account and region.
    fn shown(&self, ctx: &Ctx<'_>) -> String {
        match self {
            DashboardRef::Name(name) => {
                format!("arn:aws:cloudtrail:{}:{}:dashboard/{name}", ctx.region(), ctx.account_id())
            }
            DashboardRef::Arn { region, account, name } => {
                format!("arn:aws:cloudtrail:{region}:{account}:dashboard/{name}")
            }
        }
    }
}

fn find(ctx: &Ctx<'_>, reference: &DashboardRef) -> Result<DashboardRecord, ApiError> {
    ctx.state.dashboards.get(&reference.key(ctx)?).ok_or_else(|| not_found(ctx, reference))
}

fn not_found(ctx: &Ctx<'_>, reference: &DashboardRef) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFound,
        format!("The dashboard {} was not found.", truncate_for_message(&reference.shown(ctx))),
    )
}

/// Whether the dashboard is the caller's own, in the caller's region: the only ones it sees.
fn is_own(ctx: &Ctx<'_>, dashboard: &DashboardRecord) -> bool {
    dashboard.account_id == ctx.account_id() && dashboard.region == ctx.region()
}

// ---------------------------------------------------------------------------------------------
// Rules

/// A dashboard name (or a prefix of one): 3–128 characters of `[a-zA-Z0-9_\-]`.
fn validate_name(name: &str, member: &str) -> Result<(), ApiError> {
    let shown = truncate_for_message(name);
    if !(3..=128).contains(&name.chars().count()) {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: \
             Member must have length between 3 and 128"
        )));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-]+$"
        )));
    }
    Ok(())
}

/// The alias of the widget at `widget_idx` of dashboard `name`: it names the widget's query of a
/// refresh, and is unique in the account and region because the name is.
fn query_alias(name: &str, widget_idx: usize) -> String {
    format!("Widget{}-{name}", widget_idx + 1)
}

/// Checks the widgets of a request and gives each its alias.
fn parse_widgets(ctx: &Ctx<'_>, name: &str, widgets: Vec<WidgetInput>) -> Result<Vec<DashboardWidget>, ApiError> {
    if widgets.len() > MAX_WIDGETS {
        return Err(ApiError::new(
            ErrorCode::ServiceQuotaExceeded,
            format!("A custom dashboard can have at most {MAX_WIDGETS} widgets; the request has {}.", widgets.len()),
        ));
    }
    widgets
        .into_iter()
        .enumerate()
        .map(|(widget_idx, widget)| {
            parse_widget(ctx, widget, query_alias(name, widget_idx)).map_err(|e| of_widget(widget_idx, e))
        })
        .collect()
}

fn parse_widget(ctx: &Ctx<'_>, widget: WidgetInput, query_alias: String) -> Result<DashboardWidget, ApiError> {
    let query_statement = required(widget.query_statement, "queryStatement")?;
    if !(1..=10_000).contains(&query_statement.chars().count()) {
        return Err(ApiError::invalid_parameter(
            "1 validation error detected: Value at 'queryStatement' failed to satisfy constraint: \
             Member must have length between 1 and 10000",
        ));
    }
    let view_properties = required(widget.view_properties, "viewProperties")?;
    check_view_properties(&view_properties)?;
    if let Some(parameters) = &widget.query_parameters {
        check_query_parameters(parameters)?;
    }
    let n_parameters = widget.query_parameters.as_ref().map_or(0, Vec::len);
    let n_placeholders = statement::placeholder_count(&query_statement);
    if n_placeholders != n_parameters {
        return Err(statement::count_mismatch(n_placeholders, n_parameters));
    }
    check_stores(ctx, &query_statement)?;
    Ok(DashboardWidget { query_alias, query_statement, query_parameters: widget.query_parameters, view_properties })
}

fn of_widget(widget_idx: usize, error: ApiError) -> ApiError {
    ApiError::new(error.code, format!("Widget {}: {}", widget_idx + 1, error.message))
}

/// Keys 3–128 characters of `[a-zA-Z0-9._\-]`, values 1–128 of the same and spaces.
fn check_view_properties(properties: &BTreeMap<String, String>) -> Result<(), ApiError> {
    for (key, value) in properties {
        let key_ok = (3..=128).contains(&key.len())
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !key_ok {
            return Err(ApiError::invalid_parameter(format!(
                "ViewProperties key '{}' must be 3 to 128 characters of letters, digits, '.', '_' and '-'.",
                truncate_for_message(key)
            )));
        }
        let value_ok = (1..=128).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b' '));
        if !value_ok {
            return Err(ApiError::invalid_parameter(format!(
                "ViewProperties value '{}' of {key} must be 1 to 128 characters of letters, digits, spaces, '.', \
                 '_' and '-'.",
                truncate_for_message(value)
            )));
        }
    }
    Ok(())
}

/// 1–10 parameters of 1–1024 characters; a `$Name$` parameter must be one a refresh gives.
fn check_query_parameters(parameters: &[String]) -> Result<(), ApiError> {
    super::input::check_count(parameters, "queryParameters", 1, 10)?;
    for parameter in parameters {
        if !(1..=1024).contains(&parameter.chars().count()) {
            return Err(ApiError::invalid_parameter(
                "1 validation error detected: Value at 'queryParameters' failed to satisfy constraint: \
                 Member must have length between 1 and 1024",
            ));
        }
        let named = parameter.len() > 2 && parameter.starts_with('$') && parameter.ends_with('$');
        if named && !statement::PARAMETER_NAMES.contains(&parameter.as_str()) {
            return Err(ApiError::invalid_parameter(format!(
                "{} is not a query parameter; widgets take {}.",
                truncate_for_message(parameter),
                statement::PARAMETER_NAMES.join(", ")
            )));
        }
    }
    Ok(())
}

/// The statement names at least one event data store, and each is an active store of the caller.
fn check_stores(ctx: &Ctx<'_>, query_statement: &str) -> Result<(), ApiError> {
    let ids = statement::store_ids(query_statement);
    if ids.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidQueryStatement,
            "The query must read an event data store: name its ID after FROM.",
        ));
    }
    for id in ids {
        let store = ctx.state.event_data_stores.get(&id).filter(|s| s.account_id == ctx.account_id());
        match store {
            Some(store) if store.region == ctx.region() => {
                if store.status == EventDataStoreStatus::PendingDeletion {
                    return Err(ApiError::new(
                        ErrorCode::InactiveEventDataStore,
                        format!("Event data store {} is inactive: it is pending deletion.", store.arn()),
                    ));
                }
            }
            _ => {
                return Err(ApiError::new(
                    ErrorCode::EventDataStoreNotFound,
                    format!(
                        "The event data store {id} was not found in account {} and region {}.",
                        ctx.account_id(),
                        ctx.region()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn widgets_output(widgets: &[DashboardWidget]) -> Vec<Value> {
    widgets
        .iter()
        .map(|widget| {
            let mut out = json!({
                "QueryAlias": widget.query_alias,
                "QueryStatement": widget.query_statement,
                "ViewProperties": widget.view_properties,
            });
            if let Some(parameters) = &widget.query_parameters {
                out["QueryParameters"] = json!(parameters);
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests;
