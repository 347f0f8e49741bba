//! LookupEvents' view of a record (spec/api.md §2.5): `Username`, `Resources[{ResourceType, ResourceName}]`,
//! `ReadOnly` as a string, and the values a record has for each of the eight lookup attributes.

use std::fmt;
use std::slice;

use super::record::{EventFields, Resource};

/// The `AttributeKey`s of LookupEvents' `LookupAttributes` (case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LookupAttributeKey {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl LookupAttributeKey {
    pub const ALL: [LookupAttributeKey; 8] = [
        LookupAttributeKey::EventId,
        LookupAttributeKey::EventName,
        LookupAttributeKey::ReadOnly,
        LookupAttributeKey::Username,
        LookupAttributeKey::ResourceType,
        LookupAttributeKey::ResourceName,
        LookupAttributeKey::EventSource,
        LookupAttributeKey::AccessKeyId,
    ];

    /// The wire name, as in `{"AttributeKey":"EventName"}`.
    pub fn as_str(self) -> &'static str {
        match self {
            LookupAttributeKey::EventId => "EventId",
            LookupAttributeKey::EventName => "EventName",
            LookupAttributeKey::ReadOnly => "ReadOnly",
            LookupAttributeKey::Username => "Username",
            LookupAttributeKey::ResourceType => "ResourceType",
            LookupAttributeKey::ResourceName => "ResourceName",
            LookupAttributeKey::EventSource => "EventSource",
            LookupAttributeKey::AccessKeyId => "AccessKeyId",
        }
    }

    /// The key with this exact (case-sensitive) wire name.
    pub fn from_name(name: &str) -> Option<LookupAttributeKey> {
        LookupAttributeKey::ALL.into_iter().find(|key| key.as_str() == name)
    }

    /// Whether Insights events can be looked up by this key (only `EventId`, `EventName`, `EventSource`).
    pub fn applies_to_insights(self) -> bool {
        matches!(self, LookupAttributeKey::EventId | LookupAttributeKey::EventName | LookupAttributeKey::EventSource)
    }
}

impl fmt::Display for LookupAttributeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One element of an `Event`'s `Resources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupResource<'a> {
    pub resource_type: Option<&'a str>,
    /// The resource's ARN.
    pub resource_name: Option<&'a str>,
}

impl EventFields {
    /// LookupEvents' `Username`: the IAM user name for `IAMUser`; `root` for `Root`; the session name (after the
    /// last `/` of the ARN) for `AssumedRole`; the name after `federated-user/` for `FederatedUser`; `invokedBy`
    /// for `AWSService`; otherwise `userName` when present.
    pub fn username(&self) -> Option<&str> {
        let identity = &self.user_identity;
        let arn = identity.arn.as_deref();
        let user_name = identity.user_name.as_deref();
        // Role sessions and federated users have principalId `<id>:<name>`.
        let principal_suffix = || identity.principal_id.as_deref().and_then(|p| p.split_once(':')).map(|(_, n)| n);
        let name = match identity.identity_type.as_deref() {
            Some("Root") => Some("root"),
            Some("IAMUser") => {
                user_name.or_else(|| arn.and_then(|a| a.split_once(":user/")).map(|(_, path)| last(path)))
            }
            Some("AssumedRole") => {
                arn.and_then(|a| a.rsplit_once('/')).map(|(_, session)| session).or_else(principal_suffix).or(user_name)
            }
            Some("FederatedUser") => arn
                .and_then(|a| a.split_once(":federated-user/"))
                .map(|(_, name)| name)
                .or_else(principal_suffix)
                .or(user_name),
            Some("AWSService") => identity.invoked_by.as_deref().or(user_name),
            _ => user_name,
        };
        name.filter(|n| !n.is_empty())
    }

    /// LookupEvents' `ReadOnly`: `"true"` or `"false"`, `None` when the record has no `readOnly`.
    pub fn read_only_str(&self) -> Option<&'static str> {
        self.read_only.map(|b| if b { "true" } else { "false" })
    }

    /// LookupEvents' `AccessKeyId` (`userIdentity.accessKeyId`; `None` when absent or empty).
    pub fn access_key_id(&self) -> Option<&str> {
        self.user_identity.access_key_id.as_deref().filter(|k| !k.is_empty())
    }

    /// LookupEvents' `Resources`, one per element of `resources[]`, in order.
    pub fn lookup_resources(&self) -> impl Iterator<Item = LookupResource<'_>> {
        self.resources.iter().map(|r| LookupResource {
            resource_type: r.resource_type.as_deref().filter(|t| !t.is_empty()),
            resource_name: r.arn.as_deref().filter(|n| !n.is_empty()),
        })
    }

    /// The values this record has for a lookup attribute, for indexing: none, one, or (for `ResourceType` and
    /// `ResourceName`) one per resource, possibly repeated. Empty strings are never yielded.
    pub fn lookup_attribute_values(&self, key: LookupAttributeKey) -> AttributeValues<'_> {
        fn one(value: Option<&str>) -> AttributeValues<'_> {
            AttributeValues { inner: Inner::One(value) }
        }
        match key {
            LookupAttributeKey::EventId => one(Some(&self.event_id)),
            LookupAttributeKey::EventName => one(Some(&self.event_name)),
            LookupAttributeKey::ReadOnly => one(self.read_only_str()),
            LookupAttributeKey::Username => one(self.username()),
            LookupAttributeKey::ResourceType => AttributeValues { inner: Inner::Types(self.resources.iter()) },
            LookupAttributeKey::ResourceName => AttributeValues { inner: Inner::Names(self.resources.iter()) },
            LookupAttributeKey::EventSource => one(Some(&self.event_source)),
            LookupAttributeKey::AccessKeyId => one(self.access_key_id()),
        }
    }
}

/// The iterator of [`EventFields::lookup_attribute_values`].
#[derive(Debug, Clone)]
pub struct AttributeValues<'a> {
    inner: Inner<'a>,
}

#[derive(Debug, Clone)]
enum Inner<'a> {
    One(Option<&'a str>),
    Types(slice::Iter<'a, Resource>),
    Names(slice::Iter<'a, Resource>),
}

impl<'a> Iterator for AttributeValues<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let non_empty = |s: &&str| !s.is_empty();
        match &mut self.inner {
            Inner::One(value) => value.take().filter(non_empty),
            Inner::Types(iter) => iter.find_map(|r| r.resource_type.as_deref().filter(non_empty)),
            Inner::Names(iter) => iter.find_map(|r| r.arn.as_deref().filter(non_empty)),
        }
    }
}

/// The part after the last `/` (the whole string when there is none).
fn last(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}
