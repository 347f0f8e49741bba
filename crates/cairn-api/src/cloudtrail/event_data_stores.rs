//! The CloudTrail Lake event data store control plane (spec/api.md §1.6, §2.8):
//! CreateEventDataStore, GetEventDataStore, UpdateEventDataStore, DeleteEventDataStore,
//! RestoreEventDataStore, ListEventDataStores, StartEventDataStoreIngestion and
//! StopEventDataStoreIngestion.
//!
//! A store belongs to one account and one region and is seen only there. Its ingestion ranges
//! (stretches of the write-ahead log) say which events the Lake copies into it: creation and
//! StartEventDataStoreIngestion open a range at the log's next LSN, StopEventDataStoreIngestion
//! and DeleteEventDataStore close it there.

use std::collections::BTreeMap;

use cairn_model::arn::{Arn, is_account_id};
use cairn_model::error::truncate_for_message;
use cairn_model::region::is_region_name;
use cairn_model::trail::Tag;
use cairn_model::{ApiError, ErrorCode};
use cairn_select::AdvancedEventSelector;
use cairn_store::records::{BillingMode, EventDataStoreRecord, EventDataStoreStatus, IngestionRange};
use cairn_store::{Change, Record};
use serde::Deserialize;
use serde_json::{Value, json};

use super::input::required;
use super::shapes::{self, EventDataStoreShape};
use super::{Ctx, channels, destinations, resource_policies, tags, trails};
use crate::json11::input;
use crate::pagination;

/// Event data stores per account and region, whatever their status (spec/api.md §2.8).
pub(crate) const MAX_EVENT_DATA_STORES_PER_REGION: usize = 10;
/// Shortest retention any billing mode allows, in days.
const MIN_RETENTION_DAYS: i64 = 7;
/// The model's bound on `RetentionPeriod`, checked before the billing mode's own.
const MODEL_MAX_RETENTION_DAYS: i64 = 3653;
/// The event categories whose stores are fed from CloudTrail's own log and can stop and start
/// ingesting; the others (ActivityAuditLog, Insight, Evidence) are fed otherwise.
const INGESTIBLE_CATEGORIES: &[&str] = &["Management", "Data", "NetworkActivity", "ConfigurationItem"];
/// The category that channels feed; such stores are single-region and not organization stores.
const CHANNEL_CATEGORY: &str = "ActivityAuditLog";
/// The categories CloudTrail itself records and a store may mix.
const CLOUDTRAIL_CATEGORIES: &[&str] = &["Management", "Data", "NetworkActivity"];

/// The settings CreateEventDataStore and UpdateEventDataStore share; `None` leaves a setting as it is.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StoreSettings {
    name: Option<String>,
    advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
    multi_region_enabled: Option<bool>,
    organization_enabled: Option<bool>,
    retention_period: Option<i64>,
    termination_protection_enabled: Option<bool>,
    kms_key_id: Option<String>,
    billing_mode: Option<String>,
}

impl StoreSettings {
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.advanced_event_selectors.is_none()
            && self.multi_region_enabled.is_none()
            && self.organization_enabled.is_none()
            && self.retention_period.is_none()
            && self.termination_protection_enabled.is_none()
            && self.kms_key_id.is_none()
            && self.billing_mode.is_none()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    tags_list: Option<Vec<Tag>>,
    start_ingestion: Option<bool>,
    #[serde(flatten)]
    settings: StoreSettings,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    event_data_store: Option<String>,
    #[serde(flatten)]
    settings: StoreSettings,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StoreInput {
    event_data_store: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    next_token: Option<String>,
    max_results: Option<i64>,
}

// ---------------------------------------------------------------------------------------------
// Handlers

pub(crate) fn create_event_data_store(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: CreateInput = input(raw)?;
    let settings = request.settings;
    let name = required(settings.name, "name")?;
    validate_name(&name)?;
    let billing_mode = settings.billing_mode.as_deref().map(parse_billing_mode).transpose()?;
    let billing_mode = billing_mode.unwrap_or(BillingMode::ExtendableRetentionPricing);
    let retention_period = match settings.retention_period {
        Some(days) => check_retention(days, billing_mode)?,
        None => billing_mode.default_retention(),
    };
    let advanced_event_selectors = match settings.advanced_event_selectors {
        Some(selectors) => cairn_select::validate_event_data_store_advanced_event_selectors(selectors)?,
        None => cairn_select::default_event_data_store_selectors(),
    };
    let multi_region_enabled = settings.multi_region_enabled.unwrap_or(true);
    let organization_enabled = settings.organization_enabled.unwrap_or(false);
    check_channel_store_scope(&advanced_event_selectors, multi_region_enabled, organization_enabled)?;
    let start_ingestion = request.start_ingestion.unwrap_or(true);
    if !start_ingestion && !is_ingestible(&advanced_event_selectors) {
        return Err(category_error(&advanced_event_selectors, "StartIngestion=false"));
    }
    let kms_key_id = settings.kms_key_id.as_deref().map(|key| destinations::resolve_kms_key(ctx, key)).transpose()?;
    if organization_enabled {
        trails::management_organization(ctx)?;
    }
    let tags = match request.tags_list {
        Some(tag_list) => tags::merged(&[], &tag_list)?,
        None => Vec::new(),
    };
    let now = ctx.now();
    let mut store = EventDataStoreRecord {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: ctx.account_id().to_owned(),
        region: ctx.region().to_owned(),
        name,
        status: if start_ingestion { EventDataStoreStatus::Enabled } else { EventDataStoreStatus::StoppedIngestion },
        advanced_event_selectors,
        multi_region_enabled,
        organization_enabled,
        retention_period,
        termination_protection_enabled: settings.termination_protection_enabled.unwrap_or(true),
        kms_key_id,
        billing_mode,
        tags,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        ingestion: Vec::new(),
        channels: Vec::new(),
        insights: None,
    };
    ctx.state.event_data_stores.transact(|stores| {
        check_name_free(stores, &store, None)?;
        check_quota(stores, ctx.account_id(), ctx.region(), None)?;
        if start_ingestion {
            store.ingestion.push(IngestionRange { start: ctx.state.events.next_lsn(), end: None });
        }
        let output = shapes::event_data_store_output(&store, EventDataStoreShape::Create);
        Ok::<_, ApiError>((output, vec![Change::Put(store)]))
    })
}

pub(crate) fn get_event_data_store(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let reference = store_reference(raw)?;
    read(ctx, &reference, Use::Any, |store| shapes::event_data_store_output(store, EventDataStoreShape::Full))
}

pub(crate) fn update_event_data_store(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: UpdateInput = input(raw)?;
    let reference = EventDataStoreRef::parse(&required(request.event_data_store, "eventDataStore")?)?;
    let settings = request.settings;
    if settings.is_empty() {
        return Err(ApiError::invalid_parameter(
            "Specify at least one of Name, AdvancedEventSelectors, MultiRegionEnabled, OrganizationEnabled, \
             RetentionPeriod, TerminationProtectionEnabled, KmsKeyId or BillingMode to update the event data store.",
        ));
    }
    if let Some(name) = &settings.name {
        validate_name(name)?;
    }
    let billing_mode = settings.billing_mode.as_deref().map(parse_billing_mode).transpose()?;
    if let Some(days) = settings.retention_period {
        check_retention_bounds(days)?;
    }
    let advanced_event_selectors = settings
        .advanced_event_selectors
        .map(cairn_select::validate_event_data_store_advanced_event_selectors)
        .transpose()?;
    let kms_key_id = match settings.kms_key_id.as_deref() {
        Some("") => {
            return Err(ApiError::invalid_parameter(
                "KmsKeyId cannot be empty: a KMS key cannot be removed from an event data store.",
            ));
        }
        Some(key) => Some(destinations::resolve_kms_key(ctx, key)?),
        None => None,
    };
    let changes = StoreChanges {
        name: settings.name,
        advanced_event_selectors,
        multi_region_enabled: settings.multi_region_enabled,
        organization_enabled: settings.organization_enabled,
        retention_period: settings.retention_period,
        termination_protection_enabled: settings.termination_protection_enabled,
        kms_key_id,
        billing_mode,
    };
    ctx.state.event_data_stores.transact(|stores| {
        let current = find(ctx, stores, &reference, Use::Active)?;
        super::imports::refuse_if_importing(ctx, current)?;
        if changes.organization_enabled.is_some_and(|enabled| enabled != current.organization_enabled) {
            trails::management_organization(ctx)?;
        }
        let mut store = current.clone();
        apply_changes(&mut store, changes)?;
        store.updated_at = ctx.now();
        if store.name != current.name {
            check_name_free(stores, &store, Some(current.id.as_str()))?;
        }
        let output = shapes::event_data_store_output(&store, EventDataStoreShape::Full);
        Ok::<_, ApiError>((output, vec![Change::Put(store)]))
    })
}

pub(crate) fn delete_event_data_store(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let reference = store_reference(raw)?;
    // The channels lock is taken first (the order channel operations use), so no channel can name the
    // store between the check and the deletion.
    let store_arn = ctx.state.channels.read(|channels| {
        update(ctx, &reference, |store| {
            if store.termination_protection_enabled {
                return Err(ApiError::new(
                    ErrorCode::EventDataStoreTerminationProtected,
                    format!(
                        "Event data store {} cannot be deleted because termination protection is enabled. \
                         Disable termination protection with UpdateEventDataStore first.",
                        store.arn()
                    ),
                ));
            }
            channels::refuse_if_destination(channels, store)?;
            super::imports::refuse_if_importing(ctx, store)?;
            let now = ctx.now();
            close_ingestion(store, ctx);
            channels::close_all(store, ctx.state.events.next_lsn());
            store.status = EventDataStoreStatus::PendingDeletion;
            store.deleted_at = Some(now);
            store.updated_at = now;
            Ok(store.arn())
        })
    })?;
    resource_policies::drop_policy(ctx.state, &store_arn);
    Ok(json!({}))
}

pub(crate) fn restore_event_data_store(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let reference = store_reference(raw)?;
    ctx.state.event_data_stores.transact(|stores| {
        let current = find(ctx, stores, &reference, Use::Any)?;
        if current.status != EventDataStoreStatus::PendingDeletion {
            return Err(ApiError::new(
                ErrorCode::InvalidEventDataStoreStatus,
                format!(
                    "Event data store {} is {}; only an event data store in PENDING_DELETION can be restored.",
                    current.arn(),
                    current.status.as_str()
                ),
            ));
        }
        check_quota(stores, &current.account_id, &current.region, Some(current.id.as_str()))?;
        let mut store = current.clone();
        // A restored store takes events again from now on; what happened while it was
        // pending deletion stays out of it.
        close_ingestion(&mut store, ctx);
        store.ingestion.push(IngestionRange { start: ctx.state.events.next_lsn(), end: None });
        store.status = EventDataStoreStatus::Enabled;
        store.deleted_at = None;
        store.updated_at = ctx.now();
        let output = shapes::event_data_store_output(&store, EventDataStoreShape::Restore);
        Ok::<_, ApiError>((output, vec![Change::Put(store)]))
    })
}

/// Stores per ListEventDataStores page when `MaxResults` is not given.
const DEFAULT_PAGE_SIZE: usize = 1000;

pub(crate) fn list_event_data_stores(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ListInput = input(raw)?;
    let page_size = match request.max_results {
        Some(max) => check_max_results(max)?,
        None => DEFAULT_PAGE_SIZE,
    };
    let after =
        request.next_token.as_deref().map(|token| pagination::decode(token, "ListEventDataStores")).transpose()?;
    ctx.state.event_data_stores.read(|stores| {
        let mut page: Vec<&EventDataStoreRecord> = stores
            .iter()
            .filter(|(key, store)| after.as_ref().is_none_or(|after| *key > after) && is_own(ctx, store))
            .map(|(_, store)| store)
            .take(page_size + 1)
            .collect();
        let has_more = page.len() > page_size;
        page.truncate(page_size);
        let items: Vec<Value> = page.iter().copied().map(shapes::event_data_store_info).collect();
        let mut output = json!({"EventDataStores": items});
        if has_more && let Some(last) = page.last() {
            output["NextToken"] = json!(pagination::encode(&last.key(), "ListEventDataStores"));
        }
        Ok(output)
    })
}

pub(crate) fn start_event_data_store_ingestion(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let reference = store_reference(raw)?;
    update(ctx, &reference, |store| {
        if !is_ingestible(&store.advanced_event_selectors) {
            return Err(category_error(&store.advanced_event_selectors, "StartEventDataStoreIngestion"));
        }
        require_status(store, EventDataStoreStatus::StoppedIngestion, "StartEventDataStoreIngestion")?;
        store.ingestion.push(IngestionRange { start: ctx.state.events.next_lsn(), end: None });
        store.status = EventDataStoreStatus::Enabled;
        store.updated_at = ctx.now();
        Ok(json!({}))
    })
}

pub(crate) fn stop_event_data_store_ingestion(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let reference = store_reference(raw)?;
    update(ctx, &reference, |store| {
        if !is_ingestible(&store.advanced_event_selectors) {
            return Err(category_error(&store.advanced_event_selectors, "StopEventDataStoreIngestion"));
        }
        require_status(store, EventDataStoreStatus::Enabled, "StopEventDataStoreIngestion")?;
        close_ingestion(store, ctx);
        store.status = EventDataStoreStatus::StoppedIngestion;
        store.updated_at = ctx.now();
        Ok(json!({}))
    })
}

// ---------------------------------------------------------------------------------------------
// Finding a store

/// An `EventDataStore` input: a store's ARN or its bare ID (the UUID at the end of the ARN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventDataStoreRef {
    Id(String),
    Arn { region: String, account: String, id: String },
}

impl EventDataStoreRef {
    /// Parses an `EventDataStore` member (3–256 characters of `[a-zA-Z0-9._/\-:]`).
    pub(crate) fn parse(value: &str) -> Result<EventDataStoreRef, ApiError> {
        let shown = truncate_for_message(value);
        let length = value.chars().count();
        if !(3..=256).contains(&length) {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{shown}' at 'eventDataStore' failed to satisfy constraint: \
                 Member must have length between 3 and 256"
            )));
        }
        if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-:".contains(&b)) {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{shown}' at 'eventDataStore' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: ^[a-zA-Z0-9._/\\-:]+$"
            )));
        }
        if value.contains([':', '/']) {
            return EventDataStoreRef::parse_arn(value);
        }
        Ok(EventDataStoreRef::Id(value.to_owned()))
    }

    /// Parses `arn:<partition>:cloudtrail:<region>:<account>:eventdatastore/<id>`.
    pub(crate) fn parse_arn(value: &str) -> Result<EventDataStoreRef, ApiError> {
        let invalid = || {
            ApiError::new(
                ErrorCode::EventDataStoreArnInvalid,
                format!("The event data store ARN {} is not valid.", truncate_for_message(value)),
            )
        };
        let arn = Arn::parse(value).ok_or_else(invalid)?;
        let id = arn.resource.strip_prefix("eventdatastore/").ok_or_else(invalid)?;
        let id_ok = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if arn.service != "cloudtrail" || !is_region_name(arn.region) || !is_account_id(arn.account) || !id_ok {
            return Err(invalid());
        }
        Ok(EventDataStoreRef::Arn { region: arn.region.to_owned(), account: arn.account.to_owned(), id: id.to_owned() })
    }

    fn id(&self) -> &str {
        match self {
            EventDataStoreRef::Id(id) | EventDataStoreRef::Arn { id, .. } => id,
        }
    }

    /// The ARN the reference names, as seen from the caller's account and region.
    fn shown(&self, ctx: &Ctx<'_>) -> String {
        match self {
            EventDataStoreRef::Id(id) => {
                format!("arn:aws:cloudtrail:{}:{}:eventdatastore/{id}", ctx.region(), ctx.account_id())
            }
            EventDataStoreRef::Arn { region, account, id } => {
                format!("arn:aws:cloudtrail:{region}:{account}:eventdatastore/{id}")
            }
        }
    }
}

/// What an operation may do with a store pending deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// GetEventDataStore and RestoreEventDataStore: any status.
    Any,
    /// Everything else: a store pending deletion is inactive.
    Active,
}

/// Whether `store` is the caller's own, in the caller's region: the only stores it sees.
fn is_own(ctx: &Ctx<'_>, store: &EventDataStoreRecord) -> bool {
    store.account_id == ctx.account_id() && store.region == ctx.region()
}

/// Finds the store `reference` names among `stores`, as the caller may use it.
pub(crate) fn find<'s>(
    ctx: &Ctx<'_>,
    stores: &'s BTreeMap<String, EventDataStoreRecord>,
    reference: &EventDataStoreRef,
    usage: Use,
) -> Result<&'s EventDataStoreRecord, ApiError> {
    let found = stores.get(reference.id()).filter(|store| {
        is_own(ctx, store)
            && match reference {
                EventDataStoreRef::Id(_) => true,
                EventDataStoreRef::Arn { region, account, .. } => {
                    *region == store.region && *account == store.account_id
                }
            }
    });
    let Some(store) = found else {
        return Err(ApiError::new(
            ErrorCode::EventDataStoreNotFound,
            format!(
                "The specified event data store ARN {} was not found.",
                truncate_for_message(&reference.shown(ctx))
            ),
        ));
    };
    if usage == Use::Active && store.status == EventDataStoreStatus::PendingDeletion {
        return Err(ApiError::new(
            ErrorCode::InactiveEventDataStore,
            format!(
                "Event data store {} is inactive: it is pending deletion. Restore it with RestoreEventDataStore to use it.",
                store.arn()
            ),
        ));
    }
    Ok(store)
}

/// Changes the active store `reference` names and commits it durably.
pub(crate) fn update<R>(
    ctx: &Ctx<'_>,
    reference: &EventDataStoreRef,
    change: impl FnOnce(&mut EventDataStoreRecord) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    ctx.state.event_data_stores.transact(|stores| {
        let mut store = find(ctx, stores, reference, Use::Active)?.clone();
        let result = change(&mut store)?;
        Ok::<_, ApiError>((result, vec![Change::Put(store)]))
    })
}

/// Reads the store `reference` names, if the caller may use it so.
pub(crate) fn read<R>(
    ctx: &Ctx<'_>,
    reference: &EventDataStoreRef,
    usage: Use,
    read: impl FnOnce(&EventDataStoreRecord) -> R,
) -> Result<R, ApiError> {
    ctx.state.event_data_stores.read(|stores| find(ctx, stores, reference, usage).map(read))
}

fn store_reference(raw: Value) -> Result<EventDataStoreRef, ApiError> {
    let request: StoreInput = input(raw)?;
    EventDataStoreRef::parse(&required(request.event_data_store, "eventDataStore")?)
}

// ---------------------------------------------------------------------------------------------
// Rules

/// `Name`: 3–128 characters of `[a-zA-Z0-9._\-]`.
fn validate_name(name: &str) -> Result<(), ApiError> {
    let shown = truncate_for_message(name);
    let length = name.chars().count();
    if !(3..=128).contains(&length) {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{shown}' at 'name' failed to satisfy constraint: \
             Member must have length between 3 and 128"
        )));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{shown}' at 'name' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^[a-zA-Z0-9._\\-]+$"
        )));
    }
    Ok(())
}

fn parse_billing_mode(value: &str) -> Result<BillingMode, ApiError> {
    BillingMode::parse(value).ok_or_else(|| {
        ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'billingMode' failed to satisfy constraint: \
             Member must satisfy enum value set: [EXTENDABLE_RETENTION_PRICING, FIXED_RETENTION_PRICING]",
            truncate_for_message(value)
        ))
    })
}

/// The model's range for `RetentionPeriod`: 7–3653 days.
fn check_retention_bounds(days: i64) -> Result<(), ApiError> {
    if days < MIN_RETENTION_DAYS {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{days}' at 'retentionPeriod' failed to satisfy constraint: \
             Member must have value greater than or equal to {MIN_RETENTION_DAYS}"
        )));
    }
    if days > MODEL_MAX_RETENTION_DAYS {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{days}' at 'retentionPeriod' failed to satisfy constraint: \
             Member must have value less than or equal to {MODEL_MAX_RETENTION_DAYS}"
        )));
    }
    Ok(())
}

/// A retention period the billing mode allows, in days.
fn check_retention(days: i64, billing_mode: BillingMode) -> Result<u32, ApiError> {
    check_retention_bounds(days)?;
    let max = billing_mode.max_retention();
    match u32::try_from(days) {
        Ok(days) if days <= max => Ok(days),
        _ => Err(ApiError::invalid_parameter(format!(
            "The retention period of an event data store with billing mode {} must be between \
             {MIN_RETENTION_DAYS} and {max} days; got {days}.",
            billing_mode.as_str()
        ))),
    }
}

pub(crate) fn check_max_results(max: i64) -> Result<usize, ApiError> {
    match usize::try_from(max) {
        Ok(max) if (1..=1000).contains(&max) => Ok(max),
        _ => Err(ApiError::new(
            ErrorCode::InvalidMaxResults,
            format!("MaxResults must be between 1 and 1000; got {max}."),
        )),
    }
}

/// The `eventCategory` values the selectors name, each once (validated selectors name one each).
pub(crate) fn categories(selectors: &[AdvancedEventSelector]) -> Vec<&str> {
    let mut categories: Vec<&str> = Vec::new();
    let named = selectors
        .iter()
        .flat_map(|selector| &selector.field_selectors)
        .filter(|field_selector| field_selector.field == "eventCategory")
        .flat_map(|field_selector| field_selector.equals.iter().flatten());
    for category in named {
        if !categories.contains(&category.as_str()) {
            categories.push(category);
        }
    }
    categories
}

/// Whether a store with these selectors is fed from CloudTrail's log and so can stop and start.
fn is_ingestible(selectors: &[AdvancedEventSelector]) -> bool {
    categories(selectors).iter().all(|category| INGESTIBLE_CATEGORIES.contains(category))
}

fn category_error(selectors: &[AdvancedEventSelector], what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidEventDataStoreCategory,
        format!(
            "{what} is allowed only for event data stores of eventCategory Management, Data, NetworkActivity or \
             ConfigurationItem; this one collects {}.",
            categories(selectors).join(", ")
        ),
    )
}

/// What kind of events a store holds: CloudTrail's own (any mix of management, data and network
/// activity events) or one other category. The kind never changes.
pub(crate) fn category_kind(selectors: &[AdvancedEventSelector]) -> &str {
    categories(selectors).into_iter().find(|category| !CLOUDTRAIL_CATEGORIES.contains(category)).unwrap_or("CloudTrail")
}

/// Stores fed by channels (ActivityAuditLog) are single-region and not organization stores.
fn check_channel_store_scope(
    selectors: &[AdvancedEventSelector],
    multi_region_enabled: bool,
    organization_enabled: bool,
) -> Result<(), ApiError> {
    if !categories(selectors).contains(&CHANNEL_CATEGORY) {
        return Ok(());
    }
    if multi_region_enabled {
        return Err(ApiError::invalid_parameter(
            "An event data store of eventCategory ActivityAuditLog cannot be multi-Region; set MultiRegionEnabled to false.",
        ));
    }
    if organization_enabled {
        return Err(ApiError::invalid_parameter(
            "An event data store of eventCategory ActivityAuditLog cannot be an organization event data store.",
        ));
    }
    Ok(())
}

fn require_status(store: &EventDataStoreRecord, wanted: EventDataStoreStatus, operation: &str) -> Result<(), ApiError> {
    if store.status == wanted {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InvalidEventDataStoreStatus,
        format!(
            "Event data store {} is {}; {operation} requires status {}.",
            store.arn(),
            store.status.as_str(),
            wanted.as_str()
        ),
    ))
}

/// Ends the store's open ingestion range, if any, at the log's next LSN.
fn close_ingestion(store: &mut EventDataStoreRecord, ctx: &Ctx<'_>) {
    if let Some(open) = store.ingestion.last_mut().filter(|range| range.end.is_none()) {
        open.end = Some(ctx.state.events.next_lsn().max(open.start));
    }
}

/// A store's name is unique among the stores of its account and region, including those
/// pending deletion.
fn check_name_free(
    stores: &BTreeMap<String, EventDataStoreRecord>,
    store: &EventDataStoreRecord,
    except_id: Option<&str>,
) -> Result<(), ApiError> {
    let clash = stores.values().any(|other| {
        Some(other.id.as_str()) != except_id
            && other.account_id == store.account_id
            && other.region == store.region
            && other.name == store.name
    });
    if clash {
        return Err(ApiError::new(
            ErrorCode::EventDataStoreAlreadyExists,
            format!("An event data store named {} already exists in {}.", store.name, store.region),
        ));
    }
    Ok(())
}

/// At most 10 stores per account and region, pending deletion or not.
fn check_quota(
    stores: &BTreeMap<String, EventDataStoreRecord>,
    account_id: &str,
    region: &str,
    except_id: Option<&str>,
) -> Result<(), ApiError> {
    let count = stores
        .values()
        .filter(|s| s.account_id == account_id && s.region == region && Some(s.id.as_str()) != except_id)
        .count();
    if count >= MAX_EVENT_DATA_STORES_PER_REGION {
        return Err(ApiError::new(
            ErrorCode::EventDataStoreMaxLimitExceeded,
            format!(
                "Account {account_id} already has {count} event data stores in {region}, including those pending \
                 deletion; the limit is {MAX_EVENT_DATA_STORES_PER_REGION}."
            ),
        ));
    }
    Ok(())
}

/// UpdateEventDataStore's changes, checked as far as they can be without the store.
#[derive(Debug, Default)]
struct StoreChanges {
    name: Option<String>,
    advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
    multi_region_enabled: Option<bool>,
    organization_enabled: Option<bool>,
    retention_period: Option<i64>,
    termination_protection_enabled: Option<bool>,
    /// Resolved to an ARN.
    kms_key_id: Option<String>,
    billing_mode: Option<BillingMode>,
}

/// Applies `changes` to `store` with the rules that involve its current settings.
fn apply_changes(store: &mut EventDataStoreRecord, changes: StoreChanges) -> Result<(), ApiError> {
    if let Some(billing_mode) = changes.billing_mode {
        if store.billing_mode == BillingMode::ExtendableRetentionPricing
            && billing_mode == BillingMode::FixedRetentionPricing
        {
            return Err(ApiError::invalid_parameter(
                "The billing mode of an event data store cannot be changed from EXTENDABLE_RETENTION_PRICING to \
                 FIXED_RETENTION_PRICING.",
            ));
        }
        store.billing_mode = billing_mode;
    }
    if let Some(days) = changes.retention_period {
        store.retention_period = check_retention(days, store.billing_mode)?;
    }
    if let Some(key) = changes.kms_key_id {
        match &store.kms_key_id {
            Some(current) if *current != key => {
                return Err(ApiError::invalid_parameter(format!(
                    "The KMS key of event data store {} is {current}; a KMS key cannot be changed or removed once set.",
                    store.arn()
                )));
            }
            _ => store.kms_key_id = Some(key),
        }
    }
    if let Some(selectors) = changes.advanced_event_selectors {
        let (before, after) = (category_kind(&store.advanced_event_selectors), category_kind(&selectors));
        if before != after {
            return Err(ApiError::invalid_parameter(format!(
                "The event category of an event data store cannot change: it holds {before} events, the new \
                 selectors select {after} events."
            )));
        }
        store.advanced_event_selectors = selectors;
    }
    if let Some(multi_region) = changes.multi_region_enabled {
        store.multi_region_enabled = multi_region;
    }
    if let Some(organization) = changes.organization_enabled {
        store.organization_enabled = organization;
    }
    check_channel_store_scope(&store.advanced_event_selectors, store.multi_region_enabled, store.organization_enabled)?;
    if let Some(protection) = changes.termination_protection_enabled {
        store.termination_protection_enabled = protection;
    }
    if let Some(name) = changes.name {
        store.name = name;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_select::AdvancedFieldSelector;

    fn selectors(categories: &[&str]) -> Vec<AdvancedEventSelector> {
        categories
            .iter()
            .map(|category| AdvancedEventSelector {
                name: None,
                field_selectors: vec![AdvancedFieldSelector {
                    field: "eventCategory".to_owned(),
                    equals: Some(vec![(*category).to_owned()]),
                    ..AdvancedFieldSelector::default()
                }],
            })
            .collect()
    }

    fn store(id: &str, name: &str) -> EventDataStoreRecord {
        EventDataStoreRecord {
            id: id.to_owned(),
            account_id: "111111111111".to_owned(),
            region: "us-east-1".to_owned(),
            name: name.to_owned(),
            status: EventDataStoreStatus::Enabled,
            advanced_event_selectors: cairn_select::default_event_data_store_selectors(),
            multi_region_enabled: true,
            organization_enabled: false,
            retention_period: 366,
            termination_protection_enabled: true,
            kms_key_id: None,
            billing_mode: BillingMode::ExtendableRetentionPricing,
            tags: Vec::new(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
            deleted_at: None,
            ingestion: Vec::new(),
            channels: Vec::new(),
            insights: None,
        }
    }

    fn code<T: std::fmt::Debug>(result: Result<T, ApiError>) -> ErrorCode {
        result.unwrap_err().code
    }

    #[test]
    fn names_follow_the_model() {
        for ok in ["abc", "my-store_1.x", &"a".repeat(128)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "", &"a".repeat(129), "has space", "slash/y", "colon:x", "ünï"] {
            assert_eq!(code(validate_name(bad)), ErrorCode::InvalidParameter, "{bad}");
        }
    }

    #[test]
    fn references_are_ids_or_arns() {
        let id = "0b9d9a9e-1234-4c3b-9d0e-0123456789ab";
        assert_eq!(EventDataStoreRef::parse(id).unwrap(), EventDataStoreRef::Id(id.to_owned()));
        let arn = format!("arn:aws:cloudtrail:eu-west-1:123456789012:eventdatastore/{id}");
        assert_eq!(
            EventDataStoreRef::parse(&arn).unwrap(),
            EventDataStoreRef::Arn { region: "eu-west-1".into(), account: "123456789012".into(), id: id.into() }
        );
        for malformed in [
            format!("arn:aws:cloudtrail:eu-west-1:123456789012:trail/{id}"),
            format!("arn:aws:s3:eu-west-1:123456789012:eventdatastore/{id}"),
            format!("arn:aws:cloudtrail:mars:123456789012:eventdatastore/{id}"),
            format!("arn:aws:cloudtrail:eu-west-1:1234:eventdatastore/{id}"),
            "arn:aws:cloudtrail:eu-west-1:123456789012:eventdatastore/".to_owned(),
            "arn:aws:cloudtrail:eu-west-1:123456789012:eventdatastore/a.b".to_owned(),
            "arn:nope".to_owned(),
            "some/id".to_owned(),
        ] {
            assert_eq!(code(EventDataStoreRef::parse(&malformed)), ErrorCode::EventDataStoreArnInvalid, "{malformed}");
        }
        for invalid in ["ab", "has space", "star*", &"a".repeat(257)] {
            assert_eq!(code(EventDataStoreRef::parse(invalid)), ErrorCode::InvalidParameter, "{invalid}");
        }
    }

    #[test]
    fn retention_depends_on_the_billing_mode() {
        let (extendable, fixed) = (BillingMode::ExtendableRetentionPricing, BillingMode::FixedRetentionPricing);
        assert_eq!(check_retention(7, extendable).unwrap(), 7);
        assert_eq!(check_retention(3653, extendable).unwrap(), 3653);
        assert_eq!(check_retention(2557, fixed).unwrap(), 2557);
        for (days, mode) in [(6, extendable), (3654, extendable), (-1, fixed), (2558, fixed), (i64::MAX, fixed)] {
            assert_eq!(code(check_retention(days, mode)), ErrorCode::InvalidParameter, "{days}");
        }
        assert_eq!(code(parse_billing_mode("FIXED")), ErrorCode::InvalidParameter);
        assert_eq!(parse_billing_mode("FIXED_RETENTION_PRICING").unwrap(), fixed);
    }

    #[test]
    fn max_results_lie_in_1_to_1000() {
        assert_eq!(check_max_results(1).unwrap(), 1);
        assert_eq!(check_max_results(1000).unwrap(), 1000);
        for bad in [0, -5, 1001, i64::MIN] {
            assert_eq!(code(check_max_results(bad)), ErrorCode::InvalidMaxResults, "{bad}");
        }
    }

    #[test]
    fn categories_decide_ingestion_control() {
        assert!(is_ingestible(&selectors(&["Management", "Data"])));
        assert!(is_ingestible(&selectors(&["ConfigurationItem"])));
        assert!(!is_ingestible(&selectors(&["ActivityAuditLog"])));
        assert!(!is_ingestible(&selectors(&["Insight"])));
        assert_eq!(category_kind(&selectors(&["Management", "NetworkActivity"])), "CloudTrail");
        assert_eq!(category_kind(&selectors(&["ActivityAuditLog"])), "ActivityAuditLog");
        assert!(check_channel_store_scope(&selectors(&["ActivityAuditLog"]), false, false).is_ok());
        assert!(check_channel_store_scope(&selectors(&["ActivityAuditLog"]), true, false).is_err());
        assert!(check_channel_store_scope(&selectors(&["ActivityAuditLog"]), false, true).is_err());
        assert!(check_channel_store_scope(&selectors(&["Management"]), true, true).is_ok());
    }

    #[test]
    fn billing_mode_changes_only_towards_extendable() {
        let mut fixed = store("a", "fixed");
        fixed.billing_mode = BillingMode::FixedRetentionPricing;
        let changes =
            StoreChanges { billing_mode: Some(BillingMode::ExtendableRetentionPricing), ..StoreChanges::default() };
        apply_changes(&mut fixed, changes).unwrap();
        assert_eq!(fixed.billing_mode, BillingMode::ExtendableRetentionPricing);

        let mut extendable = store("b", "extendable");
        let changes =
            StoreChanges { billing_mode: Some(BillingMode::FixedRetentionPricing), ..StoreChanges::default() };
        assert_eq!(code(apply_changes(&mut extendable, changes)), ErrorCode::InvalidParameter);
    }

    #[test]
    fn retention_on_update_respects_the_resulting_mode() {
        let mut fixed = store("a", "fixed");
        fixed.billing_mode = BillingMode::FixedRetentionPricing;
        let too_long = || StoreChanges { retention_period: Some(3000), ..StoreChanges::default() };
        assert_eq!(code(apply_changes(&mut fixed.clone(), too_long())), ErrorCode::InvalidParameter);
        // Switching to extendable pricing in the same call allows it.
        let changes = StoreChanges { billing_mode: Some(BillingMode::ExtendableRetentionPricing), ..too_long() };
        apply_changes(&mut fixed, changes).unwrap();
        assert_eq!(fixed.retention_period, 3000);
    }

    #[test]
    fn kms_keys_are_added_once_and_never_changed() {
        let key = "arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789012";
        let other = "arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789099";
        let mut eds = store("a", "keyed");
        apply_changes(&mut eds, StoreChanges { kms_key_id: Some(key.into()), ..StoreChanges::default() }).unwrap();
        assert_eq!(eds.kms_key_id.as_deref(), Some(key));
        apply_changes(&mut eds, StoreChanges { kms_key_id: Some(key.into()), ..StoreChanges::default() }).unwrap();
        let change = StoreChanges { kms_key_id: Some(other.into()), ..StoreChanges::default() };
        assert_eq!(code(apply_changes(&mut eds, change)), ErrorCode::InvalidParameter);
    }

    #[test]
    fn the_event_category_kind_is_fixed() {
        let mut eds = store("a", "mgmt");
        let to_data = StoreChanges { advanced_event_selectors: Some(selectors(&["Data"])), ..StoreChanges::default() };
        apply_changes(&mut eds, to_data).unwrap();
        let to_channel = StoreChanges {
            advanced_event_selectors: Some(selectors(&["ActivityAuditLog"])),
            ..StoreChanges::default()
        };
        assert_eq!(code(apply_changes(&mut eds, to_channel)), ErrorCode::InvalidParameter);
    }

    #[test]
    fn names_and_quota_count_every_store_of_the_account_and_region() {
        let mut stores = BTreeMap::new();
        for index in 0..MAX_EVENT_DATA_STORES_PER_REGION {
            let mut eds = store(&format!("id-{index}"), &format!("eds-{index}"));
            if index == 0 {
                eds.status = EventDataStoreStatus::PendingDeletion;
            }
            stores.insert(eds.id.clone(), eds);
        }
        assert_eq!(
            code(check_quota(&stores, "111111111111", "us-east-1", None)),
            ErrorCode::EventDataStoreMaxLimitExceeded
        );
        assert!(check_quota(&stores, "111111111111", "us-east-1", Some("id-0")).is_ok());
        assert!(check_quota(&stores, "111111111111", "eu-west-1", None).is_ok());
        assert!(check_quota(&stores, "222222222222", "us-east-1", None).is_ok());

        let clash = store("new", "eds-0");
        assert_eq!(code(check_name_free(&stores, &clash, None)), ErrorCode::EventDataStoreAlreadyExists);
        assert!(check_name_free(&stores, &clash, Some("id-0")).is_ok());
        let mut elsewhere = clash.clone();
        elsewhere.region = "eu-west-1".to_owned();
        assert!(check_name_free(&stores, &elsewhere, None).is_ok());
    }
}
