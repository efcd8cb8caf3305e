//! What the server knows about each model, derived once from the generated
//! metadata: [`brainstem::MODELS`] (fields, their kinds, lookups and flags,
//! approval queues with their own fields), [`brainstem::Operation`] and the
//! typed schemas of [`brainstem::schema`] (defaults, member maps, request
//! bodies). Nothing here reads the spec itself.
//!
//! Nothing here is written per model: approval queues, reverse relations,
//! through tables, access scopes and relation routes are all recognised from
//! the structure of the metadata.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use brainstem::Portal;
use brainstem::meta::{FieldKind, FieldMeta, IdKind, ModelMeta};
use brainstem::schema::{Additional, Format, Schema, Type};

/// Index of an entity in [`Catalog::entities`].
pub(crate) type EntityId = usize;

/// What happens to permission flags when an invitation is accepted: the
/// invitation's boolean field -> the member flag it grants. Used only while
/// the spec does not say it (see the server's module docs).
pub(crate) const GRANTS: &[(&str, &str)] = &[
    ("can_change", "can_change"),
    ("manage_project", "is_manager"),
    ("own_project", "is_owner"),
    ("new_manager", "is_manager"),
    ("new_owner", "is_owner"),
];

/// One field of an entity.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    pub kind: FieldKind,
    pub many: bool,
    pub read_only: bool,
    pub nullable: bool,
    pub create_required: bool,
    pub response_required: bool,
    /// Target entity of a relation.
    pub related: Option<EntityId>,
    pub lookups: Vec<&'static str>,
    pub sortable: bool,
    /// Writable on create only (log `type`).
    pub create_only: bool,
    /// A read-only list computed from a relation field of another entity.
    pub reverse: Option<(EntityId, usize)>,
    /// A writable list kept in a through table: (table, field naming this
    /// record, field naming the element, order field).
    pub through: Option<Through>,
    /// A member map (`users`, `groups`): keys are member e-mails or names,
    /// values permission flags; PATCH merges, `remove: true` drops a key.
    pub membership: Option<Membership>,
    /// The value a record gets when the field is absent.
    pub default: Option<Value>,
    /// The property's typed schema.
    pub schema: &'static Schema,
}

/// A through table behind a list field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Through {
    pub table: EntityId,
    pub owner_field: usize,
    pub item_field: usize,
    pub order_field: Option<usize>,
}

/// A member map field.
#[derive(Debug, Clone)]
pub(crate) struct Membership {
    /// The flags a member carries (`can_change`, `is_manager`, `is_owner`).
    pub flags: Vec<String>,
    /// Keyed by user e-mail (else by group name).
    pub by_user: bool,
}

/// Which part of a route an operation answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpKind {
    List,
    Create,
    Retrieve,
    Update,
    PartialUpdate,
    Destroy,
    Action(String),
    Relation(usize),
}

/// One operation of an entity.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub method: &'static str,
    pub kind: OpKind,
    pub portals: &'static [Portal],
    /// Component schema of the request body, for actions.
    pub body: Option<&'static str>,
}

/// How access to an entity's records is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The project itself: its member maps say who may do what.
    Root,
    /// Records naming projects directly (the listed fields).
    Projects(Vec<usize>),
    /// Records that inherit the access of the record a field names.
    Parent(usize),
    /// Records owned by the user who made them, visible to others when public.
    Owned,
    /// Reference data every user may read.
    Shared,
}

/// A model, or the approval queue of one.
#[derive(Debug)]
pub(crate) struct Entity {
    /// `app/model` (`stem/session`, `taxonomies/speciesapproval`).
    pub key: String,
    pub app: String,
    /// URL segments this entity answers to (the documented one first).
    pub segments: Vec<String>,
    pub one: String,
    pub many: String,
    /// Component schema name (`Session`).
    pub class: String,
    pub id_kind: IdKind,
    pub meta: Option<&'static ModelMeta>,
    pub fields: Vec<Field>,
    pub ops: Vec<Op>,
    /// For a gated model: its approval queue.
    pub approval: Option<EntityId>,
    /// For an approval queue: the model it proposes records of.
    pub approval_of: Option<EntityId>,
    pub scope: Scope,
    /// Names of relation routes (`sessions`, ...) that `links` lists.
    pub links: Vec<String>,
    /// Fields whose values must be unique.
    pub unique: Vec<usize>,
    /// Typed payload slots: (tag field, content field, group).
    pub details: Vec<(String, String, String)>,
}

impl Entity {
    /// The selector value of a record for a typed-payload group: the value
    /// of the slot's tag field (`type` of a procedure log for `ProcedureLog`).
    pub fn selector(&self, group: &str, record: &Map<String, Value>) -> Option<String> {
        self.details
            .iter()
            .filter(|(_, _, g)| g == group)
            .find_map(|(tag, _, _)| record.get(tag).and_then(Value::as_str))
            .map(str::to_string)
    }

    /// A field by name.
    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }

    /// Human name of the model as Django would print it (`data acquisition`).
    pub fn verbose(&self) -> String {
        let mut out = String::new();
        for (i, ch) in self.class.chars().enumerate() {
            if ch.is_uppercase() && i > 0 {
                out.push(' ');
            }
            out.extend(ch.to_lowercase());
        }
        out
    }
}

/// Everything derived.
#[derive(Debug)]
pub(crate) struct Catalog {
    pub entities: Vec<Entity>,
    by_key: HashMap<String, EntityId>,
    by_route: HashMap<(String, String), EntityId>,
    /// The project model (member maps + `is_public`).
    pub root: Option<EntityId>,
    /// The user model (integer ids, an e-mail field).
    pub user: Option<EntityId>,
    /// The group model (integer ids, a member map).
    pub group: Option<EntityId>,
    /// (entity, field) -> reverse fields computed from it.
    pub reverse_of: HashMap<(EntityId, usize), Vec<(EntityId, usize)>>,
    /// Through tables: table entity -> (owner entity, field of the owner).
    pub through_of: HashMap<EntityId, (EntityId, usize)>,
}

/// The catalog, built on first use.
pub(crate) fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(build)
}

impl Catalog {
    /// An entity by `app/model`.
    pub fn by_key(&self, key: &str) -> Option<EntityId> {
        self.by_key.get(key).copied()
    }

    /// An entity by URL `app` and model segment.
    pub fn by_route(&self, app: &str, segment: &str) -> Option<EntityId> {
        self.by_route
            .get(&(app.to_string(), segment.to_string()))
            .copied()
    }

    /// The entity.
    pub fn get(&self, id: EntityId) -> &Entity {
        &self.entities[id]
    }
}

/// The default of a field absent from a new record: the schema's `default`,
/// else what DRF stores for an absent field of that kind.
fn default_for(f: &FieldMeta) -> Value {
    let s = f.schema.resolve();
    if let Some(d) = f.schema.default_value().or_else(|| s.default_value()) {
        return d;
    }
    if f.many {
        return Value::Array(vec![]);
    }
    if f.nullable {
        return Value::Null;
    }
    match f.kind {
        FieldKind::Json => match s.ty {
            Some(Type::Array) => Value::Array(vec![]),
            _ => Value::Object(Map::new()),
        },
        FieldKind::Boolean => Value::Bool(false),
        FieldKind::Text => Value::String(String::new()),
        _ => Value::Null,
    }
}

/// A member map: an object whose values are flag objects that accept
/// `remove` (the flags are the other properties).
fn membership_of(prop: &Schema) -> Option<Membership> {
    let s = prop.resolve();
    if s.ty != Some(Type::Object) {
        return None;
    }
    let Some(Additional::Schema(item)) = s.additional_properties else {
        return None;
    };
    let item = item.resolve();
    item.property("remove")?;
    let flags = item
        .properties
        .iter()
        .filter(|p| p.name != "remove")
        .map(|p| p.name.to_string())
        .collect();
    Some(Membership {
        flags,
        by_user: true,
    })
}

struct Pending {
    related: Vec<Option<String>>,
}

fn field_from_meta(f: &'static FieldMeta) -> Field {
    let membership = if f.kind == FieldKind::Json && !f.many {
        membership_of(f.schema)
    } else {
        None
    };
    Field {
        name: f.name.to_string(),
        kind: f.kind,
        many: f.many,
        read_only: f.read_only,
        nullable: f.nullable,
        create_required: f.create_required,
        response_required: f.response_required,
        related: None,
        lookups: f.lookups.to_vec(),
        sortable: f.sortable,
        create_only: f.create_only,
        reverse: None,
        through: None,
        membership,
        default: Some(default_for(f)),
        schema: f.schema,
    }
}

/// Parse an operation path: (app, segment, has id, tail after the id).
fn parse_path(path: &str) -> Option<(String, String, bool, Option<String>)> {
    let rest = path.strip_prefix("/api/{portal}/")?;
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        [app, seg] => Some((app.to_string(), seg.to_string(), false, None)),
        [app, seg, "{id}"] => Some((app.to_string(), seg.to_string(), true, None)),
        [app, seg, "{id}", tail] => Some((
            app.to_string(),
            seg.to_string(),
            true,
            Some(tail.to_string()),
        )),
        _ => None,
    }
}

fn build() -> Catalog {
    let mut entities: Vec<Entity> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    // Models.
    for m in brainstem::models::MODELS.iter().copied() {
        let class = m.schema.to_string();
        let fields: Vec<Field> = m.fields.iter().map(field_from_meta).collect();
        let related = m
            .fields
            .iter()
            .map(|f| f.related.map(str::to_string))
            .collect();
        let key = m.path();
        let details = m
            .details
            .iter()
            .map(|d| {
                (
                    d.tag.to_string(),
                    d.content.to_string(),
                    d.group.to_string(),
                )
            })
            .collect();
        let unique = (m.fields.iter().enumerate())
            .filter(|(_, f)| f.unique)
            .map(|(i, _)| i)
            .collect();
        entities.push(Entity {
            unique,
            key,
            app: m.app.to_string(),
            segments: Vec::new(),
            one: m.one.to_string(),
            many: m.many.to_string(),
            class,
            id_kind: m.id,
            meta: Some(m),
            fields,
            ops: Vec::new(),
            approval: None,
            approval_of: None,
            scope: Scope::Shared,
            links: Vec::new(),
            details,
        });
        pending.push(Pending { related });
    }
    // Approval queues.
    let n_models = entities.len();
    for base in 0..n_models {
        let Some(a) = entities[base].meta.and_then(|m| m.approval.as_ref()) else {
            continue;
        };
        // The record's writable fields (+ id), then what only proposals have
        // (CONVENTIONS.md: approval schemas).
        let mut fields = Vec::new();
        let mut related = Vec::new();
        for (i, f) in entities[base].fields.iter().enumerate() {
            if f.read_only && f.name != "id" {
                continue;
            }
            let mut f = f.clone();
            f.response_required = a
                .fields
                .iter()
                .any(|af| af.name == f.name && af.response_required);
            f.reverse = None;
            f.through = None;
            fields.push(f);
            related.push(pending[base].related[i].clone());
        }
        for af in a.fields {
            if entities[base].field(af.name).is_some() {
                continue;
            }
            fields.push(field_from_meta(af));
            related.push(af.related.map(str::to_string));
        }
        let (app, _) = a.model.split_once('/').unwrap_or(("", a.model));
        let id = entities.len();
        entities[base].approval = Some(id);
        entities.push(Entity {
            key: a.model.to_string(),
            app: app.to_string(),
            segments: Vec::new(),
            one: a.one.to_string(),
            many: a.many.to_string(),
            class: a.schema.to_string(),
            id_kind: a.id,
            meta: None,
            fields,
            ops: Vec::new(),
            approval: None,
            approval_of: Some(base),
            scope: Scope::Shared,
            links: Vec::new(),
            unique: Vec::new(),
            details: entities[base].details.clone(),
        });
        pending.push(Pending { related });
    }
    let by_key: HashMap<String, EntityId> = entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key.clone(), i))
        .collect();
    // Resolve relation targets.
    for (e, p) in entities.iter_mut().zip(&pending) {
        for (f, r) in e.fields.iter_mut().zip(&p.related) {
            f.related = r.as_deref().and_then(|k| by_key.get(k).copied());
        }
    }
    // Operations and routes.
    let mut by_route = HashMap::new();
    for op in brainstem::Operation::ALL {
        let Some(eid) = op.model().and_then(|k| by_key.get(k).copied()) else {
            continue;
        };
        let Some((app, seg, has_id, tail)) = parse_path(op.path()) else {
            continue;
        };
        let kind = match (has_id, tail, op.method().as_str()) {
            (false, None, "GET") => OpKind::List,
            (false, None, "POST") => OpKind::Create,
            (true, None, "GET") => OpKind::Retrieve,
            (true, None, "PUT") => OpKind::Update,
            (true, None, "PATCH") => OpKind::PartialUpdate,
            (true, None, "DELETE") => OpKind::Destroy,
            (true, Some(t), _) => match op.action() {
                Some(a) => OpKind::Action(a.to_string()),
                None => match entities[eid].field(&t) {
                    Some((i, _)) => {
                        if !entities[eid].links.contains(&t) {
                            entities[eid].links.push(t.clone());
                        }
                        OpKind::Relation(i)
                    }
                    None => continue,
                },
            },
            _ => continue,
        };
        let e = &mut entities[eid];
        if !e.segments.contains(&seg) {
            e.segments.push(seg.clone());
        }
        by_route.insert((app.clone(), seg), eid);
        e.ops.push(Op {
            method: op.method().as_str(),
            kind,
            portals: op.portals(),
            body: brainstem::schema::request_body(op.id()).map(|c| c.name),
        });
    }
    // The Python tool routes some models by their model key rather than
    // the documented URL segment; answer to both.
    for (i, e) in entities.iter_mut().enumerate() {
        let name = e.key.split('/').nth(1).unwrap_or_default().to_string();
        if !e.segments.is_empty() && !e.segments.contains(&name) {
            e.segments.push(name.clone());
            by_route.entry((e.app.clone(), name)).or_insert(i);
        }
    }
    // Structural roles.
    let user = entities.iter().position(|e| {
        e.approval_of.is_none()
            && e.id_kind == IdKind::Integer
            && e.fields
                .iter()
                .any(|f| f.schema.resolve().format == Some(Format::Email))
    });
    let group = entities.iter().position(|e| {
        e.approval_of.is_none()
            && e.id_kind == IdKind::Integer
            && e.fields.iter().any(|f| f.membership.is_some())
    });
    let root = entities.iter().position(|e| {
        e.approval_of.is_none()
            && e.fields.iter().any(|f| f.membership.is_some())
            && e.fields
                .iter()
                .any(|f| f.name == "is_public" && f.kind == FieldKind::Boolean)
    });
    // Member maps keyed by group name: the map named like the group model's list key.
    let group_many = group.map(|g| entities[g].many.clone());
    for e in entities.iter_mut() {
        for f in e.fields.iter_mut() {
            if let Some(m) = f.membership.as_mut() {
                m.by_user = Some(&f.name) != group_many.as_ref();
            }
        }
    }
    // Reverse relations.
    let mut reverse_of: HashMap<(EntityId, usize), Vec<(EntityId, usize)>> = HashMap::new();
    for a in 0..entities.len() {
        for fi in 0..entities[a].fields.len() {
            let f = &entities[a].fields[fi];
            let Some(b) = f.related else { continue };
            if !(f.read_only && f.many) || entities[a].approval_of.is_some() {
                continue;
            }
            let back: Vec<usize> = entities[b]
                .fields
                .iter()
                .enumerate()
                .filter(|(_, g)| g.related == Some(a) && !g.read_only)
                .map(|(i, _)| i)
                .collect();
            if let [g] = back.as_slice() {
                entities[a].fields[fi].reverse = Some((b, *g));
                reverse_of.entry((b, *g)).or_default().push((a, fi));
            }
        }
    }
    // Through tables: two required to-one relations (+ an optional integer order).
    let mut through_of = HashMap::new();
    for t in 0..n_models {
        let e = &entities[t];
        let rest: Vec<(usize, &Field)> = e
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name != "id")
            .collect();
        let rels: Vec<(usize, EntityId)> = rest
            .iter()
            .filter(|(_, f)| f.related.is_some() && !f.many && f.create_required)
            .map(|(i, f)| (*i, f.related.unwrap_or_default()))
            .collect();
        let ints: Vec<usize> = rest
            .iter()
            .filter(|(_, f)| f.related.is_none() && f.kind == FieldKind::Integer)
            .map(|(i, _)| *i)
            .collect();
        if rels.len() != 2 || rels.len() + ints.len() != rest.len() || ints.len() > 1 {
            continue;
        }
        for (owner_f, owner_e, item_f, item_e) in [
            (rels[0].0, rels[0].1, rels[1].0, rels[1].1),
            (rels[1].0, rels[1].1, rels[0].0, rels[0].1),
        ] {
            let target = entities[owner_e]
                .fields
                .iter()
                .position(|f| f.many && !f.read_only && f.related == Some(item_e));
            if let Some(fi) = target {
                entities[owner_e].fields[fi].through = Some(Through {
                    table: t,
                    owner_field: owner_f,
                    item_field: item_f,
                    order_field: ints.first().copied(),
                });
                through_of.insert(t, (owner_e, fi));
                break;
            }
        }
    }
    // Access scopes.
    let scopes = scopes(&entities, root);
    for (e, s) in entities.iter_mut().zip(scopes) {
        e.scope = s;
    }
    Catalog {
        entities,
        by_key,
        by_route,
        root,
        user,
        group,
        reverse_of,
        through_of,
    }
}

fn scopes(entities: &[Entity], root: Option<EntityId>) -> Vec<Scope> {
    let n = entities.len();
    let mut out: Vec<Option<Scope>> = vec![None; n];
    let Some(root) = root else {
        return vec![Scope::Shared; n];
    };
    let (root_one, root_many) = (&entities[root].one, &entities[root].many);
    out[root] = Some(Scope::Root);
    for (i, e) in entities.iter().enumerate() {
        if i == root || e.approval_of.is_some() {
            continue;
        }
        let direct: Vec<usize> = e
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.related == Some(root) && (&f.name == root_one || &f.name == root_many)
            })
            .map(|(i, _)| i)
            .collect();
        if !direct.is_empty() {
            out[i] = Some(Scope::Projects(direct));
        }
    }
    let project_like =
        |s: &Option<Scope>| matches!(s, Some(Scope::Root | Scope::Projects(_) | Scope::Parent(_)));
    let owned_like = |s: &Option<Scope>| matches!(s, Some(Scope::Owned | Scope::Parent(_)));
    let parent_pass = |out: &mut Vec<Option<Scope>>, ok: &dyn Fn(&Option<Scope>) -> bool| loop {
        let mut changed = false;
        for (i, e) in entities.iter().enumerate() {
            if out[i].is_some() || e.approval_of.is_some() {
                continue;
            }
            let parent = e.fields.iter().position(|f| {
                !f.many && f.create_required && f.related.is_some_and(|t| t != i && ok(&out[t]))
            });
            if let Some(p) = parent {
                out[i] = Some(Scope::Parent(p));
                changed = true;
            }
        }
        if !changed {
            break;
        }
    };
    parent_pass(&mut out, &project_like);
    for (i, e) in entities.iter().enumerate() {
        if out[i].is_none()
            && e.approval_of.is_none()
            && e.fields
                .iter()
                .any(|f| f.name == "is_public" && f.kind == FieldKind::Boolean)
        {
            out[i] = Some(Scope::Owned);
        }
    }
    parent_pass(&mut out, &owned_like);
    out.into_iter()
        .map(|s| s.unwrap_or(Scope::Shared))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_recognised() {
        let c = catalog();
        let key = |i: Option<EntityId>| i.map(|i| c.get(i).key.clone());
        assert_eq!(key(c.root).as_deref(), Some("stem/project"));
        assert_eq!(key(c.user).as_deref(), Some("users/user"));
        assert_eq!(key(c.group).as_deref(), Some("users/group"));
        let session = c.by_key("stem/session").expect("session");
        let project = c.by_key("stem/project").expect("project");
        let (pi, _) = c.get(project).field("sessions").expect("field");
        assert!(c.get(project).fields[pi].reverse.is_some());
        let (di, _) = c.get(session).field("datastorage").expect("field");
        assert!(c.get(session).fields[di].through.is_some());
        assert!(matches!(c.get(session).scope, Scope::Projects(_)));
        let behavior = c.by_key("modules/behavior").expect("behavior");
        assert!(matches!(c.get(behavior).scope, Scope::Parent(_)));
        let setup = c.by_key("personal_attributes/setup").expect("setup");
        assert_eq!(c.get(setup).scope, Scope::Owned);
        let equipment = c.by_key("modules/equipment").expect("equipment");
        assert!(matches!(c.get(equipment).scope, Scope::Parent(_)));
        let species = c.by_key("taxonomies/species").expect("species");
        assert_eq!(c.get(species).scope, Scope::Shared);
        assert!(c.get(species).approval.is_some());
        assert_eq!(
            c.by_route("stem", "projectmembershipinvitation"),
            c.by_route("stem", "project_membership_invitation")
        );
        assert!(c.by_route("taxonomies", "speciesapproval").is_some());
        assert_eq!(
            c.get(project).links,
            ["cohorts", "collections", "sessions", "subjects"]
        );
    }
}
