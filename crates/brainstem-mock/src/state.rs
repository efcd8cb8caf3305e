//! The server's state, shared by every request: the records behind a lock,
//! the dialect and fault knobs in force (both can change while the server
//! runs), the settings fixed at start, the request counter, and a cache of
//! which records each viewer may see.
//!
//! The lock is only ever held for a moment: a reader takes a snapshot of
//! the store (an `Arc<Store>`) and lets go, so a long query never keeps a
//! writer (or the readers queued behind a writer) waiting; a writer that
//! finds a snapshot out copies the store (its tables are shared until
//! changed) and changes the copy, which the next reader sees.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock, RwLockWriteGuard};

use super::ListKnobs;
use super::access::{self, Viewer};
use super::budget::Limits;
use super::catalog::EntityId;
use super::dialect::Resolved;
use super::store::{Rec, Store};
use brainstem::Portal;

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Seconds between device-sign-in polls the server asks for.
    pub device_interval: u64,
    /// Seconds until a device code expires.
    pub device_expires_in: u64,
    /// Apply gated writes at once and approve device sign-ins as they start.
    pub auto_approve: bool,
    /// The user the approval page and [`MockServer::approve_device`] sign in.
    ///
    /// [`MockServer::approve_device`]: crate::MockServer::approve_device
    pub default_user: i64,
    /// What one request's query work may cost.
    pub limits: Limits,
    /// Answer bodies go out at this many bytes per second (`None`: at once).
    pub bandwidth: Option<u64>,
    /// Compress answers for clients that accept it.
    pub compression: bool,
}

type VisibleKey = (EntityId, Portal, Option<i64>);
type VisibleCache = HashMap<VisibleKey, (u64, Arc<Vec<Arc<Rec>>>)>;

/// Shared server state.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The records, users, tokens and device sign-ins.
    store: RwLock<Arc<Store>>,
    /// The list-response fault knobs in force.
    pub knobs: RwLock<ListKnobs>,
    /// The dialect in force.
    pub dialect: RwLock<Arc<Resolved>>,
    /// Settings fixed at start.
    pub settings: Settings,
    /// How many requests the server has answered.
    pub requests: AtomicU64,
    /// Body bytes the bandwidth line has carried (see `network.rs`).
    pub line_bytes: Arc<AtomicU64>,
    /// Which records each viewer may see, per model and store version.
    visible: Mutex<VisibleCache>,
}

impl Shared {
    /// New state around a store.
    pub fn new(store: Store, knobs: ListKnobs, dialect: Resolved, settings: Settings) -> Shared {
        Shared {
            store: RwLock::new(Arc::new(store)),
            knobs: RwLock::new(knobs),
            dialect: RwLock::new(Arc::new(dialect)),
            settings,
            requests: AtomicU64::new(0),
            line_bytes: Arc::new(AtomicU64::new(0)),
            visible: Mutex::new(HashMap::new()),
        }
    }

    /// A snapshot of the store to read (the lock is held only to take it;
    /// a poisoned lock still holds consistent data: every write replaces
    /// whole records).
    pub fn read(&self) -> Arc<Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Write access (exclusive until the guard is dropped).
    pub fn write(&self) -> StoreWrite<'_> {
        StoreWrite(self.store.write().unwrap_or_else(|e| e.into_inner()))
    }

    /// The fault knobs now in force.
    pub fn knobs(&self) -> ListKnobs {
        self.knobs.read().map(|k| k.clone()).unwrap_or_default()
    }

    /// The dialect now in force.
    pub fn dialect(&self) -> Arc<Resolved> {
        self.dialect
            .read()
            .map(|d| d.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The records of `e` the viewer may see, in creation order (cached per
    /// store version).
    pub fn visible(&self, store: &Store, e: EntityId, v: &Viewer) -> Arc<Vec<Arc<Rec>>> {
        let key = (e, v.portal, v.principal.as_ref().map(|p| p.user));
        if let Ok(cache) = self.visible.lock()
            && let Some((ver, list)) = cache.get(&key)
            && *ver == store.version
        {
            return list.clone();
        }
        let list: Arc<Vec<Arc<Rec>>> = Arc::new(
            store.tables[e]
                .iter()
                .filter(|r| access::visible(store, e, r, v))
                .cloned()
                .collect(),
        );
        if let Ok(mut cache) = self.visible.lock() {
            if cache.len() > 512 {
                cache.clear();
            }
            cache.insert(key, (store.version, list.clone()));
        }
        list
    }
}

/// Write access to the store: reads go to the current store, the first
/// change copies it if a reader still holds a snapshot of it.
pub(crate) struct StoreWrite<'a>(RwLockWriteGuard<'a, Arc<Store>>);

impl Deref for StoreWrite<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.0
    }
}

impl DerefMut for StoreWrite<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        Arc::make_mut(&mut self.0)
    }
}
