//! Bucket operations: CreateBucket, DeleteBucket (only when empty), HeadBucket, ListBuckets and
//! GetBucketLocation. Buckets are `BucketRecord`s in the metadata store; their objects live in the
//! `ObjectIndex` under `<data dir>/buckets/<bucket>/`.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::response::{IntoResponse, Response};
use cairn_model::clock::iso_seconds;
use cairn_model::names::validate_bucket_name;
use cairn_store::Change;
use cairn_store::objects::ListQuery;
use cairn_store::records::BucketRecord;
use http::StatusCode;
use quick_xml::escape::escape;

use super::error::S3Error;
use super::{S3_XMLNS, XML_DECLARATION};
use crate::caller::Caller;
use crate::state::AppState;

/// Object writes hold this shared and DeleteBucket holds it exclusively, so that no object can land
/// in a bucket between DeleteBucket's emptiness check and the removal of its record.
static BUCKET_GATE: RwLock<()> = RwLock::new(());

/// Bound on the pages of leftovers CreateBucket removes before giving up.
const MAX_PURGE_PAGES: usize = 1000;

pub(super) fn object_write_gate() -> RwLockReadGuard<'static, ()> {
    BUCKET_GATE.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn bucket_delete_gate() -> RwLockWriteGuard<'static, ()> {
    BUCKET_GATE.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The bucket's record if it exists and the caller's account owns it.
pub(super) fn owned_bucket(state: &AppState, caller: &Caller, bucket: &str) -> Result<BucketRecord, S3Error> {
    let record = state.buckets.get(bucket).ok_or_else(|| S3Error::no_such_bucket(bucket))?;
    if record.owner_account_id != caller.account_id() {
        return Err(S3Error::access_denied());
    }
    Ok(record)
}

pub(super) fn create_bucket(state: &AppState, caller: &Caller, bucket: &str, body: &[u8]) -> Result<Response, S3Error> {
    validate_bucket_name(bucket)?;
    let region = location_constraint(body)?.unwrap_or_else(|| caller.region.clone());
    let record = BucketRecord {
        name: bucket.to_owned(),
        owner_account_id: caller.account_id().to_owned(),
        region,
        created_at: state.clock.now(),
    };
    let directory = state.bucket_root.join(bucket);
    state.buckets.transact(|buckets| {
        if let Some(existing) = buckets.get(bucket) {
            return Err(if existing.owner_account_id == caller.account_id() {
                S3Error::new(
                    StatusCode::CONFLICT,
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you already own it.",
                )
                .with("BucketName", bucket)
            } else {
                S3Error::new(
                    StatusCode::CONFLICT,
                    "BucketAlreadyExists",
                    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
                )
                .with("BucketName", bucket)
            });
        }
        purge_leftover_objects(state, bucket)?;
        // The directory exists before the record: a crash between the two leaves
        // an empty directory, never a bucket without one.
        std::fs::create_dir_all(&directory).map_err(|e| {
            tracing::error!(error = %e, "cannot create bucket directory");
            S3Error::internal()
        })?;
        Ok(((), vec![Change::Put(record)]))
    })?;
    Ok((StatusCode::OK, [("location", format!("/{bucket}"))]).into_response())
}

/// Removes objects that a deleted bucket of the same name left behind (a trail delivery that raced
/// its deletion writes to the object index directly), so that a new bucket starts empty.
fn purge_leftover_objects(state: &AppState, bucket: &str) -> Result<(), S3Error> {
    let everything = ListQuery { prefix: String::new(), start_after: None, delimiter: None, max_keys: 1000 };
    for _ in 0..MAX_PURGE_PAGES {
        let page = state.objects.list(bucket, &everything)?;
        if page.objects.is_empty() {
            return Ok(());
        }
        tracing::warn!(
            bucket,
            n_objects = page.objects.len(),
            "removing objects left by a deleted bucket of this name"
        );
        for object in &page.objects {
            state.objects.delete(bucket, &object.key)?;
        }
    }
    tracing::error!(bucket, "objects keep appearing in a bucket that does not exist");
    Err(S3Error::internal())
}

pub(super) fn delete_bucket(state: &AppState, caller: &Caller, bucket: &str) -> Result<Response, S3Error> {
    let _gate = bucket_delete_gate();
    state.buckets.transact(|buckets| {
        let record = buckets.get(bucket).ok_or_else(|| S3Error::no_such_bucket(bucket))?;
        if record.owner_account_id != caller.account_id() {
            return Err(S3Error::access_denied());
        }
        if !state.objects.is_empty(bucket)? {
            return Err(S3Error::new(
                StatusCode::CONFLICT,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
            )
            .with("BucketName", bucket));
        }
        Ok(((), vec![Change::Delete(bucket.to_owned())]))
    })?;
    // The record is gone; leftover empty directories are harmless and reused on re-creation.
    let directory = state.bucket_root.join(bucket);
    let _ = std::fs::remove_dir(directory.join("blobs"));
    let _ = std::fs::remove_dir(&directory);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) fn head_bucket(state: &AppState, caller: &Caller, bucket: &str) -> Result<Response, S3Error> {
    let record = owned_bucket(state, caller, bucket)?;
    Ok((StatusCode::OK, [("x-amz-bucket-region", record.region)]).into_response())
}

pub(super) fn list_buckets(state: &AppState, caller: &Caller) -> Response {
    let mut xml = format!("{XML_DECLARATION}<ListAllMyBucketsResult xmlns=\"{S3_XMLNS}\">");
    xml.push_str(&format!("<Owner><ID>{0}</ID><DisplayName>{0}</DisplayName></Owner><Buckets>", caller.account_id()));
    for bucket in state.buckets.all().iter().filter(|b| b.owner_account_id == caller.account_id()) {
        xml.push_str(&format!(
            "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate><BucketRegion>{}</BucketRegion></Bucket>",
            escape(&bucket.name),
            iso_seconds(bucket.created_at).replace('Z', ".000Z"),
            escape(&bucket.region)
        ));
    }
    xml.push_str("</Buckets></ListAllMyBucketsResult>");
    ([("content-type", "application/xml")], xml).into_response()
}

/// `<LocationConstraint>`: empty for us-east-1 (S3's legacy answer, which every client reads as
/// us-east-1), else the bucket's region.
pub(super) fn get_bucket_location(state: &AppState, caller: &Caller, bucket: &str) -> Result<Response, S3Error> {
    let record = owned_bucket(state, caller, bucket)?;
    let xml = if record.region == "us-east-1" {
        format!("{XML_DECLARATION}<LocationConstraint xmlns=\"{S3_XMLNS}\"/>")
    } else {
        format!(
            "{XML_DECLARATION}<LocationConstraint xmlns=\"{S3_XMLNS}\">{}</LocationConstraint>",
            escape(&record.region)
        )
    };
    Ok(([("content-type", "application/xml")], xml).into_response())
}

/// The `LocationConstraint` of a CreateBucket body, if any.
pub(super) fn location_constraint(body: &[u8]) -> Result<Option<String>, S3Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let malformed =
        || S3Error::new(StatusCode::BAD_REQUEST, "MalformedXML", "The XML you provided was not well-formed");
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut in_constraint = false;
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer).map_err(|_| malformed())? {
            quick_xml::events::Event::Start(start) => {
                in_constraint = start.local_name().as_ref() == b"LocationConstraint"
            }
            quick_xml::events::Event::Text(text) if in_constraint => {
                let region = text.decode().map_err(|_| malformed())?.trim().to_owned();
                return Ok((!region.is_empty()).then_some(region));
            }
            quick_xml::events::Event::End(_) => in_constraint = false,
            quick_xml::events::Event::Eof => return Ok(None),
            _ => {}
        }
        buffer.clear();
    }
}
