//! A channel's destination stores and their channel ranges.
//!
//! The ranges on the stores are what the Lake follows; the channel record only names them. The two
//! live in different registries, committed one after the other (the channels lock is held throughout
//! a create or update, so no other channel operation interleaves):
//!
//! - CreateChannel and UpdateChannel commit the stores first, then the channel. A crash between the
//!   two leaves ranges for a channel that was never created (no event can name it: harmless), or the
//!   stores already following the new destinations while the channel still lists the old ones; the
//!   client got no answer and retries, and [`reconcile`] makes the stores agree with whatever the
//!   channel then says, so the state converges.
//! - DeleteChannel deletes the channel first, then closes the ranges. A crash between the two leaves
//!   open ranges for a channel that no longer exists: no new event can name it, so they take nothing
//!   more (DeleteEventDataStore closes such leftovers). The other order would leave a live channel
//!   whose events no store takes.
//!
//! Every range starts or ends at the log's next LSN when its transaction runs, so a store takes
//! exactly the channel events written while it was a destination.

use std::collections::BTreeMap;

use cairn_model::error::truncate_for_message;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::Change;
use cairn_store::records::{ChannelDestination, ChannelDestinationType, ChannelRange, EventDataStoreRecord};
use cairn_store::wal::Lsn;

use super::CHANNEL_CATEGORY;
use super::rules::WantedDestination;
use crate::cloudtrail::Ctx;
use crate::cloudtrail::event_data_stores::{self, Use};

/// Resolves `wanted` against the caller's stores and makes the stores' ranges for `channel_arn` agree
/// with it, in one commit of the event data stores. Returns the destinations as the channel keeps
/// them (stores by ARN).
pub(super) fn attach(
    ctx: &Ctx<'_>,
    channel_arn: &str,
    wanted: &[WantedDestination],
) -> Result<Vec<ChannelDestination>, ApiError> {
    ctx.state.event_data_stores.transact(|stores| {
        let mut destinations = Vec::with_capacity(wanted.len());
        let mut store_ids: Vec<&str> = Vec::new();
        for destination in wanted {
            match destination {
                WantedDestination::Store(reference) => {
                    let store = event_data_stores::find(ctx, stores, reference, Use::Active)?;
                    check_category(store)?;
                    if store_ids.contains(&store.id.as_str()) {
                        return Err(ApiError::invalid_parameter(format!(
                            "Destinations lists event data store {} more than once.",
                            store.arn()
                        )));
                    }
                    store_ids.push(&store.id);
                    destinations.push(ChannelDestination {
                        kind: ChannelDestinationType::EventDataStore,
                        location: store.arn(),
                    });
                }
                WantedDestination::Service(name) => destinations
                    .push(ChannelDestination { kind: ChannelDestinationType::AwsService, location: name.clone() }),
            }
        }
        let next = ctx.state.events.next_lsn();
        let changes = reconcile(stores, ctx.account_id(), ctx.region(), channel_arn, &store_ids, next);
        Ok::<_, ApiError>((destinations, changes))
    })
}

/// Closes every open range of `channel_arn` (the channel was deleted).
pub(super) fn detach_all(ctx: &Ctx<'_>, channel_arn: &str) -> Result<(), ApiError> {
    ctx.state.event_data_stores.transact(|stores| {
        let next = ctx.state.events.next_lsn();
        let changes = reconcile(stores, ctx.account_id(), ctx.region(), channel_arn, &[], next);
        Ok::<_, ApiError>(((), changes))
    })
}

/// The store changes that make the stores of `account_id` in `region` follow `channel_arn` exactly
/// when their ID is in `wanted_ids`: a range opened at `next` where one is wanted and none is open, the
/// open range closed at `next` where none is wanted. Stores already right are left alone.
pub(super) fn reconcile(
    stores: &BTreeMap<String, EventDataStoreRecord>,
    account_id: &str,
    region: &str,
    channel_arn: &str,
    wanted_ids: &[&str],
    next: Lsn,
) -> Vec<Change<EventDataStoreRecord>> {
    let mut changes = Vec::new();
    for store in stores.values().filter(|store| store.account_id == account_id && store.region == region) {
        let wanted = wanted_ids.contains(&store.id.as_str());
        let open = store.channels.iter().position(|range| range.channel_arn == channel_arn && range.end.is_none());
        match (wanted, open) {
            (true, None) => {
                let mut store = store.clone();
                store.channels.push(ChannelRange { channel_arn: channel_arn.to_owned(), start: next, end: None });
                changes.push(Change::Put(store));
            }
            (false, Some(index)) => {
                let mut store = store.clone();
                if let Some(range) = store.channels.get_mut(index) {
                    range.end = Some(next.max(range.start));
                }
                changes.push(Change::Put(store));
            }
            (true, Some(_)) | (false, None) => {}
        }
    }
    changes
}

/// Closes every open channel range of `store` at `next` (the store is being deleted; any range
/// still open belongs to a channel that no longer exists).
pub(crate) fn close_all(store: &mut EventDataStoreRecord, next: Lsn) {
    for range in store.channels.iter_mut().filter(|range| range.end.is_none()) {
        range.end = Some(next.max(range.start));
    }
}

/// A channel delivers only to stores that collect ActivityAuditLog events and nothing else.
fn check_category(store: &EventDataStoreRecord) -> Result<(), ApiError> {
    let categories = event_data_stores::categories(&store.advanced_event_selectors);
    if categories == [CHANNEL_CATEGORY] {
        return Ok(());
    }
    let collected = if categories.is_empty() { "no eventCategory".to_owned() } else { categories.join(", ") };
    Err(ApiError::new(
        ErrorCode::InvalidEventDataStoreCategory,
        format!(
            "Event data store {} collects {}; a channel can deliver only to event data stores of eventCategory \
             {CHANNEL_CATEGORY}.",
            store.arn(),
            truncate_for_message(&collected)
        ),
    ))
}
