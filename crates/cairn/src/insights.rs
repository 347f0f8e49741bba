//! `cairn insights --store NAME`: Insights over an event data store's events after the fact, e.g. an
//! archive loaded with `cairn import`. The store's management events are read in event-time order,
//! counted and judged minute by minute with the detector `cairn serve` runs (the learning period
//! starts at the first event), and the insight events found are written into the same store, where
//! `cairn query` finds them (`eventtype = 'AwsCloudTrailInsight'`). Insight events have derived IDs,
//! so a second run writes only what the first did not.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::Context as _;
use cairn_insights::{Call, Config, Counters, Detector, Finding, State, insight_record, observation_refs};
use cairn_lake::QueryResult;

use crate::config::{DEFAULT_INSIGHTS_LEARNING, parse_interval};
use crate::offline::Offline;

#[derive(Debug, clap::Args)]
pub(crate) struct InsightsArgs {
    /// The event data store, by name or ID.
    #[arg(long)]
    store: String,
    /// Data directory [default: ./cairn-data].
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
    /// The learning period and baseline window, in whole minutes (e.g. 60m, 7d) [default: 7d].
    #[arg(long)]
    learning: Option<String>,
}

/// Minutes per day.
const DAY: i64 = 1_440;

pub(crate) fn run(args: InsightsArgs) -> anyhow::Result<()> {
    if !args.data_dir.join("meta").exists() {
        anyhow::bail!("{} is not a cairn data directory (it has no meta/)", args.data_dir.display());
    }
    let learning = match &args.learning {
        None => DEFAULT_INSIGHTS_LEARNING,
        Some(text) => parse_interval(text)
            .filter(|d| d.as_secs() >= 60 && d.as_secs() % 60 == 0)
            .with_context(|| format!("--learning {text:?} must be whole minutes, e.g. 60m or 7d"))?,
    };
    let config = Config { learning_minutes: i64::try_from(learning.as_secs() / 60)?, ..Config::default() };
    let offline = Offline::open(&args.data_dir, "insights")?;
    let outcome = offline.runtime.block_on(async {
        let id = offline
            .stores
            .all()
            .into_iter()
            .find(|store| store.name == args.store || store.id == args.store)
            .map(|store| store.id)
            .with_context(|| format!("no event data store is named {:?}", args.store))?;
        let lake = offline.lake().await?;
        lake.catch_up().await?;
        let query = |sql: String| {
            let lake = &lake;
            async move { lake.query_now(&sql).await.map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message)) }
        };
        let calls = query(format!(
            "SELECT to_unixtime(eventtime), recipientaccountid, useridentity.accountid, awsregion, eventsource, \
             eventname, readonly, errorcode, useridentity.arn, useragent FROM {id} \
             WHERE eventcategory = 'Management' ORDER BY eventtime"
        ))
        .await?;
        let (findings, n_events) = judge(&calls, config);
        let existing = query(format!("SELECT eventid FROM {id} WHERE eventtype = 'AwsCloudTrailInsight'")).await?;
        let existing: HashSet<String> = existing.rows.into_iter().filter_map(|row| row.into_iter().next()?).collect();
        let records: Vec<String> = findings.iter().map(insight_record).collect();
        let fresh: Vec<&str> = records
            .iter()
            .filter(|text| {
                let id = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|record| record.get("eventID")?.as_str().map(str::to_owned));
                id.is_none_or(|id| !existing.contains(&id))
            })
            .map(String::as_str)
            .collect();
        if !fresh.is_empty() {
            lake.import_records(&id, &fresh).await?;
        }
        lake.flush().await?;
        let starts = findings.iter().filter(|f| f.state == State::Start).count();
        anyhow::Ok(format!(
            "judged {n_events} management events of {}: {starts} insights ({} Start and End events), {} written",
            args.store,
            findings.len(),
            fresh.len()
        ))
    });
    offline.close();
    println!("{}", outcome?);
    Ok(())
}

/// Counts `calls` (the query's rows, in event-time order) and judges every minute once the next
/// one has begun; the findings and the number of calls.
fn judge(calls: &QueryResult, config: Config) -> (Vec<Finding>, usize) {
    let keep_days = config.learning_minutes / DAY + 2;
    let mut counters = Counters::new(keep_days, DAY);
    let mut detector: Option<Detector> = None;
    let mut findings = Vec::new();
    let mut current: Option<i64> = None;
    for row in &calls.rows {
        let cell = |i: usize| row.get(i).and_then(|v| v.as_deref());
        let Some(time) = cell(0).and_then(|t| t.parse::<f64>().ok()) else { continue };
        let Some(account_id) = cell(1).or(cell(2)) else { continue };
        let (Some(region), Some(source), Some(name)) = (cell(3), cell(4), cell(5)) else { continue };
        let event_time = time.floor() as i64;
        let minute = event_time.div_euclid(60);
        let detector = detector.get_or_insert_with(|| Detector::new(config.clone(), minute));
        if let Some(previous) = current
            && minute > previous
        {
            findings.extend(detector.advance(&counters, minute - 1));
        }
        current = Some(minute);
        let call = Call {
            account_id,
            region,
            event_source: source,
            event_name: name,
            event_time,
            read_only: cell(6).map(|v| v == "true"),
            error_code: cell(7),
            user_arn: cell(8),
            user_agent: cell(9),
            trail: None,
        };
        for observation in observation_refs(&call) {
            counters.add_ref(observation, 1);
        }
    }
    if let (Some(detector), Some(last)) = (detector.as_mut(), current) {
        // The archive's last minute is complete; what it leaves open stays open (the archive ends, not
        // the activity: silence after it would look like a drop).
        findings.extend(detector.advance(&counters, last));
    }
    (findings, calls.rows.len())
}
