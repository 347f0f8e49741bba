//! StartLogging, StopLogging and GetTrailStatus (spec/api.md §1.2, §2.3).

use cairn_model::ApiError;
use cairn_model::clock::{epoch_seconds, iso_seconds};
use cairn_model::names::TrailRef;
use cairn_store::Change;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::input::required;
use super::resolve::{self, Access};
use crate::json11::input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameInput {
    name: Option<String>,
}

pub(crate) fn start_logging(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    set_logging(ctx, raw, true)
}

pub(crate) fn stop_logging(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    set_logging(ctx, raw, false)
}

fn set_logging(ctx: &Ctx<'_>, raw: Value, is_logging: bool) -> Result<Value, ApiError> {
    let request: NameInput = input(raw)?;
    let reference = TrailRef::parse(&required(request.name, "name")?)?;
    ctx.state.trails.transact(|trails| {
        let current = resolve::find(ctx, trails, &reference, Access::Mutate)?;
        if current.logging.is_logging == is_logging {
            return Ok::<_, ApiError>((json!({}), Vec::new()));
        }
        let mut trail = current.clone();
        trail.logging.is_logging = is_logging;
        if is_logging {
            trail.logging.start_logging_time = Some(ctx.now());
            trail.logging.start_lsn = Some(ctx.state.events.next_lsn());
        } else {
            trail.logging.stop_logging_time = Some(ctx.now());
        }
        Ok((json!({}), vec![Change::Put(trail)]))
    })
}

pub(crate) fn get_trail_status(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: NameInput = input(raw)?;
    let reference = TrailRef::parse(&required(request.name, "name")?)?;
    let trail = ctx.state.trails.read(|trails| {
        resolve::find(ctx, trails, &reference, Access::Read).cloned().map_err(|e| resolve::echo_arn(ctx, &reference, e))
    })?;
    let logging = &trail.logging;
    let mut out = json!({
        "IsLogging": logging.is_logging,
        // Deprecated members AWS still returns, as strings; empty until they apply.
        "LatestDeliveryAttemptTime": "",
        "LatestNotificationAttemptTime": "",
        "LatestNotificationAttemptSucceeded": "",
        "LatestDeliveryAttemptSucceeded": "",
        "TimeLoggingStarted": "",
        "TimeLoggingStopped": "",
    });
    if let Some(started) = logging.start_logging_time {
        out["StartLoggingTime"] = json!(epoch_seconds(started));
        out["TimeLoggingStarted"] = json!(iso_seconds(started));
    }
    if let Some(stopped) = logging.stop_logging_time.filter(|_| !logging.is_logging) {
        out["StopLoggingTime"] = json!(epoch_seconds(stopped));
        out["TimeLoggingStopped"] = json!(iso_seconds(stopped));
    }
    // Delivery is reported per region: a multi-region trail's shadow shows that region's deliveries.
    let status = ctx.state.delivery.status(&trail.arn(), ctx.region());
    let times = [
        ("LatestDeliveryTime", status.latest_delivery_time),
        ("LatestDigestDeliveryTime", status.latest_digest_delivery_time),
        ("LatestNotificationTime", status.latest_notification_time),
        ("LatestCloudWatchLogsDeliveryTime", status.latest_cloud_watch_logs_delivery_time),
    ];
    for (member, time) in times {
        if let Some(time) = time {
            out[member] = json!(epoch_seconds(time));
        }
    }
    let errors = [
        ("LatestDeliveryError", status.latest_delivery_error),
        ("LatestDigestDeliveryError", status.latest_digest_delivery_error),
        ("LatestNotificationError", status.latest_notification_error),
        ("LatestCloudWatchLogsDeliveryError", status.latest_cloud_watch_logs_delivery_error),
    ];
    for (member, error) in errors {
        if let Some(error) = error {
            out[member] = json!(error);
        }
    }
    let attempts = [
        ("LatestDeliveryAttemptTime", status.latest_delivery_attempt_time),
        ("LatestDeliveryAttemptSucceeded", status.latest_delivery_attempt_succeeded),
        ("LatestNotificationAttemptTime", status.latest_notification_attempt_time),
        ("LatestNotificationAttemptSucceeded", status.latest_notification_attempt_succeeded),
    ];
    for (member, time) in attempts {
        if let Some(time) = time {
            out[member] = json!(iso_seconds(time));
        }
    }
    Ok(out)
}
