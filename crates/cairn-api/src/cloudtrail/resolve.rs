//! Finding the trail a request names, with AWS's visibility rules (spec/api.md §2.1–2.2):
//! a trail is seen in its home region; a multi-region trail also in every other
//! region, as a read-only shadow; an organization trail also by member accounts,
//! read-only. Mutations are allowed only to the owner, in the home region.

use std::collections::BTreeMap;

use cairn_model::names::TrailRef;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::records::TrailRecord;

use super::Ctx;

/// How the caller may use a trail it can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Mutate,
}

/// Whether the caller (account, region) can see `trail` at all.
pub(crate) fn is_visible(ctx: &Ctx<'_>, trail: &TrailRecord) -> bool {
    let in_region = trail.home_region == ctx.region() || trail.is_multi_region_trail;
    in_region && (trail.account_id == ctx.account_id() || is_member_view(ctx, trail))
}

/// Whether the caller sees `trail` only because it is an organization trail of its organization.
fn is_member_view(ctx: &Ctx<'_>, trail: &TrailRecord) -> bool {
    let Some(organization) = &ctx.state.settings.organization else {
        return false;
    };
    trail.account_id != ctx.account_id()
        && trail.organization_id.as_deref() == Some(organization.id.as_str())
        && organization.contains(ctx.account_id())
}

/// The message of `TrailNotFoundException`.
pub(crate) fn not_found(ctx: &Ctx<'_>, shown_as: &str) -> ApiError {
    ApiError::new(ErrorCode::TrailNotFound, format!("Unknown trail: {shown_as} for the user: {}", ctx.account_id()))
}

/// Finds the trail `reference` names among `trails`, checking that the caller
/// may use it as `access` asks.
pub(crate) fn find<'t>(
    ctx: &Ctx<'_>,
    trails: &'t BTreeMap<String, TrailRecord>,
    reference: &TrailRef,
    access: Access,
) -> Result<&'t TrailRecord, ApiError> {
    let found = match reference {
        TrailRef::Name(name) => {
            let own_key = TrailRecord::key_of(ctx.account_id(), ctx.region(), name.as_str());
            trails.get(&own_key).or_else(|| {
                // A shadow of a multi-region trail homed elsewhere.
                trails
                    .values()
                    .find(|t| t.account_id == ctx.account_id() && t.name == name.as_str() && t.is_multi_region_trail)
            })
        }
        TrailRef::Arn(arn) => {
            let trail = trails.get(&TrailRecord::key_of(&arn.account, &arn.region, arn.name.as_str()));
            if arn.region != ctx.region() && !trail.is_some_and(|t| t.is_multi_region_trail) {
                return Err(ApiError::new(
                    ErrorCode::CloudTrailArnInvalid,
                    format!("Region in ARN is wrong, you can only access resources in region {}.", ctx.region()),
                ));
            }
            trail.filter(|t| is_visible(ctx, t))
        }
    };
    let Some(trail) = found else {
        let shown_as = match reference {
            TrailRef::Name(name) => name.to_string(),
            TrailRef::Arn(arn) => arn.to_string(),
        };
        return Err(not_found(ctx, &shown_as));
    };
    if access == Access::Mutate {
        check_mutable(ctx, trail)?;
    }
    Ok(trail)
}

/// Only the owner changes a trail, and only from its home region.
pub(crate) fn check_mutable(ctx: &Ctx<'_>, trail: &TrailRecord) -> Result<(), ApiError> {
    if trail.account_id != ctx.account_id() {
        return Err(ApiError::new(
            ErrorCode::NotOrganizationMasterAccount,
            format!(
                "The organization trail {} can be changed only by the organization's management account {}.",
                trail.arn(),
                trail.account_id
            ),
        ));
    }
    if trail.home_region != ctx.region() {
        return Err(ApiError::new(
            ErrorCode::InvalidHomeRegion,
            format!(
                "This operation must be called from the trail's home region {}; it was called in {}.",
                trail.home_region,
                ctx.region()
            ),
        ));
    }
    Ok(())
}

/// The trails visible to the caller, in key order.
pub(crate) fn visible<'t>(
    ctx: &'t Ctx<'_>,
    trails: &'t BTreeMap<String, TrailRecord>,
) -> impl Iterator<Item = &'t TrailRecord> + 't {
    trails.values().filter(move |t| is_visible(ctx, t))
}

/// GetTrailStatus and GetEventSelectors name an unknown trail by the ARN it
/// would have in the called region (aws/aws-sdk-go-v2#1957).
pub(crate) fn echo_arn(ctx: &Ctx<'_>, reference: &TrailRef, error: ApiError) -> ApiError {
    match (error.code, reference) {
        (ErrorCode::TrailNotFound, TrailRef::Name(name)) => {
            not_found(ctx, &format!("arn:aws:cloudtrail:{}:{}:trail/{name}", ctx.region(), ctx.account_id()))
        }
        _ => error,
    }
}

/// Changes the trail `reference` names, if the caller may, and commits it durably.
pub(crate) fn update<R>(
    ctx: &Ctx<'_>,
    reference: &TrailRef,
    change: impl FnOnce(&mut TrailRecord) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    ctx.state.trails.transact(|trails| {
        let mut trail = find(ctx, trails, reference, Access::Mutate)?.clone();
        let result = change(&mut trail)?;
        Ok::<_, ApiError>((result, vec![cairn_store::Change::Put(trail)]))
    })
}

/// Reads the trail `reference` names, if the caller can see it.
pub(crate) fn read<R>(
    ctx: &Ctx<'_>,
    reference: &TrailRef,
    read: impl FnOnce(&TrailRecord) -> R,
) -> Result<R, ApiError> {
    ctx.state.trails.read(|trails| find(ctx, trails, reference, Access::Read).map(read))
}
