#!/usr/bin/env python3
"""Generate the C tables of the Kafka codec from Kafka's JSON message specs.

Apache Kafka ships one JSON file per request and response in the
kafka-clients jar (common/message/*.json, with // comments).  This script
reads them straight from the jar and writes two files:

    hoop_kafka_messages.h   api key constants, the lookup tables
    hoop_kafka_messages.c   one hoop_kafka_message_t per request/response,
                            with every struct and field

The types are declared in src/kafka/hoop_kafka_schema.h; the one generic
decoder/encoder that walks them is src/kafka/hoop_kafka_walker.c.

The output depends only on the jar's contents (no timestamps, no paths), so
regenerating from the same jar gives identical bytes.

Usage: generate.py --jar kafka-clients-X.Y.Z.jar --out src/kafka/generated
Standard library only.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import zipfile

SPEC_DIR = "common/message/"
INT16_MAX = 0x7FFF

PRIMITIVES = {
    "bool": "HOOP_KAFKA_T_BOOL",
    "int8": "HOOP_KAFKA_T_INT8",
    "int16": "HOOP_KAFKA_T_INT16",
    "uint16": "HOOP_KAFKA_T_UINT16",
    "int32": "HOOP_KAFKA_T_INT32",
    "uint32": "HOOP_KAFKA_T_UINT32",
    "int64": "HOOP_KAFKA_T_INT64",
    "float64": "HOOP_KAFKA_T_FLOAT64",
    "uuid": "HOOP_KAFKA_T_UUID",
    "string": "HOOP_KAFKA_T_STRING",
    "bytes": "HOOP_KAFKA_T_BYTES",
    "records": "HOOP_KAFKA_T_RECORDS",
}

# Integer ranges, to check "default" values.
INT_RANGES = {
    "int8": (-(1 << 7), (1 << 7) - 1),
    "int16": (-(1 << 15), (1 << 15) - 1),
    "uint16": (0, (1 << 16) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1),
    "uint32": (0, (1 << 32) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
}

# entityType values the walker knows; a new one must be added to
# hoop_kafka_schema.h before the tables can use it, so fail loudly.
ENTITY_TYPES = {
    "topicName": "HOOP_KAFKA_ENTITY_TOPIC_NAME",
    "groupId": "HOOP_KAFKA_ENTITY_GROUP_ID",
    "transactionalId": "HOOP_KAFKA_ENTITY_TRANSACTIONAL_ID",
    "brokerId": "HOOP_KAFKA_ENTITY_BROKER_ID",
    "producerId": "HOOP_KAFKA_ENTITY_PRODUCER_ID",
}

LISTENERS = {
    "broker": "HOOP_KAFKA_LISTENER_BROKER",
    "controller": "HOOP_KAFKA_LISTENER_CONTROLLER",
    "zkBroker": "HOOP_KAFKA_LISTENER_ZK_BROKER",
}

FIELD_KEYS = {
    "name", "type", "versions", "about", "fields", "default", "entityType",
    "nullableVersions", "ignorable", "mapKey", "tag", "taggedVersions",
    "zeroCopy", "flexibleVersions",
}


class SpecError(Exception):
    pass


def strip_comments(text):
    """Remove // comments outside JSON strings ("about" texts hold URLs)."""
    out = []
    i, n = 0, len(text)
    in_str = False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_str = False
            i += 1
            continue
        if c == '"':
            in_str = True
            out.append(c)
            i += 1
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            while i < n and text[i] != "\n":
                i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


class Versions:
    """A Kafka version range: "none", "N", "N-M" or "N+" (open ended)."""

    def __init__(self, spec, what):
        spec = str(spec).strip()
        m = re.fullmatch(r"(\d+)(?:(\+)|-(\d+))?|none", spec)
        if not m:
            raise SpecError("%s: bad version range %r" % (what, spec))
        if spec == "none":
            self.lo, self.hi = 0, -1
        else:
            self.lo = int(m.group(1))
            if m.group(2):
                self.hi = INT16_MAX
            elif m.group(3) is not None:
                self.hi = int(m.group(3))
            else:
                self.hi = self.lo
        if self.lo > INT16_MAX or self.hi > INT16_MAX:
            raise SpecError("%s: version out of range %r" % (what, spec))

    @classmethod
    def none(cls):
        return cls("none", "")

    def empty(self):
        return self.lo > self.hi

    def contains(self, v):
        return self.lo <= v <= self.hi

    def intersect(self, other):
        r = Versions.none()
        r.lo, r.hi = max(self.lo, other.lo), min(self.hi, other.hi)
        if r.empty():
            r.lo, r.hi = 0, -1
        return r

    def subset_of(self, other):
        return self.empty() or (other.lo <= self.lo and self.hi <= other.hi)

    def c(self):
        hi = "INT16_MAX" if self.hi == INT16_MAX else "%d" % self.hi
        return "{ %d, %s }" % (self.lo, hi)

    def __str__(self):
        if self.empty():
            return "none"
        if self.hi == INT16_MAX:
            return "%d+" % self.lo
        if self.lo == self.hi:
            return "%d" % self.lo
        return "%d-%d" % (self.lo, self.hi)


def c_ident(s):
    return re.sub(r"[^A-Za-z0-9_]", "_", s)


def upper_snake(camel):
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", camel)
    s = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", s)
    return s.upper()


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Field:
    def __init__(self, spec, msg, path):
        what = "%s: %s" % (msg.file, path)
        for k in spec:
            if k not in FIELD_KEYS:
                raise SpecError("%s: unknown field key %r" % (what, k))
        self.name = spec["name"]
        self.path = path
        t = spec["type"]
        self.versions = Versions(spec["versions"], what)
        self.nullable = Versions(spec.get("nullableVersions", "none"), what)
        self.tagged = Versions(spec.get("taggedVersions", "none"), what)
        self.tag = spec.get("tag", -1)
        # Only RequestHeader.ClientId overrides flexibleVersions; the walker
        # takes a struct's tagged section from its field's flexible
        # versions, which holds only while fields follow their message.
        if "flexibleVersions" in spec:
            raise SpecError("%s: field-level flexibleVersions" % what)
        self.flexible = msg.flexible
        self.entity = spec.get("entityType")
        if self.entity is not None and self.entity not in ENTITY_TYPES:
            raise SpecError("%s: unknown entityType %r (add it to "
                            "hoop_kafka_schema.h)" % (what, self.entity))
        self.map_key = bool(spec.get("mapKey", False))
        self.zero_copy = bool(spec.get("zeroCopy", False))
        self.ignorable = bool(spec.get("ignorable", False))

        self.is_array = t.startswith("[]")
        base = t[2:] if self.is_array else t
        self.base = base
        self.struct = None
        if base in PRIMITIVES:
            if "fields" in spec:
                raise SpecError("%s: primitive type with fields" % what)
            if self.is_array and base == "records":
                raise SpecError("%s: array of records" % what)
        else:
            if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", base):
                raise SpecError("%s: bad type %r" % (what, t))
            if "fields" in spec:
                self.struct = msg.define_struct(base, spec["fields"],
                                                path + "." + self.name)
            else:
                # a reference to a commonStruct, resolved after parsing
                self.struct_ref = base

        # Tagged fields: a tag and open-ended taggedVersions within the
        # flexible versions of the message.
        if self.tag != -1 or not self.tagged.empty():
            if self.tag == -1 or self.tagged.empty():
                raise SpecError("%s: tag and taggedVersions go together" % what)
            if not isinstance(self.tag, int) or self.tag < 0:
                raise SpecError("%s: bad tag %r" % (what, self.tag))
            if not self.tagged.subset_of(msg.flexible):
                raise SpecError("%s: tagged outside flexible versions" % what)
            if not self.tagged.subset_of(self.versions):
                raise SpecError("%s: taggedVersions not within versions" % what)

        # Kafka allows nullable uuids but no spec has one, and their
        # encoding is not defined anywhere the walker could follow.
        nullable_ok = self.is_array or base in ("string", "bytes",
                                                "records") \
            or self.struct_like()
        if not self.nullable.empty() and not nullable_ok:
            raise SpecError("%s: type %s cannot be nullable" % (what, t))

        self.default = self.parse_default(spec.get("default"), what)

    def struct_like(self):
        return self.base not in PRIMITIVES

    def parse_default(self, d, what):
        """Return (int value, is_null) for the tables."""
        if d is None:
            return (0, False)
        if isinstance(d, bool):
            d = "true" if d else "false"
        if isinstance(d, int):
            d = str(d)
        if d == "null":
            if self.nullable.empty() or not self.versions.subset_of(
                    self.nullable):
                raise SpecError("%s: null default on a field that is not "
                                "always nullable" % what)
            return (0, True)
        if self.is_array or self.struct_like():
            raise SpecError("%s: default %r for %s" % (what, d, self.base))
        if self.base == "bool":
            if d not in ("true", "false"):
                raise SpecError("%s: bad bool default %r" % (what, d))
            return (1 if d == "true" else 0, False)
        if self.base in INT_RANGES:
            try:
                v = int(d, 0)
            except ValueError:
                raise SpecError("%s: bad int default %r" % (what, d))
            lo, hi = INT_RANGES[self.base]
            if not lo <= v <= hi:
                raise SpecError("%s: default %r out of range" % (what, d))
            return (v, False)
        if self.base == "string" and d == "":
            return (0, False)
        raise SpecError("%s: unsupported default %r for %s"
                        % (what, d, self.base))


class Struct:
    def __init__(self, name, cname):
        self.name = name
        self.cname = cname
        self.fields = []
        self.broker_endpoint = False
        self.port16_endpoint = False
        self.emitted = False


class Message:
    def __init__(self, file, spec):
        self.file = file
        self.name = spec["name"]
        self.type = spec["type"]
        self.api_key = spec["apiKey"]
        self.valid = Versions(spec["validVersions"], file)
        self.flexible = Versions(spec.get("flexibleVersions", "none"), file)
        self.latest_unstable = bool(spec.get("latestVersionUnstable", False))
        self.listeners = spec.get("listeners", [])
        for li in self.listeners:
            if li not in LISTENERS:
                raise SpecError("%s: unknown listener %r" % (file, li))
        if not self.flexible.empty() and self.flexible.hi != INT16_MAX:
            raise SpecError("%s: flexibleVersions must be open ended" % file)
        self.structs = {}       # name -> Struct, defined in this file
        self.order = []         # Structs in definition order
        self.root = Struct(self.name, "%s" % c_ident(self.name))
        for cs in spec.get("commonStructs", []):
            self.define_struct(cs["name"], cs["fields"], "commonStructs")
        self.root.fields = [Field(f, self, f["name"])
                            for f in spec.get("fields", [])]
        self.resolve(self.root)
        for s in self.order:
            self.resolve(s)
        self.check(self.root, "")
        self.mark_endpoints()

    def define_struct(self, name, fields, path):
        if name in self.structs:
            raise SpecError("%s: struct %s defined twice" % (self.file, name))
        s = Struct(name, "%s_%s" % (c_ident(self.name), c_ident(name)))
        self.structs[name] = s
        self.order.append(s)
        s.fields = [Field(f, self, path + "." + f["name"]) for f in fields]
        return s

    def resolve(self, s):
        for f in s.fields:
            if f.struct is None and f.struct_like():
                if f.struct_ref not in self.structs:
                    raise SpecError("%s: %s: unknown type %s"
                                    % (self.file, f.path, f.struct_ref))
                f.struct = self.structs[f.struct_ref]

    def check(self, s, path):
        """Per struct: unique names, unique tags among tagged fields."""
        names, tags = set(), {}
        for f in s.fields:
            if f.name in names:
                raise SpecError("%s: %s: duplicate field %s"
                                % (self.file, path, f.name))
            names.add(f.name)
            if f.tag != -1:
                if f.tag in tags:
                    raise SpecError("%s: %s: tag %d used twice"
                                    % (self.file, path, f.tag))
                tags[f.tag] = f
            if f.struct is not None:
                self.check(f.struct, path + "." + f.name)

    def mark_endpoints(self):
        """A struct with a string Host and an int32 Port is an address
        handed out to clients (Metadata brokers, coordinators, KIP-951
        NodeEndpoints, ...)."""
        self.has_endpoints = False
        seen = set()

        def visit(s):
            if id(s) in seen:
                return
            seen.add(id(s))
            types = {f.name: (f.is_array, f.base) for f in s.fields}
            if types.get("Host") == (False, "string"):
                if types.get("Port") == (False, "int32"):
                    s.broker_endpoint = True
                    self.has_endpoints = True
                elif types.get("Port") == (False, "uint16"):
                    # KRaft controller listeners, Kafka Streams user
                    # endpoints: flagged apart, the module decides.
                    s.port16_endpoint = True
            for f in s.fields:
                if f.struct is not None:
                    visit(f.struct)

        visit(self.root)

    def api_name(self):
        suffix = "Request" if self.type == "request" else "Response"
        if not self.name.endswith(suffix):
            raise SpecError("%s: name %s does not end in %s"
                            % (self.file, self.name, suffix))
        return self.name[: -len(suffix)]


def load_specs(jar):
    msgs = []
    with zipfile.ZipFile(jar) as z:
        names = sorted(n for n in z.namelist()
                       if n.startswith(SPEC_DIR) and n.endswith(".json")
                       and "/" not in n[len(SPEC_DIR):])
        if not names:
            raise SpecError("%s: no %s*.json" % (jar, SPEC_DIR))
        for n in names:
            spec = json.loads(strip_comments(z.read(n).decode("utf-8")))
            if spec.get("type") not in ("request", "response"):
                continue        # headers, record and data schemas
            msgs.append(Message(os.path.basename(n), spec))
        try:
            props = z.read("kafka/kafka-version.properties").decode()
        except KeyError:
            props = ""
    info = dict(line.split("=", 1) for line in props.splitlines()
                if "=" in line)
    return msgs, info.get("version", "unknown"), info.get("commitId", "")


def pair_check(msgs):
    """Requests and responses come in pairs with the same versions."""
    by = {}
    for m in msgs:
        by.setdefault(m.api_key, {})[m.type] = m
    for k, d in sorted(by.items()):
        if set(d) != {"request", "response"}:
            raise SpecError("api key %d: missing request or response" % k)
        rq, rs = d["request"], d["response"]
        if (rq.valid.lo, rq.valid.hi) != (rs.valid.lo, rs.valid.hi):
            raise SpecError("api key %d: request/response validVersions "
                            "differ" % k)
        if rq.api_name() != rs.api_name():
            raise SpecError("api key %d: names differ" % k)
    return by


HEADER_NOTE = """\
/*
 * GENERATED by tools/kafka-codegen/generate.py from the JSON message specs
 * (common/message/NAME.json) of Apache Kafka %(version)s (commit %(commit)s,
 * kafka-clients jar sha256 %(sha)s).
 * Do not edit: change the generator and regenerate.
 */
"""


def emit_header(by, version, commit, sha):
    o = []
    w = o.append
    w(HEADER_NOTE % {"version": version, "commit": commit,
                     "sha": sha[:16]})
    w("")
    w("#ifndef HOOP_KAFKA_MESSAGES_H")
    w("#define HOOP_KAFKA_MESSAGES_H")
    w("")
    w('#include "../hoop_kafka_schema.h"')
    w("")
    w("")
    w('#define HOOP_KAFKA_SPEC_VERSION  "%s"' % version)
    w('#define HOOP_KAFKA_SPEC_COMMIT   "%s"' % commit)
    w("#define HOOP_KAFKA_API_KEY_MAX   %d" % max(by))
    w("")
    w("/* ApiKey numbers, named after the message (Kafka's ApiKeys). */")
    w("enum {")
    keys = sorted(by)
    for i, k in enumerate(keys):
        name = by[k]["request"].api_name()
        w("    HOOP_KAFKA_API_%s = %d%s" % (upper_snake(name), k,
                                            "," if i + 1 < len(keys) else ""))
    w("};")
    w("")
    w("/*")
    w(" * Indexed by ApiKey, 0..HOOP_KAFKA_API_KEY_MAX; NULL where Kafka has")
    w(" * no such key.  A message whose valid versions are empty was removed")
    w(" * from Kafka but keeps its key.")
    w(" */")
    w("extern const hoop_kafka_message_t *const")
    w("    hoop_kafka_request_messages[HOOP_KAFKA_API_KEY_MAX + 1];")
    w("extern const hoop_kafka_message_t *const")
    w("    hoop_kafka_response_messages[HOOP_KAFKA_API_KEY_MAX + 1];")
    w("")
    w("#endif /* HOOP_KAFKA_MESSAGES_H */")
    return "\n".join(o) + "\n"


def field_flags(f):
    fl = []
    if f.map_key:
        fl.append("HOOP_KAFKA_FIELD_MAP_KEY")
    if f.zero_copy:
        fl.append("HOOP_KAFKA_FIELD_ZERO_COPY")
    if f.ignorable:
        fl.append("HOOP_KAFKA_FIELD_IGNORABLE")
    if f.default[1]:
        fl.append("HOOP_KAFKA_FIELD_DEFAULT_NULL")
    return "|".join(fl) if fl else "0"


def c_int64(v):
    if v == -(1 << 63):
        return "INT64_MIN"
    if v < -(1 << 31) or v > (1 << 31) - 1:
        return "INT64_C(%d)" % v
    return "%d" % v


def emit_struct(o, msg, s):
    """Emit s after every struct it uses (C needs definitions first)."""
    if s.emitted:
        return
    s.emitted = True
    for f in s.fields:
        if f.struct is not None:
            emit_struct(o, msg, f.struct)
    w = o.append
    if s.fields:
        w("static const hoop_kafka_field_t")
        w("    hoop_kafka_f_%s[] = {" % s.cname)
        for f in s.fields:
            if f.is_array:
                t = "HOOP_KAFKA_T_ARRAY"
                et = ("HOOP_KAFKA_T_STRUCT" if f.struct is not None
                      else PRIMITIVES[f.base])
            else:
                t = ("HOOP_KAFKA_T_STRUCT" if f.struct is not None
                     else PRIMITIVES[f.base])
                et = "0"
            st = ("&hoop_kafka_s_%s" % f.struct.cname
                  if f.struct is not None else "NULL")
            ent = ENTITY_TYPES[f.entity] if f.entity else "0"
            line = "    { %s, %s," % (c_string(f.name), st)
            if len(line) > 80:
                w("    { %s," % c_string(f.name))
                w("      %s," % st)
            else:
                w(line)
            w("      %s, %s," % (f.versions.c(), f.nullable.c()))
            w("      %s, %s," % (f.tagged.c(), f.flexible.c()))
            w("      %d, %s, %s, %s," % (f.tag, c_int64(f.default[0]), t, et))
            line = "      %s, %s }," % (ent, field_flags(f))
            if len(line) > 80:
                w("      %s," % ent)
                w("      %s }," % field_flags(f).replace("|", "\n      | "))
            else:
                w(line)
        w("};")
        w("")
    flags = []
    if s.broker_endpoint:
        flags.append("HOOP_KAFKA_STRUCT_BROKER_ENDPOINT")
    if s.port16_endpoint:
        flags.append("HOOP_KAFKA_STRUCT_PORT16_ENDPOINT")
    w("static const hoop_kafka_struct_t")
    w("    hoop_kafka_s_%s = {" % s.cname)
    w("    %s," % c_string(s.name))
    w("    %s, %d," % (("hoop_kafka_f_%s" % s.cname) if s.fields else "NULL",
                     len(s.fields)))
    w("    %s" % ("|".join(flags) or "0"))
    w("};")
    w("")


def emit_source(by, version, commit, sha):
    o = []
    w = o.append
    w(HEADER_NOTE % {"version": version, "commit": commit,
                     "sha": sha[:16]})
    w("")
    w("#include <stddef.h>")
    w("#include <stdint.h>")
    w("")
    w('#include "hoop_kafka_messages.h"')
    w("")
    w("")
    for k in sorted(by):
        for kind in ("request", "response"):
            m = by[k][kind]
            w("/* %s: ApiKey %d, versions %s, flexible %s */"
              % (m.name, k, m.valid, m.flexible))
            w("")
            emit_struct(o, m, m.root)
            flags = []
            if m.latest_unstable:
                flags.append("HOOP_KAFKA_MESSAGE_LATEST_UNSTABLE")
            if m.has_endpoints:
                flags.append("HOOP_KAFKA_MESSAGE_BROKER_ENDPOINTS")
            listeners = "|".join(LISTENERS[x] for x in m.listeners) or "0"
            w("static const hoop_kafka_field_t")
            w("    hoop_kafka_r_%s = {" % c_ident(m.name))
            w("    %s," % c_string(m.name))
            w("    &hoop_kafka_s_%s," % m.root.cname)
            w("    %s, %s," % (m.valid.c(), Versions.none().c()))
            w("    %s, %s," % (Versions.none().c(), m.flexible.c()))
            w("    -1, 0, HOOP_KAFKA_T_STRUCT, 0, 0, 0")
            w("};")
            w("")
            w("static const hoop_kafka_message_t")
            w("    hoop_kafka_m_%s = {" % c_ident(m.name))
            w("    %s, %s," % (c_string(m.name), c_string(m.api_name())))
            w("    &hoop_kafka_r_%s," % c_ident(m.name))
            w("    %s, %s," % (m.valid.c(), m.flexible.c()))
            w("    %d, %d," % (k, 1 if kind == "response" else 0))
            w("    %s, %s" % (listeners, "|".join(flags) or "0"))
            w("};")
            w("")
    for kind, var in (("request", "hoop_kafka_request_messages"),
                      ("response", "hoop_kafka_response_messages")):
        w("const hoop_kafka_message_t *const")
        w("    %s[HOOP_KAFKA_API_KEY_MAX + 1] = {" % var)
        for k in range(max(by) + 1):
            if k in by:
                w("    &hoop_kafka_m_%s," % c_ident(by[k][kind].name))
            else:
                w("    NULL,")
        w("};")
        w("")
    return "\n".join(o).rstrip("\n") + "\n"


def write_if_changed(path, text):
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as fh:
            if fh.read() == data:
                return False
    except FileNotFoundError:
        pass
    with open(path, "wb") as fh:
        fh.write(data)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jar", required=True, help="kafka-clients jar")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--list", action="store_true",
                    help="also print a summary of every message")
    args = ap.parse_args()

    try:
        msgs, version, commit = load_specs(args.jar)
        by = pair_check(msgs)
    except (SpecError, KeyError, ValueError) as e:
        sys.exit("generate.py: %s" % e)

    with open(args.jar, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()

    os.makedirs(args.out, exist_ok=True)
    h = emit_header(by, version, commit, sha)
    c = emit_source(by, version, commit, sha)
    for name, text in (("hoop_kafka_messages.h", h),
                       ("hoop_kafka_messages.c", c)):
        write_if_changed(os.path.join(args.out, name), text)

    if args.list:
        for k in sorted(by):
            rq, rs = by[k]["request"], by[k]["response"]
            print("%3d %-32s %-6s flexible %-5s%s%s" % (
                k, rq.api_name(), rq.valid, rq.flexible,
                " endpoints:request" if rq.has_endpoints else "",
                " endpoints:response" if rs.has_endpoints else ""))
    print("generate.py: Kafka %s, %d ApiKeys -> %s"
          % (version, len(by), args.out))


if __name__ == "__main__":
    main()
