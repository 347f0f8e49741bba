//! ARN shapes a selector value may take for each data-event resource type.

use cairn_model::arn::{Arn, is_account_id};
use cairn_model::names::validate_bucket_name;
use cairn_model::region::is_region_name;

/// Partitions accepted in the "all resources" prefixes (`arn:aws:s3`, …).
const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

/// The data-resource types a basic event selector can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BasicType {
    S3Object,
    LambdaFunction,
    DynamoDbTable,
}

impl BasicType {
    pub(crate) fn parse(name: &str) -> Option<BasicType> {
        match name {
            "AWS::S3::Object" => Some(BasicType::S3Object),
            "AWS::Lambda::Function" => Some(BasicType::LambdaFunction),
            "AWS::DynamoDB::Table" => Some(BasicType::DynamoDbTable),
            _ => None,
        }
    }

    pub(crate) fn service(self) -> &'static str {
        match self {
            BasicType::S3Object => "s3",
            BasicType::LambdaFunction => "lambda",
            BasicType::DynamoDbTable => "dynamodb",
        }
    }
}

/// What a valid basic `DataResources.Values` entry selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every resource of the type (`arn:aws:s3`, `arn:aws:s3:::`, `arn:aws:lambda`, …);
    /// not counted against the 250 data-resource quota.
    All,
    /// A bucket or object prefix, or one exact function or table.
    Specific,
}

/// Classifies a basic data-resource value, or `None` if it is not valid for `ty`.
pub(crate) fn basic_value_scope(ty: BasicType, value: &str) -> Option<Scope> {
    if is_all_prefix(ty.service(), value) {
        return Some(Scope::All);
    }
    let valid = match ty {
        BasicType::S3Object => is_s3_object_prefix(value),
        BasicType::LambdaFunction => is_lambda_function_arn(value),
        BasicType::DynamoDbTable => is_dynamodb_table_arn(value),
    };
    valid.then_some(Scope::Specific)
}

/// `arn:<partition>:<service>` (and, for S3, `arn:<partition>:s3:::`).
pub(crate) fn is_all_prefix(service: &str, value: &str) -> bool {
    let Some(rest) = value.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, tail)) = rest.split_once(':') else {
        return false;
    };
    PARTITIONS.contains(&partition) && (tail == service || (service == "s3" && tail == "s3:::"))
}

/// `arn:aws:s3:::bucket/` or `arn:aws:s3:::bucket/prefix`: a bucket and a (possibly empty) key prefix.
fn is_s3_object_prefix(value: &str) -> bool {
    s3_bucket_and_key(value).is_some()
}

/// Splits an S3 object ARN (or prefix) into bucket and key, checking the bucket name.
fn s3_bucket_and_key(value: &str) -> Option<(&str, &str)> {
    let arn = Arn::parse(value)?;
    if arn.service != "s3" || !arn.region.is_empty() || !arn.account.is_empty() {
        return None;
    }
    let (bucket, key) = arn.resource.split_once('/')?;
    validate_bucket_name(bucket).is_ok().then_some((bucket, key))
}

/// `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
fn is_lambda_function_arn(value: &str) -> bool {
    let Some(arn) = regional_arn(value, "lambda") else {
        return false;
    };
    let Some(rest) = arn.resource.strip_prefix("function:") else {
        return false;
    };
    let (name, qualifier) = match rest.split_once(':') {
        Some((name, qualifier)) => (name, Some(qualifier)),
        None => (rest, None),
    };
    let name_ok =
        (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let qualifier_ok = qualifier.is_none_or(|q| {
        (1..=128).contains(&q.len())
            && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'$')
    });
    name_ok && qualifier_ok
}

/// `arn:aws:dynamodb:<region>:<account>:table/<name>`.
fn is_dynamodb_table_arn(value: &str) -> bool {
    regional_arn(value, "dynamodb")
        .and_then(|arn| arn.resource.strip_prefix("table/"))
        .is_some_and(is_dynamodb_table_name)
}

fn is_dynamodb_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// An ARN of `service` with a region and a 12-digit account.
fn regional_arn<'a>(value: &'a str, service: &str) -> Option<Arn<'a>> {
    let arn = Arn::parse(value)?;
    (arn.service == service && is_region_name(arn.region) && is_account_id(arn.account)).then_some(arn)
}

/// Whether `value` is the exact ARN of a resource of `resource_type` — the rule for
/// `resources.ARN` with `Equals`/`NotEquals`. Types cairn does not know in detail
/// only need a well-formed ARN.
pub(crate) fn is_resource_arn(resource_type: &str, value: &str) -> bool {
    let Some(arn) = Arn::parse(value) else {
        return false;
    };
    let regional = |service: &str, prefix: &str| {
        arn.service == service
            && is_region_name(arn.region)
            && is_account_id(arn.account)
            && arn.resource.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty())
    };
    match resource_type {
        "AWS::S3::Object" => s3_bucket_and_key(value).is_some_and(|(_, key)| !key.is_empty()),
        "AWS::Lambda::Function" => is_lambda_function_arn(value),
        "AWS::DynamoDB::Table" => is_dynamodb_table_arn(value),
        "AWS::DynamoDB::Stream" => regional("dynamodb", "table/") && arn.resource.contains("/stream/"),
        "AWS::S3::AccessPoint" => regional("s3", "accesspoint/"),
        "AWS::EC2::Snapshot" => regional("ec2", "snapshot/"),
        "AWS::Glue::Table" => regional("glue", "table/"),
        _ => true,
    }
}

/// Whether `name` has the shape of a CloudFormation-style resource type, `AWS::Service::Type`.
pub(crate) fn is_resource_type_name(name: &str) -> bool {
    let mut parts = name.split("::");
    let shape_ok = |part: Option<&str>| {
        part.is_some_and(|p| {
            p.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && p.bytes().all(|b| b.is_ascii_alphanumeric())
        })
    };
    parts.next() == Some("AWS") && shape_ok(parts.next()) && shape_ok(parts.next()) && parts.next().is_none()
}

/// Whether `source` looks like an AWS event source, `<service>.amazonaws.com`.
pub(crate) fn is_event_source_name(source: &str) -> bool {
    source.strip_suffix(".amazonaws.com").is_some_and(|service| {
        !service.is_empty()
            && service.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    })
}

#[cfg(test)]
mod tests;
