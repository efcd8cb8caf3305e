//! An incremental local mirror of the API in SQLite (feature `mirror`).
//!
//! [`Mirror::sync`] copies every readable model (or those named) into one
//! SQLite file, and on the next run changes only what changed on the server:
//!
//! * **Tables** ([`layout`]): one per model, named by the model (`session`),
//!   with `id` as primary key, one column per column of [`crate::table`]'s
//!   rules (SQLite types in [`layout`]), the record's JSON text in `_raw`
//!   exactly as the server sent it (no typed record is built on the way),
//!   the SHA-256 of that text in `_raw_hash` and the SHA-256 of its
//!   canonical JSON in `_hash`; one join
//!   table per to-many relation (`session__projects`: `owner`, `position`,
//!   `value`). When the layout changes (a new spec), the model's tables are
//!   made again. The
//!   table `sync_state` has one row per mirrored model: when it last synced
//!   ([`SyncState`]), how, the watermark, and the counts of that run.
//! * **What is fetched.** A model with a server-set, filterable `updated_at`
//!   (known from the metadata: a read-only date-time field of that name with
//!   the `gte` lookup) is fetched incrementally once it has been mirrored
//!   completely: only records with `updated_at` at or after the newest one
//!   mirrored (the watermark; records at the watermark itself come again and
//!   are found unchanged). Deletions do not show in such a fetch, so the
//!   server's count is asked for (one record's page): if it equals the
//!   mirrored rows, nothing was deleted; otherwise (or when the server gives no
//!   count) the whole list is fetched and compared. Every other model is
//!   fetched whole each time.
//! * **What is written.** A fetched record whose text is the stored text
//!   (same `_raw_hash`) is unchanged. Otherwise its canonical JSON
//!   ([`canonical`]: keys sorted, numbers and strings normalized) is hashed
//!   and compared with the stored hash: an unchanged record is never written
//!   (another spelling of it keeps the stored text),
//!   a changed one is updated (with its join rows), a new one inserted, and
//!   after a whole-list fetch every row the server no longer listed is deleted.
//!   A second sync with nothing changed writes no record or join row (only the
//!   model's `sync_state` row, which records the run).
//! * **Interruptions.** Each model is synced in one SQLite transaction, which
//!   also writes its `sync_state` row: a sync killed mid-way leaves every
//!   model either as the last completed run left it or fully synced, and the
//!   next run completes it. A failed fetch rolls the model back.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use brainstem::mirror::Mirror;
//! let client = brainstem::Client::from_env()?;
//! let mut mirror = Mirror::open("brainstem.sqlite")?;
//! let report = mirror.sync(&client, &[]).await?; // every readable model
//! for m in &report.models {
//!     println!("{m}");
//! }
//! if report.rows_written() == 0 {
//!     println!("nothing changed: 0 rows written");
//! }
//! # Ok(()) }
//! ```

pub mod canonical;
mod fetch;
pub mod layout;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use futures::StreamExt;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params};

use crate::client::{Client, Error};
use crate::meta::{FieldKind, FieldMeta, ModelMeta};
use layout::{HASH_COLUMN, RAW_COLUMN, RAW_HASH_COLUMN, Tables};

pub use rusqlite;

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// The database refused (cannot open, disk full, locked, ...).
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The server refused or could not be reached.
    #[error("{model}: {source}")]
    Client {
        /// The model being synced.
        model: &'static str,
        /// The client's error.
        #[source]
        source: Error,
    },
    /// A model name the API does not have.
    #[error("unknown model {0:?}; `brainstem models` lists them")]
    UnknownModel(String),
    /// A model that has no list operation, so it cannot be mirrored.
    #[error("model {0:?} cannot be listed, so it cannot be mirrored")]
    NotListable(String),
}

/// How a model was fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncMode {
    /// The whole list, compared record by record.
    Full,
    /// Only the records changed since the watermark; the server's count
    /// showed nothing was deleted.
    Incremental,
    /// The records changed since the watermark, then (the count did not
    /// match, or there was none) the whole list, to find the deletions.
    IncrementalThenFull,
}

impl SyncMode {
    /// The name stored in `sync_state.mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::Full => "full",
            SyncMode::Incremental => "incremental",
            SyncMode::IncrementalThenFull => "incremental+full",
        }
    }
}

/// What syncing one model did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelReport {
    /// The model's URL name (`session`).
    pub model: &'static str,
    /// How it was fetched.
    pub mode: SyncMode,
    /// Records received (a record fetched twice counts twice).
    pub fetched: u64,
    /// Rows added.
    pub inserted: u64,
    /// Rows whose record changed, rewritten.
    pub updated: u64,
    /// Rows of records the server no longer lists, removed.
    pub deleted: u64,
    /// Records received unchanged (same canonical hash): not written.
    pub unchanged: u64,
    /// Records that could not be mirrored (no readable id), each with why.
    pub skipped: Vec<String>,
    /// Join-table rows written (deleted and inserted) for changed relations.
    pub join_rows_written: u64,
    /// Rows in the model's table after the sync.
    pub rows: u64,
}

impl ModelReport {
    /// Rows of the model's table written: inserted + updated + deleted.
    pub fn rows_written(&self) -> u64 {
        self.inserted + self.updated + self.deleted
    }
}

impl fmt::Display for ModelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: fetched {}, inserted {}, updated {}, deleted {}, unchanged {} ({}",
            self.model,
            self.fetched,
            self.inserted,
            self.updated,
            self.deleted,
            self.unchanged,
            self.mode.as_str()
        )?;
        if !self.skipped.is_empty() {
            write!(f, ", {} skipped", self.skipped.len())?;
        }
        f.write_str(")")
    }
}

/// A model left out of a sync because the server does not let the token
/// read it (401, 403, 404 or 405 on its list).
#[derive(Debug)]
pub struct Unreadable {
    /// The model.
    pub model: &'static str,
    /// The server's answer.
    pub error: Error,
}

/// What a whole sync did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// One report per model synced, in the order synced.
    pub models: Vec<ModelReport>,
    /// The models the server would not list for this token (left as they were).
    pub unreadable: Vec<Unreadable>,
}

impl SyncReport {
    /// Record rows written over all models (inserted + updated + deleted).
    pub fn rows_written(&self) -> u64 {
        self.models.iter().map(ModelReport::rows_written).sum()
    }
}

/// A model's row of `sync_state`: the last completed sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncState {
    /// The model's URL name.
    pub model: String,
    /// When that sync committed (RFC 3339, UTC).
    pub last_run: String,
    /// How it fetched (`full`, `incremental`, `incremental+full`).
    pub mode: String,
    /// The newest `updated_at` mirrored, for incremental models.
    pub watermark: Option<String>,
    /// The table layout it wrote ([`Tables::fingerprint`]).
    pub layout: String,
    /// Rows in the model's table after it.
    pub rows: u64,
    /// Its counts: fetched, inserted, updated, deleted, unchanged, skipped.
    pub fetched: u64,
    /// Rows inserted.
    pub inserted: u64,
    /// Rows updated.
    pub updated: u64,
    /// Rows deleted.
    pub deleted: u64,
    /// Records unchanged.
    pub unchanged: u64,
    /// Records skipped.
    pub skipped: u64,
}

/// The models a sync with no names mirrors: every model with a list
/// operation on the private portal, in metadata order.
pub fn listable_models() -> Vec<&'static ModelMeta> {
    crate::MODELS
        .iter()
        .copied()
        .filter(|m| {
            m.list
                .is_some_and(|op| op.portals().contains(&crate::Portal::Private))
        })
        .collect()
}

/// The field an incremental fetch of `meta` filters on: a read-only,
/// single date-time field named `updated_at` that takes the `gte` lookup.
///
/// ```
/// use brainstem::meta::ModelMeta;
/// use brainstem::mirror::incremental_field;
/// assert!(incremental_field(ModelMeta::find("procedure").unwrap()).is_some());
/// assert!(incremental_field(ModelMeta::find("session").unwrap()).is_none());
/// ```
pub fn incremental_field(meta: &ModelMeta) -> Option<&'static FieldMeta> {
    meta.field("updated_at").filter(|f| {
        f.read_only && !f.many && f.kind == FieldKind::DateTime && f.lookups.contains(&"gte")
    })
}

/// Quote an SQL identifier.
fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A local SQLite mirror (see the [module docs](self)).
#[derive(Debug)]
pub struct Mirror {
    conn: Connection,
}

const STATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS sync_state (
    model TEXT PRIMARY KEY NOT NULL,
    last_run TEXT NOT NULL,
    mode TEXT NOT NULL,
    watermark TEXT,
    layout TEXT NOT NULL,
    rows INTEGER NOT NULL,
    fetched INTEGER NOT NULL,
    inserted INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    skipped INTEGER NOT NULL
)";

impl Mirror {
    /// Open (or create) the mirror in the SQLite file at `path` (write-ahead
    /// log on, so readers can read while a sync writes).
    pub fn open(path: impl AsRef<Path>) -> Result<Mirror, MirrorError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Mirror::with_connection(conn)
    }

    /// A mirror in memory (for tests).
    pub fn open_in_memory() -> Result<Mirror, MirrorError> {
        Mirror::with_connection(Connection::open_in_memory()?)
    }

    /// A mirror in an open connection (its tables are created if missing).
    pub fn with_connection(conn: Connection) -> Result<Mirror, MirrorError> {
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.execute_batch(STATE_TABLE)?;
        Ok(Mirror { conn })
    }

    /// The database, to query the mirrored tables.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The database, owned.
    pub fn into_connection(self) -> Connection {
        self.conn
    }

    /// The `sync_state` row of a model, if it was ever synced.
    pub fn state(&self, model: &str) -> Result<Option<SyncState>, MirrorError> {
        Ok(self
            .conn
            .query_row(
                "SELECT model, last_run, mode, watermark, layout, rows, fetched, inserted,
                        updated, deleted, unchanged, skipped
                 FROM sync_state WHERE model = ?1",
                [model],
                |r| {
                    Ok(SyncState {
                        model: r.get(0)?,
                        last_run: r.get(1)?,
                        mode: r.get(2)?,
                        watermark: r.get(3)?,
                        layout: r.get(4)?,
                        rows: r.get(5)?,
                        fetched: r.get(6)?,
                        inserted: r.get(7)?,
                        updated: r.get(8)?,
                        deleted: r.get(9)?,
                        unchanged: r.get(10)?,
                        skipped: r.get(11)?,
                    })
                },
            )
            .optional()?)
    }

    /// Sync the models named (URL names, `session`), or every listable model
    /// ([`listable_models`]) when `models` is empty, one after another, each
    /// in its own transaction. Models the server will not list for this
    /// token are reported in [`SyncReport::unreadable`] and left as they were;
    /// any other failure stops the sync (models synced before it stay synced).
    pub async fn sync(
        &mut self,
        client: &Client,
        models: &[&str],
    ) -> Result<SyncReport, MirrorError> {
        self.sync_with(client, models, |_| {}).await
    }

    /// [`sync`](Self::sync), calling `progress` with each model's report as
    /// soon as its transaction has committed.
    pub async fn sync_with(
        &mut self,
        client: &Client,
        models: &[&str],
        mut progress: impl FnMut(&ModelReport),
    ) -> Result<SyncReport, MirrorError> {
        let metas: Vec<&'static ModelMeta> = if models.is_empty() {
            listable_models()
        } else {
            models
                .iter()
                .map(|n| ModelMeta::find(n).ok_or_else(|| MirrorError::UnknownModel(n.to_string())))
                .collect::<Result<_, _>>()?
        };
        let mut report = SyncReport::default();
        for meta in metas {
            match self.sync_model(client, meta).await {
                Ok(r) => {
                    progress(&r);
                    report.models.push(r);
                }
                Err(MirrorError::Client { model, source })
                    if matches!(source.status(), Some(401 | 403 | 404 | 405)) =>
                {
                    report.unreadable.push(Unreadable {
                        model,
                        error: source,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// Sync one model, in one transaction (see the [module docs](self)).
    pub async fn sync_model(
        &mut self,
        client: &Client,
        meta: &'static ModelMeta,
    ) -> Result<ModelReport, MirrorError> {
        if listable_models().iter().all(|m| m.name != meta.name) {
            return Err(MirrorError::NotListable(meta.name.to_string()));
        }
        let layout = Tables::of(meta);
        let fingerprint = layout.fingerprint();
        let state = self.state(meta.name)?;
        let inc = incremental_field(meta);
        let mut mode = SyncMode::Full;
        let mut since = None;
        if let (Some(f), Some(st)) = (inc, &state)
            && st.layout == fingerprint
            && let Some(w) = &st.watermark
        {
            mode = SyncMode::Incremental;
            since = Some((f.name, w.clone()));
        }
        let client_err = |source| MirrorError::Client {
            model: meta.name,
            source,
        };
        // Start fetching before the transaction: a model the server refuses
        // leaves the file untouched.
        let mut pages = fetch::ahead(fetch::pages(client, meta, since).map_err(client_err)?);
        let first = pages.next().await;

        let mut w = Writer::begin(&mut self.conn, &layout, state.as_ref(), &fingerprint)?;
        let outcome = async {
            if let Some(page) = first {
                w.page(page.map_err(client_err)?)?;
            }
            while let Some(page) = pages.next().await {
                w.page(page.map_err(client_err)?)?;
            }
            if mode == SyncMode::Incremental {
                let total = fetch::count(client, meta).await.map_err(client_err)?;
                if total != Some(w.rows.len() as u64) {
                    mode = SyncMode::IncrementalThenFull;
                    w.rows.values_mut().for_each(|r| r.seen = false);
                    let mut pages =
                        fetch::ahead(fetch::pages(client, meta, None).map_err(client_err)?);
                    while let Some(page) = pages.next().await {
                        w.page(page.map_err(client_err)?)?;
                    }
                }
            }
            if mode != SyncMode::Incremental {
                w.delete_unseen()?;
            }
            Ok::<(), MirrorError>(())
        }
        .await;
        match outcome {
            Ok(()) => w.commit(mode, inc),
            Err(e) => {
                w.rollback();
                Err(e)
            }
        }
    }
}

/// The two hashes written with a row.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Hashes {
    /// SHA-256 of the canonical JSON.
    canonical: [u8; 32],
    /// SHA-256 of the text as received.
    raw: [u8; 32],
}

/// What the mirror holds of one row while a model syncs.
struct Stored {
    /// The row's hashes (updated as rows are written).
    hashes: Hashes,
    /// Whether the server listed the row in this run.
    seen: bool,
}

/// The writes of one model's sync, inside its transaction.
struct Writer<'c> {
    conn: &'c mut Connection,
    layout: &'c Tables,
    fingerprint: &'c str,
    /// Every stored row by id: its hashes and whether the server listed it
    /// in this run.
    rows: HashMap<String, Stored>,
    report: ModelReport,
    open: bool,
}

impl<'c> Writer<'c> {
    fn begin(
        conn: &'c mut Connection,
        layout: &'c Tables,
        state: Option<&SyncState>,
        fingerprint: &'c str,
    ) -> Result<Writer<'c>, MirrorError> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let mut w = Writer {
            conn,
            layout,
            fingerprint,
            rows: HashMap::new(),
            report: ModelReport {
                model: layout.meta.name,
                mode: SyncMode::Full,
                fetched: 0,
                inserted: 0,
                updated: 0,
                deleted: 0,
                unchanged: 0,
                skipped: Vec::new(),
                join_rows_written: 0,
                rows: 0,
            },
            open: true,
        };
        if let Err(e) = w.prepare(state) {
            w.rollback();
            return Err(e);
        }
        Ok(w)
    }

    /// Make the tables (again, when the layout changed) and read the stored
    /// hashes.
    fn prepare(&mut self, state: Option<&SyncState>) -> Result<(), MirrorError> {
        let l = self.layout;
        let same = state.is_some_and(|s| s.layout == self.fingerprint);
        if !same {
            self.conn
                .execute_batch(&format!("DROP TABLE IF EXISTS {}", q(&l.table)))?;
            for j in &l.joins {
                self.conn
                    .execute_batch(&format!("DROP TABLE IF EXISTS {}", q(&j.table)))?;
            }
            self.conn
                .execute("DELETE FROM sync_state WHERE model = ?1", [&l.table])?;
        }
        let mut cols = format!("id {} PRIMARY KEY NOT NULL", l.id_type);
        for c in &l.columns {
            cols.push_str(&format!(", {} {}", q(&c.name), c.sql_type));
        }
        cols.push_str(&format!(
            ", {} TEXT NOT NULL, {} BLOB NOT NULL, {} BLOB NOT NULL",
            q(RAW_COLUMN),
            q(RAW_HASH_COLUMN),
            q(HASH_COLUMN)
        ));
        self.conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {t} ({cols});
             CREATE INDEX IF NOT EXISTS {i} ON {t} (id, {}, {});",
            q(RAW_HASH_COLUMN),
            q(HASH_COLUMN),
            t = q(&l.table),
            // a covering index: the stored hashes are read at the start of
            // each sync without reading the rows' text
            i = q(&format!("{}__hashes", l.table)),
        ))?;
        for j in &l.joins {
            self.conn.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (owner {} NOT NULL, position INTEGER NOT NULL, \
                 value {}, PRIMARY KEY (owner, position));
                 CREATE INDEX IF NOT EXISTS {i} ON {t} (value);",
                l.id_type,
                j.value_type,
                t = q(&j.table),
                i = q(&format!("{}__value", j.table)),
            ))?;
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT CAST(id AS TEXT), {}, {} FROM {}",
            q(HASH_COLUMN),
            q(RAW_HASH_COLUMN),
            q(&l.table)
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            // a hash of another length (a file written otherwise) matches
            // no record: the row is written again
            let hash = |i| match r.get_ref(i) {
                Ok(rusqlite::types::ValueRef::Blob(b)) => {
                    <[u8; 32]>::try_from(b).unwrap_or([0; 32])
                }
                _ => [0; 32],
            };
            let stored = Stored {
                hashes: Hashes {
                    canonical: hash(1),
                    raw: hash(2),
                },
                seen: false,
            };
            self.rows.insert(r.get::<_, String>(0)?, stored);
        }
        Ok(())
    }

    fn id_value(&self, id: &str) -> Sql {
        match self.layout.id_type {
            "INTEGER" => id
                .parse::<i64>()
                .map_or_else(|_| Sql::Text(id.to_string()), Sql::Integer),
            _ => Sql::Text(id.to_string()),
        }
    }

    /// Compare one page with the stored rows and write what differs.
    fn page(&mut self, items: Vec<fetch::Item>) -> Result<(), MirrorError> {
        use sha2::Digest;
        for item in items {
            let (id, raw) = match item {
                fetch::Item::Record { id, raw } => (id, raw),
                fetch::Item::Skipped(why) => {
                    self.report.skipped.push(why);
                    continue;
                }
            };
            self.report.fetched += 1;
            // the same text as stored: unchanged, without reading it
            let raw_hash: [u8; 32] = sha2::Sha256::digest(raw.as_bytes()).into();
            if let Some(r) = self.rows.get_mut(&id)
                && r.hashes.raw == raw_hash
            {
                r.seen = true;
                self.report.unchanged += 1;
                continue;
            }
            let hash = match canonical::record_hash(&raw, Some(self.layout.meta)) {
                Ok(h) => h,
                Err(e) => {
                    self.report
                        .skipped
                        .push(format!("{} {id}: {e}", self.layout.meta.name));
                    continue;
                }
            };
            let same = self.rows.get_mut(&id).map(|r| {
                r.seen = true;
                r.hashes.canonical == hash
            });
            let hashes = Hashes {
                canonical: hash,
                raw: raw_hash,
            };
            match same {
                // another spelling of the same record (keys reordered,
                // numbers or escapes written otherwise): the row is kept
                // as it was, text included
                Some(true) => self.report.unchanged += 1,
                Some(false) => {
                    self.write(&id, &raw, &hashes, true)?;
                    self.report.updated += 1;
                    if let Some(r) = self.rows.get_mut(&id) {
                        r.hashes = hashes;
                    }
                }
                None => {
                    self.write(&id, &raw, &hashes, false)?;
                    self.report.inserted += 1;
                    self.rows.insert(id, Stored { hashes, seen: true });
                }
            }
        }
        Ok(())
    }

    /// Write one record's row and join rows (`replace`: it had a row).
    fn write(
        &mut self,
        id: &str,
        raw: &str,
        hashes: &Hashes,
        replace: bool,
    ) -> Result<(), MirrorError> {
        let l = self.layout;
        // a record `serde_json::Value` cannot hold (a number past f64) keeps
        // its JSON and hash, with its columns NULL
        let value = serde_json::from_str::<serde_json::Value>(raw).unwrap_or_default();
        let (cells, joins) = l.row(&value);
        let idv = self.id_value(id);
        let mut names = vec!["id".to_string()];
        names.extend(l.columns.iter().map(|c| q(&c.name)));
        names.push(q(RAW_COLUMN));
        names.push(q(RAW_HASH_COLUMN));
        names.push(q(HASH_COLUMN));
        let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT OR REPLACE INTO {} ({}) VALUES ({})",
            q(&l.table),
            names.join(", "),
            marks.join(", ")
        );
        let mut values = Vec::with_capacity(names.len());
        values.push(idv.clone());
        values.extend(cells);
        values.push(Sql::Text(raw.to_string()));
        values.push(Sql::Blob(hashes.raw.to_vec()));
        values.push(Sql::Blob(hashes.canonical.to_vec()));
        self.conn
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(values))?;
        for (j, ids) in l.joins.iter().zip(joins) {
            if replace {
                let old: Vec<Sql> = self
                    .conn
                    .prepare_cached(&format!(
                        "SELECT value FROM {} WHERE owner = ?1 ORDER BY position",
                        q(&j.table)
                    ))?
                    .query_map([&idv], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                if old == ids {
                    continue; // this relation did not change
                }
                let n = self
                    .conn
                    .prepare_cached(&format!("DELETE FROM {} WHERE owner = ?1", q(&j.table)))?
                    .execute([&idv])?;
                self.report.join_rows_written += n as u64;
            }
            let mut ins = self.conn.prepare_cached(&format!(
                "INSERT INTO {} (owner, position, value) VALUES (?1, ?2, ?3)",
                q(&j.table)
            ))?;
            for (pos, v) in ids.into_iter().enumerate() {
                ins.execute(params![idv, pos as i64, v])?;
                self.report.join_rows_written += 1;
            }
        }
        Ok(())
    }

    /// Delete every row whose id the server did not list.
    fn delete_unseen(&mut self) -> Result<(), MirrorError> {
        let gone: Vec<String> = self
            .rows
            .iter()
            .filter(|(_, r)| !r.seen)
            .map(|(id, _)| id.clone())
            .collect();
        let l = self.layout;
        for id in gone {
            let idv = self.id_value(&id);
            self.conn
                .prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", q(&l.table)))?
                .execute([&idv])?;
            for j in &l.joins {
                let n = self
                    .conn
                    .prepare_cached(&format!("DELETE FROM {} WHERE owner = ?1", q(&j.table)))?
                    .execute([&idv])?;
                self.report.join_rows_written += n as u64;
            }
            self.rows.remove(&id);
            self.report.deleted += 1;
        }
        Ok(())
    }

    /// The newest value of the incremental field among the mirrored rows.
    fn watermark(&self, field: &FieldMeta) -> Result<Option<String>, MirrorError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM {}",
            q(field.name),
            q(&self.layout.table)
        ))?;
        let mut newest: Option<chrono::DateTime<chrono::Utc>> = None;
        let rows = stmt.query_map([], |r| r.get::<_, Option<String>>(0))?;
        for v in rows {
            if let Some(t) = v?.and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok()) {
                let t = t.with_timezone(&chrono::Utc);
                newest = Some(newest.map_or(t, |n| n.max(t)));
            }
        }
        Ok(newest.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)))
    }

    fn commit(
        mut self,
        mode: SyncMode,
        inc: Option<&'static FieldMeta>,
    ) -> Result<ModelReport, MirrorError> {
        let result = (|| {
            self.report.mode = mode;
            self.report.rows = self.rows.len() as u64;
            let watermark = match inc {
                Some(f) => self.watermark(f)?,
                None => None,
            };
            let r = &self.report;
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            self.conn.execute(
                "INSERT OR REPLACE INTO sync_state (model, last_run, mode, watermark, layout, rows,
                     fetched, inserted, updated, deleted, unchanged, skipped)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    r.model,
                    now,
                    mode.as_str(),
                    watermark,
                    self.fingerprint,
                    r.rows as i64,
                    r.fetched as i64,
                    r.inserted as i64,
                    r.updated as i64,
                    r.deleted as i64,
                    r.unchanged as i64,
                    r.skipped.len() as i64
                ],
            )?;
            self.conn.execute_batch("COMMIT")?;
            self.open = false;
            Ok::<(), MirrorError>(())
        })();
        match result {
            Ok(()) => Ok(std::mem::replace(
                &mut self.report,
                ModelReport {
                    model: "",
                    mode,
                    fetched: 0,
                    inserted: 0,
                    updated: 0,
                    deleted: 0,
                    unchanged: 0,
                    skipped: Vec::new(),
                    join_rows_written: 0,
                    rows: 0,
                },
            )),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    fn rollback(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
            self.open = false;
        }
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        // a sync future dropped mid-way (cancelled) must not leave the
        // transaction open on the connection
        self.rollback();
    }
}
