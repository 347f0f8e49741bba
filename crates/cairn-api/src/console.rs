//! What the web console needs of the API: signing in with an access key and its secret (each attempt
//! recorded as an `AwsConsoleSignIn` `ConsoleLogin` event), and making CloudTrail calls as the signed-in
//! principal, recorded as the calls they are with `sessionCredentialFromConsole: "true"`. Beyond the
//! API: a free-text Event history search (recorded as the LookupEvents call it narrows), reading a
//! trail's delivered files from an embedded bucket (recorded as S3 data events), and the counts the
//! overview page draws ([`activity`]).

use std::collections::HashMap;
use std::net::IpAddr;

use cairn_model::event::{NewEvent, SignIn};
use cairn_model::identity::{Principal, PrincipalType};
use cairn_model::{ApiError, ErrorCode};
use cairn_store::events::LookupQuery;
use cairn_store::objects::{ListQuery, ObjectIndex, ObjectInfo};
use jiff::{SignedDuration, Timestamp};
use subtle::ConstantTimeEq as _;

use crate::caller::Caller;
use crate::identities::KeyLookup;
use crate::state::AppState;
use crate::{cloudtrail, json11, recorder};

/// AWS's `userName` for a sign-in attempt by someone it does not know.
pub const HIDDEN_USER: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Where a sign-in came from, as its event records it.
#[derive(Debug, Clone)]
pub struct Origin {
    pub region: String,
    pub source_ip: IpAddr,
    pub user_agent: Option<String>,
    /// `additionalEventData.LoginTo`: the page signed in to.
    pub login_to: String,
}

/// Checks `secret` for `access_key_id` and records the attempt; the principal when it succeeded. A
/// failed attempt is recorded too (with the user hidden when the key is unknown), and an attempt that
/// cannot be recorded is refused with the recorder's error.
pub async fn sign_in(
    state: &AppState,
    access_key_id: &str,
    secret: &str,
    origin: &Origin,
) -> Result<Option<Principal>, ApiError> {
    let (principal, outcome) = match state.identities.lookup(access_key_id) {
        KeyLookup::Known(credential) => {
            let matches: bool = credential.secret_access_key.as_bytes().ct_eq(secret.as_bytes()).into();
            if matches {
                (credential.principal.clone(), SignIn::Success)
            } else {
                // AWS names the user who failed, but not the key or its ARN.
                let principal =
                    Principal { arn: String::new(), access_key_id: String::new(), ..credential.principal.clone() };
                (principal, SignIn::Failure)
            }
        }
        KeyLookup::Anyone(principal) => (principal, SignIn::Success),
        KeyLookup::Unknown => (unknown_user(&state.settings.default_account_id), SignIn::Failure),
    };
    let mut event = NewEvent::console_login(
        principal.clone(),
        state.clock.now(),
        origin.region.clone(),
        origin.source_ip.to_string(),
        outcome,
        &origin.login_to,
        false,
    );
    event.user_agent = origin.user_agent.clone();
    recorder::record_event(state, &event, "ConsoleLogin").await?;
    Ok((outcome == SignIn::Success).then_some(principal))
}

fn unknown_user(account_id: &str) -> Principal {
    Principal {
        principal_type: PrincipalType::IAMUser,
        account_id: account_id.to_owned(),
        arn: String::new(),
        principal_id: String::new(),
        user_name: Some(HIDDEN_USER.to_owned()),
        access_key_id: String::new(),
    }
}

/// Runs the CloudTrail operation `operation` with `input` as `caller`, recorded as a call from the
/// console; its output, or the AWS error a client would have had.
pub async fn call(
    state: &std::sync::Arc<AppState>,
    caller: &Caller,
    operation: &str,
    input: serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    let target = format!("{}{operation}", json11::CLOUDTRAIL_TARGET_PREFIX);
    let body = serde_json::to_vec(&input).map_err(|_| ApiError::internal())?;
    let outcome = cloudtrail::serve_blocking(state, caller, Some(target), body.into()).await;
    let Some(call) = outcome.recorded(caller, true) else {
        return Err(ApiError::new(ErrorCode::UnknownOperation, "The console asked for no operation."));
    };
    recorder::record_call(state, call).await?;
    outcome.result
}

/// LookupEvents `input` narrowed to records that contain `text` (ASCII case ignored): a page of at
/// most `MaxResults` matches, or fewer when the search ran out of budget; `NextToken` continues it.
pub async fn search_history(
    state: &std::sync::Arc<AppState>,
    caller: &Caller,
    input: serde_json::Value,
    text: String,
) -> Result<serde_json::Value, ApiError> {
    let outcome = cloudtrail::search_history_blocking(state, caller, input, text).await;
    if let Some(call) = outcome.recorded(caller, true) {
        recorder::record_call(state, call).await?;
    }
    outcome.result
}

/// The newest objects an embedded bucket of the caller's account holds under `prefix`, at most `max`
/// of them after `start_after` (S3's key order), and whether more follow. Recorded as the S3
/// `ListObjects` data event it is.
pub async fn list_objects(
    state: &std::sync::Arc<AppState>,
    caller: &Caller,
    bucket: &str,
    prefix: &str,
    start_after: Option<String>,
    max: usize,
) -> Result<(Vec<ObjectInfo>, bool), ApiError> {
    let query = ListQuery { prefix: prefix.to_owned(), start_after, delimiter: None, max_keys: max };
    let listed = with_owned_bucket(state, caller, bucket, move |objects, bucket| Ok(objects.list(bucket, &query)?))
        .await
        .map(|listing| (listing.objects, listing.is_truncated));
    let parameters = serde_json::json!({ "bucketName": bucket, "prefix": prefix, "list-type": "2" });
    let call = s3_call(caller, "ListObjects", parameters, &listed, recorder::bucket_resources(caller, bucket));
    let data = recorder::DataEvent {
        arn_prefixes: vec![("AWS::S3::Object".to_owned(), format!("arn:aws:s3:::{bucket}/{prefix}"))],
        additional_event_data: None,
    };
    recorder::record_data_call(state, call, data).await?;
    listed
}

/// One object of an embedded bucket of the caller's account, with its body. Recorded as the S3
/// `GetObject` data event it is.
pub async fn get_object(
    state: &std::sync::Arc<AppState>,
    caller: &Caller,
    bucket: &str,
    key: &str,
) -> Result<(ObjectInfo, Vec<u8>), ApiError> {
    let wanted = key.to_owned();
    let got = with_owned_bucket(state, caller, bucket, move |objects, bucket| {
        objects.get(bucket, &wanted)?.ok_or_else(|| ApiError::new(ErrorCode::ResourceNotFound, "No such object."))
    })
    .await;
    let parameters = serde_json::json!({ "bucketName": bucket, "key": key });
    let call = s3_call(caller, "GetObject", parameters, &got, recorder::object_resources(caller, bucket, key));
    let data = recorder::DataEvent { arn_prefixes: Vec::new(), additional_event_data: None };
    recorder::record_data_call(state, call, data).await?;
    got
}

fn s3_call<'a, T>(
    caller: &'a Caller,
    operation: &'a str,
    parameters: serde_json::Value,
    result: &Result<T, ApiError>,
    resources: Vec<cairn_model::event::NewResource>,
) -> recorder::Call<'a> {
    recorder::Call {
        caller,
        event_source: "s3.amazonaws.com",
        operation,
        request_parameters: Some(parameters),
        response_elements: None,
        error: result.as_ref().err().map(|e| (e.code.as_str().to_owned(), e.message.clone())),
        read_only: true,
        from_console: true,
        resources,
    }
}

/// Runs `read` on the blocking pool once `bucket` is known to be an embedded bucket of the caller's
/// account.
async fn with_owned_bucket<T: Send + 'static>(
    state: &std::sync::Arc<AppState>,
    caller: &Caller,
    bucket: &str,
    read: impl FnOnce(&ObjectIndex, &str) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let owned = state.buckets.get(bucket).is_some_and(|record| record.owner_account_id == caller.account_id());
    if !owned {
        return Err(ApiError::new(
            ErrorCode::ResourceNotFound,
            format!("{bucket} is not an embedded bucket of account {}.", caller.account_id()),
        ));
    }
    let (objects, bucket) = (state.objects.clone(), bucket.to_owned());
    tokio::task::spawn_blocking(move || read(&objects, &bucket)).await.map_err(|_| ApiError::internal())?
}

/// The overview's counts: the caller's account and region's Event history over the last hours.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// The start of the first hour counted.
    pub since: Timestamp,
    /// Events and errors (events with an `errorCode`) per hour, oldest hour first.
    pub hours: Vec<HourCount>,
    /// The most frequent event names, user names and error codes, most frequent first.
    pub top_event_names: Vec<(String, u64)>,
    pub top_users: Vec<(String, u64)>,
    pub top_error_codes: Vec<(String, u64)>,
    pub events: u64,
    pub errors: u64,
    /// False when the window held more than [`ACTIVITY_LIMIT`] events and only the newest were counted.
    pub complete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourCount {
    pub start: Timestamp,
    pub events: u64,
    pub errors: u64,
}

/// The most events one overview counts.
pub const ACTIVITY_LIMIT: u64 = 200_000;
/// How many names each top list keeps.
const TOP: usize = 10;

/// Counts the caller's Event history (management events) over the `hours` whole hours up to now,
/// the current one included.
pub async fn activity(state: &AppState, caller: &Caller, hours: u32) -> Result<Activity, ApiError> {
    let hour = SignedDuration::from_hours(1);
    let now = state.clock.now();
    let current_hour =
        Timestamp::from_second(now.as_second() - now.as_second().rem_euclid(3600)).map_err(|_| ApiError::internal())?;
    let since = current_hour - hour * (i32::try_from(hours.max(1)).unwrap_or(24) - 1);
    let mut counts = Activity {
        since,
        hours: (0..hours.max(1))
            .map(|i| HourCount { start: since + hour * i32::try_from(i).unwrap_or(0), events: 0, errors: 0 })
            .collect(),
        top_event_names: Vec::new(),
        top_users: Vec::new(),
        top_error_codes: Vec::new(),
        events: 0,
        errors: 0,
        complete: true,
    };
    let mut names: HashMap<String, u64> = HashMap::new();
    let mut users: HashMap<String, u64> = HashMap::new();
    let mut codes: HashMap<String, u64> = HashMap::new();
    let mut query = LookupQuery {
        account_id: caller.account_id().to_owned(),
        region: caller.region.clone(),
        attribute: None,
        start: Some(since),
        end: None,
        insights: false,
        max_results: 1_000,
        after: None,
    };
    loop {
        let page = state.events.lookup(&query).await?;
        for record in &page.events {
            let fields = record.fields();
            let slot = fields.event_time.duration_since(since).as_secs().div_euclid(3600);
            let Some(hour) = usize::try_from(slot).ok().and_then(|slot| counts.hours.get_mut(slot)) else {
                continue;
            };
            hour.events += 1;
            counts.events += 1;
            *names.entry(fields.event_name.clone()).or_default() += 1;
            if let Some(user) = fields.username() {
                *users.entry(user.to_owned()).or_default() += 1;
            }
            if let Some(code) = &fields.error_code {
                hour.errors += 1;
                counts.errors += 1;
                *codes.entry(code.clone()).or_default() += 1;
            }
        }
        query.after = page.next;
        if query.after.is_none() {
            break;
        }
        if counts.events >= ACTIVITY_LIMIT {
            counts.complete = false;
            break;
        }
    }
    counts.top_event_names = top(names);
    counts.top_users = top(users);
    counts.top_error_codes = top(codes);
    Ok(counts)
}

/// The [`TOP`] largest counts, largest first; ties by name.
fn top(counts: HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.truncate(TOP);
    counts
}
