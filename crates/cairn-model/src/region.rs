//! AWS region names.

/// The commercial regions cairn knows by name. Requests may use any name of
/// the right shape; this list is where multi-region trails and quotas look.
pub const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "sa-east-1",
];

/// Global-service events (IAM, STS, CloudFront) are recorded here (spec/api.md §2.2).
pub const GLOBAL_SERVICE_REGION: &str = "us-east-1";

/// Whether `name` has the shape of a region: `xx-name-N` or `xx-gov-name-N`.
pub fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    (3..=4).contains(&parts.len())
        && first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
        && parts[1..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn region_shapes() {
        for ok in super::KNOWN_REGIONS.iter().copied().chain(["us-gov-west-1", "cn-north-1"]) {
            assert!(super::is_region_name(ok), "{ok}");
        }
        for bad in ["", "us", "us-east", "US-EAST-1", "us-east-x", "mars", "a-b-1"] {
            assert!(!super::is_region_name(bad), "{bad}");
        }
    }
}
