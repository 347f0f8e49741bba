//! EventBridge rules on recorded events (issue 9; spec/formats.md §4.2): each recorded event is
//! wrapped in its EventBridge envelope (`envelope`), matched against the enabled rules of its
//! account and region with `cairn_select::RuleMatcher`, and sent to each matching rule's targets
//! (`input` applies a target's `Input`/`InputPath`/`InputTransformer`; `sinks` are webhooks, log
//! files, SNS topics and configured commands (`command`)) by the [`RuleDispatcher`], a consumer of
//! the write-ahead log with a durable cursor. A rule tagged as an alarm (`alarm`) counts its matches
//! over a window and sends its state changes instead. The rules themselves are
//! `cairn_store::rules::RuleRecord`s, served by cairn-api's `events`.

pub mod alarm;
pub mod command;
mod dispatcher;
mod envelope;
mod input;
mod sinks;

pub use dispatcher::{DispatchConfig, RuleDispatcher, TargetStats};
pub use envelope::{Envelope, MAX_ENVELOPE_BYTES, Skipped, envelope};
pub use input::{InputError, JsonPath, RuleNames, check_target_input, target_input};
pub use sinks::{SendError, Sinks, TargetKind, UnsupportedTarget};
