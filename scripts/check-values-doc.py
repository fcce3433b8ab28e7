#!/usr/bin/env python3
"""Every value of charts/gatehouse/values.yaml is in values.schema.json, is commented there (a `# --` line right above
it, or above its parent for the security contexts and resources, documented as objects) and
has a row in the Values table of docs/kubernetes.md. Part of `make test-chart`."""

import json
import re
import sys

import yaml

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
VALUES = f"{ROOT}/charts/gatehouse/values.yaml"
DOC = f"{ROOT}/docs/kubernetes.md"
# Documented as one object each (their fields are Kubernetes' own).
OBJECTS = ("resources", "podSecurityContext", "securityContext")


def leaves(node, prefix=""):
    if isinstance(node, dict) and node and not prefix.startswith(OBJECTS):
        for k, v in node.items():
            yield from leaves(v, f"{prefix}.{k}" if prefix else k)
    else:
        yield prefix


values = yaml.safe_load(open(VALUES, encoding="utf-8"))
schema = json.load(open(f"{ROOT}/charts/gatehouse/values.schema.json", encoding="utf-8"))
doc = open(DOC, encoding="utf-8").read()
lines = open(VALUES, encoding="utf-8").read().splitlines()
problems = []

commented = set()
stack = []
for i, line in enumerate(lines):
    m = re.match(r"^(\s*)([A-Za-z0-9_]+):", line)
    if not m:
        continue
    indent = len(m.group(1))
    while stack and stack[-1][0] >= indent:
        stack.pop()
    stack.append((indent, m.group(2)))
    j = i - 1
    while j >= 0 and lines[j].strip().startswith("#") and not lines[j].strip().startswith("# --"):
        j -= 1
    if j >= 0 and lines[j].strip().startswith("# --"):
        commented.add(".".join(k for _, k in stack))

for path in leaves(values):
    if path not in commented:
        problems.append(f"{VALUES}: `{path}` has no `# --` comment")
    if f"| `{path}` |" not in doc:
        problems.append(f"{DOC}: no row for `{path}` in the Values table")

def in_schema(path):
    node = schema
    for key in path.split("."):
        if "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
        props = node.get("properties")
        if props is None:
            return node.get("type") == "object"  # a free-form object (resources, ...)
        if key not in props:
            return False
        node = props[key]
    return True


for path in leaves(values):
    if not in_schema(path):
        problems.append(f"values.schema.json: no schema for `{path}`")

for p in problems:
    print(p)
print(f"values documented: {sum(1 for _ in leaves(values))} values, {len(problems)} problems")
sys.exit(1 if problems else 0)
