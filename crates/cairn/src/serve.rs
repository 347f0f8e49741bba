//! `cairn serve`: resolve the configuration, open the data directory, bind, serve,
//! and shut down in order on SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cairn_api::settings::Organization;
use cairn_api::{AppState, StateParts};
use cairn_deliver::destination::Destinations;
use cairn_deliver::rules::{DispatchConfig, RuleDispatcher};
use cairn_deliver::{Deliverer, DeliveryConfig, DeliveryParts, OrganizationScope};
use cairn_insights::{
    Config as InsightsConfig, DataTrail, DataTrails, InsightsService, SeriesKey, ServiceConfig, Wanted,
};
use cairn_lake::{Lake, LakeConfig, LakeParts};
use cairn_model::clock::{Clock, SystemClock};
use cairn_model::trail::InsightSelector;
use cairn_store::Registry;
use cairn_store::events::{EventStore, EventStoreConfig};
use cairn_store::objects::ObjectIndex;
use cairn_store::records::{BucketRecord, EventDataStoreRecord, EventDataStoreStatus, TrailRecord};
use metrics_exporter_prometheus::PrometheusBuilder;
use tracing_subscriber::EnvFilter;

use crate::ServeArgs;
use crate::bootstrap;
use crate::config::{Overrides, RawConfig, ServeConfig};
use crate::lake::{BucketSink, LakeApi};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let raw = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
            toml::from_str::<RawConfig>(&text).with_context(|| format!("parsing config {}", path.display()))?
        }
        None => RawConfig::default(),
    };
    let overrides = Overrides {
        listen: args.listen,
        console_listen: args.console_listen,
        data_dir: args.data_dir,
        region: args.region,
        account_id: args.account_id,
        root_access_key_id: args.root_access_key_id,
        root_secret_access_key: args.root_secret_access_key,
        accept_any_credentials: args.accept_any_credentials,
        delivery_interval: args.delivery_interval,
        digest_interval: args.digest_interval,
        signing_key_rotation: args.signing_key_rotation,
        insights_learning: args.insights_learning,
        security_alarms_target: args.security_alarms,
    };
    let config = ServeConfig::resolve(raw, overrides)?;
    let meta = bootstrap::open_data_dir(&config.data_dir)
        .with_context(|| format!("opening data directory {}", config.data_dir.display()))?;
    let root = bootstrap::root_credentials(&config, meta.clone())?;
    if root.generated {
        // First start: the credentials a user needs to talk to cairn.
        println!("# cairn generated root credentials for account {}:", root.record.account_id);
        println!("export AWS_ACCESS_KEY_ID={}", root.record.access_key_id);
        println!("export AWS_SECRET_ACCESS_KEY={}", root.record.secret_access_key);
        println!("export AWS_DEFAULT_REGION={}", config.region);
    }
    if config.accept_any_credentials {
        tracing::warn!(
            "--accept-any-credentials is on: ANY well-formed SigV4 request is accepted whatever its key and secret; use this for local testing only"
        );
    }
    let metrics = PrometheusBuilder::new().install_recorder().context("installing the metrics recorder")?;
    let settings = bootstrap::api_settings(&config, &root.record);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let store_config = EventStoreConfig::new(&config.data_dir);
    // Trails' cursors hold the write-ahead log before the event store first trims it.
    Deliverer::hold_log(&meta, &store_config.holds).context("reading trail delivery cursors")?;
    Lake::hold_log(&store_config.holds);
    InsightsService::hold_log(&store_config.holds);
    RuleDispatcher::hold_log(&store_config.holds);
    let (events, recovery) =
        runtime.block_on(EventStore::open(store_config, clock.clone())).context("opening the event store")?;
    if let Some(torn) = &recovery.torn_tail {
        tracing::warn!(segment = %torn.segment.display(), bytes_cut = torn.bytes_cut, reason = %torn.reason, "cut a torn write-ahead log tail");
    }
    tracing::info!(n_events = recovery.n_records, "event store open");
    let events = Arc::new(events);
    let bucket_root = config.data_dir.join("buckets");
    let objects = Arc::new(ObjectIndex::open(&bucket_root).context("opening the embedded buckets")?);
    let trails = Arc::new(Registry::load(meta.clone())?);
    let buckets: Arc<Registry<BucketRecord>> = Arc::new(Registry::load(meta.clone())?);
    let event_data_stores = Arc::new(Registry::load(meta.clone())?);
    let dashboards = Arc::new(Registry::load(meta.clone())?);
    let channels = Arc::new(Registry::load(meta.clone())?);
    let resource_policies = Arc::new(Registry::load(meta.clone())?);
    let imports = Arc::new(Registry::load(meta.clone())?);
    let import_wakeup = Arc::new(tokio::sync::Notify::new());
    let destinations = Destinations::new(Some(objects.clone()), &config.external_buckets)
        .context("configuring external buckets")?
        .with_embedded_buckets({
            let buckets = buckets.clone();
            move |name| buckets.get(name).is_some()
        });
    let destinations = Arc::new(destinations);
    let delivery = Arc::new(
        Deliverer::new(DeliveryParts {
            events: events.clone(),
            trails: trails.clone(),
            meta: meta.clone(),
            destinations: destinations.clone(),
            topics: config.sns_topics.clone(),
            organization: config.organization.as_ref().map(|o| OrganizationScope {
                id: o.id.clone(),
                accounts: std::iter::once(o.management_account_id.clone())
                    .chain(o.member_account_ids.clone())
                    .collect(),
            }),
            clock: clock.clone(),
            config: DeliveryConfig {
                delivery_interval: config.delivery_interval,
                digest_interval: config.digest_interval,
                key_rotation: config.signing_key_rotation,
                // Retries back off no further than a dozen intervals (at most 5 minutes), so a short
                // interval also recovers quickly from an outage.
                retry_max: (config.delivery_interval * 12).clamp(Duration::from_secs(5), Duration::from_secs(300)),
                ..DeliveryConfig::default()
            },
        })?
        .with_log_streaming(crate::log_streaming::log_streaming(&config)?),
    );
    let lake = Arc::new(
        runtime
            .block_on(Lake::open(LakeParts {
                data_dir: config.data_dir.clone(),
                events: events.clone(),
                stores: event_data_stores.clone(),
                meta: meta.clone(),
                organization_accounts: config.organization.as_ref().map(|o| {
                    std::iter::once(o.management_account_id.clone()).chain(o.member_account_ids.clone()).collect()
                }),
                sink: Some(Arc::new(BucketSink(destinations.clone()))),
                clock: clock.clone(),
                config: LakeConfig::default(),
            }))
            .context("opening the Lake's event data stores")?,
    );
    let insights = Arc::new(
        InsightsService::open(
            &config.data_dir,
            events.clone(),
            clock.clone(),
            ServiceConfig {
                detector: InsightsConfig {
                    learning_minutes: i64::try_from(config.insights_learning.as_secs() / 60).unwrap_or(7 * 24 * 60),
                    ..InsightsConfig::default()
                },
                interval: config.insights_interval,
                lateness: config.insights_lateness,
                ..ServiceConfig::default()
            },
            insights_wanted(trails.clone(), event_data_stores.clone(), config.organization.as_ref()),
            insights_data_trails(trails.clone(), config.organization.as_ref()),
        )
        .context("opening Insights' saved counters")?,
    );
    let rules = Arc::new(Registry::load(meta.clone())?);
    if let Some(target) = &config.security_alarms_target {
        crate::security_alarms::keep(&rules, &root.record.account_id, &config.region, target, clock.now())
            .context("keeping the starter security alarms")?;
    }
    let dispatch = DispatchConfig {
        commands: config.rule_commands.clone(),
        sns_topics: config.sns_topics.clone(),
        ..DispatchConfig::default()
    };
    let rule_dispatcher = Arc::new(
        RuleDispatcher::open(&config.data_dir, events.clone(), rules.clone(), clock.clone(), dispatch)
            .context("opening the rule dispatcher's cursor")?,
    );
    let state = AppState::open(StateParts {
        settings,
        events: events.clone(),
        trails,
        buckets,
        event_data_stores,
        dashboards,
        channels,
        resource_policies,
        imports: imports.clone(),
        import_wakeup: import_wakeup.clone(),
        lake: Arc::new(LakeApi(lake.clone())),
        objects,
        delivery: delivery.clone(),
        insights: insights.clone(),
        rules,
        rule_dispatcher: rule_dispatcher.clone(),
        bucket_root,
        clock: clock.clone(),
        render_metrics: Arc::new(move || metrics.render()),
    })?;
    let import_worker = crate::import::ImportWorker {
        imports,
        lake: lake.clone(),
        destinations: destinations.clone(),
        clock: clock.clone(),
        wakeup: import_wakeup,
    };
    let served = runtime.block_on(async {
        lake.start();
        insights.start();
        rule_dispatcher.start();
        tokio::spawn(import_worker.run());
        let addresses = AddressFiles { api: args.address_file, console: args.console_address_file };
        let served = serve(config, addresses, Arc::new(state), events.clone(), delivery.clone()).await;
        lake.stop().await;
        if let Err(error) = rule_dispatcher.stop().await {
            tracing::warn!(%error, "could not save the rule dispatcher's cursor; the next start sends some events again");
        }
        if let Err(error) = insights.stop().await {
            tracing::warn!(%error, "could not save Insights' counters; the next start recounts from the log");
        }
        served
    });
    delivery.stop();
    // Ordered shutdown: HTTP has drained, so every acknowledged call's event is
    // durable; the WAL writer answers anything still queued and stops.
    events.close();
    served
}

/// Insight events are recorded for a series when a logging trail of its account (or its organization)
/// takes events of its region and has an insight selector of its type and category, or an enabled
/// event data store that covers them does (its insight events go to the store that selects them). A
/// series of a trail's data events is wanted while that trail logs and asks for them.
fn insights_wanted(
    trails: Arc<Registry<TrailRecord>>,
    stores: Arc<Registry<EventDataStoreRecord>>,
    organization: Option<&Organization>,
) -> Wanted {
    let members = organization_accounts(organization);
    Arc::new(move |key: &SeriesKey| {
        if let Some(arn) = &key.trail {
            return trails.read(|all| {
                all.values().any(|trail| {
                    trail.logging.is_logging && trail.arn() == *arn && selects_insights(&trail.insight_selectors, key)
                })
            });
        }
        let member = |organization: bool| organization && members.contains(&key.account_id);
        let by_trail = trails.read(|all| {
            all.values().any(|trail| {
                let account = trail.account_id == key.account_id || member(trail.is_organization_trail());
                let region = trail.is_multi_region_trail || trail.home_region == key.region;
                trail.logging.is_logging && account && region && selects_insights(&trail.insight_selectors, key)
            })
        });
        by_trail
            || stores.read(|all| {
                all.values().any(|store| {
                    let account = store.account_id == key.account_id || member(store.organization_enabled);
                    let region = store.multi_region_enabled || store.region == key.region;
                    store.status == EventDataStoreStatus::Enabled
                        && account
                        && region
                        && store.insights.as_ref().is_some_and(|insights| selects_insights(&insights.selectors, key))
                })
            })
    })
}

/// The logging trails that ask for Insights on data events, each with the data events it logs.
fn insights_data_trails(trails: Arc<Registry<TrailRecord>>, organization: Option<&Organization>) -> DataTrails {
    let members = Arc::new(organization_accounts(organization));
    Arc::new(move || {
        trails.read(|all| {
            all.values()
                .filter(|trail| {
                    trail.logging.is_logging
                        && trail.insight_selectors.iter().any(|selector| categories_of(selector).any(|c| c == "Data"))
                })
                .map(|trail| {
                    let (trail, members) = (trail.clone(), members.clone());
                    DataTrail {
                        arn: trail.arn(),
                        takes: Box::new(move |fields| cairn_select::trail_takes(&trail.scope(&members), fields)),
                    }
                })
                .collect()
        })
    })
}

/// Whether `selectors` ask for the insight type of `key` on its category of events.
fn selects_insights(selectors: &[InsightSelector], key: &SeriesKey) -> bool {
    selectors.iter().any(|selector| {
        selector.insight_type.as_deref() == Some(key.insight_type.as_str())
            && categories_of(selector).any(|category| category == key.source_category())
    })
}

/// An insight selector's event categories (Management when it names none).
fn categories_of(selector: &InsightSelector) -> impl Iterator<Item = &str> {
    let named = selector.event_categories.as_deref();
    named.unwrap_or_default().iter().map(String::as_str).chain(named.is_none().then_some("Management"))
}

/// The organization's accounts, management account first; empty without an organization.
fn organization_accounts(organization: Option<&Organization>) -> Vec<String> {
    organization
        .map(|o| std::iter::once(o.management_account_id.clone()).chain(o.member_account_ids.clone()).collect())
        .unwrap_or_default()
}

/// Where to write the bound addresses, for scripts that start cairn on any free port.
struct AddressFiles {
    api: Option<std::path::PathBuf>,
    console: Option<std::path::PathBuf>,
}

/// Writes `address` to `path` whole then renamed, so a reader never sees half an address.
fn write_address(path: &std::path::Path, address: SocketAddr) -> std::io::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, address.to_string())?;
    std::fs::rename(&partial, path)
}

async fn serve(
    config: ServeConfig,
    addresses: AddressFiles,
    state: Arc<AppState>,
    events: Arc<EventStore>,
    delivery: Arc<Deliverer>,
) -> anyhow::Result<()> {
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    let bound = listener.local_addr()?;
    let console_listener = tokio::net::TcpListener::bind(config.console_listen)
        .await
        .with_context(|| format!("binding the console to {}", config.console_listen))?;
    let console_bound = console_listener.local_addr()?;
    if let Some(path) = &addresses.console {
        write_address(path, console_bound)?;
    }
    if let Some(path) = &addresses.api {
        write_address(path, bound)?;
    }
    tracing::info!(address = %console_bound, "the web console is at http://{console_bound}/");
    tracing::info!(address = %bound, data_dir = %config.data_dir.display(), "cairn is serving");
    tokio::spawn(sweep_history(events));
    tokio::spawn(AppState::run_refresh_schedules(state.clone()));
    delivery.start();
    let console =
        cairn_console::router(state.clone(), config.region.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        if let Err(error) = axum::serve(console_listener, console).await {
            tracing::error!(%error, "the web console stopped");
        }
    });
    let app = cairn_api::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    // A batch cut short here is redone from its intent on the next start.
    delivery.stop();
    // Every handler commits durably before it answers, so once in-flight requests
    // have finished there is nothing left to flush.
    tracing::info!("cairn stopped");
    Ok(())
}

/// Event history keeps 90 days: once an hour, older segments are dropped and small ones merged.
async fn sweep_history(events: Arc<EventStore>) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        interval.tick().await;
        match events.sweep_history().await {
            Ok(0) => {}
            Ok(n_dropped) => tracing::info!(n_dropped, "dropped events older than the history retention"),
            Err(error) => tracing::error!(%error, "history retention sweep failed"),
        }
        // Flushes compact as they go; this catches segments a quiet period left small.
        if let Err(error) = events.compact().await {
            tracing::error!(%error, "history compaction failed");
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
