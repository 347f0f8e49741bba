//! Process-level tests of `cairn serve`: start-up, health, metrics, first-start
//! credentials and graceful shutdown. API behaviour is tested through real AWS
//! clients in `tests/py`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `cairn serve` process on a port of its own; killed on drop.
struct TestServer {
    child: Child,
    address: String,
}

impl TestServer {
    fn start(data_dir: &Path, envs: &[(&str, &str)]) -> (TestServer, Duration) {
        let address_file = data_dir.with_extension("addr");
        let _ = std::fs::remove_file(&address_file);
        let started = Instant::now();
        let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .arg("--address-file")
            .arg(&address_file)
            .env_remove("CAIRN_ACCOUNT_ID")
            .env_remove("CAIRN_ROOT_ACCESS_KEY_ID")
            .env_remove("CAIRN_ROOT_SECRET_ACCESS_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in envs {
            command.env(key, value);
        }
        let child = command.spawn().expect("spawn cairn");
        let mut server = TestServer { child, address: String::new() };
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(address) = std::fs::read_to_string(&address_file) {
                server.address = address;
                if server.get("/health").is_some_and(|(status, _)| status == 200) {
                    return (server, started.elapsed());
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("cairn did not become healthy within 10 s");
    }

    /// A plain HTTP/1.1 GET; `None` if nothing answers.
    fn get(&self, path: &str) -> Option<(u16, String)> {
        self.request(&format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.address))
    }

    fn request(&self, raw: &str) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(&self.address).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        stream.write_all(raw.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split(' ').nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        Some((status, body))
    }

    fn stdout(&mut self) -> String {
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        out
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(Instant::now() < deadline, "cairn did not stop within 10 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fresh_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    (dir, data_dir)
}

#[test]
fn starts_on_an_empty_directory_within_a_second() {
    let (_dir, data_dir) = fresh_dir();
    let (server, ready_after) = TestServer::start(&data_dir, &[]);
    assert!(ready_after < Duration::from_secs(1), "ready after {ready_after:?}");
    assert_eq!(server.get("/health").map(|(status, _)| status), Some(200));
}

#[test]
fn first_start_prints_credentials_and_a_restart_reuses_them() {
    let (_dir, data_dir) = fresh_dir();
    let (mut first, _) = TestServer::start(&data_dir, &[]);
    assert_eq!(first.terminate().code(), Some(0));
    let printed = first.stdout();
    let key_line = printed.lines().find(|l| l.starts_with("export AWS_ACCESS_KEY_ID=AKIA")).expect(&printed);
    assert!(printed.lines().any(|l| l.starts_with("export AWS_SECRET_ACCESS_KEY=")), "{printed}");
    assert!(printed.contains("export AWS_DEFAULT_REGION=us-east-1"), "{printed}");
    let secret = printed.lines().find_map(|l| l.strip_prefix("export AWS_SECRET_ACCESS_KEY=")).unwrap().to_owned();

    let (mut second, _) = TestServer::start(&data_dir, &[]);
    assert_eq!(second.terminate().code(), Some(0));
    assert!(!second.stdout().contains("export"), "a restart must not generate new credentials");

    // Whatever holds the secret is readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut n_holding_secret = 0;
        for path in walk(&data_dir) {
            let bytes = std::fs::read(&path).unwrap();
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                n_holding_secret += 1;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", path.display());
            }
        }
        assert_eq!(n_holding_secret, 1, "the secret should be stored once ({key_line})");
    }
}

#[test]
fn environment_sets_the_account_and_keys() {
    let (_dir, data_dir) = fresh_dir();
    let envs = [
        ("CAIRN_ACCOUNT_ID", "123456789012"),
        ("CAIRN_ROOT_ACCESS_KEY_ID", "AKIAEXAMPLEROOT"),
        ("CAIRN_ROOT_SECRET_ACCESS_KEY", "example-secret"),
    ];
    let (mut server, _) = TestServer::start(&data_dir, &envs);
    assert_eq!(server.terminate().code(), Some(0));
    assert!(!server.stdout().contains("export"), "given credentials are not printed");
}

#[test]
fn metrics_are_prometheus_text_and_unsigned_calls_are_refused() {
    let (_dir, data_dir) = fresh_dir();
    let (server, _) = TestServer::start(&data_dir, &[]);
    let body = "{}";
    let raw = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListTrails\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.address,
        body.len()
    );
    let (status, response) = server.request(&raw).unwrap();
    assert_eq!(status, 403);
    assert!(response.contains("\"__type\":\"MissingAuthenticationTokenException\""), "{response}");
    let (status, metrics) = server.get("/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("cairn_api_requests_total"), "{metrics}");
    assert!(metrics.contains("MissingAuthenticationTokenException"), "{metrics}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
