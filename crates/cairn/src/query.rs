//! `cairn query`: Lake SQL against a data directory no server holds, printed as a table, CSV or JSON.
//!
//! The statement names stores by ID or by name. Events still in the write-ahead log (not yet in a
//! store's segments) are read first, so the answer is what a server would give.

use std::path::PathBuf;

use cairn_lake::QueryResult;

use crate::offline::Offline;

#[derive(Debug, clap::Args)]
pub(crate) struct QueryArgs {
    /// Data directory [default: ./cairn-data].
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Run the statement this many times and print the median, minimum and maximum time of all runs
    /// but the first to stderr (to measure a query without the start-up, which replays the log).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    repeat: u32,
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
    let offline = Offline::open(&args.data_dir, "query")?;
    let result = offline.runtime.block_on(async {
        let lake = offline.lake().await?;
        lake.catch_up().await?;
        let mut times = Vec::new();
        let mut result = lake.query_now(&args.sql).await;
        for _ in 1..args.repeat {
            let started = std::time::Instant::now();
            result = lake.query_now(&args.sql).await;
            times.push(started.elapsed());
        }
        if !times.is_empty() {
            times.sort();
            let ms = |d: &std::time::Duration| format!("{:.1}", d.as_secs_f64() * 1e3);
            eprintln!(
                "after one warm-up run, {} runs: median {} ms (min {}, max {})",
                times.len(),
                ms(&times[(times.len() - 1) / 2]),
                ms(&times[0]),
                ms(&times[times.len() - 1])
            );
        }
        anyhow::Ok(result)
    });
    offline.close();
    let result = result?;
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
