//! The starter security alarms (`--security-alarms TARGET`): each alarm of
//! `cairn_select::SECURITY_ALARMS` kept as an EventBridge rule of the root account in the default
//! region, tagged as an alarm (`cairn_deliver::rules::alarm`) and taking read-only management events
//! too, with `TARGET` as its one target. At
//! every start the rules are written again as the starter set says, so a newer cairn updates them;
//! a rule the user disabled stays disabled, and rules of other names are left alone.

use cairn_deliver::rules::alarm::{THRESHOLD_TAG, WINDOW_TAG};
use cairn_select::SECURITY_ALARMS;
use cairn_store::rules::{RuleRecord, RuleState, RuleTag, RuleTarget};
use cairn_store::{Change, Registry, StoreError};

/// The target's `Id` on every starter alarm.
const TARGET_ID: &str = "security-alarms";

/// Writes the starter alarms for `account_id` in `region`, each sending its state changes to `target`.
pub(crate) fn keep(
    rules: &Registry<RuleRecord>,
    account_id: &str,
    region: &str,
    target: &str,
    now: jiff::Timestamp,
) -> Result<(), StoreError> {
    rules.transact(|existing| {
        let changes = SECURITY_ALARMS
            .iter()
            .map(|alarm| {
                let current = existing.get(&RuleRecord::key_of(account_id, region, alarm.name));
                // CIS's metric filters see every event, reads included (unauthorized reads above all).
                let state = match current.map(|rule| rule.state) {
                    Some(RuleState::Disabled) => RuleState::Disabled,
                    _ => RuleState::EnabledWithAllCloudTrailManagementEvents,
                };
                Change::Put(RuleRecord {
                    account_id: account_id.to_owned(),
                    region: region.to_owned(),
                    name: alarm.name.to_owned(),
                    event_pattern: alarm.pattern.to_owned(),
                    state,
                    description: Some(format!("{} ({})", alarm.description, alarm.control)),
                    targets: vec![RuleTarget::plain(TARGET_ID, target)],
                    created_at: current.map_or(now, |rule| rule.created_at),
                    tags: vec![
                        RuleTag { key: THRESHOLD_TAG.to_owned(), value: alarm.threshold.to_string() },
                        RuleTag { key: WINDOW_TAG.to_owned(), value: alarm.window_seconds.to_string() },
                    ],
                })
            })
            .collect();
        Ok::<_, StoreError>(((), changes))
    })
}
