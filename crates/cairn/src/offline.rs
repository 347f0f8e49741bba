//! A data directory opened without a server, for `cairn import` and `cairn query`: the metadata store,
//! the event store (nothing trimmed, so a server started later finds every cursor's records) and the
//! event data stores, from which [`Offline::lake`] opens the Lake.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use cairn_lake::{Lake, LakeConfig, LakeParts};
use cairn_model::clock::{Clock, SystemClock};
use cairn_store::events::{EventStore, EventStoreConfig};
use cairn_store::records::EventDataStoreRecord;
use cairn_store::{MetaStore, Registry};

use crate::bootstrap;

pub(crate) struct Offline {
    pub(crate) data_dir: PathBuf,
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) meta: Arc<MetaStore>,
    pub(crate) events: Arc<EventStore>,
    pub(crate) stores: Arc<Registry<EventDataStoreRecord>>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Offline {
    /// Opens (creating if needed) `data_dir`; `consumer` names the log hold this command takes.
    pub(crate) fn open(data_dir: &Path, consumer: &str) -> anyhow::Result<Offline> {
        let meta = bootstrap::open_data_dir(data_dir)
            .with_context(|| format!("opening {} (is a server using it?)", data_dir.display()))?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let store_config = EventStoreConfig::new(data_dir);
        store_config.holds.set(consumer, cairn_store::wal::Lsn(0));
        let (events, _) =
            runtime.block_on(EventStore::open(store_config, clock.clone())).context("opening the event store")?;
        let stores = Arc::new(Registry::load(meta.clone())?);
        Ok(Offline { data_dir: data_dir.to_path_buf(), runtime, meta, events: Arc::new(events), stores, clock })
    }

    /// The Lake over this directory's stores (no background tasks, no result delivery).
    pub(crate) async fn lake(&self) -> anyhow::Result<Lake> {
        Ok(Lake::open(LakeParts {
            data_dir: self.data_dir.clone(),
            events: self.events.clone(),
            stores: self.stores.clone(),
            meta: self.meta.clone(),
            organization_accounts: None,
            sink: None,
            clock: self.clock.clone(),
            config: LakeConfig::default(),
        })
        .await?)
    }

    /// Closes the event store (its writer answers anything queued and stops).
    pub(crate) fn close(&self) {
        self.events.close();
    }
}
