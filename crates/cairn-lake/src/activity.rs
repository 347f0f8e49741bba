//! The table of an ActivityAuditLog event data store: events from outside AWS that arrive through a channel
//! (PutAuditEvents, `cairn_model::event::audit`), with CloudTrail Lake's "non-AWS event" columns
//! (spec/api.md §2.9 "Other schemas").
//!
//! Same conventions as [`crate::schema`] and [`crate::convert`]: lowercase names (Lake's identifiers are
//! case-insensitive, so `eventData.userIdentity.principalId` and `eventdata.uid` find their columns), free-form
//! members as `map<string,string>` (string values kept, others as JSON text), `eventjson` the exact record.
//! `eventtime` and `metadata.ingestiontime` are timestamps; `eventdata.eventtime` stays the string the sender
//! wrote (the top-level `eventtime` is its parsed form).

use std::sync::{Arc, OnceLock};

use crate::convert::{as_millis, build, member};
use crate::json::Json;
use crate::schema::{EVENT_JSON, EVENT_TIME, string_map, timestamp_type};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, SchemaRef};

/// The Arrow schema of an ActivityAuditLog event data store's table.
pub fn activity_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA.get_or_init(build_schema).clone()
}

fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn map(name: &str) -> Field {
    Field::new(name, string_map(), true)
}

fn structure(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), true)
}

fn build_schema() -> SchemaRef {
    let user_identity = structure("useridentity", vec![text("type"), text("principalid"), map("details")]);
    let event_data = structure(
        "eventdata",
        vec![
            text("version"),
            user_identity,
            text("useragent"),
            text("eventsource"),
            text("eventname"),
            text("eventtime"),
            text("uid"),
            map("requestparameters"),
            map("responseelements"),
            text("errorcode"),
            text("errormessage"),
            text("sourceipaddress"),
            text("recipientaccountid"),
            map("additionaleventdata"),
        ],
    );
    Arc::new(Schema::new(vec![
        text("eventversion"),
        text("eventcategory"),
        text("eventtype"),
        // The same name as the CloudTrail table's event ID column.
        text("eventid"),
        Field::new(EVENT_TIME, timestamp_type(), false),
        text("awsregion"),
        text("recipientaccountid"),
        structure("addendum", ["reason", "updatedfields", "originaluid", "originaleventid"].map(text).to_vec()),
        structure("metadata", vec![Field::new("ingestiontime", timestamp_type(), true), text("channelarn")]),
        event_data,
        text(EVENT_JSON),
    ]))
}

/// Builds a batch of [`activity_schema`] from stored records' exact texts. Texts that are not a JSON object
/// with a valid `eventTime` are skipped (stored records always have one); a member of the wrong JSON type is
/// NULL.
pub fn records_to_batch<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<RecordBatch, ArrowError> {
    let mut parsed: Vec<(Json<'a>, &str)> = Vec::new();
    for text in texts {
        match Json::parse(text) {
            Ok(value @ Json::Object(_)) if member(&value, EVENT_TIME).and_then(as_millis).is_some() => {
                parsed.push((value, text))
            }
            _ => tracing::warn!("skipping an activity event whose text is not a JSON object with an eventTime"),
        }
    }
    let schema = activity_schema();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = match field.name().as_str() {
            "eventjson" => Arc::new(StringArray::from_iter_values(parsed.iter().map(|(_, text)| *text))) as ArrayRef,
            name => {
                let values: Vec<Option<&Json>> = parsed.iter().map(|(record, _)| member(record, name)).collect();
                build(field, &values)?
            }
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema, columns)
}

#[cfg(test)]
mod tests;
