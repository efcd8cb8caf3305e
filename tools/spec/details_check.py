#!/usr/bin/env python3
"""Check the typed-details schemas and their fixtures.

    python3 tools/spec/details_check.py [--docs <docs api dir>] [--fixtures tests/fixtures/details]

* builds the components with tools/spec/details.py (needs --docs) or reads them from a JSON
  dump (--components /tmp/details.json);
* validates every fixture tests/fixtures/details/<Group>/<Type>.json against its schema
  (strictly: undocumented keys are errors, so a typed round trip loses nothing);
* checks that every type has exactly one fixture and no fixture is orphaned;
* checks each schema's x-brainstem-example, and that defaults agree with enums;
* with --docs: validates each documented per-type example as written (every failure must be
  covered by details.EXAMPLE_CORRECTIONS, every correction must fix a real failure) and
  reports, for information, how the module pages' record examples compare with the schemas.

Prints counts per group; exit status 1 on any error. Standard library only.
"""
from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import details  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))


# --------------------------------------------------------------------------------------
# A small validator for the subset of OpenAPI 3.0 schema keywords details.py emits.
# --------------------------------------------------------------------------------------

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate(schema: dict, value, path: str = "$", strict: bool = True) -> list[str]:
    errs: list[str] = []
    t = schema.get("type")
    if t == "object":
        if not isinstance(value, dict):
            return [f"{path}: expected object, got {type(value).__name__} {value!r}"]
        for r in schema.get("required", []):
            if r not in value:
                errs.append(f"{path}: missing required {r!r}")
        props = schema.get("properties", {})
        addl = schema.get("additionalProperties", not strict)
        for k, v in value.items():
            if k in props:
                errs += validate(props[k], v, f"{path}.{k}", strict)
            elif addl is False:
                errs.append(f"{path}: undocumented key {k!r}")
            elif isinstance(addl, dict):
                errs += validate(addl, v, f"{path}.{k}", strict)
    elif t == "array":
        if not isinstance(value, list):
            return [f"{path}: expected array, got {type(value).__name__} {value!r}"]
        if "minItems" in schema and len(value) < schema["minItems"]:
            errs.append(f"{path}: {len(value)} items < minItems {schema['minItems']}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errs.append(f"{path}: {len(value)} items > maxItems {schema['maxItems']}")
        if schema.get("uniqueItems"):
            seen = [json.dumps(v, sort_keys=True) for v in value]
            if len(seen) != len(set(seen)):
                errs.append(f"{path}: duplicate items")
        for i, v in enumerate(value):
            errs += validate(schema.get("items", {}), v, f"{path}[{i}]", strict)
    elif t == "string":
        if not isinstance(value, str):
            return [f"{path}: expected string, got {type(value).__name__} {value!r}"]
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errs.append(f"{path}: {value!r} does not match {schema['pattern']!r}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errs.append(f"{path}: longer than {schema['maxLength']}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            errs.append(f"{path}: shorter than {schema['minLength']}")
        fmt = schema.get("format")
        try:
            if fmt == "date":
                datetime.date.fromisoformat(value)
            elif fmt == "date-time":
                datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            elif fmt == "time":
                datetime.time.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            errs.append(f"{path}: {value!r} is not a valid {fmt}")
    elif t == "integer":
        if not _is_int(value):
            return [f"{path}: expected integer, got {type(value).__name__} {value!r}"]
    elif t == "number":
        if not _is_num(value):
            return [f"{path}: expected number, got {type(value).__name__} {value!r}"]
    elif t == "boolean":
        if not isinstance(value, bool):
            return [f"{path}: expected boolean, got {type(value).__name__} {value!r}"]
    elif t is None:
        pass
    else:
        errs.append(f"{path}: validator does not know type {t!r}")
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{path}: {value!r} not in enum {schema['enum']}")
    if _is_num(value) and t in ("integer", "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append(f"{path}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errs.append(f"{path}: {value} > maximum {schema['maximum']}")
    return errs


def check_defaults(schema: dict, path: str) -> list[str]:
    """Defaults must agree with the field's own enum/range (a docs consistency check)."""
    errs = []
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        errs += check_defaults(schema["items"], path + "[]")
    for k, p in schema.get("properties", {}).items():
        errs += check_defaults(p, f"{path}.{k}")
    if "default" in schema:
        d = schema["default"]
        if "x-brainstem-quantity" in schema:
            units = schema["properties"]["unit"]["enum"]
            if not isinstance(d, dict) or d.get("unit") not in units:
                errs.append(f"{path}: default {d!r} unit not in {units}")
            if isinstance(d, dict) and "value" in d and not _is_num(d["value"]):
                errs.append(f"{path}: default value {d['value']!r} not a number")
        else:
            e = validate(schema, d, path + "(default)")
            errs += e
    return errs


# --------------------------------------------------------------------------------------
# Module pages: record examples carrying type/details (informational comparison).
# --------------------------------------------------------------------------------------

MODULE_GROUPS = {
    "procedure.md": ["Procedure", "Coordinates"],
    "equipment.md": ["Equipment", "Coordinates"],
    "consumablestock.md": ["ConsumableStock"],
    "dataacquisition.md": ["DataAcquisition"],
    "manipulation.md": ["Manipulation"],
    "procedurelog.md": ["ProcedureLog"],
    "subjectlog.md": ["SubjectLog"],
}

_KEY_RE = re.compile(r"""['"](coordinates_details|details)['"]\s*:\s*""")
_SEL_RE = re.compile(r"""['"](coordinates_system|type)['"]\s*:\s*['"]([^'"]+)['"]""")


def _balanced(text: str, i: int) -> str | None:
    if i >= len(text) or text[i] not in "[{":
        return None
    depth = 0
    q = None
    for j in range(i, len(text)):
        c = text[j]
        if q:
            if c == q and text[j - 1] != "\\":
                q = None
            continue
        if c in "'\"":
            q = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return text[i:j + 1]
    return None


def _literal(src: str):
    try:
        return json.loads(src)
    except ValueError:
        pass
    try:
        return ast.literal_eval(src)
    except (ValueError, SyntaxError):
        return None


def module_examples(docs_dir: str, comps: dict):
    """Yield (file, line, group, type, payload) for each details payload on module pages."""
    mdir = None
    for cand in (os.path.join(docs_dir, "modules"), os.path.join(docs_dir, "api", "modules")):
        if os.path.isdir(cand):
            mdir = cand
    if not mdir:
        return
    groups = details.details_groups()
    for fname, gs in MODULE_GROUPS.items():
        path = os.path.join(mdir, fname)
        if not os.path.exists(path):
            continue
        text = open(path, encoding="utf-8").read()
        for block in re.finditer(r"```[^\n]*\n(.*?)```", text, re.S):
            body = block.group(1)
            for m in _KEY_RE.finditer(body):
                key = m.group(1)
                src = _balanced(body, m.end())
                if src is None:
                    continue
                payload = _literal(src)
                line = text[:block.start(1) + m.start()].count("\n") + 1
                group = "Coordinates" if key == "coordinates_details" else gs[0]
                sel = "coordinates_system" if key == "coordinates_details" else "type"
                tname = None
                for s in _SEL_RE.finditer(body[:m.start()]):
                    if s.group(1) == sel and s.group(2) in groups[group]["types"]:
                        tname = s.group(2)
                yield fname, line, group, tname, payload, src


# --------------------------------------------------------------------------------------

def fixture_for(group: str, type_name: str, schema: dict) -> dict:
    g = details.details_groups()[group]
    payload = schema["x-brainstem-example"]
    return {g["tag"]: type_name, g["content"]: payload}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="check typed details schemas and fixtures")
    ap.add_argument("--docs", default="/work/shared/reference/brainstem-docs/api",
                    help="docs api dir (only this checker reads it; the build never does)")
    ap.add_argument("--components", help="read components from this JSON dump instead")
    ap.add_argument("--fixtures", default=os.path.join(REPO, "tests", "fixtures", "details"))
    ap.add_argument("--write-fixtures", action="store_true",
                    help="(re)write the fixture files from the schemas' examples first")
    ap.add_argument("--modules", action="store_true",
                    help="also list module-page examples that do not fit the schemas")
    args = ap.parse_args(argv)

    errors: list[str] = []
    parsed = None
    if args.components:
        comps = json.load(open(args.components, encoding="utf-8"))
    else:
        comps, _ctx, parsed = details.build(args.docs)
    groups = details.details_groups()

    # Group enums and per-type schemas present.
    for g, info in groups.items():
        te = comps.get(f"{g}Type")
        if not te or te.get("enum") != info["types"] or te.get("x-brainstem-details-group") != g:
            errors.append(f"{g}Type enum missing or wrong")
        for t in info["types"]:
            name = details.component_name(g, t)
            s = comps.get(name)
            if s is None:
                errors.append(f"missing component {name}")
                continue
            if s.get("x-brainstem-schema") != f"{g}/{t}":
                errors.append(f"{name}: x-brainstem-schema wrong")
            for k in ("title", "x-brainstem-schema-version", "x-brainstem-example"):
                if k not in s:
                    errors.append(f"{name}: no {k}")
            errors += [f"{name}: {e}" for e in validate(s, s["x-brainstem-example"])]
            errors += [f"{name}: {e}" for e in check_defaults(s, "$")]

    # Unit kinds: every quantity's units must be within <Kind>Unit.
    for name, ku in comps.items():
        if "x-brainstem-unit-kind" in ku:
            want = details.unit_varnames(ku["enum"])
            if ku.get("x-enum-varnames") != want:
                errors.append(f"{name}: x-enum-varnames must be {want} (details.unit_name)")

    def walk(s, where):
        if isinstance(s, dict):
            if "x-brainstem-quantity" in s:
                kind = s["x-brainstem-quantity"]
                ku = comps.get(f"{kind}Unit", {})
                if ku.get("x-brainstem-unit-kind") != kind:
                    errors.append(f"{where}: no {kind}Unit schema")
                else:
                    miss = set(s["properties"]["unit"]["enum"]) - set(ku["enum"])
                    if miss:
                        errors.append(f"{where}: units {miss} not in {kind}Unit")
            for k, v in s.items():
                walk(v, f"{where}/{k}")
        elif isinstance(s, list):
            for i, v in enumerate(s):
                walk(v, f"{where}[{i}]")
    walk(comps, "#")

    # Documented examples as written vs EXAMPLE_CORRECTIONS.
    if parsed is not None:
        for g in details.GROUP_ORDER:
            for t, sec in parsed[g]["sections"].items():
                s = comps[details.component_name(g, t)]
                errs = validate(s, sec["example"])
                corrected = (g, t) in details.EXAMPLE_CORRECTIONS
                if errs and not corrected:
                    errors.append(f"{g}/{t}: documented example invalid and not corrected: {errs}")
                if corrected and not errs:
                    errors.append(f"{g}/{t}: correction listed but documented example is valid")

        # Page-level examples (selector + payload) on the schema pages.
        for g in details.GROUP_ORDER:
            info = groups[g]
            for ex in parsed[g]["page_examples"]:
                t = ex.get(info["tag"])
                if t not in info["types"] or info["content"] not in ex:
                    errors.append(f"{g}: page example without a known selector: {ex!r}")
                    continue
                e = validate(comps[details.component_name(g, t)], ex[info["content"]])
                same_as_corrected = ((g, t) in details.EXAMPLE_CORRECTIONS
                                     and ex[info["content"]] == parsed[g]["sections"][t]["example"])
                if e and not same_as_corrected:
                    errors.append(f"{g}: page example for {t} invalid: {e}")

    # Fixtures.
    if args.write_fixtures:
        for g, info in groups.items():
            os.makedirs(os.path.join(args.fixtures, g), exist_ok=True)
            for t in info["types"]:
                s = comps[details.component_name(g, t)]
                with open(os.path.join(args.fixtures, g, f"{t}.json"), "w", encoding="utf-8") as fh:
                    json.dump(fixture_for(g, t, s), fh, indent=2, ensure_ascii=False)
                    fh.write("\n")
    counts = {}
    for g, info in groups.items():
        gdir = os.path.join(args.fixtures, g)
        present = set()
        if os.path.isdir(gdir):
            present = {f[:-5] for f in os.listdir(gdir) if f.endswith(".json")}
        for extra in sorted(present - set(info["types"])):
            errors.append(f"fixture {g}/{extra}.json has no documented type")
        ok = 0
        for t in info["types"]:
            fp = os.path.join(gdir, f"{t}.json")
            if not os.path.exists(fp):
                errors.append(f"missing fixture {g}/{t}.json")
                continue
            with open(fp, encoding="utf-8") as fh:
                fx = json.load(fh)
            tag, content = info["tag"], info["content"]
            if set(fx) != {tag, content} or fx[tag] != t:
                errors.append(f"{g}/{t}.json: envelope must be {{{tag!r}: {t!r}, {content!r}: ...}}")
                continue
            s = comps[details.component_name(g, t)]
            e = validate(s, fx[content])
            if e:
                errors += [f"{g}/{t}.json: {x}" for x in e]
            else:
                ok += 1
            if json.dumps(fx[content], sort_keys=True) != json.dumps(s["x-brainstem-example"], sort_keys=True):
                errors.append(f"{g}/{t}.json: differs from x-brainstem-example")
        counts[g] = (len(info["types"]), ok)
    if os.path.isdir(args.fixtures):
        for d in os.listdir(args.fixtures):
            if os.path.isdir(os.path.join(args.fixtures, d)) and d not in groups:
                errors.append(f"fixture directory {d} is not a group")

    print(f"{'group':<16} {'types':>5} {'fixtures ok':>11}")
    for g, (n, ok) in counts.items():
        print(f"{g:<16} {n:>5} {ok:>11}")
    print(f"{'total':<16} {sum(n for n, _ in counts.values()):>5} "
          f"{sum(ok for _, ok in counts.values()):>11}")
    kinds = sorted(k for k, v in comps.items() if "x-brainstem-unit-kind" in v)
    print(f"{len(kinds)} unit kinds: {', '.join(k[:-4] for k in kinds)}")

    if args.modules:
        print("\nmodule-page examples vs schemas (informational):")
        for fname, line, g, t, payload, src in module_examples(args.docs, comps):
            where = f"modules/{fname}:{line}"
            if payload is None:
                print(f"  {where}: {g}: payload not parseable: {src[:60]!r}")
                continue
            if t is None:
                print(f"  {where}: {g}: type not stated next to payload {payload!r}")
                continue
            e = validate(comps[details.component_name(g, t)], payload)
            if e:
                print(f"  {where}: {g}/{t}: " + "; ".join(e))

    if errors:
        print(f"\n{len(errors)} error(s):")
        for e in errors:
            print("  " + e)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
