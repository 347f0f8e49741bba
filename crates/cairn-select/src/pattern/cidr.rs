//! IP addresses and CIDR blocks as event-ruler reads them.
//!
//! What counts as an address is narrower than `std::net`'s parsers: event-ruler first requires
//! `[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+` or `[0-9a-fA-F:]*:[0-9a-fA-F:]*` (so no embedded IPv4 in IPv6,
//! no zone), then asks `InetAddress`, which refuses octets above 255 and ambiguous leading zeros
//! and turns an IPv4-mapped IPv6 address (`::ffff:a01:203`) into the IPv4 address. A CIDR block
//! runs from the address *as written* (host bits are not cleared) to the address with all host
//! bits set, both ends included; `/32` and `/128` are refused.

use std::net::Ipv6Addr;

/// An address in event-ruler's sense: 4 or 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum IpAddress {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// The address `text` is, if event-ruler would read it as one.
pub(crate) fn parse_ip(text: &str) -> Option<IpAddress> {
    if looks_like_ipv4(text) {
        return parse_ipv4(text).map(IpAddress::V4);
    }
    if looks_like_ipv6(text) {
        let address: Ipv6Addr = text.parse().ok()?;
        return Some(match address.to_ipv4_mapped() {
            Some(v4) => IpAddress::V4(v4.octets()),
            None => IpAddress::V6(address.octets()),
        });
    }
    None
}

fn looks_like_ipv4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn looks_like_ipv6(text: &str) -> bool {
    text.contains(':') && text.bytes().all(|b| b == b':' || b.is_ascii_hexdigit())
}

fn parse_ipv4(text: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    for (octet, part) in octets.iter_mut().zip(text.split('.')) {
        // "010" is ambiguous (octal or decimal?), and the JDK refuses it.
        if part.len() > 1 && part.starts_with('0') {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    Some(octets)
}

/// `{"cidr": "10.0.0.0/24"}`: the addresses from the one written to its block's last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CidrRange {
    low: IpAddress,
    high: IpAddress,
}

impl CidrRange {
    pub(crate) fn contains(&self, address: IpAddress) -> bool {
        // Both ends are of one family; an address of the other family is never inside.
        match (self.low, address) {
            (IpAddress::V4(_), IpAddress::V4(_)) | (IpAddress::V6(_), IpAddress::V6(_)) => {
                self.low <= address && address <= self.high
            }
            _ => false,
        }
    }
}

/// Parses a CIDR block; errors carry event-ruler's messages.
pub(crate) fn parse_cidr(text: &str) -> Result<CidrRange, String> {
    let parts = java_split(text, '/');
    let [address, mask] = parts.as_slice() else {
        return Err("Malformed CIDR, one '/' required".to_owned());
    };
    let mask = java_parse_int(mask).ok_or("Malformed CIDR, mask bits must be an integer")?;
    if mask < 0 {
        return Err("Malformed CIDR, mask bits must not be negative".to_owned());
    }
    let low = if looks_like_ipv4(address) || looks_like_ipv6(address) {
        parse_ip(address).ok_or_else(|| format!("Invalid IP address: {address}"))?
    } else {
        return Err(format!("Nonstandard IP address: {address}"));
    };
    let high = match low {
        IpAddress::V4(bytes) => {
            if mask > 31 {
                return Err("IPv4 mask bits must be < 32".to_owned());
            }
            let host = u32::MAX.checked_shr(mask as u32).unwrap_or(0);
            IpAddress::V4((u32::from_be_bytes(bytes) | host).to_be_bytes())
        }
        IpAddress::V6(bytes) => {
            if mask > 127 {
                return Err("IPv6 mask bits must be < 128".to_owned());
            }
            let host = u128::MAX.checked_shr(mask as u32).unwrap_or(0);
            IpAddress::V6((u128::from_be_bytes(bytes) | host).to_be_bytes())
        }
    };
    Ok(CidrRange { low, high })
}

/// Java's `String.split` with one separator: trailing empty pieces are dropped.
fn java_split(text: &str, separator: char) -> Vec<&str> {
    if text.is_empty() {
        return vec![""];
    }
    let mut parts: Vec<&str> = text.split(separator).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// Java's `Integer.parseInt` on ASCII digits: an optional sign, at least one digit, fits an int.
fn java_parse_int(text: &str) -> Option<i32> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.strip_prefix('+').unwrap_or(text).parse().ok()
}

#[cfg(test)]
mod tests;
