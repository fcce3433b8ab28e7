#!/usr/bin/env python3
"""Asks the API server's authorizer a batch of RBAC questions in one request each way.

Reads lines `WANT SA_NAMESPACE SA_NAME VERB RESOURCE [-n NS | -A] [--subresource=S]` on
stdin (WANT is yes or no; RESOURCE is `plural[.group][/name]`, as `kubectl auth can-i`
takes it), turns each into a SubjectAccessReview for the ServiceAccount, creates them all
with one `kubectl create -o json`, and prints every answer that differs from WANT.
Exit 1 when any differs. Usage: rbac-review.py KUBECTL < questions
"""

import json
import subprocess
import sys


def review(line):
    want, sa_ns, sa, verb, resource, *flags = line.split()
    namespace, subresource = "", ""
    it = iter(flags)
    for f in it:
        if f == "-n":
            namespace = next(it)
        elif f == "-A":
            namespace = ""
        elif f.startswith("--subresource="):
            subresource = f.split("=", 1)[1]
        else:
            raise SystemExit(f"unknown flag {f!r} in: {line}")
    name = ""
    if "/" in resource:
        resource, name = resource.split("/", 1)
    plural, _, group = resource.partition(".")
    attrs = {"verb": verb, "resource": plural, "group": group}
    for key, value in (("namespace", namespace), ("subresource", subresource), ("name", name)):
        if value:
            attrs[key] = value
    sar = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": f"system:serviceaccount:{sa_ns}:{sa}",
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{sa_ns}", "system:authenticated"],
            "resourceAttributes": attrs,
        },
    }
    return want == "yes", line, sar


def main():
    kubectl = sys.argv[1]
    questions = [review(l) for l in sys.stdin.read().splitlines() if l.strip()]
    items = {"apiVersion": "v1", "kind": "List", "items": [q[2] for q in questions]}
    out = subprocess.run(
        [kubectl, "create", "-f", "-", "-o", "json"],
        input=json.dumps(items), capture_output=True, text=True, check=True,
    )
    # One JSON document per created object, concatenated (or one List, depending on kubectl).
    answers, text, pos = [], out.stdout, 0
    decoder = json.JSONDecoder()
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        doc, pos = decoder.raw_decode(text, pos)
        answers.extend(doc["items"] if doc.get("kind") == "List" else [doc])
    assert len(answers) == len(questions), (len(answers), len(questions))
    fails = 0
    for (want, line, _), answer in zip(questions, answers):
        got = bool(answer.get("status", {}).get("allowed"))
        if got != want:
            fails += 1
            print(f"RBAC: {line}: allowed={got}", file=sys.stderr)
    print(f"{len(questions)} RBAC checks, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
