//! Who may see and change what.
//!
//! Projects carry member maps (`users` keyed by e-mail, `groups` keyed by
//! group name) with `can_change` / `is_manager` / `is_owner` flags. Records
//! naming projects follow those projects; records below them (a behavior of
//! a session) follow their parent; personal records (setups, data storages,
//! ...) belong to their creator and are visible to others when public;
//! reference data (taxonomies, resources, users) is readable by everyone.

use serde_json::{Map, Value};

use super::catalog::{Catalog, EntityId, Scope, catalog};
use super::store::{Rec, Store, refs};
use brainstem::Portal;

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub user: i64,
    pub email: String,
    pub read_only: bool,
    pub admin: bool,
    /// Names of the groups the user belongs to.
    pub groups: Vec<String>,
}

/// Who is asking, and through which portal.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub portal: Portal,
    pub principal: Option<Principal>,
}

/// Rights on one project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Rights {
    pub member: bool,
    pub can_change: bool,
    pub is_manager: bool,
    pub is_owner: bool,
}

impl Rights {
    fn merge(&mut self, flags: &Value) {
        self.member = true;
        let f = |k: &str| flags.get(k).and_then(Value::as_bool) == Some(true);
        self.can_change |= f("can_change") || f("is_manager") || f("is_owner");
        self.is_manager |= f("is_manager") || f("is_owner");
        self.is_owner |= f("is_owner");
    }
}

/// The e-mail of a user id.
pub(crate) fn email_of(store: &Store, user: i64) -> Option<String> {
    let c = catalog();
    c.user
        .and_then(|u| store.get(u, &user.to_string()))
        .and_then(|r| {
            r.value
                .get("email")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
}

/// Build the principal of a user id.
pub(crate) fn principal(store: &Store, user: i64, read_only: bool) -> Principal {
    let c = catalog();
    let email = email_of(store, user).unwrap_or_default();
    let mut groups = Vec::new();
    if let Some(g) = c.group {
        let maps: Vec<&str> = c
            .get(g)
            .fields
            .iter()
            .filter(|f| f.membership.as_ref().is_some_and(|m| m.by_user))
            .map(|f| f.name.as_str())
            .collect();
        for r in store.tables[g].iter() {
            if maps
                .iter()
                .any(|m| r.value.get(*m).and_then(|v| v.get(&email)).is_some())
                && let Some(n) = r.value.get("name").and_then(Value::as_str)
            {
                groups.push(n.to_string());
            }
        }
    }
    Principal {
        user,
        admin: store.admins.contains(&user),
        email,
        read_only,
        groups,
    }
}

/// The rights a principal has through the member maps of a record (a
/// project, or a group).
pub(crate) fn rights_in(
    c: &Catalog,
    e: EntityId,
    value: &Map<String, Value>,
    p: &Principal,
) -> Rights {
    let mut r = Rights::default();
    for f in &c.get(e).fields {
        let Some(m) = &f.membership else { continue };
        let Some(map) = value.get(&f.name).and_then(Value::as_object) else {
            continue;
        };
        if m.by_user {
            if let Some(flags) = map.get(&p.email) {
                r.merge(flags);
            }
        } else {
            for g in &p.groups {
                if let Some(flags) = map.get(g) {
                    r.merge(flags);
                }
            }
        }
    }
    r
}

fn project_rights(store: &Store, pid: &str, p: &Principal) -> Rights {
    let c = catalog();
    c.root
        .and_then(|r| store.get(r, pid).map(|rec| rights_in(c, r, &rec.value, p)))
        .unwrap_or_default()
}

/// Where a record's access comes from.
#[derive(Debug, Clone)]
pub(crate) enum Anchor {
    /// These projects (ids).
    Projects(Vec<String>),
    /// A personal record.
    Owned { owner: Option<i64>, public: bool },
    /// Reference data.
    Shared { owner: Option<i64> },
}

/// Resolve the anchor of a stored record (following parents).
pub(crate) fn anchor(store: &Store, e: EntityId, rec: &Rec) -> Anchor {
    anchor_of(store, e, &rec.id, &rec.value, rec.owner, 0)
}

/// Resolve the anchor of a record value that may not be stored yet.
pub(crate) fn anchor_of(
    store: &Store,
    e: EntityId,
    id: &str,
    value: &Map<String, Value>,
    owner: Option<i64>,
    depth: usize,
) -> Anchor {
    let c = catalog();
    let ent = c.get(e);
    if depth > 8 {
        return Anchor::Projects(vec![]);
    }
    match &ent.scope {
        Scope::Root => Anchor::Projects(vec![id.to_string()]),
        Scope::Projects(fields) => Anchor::Projects(
            fields
                .iter()
                .flat_map(|&f| refs(value, &ent.fields[f].name))
                .collect(),
        ),
        Scope::Parent(f) => {
            let field = &ent.fields[*f];
            let parent = refs(value, &field.name).into_iter().next().and_then(|pid| {
                field
                    .related
                    .and_then(|t| store.get(t, &pid).map(|r| (t, r)))
            });
            match parent {
                Some((t, r)) => anchor_of(store, t, &r.id, &r.value, r.owner, depth + 1),
                None => Anchor::Projects(vec![]),
            }
        }
        Scope::Owned => Anchor::Owned {
            owner,
            public: value.get("is_public").and_then(Value::as_bool) == Some(true),
        },
        Scope::Shared => Anchor::Shared { owner },
    }
}

/// Whether a record names the principal through a relation to users.
pub(crate) fn names_user(
    c: &Catalog,
    e: EntityId,
    value: &Map<String, Value>,
    p: &Principal,
) -> bool {
    let Some(u) = c.user else { return false };
    let me = p.user.to_string();
    c.get(e)
        .fields
        .iter()
        .filter(|f| f.related == Some(u) && !f.many && !f.read_only)
        .any(|f| refs(value, &f.name).contains(&me))
}

/// Whether a record names one of the principal's groups.
pub(crate) fn names_group(
    c: &Catalog,
    store: &Store,
    e: EntityId,
    value: &Map<String, Value>,
    p: &Principal,
) -> bool {
    let Some(g) = c.group else { return false };
    c.get(e)
        .fields
        .iter()
        .filter(|f| f.related == Some(g) && !f.many)
        .flat_map(|f| refs(value, &f.name))
        .any(|gid| {
            store
                .get(g, &gid)
                .and_then(|r| r.value.get("name").and_then(Value::as_str))
                .is_some_and(|n| p.groups.iter().any(|x| x == n))
        })
}

fn project_public(store: &Store, pid: &str) -> bool {
    catalog()
        .root
        .and_then(|r| store.get(r, pid))
        .and_then(|r| r.value.get("is_public").and_then(Value::as_bool))
        == Some(true)
}

/// Whether the viewer may see a record.
pub(crate) fn visible(store: &Store, e: EntityId, rec: &Rec, v: &Viewer) -> bool {
    let c = catalog();
    if c.get(e).approval_of.is_some() {
        // Approval queues: reviewers see every proposal, others their own.
        return match (&v.principal, v.portal) {
            (Some(p), Portal::Private) => p.admin || rec.owner == Some(p.user),
            _ => false,
        };
    }
    match (anchor(store, e, rec), v.portal, &v.principal) {
        (Anchor::Shared { .. }, _, _) => true,
        (Anchor::Owned { public, .. }, Portal::Public, _) => public,
        (Anchor::Projects(ps), Portal::Public, _) => {
            ps.iter().any(|pid| project_public(store, pid))
        }
        (_, Portal::Private, None) => false,
        (Anchor::Owned { owner, public }, Portal::Private, Some(p)) => {
            public || owner == Some(p.user)
        }
        (Anchor::Projects(ps), Portal::Private, Some(p)) => {
            ps.iter().any(|pid| project_rights(store, pid, p).member)
                || names_user(c, e, &rec.value, p)
                || names_group(c, store, e, &rec.value, p)
        }
    }
}

/// Whether a principal may change (or delete) a record with this anchor.
pub(crate) fn may_change(
    store: &Store,
    e: EntityId,
    anchor: &Anchor,
    p: &Principal,
    delete: bool,
) -> bool {
    let c = catalog();
    let ent = c.get(e);
    match anchor {
        Anchor::Projects(ps) => ps.iter().any(|pid| {
            let r = project_rights(store, pid, p);
            if ent.scope == Scope::Root && delete {
                r.is_owner
            } else {
                r.can_change
            }
        }),
        Anchor::Owned { owner, .. } => *owner == Some(p.user),
        Anchor::Shared { owner } => {
            if delete && ent.approval.is_some() {
                p.admin
            } else {
                p.admin || *owner == Some(p.user)
            }
        }
    }
}

/// Whether a principal manages a project.
pub(crate) fn manages_project(store: &Store, pid: &str, p: &Principal) -> bool {
    project_rights(store, pid, p).is_manager
}

/// Whether a principal may put a record into every one of these projects.
pub(crate) fn may_use_projects(store: &Store, projects: &[String], p: &Principal) -> bool {
    projects
        .iter()
        .all(|pid| project_rights(store, pid, p).can_change)
}
