#!/usr/bin/env python3
"""Print the manifest of the build-cost floor: a crate with the same
third-party dependencies as the SDK (and the measuring user crate), at the
same versions and with the same features, but no SDK code.

Reads `cargo metadata --format-version 1` of the user crate on stdin.
"""
import json
import sys

meta = json.load(sys.stdin)
pkgs = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}


def node(name):
    return next(n for i, n in nodes.items() if pkgs[i]["name"] == name)


deps = []
for d in node("brainstem")["deps"] + node("user")["deps"]:
    normal = any(k["kind"] is None for k in d["dep_kinds"])
    if normal and pkgs[d["pkg"]]["name"] != "brainstem" and d["pkg"] not in deps:
        deps.append(d["pkg"])

print('[package]\nname = "floor"\nversion = "0.1.0"\nedition = "2024"\n')
print("[workspace]\n\n[dependencies]")
for i in deps:
    p = pkgs[i]
    features = ", ".join(json.dumps(f) for f in nodes[i]["features"])
    print(
        f'{p["name"]} = {{ version = "={p["version"]}", '
        f"default-features = false, features = [{features}] }}"
    )
