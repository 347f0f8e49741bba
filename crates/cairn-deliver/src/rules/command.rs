//! The shell-command target: a command the configuration declares by name runs once per event with
//! the target's input on its standard input. Commands come only from the configuration, never from
//! an API call, so a caller who may put rules cannot run arbitrary programs; with no command
//! declared the target kind is off. A command that exits non-zero, cannot start, or outlives its
//! timeout (it is killed) is a failed delivery, retried like a webhook's.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use super::sinks::SendError;

/// A command rules may run, as the configuration declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCommand {
    /// What a target's Arn names it by: `arn:cairn:command:::NAME`.
    pub name: String,
    /// The program and its arguments; no shell unless the program is one.
    pub argv: Vec<String>,
    pub timeout: Duration,
}

/// The most of a command's standard error kept for the failure message.
const STDERR_SHOWN: usize = 200;

impl RuleCommand {
    /// Runs the command with `input` on its standard input.
    pub async fn run(&self, input: &str) -> Result<(), SendError> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err(SendError::Permanent(format!("command {} has no program", self.name)));
        };
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| SendError::Permanent(format!("command {} did not start: {error}", self.name)))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A command that exits without reading its input is judged by its exit status alone.
            let _ = stdin.write_all(input.as_bytes()).await;
        }
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(error)) => return Err(SendError::Transient(format!("command {}: {error}", self.name))),
            Err(_) => {
                return Err(SendError::Transient(format!(
                    "command {} did not finish within {} s and was killed",
                    self.name,
                    self.timeout.as_secs_f64()
                )));
            }
        };
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let shown: String = stderr.trim().chars().take(STDERR_SHOWN).collect();
        Err(SendError::Transient(format!("command {} failed ({}): {shown}", self.name, output.status)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(argv: &[&str], timeout_ms: u64) -> RuleCommand {
        RuleCommand {
            name: "t".to_owned(),
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    #[tokio::test]
    async fn the_event_arrives_on_standard_input() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("got.json");
        let script = format!("cat > {}", out.display());
        command(&["sh", "-c", &script], 5_000).run(r#"{"detail-type":"x"}"#).await.unwrap();
        assert_eq!(std::fs::read_to_string(out).unwrap(), r#"{"detail-type":"x"}"#);
    }

    #[tokio::test]
    async fn failures_say_why() {
        let failed = command(&["sh", "-c", "echo no such queue >&2; exit 3"], 5_000).run("{}").await.unwrap_err();
        assert!(
            matches!(&failed, SendError::Transient(m) if m.contains("no such queue") && m.contains("exit")),
            "{failed}"
        );
        let slow = command(&["sleep", "5"], 100).run("{}").await.unwrap_err();
        assert!(slow.to_string().contains("killed"), "{slow}");
        let missing = command(&["/nonexistent/program"], 1_000).run("{}").await.unwrap_err();
        assert!(matches!(missing, SendError::Permanent(_)), "{missing}");
    }
}
