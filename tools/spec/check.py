#!/usr/bin/env python3
"""Quick self-check of schema/brainstem.openapi.json (developer tool, not used by CI).

Usage:
    python3 tools/spec/check.py [--spec schema/brainstem.openapi.json] [--fixtures tests/fixtures/models]

Checks: OpenAPI version and info keys, operationIds unique and well-formed, every $ref
resolves, every model schema carries the CONVENTIONS extensions, required/response-required
name real properties, x-brainstem-related targets exist, every operation has tags, a model and
a 4XX ApiError response, path parameters match the template; then validates every fixture under
tests/fixtures/models against its envelope schema (strict: unknown keys are errors).
Prints counts. Exit status 1 when something fails.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

MODEL_KEYS = ["type", "x-brainstem-model", "x-brainstem-envelope", "required", "x-brainstem-response-required",
              "x-brainstem-id", "description", "properties"]
VERBS = ("list", "create", "retrieve", "partial_update", "update", "destroy")


def walk_refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                out.append(v)
            else:
                walk_refs(v, out)
    elif isinstance(node, list):
        for v in node:
            walk_refs(v, out)


def resolve(spec, ref):
    if not ref.startswith("#/"):
        return None
    node = spec
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check(spec) -> list[str]:
    errs = []
    if spec.get("openapi") != "3.0.3":
        errs.append("openapi must be 3.0.3")
    info = spec.get("info", {})
    if not re.fullmatch(r"\d+\.\d+\.\d+", info.get("version", "")):
        errs.append("info.version is not semver")
    if "x-brainstem-docs-revision" not in info:
        errs.append("info.x-brainstem-docs-revision missing")
    refs: list = []
    walk_refs(spec, refs)
    for r in sorted(set(refs)):
        if resolve(spec, r) is None:
            errs.append(f"unresolved $ref {r}")
    schemas = spec["components"]["schemas"]
    models = {n: s for n, s in schemas.items() if "x-brainstem-model" in s}
    model_refs = {s["x-brainstem-model"] for s in models.values()}
    for name, s in models.items():
        for k in MODEL_KEYS:
            if k not in s:
                errs.append(f"{name}: missing {k}")
        props = s.get("properties", {})
        for k in ("required", "x-brainstem-response-required"):
            for f in s.get(k, []):
                if f not in props:
                    errs.append(f"{name}.{k} names unknown field {f}")
        ro = [f for f in s.get("required", []) if props.get(f, {}).get("readOnly")]
        for f in ro:
            if f not in s.get("x-brainstem-response-required", []):
                errs.append(f"{name}: read-only required {f} not in response-required")
        env = s.get("x-brainstem-envelope", {})
        if not env.get("one") or not env.get("many"):
            errs.append(f"{name}: incomplete envelope {env}")
        for env_name in (f"{name}Envelope", f"{name}ListEnvelope"):
            if env_name not in schemas:
                errs.append(f"{name}: missing {env_name}")
        if "x-brainstem-approval" in s:
            a = s["x-brainstem-approval"]
            if a.get("schema") not in schemas:
                errs.append(f"{name}: approval schema {a.get('schema')} missing")
            for env_name in (f"{name}ApprovalEnvelope", f"{name}ApprovalListEnvelope", f"{name}SaveEnvelope"):
                if env_name not in schemas:
                    errs.append(f"{name}: missing {env_name}")
        for d in s.get("x-brainstem-details", []):
            if f"{d['group']}Type" not in schemas:
                errs.append(f"{name}: details group {d['group']} has no {d['group']}Type schema")
    # related targets
    for name, s in schemas.items():
        for f, p in (s.get("properties") or {}).items():
            rel = p.get("x-brainstem-related")
            if rel and rel not in model_refs:
                errs.append(f"{name}.{f}: x-brainstem-related {rel} is not a model")
    # operations
    seen = {}
    for path, item in spec["paths"].items():
        if not path.startswith("/api/") or not path.endswith("/"):
            errs.append(f"bad path {path}")
        tmpl = set(re.findall(r"\{(\w+)\}", path))
        for method, op in item.items():
            oid = op.get("operationId")
            where = f"{method.upper()} {path}"
            if not oid:
                errs.append(f"{where}: no operationId")
                continue
            if oid in seen:
                errs.append(f"duplicate operationId {oid}: {where} and {seen[oid]}")
            seen[oid] = where
            if not re.fullmatch(r"[a-z][a-z0-9_]*", oid):
                errs.append(f"{oid}: not snake_case")
            if not op.get("tags"):
                errs.append(f"{oid}: no tags")
            if "x-brainstem-model" not in op:
                errs.append(f"{oid}: no x-brainstem-model")
            if op.get("responses", {}).get("4XX", {}).get("$ref") != "#/components/responses/ApiError":
                errs.append(f"{oid}: no 4XX ApiError")
            params = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
            if params != tmpl:
                errs.append(f"{oid}: path params {sorted(params)} != template {sorted(tmpl)}")
            for p in op.get("parameters", []):
                if p["name"] == "portal":
                    enum = p["schema"].get("enum")
                    if not enum or set(enum) - {"public", "private"}:
                        errs.append(f"{oid}: bad portal enum {enum}")
            if method in ("patch",) and "requestBody" in op and "x-brainstem-action" not in op \
                    and op["requestBody"].get("x-brainstem-body") != "patch":
                errs.append(f"{oid}: PATCH body without x-brainstem-body")
    return errs


def counts(spec):
    schemas = spec["components"]["schemas"]
    models = [s for s in schemas.values() if "x-brainstem-model" in s and not s.get("x-brainstem-undocumented")]
    kinds: dict = {}
    for item in spec["paths"].values():
        for op in item.values():
            oid = op["operationId"]
            if "x-brainstem-relation" in op:
                k = "relation"
            elif op["x-brainstem-model"].endswith("approval"):
                k = "approval_" + op["operationId"].split("_", 1)[1]
            elif "x-brainstem-action" in op:
                k = "action"
            elif oid.startswith("auth_"):
                k = "device_auth"
            elif oid.startswith("sessiondatastorage_"):
                k = "sessiondatastorage"
            else:
                k = next(v for v in VERBS if oid.endswith("_" + v))
            kinds[k] = kinds.get(k, 0) + 1
    return {
        "models": len(models),
        "fields": sum(len(s["properties"]) for s in models),
        "approval_models": sum(1 for s in models if "x-brainstem-approval" in s),
        "loaders": sum(1 for s in models if "x-brainstem-loader" in s),
        "operations": sum(kinds.values()),
        "by_kind": dict(sorted(kinds.items())),
        "schemas": len(schemas),
    }


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", type=Path, default=Path("schema/brainstem.openapi.json"))
    ap.add_argument("--fixtures", type=Path, default=Path("tests/fixtures/models"))
    args = ap.parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    errs = check(spec)
    nfix = 0
    if args.fixtures.is_dir():
        import fixtures  # noqa: E402
        ferrs, nfix = fixtures.validate_dir(spec, args.fixtures)
        errs += ferrs
    print(json.dumps(dict(counts(spec), fixtures=nfix), indent=2))
    for e in errs:
        print("ERROR", e)
    print(f"{len(errs)} error(s)")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
