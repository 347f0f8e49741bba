//! Recorded events → a [`RecordBatch`] of the Lake schema ([`crate::schema`]).
//!
//! One recursive builder walks the schema: each column is built from the values found under its
//! (case-insensitive) name in every record, so nested identity members, resources and free-form
//! maps all follow the same rules. A member of the wrong JSON type is NULL, never an error: records
//! were validated on the way in, and Lake shows what it can.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, ListArray, MapArray, RecordBatch, StringArray, StructArray};
use arrow_schema::{ArrowError, DataType, Field, Fields};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::common::HashMap;

use crate::json::Json;

use crate::schema::lake_schema;

/// Builds a batch of the Lake schema from records' exact texts (each a JSON object with a valid
/// `eventTime`, as the event store guarantees). Texts that are not a JSON object with a valid `eventTime` are skipped.
pub fn records_to_batch<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<RecordBatch, ArrowError> {
    let mut parsed: Vec<(Json<'a>, &str)> = Vec::new();
    for text in texts {
        match Json::parse(text) {
            Ok(value @ Json::Object(_)) if member(&value, "eventtime").and_then(as_millis).is_some() => {
                parsed.push((value, text))
            }
            _ => tracing::warn!("skipping an event whose text is not a JSON object with an eventTime"),
        }
    }
    let schema = lake_schema();
    let by_field = members_of(parsed.iter().map(|(record, _)| Some(record)), schema.fields());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (field, values) in schema.fields().iter().zip(by_field) {
        let column = match field.name().as_str() {
            "eventjson" => Arc::new(strings(parsed.iter().map(|(_, text)| Some(Cow::Borrowed(*text))))) as ArrayRef,
            "eventjsonchecksum" => Arc::new(StringArray::new_null(parsed.len())) as ArrayRef,
            _ => build(field, &values)?,
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema, columns)
}

/// For each of `fields`, the member of that name (compared without case, as [`member`] does: an exact
/// match wins, else the first in the object's order) of each of `objects`. One pass over each object's
/// keys, rather than a search of every object for every field: most members are camelCase, so a field
/// would otherwise be found only by comparing it with every key.
fn members_of<'v, 't>(
    objects: impl ExactSizeIterator<Item = Option<&'v Json<'t>>>,
    fields: &Fields,
) -> Vec<Vec<Option<&'v Json<'t>>>> {
    let slots: HashMap<&str, usize> = fields.iter().enumerate().map(|(i, f)| (f.name().as_str(), i)).collect();
    let mut columns: Vec<Vec<Option<&Json<'t>>>> = vec![Vec::with_capacity(objects.len()); fields.len()];
    let mut exact = vec![false; fields.len()];
    let mut lowered = String::new();
    for object in objects {
        for column in &mut columns {
            column.push(None);
        }
        let Some(Json::Object(map)) = object else { continue };
        exact.fill(false);
        for (key, value) in map {
            let (slot, is_exact) = match slots.get(key.as_ref()) {
                Some(&slot) => (slot, true),
                None => {
                    lowered.clear();
                    lowered.extend(key.chars().map(|c| c.to_ascii_lowercase()));
                    match slots.get(lowered.as_str()) {
                        Some(&slot) => (slot, false),
                        None => continue,
                    }
                }
            };
            let Some(cell) = columns[slot].last_mut() else { continue };
            if is_exact || (cell.is_none() && !exact[slot]) {
                *cell = Some(value);
                exact[slot] |= is_exact;
            }
        }
    }
    columns
}

/// `object`'s member `name`, compared without case (the schema's names are lowercase).
pub(crate) fn member<'v, 't>(object: &'v Json<'t>, name: &str) -> Option<&'v Json<'t>> {
    let Json::Object(map) = object else { return None };
    let exact = map.iter().find(|(key, _)| key == name);
    exact.or_else(|| map.iter().find(|(key, _)| key.eq_ignore_ascii_case(name))).map(|(_, value)| value)
}

pub(crate) fn build(field: &Field, values: &[Option<&Json>]) -> Result<ArrayRef, ArrowError> {
    Ok(match field.data_type() {
        DataType::Utf8 => Arc::new(strings(values.iter().map(|value| value.and_then(as_text)))),
        DataType::Boolean => {
            let mut builder = BooleanBuilder::with_capacity(values.len());
            for value in values {
                builder.append_option(value.and_then(as_bool));
            }
            Arc::new(builder.finish())
        }
        DataType::Timestamp(_, zone) => {
            let mut builder = TimestampMillisecondBuilder::with_capacity(values.len());
            for value in values {
                builder.append_option(value.and_then(as_millis));
            }
            Arc::new(builder.finish().with_timezone_opt(zone.clone()))
        }
        DataType::Struct(fields) => build_struct(fields, values)?,
        DataType::Map(entries, _) => build_map(entries, values)?,
        DataType::List(item) => build_list(item, values)?,
        other => return Err(ArrowError::NotYetImplemented(format!("Lake column type {other}"))),
    })
}

fn build_struct(fields: &Fields, values: &[Option<&Json>]) -> Result<ArrayRef, ArrowError> {
    let present: Vec<bool> = values.iter().map(|v| matches!(v, Some(Json::Object(_)))).collect();
    let mut children = Vec::with_capacity(fields.len());
    for (child, child_values) in fields.iter().zip(members_of(values.iter().copied(), fields)) {
        children.push(build(child, &child_values)?);
    }
    Ok(Arc::new(StructArray::try_new(fields.clone(), children, Some(NullBuffer::from(present)))?))
}

fn build_map(entries: &Arc<Field>, values: &[Option<&Json>]) -> Result<ArrayRef, ArrowError> {
    let DataType::Struct(entry_fields) = entries.data_type() else {
        return Err(ArrowError::InvalidArgumentError("map entries must be a struct".to_owned()));
    };
    let mut members = Vec::new();
    let mut offsets = Vec::with_capacity(values.len() + 1);
    let mut present = Vec::with_capacity(values.len());
    offsets.push(0);
    for value in values {
        match value {
            Some(Json::Object(map)) => {
                members.extend(map.iter().map(|(key, item)| (key, item)));
                present.push(true);
            }
            _ => present.push(false),
        }
        let n = i32::try_from(members.len()).map_err(|_| ArrowError::ComputeError("map too large".to_owned()))?;
        offsets.push(n);
    }
    let keys = strings(members.iter().map(|(key, _)| Some(Cow::Borrowed(key.as_ref()))));
    let items = strings(members.iter().map(|(_, item)| as_text(item)));
    let entries_array = StructArray::try_new(
        entry_fields.clone(),
        vec![Arc::new(keys) as ArrayRef, Arc::new(items) as ArrayRef],
        None,
    )?;
    Ok(Arc::new(MapArray::try_new(
        entries.clone(),
        OffsetBuffer::new(offsets.into()),
        entries_array,
        Some(NullBuffer::from(present)),
        false,
    )?))
}

fn build_list(item: &Arc<Field>, values: &[Option<&Json>]) -> Result<ArrayRef, ArrowError> {
    let mut flat: Vec<Option<&Json>> = Vec::new();
    let mut offsets = Vec::with_capacity(values.len() + 1);
    let mut present = Vec::with_capacity(values.len());
    offsets.push(0i32);
    for value in values {
        match value {
            Some(Json::Array(elements)) => {
                flat.extend(elements.iter().map(Some));
                present.push(true);
            }
            _ => present.push(false),
        }
        let n = i32::try_from(flat.len()).map_err(|_| ArrowError::ComputeError("list too large".to_owned()))?;
        offsets.push(n);
    }
    let child = build(item, &flat)?;
    Ok(Arc::new(ListArray::try_new(
        item.clone(),
        OffsetBuffer::new(offsets.into()),
        child,
        Some(NullBuffer::from(present)),
    )?))
}

/// A string array of `texts`, its buffer allocated once at its full size: growing it as values come
/// would copy it several times over (a tenth of `cairn import`'s time did).
fn strings<'v>(texts: impl Iterator<Item = Option<Cow<'v, str>>>) -> StringArray {
    let texts: Vec<Option<Cow<'v, str>>> = texts.collect();
    let bytes = texts.iter().flatten().map(|text| text.len()).sum();
    let mut builder = StringBuilder::with_capacity(texts.len(), bytes);
    for text in &texts {
        builder.append_option(text.as_deref());
    }
    builder.finish()
}

/// A string member is its value; null is NULL; anything else is its JSON text.
fn as_text<'v>(value: &'v Json<'_>) -> Option<Cow<'v, str>> {
    match value {
        Json::Null => None,
        Json::Str(s) => Some(Cow::Borrowed(s)),
        other => Some(Cow::Owned(other.to_json_text())),
    }
}

fn as_bool(value: &Json) -> Option<bool> {
    match value {
        Json::Bool(b) => Some(*b),
        Json::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Json::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A timestamp member in milliseconds, read as the ingest path reads `eventTime` (a space for `T`, no offset
/// meaning UTC), so that every record the event store takes has its time here too.
pub(crate) fn as_millis(value: &Json) -> Option<i64> {
    let Json::Str(text) = value else { return None };
    Some(cairn_model::event::parse_event_time(text).ok()?.as_millisecond())
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;

    use super::*;

    #[test]
    fn members_are_found_without_case_an_exact_name_first() {
        let fields = Fields::from(vec![
            Field::new("eventname", DataType::Utf8, true),
            Field::new("awsregion", DataType::Utf8, true),
            Field::new("errorcode", DataType::Utf8, true),
        ]);
        let objects: Vec<Json> = [
            r#"{"eventName":"A","awsRegion":"r"}"#,
            r#"{"EventName":"upper","eventname":"exact","eventName":"camel"}"#,
            r#"{"EventName":"upper","eventName":"camel"}"#,
            r#"[1]"#,
        ]
        .iter()
        .map(|text| Json::parse(text).unwrap())
        .collect();
        let found = members_of(objects.iter().map(Some), &fields);
        let text = |v: &Option<&Json>| match v {
            Some(Json::Str(s)) => Some(s.to_string()),
            _ => None,
        };
        let names: Vec<_> = found[0].iter().map(text).collect();
        // Without an exact match, the first in the order written wins: "EventName" before "eventName".
        assert_eq!(names, [Some("A".to_owned()), Some("exact".to_owned()), Some("upper".to_owned()), None]);
        for (i, object) in objects.iter().enumerate() {
            assert_eq!(text(&found[0][i]), text(&member(object, "eventname")));
        }
        assert_eq!(found[1].iter().map(text).collect::<Vec<_>>(), [Some("r".to_owned()), None, None, None]);
        assert!(found[2].iter().all(Option::is_none));
    }

    #[test]
    fn nested_members_maps_and_lists_land_in_their_columns() {
        let record = r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROA:alice","sessionContext":{"sessionIssuer":{"userName":"admin"},"attributes":{"creationDate":"2023-01-01T10:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2023-01-02T03:04:05Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","requestParameters":{"instanceType":"t3.micro","filterSet":{},"count":2,"gone":null},"readOnly":false,"resources":[{"ARN":"arn:aws:s3:::b","type":"AWS::S3::Bucket"}],"eventCategory":"Management"}"#;
        let batch = records_to_batch([record, "[1]"]).unwrap();
        assert_eq!(batch.num_rows(), 1, "a text that is not an object is skipped");
        let identity = batch.column_by_name("useridentity").unwrap().as_struct();
        assert_eq!(identity.column_by_name("principalid").unwrap().as_string::<i32>().value(0), "AROA:alice");
        let context = identity.column_by_name("sessioncontext").unwrap().as_struct();
        let issuer = context.column_by_name("sessionissuer").unwrap().as_struct();
        assert_eq!(issuer.column_by_name("username").unwrap().as_string::<i32>().value(0), "admin");
        assert!(identity.column_by_name("onbehalfof").unwrap().is_null(0));
        let time =
            batch.column_by_name("eventtime").unwrap().as_primitive::<arrow_array::types::TimestampMillisecondType>();
        assert_eq!(time.value(0), 1_672_628_645_000);
        let parameters = batch.column_by_name("requestparameters").unwrap().as_map();
        let keys: Vec<_> = parameters.keys().as_string::<i32>().iter().flatten().collect();
        let values: Vec<_> = parameters.values().as_string::<i32>().iter().collect();
        assert_eq!(keys, ["instanceType", "filterSet", "count", "gone"]);
        assert_eq!(values, [Some("t3.micro"), Some("{}"), Some("2"), None]);
        assert!(batch.column_by_name("responseelements").unwrap().is_null(0));
        let resources = batch.column_by_name("resources").unwrap().as_list::<i32>();
        let resource = resources.value(0);
        let resource = resource.as_struct();
        assert_eq!(resource.column_by_name("arn").unwrap().as_string::<i32>().value(0), "arn:aws:s3:::b");
        assert_eq!(batch.column_by_name("eventjson").unwrap().as_string::<i32>().value(0), record);
        assert!(!batch.column_by_name("readonly").unwrap().as_boolean().value(0));
    }

    #[test]
    fn every_event_time_the_ingest_path_takes_gives_a_row() {
        let time = |event_time: &str| {
            let record = format!(r#"{{"eventVersion":"1.09","eventTime":"{event_time}","eventID":"e"}}"#);
            let batch = records_to_batch([record.as_str()]).unwrap();
            assert_eq!(batch.num_rows(), 1, "{event_time}");
            batch
                .column_by_name("eventtime")
                .unwrap()
                .as_primitive::<arrow_array::types::TimestampMillisecondType>()
                .value(0)
        };
        // 2025-01-21T17:49:47Z, as AWS writes it and as exporters do (a space, nanoseconds, no offset).
        for written in [
            "2025-01-21T17:49:47Z",
            "2025-01-21 17:49:47.000000000",
            "2025-01-21T17:49:47",
            "2025-01-21T18:49:47+01:00",
        ] {
            assert_eq!(time(written), 1_737_481_787_000, "{written}");
        }
    }
}
