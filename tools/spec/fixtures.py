#!/usr/bin/env python3
"""Turn every example response of the BrainSTEM model docs into a strict-JSON fixture.

Usage:
    python3 tools/spec/fixtures.py /path/to/brainstem-docs \
        [--spec schema/brainstem.openapi.json] [--out tests/fixtures/models]

For each model page, each example response body becomes
tests/fixtures/models/<model key>/<section>.json (list, create, detail, update, approval_list,
approval_detail, add_entry, change_entry, remove_entry), holding the full envelope as documented,
but:
  * Python literals / single quotes / trailing or missing commas are parsed (draft.py parser);
  * `<id>`-style placeholders become deterministic UUIDs (uuid5), or integers where the spec
    says the field is an integer id;
  * the body is walked against the spec (schema-guided) and brought into agreement with it:
    numbers in `number` positions are spelled as floats, bare numbers where a measured value
    `{value, unit}` is required get the field's default unit, and the other documented-vs-spec
    conflicts listed in CORRECTIONS are fixed. Every change is recorded and written to
    tests/fixtures/models/README.md.
The result is re-validated strictly (unknown keys, wrong types, missing response-required keys
are errors). validate_dir() is reused by check.py.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import uuid
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import draft  # noqa: E402

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://www.brainstem.org/brainstem-rust-sdk/fixtures")
PLACEHOLDER = re.compile(r"^<[A-Za-z_][A-Za-z0-9_-]*>$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Key renames inside typed payloads: component schema -> {documented key: schema key}.
KEY_ALIASES = {
    "CoordinatesStereotaxicBregmaBrainSurfaceDetails": {"surfaceDepth": "depth"},
}
# Tag field of each details group (the field on the record that selects the payload schema).
GROUP_TAG = {g: tag for groups in draft.DETAILS_GROUPS.values() for g, tag, _c in groups}


def pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.split("_") if p)


class Walker:
    """Schema-guided validator; with fix=True it also corrects values and records each change."""

    def __init__(self, spec: dict, fix: bool, label: str = ""):
        self.spec = spec
        self.schemas = spec["components"]["schemas"]
        self.fix = fix
        self.label = label
        self.errors: list[str] = []
        self.corrections: list[tuple[str, str]] = []
        self.stack: list[dict] = []
        self.placeholders: dict = {}
        self.counter = 0

    # -- helpers -----------------------------------------------------------
    def deref(self, sch):
        seen = 0
        while True:
            if "$ref" in sch:
                target = self.schemas[sch["$ref"].split("/")[-1]]
                extra = {k: v for k, v in sch.items() if k != "$ref"}
                sch = dict(target, **extra) if extra else target
            elif "allOf" in sch and len(sch["allOf"]) == 1:
                base = self.deref(sch["allOf"][0])
                extra = {k: v for k, v in sch.items() if k != "allOf"}
                sch = dict(base, **extra)
            else:
                return sch
            seen += 1
            if seen > 20:
                raise RuntimeError("ref loop")

    def err(self, path, msg):
        self.errors.append(f"{self.label}{path}: {msg}")

    def note(self, path, msg):
        self.corrections.append((path, msg))

    def placeholder(self, text: str, as_int: bool):
        if text == "<id>":
            self.counter += 1
            key = f"{self.label}{text}#{self.counter}"
        else:
            if text in self.placeholders:
                val = self.placeholders[text]
                if as_int == isinstance(val, int):
                    return val
            key = f"{self.label}{text}"
        u = uuid.uuid5(NAMESPACE, key)
        val = (u.int % 9000) + 1000 if as_int else str(u)
        if text != "<id>":
            self.placeholders[text] = val
        return val

    def details_schema(self, group: str):
        tag = GROUP_TAG.get(group)
        for rec in reversed(self.stack):
            if tag in rec and isinstance(rec[tag], str):
                name = f"{group}{pascal(rec[tag])}Details"
                return name if name in self.schemas else None
        return None

    # -- walk --------------------------------------------------------------
    def walk(self, value, sch, path="$"):
        sch = self.deref(sch)
        if value is None:
            if sch.get("nullable"):
                return None
            self.err(path, "null but not nullable")
            return value
        if "oneOf" in sch:
            return self.one_of(value, sch, path)
        group = sch.get("x-brainstem-details-group")
        if group and "enum" not in sch and sch.get("type") in ("object", "array"):
            name = self.details_schema(group)
            if name:
                return self.walk(value, {"$ref": f"#/components/schemas/{name}"}, path)
        t = sch.get("type")
        if isinstance(value, str) and PLACEHOLDER.match(value) and t in ("string", "integer"):
            if self.fix:
                return self.placeholder(value, t == "integer")
            self.err(path, f"unreplaced placeholder {value}")
            return value
        if t == "object":
            return self.obj(value, sch, path)
        if t == "array":
            return self.arr(value, sch, path)
        if t == "string":
            return self.string(value, sch, path)
        if t == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                self.err(path, f"expected integer, got {value!r}")
            elif "minimum" in sch and value < sch["minimum"]:
                self.err(path, f"{value} < minimum {sch['minimum']}")
            return value
        if t == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.err(path, f"expected number, got {value!r}")
                return value
            if isinstance(value, int):
                if self.fix:
                    return float(value)  # spelling only; counted, not listed one by one
                self.err(path, f"number spelled as integer ({value}); write {float(value)}")
            return value
        if t == "boolean":
            if not isinstance(value, bool):
                self.err(path, f"expected boolean, got {value!r}")
            return value
        if t is None:
            return value
        self.err(path, f"unsupported schema type {t}")
        return value

    def one_of(self, value, sch, path):
        for branch in sch["oneOf"]:
            trial = Walker(self.spec, self.fix, self.label)
            trial.stack = list(self.stack)
            trial.placeholders = self.placeholders
            trial.counter = self.counter
            out = trial.walk(copy.deepcopy(value), branch, path)
            if not trial.errors:
                self.corrections += trial.corrections
                self.counter = trial.counter
                return out
        self.err(path, f"matches no oneOf branch: {json.dumps(value)[:120]}")
        return value

    def obj(self, value, sch, path):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and sch.get("x-brainstem-quantity"):
            if self.fix:
                unit = (sch.get("default") or {}).get("unit") or sch["properties"]["unit"]["enum"][0]
                self.note(path, f"bare number {value} -> {{value, unit: {unit}}} (measured value with the field's default unit)")
                return {"value": float(value), "unit": unit}
            self.err(path, "bare number where a measured value object is required")
            return value
        if not isinstance(value, dict):
            self.err(path, f"expected object, got {json.dumps(value)[:60]}")
            return value
        props = sch.get("properties")
        addl = sch.get("additionalProperties")
        is_record = "x-brainstem-model" in sch or "x-brainstem-approval-for" in sch
        self.stack.append(value)
        out = {}
        aliases = {}
        for name, cand in KEY_ALIASES.items():
            if cand and self.schemas.get(name) is not None and sch is not None \
                    and sch.get("x-brainstem-schema") == self.schemas[name].get("x-brainstem-schema"):
                aliases = cand
        for k, v in value.items():
            p = f"{path}.{k}"
            if props is not None and k in props:
                psch = self.deref(props[k])
                if v is None and not psch.get("nullable") and self.fix and k not in self._required(sch, is_record):
                    self.note(p, "null for an optional non-nullable field -> key dropped")
                    continue
                if self.fix and psch.get("type") == "array" and k not in self._required(sch, is_record) \
                        and (v == "" or v is None):
                    self.note(p, f"{json.dumps(v)} where a list is expected -> key dropped")
                    continue
                out[k] = self.walk(v, props[k], p)
            elif k in aliases and props is not None and aliases[k] in props:
                if self.fix:
                    self.note(p, f"key renamed to {aliases[k]!r} (schema name of the field)")
                    out[aliases[k]] = self.walk(v, props[aliases[k]], f"{path}.{aliases[k]}")
                else:
                    self.err(p, "documented alias key not renamed")
                    out[k] = v
            elif isinstance(addl, dict):
                out[k] = self.walk(v, addl, p)
            elif addl is True or props is None:
                out[k] = v
            else:
                self.err(p, "key not in schema")
                out[k] = v
        self.stack.pop()
        for r in self._required(sch, is_record):
            if r not in out:
                self.err(path, f"missing required key {r}")
        return out

    @staticmethod
    def _required(sch, is_record):
        if is_record or "x-brainstem-response-required" in sch:
            return sch.get("x-brainstem-response-required", [])
        return [r for r in sch.get("required", [])
                if not (sch.get("properties", {}).get(r, {}).get("writeOnly"))]

    def arr(self, value, sch, path):
        items = sch.get("items", {})
        if isinstance(value, dict) and self.fix:
            isch = self.deref(items)
            ip = isch.get("properties", {})
            if "name" in ip and "value" in ip:
                self.note(path, f"object {json.dumps(value)} -> list of {{name, value}} rows")
                value = [{"name": k, "value": v} for k, v in value.items()]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and self.fix:
            self.note(path, f"scalar {value} where a list is expected -> [{value}]")
            value = [value]
        if not isinstance(value, list):
            self.err(path, f"expected array, got {json.dumps(value)[:60]}")
            return value
        if "minItems" in sch and len(value) < sch["minItems"]:
            self.err(path, f"fewer than {sch['minItems']} items")
        return [self.walk(v, items, f"{path}[{i}]") for i, v in enumerate(value)]

    def string(self, value, sch, path):
        if not isinstance(value, str):
            self.err(path, f"expected string, got {value!r}")
            return value
        fmt = sch.get("format")
        if fmt == "uuid" and not UUID_RE.match(value):
            self.err(path, f"not a uuid: {value!r}")
        elif fmt == "date" and not DATE.match(value):
            self.err(path, f"not a date: {value!r}")
        elif fmt == "date-time" and not DATETIME.match(value):
            self.err(path, f"not a date-time: {value!r}")
        elif fmt == "email" and not EMAIL.match(value):
            self.err(path, f"not an e-mail: {value!r}")
        elif fmt == "uri" and not re.match(r"^[a-z][a-z0-9+.-]*://", value):
            self.err(path, f"not a URI: {value!r}")
        if "enum" in sch and value not in sch["enum"]:
            self.err(path, f"{value!r} not in enum")
        if "maxLength" in sch and len(value) > sch["maxLength"]:
            self.err(path, f"longer than {sch['maxLength']}")
        if "pattern" in sch and not re.search(sch["pattern"], value):
            self.err(path, f"does not match {sch['pattern']}")
        return value


# ----------------------------------------------------------------------------

def envelope_for(spec, key: str, fixture: str, body: dict) -> str:
    schemas = spec["components"]["schemas"]
    name = next(n for n, s in schemas.items() if s.get("x-brainstem-model", "").split("/")[-1] == key)
    if fixture == "list":
        return f"{name}ListEnvelope"
    if fixture == "approval_list":
        return f"{name}ApprovalListEnvelope"
    if fixture == "approval_detail":
        return f"{name}ApprovalEnvelope"
    if fixture in ("create", "update") and f"{name}SaveEnvelope" in schemas:
        return f"{name}SaveEnvelope"
    return f"{name}Envelope"


def validate_body(spec, key, fixture, body):
    env = envelope_for(spec, key, fixture, body)
    w = Walker(spec, fix=False, label=f"{key}/{fixture}.json ")
    w.walk(body, {"$ref": f"#/components/schemas/{env}"})
    return w.errors


def validate_dir(spec, root: Path):
    errs = []
    n = 0
    for f in sorted(root.glob("*/*.json")):
        body = json.loads(f.read_text(encoding="utf-8"))
        errs += validate_body(spec, f.parent.name, f.stem, body)
        n += 1
    return errs, n


def convert(docs: Path, spec: dict):
    """Returns {(key, fixture): (body, corrections, repairs, section)}."""
    out = {}
    api = docs / "api"
    for row in draft.MODELS:
        key, app, fname = row[0], row[1], row[2]
        page = draft.parse_page(api / app / fname)
        for ex in draft.collect_examples(page, key):
            fixture = draft.FIXTURE_NAME[ex["kind"]]
            if (key, fixture) in out:
                raise SystemExit(f"two examples for {key}/{fixture}")
            env = envelope_for(spec, key, fixture, ex["body"])
            w = Walker(spec, fix=True, label=f"{key}/{fixture}.json ")
            body = w.walk(ex["body"], {"$ref": f"#/components/schemas/{env}"})
            out[(key, fixture)] = (body, w.corrections, ex["repairs"], ex["section"], w.errors)
    return out


README_HEAD = """# Model fixtures

One file per example response on the BrainSTEM model pages:
`<model key>/<section>.json` where the section is `list`, `create`, `detail`, `update`,
`approval_list`, `approval_detail`, `add_entry`, `change_entry` or `remove_entry`. Each file is
the complete envelope the docs show (`{"sessions": [...]}`, `{"species_approval": {...}}`).
Model keys are the `x-brainstem-model` names of `schema/brainstem.openapi.json`.

Generated by `python3 tools/spec/fixtures.py <docs> --spec schema/brainstem.openapi.json`;
`python3 tools/spec/check.py` validates them against the spec (strict: unknown keys, wrong
types and missing `x-brainstem-response-required` keys are errors).

## Mechanical conversions (every file)

- Python literals (`True`/`False`/`None`, single quotes) -> JSON; trailing commas dropped;
  the one missing comma (users/group list) inserted.
- Placeholders: `<id>` -> a fresh UUID per occurrence; named placeholders (`<project-id>`,
  `<strain-id>`, ...) -> one UUID per file; all are uuid5 of the file name, the placeholder text and a
  counter (namespace uuid5(URL, "https://www.brainstem.org/brainstem-rust-sdk/fixtures")), so the
  output is stable. Where the spec types the field as an integer id, the placeholder becomes
  an integer in 1000..9999 instead (only `<user-id>` in subject logs).
- Numbers in `number` positions are written as floats (`22` -> `22.0`, e.g. `extra_fields`
  values and measured values) so an `f64` round trip reproduces the file. Integer-typed fields
  keep integers.

## Corrections (docs example contradicts the spec; the fixture follows the spec)

| File | JSON path | Correction |
|:--|:--|:--|
"""


def write_readme(root: Path, results, docs_repairs):
    lines = [README_HEAD]
    n = 0
    for (key, fixture), (_b, corrections, _r, _s, _e) in sorted(results.items()):
        for path, msg in corrections:
            lines.append(f"| `{key}/{fixture}.json` | `{path}` | {msg} |\n")
            n += 1
    lines.append(f"\n{n} corrections in total.\n")
    lines.append("\n## Syntax repairs per source example\n\n| File | Docs section | Repairs |\n|:--|:--|:--|\n")
    for (key, fixture), (_b, _c, repairs, section, _e) in sorted(results.items()):
        if repairs:
            lines.append(f"| `{key}/{fixture}.json` | {section} | {'; '.join(repairs)} |\n")
    (root / "README.md").write_text("".join(lines), encoding="utf-8")
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("docs", type=Path)
    ap.add_argument("--spec", type=Path, default=Path("schema/brainstem.openapi.json"))
    ap.add_argument("--out", type=Path, default=Path("tests/fixtures/models"))
    args = ap.parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    results = convert(args.docs, spec)
    errors = []
    for (key, fixture), (body, _c, _r, _s, werrs) in results.items():
        errors += werrs
        errors += validate_body(spec, key, fixture, body)
    if args.out.exists():
        for old in args.out.glob("*/*.json"):
            old.unlink()
    for (key, fixture), (body, *_rest) in sorted(results.items()):
        d = args.out / key
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{fixture}.json").write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    ncorr = write_readme(args.out, results, None)
    print(f"{len(results)} fixtures, {ncorr} corrections, {len(errors)} validation error(s)")
    for e in errors:
        print("ERROR", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
