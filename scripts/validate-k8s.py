#!/usr/bin/env python3
"""Validates Kubernetes manifests offline, strictly (unknown fields are errors).

Built-in kinds are checked with kubernetes-validate's schemas for each Kubernetes version
given with -k. Custom resources are checked against the openAPIV3Schema of their
CustomResourceDefinition, taken from --crds directories (vendored CRDs, the chart's crds/)
and from CRDs in the validated input itself, made strict the way the API server prunes:
an object schema with `properties` admits no other field unless it says
`x-kubernetes-preserve-unknown-fields` or `additionalProperties`.

A kind with no schema anywhere is an error, unless it is named with --allow-missing
GROUP/KIND (printed as SKIP, and counted). CEL rules (x-kubernetes-validations) are not
evaluated: only kube-apiserver can.

Usage: validate-k8s.py -k 1.25.0 [-k 1.35.0] [--crds DIR]... [--allow-missing G/K]... FILE...
(FILE `-` is stdin). Exit 1 on any error. Runs in the project venv (kubernetes-validate,
which brings jsonschema and PyYAML).
"""

import argparse
import copy
import glob
import os
import sys

import jsonschema
import kubernetes_validate
import yaml


def load_docs(path):
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    return [d for d in yaml.safe_load_all(text) if d is not None]


def group_of(api_version):
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def strict_schema(schema):
    """A copy of a structural schema in which objects refuse fields they do not declare."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if not isinstance(node, dict):
            return
        if node.get("x-kubernetes-int-or-string") and "anyOf" not in node:
            node.pop("type", None)
            node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if node.get("nullable"):
            t = node.get("type")
            if isinstance(t, str):
                node["type"] = [t, "null"]
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for key in ("properties", "patternProperties", "definitions"):
            for child in node.get(key, {}).values():
                walk(child)
        for key in ("items", "additionalProperties", "not"):
            walk(node.get(key))
        for key in ("allOf", "anyOf", "oneOf"):
            for child in node.get(key, []):
                walk(child)

    walk(schema)
    # The API server fills apiVersion/kind/metadata itself; CRD schemas rarely list them.
    props = schema.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props.setdefault("metadata", {"type": "object"})
    return schema


def crd_schemas(docs, origin, table):
    for doc in docs:
        if doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc.get("spec", {})
        group, kind = spec.get("group"), spec.get("names", {}).get("kind")
        for version in spec.get("versions", []):
            schema = version.get("schema", {}).get("openAPIV3Schema")
            if schema is not None:
                table[(f"{group}/{version['name']}", kind)] = (strict_schema(schema), origin)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", "--kubernetes-version", action="append", required=True)
    ap.add_argument("--crds", action="append", default=[], help="directory of CRD YAML")
    ap.add_argument("--allow-missing", action="append", default=[], metavar="GROUP/KIND")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    crds = {}
    for d in args.crds:
        for path in sorted(glob.glob(os.path.join(d, "*.yaml")) + glob.glob(os.path.join(d, "*.yml"))):
            crd_schemas(load_docs(path), path, crds)

    errors = 0
    counts = {"kubernetes": 0, "crd": 0, "skipped": 0, "unknown": 0}
    skipped_kinds = set()
    for path in args.files:
        docs = load_docs(path)
        crd_schemas(docs, path, crds)
        for doc in docs:
            api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
            name = f"{kind} {doc.get('metadata', {}).get('name', '?')} ({api_version}) in {path}"
            if not isinstance(doc.get("metadata", {}).get("name"), str):
                print(f"ERROR {name}: metadata.name missing")
                errors += 1
                continue
            if (api_version, kind) in crds:
                schema, origin = crds[(api_version, kind)]
                problems = sorted(
                    jsonschema.Draft4Validator(schema).iter_errors(doc), key=lambda e: list(e.path)
                )
                for e in problems:
                    where = "/" + "/".join(str(p) for p in e.path)
                    print(f"ERROR {name}: {where}: {e.message} (CRD schema from {origin})")
                errors += len(problems)
                counts["crd"] += 1
                continue
            missing = False
            for version in args.kubernetes_version:
                try:
                    kubernetes_validate.validate(doc, version, strict=True)
                except kubernetes_validate.SchemaNotFoundError:
                    missing = True
                    break
                except kubernetes_validate.ValidationError as e:
                    where = "/" + "/".join(str(p) for p in e.path)
                    print(f"ERROR {name}: {where}: {e.message} (Kubernetes {version})")
                    errors += 1
            if missing:
                gk = f"{group_of(api_version)}/{kind}"
                if gk in args.allow_missing:
                    print(f"SKIP  {name}: no schema, allowed by --allow-missing {gk}")
                    counts["skipped"] += 1
                    skipped_kinds.add(gk)
                else:
                    print(f"ERROR {name}: no schema for {gk} (vendor its CRD or --allow-missing)")
                    counts["unknown"] += 1
                    errors += 1
            else:
                counts["kubernetes"] += 1
    total = sum(counts.values())
    print(
        f"{total} objects: {counts['kubernetes']} by Kubernetes "
        f"{'+'.join(args.kubernetes_version)} schemas, {counts['crd']} by CRD schemas, "
        f"{counts['skipped']} skipped ({', '.join(sorted(skipped_kinds)) or 'none'}), "
        f"{counts['unknown']} without schema; {errors} errors"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
