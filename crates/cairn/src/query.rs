//! `cairn query`: Lake SQL against a data directory no server holds, printed as a table, CSV or JSON.
//!
//! The statement names stores by ID or by name. Events still in the write-ahead log (not yet in a
//! store's segments) are read first, so the answer is what a server would give.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use cairn_lake::{Lake, LakeConfig, LakeParts, QueryResult};
use cairn_model::clock::{Clock, SystemClock};
use cairn_store::Registry;
use cairn_store::events::{EventStore, EventStoreConfig};

use crate::bootstrap;

#[derive(Debug, clap::Args)]
pub(crate) struct QueryArgs {
    /// Data directory [default: ./cairn-data].
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The SELECT statement; FROM names an event data store by ID or name.
    sql: String,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

pub(crate) fn run(args: QueryArgs) -> anyhow::Result<()> {
    if !args.data_dir.join("meta").exists() {
        anyhow::bail!("{} is not a cairn data directory (it has no meta/)", args.data_dir.display());
    }
    let meta = bootstrap::open_data_dir(&args.data_dir)
        .with_context(|| format!("opening {} (is a server using it?)", args.data_dir.display()))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let store_config = EventStoreConfig::new(&args.data_dir);
    // Nothing may be trimmed: a server started later still needs every cursor's records.
    store_config.holds.set("query", cairn_store::wal::Lsn(0));
    let (events, _) =
        runtime.block_on(EventStore::open(store_config, clock.clone())).context("opening the event store")?;
    let events = Arc::new(events);
    let stores = Arc::new(Registry::load(meta.clone())?);
    let result = runtime.block_on(async {
        let lake = Lake::open(LakeParts {
            data_dir: args.data_dir.clone(),
            events: events.clone(),
            stores,
            meta,
            organization_accounts: None,
            sink: None,
            clock,
            config: LakeConfig::default(),
        })
        .await?;
        lake.catch_up().await?;
        anyhow::Ok(lake.query_now(&args.sql).await)
    })?;
    events.close();
    let result = result.map_err(|error| anyhow::anyhow!("{}: {}", error.code, error.message))?;
    let text = match args.format {
        Format::Table => table(&result),
        Format::Csv => cairn_lake::results::csv_text(&result).map_err(|e| anyhow::anyhow!(e))?,
        Format::Json => json(&result)?,
    };
    print!("{text}");
    Ok(())
}

/// Columns padded to their widest value, NULL shown as `NULL`, then a row count.
fn table(result: &QueryResult) -> String {
    let cells: Vec<Vec<&str>> =
        result.rows.iter().map(|row| row.iter().map(|v| v.as_deref().unwrap_or("NULL")).collect()).collect();
    let widths: Vec<usize> = result
        .columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            cells.iter().filter_map(|row| row.get(i)).map(|v| v.chars().count()).fold(name.chars().count(), usize::max)
        })
        .collect();
    let line = |values: &mut dyn Iterator<Item = &str>| -> String {
        let padded: Vec<String> =
            values.zip(&widths).map(|(value, width)| format!("{value:<width$}", width = *width)).collect();
        format!("{}\n", padded.join(" | ").trim_end())
    };
    let mut out = line(&mut result.columns.iter().map(String::as_str));
    out.push_str(&format!("{}\n", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("-+-")));
    for row in &cells {
        out.push_str(&line(&mut row.iter().copied()));
    }
    out.push_str(&format!("({} row{})\n", cells.len(), if cells.len() == 1 { "" } else { "s" }));
    out
}

/// One JSON object per row, in an array; NULL is `null`.
fn json(result: &QueryResult) -> anyhow::Result<String> {
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = result
        .rows
        .iter()
        .map(|row| {
            result
                .columns
                .iter()
                .zip(row)
                .map(|(column, value)| {
                    (column.clone(), value.clone().map_or(serde_json::Value::Null, serde_json::Value::String))
                })
                .collect()
        })
        .collect();
    Ok(format!("{}\n", serde_json::to_string_pretty(&rows)?))
}
