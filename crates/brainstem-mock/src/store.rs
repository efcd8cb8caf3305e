//! The records, kept as JSON objects per entity, and everything that keeps
//! them consistent: derived lists (reverse relations, through tables,
//! `links`), cascades on delete, fixtures.
//!
//! Every write happens under the server's write lock and replaces whole
//! records (`Arc<Rec>`), so a reader never sees half of a change. Readers
//! work on a snapshot (`Arc<Store>`, see `state.rs`); a write while a
//! snapshot is out copies the store first, sharing every table it does not
//! change (`Arc<Table>`) and every record.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::catalog::{Catalog, EntityId, catalog};
use brainstem::meta::IdKind;

/// One stored record.
#[derive(Debug)]
pub(crate) struct Rec {
    /// Creation order (across every model).
    pub seq: u64,
    /// Position among its model's records in creation order, from 1 (kept
    /// when the record changes; deleting a record does not renumber others).
    pub nth: u64,
    /// Canonical id (lower-case UUID, or the integer as text).
    pub id: String,
    /// The user who made it.
    pub owner: Option<i64>,
    /// The record as the API returns it.
    pub value: Map<String, Value>,
    /// `value`, serialized.
    pub json: Box<str>,
}

impl Rec {
    fn new(seq: u64, nth: u64, id: String, owner: Option<i64>, value: Map<String, Value>) -> Rec {
        let json = serde_json::to_string(&value)
            .unwrap_or_else(|_| "{}".to_string())
            .into_boxed_str();
        Rec {
            seq,
            nth,
            id,
            owner,
            value,
            json,
        }
    }
}

/// One entity's records.
#[derive(Debug, Default, Clone)]
pub(crate) struct Table {
    pub by_seq: BTreeMap<u64, Arc<Rec>>,
    pub by_id: HashMap<String, u64>,
    pub next_int: i64,
    /// How many records the table has ever held (the last `nth` given).
    pub created: u64,
}

impl Table {
    /// A record by canonical id.
    pub fn get(&self, id: &str) -> Option<&Arc<Rec>> {
        self.by_id.get(id).and_then(|s| self.by_seq.get(s))
    }

    /// Records in creation order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Rec>> {
        self.by_seq.values()
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.by_seq.len()
    }
}

/// What a token lets its holder do.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TokenGrant {
    pub user: i64,
    pub read_only: bool,
}

/// The state of one device sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeviceState {
    Pending,
    Approved(i64),
    Denied,
    Collected,
}

/// One device sign-in.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub device_code: String,
    pub user_code: String,
    pub session_id: String,
    pub client_name: String,
    pub state: DeviceState,
    pub expires: std::time::Instant,
}

/// Everything the server holds.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    /// The records per entity (shared between snapshots until changed:
    /// change one through [`Store::table_mut`]).
    pub tables: Vec<Arc<Table>>,
    pub tokens: HashMap<String, TokenGrant>,
    pub admins: BTreeSet<i64>,
    pub devices: Vec<Device>,
    /// Which token plays which part (`full`, `read_only`, `no_access`).
    pub roles: BTreeMap<String, String>,
    seq: u64,
    /// Bumped by every write (keys the read caches).
    pub version: u64,
}

/// The canonical form of an id or a relation value.
pub(crate) fn ref_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(match uuid::Uuid::parse_str(s) {
            Ok(u) => u.to_string(),
            Err(_) => s.clone(),
        }),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o.get("id").and_then(ref_key),
        _ => None,
    }
}

/// The ids a relation field of a record names.
pub(crate) fn refs(obj: &Map<String, Value>, field: &str) -> Vec<String> {
    match obj.get(field) {
        Some(Value::Array(a)) => a.iter().filter_map(ref_key).collect(),
        Some(v) => ref_key(v).into_iter().collect(),
        None => vec![],
    }
}

/// The JSON form of an id of an entity.
pub(crate) fn id_value(kind: IdKind, id: &str) -> Value {
    match kind {
        IdKind::Integer => id
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(id.to_string())),
        IdKind::Uuid => Value::String(id.to_string()),
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        let c = catalog();
        Store {
            tables: c
                .entities
                .iter()
                .map(|_| Arc::new(Table::default()))
                .collect(),
            tokens: HashMap::new(),
            admins: BTreeSet::new(),
            devices: Vec::new(),
            roles: BTreeMap::new(),
            seq: 0,
            version: 0,
        }
    }

    /// A record.
    pub fn get(&self, e: EntityId, id: &str) -> Option<&Arc<Rec>> {
        self.tables[e].get(id)
    }

    /// One entity's table, to change (copied first if a snapshot shares it).
    pub fn table_mut(&mut self, e: EntityId) -> &mut Table {
        Arc::make_mut(&mut self.tables[e])
    }

    /// A fresh id for an entity.
    pub fn fresh_id(&mut self, e: EntityId) -> String {
        match catalog().get(e).id_kind {
            IdKind::Uuid => uuid::Uuid::new_v4().to_string(),
            IdKind::Integer => {
                let t = self.table_mut(e);
                t.next_int = t.next_int.max(1);
                let id = t.next_int;
                t.next_int += 1;
                id.to_string()
            }
        }
    }

    fn put(
        &mut self,
        e: EntityId,
        seq: u64,
        id: &str,
        owner: Option<i64>,
        value: Map<String, Value>,
    ) {
        let t = self.table_mut(e);
        if let Ok(n) = id.parse::<i64>() {
            t.next_int = t.next_int.max(n + 1);
        }
        let nth = match t.get(id) {
            Some(old) => old.nth,
            None => {
                t.created += 1;
                t.created
            }
        };
        t.by_id.insert(id.to_string(), seq);
        t.by_seq.insert(
            seq,
            Arc::new(Rec::new(seq, nth, id.to_string(), owner, value)),
        );
    }

    /// Insert a record without touching anything else (bulk loads; call
    /// [`Store::rebuild`] afterwards). The object must carry its `id`.
    pub fn insert_raw(
        &mut self,
        e: EntityId,
        mut value: Map<String, Value>,
        owner: Option<i64>,
    ) -> Option<String> {
        let id = value.get("id").and_then(ref_key)?;
        if self.tables[e].by_id.contains_key(&id) {
            return None;
        }
        value.insert("id".into(), id_value(catalog().get(e).id_kind, &id));
        self.seq += 1;
        let seq = self.seq;
        self.put(e, seq, &id, owner, value);
        self.version += 1;
        Some(id)
    }

    /// Create a record: fill its derived fields, store it and update every
    /// record that lists it.
    pub fn insert(
        &mut self,
        e: EntityId,
        mut value: Map<String, Value>,
        owner: Option<i64>,
    ) -> Arc<Rec> {
        let c = catalog();
        let id = match value.get("id").and_then(ref_key) {
            Some(id) if !self.tables[e].by_id.contains_key(&id) => id,
            _ => self.fresh_id(e),
        };
        value.insert("id".into(), id_value(c.get(e).id_kind, &id));
        self.derive_own(c, e, &id, &mut value);
        self.seq += 1;
        let seq = self.seq;
        self.put(e, seq, &id, owner, value.clone());
        self.after_change(c, e, &id, None, Some(&value), true);
        self.version += 1;
        self.tables[e].get(&id).cloned().expect("just inserted")
    }

    /// Replace a record's value (same id, seq and owner).
    pub fn replace(
        &mut self,
        e: EntityId,
        id: &str,
        mut value: Map<String, Value>,
    ) -> Option<Arc<Rec>> {
        let c = catalog();
        let old = self.tables[e].get(id)?.clone();
        value.insert("id".into(), id_value(c.get(e).id_kind, id));
        self.derive_own(c, e, id, &mut value);
        self.put(e, old.seq, id, old.owner, value.clone());
        self.after_change(c, e, id, Some(&old.value), Some(&value), true);
        self.version += 1;
        self.tables[e].get(id).cloned()
    }

    /// Replace a record's value as given: no derived field is filled and no
    /// other record is updated (same id, seq and owner).
    pub fn overwrite(
        &mut self,
        e: EntityId,
        id: &str,
        value: Map<String, Value>,
    ) -> Option<Arc<Rec>> {
        let old = self.tables[e].get(id)?.clone();
        self.put(e, old.seq, id, old.owner, value);
        self.version += 1;
        self.tables[e].get(id).cloned()
    }

    /// Delete a record and what cannot exist without it; clear references
    /// to it elsewhere. Returns every removed (entity, id).
    pub fn delete(&mut self, e: EntityId, id: &str) -> Vec<(EntityId, String)> {
        let c = catalog();
        let mut queue = vec![(e, id.to_string())];
        let mut removed: Vec<(EntityId, String, Arc<Rec>)> = Vec::new();
        let mut seen = HashSet::new();
        while let Some((x, xid)) = queue.pop() {
            if !seen.insert((x, xid.clone())) {
                continue;
            }
            let Some(rec) = self.tables[x].get(&xid).cloned() else {
                continue;
            };
            let t = self.table_mut(x);
            t.by_id.remove(&xid);
            t.by_seq.remove(&rec.seq);
            removed.push((x, xid.clone(), rec));
            for (ci, ce) in c.entities.iter().enumerate() {
                if ce.approval_of.is_some() {
                    continue;
                }
                for f in ce.fields.iter() {
                    if f.related != Some(x) || f.many || f.nullable || f.reverse.is_some() {
                        continue;
                    }
                    for r in self.tables[ci].iter() {
                        if refs(&r.value, &f.name).contains(&xid) {
                            queue.push((ci, r.id.clone()));
                        }
                    }
                }
            }
        }
        let gone: HashMap<EntityId, HashSet<String>> =
            removed.iter().fold(HashMap::new(), |mut m, (x, id, _)| {
                m.entry(*x).or_default().insert(id.clone());
                m
            });
        // Clear references that remain.
        for (ci, ce) in c.entities.iter().enumerate() {
            if ce.approval_of.is_some() {
                continue;
            }
            for (fi, f) in ce.fields.iter().enumerate() {
                let Some(target) = f.related else { continue };
                let Some(ids) = gone.get(&target) else {
                    continue;
                };
                if f.reverse.is_some() {
                    continue;
                }
                let hits: Vec<Arc<Rec>> = self.tables[ci]
                    .iter()
                    .filter(|r| refs(&r.value, &f.name).iter().any(|x| ids.contains(x)))
                    .cloned()
                    .collect();
                for r in hits {
                    let mut v = r.value.clone();
                    let cleared = match v.get(&ce.fields[fi].name) {
                        Some(Value::Array(a)) => Value::Array(
                            a.iter()
                                .filter(|x| ref_key(x).is_none_or(|k| !ids.contains(&k)))
                                .cloned()
                                .collect(),
                        ),
                        _ => Value::Null,
                    };
                    v.insert(f.name.clone(), cleared);
                    self.replace(ci, &r.id, v);
                }
            }
        }
        for (x, xid, rec) in &removed {
            self.after_change(c, *x, xid, Some(&rec.value), None, true);
        }
        self.version += 1;
        removed.into_iter().map(|(x, id, _)| (x, id)).collect()
    }

    /// Set the derived fields a record computes for itself (`links`, and
    /// reverse lists of a new record).
    fn derive_own(&self, c: &Catalog, e: EntityId, id: &str, value: &mut Map<String, Value>) {
        let ent = c.get(e);
        if !ent.links.is_empty() && ent.field("links").is_some() {
            let links: Map<String, Value> = ent
                .links
                .iter()
                .map(|l| (l.clone(), Value::String(format!("{l}/"))))
                .collect();
            value.insert("links".into(), Value::Object(links));
        }
        for f in &ent.fields {
            if let Some((b, g)) = f.reverse {
                let list = self.reverse_list(c, b, g, id);
                value.insert(f.name.clone(), Value::Array(list));
            }
        }
    }

    /// The ids of records of `b` whose field `g` names `target`.
    fn reverse_list(&self, c: &Catalog, b: EntityId, g: usize, target: &str) -> Vec<Value> {
        let name = &c.get(b).fields[g].name;
        let kind = c.get(b).id_kind;
        self.tables[b]
            .iter()
            .filter(|r| refs(&r.value, name).iter().any(|x| x == target))
            .map(|r| id_value(kind, &r.id))
            .collect()
    }

    /// Keep other records in step after `e`/`id` changed from `old` to `new`.
    fn after_change(
        &mut self,
        c: &Catalog,
        e: EntityId,
        id: &str,
        old: Option<&Map<String, Value>>,
        new: Option<&Map<String, Value>>,
        sync_through: bool,
    ) {
        let ent = c.get(e);
        let empty = Map::new();
        let (o, n) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
        for (gi, g) in ent.fields.iter().enumerate() {
            let Some(targets) = c.reverse_of.get(&(e, gi)) else {
                continue;
            };
            let (ro, rn) = (refs(o, &g.name), refs(n, &g.name));
            if ro == rn && old.is_some() && new.is_some() {
                continue;
            }
            let affected: BTreeSet<String> = ro.into_iter().chain(rn).collect();
            for &(a, fi) in targets {
                for target in &affected {
                    let Some(rec) = self.tables[a].get(target).cloned() else {
                        continue;
                    };
                    let list = self.reverse_list(c, e, gi, target);
                    let mut v = rec.value.clone();
                    v.insert(c.get(a).fields[fi].name.clone(), Value::Array(list));
                    self.put(a, rec.seq, target, rec.owner, v);
                }
            }
        }
        if sync_through {
            for (fi, f) in ent.fields.iter().enumerate() {
                let Some(th) = f.through else { continue };
                if new.is_none() {
                    continue;
                }
                let (ro, rn) = (refs(o, &f.name), refs(n, &f.name));
                if ro == rn && old.is_some() {
                    continue;
                }
                let _ = fi;
                self.sync_through(c, th, id, &rn, None);
            }
        }
        if let Some(&(owner_e, owner_f)) = c.through_of.get(&e) {
            let owner_name = {
                let th = c.get(owner_e).fields[owner_f]
                    .through
                    .expect("through_of entries have a through field");
                c.get(e).fields[th.owner_field].name.clone()
            };
            let owners: BTreeSet<String> = refs(o, &owner_name)
                .into_iter()
                .chain(refs(n, &owner_name))
                .collect();
            for oid in owners {
                self.recompute_through_owner(c, owner_e, owner_f, &oid);
            }
        }
    }

    /// Make the through table rows of `owner` match `items`, in order.
    fn sync_through(
        &mut self,
        c: &Catalog,
        th: super::catalog::Through,
        owner: &str,
        items: &[String],
        known_rows: Option<Vec<Arc<Rec>>>,
    ) {
        let t = c.get(th.table);
        let of = t.fields[th.owner_field].name.clone();
        let itf = t.fields[th.item_field].name.clone();
        let ordf = th.order_field.map(|i| t.fields[i].name.clone());
        let rows: Vec<Arc<Rec>> = known_rows.unwrap_or_else(|| {
            self.tables[th.table]
                .iter()
                .filter(|r| refs(&r.value, &of).iter().any(|x| x == owner))
                .cloned()
                .collect()
        });
        let owner_kind = c
            .get(t.fields[th.owner_field].related.unwrap_or(th.table))
            .id_kind;
        let item_kind = c
            .get(t.fields[th.item_field].related.unwrap_or(th.table))
            .id_kind;
        for r in &rows {
            let item = refs(&r.value, &itf).into_iter().next().unwrap_or_default();
            if !items.contains(&item) {
                let t = self.table_mut(th.table);
                t.by_id.remove(&r.id);
                t.by_seq.remove(&r.seq);
            }
        }
        for (k, item) in items.iter().enumerate() {
            let existing = rows
                .iter()
                .find(|r| refs(&r.value, &itf).first() == Some(item))
                .cloned();
            match existing {
                Some(r) => {
                    if let Some(of) = &ordf
                        && r.value.get(of).and_then(Value::as_u64) != Some(k as u64)
                    {
                        let mut v = r.value.clone();
                        v.insert(of.clone(), Value::from(k as u64));
                        self.put(th.table, r.seq, &r.id, r.owner, v);
                    }
                }
                None => {
                    let mut v = Map::new();
                    for f in &t.fields {
                        let val = if f.name == "id" {
                            let name = format!("{}/{owner}/{item}", t.key);
                            Value::String(
                                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes())
                                    .to_string(),
                            )
                        } else if f.name == of {
                            id_value(owner_kind, owner)
                        } else if f.name == itf {
                            id_value(item_kind, item)
                        } else if Some(&f.name) == ordf.as_ref() {
                            Value::from(k as u64)
                        } else {
                            continue;
                        };
                        v.insert(f.name.clone(), val);
                    }
                    let owner_id = self
                        .get(t.fields[th.owner_field].related.unwrap_or(th.table), owner)
                        .and_then(|r| r.owner);
                    self.seq += 1;
                    let seq = self.seq;
                    let id = v.get("id").and_then(ref_key).unwrap_or_default();
                    self.put(th.table, seq, &id, owner_id, v);
                }
            }
        }
    }

    /// Recompute an owner's list field from its through-table rows.
    fn recompute_through_owner(
        &mut self,
        c: &Catalog,
        owner_e: EntityId,
        owner_f: usize,
        owner: &str,
    ) {
        let Some(rec) = self.tables[owner_e].get(owner).cloned() else {
            return;
        };
        let Some(th) = c.get(owner_e).fields[owner_f].through else {
            return;
        };
        let t = c.get(th.table);
        let of = &t.fields[th.owner_field].name;
        let itf = &t.fields[th.item_field].name;
        let ordf = th.order_field.map(|i| &t.fields[i].name);
        let item_kind = c
            .get(t.fields[th.item_field].related.unwrap_or(th.table))
            .id_kind;
        let mut rows: Vec<(u64, u64, String)> = self.tables[th.table]
            .iter()
            .filter(|r| refs(&r.value, of).iter().any(|x| x == owner))
            .filter_map(|r| {
                let order = ordf
                    .and_then(|o| r.value.get(o))
                    .and_then(Value::as_u64)
                    .unwrap_or(u64::MAX);
                refs(&r.value, itf)
                    .into_iter()
                    .next()
                    .map(|i| (order, r.seq, i))
            })
            .collect();
        rows.sort();
        let list: Vec<Value> = rows
            .into_iter()
            .map(|(_, _, i)| id_value(item_kind, &i))
            .collect();
        let name = c.get(owner_e).fields[owner_f].name.clone();
        if rec.value.get(&name) == Some(&Value::Array(list.clone())) {
            return;
        }
        let mut v = rec.value.clone();
        v.insert(name, Value::Array(list));
        self.put(owner_e, rec.seq, owner, rec.owner, v.clone());
        self.after_change(c, owner_e, owner, Some(&rec.value), Some(&v), false);
    }

    /// Recompute every derived field (after a bulk load).
    pub fn rebuild(&mut self) {
        let c = catalog();
        // Through owners first (their lists feed reverse relations).
        for (a, ent) in c.entities.iter().enumerate() {
            for (fi, f) in ent.fields.iter().enumerate() {
                let Some(th) = f.through else { continue };
                let t = c.get(th.table);
                let of = &t.fields[th.owner_field].name;
                let itf = &t.fields[th.item_field].name;
                let ordf = th.order_field.map(|i| &t.fields[i].name);
                let item_kind = c
                    .get(t.fields[th.item_field].related.unwrap_or(th.table))
                    .id_kind;
                let mut by_owner: HashMap<String, Vec<(u64, u64, String)>> = HashMap::new();
                for r in self.tables[th.table].iter() {
                    let order = ordf
                        .and_then(|o| r.value.get(o))
                        .and_then(Value::as_u64)
                        .unwrap_or(u64::MAX);
                    if let (Some(o), Some(i)) =
                        (refs(&r.value, of).pop(), refs(&r.value, itf).pop())
                    {
                        by_owner.entry(o).or_default().push((order, r.seq, i));
                    }
                }
                // Owners without rows keep the list they carry: create rows for it.
                let owners: Vec<Arc<Rec>> = self.tables[a].iter().cloned().collect();
                for rec in owners {
                    match by_owner.get_mut(&rec.id) {
                        Some(rows) => {
                            rows.sort();
                            let list = rows
                                .iter()
                                .map(|(_, _, i)| id_value(item_kind, i))
                                .collect();
                            let mut v = rec.value.clone();
                            v.insert(f.name.clone(), Value::Array(list));
                            self.put(a, rec.seq, &rec.id, rec.owner, v);
                        }
                        None => {
                            let items = refs(&rec.value, &f.name);
                            if !items.is_empty() {
                                self.sync_through(c, th, &rec.id, &items, Some(vec![]));
                            }
                        }
                    }
                }
                let _ = fi;
            }
        }
        for (a, ent) in c.entities.iter().enumerate() {
            let mut lists: Vec<(usize, HashMap<String, Vec<Value>>)> = Vec::new();
            for (fi, f) in ent.fields.iter().enumerate() {
                let Some((b, g)) = f.reverse else { continue };
                let name = &c.get(b).fields[g].name;
                let kind = c.get(b).id_kind;
                let mut m: HashMap<String, Vec<Value>> = HashMap::new();
                for r in self.tables[b].iter() {
                    for t in refs(&r.value, name) {
                        m.entry(t).or_default().push(id_value(kind, &r.id));
                    }
                }
                lists.push((fi, m));
            }
            let recs: Vec<Arc<Rec>> = self.tables[a].iter().cloned().collect();
            for rec in recs {
                let mut v = rec.value.clone();
                for (fi, m) in &lists {
                    let list = m.get(&rec.id).cloned().unwrap_or_default();
                    v.insert(ent.fields[*fi].name.clone(), Value::Array(list));
                }
                self.derive_links(c, a, &mut v);
                self.put(a, rec.seq, &rec.id, rec.owner, v);
            }
        }
        self.version += 1;
    }

    fn derive_links(&self, c: &Catalog, e: EntityId, value: &mut Map<String, Value>) {
        let ent = c.get(e);
        if !ent.links.is_empty() && ent.field("links").is_some() {
            let links: Map<String, Value> = ent
                .links
                .iter()
                .map(|l| (l.clone(), Value::String(format!("{l}/"))))
                .collect();
            value.insert("links".into(), Value::Object(links));
        }
    }

    /// Whether another record of `e` already has `value` in `field`.
    pub fn taken(&self, e: EntityId, field: &str, value: &Value, except: Option<&str>) -> bool {
        self.tables[e]
            .iter()
            .any(|r| Some(r.id.as_str()) != except && r.value.get(field) == Some(value))
    }

    /// The whole store as a fixture document.
    pub fn to_fixture(&self) -> Value {
        let c = catalog();
        let mut records = Map::new();
        for (i, ent) in c.entities.iter().enumerate() {
            let list: Vec<Value> = self.tables[i]
                .iter()
                .map(|r| {
                    let mut v = r.value.clone();
                    if let Some(o) = r.owner {
                        v.insert("_owner".into(), Value::from(o));
                    }
                    Value::Object(v)
                })
                .collect();
            if !list.is_empty() {
                records.insert(ent.key.clone(), Value::Array(list));
            }
        }
        let mut tokens: Vec<(&String, &TokenGrant)> = self.tokens.iter().collect();
        tokens.sort();
        json!({
            "format": FIXTURE_FORMAT,
            "admins": self.admins.iter().collect::<Vec<_>>(),
            "roles": self.roles,
            "tokens": tokens.into_iter().map(|(t, g)| json!({"token": t, "user": g.user, "read_only": g.read_only})).collect::<Vec<_>>(),
            "records": records,
        })
    }

    /// A store from a fixture document.
    pub fn from_fixture(doc: &Value) -> Result<Store, String> {
        let c = catalog();
        let obj = doc
            .as_object()
            .ok_or("a fixture is a JSON object with \"records\", \"tokens\" and \"admins\"")?;
        if let Some(f) = obj.get("format")
            && f != FIXTURE_FORMAT
        {
            return Err(format!(
                "unknown fixture format {f}; expected {FIXTURE_FORMAT:?}"
            ));
        }
        let mut store = Store::new();
        if let Some(records) = obj.get("records") {
            let records = records
                .as_object()
                .ok_or("\"records\" must map \"app/model\" to a list of records")?;
            for key in records.keys() {
                if c.by_key(key).is_none() {
                    return Err(format!("unknown model {key:?} in the fixture"));
                }
            }
            for (e, ent) in c.entities.iter().enumerate() {
                let Some(list) = records.get(&ent.key) else {
                    continue;
                };
                let list = list
                    .as_array()
                    .ok_or_else(|| format!("records of {} must be a list", ent.key))?;
                for (i, r) in list.iter().enumerate() {
                    let mut r = r
                        .as_object()
                        .cloned()
                        .ok_or_else(|| format!("{}[{i}] is not an object", ent.key))?;
                    let owner = r.remove("_owner").and_then(|o| o.as_i64());
                    store
                        .insert_raw(e, r, owner)
                        .ok_or_else(|| format!("{}[{i}] has no id, or a duplicate one", ent.key))?;
                }
            }
        }
        if let Some(tokens) = obj.get("tokens").and_then(Value::as_array) {
            for t in tokens {
                let (Some(tok), Some(user)) = (
                    t.get("token").and_then(Value::as_str),
                    t.get("user").and_then(Value::as_i64),
                ) else {
                    return Err("each token needs \"token\" (string) and \"user\" (integer)".into());
                };
                let read_only = t.get("read_only").and_then(Value::as_bool).unwrap_or(false);
                store
                    .tokens
                    .insert(tok.to_string(), TokenGrant { user, read_only });
            }
        }
        if let Some(roles) = obj.get("roles").and_then(Value::as_object) {
            for (k, v) in roles {
                if let Some(t) = v.as_str() {
                    store.roles.insert(k.clone(), t.to_string());
                }
            }
        }
        if let Some(admins) = obj.get("admins").and_then(Value::as_array) {
            store.admins = admins.iter().filter_map(Value::as_i64).collect();
        }
        store.rebuild();
        Ok(store)
    }
}

/// The `format` value of fixture documents.
pub(crate) const FIXTURE_FORMAT: &str = "brainstem-mock-fixture/1";
