//! CloudTrail Lake imports (spec/api.md §1.9, §2.11): StartImport (new or retry), GetImport, ListImports,
//! ListImportFailures, StopImport. These handlers keep the import records; the binary's import worker
//! does the copying, woken through [`crate::state::AppState`]'s `import_wakeup`, and updates the same
//! records as it goes.

use cairn_model::clock::epoch_seconds;
use cairn_model::error::truncate_for_message;
use cairn_model::region::is_region_name;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::Change;
use cairn_store::records::{
    EventDataStoreRecord, ImportFailureStatus, ImportProgress, ImportRecord, ImportSource, ImportStatistics,
    ImportStatus,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::destinations::check_bucket;
use super::event_data_stores::{EventDataStoreRef, Use, category_kind, check_max_results, find};
use super::input::{check_count, epoch_timestamp, required};
use crate::json11::input;
use crate::pagination;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartImportInput {
    destinations: Option<Vec<String>>,
    import_source: Option<ImportSourceInput>,
    start_event_time: Option<f64>,
    end_event_time: Option<f64>,
    import_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ImportSourceInput {
    #[serde(rename = "S3")]
    s3: Option<S3SourceInput>,
}

#[derive(Debug, Deserialize)]
struct S3SourceInput {
    #[serde(rename = "S3LocationUri")]
    location_uri: Option<String>,
    #[serde(rename = "S3BucketRegion")]
    bucket_region: Option<String>,
    #[serde(rename = "S3BucketAccessRoleArn")]
    access_role_arn: Option<String>,
}

pub(crate) fn start_import(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: StartImportInput = input(raw)?;
    let record = match request.import_id.as_deref() {
        Some(id) => {
            if request.destinations.is_some()
                || request.import_source.is_some()
                || request.start_event_time.is_some()
                || request.end_event_time.is_some()
            {
                return Err(ApiError::invalid_parameter(
                    "To retry an import, specify only its ImportId; to start a new import, specify Destinations \
                     and ImportSource without an ImportId.",
                ));
            }
            retry(ctx, id)?
        }
        None => start_new(ctx, request)?,
    };
    ctx.state.import_wakeup.notify_one();
    Ok(import_output(&record, false))
}

fn start_new(ctx: &Ctx<'_>, request: StartImportInput) -> Result<ImportRecord, ApiError> {
    let destinations = required(request.destinations, "destinations")?;
    check_count(&destinations, "destinations", 1, 1)?;
    let s3 = required(required(request.import_source, "importSource")?.s3, "importSource.s3")?;
    let source = ImportSource {
        s3_location_uri: required(s3.location_uri, "importSource.s3.s3LocationUri")?,
        s3_bucket_region: required(s3.bucket_region, "importSource.s3.s3BucketRegion")?,
        s3_bucket_access_role_arn: required(s3.access_role_arn, "importSource.s3.s3BucketAccessRoleArn")?,
    };
    check_source(ctx, &source)?;
    let start_event_time = request.start_event_time.map(epoch_timestamp).transpose()?;
    let end_event_time = request.end_event_time.map(epoch_timestamp).transpose()?;
    if let (Some(start), Some(end)) = (start_event_time, end_event_time)
        && start > end
    {
        return Err(ApiError::invalid_parameter(format!(
            "StartEventTime ({start}) must not be later than EndEventTime ({end})."
        )));
    }
    let reference = EventDataStoreRef::parse(&destinations[0])?;
    let store = ctx.state.event_data_stores.read(|stores| find(ctx, stores, &reference, Use::Active).cloned())?;
    check_destination(&store)?;
    let now = ctx.now();
    let record = ImportRecord {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: ctx.account_id().to_owned(),
        region: ctx.region().to_owned(),
        destinations: vec![store.arn()],
        source,
        start_event_time,
        end_event_time,
        status: ImportStatus::Initializing,
        created_at: now,
        updated_at: now,
        statistics: ImportStatistics::default(),
        failures: Vec::new(),
        progress: ImportProgress::default(),
    };
    ctx.state.imports.transact(|imports| {
        refuse_if_ongoing(ctx, imports.values())?;
        Ok::<_, ApiError>((record.clone(), vec![Change::Put(record)]))
    })
}

/// Starts import `id` again: it goes on from where it stopped, and files that failed are read again.
fn retry(ctx: &Ctx<'_>, id: &str) -> Result<ImportRecord, ApiError> {
    check_import_id(id)?;
    ctx.state.imports.transact(|imports| {
        let mut record = own(ctx, imports.get(id), id)?.clone();
        refuse_if_ongoing(ctx, imports.values())?;
        let store_arn = record.destinations.first().cloned().unwrap_or_default();
        let reference = EventDataStoreRef::parse(&store_arn)?;
        let store = ctx.state.event_data_stores.read(|stores| find(ctx, stores, &reference, Use::Active).cloned())?;
        check_destination(&store)?;
        let now = ctx.now();
        for failure in record.failures.iter_mut().filter(|f| f.retryable && f.status == ImportFailureStatus::Failed) {
            failure.status = ImportFailureStatus::Retry;
            failure.last_updated = now;
        }
        record.status = ImportStatus::Initializing;
        record.updated_at = now;
        Ok::<_, ApiError>((record.clone(), vec![Change::Put(record)]))
    })
}

/// The source must be `s3://bucket[/prefix]` on a bucket cairn can read: an embedded bucket of the
/// caller or an external bucket of the config.
fn check_source(ctx: &Ctx<'_>, source: &ImportSource) -> Result<(), ApiError> {
    let uri = &source.s3_location_uri;
    let invalid = |why: &str| {
        ApiError::new(
            ErrorCode::InvalidImportSource,
            format!("The import source {} is not valid: {why}", truncate_for_message(uri)),
        )
    };
    let Some((bucket, _)) = cairn_model::names::s3_uri_parts(uri).filter(|_| uri.len() <= 1024) else {
        return Err(invalid("S3LocationUri must look like s3://bucket/prefix."));
    };
    check_bucket(ctx, bucket).map_err(|error| invalid(&error.message))?;
    if !is_region_name(&source.s3_bucket_region) {
        return Err(ApiError::invalid_parameter(format!(
            "S3BucketRegion {} is not a region name.",
            truncate_for_message(&source.s3_bucket_region)
        )));
    }
    let role = &source.s3_bucket_access_role_arn;
    let is_role = cairn_model::arn::Arn::parse(role)
        .is_some_and(|arn| arn.service == "iam" && arn.resource.starts_with("role/") && arn.resource.len() > 5);
    if !is_role {
        return Err(ApiError::invalid_parameter(format!(
            "S3BucketAccessRoleArn {} is not the ARN of an IAM role (arn:aws:iam::<account>:role/<name>).",
            truncate_for_message(role)
        )));
    }
    Ok(())
}

/// Imports go into stores of CloudTrail events, with ingestion on or off (a store created with
/// `StartIngestion=false` holds only what is imported); a store pending deletion is refused as inactive.
fn check_destination(store: &EventDataStoreRecord) -> Result<(), ApiError> {
    let kind = category_kind(&store.advanced_event_selectors);
    if kind != "CloudTrail" {
        return Err(ApiError::new(
            ErrorCode::InvalidEventDataStoreCategory,
            format!(
                "Event data store {} collects {kind} events; CloudTrail log files can be imported only into a store \
                 of CloudTrail management or data events.",
                store.arn()
            ),
        ));
    }
    Ok(())
}

fn refuse_if_ongoing<'a>(ctx: &Ctx<'_>, imports: impl Iterator<Item = &'a ImportRecord>) -> Result<(), ApiError> {
    let mut own_ongoing = imports.filter(|r| r.account_id == ctx.account_id() && r.status.is_ongoing());
    if let Some(ongoing) = own_ongoing.next() {
        return Err(ApiError::new(
            ErrorCode::AccountHasOngoingImport,
            format!(
                "Import {} of this account is {}; start another when it has finished, or stop it with StopImport.",
                ongoing.id,
                ongoing.status.as_str()
            ),
        ));
    }
    Ok(())
}

/// An event data store cannot be changed or deleted while an import writes into it.
pub(crate) fn refuse_if_importing(ctx: &Ctx<'_>, store: &EventDataStoreRecord) -> Result<(), ApiError> {
    let arn = store.arn();
    let ongoing = ctx.state.imports.read(|imports| {
        imports.values().find(|r| r.status.is_ongoing() && r.destinations.contains(&arn)).map(|r| r.id.clone())
    });
    match ongoing {
        Some(id) => Err(ApiError::new(
            ErrorCode::EventDataStoreHasOngoingImport,
            format!("Event data store {arn} has an ongoing import ({id}); wait for it to finish or stop it."),
        )),
        None => Ok(()),
    }
}

/// `ImportId`: 36 characters of `[a-f0-9-]`.
fn check_import_id(id: &str) -> Result<(), ApiError> {
    if id.len() != 36 || !id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-') {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'importId' failed to satisfy constraint: Member must have \
             length 36 and satisfy regular expression pattern: ^[a-f0-9\\-]+$",
            truncate_for_message(id)
        )));
    }
    Ok(())
}

/// The caller's import `id`, or `ImportNotFoundException`.
fn own<'r>(ctx: &Ctx<'_>, record: Option<&'r ImportRecord>, id: &str) -> Result<&'r ImportRecord, ApiError> {
    record.filter(|r| r.account_id == ctx.account_id() && r.region == ctx.region()).ok_or_else(|| {
        ApiError::new(ErrorCode::ImportNotFound, format!("The import {} was not found.", truncate_for_message(id)))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImportIdInput {
    import_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn import_id(request: &ImportIdInput) -> Result<&str, ApiError> {
    let id = required(request.import_id.as_deref(), "importId")?;
    check_import_id(id)?;
    Ok(id)
}

pub(crate) fn get_import(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ImportIdInput = input(raw)?;
    let id = import_id(&request)?;
    let record = own(ctx, ctx.state.imports.get(id).as_ref(), id)?.clone();
    Ok(import_output(&record, true))
}

pub(crate) fn stop_import(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ImportIdInput = input(raw)?;
    let id = import_id(&request)?;
    let record = ctx.state.imports.transact(|imports| {
        let mut record = own(ctx, imports.get(id), id)?.clone();
        if !record.status.is_ongoing() {
            // Already finished, failed or stopped: nothing to stop.
            return Ok::<_, ApiError>((record, Vec::new()));
        }
        record.status = ImportStatus::Stopped;
        record.updated_at = ctx.now();
        Ok((record.clone(), vec![Change::Put(record)]))
    })?;
    Ok(import_output(&record, true))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListImportsInput {
    max_results: Option<i64>,
    destination: Option<String>,
    import_status: Option<String>,
    next_token: Option<String>,
}

pub(crate) fn list_imports(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ListImportsInput = input(raw)?;
    let max = check_max_results(request.max_results.unwrap_or(1000))?;
    let status = match request.import_status.as_deref() {
        None => None,
        Some(value) => Some(ImportStatus::parse(value).ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'importStatus' failed to satisfy constraint: Member must \
                 satisfy enum value set: [INITIALIZING, IN_PROGRESS, FAILED, STOPPED, COMPLETED]",
                truncate_for_message(value)
            ))
        })?),
    };
    // The destination filter names a store by ARN; a bare ID stands for the caller's store of that ID.
    let destination = match request.destination.as_deref() {
        None => None,
        Some(value) => Some(match EventDataStoreRef::parse(value)? {
            EventDataStoreRef::Id(id) => {
                format!("arn:aws:cloudtrail:{}:{}:eventdatastore/{id}", ctx.region(), ctx.account_id())
            }
            EventDataStoreRef::Arn { .. } => value.to_owned(),
        }),
    };
    let after = request.next_token.as_deref().map(|token| pagination::decode(token, "ListImports")).transpose()?;
    let mut imports: Vec<ImportRecord> = ctx.state.imports.read(|imports| {
        imports
            .values()
            .filter(|r| r.account_id == ctx.account_id() && r.region == ctx.region())
            .filter(|r| status.is_none_or(|s| r.status == s))
            .filter(|r| destination.as_ref().is_none_or(|d| r.destinations.contains(d)))
            .cloned()
            .collect()
    });
    imports.sort_by_cached_key(page_key);
    let start = after.map_or(0, |after| imports.partition_point(|r| page_key(r) <= after));
    let page = &imports[start.min(imports.len())..];
    let (page, more) = if page.len() > max { (&page[..max], true) } else { (page, false) };
    let mut out = json!({
        "Imports": page.iter().map(|r| json!({
            "ImportId": r.id,
            "ImportStatus": r.status.as_str(),
            "Destinations": r.destinations,
            "CreatedTimestamp": epoch_seconds(r.created_at),
            "UpdatedTimestamp": epoch_seconds(r.updated_at),
        })).collect::<Vec<_>>(),
    });
    if more && let Some(last) = page.last() {
        out["NextToken"] = json!(pagination::encode(&page_key(last), "ListImports"));
    }
    Ok(out)
}

/// Imports are listed oldest first.
fn page_key(record: &ImportRecord) -> String {
    format!("{:024}/{}", record.created_at.as_nanosecond(), record.id)
}

pub(crate) fn list_import_failures(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ImportIdInput = input(raw)?;
    let id = import_id(&request)?;
    let max = check_max_results(request.max_results.unwrap_or(1000))?;
    let record = own(ctx, ctx.state.imports.get(id).as_ref(), id)?.clone();
    let start = match request.next_token.as_deref() {
        None => 0,
        Some(token) => pagination::decode_offset(token, "ListImportFailures", &record.id, "import")?,
    };
    let end = start.saturating_add(max).min(record.failures.len());
    let page = record.failures.get(start.min(end)..end).unwrap_or_default();
    let mut out = json!({
        "Failures": page.iter().map(|f| json!({
            "Location": f.location,
            "Status": f.status.as_str(),
            "ErrorType": f.error_type,
            "ErrorMessage": f.error_message,
            "LastUpdatedTime": epoch_seconds(f.last_updated),
        })).collect::<Vec<_>>(),
    });
    if end < record.failures.len() {
        out["NextToken"] = json!(pagination::encode_offset(&record.id, end, "ListImportFailures"));
    }
    Ok(out)
}

/// StartImport's output; GetImport and StopImport add the statistics.
fn import_output(record: &ImportRecord, with_statistics: bool) -> Value {
    let mut out = json!({
        "ImportId": record.id,
        "Destinations": record.destinations,
        "ImportSource": { "S3": {
            "S3LocationUri": record.source.s3_location_uri,
            "S3BucketRegion": record.source.s3_bucket_region,
            "S3BucketAccessRoleArn": record.source.s3_bucket_access_role_arn,
        }},
        "ImportStatus": record.status.as_str(),
        "CreatedTimestamp": epoch_seconds(record.created_at),
        "UpdatedTimestamp": epoch_seconds(record.updated_at),
    });
    if let Some(start) = record.start_event_time {
        out["StartEventTime"] = json!(epoch_seconds(start));
    }
    if let Some(end) = record.end_event_time {
        out["EndEventTime"] = json!(epoch_seconds(end));
    }
    if with_statistics {
        let s = &record.statistics;
        out["ImportStatistics"] = json!({
            "PrefixesFound": s.prefixes_found,
            "PrefixesCompleted": s.prefixes_completed,
            "FilesCompleted": s.files_completed,
            "EventsCompleted": s.events_completed,
            "FailedEntries": s.failed_entries,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids_are_36_lowercase_hex_characters_and_dashes() {
        assert!(check_import_id("5e1f0a2b-7c3d-4e8f-9a0b-1c2d3e4f5a6b").is_ok());
        assert!(check_import_id("5E1F0A2B-7C3D-4E8F-9A0B-1C2D3E4F5A6B").is_err());
        assert!(check_import_id("5e1f0a2b").is_err());
        assert!(check_import_id("5e1f0a2b-7c3d-4e8f-9a0b-1c2d3e4f5a6z").is_err());
    }
}
