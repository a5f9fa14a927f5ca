"""A property test: one job on random tables leaves the same result on every
execution path, and that result is what an independent model of the job,
written here from docs/job-spec.md, computes.

The paths: SQLite in place with pushdown (mapping ahead on a second thread,
and without reading ahead) and without it (with read_ahead on and off);
PostgreSQL in place with pushdown (reading ahead in a second session, and one
statement per batch) and without it; and across stores, SQLite into
PostgreSQL and PostgreSQL into SQLite. Each path gets its own copy of the
case's table; after the run every column of every row, the run's counters
and the problems recorded in the ledger are compared with the model.

Cases come from random.Random(seed) with seeds BASE, BASE+1, ...; every
failure names its case's seed. To replay one case:
    BACKFILL_PROPERTY_SEED=<seed> BACKFILL_PROPERTY_CASES=1 python3 -m unittest -v test_same_result_on_every_path
BACKFILL_PROPERTY_CASES sets how many cases run (default below); a slow
binary (a sanitizer build) stops adding cases after
BACKFILL_PROPERTY_SECONDS per test and says how many ran."""
import json
import math
import os
import re
import random
import shutil
import sqlite3
import time
import unittest
from datetime import datetime, timedelta, timezone

from pg_server import server
from support import command_json, TempDirTest, assert_counters_add_up, run

BASE_SEED = int(os.environ.get("BACKFILL_PROPERTY_SEED", "20261201"))
CASES = int(os.environ.get("BACKFILL_PROPERTY_CASES", "200"))
SECONDS = float(os.environ.get("BACKFILL_PROPERTY_SECONDS", "40"))

# ---------------------------------------------------------------------------
# The model: the documented conversions, written independently of the engine.

MIN_MS = -62135596800000  # 0001-01-01T00:00:00.000Z
MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
INT64 = (-2 ** 63, 2 ** 63 - 1)


class OneOf:
    """A value the docs allow in more than one spelling (a JSON real with
    no fraction as text: "7" or "7.0"). The paths must still agree exactly."""

    def __init__(self, *options):
        self.options = tuple(dict.fromkeys(options))

    def __eq__(self, other):
        if isinstance(other, OneOf):
            return self.options == other.options
        return other in self.options

    def __hash__(self):
        return hash(self.options)

    def __repr__(self):
        return "OneOf" + repr(self.options)


def iso_from_ms(ms):
    t = EPOCH + timedelta(milliseconds=ms)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{ms % 1000:03d}Z"


def whole_seconds(iso_ms, typed):
    """An instant as format "rfc3339" writes it: cut to the second (rounded
    down, before 1970 too), without a fraction; in a typed column, the same
    instant as read back with milliseconds."""
    ms = timestamp_ms_from_text(iso_ms)
    text = iso_from_ms(ms - ms % 1000)
    return text if typed else text[:19] + "Z"


def ms_or_none(ms):
    return ms if MIN_MS <= ms <= MAX_MS else None


def epoch_number_ms(x):
    """Epoch seconds, or milliseconds from 1e11 up; rounded to the nearest
    millisecond (the generator makes no halves, where rounding rules differ)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    ms = x if abs(x) >= 1e11 else x * 1000
    if ms > MAX_MS + 0.5 or ms < MIN_MS - 0.5:
        return None
    return ms_or_none(int(round(ms)))


ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?)?$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")


def timestamp_ms_from_text(s):
    """ISO-8601 with T or a space, optional fraction (cut to milliseconds),
    Z or +hh:mm/+hhmm or no zone (UTC); a date alone is its midnight;
    decimal text is an epoch number. Instants outside years 1..9999: none."""
    if DECIMAL.match(s):
        return epoch_number_ms(float(s))
    m = ISO.match(s)
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    hour, minute, second = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
    if not (1 <= month <= 12) or hour > 23 or minute > 59 or second > 59:
        return None
    try:
        # Year 0 is no date to datetime; early years shift by 400 (the calendar repeats).
        shift = 400 if year < 400 else 0
        base = datetime(year + shift, month, day, tzinfo=timezone.utc)
    except ValueError:
        return None
    days = (base - EPOCH).days - (146097 if shift else 0)
    millis = int(((m[7] or "") + "000")[:3])
    offset = 0
    if m[8] and m[8] != "Z":
        sign = -1 if m[8][0] == "-" else 1
        digits = m[8][1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 60 + int(digits[2:] or 0))
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset * 60
    return ms_or_none(seconds * 1000 + millis)


def to_timestamp(v):
    if v is None or isinstance(v, (bool, dict, list)):
        return None
    if isinstance(v, Instant):
        return ms_or_none(v.us // 1000)
    if isinstance(v, int):
        if not INT64[0] <= v <= 2 ** 64 - 1:
            return None  # too large for 64 bits: no number there
        return epoch_number_ms(v)
    if isinstance(v, float):
        return epoch_number_ms(v)
    ms = timestamp_ms_from_text(v)
    return ms


def to_integer(v):
    """Integers, integral reals, integer text, numeric text of an integral
    value (up to 2^53, as reals), booleans as 1 or 0; nothing past 64 bits."""
    if isinstance(v, bool):
        return int(v)
    if v is None or isinstance(v, (dict, list, Instant)):
        return None
    if isinstance(v, int):
        return v if INT64[0] <= v <= INT64[1] else None
    if isinstance(v, float):
        return int(v) if v.is_integer() and abs(v) <= 2 ** 53 else None
    if re.fullmatch(r"-?\d+", v):
        n = int(v)
        return n if INT64[0] <= n <= INT64[1] else None
    if re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", v):
        f = float(v)  # numeric text: an integer when its value is one
        return int(f) if f.is_integer() and abs(f) <= 2 ** 53 else None
    return None


def compact_json(v, jsonb):
    """Objects and arrays as compact JSON. PostgreSQL's jsonb orders an
    object's keys by length, then bytes; a text column keeps them."""
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: (len(k.encode()), k.encode())) if jsonb else list(v)
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + compact_json(v[k], jsonb)
                              for k in keys) + "}"
    if isinstance(v, list):
        return "[" + ",".join(compact_json(x, jsonb) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def to_text(v, jsonb):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)  # past 64 bits too: its exact digits
    if isinstance(v, float):
        return OneOf(repr(v), str(int(v))) if v.is_integer() else repr(v)
    if isinstance(v, (dict, list)):
        return compact_json(v, jsonb)
    raise AssertionError(f"no text model for {v!r}")


CONVERT = {"timestamp": lambda v, jsonb: (lambda ms: None if ms is None else iso_from_ms(ms))(to_timestamp(v)),
           "integer": lambda v, jsonb: to_integer(v),
           "text": to_text}


class Instant:
    """A PostgreSQL timestamptz (stored in SQLite as ISO text with +00:00)."""

    def __init__(self, us):
        self.us = us

    def sqlite_text(self):
        t = EPOCH + timedelta(microseconds=self.us)
        return t.strftime("%Y-%m-%d %H:%M:%S.%f").rjust(26, "0") + "+00:00"

    def pg_literal(self):
        return self.sqlite_text()[:-3]


INVALID = object()  # a JSON column that does not parse


def json_at(doc, steps):
    for step in steps:
        if isinstance(step, int):
            if not isinstance(doc, list) or step >= len(doc):
                return None
            doc = doc[step]
        else:
            if not isinstance(doc, dict) or step not in doc:
                return None
            doc = doc[step]
    return doc


# ---------------------------------------------------------------------------
# Random cases.

PATHS = {  # the path in the job file -> its steps
    "$.ts": ["ts"], "$.event.ts": ["event", "ts"], "$.amount": ["amount"], "$.label": ["label"],
    "$.items[0]": ["items", 0], "$.items[1]": ["items", 1], '$.meta["odd key"]': ["meta", "odd key"],
    "$": [],
}
TS_TEXT = ["2026-01-28T10:00:00.123Z", "2026-01-28T10:00:00Z", "2026-01-28 10:00:00",
           "2026-01-28T10:00:00+02:00", "2026-01-28T10:00:00.123-05:30", "2026-01-28T10:00:00+0530",
           "2026-01-28T10:00:00.123456Z", "2026-01-28T10:00:00.5", "2025-12-31T23:59:59.999999999Z",
           "2026-01-28", "2024-02-29T12:00:00Z", "1969-07-20T20:17:40Z", "1969-12-31T23:59:59.9995Z",
           "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "2026-01-01T00:30:00+01:00",
           "0000-12-31T23:00:00-02:00", "1700000000", "1700000000.5", "1700000000123", "-1", "1.7e9",
           # no instant
           "2026-02-30T10:00:00Z", "2026-13-01T00:00:00Z", "2026-01-28T25:00:00Z", "2023-02-29", "soon",
           "", "2026-01-28T10:00:00+05:", "0000-06-01T00:00:00Z", "0001-01-01T00:30:00+01:00",
           "9999-12-31T23:30:00-01:00", "2026-1-28", "12:00"]
TS_NUMBERS = [1700000000, 1700000000.5, 1700000000123, -1, 0, 99999999999, 100000000000,
              -62135596800, -62135596801, 253402300800000, 1700000000.25, 946684800]
INTEGERS = [7, -7, 0, 7.0, -3.0, 7.5, "12", "-3", "007", "0", "seven", "", "7.5", 2 ** 62, -(2 ** 63),
            2 ** 63 - 1, 2 ** 63, 12345678901234567890, 10 ** 25, -(10 ** 25), "9223372036854775807",
            "9223372036854775808", 42]
TEXTS = ["x", "", "ünïcode ✓", 'q"uo\\te', "NULL", 5, -12, 5.5, -0.25, True, False, {"a": [1, 2]},
         [1, "b"], {"zz": 1, "a": {"k": "v"}}, 10 ** 25, 2 ** 63, {"n": 2 ** 63}, {}, []]
# Constants that convert to the field's type (check refuses one that does not).
CONSTANTS = {"timestamp": ['"2026-01-01T00:00:00Z"', "1700000000", '"2026-01-28 10:00:00"'],
             "integer": ["0", "-1", '"42"'],
             "text": ['"none"', '""', "42", "1.5", "true"]}
INVALID_JSON = ["{broken", "", "[1,", "nul", "{'a': 1}", "tru"]


def random_instant(rng):
    if rng.random() < 0.05:
        return Instant(rng.choice([MIN_MS * 1000, MAX_MS * 1000 + 999]))
    return Instant(rng.randrange(-2 * 10 ** 15, 4 * 10 ** 15))  # about 1906 to 2096


def random_iso(rng):
    """A random instant in a random documented ISO shape."""
    ms = rng.randrange(-10 ** 12, 4 * 10 ** 12)
    t = EPOCH + timedelta(milliseconds=ms)
    text = t.strftime("%Y-%m-%d") + rng.choice("T ") + t.strftime("%H:%M:%S")
    text += rng.choice(["", "." + f"{ms % 1000:03d}", "." + f"{ms % 1000:03d}" + "789", ".5"])
    return text + rng.choice(["", "Z", "+00:00", "-03:30", "+0100"])


def random_value(rng, kind):
    """A JSON value meant for a `kind` field, or (one time in four) any other."""
    if rng.random() < 0.25:
        kind = rng.choice(["timestamp", "integer", "text", "odd"])
    if kind == "timestamp":
        r = rng.random()
        return rng.choice(TS_TEXT) if r < 0.4 else rng.choice(TS_NUMBERS) if r < 0.6 else \
            random_iso(rng) if r < 0.85 else rng.randrange(-10 ** 10, 10 ** 10)
    if kind == "integer":
        return rng.choice(INTEGERS) if rng.random() < 0.6 else rng.randrange(-10 ** 6, 10 ** 6)
    if kind == "text":
        return rng.choice(TEXTS) if rng.random() < 0.7 else "t" + str(rng.randrange(1000))
    return rng.choice([None, True, False, {"ts": "2026-01-28T10:00:00Z"}, ["2026-01-28T10:00:00Z"], 3.5])


def random_payload(rng):
    r = rng.random()
    if r < 0.03:
        return None
    if r < 0.08:
        return INVALID
    if r < 0.12:
        return rng.choice([[1, 2], "just text", 17, 1.5, True])
    doc = {}
    if rng.random() < 0.7:
        doc["ts"] = random_value(rng, "timestamp")
    if rng.random() < 0.5:
        event = rng.random()
        doc["event"] = {"ts": random_value(rng, "timestamp")} if event < 0.8 else \
            rng.choice(["2026-01-28T10:00:00Z", [1], None, {}])
    if rng.random() < 0.6:
        doc["amount"] = random_value(rng, "integer")
    if rng.random() < 0.6:
        doc["label"] = random_value(rng, "text")
    if rng.random() < 0.4:
        doc["items"] = [random_value(rng, rng.choice(["timestamp", "integer", "text"]))
                        for _ in range(rng.randrange(0, 3))] if rng.random() < 0.85 else {"0": 1}
    if rng.random() < 0.3:
        doc["meta"] = {"odd key": random_value(rng, "text"), "n": rng.randrange(100)}
    keys = list(doc)
    rng.shuffle(keys)
    return {k: doc[k] for k in keys}


def payload_text(rng, payload):
    """The SQLite text of a payload, in one of several spellings."""
    if payload is INVALID:
        return rng.choice(INVALID_JSON)
    return json.dumps(payload, ensure_ascii=False,
                      **rng.choice([{}, {"separators": (",", ":")}, {"indent": 1}]))


def random_note(rng):
    r = rng.random()
    if r < 0.2:
        return None
    if r < 0.5:
        return rng.choice(TS_TEXT)
    if r < 0.6:
        return random_iso(rng)
    if r < 0.8:
        return rng.choice(["42", "-7", "007", "seven", "", "7.5", "12345678901234567890", "1700000000"])
    return "note " + str(rng.randrange(100))


FIELD_TYPES = ["timestamp", "integer", "text"]


class Case:
    """One random table and one job over it."""

    def __init__(self, seed):
        self.seed = seed
        rng = random.Random(seed)
        self.key_kind = rng.choice(["rowid", "integer", "integer", "text", "composite"])
        size = rng.choice([5, 10, 20, 40, 80, 200]) if rng.random() < 0.9 else rng.randrange(1, 8)
        self.batch_size = rng.choice([1, 2, 3, 7, 16, 50, size, size + 1, 1000])
        self.filter = rng.random() < 0.4
        self.key_in_job = rng.random() < 0.5
        self.fields = []
        for f in range(rng.randrange(1, 4)):
            kind = rng.choice(FIELD_TYPES)
            chain = []
            for _ in range(rng.randrange(1, 4)):
                r = rng.random()
                if r < 0.6:
                    chain.append(("path", rng.choice(list(PATHS) if rng.random() < 0.1 else list(PATHS)[:-1])))
                elif r < 0.85:
                    chain.append(("column", rng.choice(["note", "n", "at"] if kind == "timestamp" else ["note", "n"])))
                else:  # a constant always gives a value: it ends the chain (check refuses any source after it)
                    chain.append(("value", rng.choice(CONSTANTS[kind])))
                    break
            policy = "overwrite" if rng.random() < 0.15 else "fill_null"
            self.fields.append({"column": f"f{f}", "type": kind, "policy": policy, "from": chain})
        # PostgreSQL target columns: timestamps as timestamptz or text,
        # integers as bigint, or now and then integer (some values do not fit).
        for field in self.fields:
            field["pg_type"] = {"timestamp": rng.choice(["timestamptz", "text"]),
                                "integer": "integer" if rng.random() < 0.15 else "bigint",
                                "text": "text"}[field["type"]]
        fill_rate = rng.choice([0, 0.1, 0.3, 0.6])
        self.rows = []
        keys = set()
        while len(self.rows) < size:
            if self.key_kind in ("rowid", "integer"):
                key = (rng.randrange(-50, 50) if rng.random() < 0.3 else rng.randrange(-10 ** 12, 10 ** 12),)
            elif self.key_kind == "text":
                key = ("".join(rng.choice("abcXYZ019 -é") for _ in range(rng.randrange(1, 6))),)
            else:
                key = (rng.choice(["a", "b", "B", "ü"]), rng.randrange(-5, 20) if rng.random() < 0.5 else rng.randrange(-10 ** 6, 10 ** 6))
            if key in keys:
                continue
            keys.add(key)
            payload = random_payload(rng)
            row = {"key": key, "kind": rng.choice(["a", "b", "skip", None]),
                   "payload": payload, "payload_text": None if payload is None else payload_text(rng, payload),
                   "note": random_note(rng),
                   "n": rng.choice([None, None, 1700000000, 42, -5, 0, 1700000000123, rng.randrange(-10 ** 9, 10 ** 9)]),
                   "at": None if rng.random() < 0.3 else random_instant(rng),
                   "targets": {}}
            for field in self.fields:
                row["targets"][field["column"]] = self.prefilled(rng, field) if rng.random() < fill_rate else None
            self.rows.append(row)
        rng.shuffle(self.rows)  # inserted in random order
        self.rng = rng
        # Timestamps to the second (format "rfc3339"), which both fast paths
        # write, for fill_null fields: drawn apart, so that the rest of a
        # seed's case stays as it was.
        format_rng = random.Random(seed ^ 0x5EC0)
        for field in self.fields:
            if field["type"] == "timestamp" and field["policy"] == "fill_null":
                field["format"] = format_rng.choice(["rfc3339_ms", "rfc3339_ms", "rfc3339"])

    @staticmethod
    def prefilled(rng, field):
        if field["type"] == "timestamp":
            return iso_from_ms(rng.choice([1700000000000, 0, rng.randrange(0, 4 * 10 ** 12)]))
        if field["type"] == "integer":
            return rng.choice([1, -1, 99])
        return rng.choice(["kept", "x", ""])

    def key_columns(self):
        return ["grp", "seq"] if self.key_kind == "composite" else ["id"]

    def in_scope(self, row):
        return not self.filter or (row["kind"] is not None and row["kind"] != "skip")

    def describe(self):
        return (f"seed {self.seed} (replay: BACKFILL_PROPERTY_SEED={self.seed} BACKFILL_PROPERTY_CASES=1): "
                f"{len(self.rows)} rows, {self.key_kind} key, batch_size {self.batch_size}, "
                f"filter {self.filter}, fields {[(f['column'], f['type'], f['policy'], f.get('format', 'rfc3339_ms'), f['from']) for f in self.fields]}")

    # -- the job file ------------------------------------------------------

    def job_text(self, job_name, source_url, table, pushdown, read_ahead, target=None):
        lines = ["[job]", f"name = {json.dumps(job_name)}", "", "[source]", f"url = {json.dumps(source_url)}",
                 f"table = {json.dumps(table)}"]
        if self.key_in_job:
            lines.append(f"key = {json.dumps(self.key_columns())}")
        if self.filter:
            lines.append("filter = \"kind <> 'skip'\"")
        if target:
            lines += ["", "[target]", f"url = {json.dumps(target[0])}", f"table = {json.dumps(target[1])}"]
        lines += ["", "[options]", f"batch_size = {self.batch_size}", f"pushdown = {str(pushdown).lower()}",
                  f"read_ahead = {str(read_ahead).lower()}"]
        for field in self.fields:
            sources = []
            for kind, what in field["from"]:
                if kind == "path":
                    sources.append(f"{{ column = \"payload\", path = {json.dumps(what)} }}")
                elif kind == "column":
                    sources.append(f"{{ column = {json.dumps(what)} }}")
                else:
                    sources.append(f"{{ value = {what} }}")
            lines += ["", f"[fields.{field['column']}]", f"type = \"{field['type']}\"",
                      f"policy = \"{field['policy']}\"", f"from = [{', '.join(sources)}]"]
            if field.get("format") == "rfc3339":
                lines.append('format = "rfc3339"')
        return "\n".join(lines) + "\n"

    def pushdown_allowed_on_postgres(self):
        """docs/operations.md: every field fill_null (the generator makes only
        the field types and sources the push-down takes: text, integer and
        timestamp fields from jsonb paths, columns and constants)."""
        return all(f["policy"] == "fill_null" for f in self.fields)

    # -- the model ---------------------------------------------------------

    def source_value(self, row, source, store):
        """What a source reads from `row` in `store`: (value, invalid_json)."""
        kind, what = source
        if kind == "value":
            return json.loads(what), False
        if kind == "column":
            return row[what], False
        payload = row["payload"]
        if payload is None or (payload is INVALID and store == "postgres"):
            return None, False  # a NULL column (PostgreSQL's jsonb holds no invalid JSON: NULL there)
        if payload is INVALID:
            return None, True
        return json_at(payload, PATHS[what]), False

    def expected(self, store, in_place=True, target_rows=None):
        """The table after the job, and the run's counters and problems.

        `store` is where the source rows live ("sqlite" or "postgres": JSON in
        a text column, or jsonb). In place, the rows are the target; across
        stores `target_rows` (key -> field values, PostgreSQL or SQLite) is the
        target table, never read by the run."""
        counters = dict.fromkeys(["read", "updated", "skipped", "no_value", "guarded", "no_target", "failed",
                                  "unreadable", "fallback", "missing", "invalid_json", "emptied"], 0)
        problems = []
        jsonb = store == "postgres"
        target_store = "postgres" if (in_place and store == "postgres") or (not in_place and store == "sqlite") \
            else "sqlite"
        targets = {row["key"]: dict(row["targets"]) for row in self.rows} if in_place else \
            {k: dict(v) for k, v in target_rows.items()}
        for row in self.rows:
            if not self.in_scope(row):
                continue
            counters["read"] += 1
            current = targets.get(row["key"]) if in_place else None
            needed = [in_place is False or f["policy"] == "overwrite" or current[f["column"]] is None
                      for f in self.fields]
            if not any(needed):
                counters["skipped"] += 1  # every target filled: nothing parsed
                continue
            values, chosen, invalid = [], [], False
            for field in self.fields:
                value, index = None, -1
                for k, source in enumerate(field["from"]):
                    raw, bad = self.source_value(row, source, store)
                    invalid = invalid or bad
                    converted = CONVERT[field["type"]](raw, jsonb)
                    if converted is not None and field.get("format") == "rfc3339":
                        # docs/job-spec.md: fraction digits cut; a timestamptz
                        # column holds the instant itself (read back with .MS).
                        typed = target_store == "postgres" and field["pg_type"] == "timestamptz"
                        converted = whole_seconds(converted, typed)
                    if converted is not None:
                        value, index = converted, k
                        break
                values.append(value)
                chosen.append(index)
            fallback = any(n and c > 0 for n, c in zip(needed, chosen))
            missing = [f["column"] for f, n, c in zip(self.fields, needed, chosen) if n and c < 0]
            counters["fallback"] += fallback
            counters["missing"] += bool(missing)
            counters["invalid_json"] += invalid
            if invalid:
                problems.append((row["key"], "", "invalid_json"))
            problems += [(row["key"], column, "missing") for column in missing]
            if in_place:
                useful = any(n and v is not None and (current[f["column"]] is None or current[f["column"]] != v)
                             for f, n, v in zip(self.fields, needed, values))
            else:
                useful = any(v is not None for v in values)
            if not useful:
                counters["no_value" if missing else "skipped"] += 1
                continue
            target = targets.get(row["key"])
            if target is None:
                counters["no_target"] += 1
                problems.append((row["key"], "", "no_target_row"))
                continue
            after = dict(target)
            for field, n, v in zip(self.fields, needed, values):
                if n and v is not None and (field["policy"] == "overwrite" or after[field["column"]] is None):
                    after[field["column"]] = v
            if after == target:
                counters["skipped"] += 1  # across stores the write's guard finds nothing to change
                continue
            if self.rejected(after, target_store):
                counters["failed"] += 1
                problems.append((row["key"], "", "write_error"))
                continue
            counters["updated"] += 1
            targets[row["key"]] = after
        return targets, counters, problems

    def rejected(self, values, target_store):
        """PostgreSQL refuses a value that does not fit an integer column."""
        if target_store != "postgres":
            return False
        for field in self.fields:
            v = values[field["column"]]
            if field["pg_type"] == "integer" and isinstance(v, int) and not -2 ** 31 <= v < 2 ** 31:
                return True
        return False


# ---------------------------------------------------------------------------
# The stores: each case's table in SQLite and in PostgreSQL, and reading it back.

SQLITE_FIELD_TYPES = {"timestamp": "TEXT", "integer": "INTEGER", "text": "TEXT"}


def sqlite_key_sql(case):
    return {"rowid": ["id INTEGER PRIMARY KEY"], "integer": ["id BIGINT PRIMARY KEY"],
            "text": ["id TEXT PRIMARY KEY"],
            "composite": ["grp TEXT NOT NULL", "seq INTEGER NOT NULL"]}[case.key_kind]


def make_sqlite_table(case, path, only_targets=None):
    """The case's table in a new SQLite file; with `only_targets` (key ->
    field values) a target table of keys and field columns only."""
    db = sqlite3.connect(path)
    columns = sqlite_key_sql(case)
    if only_targets is None:
        columns += ["kind TEXT", "payload TEXT", "note TEXT", "n INTEGER", "at TEXT"]
    columns += [f"{f['column']} {SQLITE_FIELD_TYPES[f['type']]}" for f in case.fields]
    if case.key_kind == "composite":
        columns.append("PRIMARY KEY (grp, seq)")
    without_rowid = " WITHOUT ROWID" if case.key_kind == "text" and case.seed % 2 else ""
    db.execute(f"CREATE TABLE t ({', '.join(columns)}){without_rowid}")
    marks = ", ".join("?" * len(columns[:-1] if case.key_kind == "composite" else columns))
    if only_targets is None:
        for row in case.rows:
            db.execute(f"INSERT INTO t VALUES ({marks})",
                       [*row["key"], row["kind"], row["payload_text"], row["note"], row["n"],
                        None if row["at"] is None else row["at"].sqlite_text(),
                        *(row["targets"][f["column"]] for f in case.fields)])
    else:
        for key, values in only_targets.items():
            db.execute(f"INSERT INTO t VALUES ({marks})", [*key, *(values[f["column"]] for f in case.fields)])
    db.commit()
    db.close()


def read_sqlite_table(case, path, only_targets=False):
    """key -> {column: value} of every row."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    width = len(case.key_columns())
    rows = {tuple(r)[:width]: dict(r) for r in db.execute("SELECT * FROM t")}
    db.close()
    return rows


def sqlite_problems(path, run_id):
    db = sqlite3.connect(path)
    rows = db.execute("SELECT row_key, field, kind FROM _backfill_failures WHERE run_id = ?", (run_id,)).fetchall()
    db.close()
    return rows


def pg_literal(value, pg_type="text"):
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'" + ("" if pg_type == "text" else "::" + pg_type)


def pg_key_sql(case):
    return {"rowid": ["id bigint"], "integer": ["id bigint"], "text": ["id text"],
            "composite": ["grp text NOT NULL", "seq bigint NOT NULL"]}[case.key_kind]


def pg_create_sql(case, table, only_targets=None):
    columns = pg_key_sql(case)
    if only_targets is None:
        columns += ["kind text", "payload jsonb", "note text", "n bigint", "at timestamptz"]
    columns += [f"{f['column']} {f['pg_type']}" for f in case.fields]
    columns.append(f"PRIMARY KEY ({', '.join(case.key_columns())})")
    values = []
    if only_targets is None:
        for row in case.rows:
            payload = None if row["payload"] is None or row["payload"] is INVALID else row["payload_text"]
            cells = [*(pg_literal(k) for k in row["key"]), pg_literal(row["kind"]), pg_literal(payload, "jsonb"),
                     pg_literal(row["note"]), pg_literal(row["n"]),
                     pg_literal(None if row["at"] is None else row["at"].pg_literal(), "timestamptz")]
            cells += [pg_literal(row["targets"][f["column"]], f["pg_type"]) for f in case.fields]
            values.append("(" + ", ".join(cells) + ")")
    else:
        for key, targets in only_targets.items():
            values.append("(" + ", ".join([*(pg_literal(k) for k in key),
                                           *(pg_literal(targets[f["column"]], f["pg_type"]) for f in case.fields)]) + ")")
    sql = f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({', '.join(columns)});"
    if values:
        sql += f"INSERT INTO {table} VALUES {', '.join(values)};"
    return sql


def pg_select_sql(case, table, only_targets=False):
    """Every column, timestamps as the engine writes them."""
    columns = list(case.key_columns())
    if not only_targets:
        columns += ["kind", "payload::text AS payload", "note", "n", "at::text AS at"]
    for f in case.fields:
        c = f["column"]
        columns.append(f"""to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS {c}"""
                       if f["pg_type"] == "timestamptz" else c)
    return f"SELECT {', '.join(columns)} FROM {table}"


def read_pg_tables(case, db, tables):
    """{table: key -> {column: value}} for several tables in one query."""
    parts = [f"'{t}', (SELECT coalesce(json_agg(q), '[]') FROM ({pg_select_sql(case, t, only)}) q)"
             for t, only in tables]
    result = json.loads(server().psql(f"SELECT translate(json_build_object({', '.join(parts)})::text, E'\\n', ' ')", db)[0][0])
    width = len(case.key_columns())
    return {t: {tuple(r[c] for c in case.key_columns()): r for r in rows} for t, rows in result.items()}


# ---------------------------------------------------------------------------
# The tests.

def cases():
    """The seeds to run, and whether a time budget may stop them early."""
    return range(BASE_SEED, BASE_SEED + CASES), "BACKFILL_PROPERTY_CASES" not in os.environ


PUSHDOWN_CHECK = "each batch is mapped and written by one statement in the database"


class SameResultTest(TempDirTest):
    """Runs every case, each in a subTest named by its seed."""

    def for_each_case(self, check_case):
        seeds, budgeted = cases()
        started = time.time()
        done = 0
        for seed in seeds:
            if budgeted and done and time.time() - started > SECONDS:
                break
            case = Case(seed)
            with self.subTest(seed=seed):
                check_case(case)
            done += 1
        print(f"\n  {self.id().rsplit('.', 1)[-1]}: {done} cases (seeds {seeds.start}..{seeds.start + done - 1}) "
              f"in {time.time() - started:.0f} s", flush=True)
        return done

    def run_job(self, case, job, label):
        result = run("run", job, "--json")
        if result.returncode in (66,) and "text file busy" in result.stderr.lower():
            time.sleep(30)
            result = run("run", job, "--json")
        self.assertEqual(result.returncode, 0, f"{label}: {case.describe()}\n{result.stdout}{result.stderr}")
        summary = command_json(result.stdout)
        assert_counters_add_up(self, summary["counters"])
        return summary, result.stderr

    def assert_check_says(self, case, job, label, pushdown):
        result = run("check", job)
        self.assertEqual(result.returncode, 0, f"{label}: {case.describe()}\n{result.stdout}{result.stderr}")
        self.assertEqual(PUSHDOWN_CHECK in result.stdout, pushdown,
                         f"{label}: check should say the database {'does' if pushdown else 'does not'} map "
                         f"each batch: {case.describe()}\n{result.stdout}")

    def assert_result(self, case, label, before, after, expected, counters, expected_counters, problems,
                      expected_problems):
        """Every column of every row, the counters and the recorded problems."""
        where = f"{label}: {case.describe()}"
        self.assertEqual(sorted(after, key=repr), sorted(before, key=repr), f"{where}: the rows differ")
        field_columns = [f["column"] for f in case.fields]
        wrong = []
        for key, row in after.items():
            for column, value in row.items():
                want = expected[key][column] if column in field_columns else before[key][column]
                if not (want == value and type(value) is type(want if not isinstance(want, OneOf) else value)):
                    source = next((r for r in case.rows if r["key"] == key), None)
                    wrong.append(f"  row {key!r} column {column}: stored {value!r}, expected {want!r}; source "
                                 f"{ {k: source[k] for k in ('kind', 'payload_text', 'note', 'n')} if source else None} "
                                 f"at {None if not source or source['at'] is None else source['at'].sqlite_text()}"
                                 f" targets before {source['targets'] if source else None}")
        self.assertFalse(wrong, f"{where}\n{len(wrong)} values differ from the model:\n" + "\n".join(wrong[:8]))
        self.assertEqual(counters, expected_counters, f"{where}: counters")
        # A problem of the whole row (invalid JSON, no target row, a refused write) names no field.
        actual = [(tuple(json.loads(k)), f or "", kind) for k, f, kind in problems]
        wanted = sorted(expected_problems, key=repr)
        actual_sorted = sorted(actual, key=repr)
        by_kind = {}
        for p in wanted:
            by_kind.setdefault(p[2], []).append(p)
        if all(len(v) <= 100 for v in by_kind.values()):
            self.assertEqual(actual_sorted, wanted, f"{where}: problems recorded in _backfill_failures")
        else:  # the first 100 of each kind are kept
            for p in actual:
                self.assertIn(p, wanted, f"{where}: problem recorded")
            for kind, v in by_kind.items():
                self.assertEqual(sum(1 for p in actual if p[2] == kind), min(len(v), 100), f"{where}: {kind}")

    def assert_paths_agree(self, case, results):
        """The field values each path stored, exactly equal across paths."""
        labels = list(results)
        for label in labels[1:]:
            self.assertEqual(results[label], results[labels[0]],
                             f"{label} and {labels[0]} stored different values: {case.describe()}")


def field_values(case, table):
    return {k: tuple(r[f["column"]] for f in case.fields) for k, r in table.items()}


SQLITE_PATHS = [  # label, pushdown, read_ahead
    ("sqlite pushdown, mapping ahead", True, True),
    ("sqlite pushdown, one connection", True, False),
    ("sqlite engine, read_ahead on", False, True),
    ("sqlite engine, read_ahead off", False, False),
]


class SqliteInPlaceTest(SameResultTest):
    def test_every_sqlite_path_gives_the_models_result(self):
        self.for_each_case(self.check_sqlite_case)

    def check_sqlite_case(self, case):
        base = self.path(f"case{case.seed}.db")
        make_sqlite_table(case, base)
        before = read_sqlite_table(case, base)
        expected, expected_counters, expected_problems = case.expected("sqlite")
        results = {}
        for n, (label, pushdown, read_ahead) in enumerate(SQLITE_PATHS):
            db = self.path(f"case{case.seed}-{n}.db")
            shutil.copy(base, db)
            job = self.write_job(f"case{case.seed}-{n}.toml",
                                 case.job_text(f"c{case.seed}", db, "t", pushdown, read_ahead))
            # The database maps the batches itself for a one-column key.
            applies = pushdown and len(case.key_columns()) == 1
            if n in (0, 2) or applies:
                self.assert_check_says(case, job, label, applies)
            summary, stderr = self.run_job(case, job, label)
            if applies:
                self.assertNotIn("row-by-row path", stderr, f"{label}: left the fast path: {case.describe()}")
            after = read_sqlite_table(case, db)
            self.assert_result(case, label, before, after, expected, summary["counters"], expected_counters,
                               sqlite_problems(db, summary["run_id"]), expected_problems)
            results[label] = field_values(case, after)
        self.assert_paths_agree(case, results)


def pg_problems(db, run_id):
    return server().psql(f"SELECT row_key, field, kind FROM _backfill_failures WHERE run_id = {int(run_id)}", db)


def target_rows_of(case):
    """The target table across stores: most of the source's keys (a missing
    one is a `no_target_row` problem), each with the case's prefilled values."""
    rng = random.Random(case.seed * 7 + 1)
    return {row["key"]: dict(row["targets"]) for row in case.rows if rng.random() < 0.85}


POSTGRES_PATHS = [  # label, pushdown, read_ahead
    ("postgres pushdown, reading ahead", True, True),
    ("postgres pushdown, one session", True, False),
    ("postgres engine", False, True),
]


class PostgresInPlaceTest(SameResultTest):
    DB = "same_result_in_place"

    def test_every_postgres_path_gives_the_models_result(self):
        server().create_database(self.DB)
        self.for_each_case(self.check_postgres_case)

    def check_postgres_case(self, case):
        tables = [f"c{case.seed}_{n}" for n in range(len(POSTGRES_PATHS))]
        server().psql("".join(pg_create_sql(case, t) for t in tables), self.DB)
        before = read_pg_tables(case, self.DB, [(tables[0], False)])[tables[0]]
        expected, expected_counters, expected_problems = case.expected("postgres")
        results = {}
        for (label, pushdown, read_ahead), table in zip(POSTGRES_PATHS, tables):
            job = self.write_job(f"{table}.toml",
                                 case.job_text(table, server().url(self.DB), table, pushdown, read_ahead))
            applies = pushdown and case.pushdown_allowed_on_postgres()
            self.assert_check_says(case, job, label, applies)
            summary, _ = self.run_job(case, job, label)
            after = read_pg_tables(case, self.DB, [(table, False)])[table]
            self.assert_result(case, label, before, after, expected, summary["counters"], expected_counters,
                               pg_problems(self.DB, summary["run_id"]), expected_problems)
            results[label] = field_values(case, after)
        self.assert_paths_agree(case, results)


class CrossStoreTest(SameResultTest):
    """SQLite rows into a PostgreSQL table and PostgreSQL rows into a SQLite
    file, each target holding only keys and the fields' columns."""
    DB = "same_result_cross_store"

    def test_sqlite_into_postgres_and_back_give_the_models_result(self):
        server().create_database(self.DB)
        self.for_each_case(self.check_cross_store_case)

    def check_cross_store_case(self, case):
        targets = target_rows_of(case)
        source_db = self.path(f"case{case.seed}.db")
        make_sqlite_table(case, source_db)
        pg_source, pg_target = f"s{case.seed}", f"t{case.seed}"
        server().psql(pg_create_sql(case, pg_source) + pg_create_sql(case, pg_target, only_targets=targets), self.DB)
        sqlite_target = self.path(f"target{case.seed}.db")
        make_sqlite_table(case, sqlite_target, only_targets=targets)
        before = {k: {**dict(zip(case.key_columns(), k)), **v} for k, v in targets.items()}

        label = "sqlite into postgres"
        job = self.write_job(f"{pg_target}.toml", case.job_text(
            f"into_pg_{case.seed}", source_db, "t", True, True, target=(server().url(self.DB), pg_target)))
        summary, _ = self.run_job(case, job, label)
        after = read_pg_tables(case, self.DB, [(pg_target, True)])[pg_target]
        expected, expected_counters, expected_problems = case.expected("sqlite", in_place=False,
                                                                       target_rows=targets)
        self.assert_result(case, label, before, after, expected, summary["counters"], expected_counters,
                           pg_problems(self.DB, summary["run_id"]), expected_problems)

        label = "postgres into sqlite"
        job = self.write_job(f"into_sqlite{case.seed}.toml", case.job_text(
            f"into_sqlite_{case.seed}", server().url(self.DB), pg_source, True, True, target=(sqlite_target, "t")))
        summary, _ = self.run_job(case, job, label)
        after = read_sqlite_table(case, sqlite_target)
        expected, expected_counters, expected_problems = case.expected("postgres", in_place=False,
                                                                       target_rows=targets)
        self.assert_result(case, label, before, after, expected, summary["counters"], expected_counters,
                           sqlite_problems(sqlite_target, summary["run_id"]), expected_problems)
