//! Lenient single-pass reading of a record: strings are borrowed where the JSON has no escapes, every other
//! value is reduced to its JSON kind, and nothing is rejected here except malformed JSON, so that
//! [`super::record`] can name the field and the type it found in its own errors.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The kind of a JSON value, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "boolean",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }
}

/// A JSON value with its string or boolean kept; anything else is skipped and remembered by kind.
#[derive(Debug)]
pub(crate) enum Scalar<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
    Other(Kind),
}

/// An object read field by field into `T`, or the kind of the non-object found instead.
#[derive(Debug)]
pub(crate) enum Loose<T> {
    Obj(T),
    Other(Kind),
}

/// An array read element by element, or the kind of the non-array found instead.
#[derive(Debug)]
pub(crate) enum LooseSeq<T> {
    Seq(Vec<T>),
    Other(Kind),
}

/// A struct filled from the entries of a JSON object. Unknown keys must be skipped with [`skip`].
pub(crate) trait Fields<'de>: Default {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;
}

/// Reads the next value into `slot`; a repeated key is noted in `duplicate` (the first one wins).
pub(crate) fn put<'de, A, T>(
    slot: &mut Option<T>,
    map: &mut A,
    duplicate: &mut Option<&'static str>,
    name: &'static str,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    let value = map.next_value::<T>()?;
    if slot.is_some() {
        duplicate.get_or_insert(name);
    } else {
        *slot = Some(value);
    }
    Ok(())
}

/// Skips the value of a key nobody asked for.
pub(crate) fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Kind, A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(Kind::Array)
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Kind, A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(Kind::Object)
}

/// Implements the visitor methods for every JSON kind but the one the visitor wants, mapping each to
/// `$other(kind)` after consuming it.
macro_rules! other_kinds {
    ($other:expr, except_map) => {
        other_kinds!(@scalars $other);
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            drain_seq(seq).map($other)
        }
    };
    ($other:expr, except_seq) => {
        other_kinds!(@scalars $other);
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            drain_map(map).map($other)
        }
    };
    (@scalars $other:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($other(Kind::Bool))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($other(Kind::Number))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($other(Kind::Number))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($other(Kind::Number))
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($other(Kind::String))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($other(Kind::Null))
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok($other(Kind::Null))
        }
    };
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any json value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Other(Kind::Number))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Other(Kind::Number))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Other(Kind::Number))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other(Kind::Null))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other(Kind::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                drain_seq(seq).map(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                drain_map(map).map(Scalar::Other)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An object key, borrowed unless it contains escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

impl<'de, T: Fields<'de>> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Fields<'de>> Visitor<'de> for V<T> {
            type Value = Loose<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any json value")
            }
            other_kinds!(Loose::Other, except_map);
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = T::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    out.field(&key, &mut map)?;
                }
                Ok(Loose::Obj(out))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LooseSeq<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = LooseSeq<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any json value")
            }
            other_kinds!(LooseSeq::Other, except_seq);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
                while let Some(item) = seq.next_element::<T>()? {
                    out.push(item);
                }
                Ok(LooseSeq::Seq(out))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// The top-level fields cairn reads; everything else stays only in the kept text.
#[derive(Debug, Default)]
pub(crate) struct RawRecord<'a> {
    pub(crate) event_version: Option<Scalar<'a>>,
    pub(crate) user_identity: Option<Loose<RawIdentity<'a>>>,
    pub(crate) event_time: Option<Scalar<'a>>,
    pub(crate) event_source: Option<Scalar<'a>>,
    pub(crate) event_name: Option<Scalar<'a>>,
    pub(crate) aws_region: Option<Scalar<'a>>,
    pub(crate) error_code: Option<Scalar<'a>>,
    pub(crate) user_agent: Option<Scalar<'a>>,
    pub(crate) event_id: Option<Scalar<'a>>,
    pub(crate) read_only: Option<Scalar<'a>>,
    pub(crate) resources: Option<LooseSeq<Loose<RawResource<'a>>>>,
    pub(crate) event_type: Option<Scalar<'a>>,
    pub(crate) management_event: Option<Scalar<'a>>,
    pub(crate) recipient_account_id: Option<Scalar<'a>>,
    pub(crate) vpc_endpoint_id: Option<Scalar<'a>>,
    pub(crate) event_category: Option<Scalar<'a>>,
    pub(crate) session_credential_from_console: Option<Scalar<'a>>,
    pub(crate) insight_details: Option<Loose<RawInsightDetails<'a>>>,
    pub(crate) event_data: Option<Loose<RawEventData<'a>>>,
    pub(crate) duplicate: Option<&'static str>,
}

impl<'de> Fields<'de> for RawRecord<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        let d = &mut self.duplicate;
        match key {
            "eventVersion" => put(&mut self.event_version, map, d, "eventVersion"),
            "userIdentity" => put(&mut self.user_identity, map, d, "userIdentity"),
            "eventTime" => put(&mut self.event_time, map, d, "eventTime"),
            "eventSource" => put(&mut self.event_source, map, d, "eventSource"),
            "eventName" => put(&mut self.event_name, map, d, "eventName"),
            "awsRegion" => put(&mut self.aws_region, map, d, "awsRegion"),
            "errorCode" => put(&mut self.error_code, map, d, "errorCode"),
            "userAgent" => put(&mut self.user_agent, map, d, "userAgent"),
            "eventID" => put(&mut self.event_id, map, d, "eventID"),
            "readOnly" => put(&mut self.read_only, map, d, "readOnly"),
            "resources" => put(&mut self.resources, map, d, "resources"),
            "eventType" => put(&mut self.event_type, map, d, "eventType"),
            "managementEvent" => put(&mut self.management_event, map, d, "managementEvent"),
            "recipientAccountId" => put(&mut self.recipient_account_id, map, d, "recipientAccountId"),
            "vpcEndpointId" => put(&mut self.vpc_endpoint_id, map, d, "vpcEndpointId"),
            "eventCategory" => put(&mut self.event_category, map, d, "eventCategory"),
            "sessionCredentialFromConsole" => {
                put(&mut self.session_credential_from_console, map, d, "sessionCredentialFromConsole")
            }
            "insightDetails" => put(&mut self.insight_details, map, d, "insightDetails"),
            "eventData" => put(&mut self.event_data, map, d, "eventData"),
            _ => skip(map),
        }
    }
}

/// `userIdentity`.
#[derive(Debug, Default)]
pub(crate) struct RawIdentity<'a> {
    pub(crate) identity_type: Option<Scalar<'a>>,
    pub(crate) principal_id: Option<Scalar<'a>>,
    pub(crate) arn: Option<Scalar<'a>>,
    pub(crate) account_id: Option<Scalar<'a>>,
    pub(crate) access_key_id: Option<Scalar<'a>>,
    pub(crate) user_name: Option<Scalar<'a>>,
    pub(crate) invoked_by: Option<Scalar<'a>>,
    pub(crate) session_context: Option<Loose<RawSessionContext<'a>>>,
    pub(crate) duplicate: Option<&'static str>,
}

impl<'de> Fields<'de> for RawIdentity<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        let d = &mut self.duplicate;
        match key {
            "type" => put(&mut self.identity_type, map, d, "userIdentity.type"),
            "principalId" => put(&mut self.principal_id, map, d, "userIdentity.principalId"),
            "arn" => put(&mut self.arn, map, d, "userIdentity.arn"),
            "accountId" => put(&mut self.account_id, map, d, "userIdentity.accountId"),
            "accessKeyId" => put(&mut self.access_key_id, map, d, "userIdentity.accessKeyId"),
            "userName" => put(&mut self.user_name, map, d, "userIdentity.userName"),
            "invokedBy" => put(&mut self.invoked_by, map, d, "userIdentity.invokedBy"),
            "sessionContext" => put(&mut self.session_context, map, d, "userIdentity.sessionContext"),
            _ => skip(map),
        }
    }
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Default)]
pub(crate) struct RawSessionContext<'a> {
    pub(crate) session_issuer: Option<Loose<RawSessionIssuer<'a>>>,
    pub(crate) duplicate: Option<&'static str>,
}

impl<'de> Fields<'de> for RawSessionContext<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "sessionIssuer" => {
                put(&mut self.session_issuer, map, &mut self.duplicate, "userIdentity.sessionContext.sessionIssuer")
            }
            _ => skip(map),
        }
    }
}

/// `userIdentity.sessionContext.sessionIssuer`.
#[derive(Debug, Default)]
pub(crate) struct RawSessionIssuer<'a> {
    pub(crate) user_name: Option<Scalar<'a>>,
    pub(crate) duplicate: Option<&'static str>,
}

impl<'de> Fields<'de> for RawSessionIssuer<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "userName" => {
                put(&mut self.user_name, map, &mut self.duplicate, "userIdentity.sessionContext.sessionIssuer.userName")
            }
            _ => skip(map),
        }
    }
}

/// One element of `resources[]`. `arn` (lower case) is a spelling some tools write; `ARNPrefix` is in older
/// S3 data events.
#[derive(Debug, Default)]
pub(crate) struct RawResource<'a> {
    pub(crate) resource_type: Option<Scalar<'a>>,
    pub(crate) arn_upper: Option<Scalar<'a>>,
    pub(crate) arn_lower: Option<Scalar<'a>>,
    pub(crate) arn_prefix: Option<Scalar<'a>>,
    pub(crate) account_id: Option<Scalar<'a>>,
    pub(crate) duplicate: Option<&'static str>,
}

impl<'de> Fields<'de> for RawResource<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        let d = &mut self.duplicate;
        match key {
            "type" => put(&mut self.resource_type, map, d, "resources[].type"),
            "ARN" => put(&mut self.arn_upper, map, d, "resources[].ARN"),
            "arn" => put(&mut self.arn_lower, map, d, "resources[].arn"),
            "ARNPrefix" => put(&mut self.arn_prefix, map, d, "resources[].ARNPrefix"),
            "accountId" => put(&mut self.account_id, map, d, "resources[].accountId"),
            _ => skip(map),
        }
    }
}

/// `insightDetails`: Insights records carry their event source and name here, not at the top level.
#[derive(Debug, Default)]
pub(crate) struct RawInsightDetails<'a> {
    pub(crate) event_source: Option<Scalar<'a>>,
    pub(crate) event_name: Option<Scalar<'a>>,
    pub(crate) insight_type: Option<Scalar<'a>>,
    pub(crate) insight_source: Option<Scalar<'a>>,
    pub(crate) duplicate: Option<&'static str>,
}

impl<'de> Fields<'de> for RawInsightDetails<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        let d = &mut self.duplicate;
        match key {
            "eventSource" => put(&mut self.event_source, map, d, "insightDetails.eventSource"),
            "eventName" => put(&mut self.event_name, map, d, "insightDetails.eventName"),
            "insightType" => put(&mut self.insight_type, map, d, "insightDetails.insightType"),
            "insightSource" => put(&mut self.insight_source, map, d, "insightDetails.insightSource"),
            _ => skip(map),
        }
    }
}

/// `eventData` of an ActivityAuditLog record (PutAuditEvents): its event source and name are here, not at the
/// top level.
#[derive(Debug, Default)]
pub(crate) struct RawEventData<'a> {
    pub(crate) event_source: Option<Scalar<'a>>,
    pub(crate) event_name: Option<Scalar<'a>>,
    pub(crate) duplicate: Option<&'static str>,
}

impl<'de> Fields<'de> for RawEventData<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        let d = &mut self.duplicate;
        match key {
            "eventSource" => put(&mut self.event_source, map, d, "eventData.eventSource"),
            "eventName" => put(&mut self.event_name, map, d, "eventData.eventName"),
            _ => skip(map),
        }
    }
}
