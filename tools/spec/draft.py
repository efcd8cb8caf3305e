#!/usr/bin/env python3
"""Draft schema/brainstem.openapi.json from the BrainSTEM support-site Markdown.

Usage:
    python3 tools/spec/draft.py /path/to/brainstem-docs --out schema/brainstem.openapi.json

Steps (all deterministic, stdlib only):
  1. parse every model page under <docs>/api/<app>/ (field table, sections, example responses);
  2. turn each field row into a JSON-Schema property with heuristics over the row text;
  3. apply the explicit DECISIONS table below (each entry carries its reason);
  4. derive flags from the examples (nullable, x-brainstem-response-required, envelope keys);
  5. build operations, envelopes, shared schemas;
  6. optionally merge typed `details` schemas from tools/spec/details.py (see merge_details());
  7. describe every property in own words (tools/spec/descriptions.py) and link each model,
     approval and details schema to its docs page (x-brainstem-docs-url).

Descriptions in the output are written here, never copied from the docs.
The conventions are in schema/CONVENTIONS.md.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # keep tools/spec free of __pycache__
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # lets the optional tools/spec/details.py be imported

SPEC_VERSION = "1.3.0"
DOCS_REVISION = "brainstem-org/brainstem_support@28345af35a0792d5309ce1fb5e9911c754c903db"
APP_ORDER = ["stem", "modules", "personal_attributes", "resources", "taxonomies", "dissemination", "users"]

# ============================================================================
# Markdown parsing (model pages) and a tolerant JSON/Python literal parser
# ============================================================================
# ----------------------------------------------------------------------------
# Tolerant literal parser
# ----------------------------------------------------------------------------


class LiteralError(ValueError):
    pass


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|\#[^\n]*)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}\[\]:,])
    """,
    re.X,
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"', "'": "'"}


def _unescape(body: str) -> str:
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n == "u" and i + 5 < len(body):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _tokenize(text: str):
    pos = 0
    toks = []
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise LiteralError(f"unexpected character {text[pos]!r} at offset {pos}")
        kind = m.lastgroup
        val = m.group(kind)
        line = text.count("\n", 0, pos) + 1
        if kind not in ("ws", "comment"):
            toks.append((kind, val, line))
        pos = m.end()
    return toks


def parse_literal(text: str):
    """Parse a JSON-or-Python literal. Returns (value, repairs: list[str])."""
    toks = _tokenize(text)
    repairs: list[str] = []
    idx = 0

    def peek():
        return toks[idx] if idx < len(toks) else (None, None, None)

    def take():
        nonlocal idx
        t = peek()
        idx += 1
        return t

    def value():
        kind, val, line = take()
        if kind == "str":
            if val[0] == "'":
                _note("single-quoted strings (Python literal)")
            return _unescape(val[1:-1])
        if kind == "num":
            if re.fullmatch(r"-?\d+", val):
                return int(val)
            return float(val)
        if kind == "ident":
            mapping = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
            if val not in mapping:
                raise LiteralError(f"unknown identifier {val!r} on line {line}")
            if val in ("True", "False", "None"):
                _note(f"Python literal {val}")
            return mapping[val]
        if kind == "punct" and val == "{":
            return obj()
        if kind == "punct" and val == "[":
            return arr()
        raise LiteralError(f"unexpected token {val!r} on line {line}")

    def _note(msg):
        if msg not in repairs:
            repairs.append(msg)

    def obj():
        out = {}
        while True:
            kind, val, line = peek()
            if kind == "punct" and val == "}":
                take()
                return out
            k = value()
            if not isinstance(k, str):
                raise LiteralError(f"non-string key on line {line}")
            kind, val, line = take()
            if val != ":":
                raise LiteralError(f"expected ':' on line {line}")
            out[k] = value()
            kind, val, line = peek()
            if kind == "punct" and val == ",":
                take()
                kind2, val2, line2 = peek()
                if kind2 == "punct" and val2 == "}":
                    _note("trailing comma")
            elif kind == "punct" and val == "}":
                continue
            elif kind == "str":
                _note(f"missing comma before line {line}")
            else:
                raise LiteralError(f"unexpected {val!r} on line {line}")

    def arr():
        out = []
        while True:
            kind, val, line = peek()
            if kind == "punct" and val == "]":
                take()
                return out
            out.append(value())
            kind, val, line = peek()
            if kind == "punct" and val == ",":
                take()
                kind2, val2, line2 = peek()
                if kind2 == "punct" and val2 == "]":
                    _note("trailing comma")
            elif kind == "punct" and val == "]":
                continue
            elif kind in ("str", "num", "ident") or (kind == "punct" and val in "{["):
                _note(f"missing comma before line {line}")
            else:
                raise LiteralError(f"unexpected {val!r} on line {line}")

    result = value()
    if idx != len(toks):
        raise LiteralError("trailing content after literal")
    return result, repairs


# ----------------------------------------------------------------------------
# Page parsing
# ----------------------------------------------------------------------------

_RESPONSE_MARK = re.compile(r"(?i)(response example|example response)")
_REQUEST_MARK = re.compile(r"(?i)(use example|example request)")


def _front_matter(text: str):
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    meta = {}
    if not m:
        return meta, text
    for line in m.group(1).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            meta[k.strip()] = v.strip()
    return meta, text[m.end():]


def _split_row(line: str):
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    first, _, rest = s.partition("|")
    return first.strip(), rest.strip()


def parse_table(lines):
    """First Markdown table in `lines` -> list of (name, description)."""
    rows = []
    started = False
    for line in lines:
        if line.strip().startswith("|"):
            started = True
            a, b = _split_row(line)
            if re.fullmatch(r":?-+:?", a.replace(" ", "")):
                continue
            m = re.search(r"`+([^`]+?)`+", a)
            if not m:
                continue  # header row
            rows.append((m.group(1).strip(), b))
        elif started:
            break
    return rows


def parse_page(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    meta, body = _front_matter(text)
    lines = body.splitlines()
    sections = []  # list of dicts in document order
    cur = {"name": "_preamble", "lines": []}
    for line in lines:
        if line.startswith("## "):
            sections.append(cur)
            cur = {"name": line[3:].strip(), "lines": []}
        else:
            cur["lines"].append(line)
    sections.append(cur)

    page = {"title": meta.get("title", ""), "path": str(path), "fields": [], "sections": [], "options": {}}
    for sec in sections:
        if sec["name"] == "Fields":
            page["fields"] = parse_table(sec["lines"])
            page["fields_text"] = "\n".join(sec["lines"])
        # "These are the available `atlas` options ..." bullet lists
        opts = _parse_option_lists(sec["lines"])
        page["options"].update(opts)
        facts = _parse_facts(sec["lines"])
        examples = _parse_examples(sec["lines"])
        page["sections"].append({"name": sec["name"], "facts": facts, "examples": examples,
                                 "text": "\n".join(sec["lines"])})
    return page


def _parse_option_lists(lines):
    out = {}
    field = None
    for line in lines:
        m = re.search(r"available `([a-z_]+)` options", line)
        if m and "schemas documentation" not in line:
            field = m.group(1)
            out[field] = []
            continue
        if field:
            m = re.match(r"\s*-\s+`([^`]+)`\s*:\s*(.*)", line)
            if m:
                out[field].append((m.group(1), m.group(2).strip()))
            elif line.strip() and out[field]:
                field = None
    return out


def _parse_facts(lines):
    facts = {}
    for line in lines:
        m = re.match(r"\s*-\s+\*\*([^*]+?):\*\*\s*(.*)", line)
        if not m:
            continue
        key, val = m.group(1).strip(), m.group(2).strip()
        if key == "Allowed portals":
            facts["portals"] = [p.strip() for p in val.split(",") if p.strip()]
        elif key == "Request method":
            facts["method"] = val.strip().upper()
        elif key.startswith("URL"):
            url = val.strip("<>` ")
            url = url.replace("<id\\>", "<id>")
            facts.setdefault("urls", []).append(url)
        elif key == "Responses":
            facts["responses"] = [(int(c), t.strip()) for c, t in re.findall(r"`(\d{3})`\s*([^;`]*)", val)]
        elif key == "Data":
            facts["data"] = val
    return facts


def _parse_examples(lines):
    """Code blocks that follow a response marker. Returns list of dicts."""
    out = []
    pending = False
    in_block = False
    block = []
    fence_lang = ""
    for line in lines:
        s = line.strip()
        if s.startswith("```"):
            if not in_block:
                in_block = True
                fence_lang = s[3:].strip()
                block = []
                continue
            in_block = False
            if pending:
                raw = "\n".join(block)
                out.append({"raw": raw, "lang": fence_lang})
                pending = False
            continue
        if in_block:
            block.append(line)
            continue
        if _RESPONSE_MARK.search(s):
            pending = True
        elif _REQUEST_MARK.search(s):
            pending = False
    return out


def quick_type_map(path: Path):
    """Type values listed in an api/schemas/<group>.md 'Quick type map' table."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    m = re.search(r"## Quick type map\n(.*?)\n## ", text, re.S)
    if not m:
        return []
    return [name for name, _ in parse_table(m.group(1).splitlines())]


# ----------------------------------------------------------------------------
# Model table: key (x-brainstem-model suffix, operationId prefix, fixture dir),
# docs page, URL segment, schema name, id kind, one-line description (own words).
# ----------------------------------------------------------------------------
MODELS = [
    # key, app, page file, url segment, Name, id, description
    ("project", "stem", "project.md", "project", "Project", "uuid",
     "A research project grouping sessions, subjects, cohorts and collections, with member permissions."),
    ("subject", "stem", "subject.md", "subject", "Subject", "uuid",
     "An experimental subject (animal) belonging to one or more projects."),
    ("session", "stem", "session.md", "session", "Session", "uuid",
     "A recording or experiment session inside one or more projects."),
    ("collection", "stem", "collection.md", "collection", "Collection", "uuid",
     "A named set of sessions within one project."),
    ("cohort", "stem", "cohort.md", "cohort", "Cohort", "uuid",
     "A named group of subjects within one project."),
    ("breeding", "stem", "breeding.md", "breeding", "Breeding", "uuid",
     "A breeding pair (mother and father subjects) and its litter information."),
    ("project_membership_invitation", "stem", "project_membership_invitation.md",
     "projectmembershipinvitation", "ProjectMembershipInvitation", "uuid",
     "A pending invitation for a user to join a project with given permissions."),
    ("project_group_membership_invitation", "stem", "project_group_membership_invitation.md",
     "projectgroupmembershipinvitation", "ProjectGroupMembershipInvitation", "uuid",
     "A pending invitation for a group to join a project with given permissions."),
    ("behavior", "modules", "behavior.md", "behavior", "Behavior", "uuid",
     "A behavioral assay run by subjects on a setup during a session."),
    ("consumablestock", "modules", "consumablestock.md", "consumablestock", "ConsumableStock", "uuid",
     "A stock of a consumable held in an inventory, with typed details."),
    ("dataacquisition", "modules", "dataacquisition.md", "dataacquisition", "DataAcquisition", "uuid",
     "A data recording made during a session, with type-specific details."),
    ("equipment", "modules", "equipment.md", "equipment", "Equipment", "uuid",
     "A piece of equipment placed in a setup, with typed details and coordinates."),
    ("manipulation", "modules", "manipulation.md", "manipulation", "Manipulation", "uuid",
     "An experimental intervention applied during a session; details are a list of rows."),
    ("procedure", "modules", "procedure.md", "procedure", "Procedure", "uuid",
     "A procedure performed on a subject, with typed details and coordinates."),
    ("procedurelog", "modules", "procedurelog.md", "procedurelog", "ProcedureLog", "uuid",
     "A time-stamped log of measurements attached to a procedure."),
    ("subjectlog", "modules", "subjectlog.md", "subjectlog", "SubjectLog", "uuid",
     "A time-stamped or interval log of observations attached to a subject."),
    ("behavioralassay", "personal_attributes", "behavioralassay.md", "behavioralassay", "BehavioralAssay", "uuid",
     "A user-defined behavioral assay built on a setup type and a behavioral paradigm."),
    ("datastorage", "personal_attributes", "datastorage.md", "datastorage", "DataStorage", "uuid",
     "A place where session data is stored, with its organization and access protocols."),
    ("inventory", "personal_attributes", "inventory.md", "inventory", "Inventory", "uuid",
     "A named inventory that holds consumable stocks."),
    ("license", "personal_attributes", "license.md", "license", "License", "uuid",
     "A regulatory license or permit covering subjects, procedures and assays."),
    ("setup", "personal_attributes", "setup.md", "setup", "Setup", "uuid",
     "A user-defined experimental setup of a given setup type."),
    ("consumable", "resources", "consumable.md", "consumable", "Consumable", "uuid",
     "A shared catalogue entry for a consumable product (approval-gated)."),
    ("hardwaredevice", "resources", "hardwaredevice.md", "hardwaredevice", "HardwareDevice", "uuid",
     "A shared catalogue entry for a hardware device (approval-gated)."),
    ("supplier", "resources", "supplier.md", "supplier", "Supplier", "uuid",
     "A shared catalogue entry for a supplier (approval-gated)."),
    ("behavioralcategory", "taxonomies", "behavioralcategory.md", "behavioralcategory", "BehavioralCategory", "uuid",
     "A hierarchical category of behavioral paradigms (approval-gated)."),
    ("behavioralparadigm", "taxonomies", "behavioralparadigm.md", "behavioralparadigm", "BehavioralParadigm", "uuid",
     "A named behavioral paradigm within a category (approval-gated)."),
    ("brainregion", "taxonomies", "brainregion.md", "brainregion", "BrainRegion", "uuid",
     "A brain region of a reference atlas."),
    ("regulatoryauthority", "taxonomies", "regulatoryauthority.md", "regulatoryauthority", "RegulatoryAuthority", "uuid",
     "A body that issues research licenses (approval-gated)."),
    ("setuptype", "taxonomies", "setuptype.md", "setuptype", "SetupType", "uuid",
     "A kind of experimental setup with a preparation category (approval-gated)."),
    ("species", "taxonomies", "species.md", "species", "Species", "uuid",
     "A species entry of the shared taxonomy (approval-gated)."),
    ("strain", "taxonomies", "strain.md", "strain", "Strain", "uuid",
     "A strain of a species (approval-gated)."),
    ("journal", "dissemination", "journal.md", "journal", "Journal", "uuid",
     "A journal where publications appear (approval-gated)."),
    ("publication", "dissemination", "publication.md", "publication", "Publication", "uuid",
     "A scientific publication linked to projects."),
    ("group", "users", "group.md", "group", "Group", "integer",
     "A group of users with per-member manager/owner flags."),
    ("group_membership_invitation", "users", "group_membership_invitation.md", "groupmembershipinvitation",
     "GroupMembershipInvitation", "uuid", "A pending invitation for a user to join a group."),
    ("group_membership_request", "users", "group_membership_request.md", "groupmembershiprequest",
     "GroupMembershipRequest", "uuid", "A pending request by a user to join a group."),
    ("laboratory", "users", "laboratory.md", "laboratory", "Laboratory", "uuid",
     "A laboratory: a group with institutional information and principal investigators."),
    ("user", "users", "user.md", "user", "User", "integer",
     "A user account profile."),
]

MODEL_BY_KEY = {m[0]: m for m in MODELS}
MODEL_REF = {f"{m[1]}/{m[0]}": m for m in MODELS}  # "stem/project" -> row

# Relations: field name -> target model ("<app>/<key>"), with per-model overrides.
RELATED = {
    "projects": "stem/project", "project": "stem/project", "active_projects": "stem/project",
    "sessions": "stem/session", "session": "stem/session",
    "subjects": "stem/subject", "subject": "stem/subject", "mother": "stem/subject", "father": "stem/subject",
    "collections": "stem/collection", "cohorts": "stem/cohort", "breeding": "stem/breeding",
    "epochs": "stem/epoch",
    "publications": "dissemination/publication", "journal": "dissemination/journal",
    "licenses": "personal_attributes/license", "strain": "taxonomies/strain", "species": "taxonomies/species",
    "supplier": "resources/supplier", "consumable": "resources/consumable",
    "hardwaredevice": "resources/hardwaredevice",
    "procedures": "modules/procedure", "procedure": "modules/procedure", "subjectlogs": "modules/subjectlog",
    "datastorage": "personal_attributes/datastorage", "dataacquisition": "modules/dataacquisition",
    "behaviors": "modules/behavior", "manipulations": "modules/manipulation",
    "consumablestock": "modules/consumablestock", "equipment": "modules/equipment",
    "brain_region": "taxonomies/brainregion", "inventory": "personal_attributes/inventory",
    "setup": "personal_attributes/setup", "behavioralassay": "personal_attributes/behavioralassay",
    "behavioralassays": "personal_attributes/behavioralassay",
    "setup_type": "taxonomies/setuptype", "behavioral_paradigm": "taxonomies/behavioralparadigm",
    "regulatory_authority": "taxonomies/regulatoryauthority",
    "license_holders": "users/user", "principal_investigators": "users/user", "user": "users/user",
    "user_account_invitation": "users/user", "user_account_request": "users/user",
    "group": "users/group", "authgroup": "users/group",
    "parent": "taxonomies/behavioralcategory",
}
RELATED_BY_MODEL = {
    ("behavioralparadigm", "category"): "taxonomies/behavioralcategory",
    ("project_membership_invitation", "invitee"): "users/user",
    ("project_group_membership_invitation", "invitee"): "users/group",
}

# Typed-payload groups per model: (group, tag field, content field); api/schemas/<page>.md lists type names.
DETAILS_GROUPS = {
    "procedure": [("Procedure", "type", "details"), ("Coordinates", "coordinates_system", "coordinates_details")],
    "equipment": [("Equipment", "type", "details"), ("Coordinates", "coordinates_system", "coordinates_details")],
    "dataacquisition": [("DataAcquisition", "type", "details")],
    "manipulation": [("Manipulation", "type", "details")],
    "consumablestock": [("ConsumableStock", "type", "details")],
    "procedurelog": [("ProcedureLog", "type", "entries[].details")],
    "subjectlog": [("SubjectLog", "type", "entries[].details")],
}
GROUP_PAGE = {"Procedure": "procedure", "Coordinates": "coordinates", "Equipment": "equipment",
              "DataAcquisition": "dataacquisition", "Manipulation": "manipulation",
              "ConsumableStock": "consumablestock", "ProcedureLog": "procedurelog", "SubjectLog": "subjectlog"}

# Convenience loaders of the official Python tool (v2.0.0): default includes and kwarg -> filter key.
LOADERS = {
    "project": (["sessions", "subjects", "collections", "cohorts"],
                {"name": "name.icontains", "sessions": "sessions.id", "subjects": "subjects.id", "tags": "tags"}),
    "subject": (["procedures", "subjectlogs"],
                {"name": "name.icontains", "projects": "projects.id", "strain": "strain.id", "sex": "sex",
                 "tags": "tags"}),
    "session": (["dataacquisition", "behaviors", "manipulations", "epochs"],
                {"name": "name.icontains", "projects": "projects.id", "datastorage": "datastorage.id",
                 "tags": "tags"}),
    "collection": (["sessions"], {"name": "name.icontains", "tags": "tags"}),
    "cohort": (["subjects"], {"name": "name.icontains", "tags": "tags"}),
    "behavior": ([], {"session": "session.id", "tags": "tags"}),
    "dataacquisition": ([], {"session": "session.id", "tags": "tags"}),
    "manipulation": ([], {"session": "session.id", "tags": "tags"}),
    "procedure": ([], {"subject": "subject.id", "tags": "tags"}),
    "procedurelog": ([], {"procedure": "procedure.id", "tags": "tags"}),
    "subjectlog": ([], {"subject": "subject.id", "tags": "tags"}),
    "equipment": ([], {"name": "name.icontains", "setup": "setup.id", "tags": "tags"}),
    "consumablestock": ([], {"tags": "tags"}),
    "behavioralassay": ([], {"name": "name.icontains", "tags": "tags"}),
    "datastorage": ([], {"name": "name.icontains", "tags": "tags"}),
    "setup": ([], {"name": "name.icontains", "tags": "tags"}),
    "hardwaredevice": ([], {"name": "name.icontains", "tags": "tags"}),
    "brainregion": ([], {"name": "name.icontains", "tags": "tags"}),
    "species": ([], {"name": "name.icontains", "tags": "tags"}),
    "strain": ([], {"name": "name.icontains", "species": "species.id", "tags": "tags"}),
    "publication": ([], {"name": "name.icontains", "tags": "tags"}),
    "laboratory": ([], {"name": "name.icontains", "tags": "tags"}),
}

# ----------------------------------------------------------------------------
# DECISIONS: explicit corrections applied after the heuristics.
# (model key, field) -> (schema patch; None deletes a key), reason.  Field "*" = model level.
# ----------------------------------------------------------------------------
OBJ_ANY = {"type": "object", "additionalProperties": True}
EXT_IDS = {"type": "array", "items": {"$ref": "#/components/schemas/ExternalIdentifier"}}
EXT_IDS_REASON = ("Table says 'JSON object' but every example shows a list ([] or null) and the data-model "
                  "page describes a table of identifier rows; typed as an array of free-form objects.")
RRID_REASON = ("Shown as null for taxonomies and '' for resources; treated as nullable everywhere so one "
               "Rust type fits all RRID fields.")
ORDER_REASON = ("Docs say 'positive integer' but the data-acquisition and manipulation examples show "
                "order 0; minimum relaxed to 0.")

DECISIONS: dict[tuple[str, str], tuple[dict, str]] = {
    # --- stem ---
    ("project", "users"): ({"type": "object", "additionalProperties": {"$ref": "#/components/schemas/ProjectMemberPermissions"}},
                           "Map keyed by user e-mail; value schema is the documented permission triple (plus write-only 'remove')."),
    ("project", "groups"): ({"type": "object", "additionalProperties": {"$ref": "#/components/schemas/ProjectMemberPermissions"}},
                            "Map keyed by group name; same permission triple as users."),
    ("session", "epochs"): ({"x-brainstem-related": None, "x-brainstem-related-undocumented": "stem/epoch"},
                            "Epochs have no documented endpoint; ids are kept opaque (no x-brainstem-related target model)."),
    ("session", "datastorage"): ({"x-brainstem-note": "Order is the through-table order; manage it with /api/private/stem/sessiondatastorage/."},
                                 "Documented ordering endpoint is separate."),
    ("subject", "status"): ({"x-brainstem-note": "Only 'active' is documented (as an example); kept as free string."},
                            "Value set not documented."),
    ("subject", "extra_fields"): ({"nullable": True},
                                  "Create/update examples show extra_fields: null although other examples show {}."),
    ("subject", "name_used_in_storage"): ({"nullable": True}, "Examples show null."),
    # --- invitations / users ---
    ("user", "groups_own_json"): ({"type": "array", "items": {"$ref": "#/components/schemas/OwnedGroup"}, "readOnly": True},
                                  "Derived list of owned groups ({id, name}); not documented as writable, marked read-only."),
    ("user", "email"): ({"format": "email"}, "E-mail address."),
    ("user", "atlas_preference"): ({"x-brainstem-note": "Holds an atlas code such as 'AIA' (see BrainRegion.atlas); not constrained to the enum because the docs do not say so."},
                                   "No enum documented for this field."),
    ("group", "users"): ({"type": "object", "additionalProperties": {"$ref": "#/components/schemas/GroupMemberPermissions"}},
                         "Map keyed by user e-mail with manager/owner flags."),
    # --- modules ---
    ("behavior", "order"): ({"minimum": 0}, ORDER_REASON),
    ("dataacquisition", "order"): ({"minimum": 0}, ORDER_REASON),
    ("manipulation", "order"): ({"minimum": 0}, ORDER_REASON),
    ("dataacquisition", "image"): ({"type": "string", "format": "uri", "readOnly": True, "nullable": True},
                                   "URL of an uploaded image, null when absent (examples)."),
    ("manipulation", "details"): ({"type": "array", "items": {"type": "object"}},
                                  "Table says object-or-array; every example and the schema pages use a list of rows."),
    ("consumablestock", "status"): ({"x-brainstem-note": "Documented only by example values AVAILABLE, RESERVED, DEPLETED; kept as free string."},
                                    "Examples listed with 'e.g.', not as a closed set."),
    ("procedurelog", "type"): ({"x-brainstem-create-only": True,
                                "x-brainstem-note": "Writable on create, ignored/read-only on later updates."},
                               "Documented below the table."),
    ("subjectlog", "type"): ({"x-brainstem-create-only": True,
                              "x-brainstem-note": "Writable on create, read-only afterwards."},
                             "Documented below the table."),
    ("procedurelog", "entries"): ({"type": "array", "items": {"$ref": "#/components/schemas/ProcedureLogEntry"}},
                                  "Entry structure documented in 'Log entries'."),
    ("subjectlog", "entries"): ({"type": "array", "items": {"$ref": "#/components/schemas/SubjectLogEntry"}},
                                "Instantaneous and interval entry shapes merged into one schema."),
    ("subjectlog", "user"): ({"x-brainstem-note": "Examples show a '<user-id>' string placeholder; users have integer ids, so this is an integer (fixtures use integers)."},
                             "Users are integer-keyed everywhere else."),
    # --- personal attributes ---
    ("datastorage", "data_organization"): ({"type": "array", "items": {"$ref": "#/components/schemas/DataOrganizationElement"}},
                                           "Table says 'JSON dictionary' but every example (request and response) is a list of {elements} objects."),
    ("datastorage", "data_protocols"): ({"type": "array", "items": {"$ref": "#/components/schemas/DataProtocol"}},
                                        "Table says 'JSON dictionary' but every example is a list of {protocol, path, is_public} objects."),
    ("setup", "specifications"): ({"type": "array", "items": {"$ref": "#/components/schemas/SetupSpecification"}},
                                  "Table says 'JSON array' and the first example is a list of {name, value, description}; "
                                  "other examples show an object ({} or {'Length': 100, ...}) - fixtures converted to the list form."),
    ("setup", "image"): ({"type": "string", "format": "uri", "nullable": True, "readOnly": True},
                         "'image URL or null'; uploads are not made through this JSON field, so read-only."),
    ("license", "license_holders"): ({"items": {"type": "integer"}, "x-brainstem-related": "users/user"},
                                     "Table says 'list of user UUIDs' but users have integer ids everywhere else; typed as integers."),
    ("license", "country"): ({"maxLength": 2, "pattern": "^[A-Z]{2}$", "nullable": True},
                             "ISO 3166-1 alpha-2 code; examples show null."),
    ("license", "license_document"): ({"type": "string", "format": "uri", "nullable": True,
                                       "x-brainstem-note": "File upload in the web UI; the JSON API returns a URL or null. Multipart upload is not modelled."},
                                      "Documented as 'file upload'."),
    ("license", "status"): ({"default": "draft"}, "Default documented."),
    ("license", "description"): ({"x-brainstem-note": "Rich text (HTML) string."}, "Documented as rich text."),
    # --- resources / taxonomies / dissemination ---
    ("consumable", "external_identifiers"): (EXT_IDS, EXT_IDS_REASON),
    ("hardwaredevice", "external_identifiers"): (EXT_IDS, EXT_IDS_REASON),
    ("species", "external_identifiers"): (EXT_IDS, EXT_IDS_REASON),
    ("strain", "external_identifiers"): (EXT_IDS, EXT_IDS_REASON),
    ("behavioralparadigm", "external_identifiers"): (dict(EXT_IDS, nullable=True), EXT_IDS_REASON + " Examples show null here."),
    ("consumable", "rrid"): ({"nullable": True}, RRID_REASON),
    ("hardwaredevice", "rrid"): ({"nullable": True}, RRID_REASON),
    ("species", "rrid"): ({"nullable": True}, RRID_REASON),
    ("strain", "rrid"): ({"nullable": True}, RRID_REASON),
    ("behavioralparadigm", "rrid"): ({"nullable": True}, RRID_REASON),
    ("consumable", "rrid_url"): ({"nullable": True}, RRID_REASON),
    ("hardwaredevice", "rrid_url"): ({"nullable": True}, RRID_REASON),
    ("species", "rrid_url"): ({"nullable": True}, RRID_REASON),
    ("strain", "rrid_url"): ({"nullable": True}, RRID_REASON),
    ("consumable", "type"): ({"x-brainstem-note": "Type names are not listed on an API schema page (the link points to a missing page); "
                                                  "known values from examples: VirusConstruct, SiliconProbeDesign, OpticFiberDesign. Kept as free string."},
                             "No type list documented for consumables."),
    ("consumable", "details"): ({"type": "object"}, "Free-form object; no typed group for consumables."),
    ("behavioralparadigm", "species"): ({"type": "array", "items": {"type": "string", "format": "uuid"}},
                                        "'related species ID(s)': every example is a list."),
    ("behavioralparadigm", "category"): ({"nullable": True}, "Optional relation."),
    ("behavioralcategory", "parent"): ({"nullable": True}, "Examples show null for top-level categories."),
    ("setuptype", "category"): ({"maxLength": 1}, "Single-character code."),
    ("regulatoryauthority", "country"): ({"maxLength": 2, "pattern": "^[A-Z]{2}$"}, "ISO 3166-1 alpha-2 code."),
    ("regulatoryauthority", "is_active"): ({"default": True}, "Default documented."),
    ("regulatoryauthority", "abbreviation"): ({"x-brainstem-note": "May be omitted from responses when empty."}, "Documented below the table."),
}

# Fields mentioned in the docs text (not in the table) that are added to the schema.
ADDED_FIELDS = {
    "regulatoryauthority": [("comments", {"type": "string", "writeOnly": False},
                             "The page says 'comments' may be omitted when empty but the table lacks it; added like on the other approval-gated models.")],
}

# Model-level notes (docs problems that concern the whole record), copied into x-brainstem-note.
APPROVAL_NOTE = ("Create and update answer with either the record or a '<key>_approval' proposal (SaveEnvelope); "
                 "the docs' create/update examples only show proposals, with varying sets of fields.")
URL_NOTE = ("The docs and the MATLAB tool use the URL segment '{url}'; the Python tool v2 uses '{key}'. "
            "Paths follow the docs, the model key (x-brainstem-model, operationIds, fixtures) follows CONVENTIONS.md.")
MODEL_NOTES = {
    "session": "links is listed in the field table but shown in no example, so its keys and relation routes are "
               "unknown; name_used_in_storage is shown in no example either. Data-storage ordering has its own "
               "endpoint (see SessionDataStorage).",
    "subject": "breeding is listed in the table but shown in no example; the detail example lacks status.",
    "collection": "description and tags are listed in the table but shown in no example.",
    "cohort": "description and tags are listed in the table but shown in no example.",
    "breeding": "Only the detail example shows all fields; list/create/update examples show five.",
    "project_membership_invitation": URL_NOTE.format(url="projectmembershipinvitation", key="project_membership_invitation"),
    "project_group_membership_invitation": URL_NOTE.format(url="projectgroupmembershipinvitation",
                                                           key="project_group_membership_invitation"),
    "group_membership_invitation": URL_NOTE.format(url="groupmembershipinvitation", key="group_membership_invitation"),
    "group_membership_request": URL_NOTE.format(url="groupmembershiprequest", key="group_membership_request"),
    "behavior": "order is shown in no example; notes is missing from the list example.",
    "consumablestock": "Envelope keys contain a space ('consumable stock' / 'consumable stocks'), as documented.",
    "equipment": "Detail and list envelopes use the same key 'equipment'.",
    "species": "Detail and list envelopes use the same key 'species'.",
    "license": "behavioralassays, subjects and procedures are listed in the table but shown in no example.",
    "group": "The MATLAB tool sends groups to the 'auth' app; the docs and the Python tool use 'users'. Paths follow the docs.",
    "user": "No create operation: accounts are made through the website registration form. Delete is admin-only.",
    "subjectlog": "The remove_entry example omits user.",
}

# Models whose create/update go through approvals (documented notes + approval endpoints).
APPROVAL_MODELS = ["consumable", "hardwaredevice", "supplier", "behavioralcategory", "behavioralparadigm",
                   "regulatoryauthority", "setuptype", "species", "strain", "journal"]

SECTION_KIND = {
    "List view": "list", "Add": "create", "Detail": "retrieve", "Change": "partial_update", "Delete": "destroy",
    "List approvals": "approval_list", "Detail approval": "approval_retrieve",
    "Accept approval": "approval_accept", "Reject approval": "approval_reject",
    "Accept": "accept", "Reject": "reject", "Cancel": "cancel", "Join": "join", "Leave": "leave",
    "Add entry": "add_entry", "Change entry": "change_entry", "Remove entry": "remove_entry",
}
FIXTURE_NAME = {
    "list": "list", "create": "create", "retrieve": "detail", "partial_update": "update",
    "approval_list": "approval_list", "approval_retrieve": "approval_detail",
    "add_entry": "add_entry", "change_entry": "change_entry", "remove_entry": "remove_entry",
}

# ----------------------------------------------------------------------------
# Field heuristics
# ----------------------------------------------------------------------------


def _related_for(key: str, field: str):
    return RELATED_BY_MODEL.get((key, field)) or RELATED.get(field)


def _id_kind(model_ref: str) -> str:
    row = MODEL_REF.get(model_ref)
    return row[5] if row else "uuid"


def field_schema(key: str, name: str, desc: str, options: dict, example_values: list) -> dict:
    d = desc.lower()
    s: dict = {}
    if name == "id":
        s = {"type": "integer"} if "integer" in d else {"type": "string", "format": "uuid"}
        s["readOnly"] = True
        return s
    rel = _related_for(key, name)
    is_list_example = any(isinstance(v, list) for v in example_values)
    if name == "extra_fields":
        s = {"$ref": "#/components/schemas/ExtraFields"}
    elif name == "download_links":
        s = {"type": "array", "items": {"$ref": "#/components/schemas/DownloadLink"}}
    elif name == "tags":
        s = {"type": "array", "items": {"type": "string"}}
    elif name == "links":
        s = {"type": "object", "additionalProperties": {"type": "string"}}
    elif name in ("details", "coordinates_details"):
        s = {"type": "object"}
    elif rel:
        idk = _id_kind(rel)
        item = {"type": "integer"} if idk == "integer" or "integer" in d else {"type": "string", "format": "uuid"}
        if d.startswith("list") or "list of" in d or "id(s)" in d or is_list_example:
            s = {"type": "array", "items": item}
            if "at least one" in d:
                s["minItems"] = 1
        else:
            s = dict(item)
        s["x-brainstem-related"] = rel
    elif "boolean" in d:
        s = {"type": "boolean"}
    elif "date-time" in d or "date and time" in d or "iso 8601" in d:
        s = {"type": "string", "format": "date-time"}
    elif re.search(r"\bdate\b", d):
        s = {"type": "string", "format": "date"}
    elif "integer" in d:
        s = {"type": "integer"}
        if "positive" in d:
            s["minimum"] = 1
    elif "json" in d or "dictionary" in d:
        s = {"type": "array", "items": {"type": "object"}} if "array" in d or "list of" in d else {"type": "object"}
    else:
        s = {"type": "string"}
    m = re.search(r"max length:\s*(\d+)", d) or re.search(r"max (\d+) characters", d)
    if m and s.get("type") == "string":
        s["maxLength"] = int(m.group(1))
    quoted = re.match(r'string with ((?:`"[^"`]+"`(?:,\s*or\s+|,\s*|\s+or\s+)?)+)', desc)
    if quoted:
        s["enum"] = re.findall(r'`"([^"`]+)"`', quoted.group(1))
    choices = re.search(r"choices:\s*(.*)$", desc, re.I)
    if choices:
        s["enum"] = re.findall(r"`([^`]+)`", choices.group(1))
    if name in options:
        s["enum"] = [v for v, _ in options[name]]
        s["x-brainstem-enum-labels"] = {v: lbl for v, lbl in options[name]}
    if "read-only" in d:
        s["readOnly"] = True
    if "must be unique" in d:
        s["x-brainstem-unique"] = True
    return s


def is_required_on_create(desc: str) -> bool:
    return "**[required" in desc


# ----------------------------------------------------------------------------
# Examples -> records
# ----------------------------------------------------------------------------


def collect_examples(page: dict, key: str):
    """Returns list of dicts {kind, section, envelope_key, body, records(list), repairs}."""
    out = []
    for sec in page["sections"]:
        kind = SECTION_KIND.get(sec["name"])
        for i, ex in enumerate(sec["examples"]):
            body, repairs = parse_literal(ex["raw"])
            (env_key, payload), = body.items()
            records = payload if isinstance(payload, list) else [payload]
            out.append({"kind": kind, "section": sec["name"], "envelope_key": env_key, "body": body,
                        "records": records, "repairs": repairs, "many": isinstance(payload, list), "index": i})
    return out


# ----------------------------------------------------------------------------
# Builders
# ----------------------------------------------------------------------------


def _apply_patch(target: dict, patch: dict):
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = copy.deepcopy(v)


def _nullable(schema: dict) -> dict:
    """Make a property nullable; a bare $ref is wrapped in allOf (OpenAPI 3.0 ignores $ref siblings)."""
    if "$ref" in schema:
        ref = schema.pop("$ref")
        schema["allOf"] = [{"$ref": ref}]
    schema["nullable"] = True
    return schema


def build_model(row, page, type_enums, decisions_log):
    key, app, _file, url, name, idk, desc = row
    options = page["options"]
    examples = collect_examples(page, key)
    model_examples = [e for e in examples if not e["envelope_key"].endswith("_approval")
                      and not e["envelope_key"].endswith("_approvals")]
    values = {}
    for e in model_examples:
        for r in e["records"]:
            for k, v in r.items():
                values.setdefault(k, []).append(v)

    props = {}
    required = []
    field_rows = list(page["fields"])
    notes = []
    for fname, fdesc in field_rows:
        s = field_schema(key, fname, fdesc, options, values.get(fname, []))
        if is_required_on_create(fdesc) and not s.get("readOnly"):
            required.append(fname)
        props[fname] = s
    for fname, s, reason in ADDED_FIELDS.get(key, []):
        s = {k: v for k, v in s.items() if k != "writeOnly"}
        s["x-brainstem-note"] = reason
        props[fname] = s
        decisions_log.append((name, fname, reason))
    # type enums from the api/schemas quick maps (placeholder form; details merge may replace)
    for group, tag, content in DETAILS_GROUPS.get(key, []):
        if tag in props and type_enums.get(group):
            props[tag]["enum"] = list(type_enums[group])
            props[tag]["x-brainstem-details-group"] = group
    # explicit decisions
    for (mk, fname), (patch, reason) in DECISIONS.items():
        if mk != key:
            continue
        if fname not in props:
            raise SystemExit(f"decision for unknown field {key}.{fname}")
        _apply_patch(props[fname], patch)
        note = props[fname].get("x-brainstem-note")
        if not note and reason and patch:
            props[fname]["x-brainstem-note"] = reason
        decisions_log.append((name, fname, reason))
    # nullability from examples
    for fname, vals in values.items():
        if fname in props and any(v is None for v in vals) and not props[fname].get("nullable"):
            _nullable(props[fname])
            if "nullable" not in str(DECISIONS.get((key, fname), "")):
                pass
    # optional to-one relations are null when unset
    for fname, s in props.items():
        if fname != "id" and s.get("x-brainstem-related") and s.get("type") in ("string", "integer") \
                and fname not in required and not s.get("nullable"):
            s["nullable"] = True
    # OpenAPI 3.0 ignores siblings of $ref: wrap such properties in allOf
    for fname, sch in props.items():
        if "$ref" in sch and any(not k.startswith("x-") for k in sch if k != "$ref"):
            ref = sch.pop("$ref")
            props[fname] = dict({"allOf": [{"$ref": ref}]}, **sch)
    # links: record documented link names
    link_names = sorted({k for v in values.get("links", []) if isinstance(v, dict) for k in v})
    if "links" in props:
        props["links"]["readOnly"] = True
        if link_names:
            props["links"]["x-brainstem-links"] = link_names
        else:
            props["links"]["x-brainstem-note"] = "No example shows this object, so its keys (and relation routes) are undocumented."
    # extra fields from examples that are missing in the table
    for fname in values:
        if fname not in props:
            raise SystemExit(f"{key}: example field {fname!r} not in table; add a decision")
    # response-required: fields present in every example record
    present = None
    for e in model_examples:
        for r in e["records"]:
            present = set(r) if present is None else present & set(r)
    present = present or set()
    resp_required = [f for f in props if f in present]
    ro_required = [f for f in resp_required if props[f].get("readOnly")]
    req = [f for f in props if f in required or f in ro_required]
    # envelope keys
    one = many = None
    for e in model_examples:
        if e["many"] and many is None:
            many = e["envelope_key"]
        if not e["many"] and one is None:
            one = e["envelope_key"]
    schema = {
        "type": "object",
        "description": desc,
        "x-brainstem-model": f"{app}/{key}",
        "x-brainstem-envelope": {"one": one, "many": many},
        "x-brainstem-id": idk,
        "required": req,
        "x-brainstem-response-required": resp_required,
        "properties": props,
    }
    if key in LOADERS:
        inc, flt = LOADERS[key]
        schema["x-brainstem-loader"] = {"default_include": inc, "filters": flt}
        missing = sorted({v.split(".")[0] for v in flt.values()} - set(props))
        missing += sorted(set(inc) - set(props))
        if missing:
            notes.append("The official Python loader uses filter/include keys that are not documented fields of "
                         f"this model: {', '.join(missing)}; kept verbatim.")
    repairs = sorted({r.split(" before line")[0] for e in examples for r in e["repairs"]})
    if repairs:
        notes.append("Docs examples needed syntax repairs (" + "; ".join(repairs) + "); the fixtures are strict JSON.")
    if key in MODEL_NOTES:
        notes.insert(0, MODEL_NOTES[key])
    if key in APPROVAL_MODELS:
        notes.insert(0, APPROVAL_NOTE)
    if notes:
        schema["x-brainstem-note"] = " ".join(notes)
    return schema, examples


def build_approval(row, model_schema, examples):
    key, app, _f, url, name, idk, _d = row
    props = {}
    for f, s in model_schema["properties"].items():
        if s.get("readOnly") and f != "id":
            continue
        props[f] = copy.deepcopy(s)
    props["instance_id"] = {"type": "string", "format": "uuid", "nullable": True, "readOnly": True,
                            "x-brainstem-related": f"{app}/{key}",
                            "description": "Record the proposal changes; null for proposals that add a record."}
    props["action"] = {"type": "string", "enum": ["Add", "Change", "Delete"], "readOnly": True,
                       "x-brainstem-note": "Examples show Add and Change; Delete assumed for deletion proposals."}
    props["reviewer"] = {"type": "integer", "nullable": True, "readOnly": True, "x-brainstem-related": "users/user",
                         "description": "User who reviewed the proposal, null while pending."}
    props["status"] = {"type": "string", "enum": ["Pending", "Accepted", "Rejected"], "readOnly": True}
    appr = [e for e in examples if e["envelope_key"].endswith("_approval") or e["envelope_key"].endswith("_approvals")]
    present = None
    for e in appr:
        for r in e["records"]:
            for k, v in r.items():
                if k not in props:
                    raise SystemExit(f"{key} approval example field {k!r} unknown")
                if v is None and not props[k].get("nullable"):
                    _nullable(props[k])
            present = set(r) if present is None else present & set(r)
    present = present or set()
    resp_required = [f for f in props if f in present]
    one = many = None
    for e in appr:
        if e["many"] and many is None:
            many = e["envelope_key"]
        if not e["many"] and one is None:
            one = e["envelope_key"]
    create_req = [f for f in model_schema["required"] if not model_schema["properties"][f].get("readOnly")]
    req = [f for f in props if f in create_req or (f in resp_required and props[f].get("readOnly"))]
    schema = {
        "type": "object",
        "description": f"A proposed addition or change of a {name} record awaiting review.",
        "x-brainstem-approval-for": f"{app}/{key}",
        "x-brainstem-id": "uuid",
        "required": req,
        "x-brainstem-response-required": resp_required,
        "properties": props,
    }
    meta = {"model": f"{app}/{url}approval", "schema": f"{name}Approval", "one": one, "many": many}
    return schema, meta


def shared_schemas():
    return {
        "ExtraFields": {
            "type": "object", "x-brainstem-shared": True,
            "description": "Free key/value metadata; values are strings or numbers.",
            "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "x-brainstem-key-pattern": "^[A-Za-z][A-Za-z0-9_]*$",
        },
        "DownloadLink": {
            "type": "object", "x-brainstem-shared": True, "description": "Where the data or code can be downloaded.",
            "required": ["repository", "url"],
            "properties": {
                "repository": {"type": "string", "enum": ["CRCNS", "DANDI", "Figshare", "GitHub", "Globus",
                                                          "Mendeley", "Zenodo", "Webshare", "Other"]},
                "url": {"type": "string", "pattern": "^(https?|ftp)://"},
            },
        },
        "ProjectMemberPermissions": {
            "type": "object", "x-brainstem-shared": True,
            "description": "Permissions of one user or group on a project. Missing flags default to false on update; "
                           "send remove: true to drop the member.",
            "x-brainstem-response-required": ["can_change", "is_manager", "is_owner"],
            "x-brainstem-note": "No `required`: PATCH bodies send partial flag sets or only remove: true; "
                                "responses always carry the three flags.",
            "properties": {
                "can_change": {"type": "boolean"}, "is_manager": {"type": "boolean"},
                "is_owner": {"type": "boolean"}, "remove": {"type": "boolean", "writeOnly": True},
            },
        },
        "GroupMemberPermissions": {
            "type": "object", "x-brainstem-shared": True,
            "description": "Flags of one member of a group; send remove: true to drop the member.",
            "x-brainstem-response-required": ["is_manager", "is_owner"],
            "x-brainstem-note": "No `required`: PATCH bodies send partial flag sets or only remove: true.",
            "properties": {"is_manager": {"type": "boolean"}, "is_owner": {"type": "boolean"},
                           "remove": {"type": "boolean", "writeOnly": True}},
        },
        "OwnedGroup": {
            "type": "object", "x-brainstem-shared": True, "description": "A group owned by the user.",
            "required": ["id", "name"],
            "properties": {"id": {"type": "integer", "x-brainstem-related": "users/group"}, "name": {"type": "string"}},
        },
        "ProcedureLogEntry": {
            "type": "object", "x-brainstem-shared": True,
            "description": "One time-stamped entry of a procedure log as returned; date_time identifies the entry.",
            "required": ["date_time", "notes", "details"],
            "x-brainstem-response-required": ["date_time", "notes", "details"],
            "x-brainstem-note": "notes and details are always returned (notes may be null), so both are required "
                                "here; the add_entry body uses ProcedureLogEntryInput where only date_time is required.",
            "properties": {"date_time": {"type": "string", "format": "date-time"},
                           "notes": {"type": "string", "nullable": True},
                           "details": {"type": "object"}},
        },
        "ProcedureLogEntryInput": {
            "type": "object", "x-brainstem-shared": True,
            "description": "Body of a procedure log's add_entry: a new entry (date_time required).",
            "required": ["date_time"],
            "properties": {"date_time": {"type": "string", "format": "date-time"},
                           "notes": {"type": "string", "nullable": True},
                           "details": {"type": "object"}},
        },
        "SubjectLogEntry": {
            "type": "object", "x-brainstem-shared": True,
            "description": "One entry of a subject log as returned: instantaneous (date_time) or interval "
                           "(start_date_time/end_date_time, for Housing, FoodDeprivation, WaterDeprivation, "
                           "Habituation, Handling, TrainingSession).",
            "x-brainstem-note": "Both documented entry shapes are merged; exactly one of date_time or the "
                                "start/end pair is present. notes and details are always returned (notes may be null).",
            "required": ["notes", "details"],
            "x-brainstem-response-required": ["notes", "details"],
            "properties": {"date_time": {"type": "string", "format": "date-time"},
                           "start_date_time": {"type": "string", "format": "date-time"},
                           "end_date_time": {"type": "string", "format": "date-time"},
                           "notes": {"type": "string", "nullable": True},
                           "details": {"type": "object"}},
        },
        "SubjectLogEntryInput": {
            "type": "object", "x-brainstem-shared": True,
            "description": "Body of a subject log's add_entry: date_time for instantaneous logs, "
                           "start_date_time and end_date_time for interval logs.",
            "properties": {"date_time": {"type": "string", "format": "date-time"},
                           "start_date_time": {"type": "string", "format": "date-time"},
                           "end_date_time": {"type": "string", "format": "date-time"},
                           "notes": {"type": "string", "nullable": True},
                           "details": {"type": "object"}},
        },
        "LogEntryChange": {
            "type": "object", "x-brainstem-shared": True,
            "description": "Body of change_entry: the key of the entry plus the fields to change.",
            "x-brainstem-note": "Entries are addressed by date_time (instantaneous) or start_date_time (interval); "
                                "the docs only show date_time.",
            "properties": {"date_time": {"type": "string", "format": "date-time"},
                           "start_date_time": {"type": "string", "format": "date-time"},
                           "end_date_time": {"type": "string", "format": "date-time"},
                           "notes": {"type": "string", "nullable": True},
                           "details": {"type": "object"}},
        },
        "LogEntryKey": {
            "type": "object", "x-brainstem-shared": True,
            "description": "Body of remove_entry: identifies the entry to delete.",
            "x-brainstem-note": "The docs only show date_time; start_date_time is assumed for interval entries.",
            "properties": {"date_time": {"type": "string", "format": "date-time"},
                           "start_date_time": {"type": "string", "format": "date-time"}},
        },
        "DataOrganizationElement": {
            "type": "object", "x-brainstem-shared": True,
            "description": "One level of the folder organization of a data storage.",
            "required": ["elements"],
            "properties": {"elements": {"type": "string"}},
        },
        "DataProtocol": {
            "type": "object", "x-brainstem-shared": True,
            "description": "One way to access a data storage.",
            "required": ["protocol", "path", "is_public"],
            "properties": {"protocol": {"type": "string"}, "path": {"type": "string"}, "is_public": {"type": "boolean"}},
        },
        "SetupSpecification": {
            "type": "object", "x-brainstem-shared": True,
            "description": "One named specification of a setup.",
            "required": ["name", "value"],
            "properties": {"name": {"type": "string"},
                           "value": {"oneOf": [{"type": "string"}, {"type": "number"}]},
                           "description": {"type": "string"}},
        },
        "ExternalIdentifier": {
            "type": "object", "x-brainstem-shared": True, "additionalProperties": True,
            "description": "A cross-reference to an external database (source, identifier, optional URL).",
            "x-brainstem-note": "The data-model page lists Source, Identifier and URL columns but not their JSON keys; "
                                "kept free-form.",
        },
        "ActionResult": {
            "type": "object", "x-brainstem-shared": True, "additionalProperties": True,
            "description": "Body returned by an action endpoint; its content is not documented.",
        },
        "ApiError": {
            "x-brainstem-shared": True,
            "description": "Error body: a JSON object (e.g. {\"detail\": ...} or field -> messages) or a JSON list of messages.",
            "oneOf": [{"type": "object", "additionalProperties": True}, {"type": "array", "items": {}}],
        },
        "DeviceAuthorizationRequest": {
            "type": "object", "x-brainstem-shared": True,
            "description": "Starts a device sign-in; client_name labels the token being requested.",
            "properties": {"client_name": {"type": "string"}},
        },
        "DeviceAuthorization": {
            "type": "object", "x-brainstem-shared": True,
            "description": "A started device sign-in: the codes to show and the URL the user must open.",
            "required": ["device_code", "verification_uri_complete"],
            "properties": {
                "device_code": {"type": "string"}, "user_code": {"type": "string"},
                "verification_uri": {"type": "string", "format": "uri"},
                "verification_uri_complete": {"type": "string", "format": "uri"},
                "interval": {"type": "integer", "minimum": 1, "description": "Seconds between polls (5 when absent)."},
                "expires_in": {"type": "integer", "description": "Seconds until the device code expires."},
                "session_id": {"type": "string"},
            },
        },
        "DeviceTokenRequest": {
            "type": "object", "x-brainstem-shared": True, "required": ["device_code"],
            "description": "Poll body for the device sign-in.",
            "properties": {"device_code": {"type": "string"}},
        },
        "DeviceTokenPending": {
            "type": "object", "x-brainstem-shared": True, "required": ["status"],
            "description": "The user has not approved yet; poll again after the interval.",
            "properties": {"status": {"type": "string", "enum": ["authorization_pending"]}},
        },
        "DeviceTokenSuccess": {
            "type": "object", "x-brainstem-shared": True, "required": ["status", "token"],
            "description": "The user approved; token is the personal access token.",
            "properties": {"status": {"type": "string", "enum": ["success"]}, "token": {"type": "string"}},
        },
        "DeviceTokenError": {
            "type": "object", "x-brainstem-shared": True, "required": ["error"],
            "description": "The sign-in ended without a token.",
            "properties": {"error": {"type": "string", "enum": ["access_denied", "expired_token", "already_used"]}},
        },
        "DeviceTokenResponse": {
            "x-brainstem-shared": True,
            "description": "Poll result; always HTTP 200, distinguished by status/error.",
            "x-brainstem-note": "Branches ordered most-specific first (success needs token, error needs error) "
                                "so an untagged decoder picks the right one.",
            "oneOf": [{"$ref": "#/components/schemas/DeviceTokenSuccess"},
                      {"$ref": "#/components/schemas/DeviceTokenError"},
                      {"$ref": "#/components/schemas/DeviceTokenPending"}],
        },
    }


SESSION_DATA_STORAGE = {
    "type": "object",
    "description": "Ordered link between a session and a data storage (through table).",
    "x-brainstem-model": "stem/sessiondatastorage",
    "x-brainstem-envelope": {"one": "session_data_storage", "many": "session_data_storages"},
    "x-brainstem-id": "uuid",
    "x-brainstem-undocumented": True,
    "x-brainstem-note": "Only the URL and purpose are documented (session page). Fields, envelope keys and "
                        "operations are inferred: a through record with session, datastorage and order.",
    "required": ["id", "session", "datastorage"],
    "x-brainstem-response-required": ["id", "session", "datastorage"],
    "properties": {
        "id": {"type": "string", "format": "uuid", "readOnly": True},
        "session": {"type": "string", "format": "uuid", "x-brainstem-related": "stem/session"},
        "datastorage": {"type": "string", "format": "uuid", "x-brainstem-related": "personal_attributes/datastorage"},
        "order": {"type": "integer", "minimum": 0,
                  "x-brainstem-note": "Position of the data storage in the session's list (assumed)."},
    },
}


# ----------------------------------------------------------------------------
# Operations
# ----------------------------------------------------------------------------

def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema):
    return {"application/json": {"schema": schema}}


ERR = {"4XX": {"$ref": "#/components/responses/ApiError"}}


def _portal_param(portals):
    return {"name": "portal", "in": "path", "required": True,
            "schema": {"type": "string", "enum": list(portals)}}


def _id_param(idk):
    schema = {"type": "integer"} if idk == "integer" else {"type": "string", "format": "uuid"}
    return {"name": "id", "in": "path", "required": True, "schema": schema}


LIST_PARAMS = [
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100},
     "description": "Page size (server default 20, maximum 100)."},
    {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0},
     "description": "Number of records to skip."},
    {"name": "query", "in": "query", "required": False, "style": "form", "explode": True,
     "schema": {"type": "object", "additionalProperties": {"type": "string"}},
     "description": "dynamic-rest keys: filter{field[.op]}, sort[], include[]."},
]


def _doc_statuses(facts):
    return [c for c, _ in facts.get("responses", [])]


def build_operations(rows_models, pages, approvals, op_log):
    paths: dict = {}

    def add(path, method, op):
        paths.setdefault(path, {})
        if method in paths[path]:
            raise SystemExit(f"duplicate {method} {path}")
        op["responses"].update(copy.deepcopy(ERR))
        paths[path][method] = op
        op_log.append(op)

    for row in MODELS:
        key, app, _f, url, name, idk, _d = row
        page = pages[key]
        sch = rows_models[name]
        many_name = sch["x-brainstem-envelope"]["many"]
        coll = f"/api/{{portal}}/{app}/{url}/"
        item = f"/api/{{portal}}/{app}/{url}/{{id}}/"
        approval = approvals.get(key)
        save_env = f"{name}SaveEnvelope" if approval else f"{name}Envelope"
        for sec in page["sections"]:
            kind = SECTION_KIND.get(sec["name"])
            facts = sec["facts"]
            if not kind or "method" not in facts:
                continue
            portals = facts.get("portals", ["private"])
            method = facts["method"].lower()
            statuses = _doc_statuses(facts)
            ok = str(statuses[0]) if statuses else "200"
            base = {"tags": [app], "x-brainstem-model": f"{app}/{key}", "x-brainstem-documented-status": statuses}
            if kind == "list":
                add(coll, method, dict(base, operationId=f"{key}_list", summary=f"List {name} records",
                                       parameters=[_portal_param(portals)] + copy.deepcopy(LIST_PARAMS),
                                       responses={ok: {"description": "A page of records.",
                                                       "content": _json(_ref(f"{name}ListEnvelope"))}}))
            elif kind == "create":
                add(coll, method, dict(base, operationId=f"{key}_create", summary=f"Create a {name}",
                                       parameters=[_portal_param(portals)],
                                       requestBody={"required": True, "content": _json(_ref(name))},
                                       responses={ok: {"description": "The created record" + (
                                           " or the approval proposal." if approval else "."),
                                           "content": _json(_ref(save_env))}}))
            elif kind == "retrieve":
                add(item, method, dict(base, operationId=f"{key}_retrieve", summary=f"Get one {name}",
                                       parameters=[_portal_param(portals), _id_param(idk)],
                                       responses={ok: {"description": "The record.",
                                                       "content": _json(_ref(f"{name}Envelope"))}}))
            elif kind == "partial_update":
                verb = "update" if method == "put" else "partial_update"
                op = dict(base, operationId=f"{key}_{verb}", summary=f"Update fields of a {name}",
                          parameters=[_portal_param(portals), _id_param(idk)],
                          requestBody={"required": True, "content": _json(_ref(name))},
                          responses={ok: {"description": "The updated record" + (
                              " or the approval proposal." if approval else "."),
                              "content": _json(_ref(save_env))}})
                if method == "patch":
                    op["requestBody"]["x-brainstem-body"] = "patch"
                add(item, method, op)
            elif kind == "destroy":
                add(item, method, dict(base, operationId=f"{key}_destroy", summary=f"Delete a {name}",
                                       parameters=[_portal_param(portals), _id_param(idk)],
                                       responses={ok: {"description": "Deleted."}}))
            elif kind.startswith("approval_"):
                meta = approval
                amodel = meta["model"]
                aurl = amodel.split("/")[1]
                acoll = f"/api/{{portal}}/{app}/{aurl}/"
                aitem = f"/api/{{portal}}/{app}/{aurl}/{{id}}/"
                abase = dict(base, **{"x-brainstem-model": amodel})
                sub = kind[len("approval_"):]
                opid = f"{aurl}_{sub}"
                if sub == "list":
                    add(acoll, method, dict(abase, operationId=opid, summary=f"List {name} approval proposals",
                                            parameters=[_portal_param(portals)] + copy.deepcopy(LIST_PARAMS),
                                            responses={ok: {"description": "A page of proposals.",
                                                            "content": _json(_ref(f"{name}ApprovalListEnvelope"))}}))
                elif sub == "retrieve":
                    add(aitem, method, dict(abase, operationId=opid, summary=f"Get one {name} approval proposal",
                                            parameters=[_portal_param(portals), _id_param("uuid")],
                                            responses={ok: {"description": "The proposal.",
                                                            "content": _json(_ref(f"{name}ApprovalEnvelope"))}}))
                else:
                    add(aitem + f"{sub}/", method, dict(
                        abase, operationId=opid, summary=f"{sub.capitalize()} a {name} approval proposal",
                        **{"x-brainstem-action": sub},
                        parameters=[_portal_param(portals), _id_param("uuid")],
                        responses={ok: {"description": "Done; the body is not documented.",
                                        "content": _json(_ref("ActionResult"))}}))
            elif kind in ("accept", "reject", "cancel", "join", "leave"):
                add(item + f"{kind}/", method, dict(
                    base, operationId=f"{key}_{kind}", summary=f"{kind.capitalize()} ({name})",
                    **{"x-brainstem-action": kind},
                    parameters=[_portal_param(portals), _id_param(idk)],
                    responses={ok: {"description": "Done; the body is not documented.",
                                    "content": _json(_ref("ActionResult"))}}))
            elif kind in ("add_entry", "change_entry", "remove_entry"):
                entry = "ProcedureLogEntryInput" if key == "procedurelog" else "SubjectLogEntryInput"
                body = {"add_entry": entry, "change_entry": "LogEntryChange", "remove_entry": "LogEntryKey"}[kind]
                add(item + f"{kind}/", method, dict(
                    base, operationId=f"{key}_{kind}", summary=f"{kind.replace('_', ' ').capitalize()} of a {name}",
                    **{"x-brainstem-action": kind},
                    parameters=[_portal_param(portals), _id_param(idk)],
                    requestBody={"required": True, "content": _json(_ref(body))},
                    responses={ok: {"description": "The log with its updated entries.",
                                    "content": _json(_ref(f"{name}Envelope"))}}))
        # relation routes from documented links
        links = sch["properties"].get("links", {}).get("x-brainstem-links", [])
        detail_portals = next((s["facts"].get("portals") for s in page["sections"]
                               if SECTION_KIND.get(s["name"]) == "retrieve"), ["private"])
        for rel in links:
            target = sch["properties"][rel]["x-brainstem-related"]
            tname = MODEL_REF[target][4]
            add(item + f"{rel}/", "get", {
                "tags": [app], "x-brainstem-model": f"{app}/{key}",
                "x-brainstem-relation": {"field": rel, "target": target},
                "operationId": f"{key}_{rel}_list", "summary": f"List the {rel} of a {name}",
                "parameters": [_portal_param(detail_portals), _id_param(idk)] + copy.deepcopy(LIST_PARAMS),
                "responses": {"200": {"description": "A page of related records.",
                                      "content": _json(_ref(f"{tname}ListEnvelope"))}},
                "x-brainstem-note": "Path taken from the record's documented links object; response shape assumed "
                                    "to be the target's list envelope.",
            })
    # session data storage (undocumented fields)
    sds_c = "/api/{portal}/stem/sessiondatastorage/"
    sds_i = "/api/{portal}/stem/sessiondatastorage/{id}/"
    sbase = {"tags": ["stem"], "x-brainstem-model": "stem/sessiondatastorage",
             "x-brainstem-note": "Endpoint documented only by URL on the session page; shape inferred."}
    add(sds_c, "get", dict(copy.deepcopy(sbase), operationId="sessiondatastorage_list",
                           summary="List session/data-storage links",
                           parameters=[_portal_param(["private"])] + copy.deepcopy(LIST_PARAMS),
                           responses={"200": {"description": "A page of links.",
                                              "content": _json(_ref("SessionDataStorageListEnvelope"))}}))
    add(sds_c, "post", dict(copy.deepcopy(sbase), operationId="sessiondatastorage_create",
                            summary="Attach a data storage to a session at a position",
                            parameters=[_portal_param(["private"])],
                            requestBody={"required": True, "content": _json(_ref("SessionDataStorage"))},
                            responses={"201": {"description": "The created link.",
                                               "content": _json(_ref("SessionDataStorageEnvelope"))}}))
    add(sds_i, "get", dict(copy.deepcopy(sbase), operationId="sessiondatastorage_retrieve",
                           summary="Get one session/data-storage link",
                           parameters=[_portal_param(["private"]), _id_param("uuid")],
                           responses={"200": {"description": "The link.",
                                              "content": _json(_ref("SessionDataStorageEnvelope"))}}))
    add(sds_i, "patch", dict(copy.deepcopy(sbase), operationId="sessiondatastorage_partial_update",
                             summary="Move a data storage within a session's list",
                             parameters=[_portal_param(["private"]), _id_param("uuid")],
                             requestBody={"required": True, "content": _json(_ref("SessionDataStorage")),
                                          "x-brainstem-body": "patch"},
                             responses={"200": {"description": "The updated link.",
                                                "content": _json(_ref("SessionDataStorageEnvelope"))}}))
    add(sds_i, "delete", dict(copy.deepcopy(sbase), operationId="sessiondatastorage_destroy",
                              summary="Detach a data storage from a session",
                              parameters=[_portal_param(["private"]), _id_param("uuid")],
                              responses={"204": {"description": "Deleted."}}))
    # device authorization
    add("/api/auth/device/", "post", {
        "tags": ["auth"], "x-brainstem-model": "auth/device", "operationId": "auth_device_create",
        "summary": "Start a browser-based device sign-in", "security": [],
        "requestBody": {"required": False, "content": _json(_ref("DeviceAuthorizationRequest"))},
        "responses": {"200": {"description": "Codes and verification URLs.",
                              "content": _json(_ref("DeviceAuthorization"))}},
        "x-brainstem-note": "Success status not documented; the official tools only require a 2xx. "
                            "session_id appears in the API overview, the other keys in the official tools.",
    })
    add("/api/auth/device/token/", "post", {
        "tags": ["auth"], "x-brainstem-model": "auth/device", "operationId": "auth_device_token",
        "summary": "Poll a device sign-in for its token", "security": [],
        "requestBody": {"required": True, "content": _json(_ref("DeviceTokenRequest"))},
        "responses": {"200": {"description": "Pending, success or error (always HTTP 200).",
                              "content": _json(_ref("DeviceTokenResponse"))}},
    })
    return paths


def envelopes(name, meta_one, meta_many, target):
    return {
        f"{name}Envelope": {"type": "object", "x-brainstem-shared": True, "required": [meta_one],
                            "properties": {meta_one: _ref(target)}},
        f"{name}ListEnvelope": {
            "type": "object", "x-brainstem-shared": True, "required": [meta_many],
            "properties": {meta_many: {"type": "array", "items": _ref(target)},
                           "count": {"type": "integer", "minimum": 0},
                           "next": {"type": "string", "format": "uri", "nullable": True},
                           "previous": {"type": "string", "format": "uri", "nullable": True},
                           "meta": {"type": "object", "additionalProperties": True}},
        },
    }


# ----------------------------------------------------------------------------
# Optional typed-details merge (tools/spec/details.py, owned by another engineer)
# ----------------------------------------------------------------------------

def merge_details(spec: dict, docs: Path, log: list) -> bool:
    """Merge details.py component schemas; return True when merged. Keep this step small."""
    try:
        import details  # type: ignore
        comps = details.details_components(str(docs))
        groups = details.details_groups()
    except Exception as exc:  # absent or failing: keep placeholders
        log.append(f"details merge skipped: {type(exc).__name__}: {exc}")
        return False
    schemas = spec["components"]["schemas"]
    for k, v in comps.items():
        if k in schemas:
            raise SystemExit(f"details.py schema name {k} collides with a model/shared schema")
        schemas[k] = v
    group_names = set(groups) if isinstance(groups, dict) else set()
    for name, sch in schemas.items():
        key = sch.get("x-brainstem-model", "/").split("/")[1]
        entries = []
        for group, tag, content in DETAILS_GROUPS.get(key, []):
            tname = f"{group}Type"
            if tname not in schemas or (group_names and group not in group_names):
                continue
            entries.append({"group": group, "tag": tag, "content": content})
            props = sch["properties"]
            old = props[tag]
            # plain $ref as CONVENTIONS asks; only x- extensions may sit next to it
            new = {"$ref": f"#/components/schemas/{tname}"}
            for k2 in ("x-brainstem-create-only", "x-brainstem-note"):
                if k2 in old:
                    new[k2] = old[k2]
            props[tag] = new
            if content.startswith("entries[]"):
                entry = props["entries"]["items"]["$ref"].split("/")[-1]
                for ename in (entry, f"{entry}Input"):
                    if ename in schemas:
                        schemas[ename]["properties"]["details"]["x-brainstem-details-group"] = group
            else:
                props[content]["x-brainstem-details-group"] = group
        if entries:
            sch["x-brainstem-details"] = entries
    log.append(f"details merged: {len(comps)} schemas")
    return True


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------

def build(docs: Path, with_details: bool = True):
    api = docs / "api"
    type_enums = {g: quick_type_map(api / "schemas" / f"{p}.md") for g, p in GROUP_PAGE.items()}
    pages = {}
    schemas = {}
    decisions_log: list = []
    examples_by_model = {}
    approvals = {}
    approval_schemas = {}
    for row in MODELS:
        key, app, fname = row[0], row[1], row[2]
        page = parse_page(api / app / fname)
        pages[key] = page
        schema, examples = build_model(row, page, type_enums, decisions_log)
        schemas[row[4]] = schema
        examples_by_model[key] = examples
        if key in APPROVAL_MODELS:
            asch, meta = build_approval(row, schema, examples)
            approvals[key] = meta
            approval_schemas[f"{row[4]}Approval"] = asch
            schema["x-brainstem-approval"] = meta
    comps: dict = {}
    for row in MODELS:
        name = row[4]
        comps[name] = schemas[name]
    comps["SessionDataStorage"] = copy.deepcopy(SESSION_DATA_STORAGE)
    comps.update(approval_schemas)
    comps.update(shared_schemas())
    for row in MODELS:
        name = row[4]
        env = schemas[name]["x-brainstem-envelope"]
        comps.update(envelopes(name, env["one"], env["many"], name))
        if row[0] in approvals:
            meta = approvals[row[0]]
            comps.update(envelopes(f"{name}Approval", meta["one"], meta["many"], f"{name}Approval"))
            comps[f"{name}SaveEnvelope"] = {
                "x-brainstem-shared": True,
                "description": "Create/update result: the record itself, or an approval proposal when the change needs review.",
                "oneOf": [_ref(f"{name}Envelope"), _ref(f"{name}ApprovalEnvelope")]}
    comps.update(envelopes("SessionDataStorage", "session_data_storage", "session_data_storages", "SessionDataStorage"))

    op_log: list = []
    paths = build_operations(schemas, pages, approvals, op_log)
    spec = {
        "openapi": "3.0.3",
        "info": {
            "title": "BrainSTEM API",
            "version": SPEC_VERSION,
            "description": "Machine-readable description of the BrainSTEM REST API (www.brainstem.org), "
                           "drafted from the public support documentation by tools/spec/draft.py.",
            "x-brainstem-docs-revision": DOCS_REVISION,
        },
        "servers": [{"url": "https://www.brainstem.org"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": a} for a in APP_ORDER] + [{"name": "auth"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "Personal access token."}},
            "responses": {"ApiError": {"description": "Client error (400, 401, 403, 404, ...).",
                                       "content": _json(_ref("ApiError"))}},
            "schemas": comps,
        },
    }
    merge_log: list = []
    if with_details:
        merge_details(spec, docs, merge_log)
    describe_log = describe_properties(spec)
    _drop_empty_required(spec)
    return spec, {"decisions": decisions_log, "examples": examples_by_model, "pages": pages,
                  "merge": merge_log, "ops": op_log, "describe": describe_log}


def describe_properties(spec: dict) -> dict:
    """Own-words descriptions of every property (tools/spec/descriptions.py) and the docs page
    of every model, approval and details schema (x-brainstem-docs-url)."""
    import descriptions
    return descriptions.describe(spec, MODELS, GROUP_PAGE)


def _drop_empty_required(node):
    """OpenAPI 3.0 requires `required` to be non-empty when present."""
    if isinstance(node, dict):
        if node.get("required") == [] and "properties" in node or node.get("required") == [] and node.get("type") == "object":
            del node["required"]
        for v in node.values():
            _drop_empty_required(v)
    elif isinstance(node, list):
        for v in node:
            _drop_empty_required(v)


def counts(spec):
    schemas = spec["components"]["schemas"]
    models = [s for s in schemas.values() if "x-brainstem-model" in s and not s.get("x-brainstem-undocumented")]
    fields = sum(len(s["properties"]) for s in models)
    by_kind: dict = {}
    total = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            total += 1
            oid = op["operationId"]
            if "x-brainstem-relation" in op:
                k = "relation"
            elif op["x-brainstem-model"].endswith("approval"):
                k = "approval"
            elif "x-brainstem-action" in op:
                k = "action"
            elif oid.startswith("auth_"):
                k = "auth"
            elif oid.startswith("sessiondatastorage_"):
                k = "sessiondatastorage"
            else:
                k = oid.rsplit("_", 1)[-1] if not oid.endswith("partial_update") else "partial_update"
            by_kind[k] = by_kind.get(k, 0) + 1
    return {"models": len(models), "fields": fields, "operations": total, "by_kind": dict(sorted(by_kind.items()))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("docs", type=Path, help="brainstem-docs folder (contains api/)")
    ap.add_argument("--out", type=Path, default=Path("schema/brainstem.openapi.json"))
    ap.add_argument("--no-details", action="store_true", help="skip the optional details.py merge")
    args = ap.parse_args(argv)
    spec, info = build(args.docs, with_details=not args.no_details)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for line in info["merge"]:
        print(line)
    d = info["describe"]
    print(f"descriptions: {d['filled']} added, {d['kept']} kept, {len(d['fallback'])} from the field name only")
    print(json.dumps(counts(spec)))


if __name__ == "__main__":
    main()
