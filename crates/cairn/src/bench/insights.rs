//! `cairn bench insights`: the Insights evaluation harness ([`cairn_insights::evaluation`]) over several
//! seeds: weeks of simulated traffic with injected anomalies, scored for recall, precision, detection
//! delay and attribution. The detector is the one `cairn serve` runs, with its default settings unless
//! `--min-count` or `--significance` try others.

use anyhow::Context as _;
use cairn_insights::evaluation::{Report, Scenario, evaluate};

use super::{command_line, load_average, machine};

#[derive(Debug, clap::Args)]
pub(crate) struct InsightsArgs {
    /// Simulations to run, with seeds 1..=N.
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// APIs per simulation.
    #[arg(long, default_value_t = 6)]
    apis: usize,
    /// Days of traffic before anomalies (the learning period).
    #[arg(long, default_value_t = 7)]
    learning_days: i64,
    /// Days of traffic with anomalies, judged.
    #[arg(long, default_value_t = 14)]
    evaluated_days: i64,
    /// Anomalies per API per evaluated week.
    #[arg(long, default_value_t = 6)]
    anomalies_per_api_week: usize,
    /// The fewest events in a window that can start a spike [default: the detector's].
    #[arg(long)]
    min_count: Option<u64>,
    /// How improbable an unusual count must be [default: the detector's].
    #[arg(long)]
    significance: Option<f64>,
    /// A quick run for the test script: one seed, three APIs, two evaluated days.
    #[arg(long)]
    smoke: bool,
    /// Print the reports as JSON too.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(mut args: InsightsArgs) -> anyhow::Result<()> {
    if args.smoke {
        (args.seeds, args.apis, args.evaluated_days) = (1, 3, 2);
    }
    println!("# cairn bench insights\n\n{}\n{}, load {}\n", command_line(), machine(), load_average());
    let mut config = cairn_insights::Config::default();
    config.min_count = args.min_count.unwrap_or(config.min_count);
    config.significance = args.significance.unwrap_or(config.significance);
    let mut reports = Vec::new();
    for seed in 1..=args.seeds {
        let scenario = Scenario {
            seed,
            learning_days: args.learning_days,
            evaluated_days: args.evaluated_days,
            apis: args.apis,
            anomalies_per_api_week: args.anomalies_per_api_week,
            config: config.clone(),
        };
        reports.push(evaluate(&scenario));
    }
    print_table(&reports);
    if args.json {
        println!("\n{}", serde_json::to_string_pretty(&reports).context("writing the reports")?);
    }
    Ok(())
}

fn print_table(reports: &[Report]) {
    println!(
        "| seed | events | injected | detected | recall | starts | false | precision | false/API/week | delay median / p90 / max (min) | ≤ 2 min | attribution | seconds |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        println!(
            "| {} | {} | {} | {} | {:.3} | {} | {} | {:.3} | {:.2} | {} / {} / {} | {:.2} | {}/{} | {:.1} |",
            r.seed,
            r.events,
            r.injected,
            r.detected,
            r.recall,
            r.starts,
            r.false_starts,
            r.precision,
            r.false_starts_per_api_week,
            r.median_delay_minutes,
            r.p90_delay_minutes,
            r.max_delay_minutes,
            r.within_two_minutes,
            r.attribution_right,
            r.attribution_checked,
            r.seconds
        );
    }
    let sum = |f: fn(&Report) -> usize| reports.iter().map(f).sum::<usize>();
    let (injected, detected, starts, false_starts) =
        (sum(|r| r.injected), sum(|r| r.detected), sum(|r| r.starts), sum(|r| r.false_starts));
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    println!(
        "\nAll seeds: recall {:.3} ({detected}/{injected}), precision {:.3} ({}/{starts}), attribution {}/{}.",
        ratio(detected, injected),
        ratio(starts - false_starts, starts),
        starts - false_starts,
        sum(|r| r.attribution_right),
        sum(|r| r.attribution_checked),
    );
    let mut kinds: std::collections::BTreeMap<String, (usize, usize, i64)> = std::collections::BTreeMap::new();
    for score in reports.iter().flat_map(|r| &r.by_kind) {
        let entry = kinds.entry(format!("{:?}", score.kind)).or_default();
        entry.0 += score.injected;
        entry.1 += score.detected;
        entry.2 = entry.2.max(score.max_delay_minutes);
    }
    for (kind, (injected, detected, delay)) in kinds {
        println!("- {kind}: {detected}/{injected} detected, longest delay {delay} min");
    }
}
