#!/usr/bin/env python3
"""Keep docs/policy-schema.json and the policy compiler in step.

  check-schema.py --schema docs/policy-schema.json \
                  [--lint test/unit/build/test_policy] policy-examples

1. Every example (*.yaml, *.json) in the directory is valid against the
   JSON Schema (draft 2020-12) and, with --lint, compiles without any
   error or warning (the unit test binary's --lint mode).
2. Every case below gives the outcome it states, from the schema and from
   the compiler: "both" (both accept), "neither" (both refuse: what the
   schema can say), or "compiler" (only the compiler refuses: what a JSON
   Schema cannot say, listed in the schema's description).

YAML is read the way the compiler reads it: YAML 1.2 core types, with
timestamps kept as strings (PyYAML's safe loader minus its timestamp
resolver).  Run by "make -C test/unit check-policy-schema", which makes a
virtualenv under .cache/ with jsonschema and PyYAML.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import yaml
from jsonschema import Draft202012Validator

NOW = "1796083200"  # 2026-12-01T00:00:00Z, as the unit tests

REVIEW = {"reviewed_by": "carol", "reviewed_at": "2026-11-01",
          "reason": "test"}


def grant(**kw):
    g = {"id": "g", "principals": ["User:a"],
         "resources": [{"type": "topic", "name": "t"}],
         "operations": ["read"]}
    g.update(REVIEW)
    g.update(kw)
    return {k: v for k, v in g.items() if v is not None}


def doc(*grants, **top):
    d = {"policy_version": 1, "grants": list(grants)}
    d.update(top)
    return d


CASES = [
    # (name, document, expected: both | neither | compiler)
    ("minimal", doc(grant()), "both"),
    ("deny without review", doc(grant(), denies=[
        {"id": "d", "principals": ["Group:x"],
         "resources": [{"type": "group", "name": "g", "match": "prefix"}],
         "operations": ["all"]}]), "both"),
    ("cluster without name", doc(grant(
        resources=[{"type": "cluster"}], operations=["idempotent_write"])),
     "both"),
    ("mixed types", doc(grant(
        resources=[{"type": "topic", "name": "t"}, {"type": "cluster"}],
        operations=["write", "idempotent_write"])), "both"),
    ("delete on the cluster", doc(grant(
        resources=[{"type": "cluster"}], operations=["delete"])), "both"),
    ("reserved sections", doc(grant(), masking={"x": 1}, approvals=[]),
     "both"),
    ("hosts", doc(grant(hosts=["10.0.0.0/8", "2001:db8::/32", "::1",
                               "192.0.2.1"])), "both"),
    ("dates", doc(grant(valid_from="2026-01-01",
                        valid_until="2026-12-31T23:59:59+01:00")), "both"),
    ("regex", doc(grant(resources=[{"type": "topic", "name": "a\\..*",
                                    "match": "regex"}])), "both"),

    ("version 2", dict(doc(grant()), policy_version=2), "neither"),
    ("default allow", doc(grant(), default="allow"), "neither"),
    ("unknown top key", doc(grant(), allow=True), "neither"),
    ("no grants", {"policy_version": 1}, "neither"),
    ("unknown rule key", doc(grant(expires="2027-01-01")), "neither"),
    ("no id", doc(grant(id=None)), "neither"),
    ("bad id", doc(grant(id="-x")), "neither"),
    ("no review", doc(grant(reason=None)), "neither"),
    ("bad principal", doc(grant(principals=["user:a"])), "neither"),
    ("group wildcard", doc(grant(principals=["Group:*"])), "neither"),
    ("no principals", doc(grant(principals=[])), "neither"),
    ("bad type", doc(grant(resources=[{"type": "queue", "name": "q"}])),
     "neither"),
    ("no name", doc(grant(resources=[{"type": "topic"}])), "neither"),
    ("cluster name", doc(grant(resources=[{"type": "cluster",
                                           "name": "prod"}],
                               operations=["alter"])), "neither"),
    ("cluster prefix", doc(grant(resources=[{"type": "cluster",
                                             "name": "kafka-cluster",
                                             "match": "prefix"}],
                                 operations=["alter"])), "neither"),
    ("bad match", doc(grant(resources=[{"type": "topic", "name": "t",
                                        "match": "glob"}])), "neither"),
    ("unknown operation", doc(grant(operations=["READ"])), "neither"),
    ("write on a group", doc(grant(
        resources=[{"type": "group", "name": "g"}],
        operations=["write"])), "neither"),
    ("host name", doc(grant(hosts=["db.example.com"])), "neither"),
    ("prefix length", doc(grant(hosts=["10.0.0.0/33"])), "neither"),
    ("bad time", doc(grant(valid_until="tomorrow")), "neither"),
    ("control character", doc(grant(resources=[{"type": "topic",
                                                "name": "a\tb"}])),
     "neither"),
    ("id as number", doc(grant(id=42)), "neither"),

    ("duplicate ids", doc(grant(), grant(principals=["User:b"])),
     "compiler"),
    ("bad regex", doc(grant(resources=[{"type": "topic", "name": "a(",
                                        "match": "regex"}])), "compiler"),
    ("window order", doc(grant(valid_from="2026-06-01",
                               valid_until="2026-05-01")), "compiler"),
    ("february 30", doc(grant(valid_until="2026-02-30")), "compiler"),
    ("host bits", doc(grant(hosts=["10.1.2.3/8"])), "compiler"),
    ("bad ipv6", doc(grant(hosts=["1:2:3"])), "compiler"),

    # approvals (docs/approvals.md)
    ("approval", doc(grant(operations=["write"], approval={
        "approvers": ["Group:sre", "User:carol"], "grant_duration": "1h",
        "hold": "20s", "expire_after": "30m",
        "allow_self_approval": False})), "both"),
    ("approval, defaults", doc(grant(approval={
        "approvers": ["Group:sre"], "grant_duration": "15m"})), "both"),
    ("approval without approvers", doc(grant(approval={
        "grant_duration": "1h"})), "neither"),
    ("approval without duration", doc(grant(approval={
        "approvers": ["Group:sre"]})), "neither"),
    ("approval duration syntax", doc(grant(approval={
        "approvers": ["Group:sre"], "grant_duration": "1 hour"})),
     "neither"),
    ("approval duration number", doc(grant(approval={
        "approvers": ["Group:sre"], "grant_duration": 3600})), "neither"),
    ("approval unknown key", doc(grant(approval={
        "approvers": ["Group:sre"], "grant_duration": "1h",
        "holds": "5s"})), "neither"),
    ("approval self not boolean", doc(grant(approval={
        "approvers": ["Group:sre"], "grant_duration": "1h",
        "allow_self_approval": "no"})), "neither"),
    ("approver wildcard group", doc(grant(approval={
        "approvers": ["Group:*"], "grant_duration": "1h"})), "neither"),
    ("approval on a deny", doc(grant(), denies=[
        {"id": "d", "principals": ["User:x"],
         "resources": [{"type": "topic", "name": "t"}],
         "operations": ["write"],
         "approval": {"approvers": ["Group:sre"],
                      "grant_duration": "1h"}}]), "neither"),
    ("approval grant too long", doc(grant(approval={
        "approvers": ["Group:sre"], "grant_duration": "91d"})), "compiler"),
    ("approval expires before hold", doc(grant(approval={
        "approvers": ["Group:sre"], "grant_duration": "1h",
        "hold": "20s", "expire_after": "10s"})), "compiler"),
]


class Loader(yaml.SafeLoader):
    """YAML as the compiler reads it: timestamps stay strings."""


Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("{"):
        return json.loads(text)
    return yaml.load(text, Loader=Loader)


def lint(binary, path):
    """(compiled, output) from test_policy --lint."""
    r = subprocess.run([binary, "--lint", "--now", NOW, path],
                       capture_output=True, text=True, check=False)
    return r.returncode == 0, r.stdout + r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", required=True)
    ap.add_argument("--lint", help="test_policy binary (its --lint mode)")
    ap.add_argument("examples")
    args = ap.parse_args()

    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)

    failures = 0
    files = sorted(n for n in os.listdir(args.examples)
                   if n.endswith((".yaml", ".json")))

    for name in files:
        path = os.path.join(args.examples, name)
        errors = sorted(validator.iter_errors(load(path)), key=str)
        for e in errors:
            print(f"{path}: schema: {e.message} at "
                  f"/{'/'.join(map(str, e.absolute_path))}")
            failures += 1
        if args.lint:
            ok, out = lint(args.lint, path)
            if not ok or "warning:" in out or "error:" in out:
                print(f"{path}: compiler:\n{out}")
                failures += 1
        print(f"ok   example {name}" if not errors else f"FAIL {name}")

    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, document, want) in enumerate(CASES):
            schema_ok = validator.is_valid(document)
            got = "schema " + ("accepts" if schema_ok else "refuses")
            bad = schema_ok != (want != "neither")
            if args.lint:
                path = os.path.join(tmp, f"case{i}.json")
                with open(path, "w", encoding="utf-8") as f:
                    json.dump(document, f)
                ok, out = lint(args.lint, path)
                got += ", compiler " + ("accepts" if ok else "refuses")
                if ok != (want == "both"):
                    bad = True
            print(f"{'FAIL' if bad else 'ok  '} case {name}: {got} "
                  f"(want {want})")
            failures += bad

    print(f"{len(files)} examples, {len(CASES)} cases, "
          f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
