//! The columns of an event data store: CloudTrail Lake's schema for CloudTrail events
//! (spec/api.md §2.9, "Columns for CloudTrail events").
//!
//! Names are lowercase because SQL identifiers are case-insensitive: DataFusion folds unquoted
//! identifiers to lowercase, so `userIdentity.principalId` finds `useridentity.principalid`.
//! `requestparameters`, `responseelements`, `additionaleventdata` and the other free-form members are
//! `map<string,string>`: a string member is its value, any other member its JSON text (as in Lake).
//! `eventjson` is the exact record text.

use std::sync::{Arc, OnceLock};

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use cairn_store::records::EventDataStoreRecord;

/// Which table an event data store has: CloudTrail's own events, or the events channels bring
/// (eventCategory ActivityAuditLog, [`crate::activity`]). A store's kind never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    CloudTrail,
    Activity,
}

impl StoreKind {
    /// The category the store's selectors name decides (the control plane forbids mixing them).
    pub fn of(record: &EventDataStoreRecord) -> StoreKind {
        let names_activity = record.advanced_event_selectors.iter().flat_map(|s| &s.field_selectors).any(|field| {
            field.field == "eventCategory"
                && field
                    .equals
                    .as_ref()
                    .is_some_and(|values| values.iter().any(|v| v == cairn_model::event::audit::EVENT_CATEGORY))
        });
        if names_activity { StoreKind::Activity } else { StoreKind::CloudTrail }
    }

    pub fn schema(self) -> SchemaRef {
        match self {
            StoreKind::CloudTrail => lake_schema(),
            StoreKind::Activity => crate::activity::activity_schema(),
        }
    }

    /// The rows of stored record texts in this kind's schema.
    pub fn records_to_batch<'a>(self, texts: impl IntoIterator<Item = &'a str>) -> Result<RecordBatch, ArrowError> {
        match self {
            StoreKind::CloudTrail => crate::convert::records_to_batch(texts),
            StoreKind::Activity => crate::activity::records_to_batch(texts),
        }
    }
}

/// `eventtime`'s type (and that of every other timestamp column).
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// The name of the event time column, which retention and time pruning read.
pub const EVENT_TIME: &str = "eventtime";

/// The name of the event ID column, which segments keep a Bloom filter of.
pub const EVENT_ID: &str = "eventid";

/// The name of the column holding each record's exact text.
pub const EVENT_JSON: &str = "eventjson";

/// The Arrow schema of an event data store's table.
pub fn lake_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA.get_or_init(build).clone()
}

/// `map<string,string>` as Arrow spells it (the layout Parquet round-trips).
pub fn string_map() -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn structure(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), true)
}

fn build() -> SchemaRef {
    let session_issuer =
        structure("sessionissuer", ["type", "principalid", "arn", "accountid", "username"].map(text).to_vec());
    let attributes =
        structure("attributes", vec![Field::new("creationdate", timestamp_type(), true), text("mfaauthenticated")]);
    let web_identity =
        structure("webidfederationdata", vec![text("federatedprovider"), Field::new("attributes", string_map(), true)]);
    let session_context = structure(
        "sessioncontext",
        vec![
            attributes,
            session_issuer,
            web_identity,
            text("sourceidentity"),
            text("ec2roledelivery"),
            text("ec2issuedinvpc"),
        ],
    );
    let user_identity = structure(
        "useridentity",
        vec![
            text("type"),
            text("principalid"),
            text("arn"),
            text("accountid"),
            text("accesskeyid"),
            text("username"),
            session_context,
            structure("onbehalfof", vec![text("userid"), text("identitystorearn")]),
            structure("inscopeof", vec![text("issuertype"), text("credentialsissuedto")]),
            text("invokedby"),
            text("identityprovider"),
            text("credentialid"),
        ],
    );
    let resource = Field::new(
        "item",
        DataType::Struct(Fields::from(["accountid", "type", "arn", "arnprefix"].map(text).to_vec())),
        true,
    );
    let map = |name: &str| Field::new(name, string_map(), true);
    Arc::new(Schema::new(vec![
        text("eventversion"),
        user_identity,
        Field::new(EVENT_TIME, timestamp_type(), false),
        text("eventsource"),
        text("eventname"),
        text("awsregion"),
        text("sourceipaddress"),
        text("useragent"),
        text("errorcode"),
        text("errormessage"),
        map("requestparameters"),
        map("responseelements"),
        map("additionaleventdata"),
        text("requestid"),
        text(EVENT_ID),
        Field::new("readonly", DataType::Boolean, true),
        Field::new("resources", DataType::List(Arc::new(resource)), true),
        text("eventtype"),
        text("apiversion"),
        Field::new("managementevent", DataType::Boolean, true),
        text("recipientaccountid"),
        text("sharedeventid"),
        text("annotation"),
        text("vpcendpointid"),
        text("vpcendpointaccountid"),
        map("serviceeventdetails"),
        map("addendum"),
        map("edgedevicedetails"),
        map("insightdetails"),
        text("eventcategory"),
        structure("tlsdetails", vec![text("tlsversion"), text("ciphersuite"), text("clientprovidedhostheader")]),
        text("sessioncredentialfromconsole"),
        text(EVENT_JSON),
        text("eventjsonchecksum"),
    ]))
}
