//! Tests of `config`.
use super::*;

fn resolve(toml_text: &str, overrides: Overrides) -> Result<ServeConfig, String> {
    let raw: RawConfig = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    ServeConfig::resolve(raw, overrides).map_err(|e| e.to_string())
}

#[test]
fn defaults_need_no_config() {
    let config = resolve("", Overrides::default()).unwrap();
    assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
    assert_eq!(config.region, "us-east-1");
    assert!(!config.accept_any_credentials);
    assert!(config.root_keys.is_none());
}

#[test]
fn flags_override_the_file() {
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".to_owned()),
        region: Some("eu-west-1".to_owned()),
        accept_any_credentials: true,
        ..Overrides::default()
    };
    let config = resolve("listen = \"127.0.0.1:9\"\nregion = \"us-west-2\"", overrides).unwrap();
    assert_eq!(config.listen.port(), 0);
    assert_eq!(config.region, "eu-west-1");
    assert!(config.accept_any_credentials);
}

#[test]
fn the_console_listens_beside_the_api_unless_told() {
    let default = resolve("", Overrides::default()).unwrap();
    assert_eq!(default.console_listen.to_string(), "127.0.0.1:4591");
    let any = resolve("", Overrides { listen: Some("127.0.0.1:0".to_owned()), ..Overrides::default() }).unwrap();
    assert_eq!(any.console_listen.port(), 0, "beside any free port is any free port");
    let chosen = Overrides { console_listen: Some("0.0.0.0:8080".to_owned()), ..Overrides::default() };
    assert_eq!(resolve("console_listen = \"127.0.0.1:9\"", chosen).unwrap().console_listen.to_string(), "0.0.0.0:8080");
    assert_eq!(resolve("console_listen = \"127.0.0.1:9\"", Overrides::default()).unwrap().console_listen.port(), 9);
    let bad = resolve("console_listen = \"nowhere\"", Overrides::default()).map(|_| ()).unwrap_err();
    assert!(bad.contains("console address \"nowhere\""), "{bad}");
}

#[test]
fn identities_get_derived_fields() {
    let config = resolve(
        r#"
[[identities]]
account_id = "111111111111"
user_name = "alice"
access_key_id = "AKIAALICE"
secret_access_key = "s"
"#,
        Overrides::default(),
    )
    .unwrap();
    let (alice, _) = &config.identities[0];
    assert_eq!(alice.arn, "arn:aws:iam::111111111111:user/alice");
    assert_eq!(alice.user_name.as_deref(), Some("alice"));
}

#[test]
fn mistakes_are_named() {
    let cases = [
        ("listen = \"nope\"", "listen address"),
        ("region = \"mars\"", "region"),
        ("account_id = \"123\"", "12 digits"),
        ("trusted_proxies = [\"proxy\"]", "trusted proxy"),
        ("lookup_events_per_second = 0.0", "lookup_events_per_second"),
        ("unknown = 1", "unknown field"),
        ("[organization]\nid = \"x\"\nmanagement_account_id = \"111111111111\"", "organization id"),
        ("[[sns_topics]]\narn = \"t\"\nendpoint = \"http://x\"", "sns topic"),
        (
            "[[identities]]\naccount_id = \"111111111111\"\naccess_key_id = \"AKIAX\"\nsecret_access_key = \"s\"",
            "user_name",
        ),
        (
            "[[identities]]\naccount_id = \"111111111111\"\nuser_name=\"a\"\naccess_key_id = \"AKIAX\"\nsecret_access_key = \"s\"\n[[identities]]\naccount_id = \"111111111111\"\nuser_name=\"b\"\naccess_key_id = \"AKIAX\"\nsecret_access_key = \"t\"",
            "declared twice",
        ),
    ];
    for (toml_text, expected) in cases {
        let error = resolve(toml_text, Overrides::default()).unwrap_err();
        assert!(error.contains(expected), "{toml_text:?}: {error}");
    }
    let half_keys = Overrides { root_access_key_id: Some("AKIAX".to_owned()), ..Overrides::default() };
    assert!(resolve("", half_keys).unwrap_err().contains("both"));
}

#[test]
fn intervals_take_a_number_and_a_unit() {
    assert_eq!(parse_interval("1s"), Some(Duration::from_secs(1)));
    assert_eq!(parse_interval("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_interval("5m"), Some(Duration::from_secs(300)));
    assert_eq!(parse_interval("30d"), Some(Duration::from_secs(30 * 86_400)));
    assert_eq!(parse_interval("5"), None);
    assert_eq!(parse_interval("m"), None);
    assert_eq!(parse_interval("1w"), None);
    let config = resolve("", Overrides::default()).expect("defaults");
    assert_eq!(config.delivery_interval, Duration::from_secs(300));
    assert_eq!(config.digest_interval, Duration::from_secs(3600));
    assert_eq!(config.signing_key_rotation, Duration::from_secs(30 * 86_400));
    let fast = Overrides {
        delivery_interval: Some("1s".to_owned()),
        digest_interval: Some("60s".to_owned()),
        ..Overrides::default()
    };
    let config = resolve("signing_key_rotation = \"2h\"", fast).expect("short intervals");
    assert_eq!(config.delivery_interval, Duration::from_secs(1));
    assert_eq!(config.digest_interval, Duration::from_secs(60));
    assert_eq!(config.signing_key_rotation, Duration::from_secs(7200));
    let error = resolve("delivery_interval = \"500ms\"", Overrides::default()).expect_err("too short");
    assert!(error.contains("delivery interval \"500ms\" must be a duration from 1s to 1d"), "{error}");
}

#[test]
fn log_streaming_defaults_to_the_embedded_store_and_takes_declared_sinks() {
    let default = resolve("", Overrides::default()).unwrap();
    assert!(default.embedded_cloudwatch_logs);
    assert!(default.log_sinks.is_empty());
    let text = r#"
embedded_cloudwatch_logs = false
[[log_sinks]]
kind = "http"
url = "http://127.0.0.1:9/in"
headers = { Authorization = "Bearer x" }
[[log_sinks]]
kind = "syslog"
address = "localhost:514"
transport = "tcp"
log_groups = ["CloudTrail/a"]
"#;
    let config = resolve(text, Overrides::default()).unwrap();
    assert!(!config.embedded_cloudwatch_logs);
    assert_eq!(
        config.log_sinks,
        [
            LogSinkConfig::Http {
                url: "http://127.0.0.1:9/in".to_owned(),
                headers: vec![("Authorization".to_owned(), "Bearer x".to_owned())],
                log_groups: Vec::new(),
            },
            LogSinkConfig::Syslog(log_sinks::SyslogConfig {
                address: "localhost:514".to_owned(),
                tcp: true,
                facility: 13,
                severity: 6,
                app_name: "cairn".to_owned(),
                hostname: None,
                log_groups: vec!["CloudTrail/a".to_owned()],
            }),
        ]
    );
    for (bad, says) in [
        ("[[log_sinks]]\nkind = \"kafka\"", "not cloudwatch_logs, http or syslog"),
        ("[[log_sinks]]\nkind = \"cloudwatch_logs\"\nendpoint = \"http://h:1\"", "needs access_key_id"),
        ("[[log_sinks]]\nkind = \"syslog\"\naddress = \"h:1\"\nendpoint = \"http://h:1\"", "takes no endpoint"),
        ("[[log_sinks]]\nkind = \"http\"", "needs a url"),
        ("[[log_sinks]]\nkind = \"http\"\nurl = \"ftp://x\"", "http(s) URL"),
        ("[[log_sinks]]\nkind = \"http\"\nurl = \"http://x\"\naddress = \"h:1\"", "takes no address"),
        ("[[log_sinks]]\nkind = \"syslog\"\naddress = \"nohost\"", "host:port"),
        ("[[log_sinks]]\nkind = \"syslog\"\naddress = \"h:1\"\ntransport = \"quic\"", "udp or tcp"),
        ("[[log_sinks]]\nkind = \"syslog\"\naddress = \"h:1\"\nfacility = 24", "facility"),
    ] {
        let error = resolve(bad, Overrides::default()).unwrap_err();
        assert!(error.contains(says), "{bad}: {error}");
    }
}
