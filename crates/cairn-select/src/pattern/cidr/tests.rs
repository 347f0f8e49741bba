//! Tests of `cidr`: what event-ruler takes for an address or a block.
use super::*;

fn v4(a: u8, b: u8, c: u8, d: u8) -> Option<IpAddress> {
    Some(IpAddress::V4([a, b, c, d]))
}

#[test]
fn addresses_are_read_as_event_ruler_reads_them() {
    assert_eq!(parse_ip("10.0.0.123"), v4(10, 0, 0, 123));
    assert_eq!(parse_ip("0.0.0.0"), v4(0, 0, 0, 0));
    assert_eq!(parse_ip("::ffff:a00:7b"), v4(10, 0, 0, 123), "IPv4-mapped becomes IPv4");
    let v6 = parse_ip("2001:DB8::1").expect("an IPv6 address");
    assert_eq!(Some(v6), parse_ip("2001:db8:0:0::0001"));
    assert_eq!(parse_ip("::"), Some(IpAddress::V6([0; 16])));
    for not_an_address in [
        "not-an-ip",
        "AWS Internal",
        "10.0.0",
        "10.0.0.256",
        "010.0.0.1",
        "10.0.0.1 ",
        "::ffff:10.0.0.1",
        "fe80::1%eth0",
        "1:2",
        "12345::",
        "",
        "ec2.amazonaws.com",
    ] {
        assert_eq!(parse_ip(not_an_address), None, "{not_an_address}");
    }
}

#[test]
fn blocks_run_from_the_written_address_to_the_last_of_the_block() {
    let block = parse_cidr("10.0.0.0/24").expect("valid");
    assert!(block.contains(parse_ip("10.0.0.0").expect("ip")));
    assert!(block.contains(parse_ip("10.0.0.255").expect("ip")));
    assert!(!block.contains(parse_ip("10.0.1.0").expect("ip")));
    assert!(!block.contains(parse_ip("::a00:1").expect("ip")), "other family");

    // Host bits are not cleared: the block starts at .5.
    let shifted = parse_cidr("10.0.0.5/24").expect("valid");
    assert!(!shifted.contains(parse_ip("10.0.0.4").expect("ip")));
    assert!(shifted.contains(parse_ip("10.0.0.5").expect("ip")));

    let everything = parse_cidr("0.0.0.0/0").expect("valid");
    assert!(everything.contains(parse_ip("255.255.255.255").expect("ip")));

    let v6 = parse_cidr("2001:db8::/32").expect("valid");
    assert!(v6.contains(parse_ip("2001:db8:ffff::1").expect("ip")));
    assert!(!v6.contains(parse_ip("2001:db9::").expect("ip")));
    assert!(!v6.contains(parse_ip("10.0.0.1").expect("ip")));
}

#[test]
fn bad_blocks_get_event_ruler_messages() {
    for (text, message) in [
        ("10.0.0.0", "Malformed CIDR, one '/' required"),
        ("10.0.0.0/8/8", "Malformed CIDR, one '/' required"),
        ("", "Malformed CIDR, one '/' required"),
        ("10.0.0.0/x", "Malformed CIDR, mask bits must be an integer"),
        ("10.0.0.0/ 8", "Malformed CIDR, mask bits must be an integer"),
        ("10.0.0.0/-1", "Malformed CIDR, mask bits must not be negative"),
        ("10.0.0.0/32", "IPv4 mask bits must be < 32"),
        ("::/128", "IPv6 mask bits must be < 128"),
        ("host.example/8", "Nonstandard IP address: host.example"),
        ("/8", "Nonstandard IP address: "),
        ("300.0.0.0/8", "Invalid IP address: 300.0.0.0"),
        ("1:2/8", "Invalid IP address: 1:2"),
    ] {
        assert_eq!(parse_cidr(text), Err(message.to_owned()), "{text:?}");
    }
    // Java's split drops a trailing empty piece, and parseInt takes a sign.
    assert!(parse_cidr("10.0.0.0/8/").is_ok());
    assert!(parse_cidr("10.0.0.0/+8").is_ok());
}
