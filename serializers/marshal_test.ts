import {
  frameRecords as frame,
  unframeRecords as unframe,
  vectorPayload as payloadOf,
} from "../tests/_vectors.ts";
import assert from "node:assert/strict";
import { SecurityError, SerializeError } from "../errors.ts";
import { peerAvailable, runPython } from "../tests/_peer.ts";
import { assertPyEqual, fromTagged, manifest, type VectorMessage } from "../tests/_vectors.ts";
import { createMarshalSerializer } from "./marshal.ts";
import { ClassRegistry } from "./registry.ts";
import { Complex, FrozenSet, PyFloat, tuple } from "./types.ts";
import { rng as mulberry32 } from "../tests/_random.ts";

/** Leaves class dicts as dicts: the serializer level only, like the manifest's `decoded`. */
class RawRegistry extends ClassRegistry {
  override fromDict(dict: Record<string, unknown>): unknown {
    return dict;
  }
}

const ser = createMarshalSerializer();
const raw = createMarshalSerializer({ registry: new RawRegistry() });

const VECTORS: VectorMessage[] = manifest().messages.filter((m) =>
  m.serializer === "marshal" && m.serialized_payload
);

const PAYLOADS = VECTORS.map(payloadOf);

/** Python: a `tag(value)` function writing the vectors' tagged JSON. */
const PY_TAGGER = `
import sys, marshal, json, base64, math, struct
def tag(v):
    t = type(v)
    if v is None or t is bool or t is str:
        return v
    if t is int:
        return v if -(2**53 - 1) <= v <= 2**53 - 1 else {"$bigint": str(v)}
    if t is float:
        if math.isnan(v): return {"$float": "nan"}
        if math.isinf(v): return {"$float": "inf" if v > 0 else "-inf"}
        if v == 0 and math.copysign(1.0, v) < 0: return {"$float": "-0.0"}
        return v
    if t is complex: return {"$complex": [tag(v.real), tag(v.imag)]}
    if t in (bytes, bytearray): return {"$bytes": base64.b64encode(v).decode()}
    if t is tuple: return {"$tuple": [tag(x) for x in v]}
    if t is list: return [tag(x) for x in v]
    if t is set: return {"$set": [tag(x) for x in v]}
    if t is frozenset: return {"$frozenset": [tag(x) for x in v]}
    if t is dict:
        if all(type(k) is str and not k.startswith("$") for k in v):
            return {k: tag(x) for k, x in v.items()}
        return {"$dict": [[tag(k), tag(x)] for k, x in v.items()]}
    raise TypeError("cannot tag %r" % t)
def items():
    data = sys.stdin.buffer.read()
    p = 0
    while p < len(data):
        n = struct.unpack(">I", data[p:p + 4])[0]
        yield data[p + 4:p + 4 + n]
        p += 4 + n
def out(chunks):
    w = sys.stdout.buffer
    for c in chunks:
        w.write(struct.pack(">I", len(c)) + c)
`;

Deno.test("marshal loads() decodes every marshal vector", () => {
  assert.ok(VECTORS.length > 100);
  for (let i = 0; i < VECTORS.length; i++) {
    const msg = VECTORS[i];
    assertPyEqual(ser.loads(PAYLOADS[i]), fromTagged(msg.decoded), msg.file);
    assertPyEqual(
      raw.loads(PAYLOADS[i]),
      fromTagged(msg.decoded, { classes: false }),
      msg.file + " (raw)",
    );
  }
});

Deno.test("marshal loadsCall() decodes every INVOKE vector", () => {
  let n = 0;
  for (let i = 0; i < VECTORS.length; i++) {
    const msg = VECTORS[i];
    if (msg.msg_type !== 4) continue;
    const expected = fromTagged(msg.decoded) as readonly unknown[];
    const call = ser.loadsCall(PAYLOADS[i]);
    assert.equal(call.objectId, expected[0], msg.file);
    assert.equal(call.method, expected[1], msg.file);
    assert.ok(Array.isArray(call.args) && !Object.isFrozen(call.args));
    assertPyEqual(call.args, expected[2], msg.file);
    assertPyEqual(call.kwargs, expected[3], msg.file);
    // Pyro5's layout: a tuple whose vargs is a list and whose kwargs is a dict.
    const rawCall = raw.loads(PAYLOADS[i]) as readonly unknown[];
    assert.ok(Object.isFrozen(rawCall) && rawCall.length === 4);
    assert.ok(Array.isArray(rawCall[2]) && !Object.isFrozen(rawCall[2]));
    n++;
  }
  assert.ok(n >= 40);
});

Deno.test("marshal dumpsCall() writes Pyro5's call tuple", () => {
  const msg = VECTORS.find((m) => m.file.includes("04_echo_simple_02"))!;
  const bytes = ser.dumpsCall("test.echoserver", "echo", ["hello"], {});
  assertPyEqual(raw.loads(bytes), fromTagged(msg.decoded, { classes: false }));
  const none = ser.loadsCall(ser.dumpsCall("o", "<batch>", [tuple("m", [], null)], null));
  assert.equal(none.kwargs, null);
  assertPyEqual(none.args, [tuple("m", [], null)]);
  assert.throws(() => ser.loadsCall(ser.dumps([1, 2, 3])), SerializeError);
  assert.throws(() => ser.loadsCall(ser.dumps(tuple(1, "m", [], {}))), SerializeError);
  assert.throws(() => ser.loadsCall(ser.dumps(tuple("o", "m", 5, {}))), SerializeError);
  assert.throws(
    () => ser.loadsCall(ser.dumps(tuple("o", "m", [], new Map([[1, 2]])))),
    SerializeError,
  );
});

Deno.test({
  name: "marshal dumps() of every vector value is read back by Python marshal and Pyro5",
  ignore: !peerAvailable(),
  async fn() {
    const rawBytes = PAYLOADS.map((p) => raw.dumps(raw.loads(p)));
    const classBytes = PAYLOADS.map((p) => ser.dumps(ser.loads(p)));
    const script = PY_TAGGER + `
from Pyro5.serializers import MarshalSerializer
ms = MarshalSerializer()
res = []
for b in items():
    res.append(tag(marshal.loads(b)))
    try:
        ms.loads(b)
    except Exception as e:
        res.append("PYRO5 FAILED: %r" % e)
print(json.dumps(res))
`;
    const { stdout } = await runPython(script, { stdin: frame([...rawBytes, ...classBytes]) });
    const res = JSON.parse(new TextDecoder().decode(stdout)) as unknown[];
    const failures = res.filter((r) => typeof r === "string" && r.startsWith("PYRO5 FAILED"));
    assert.deepEqual(failures, []);
    assert.equal(res.length, 2 * VECTORS.length);
    for (let i = 0; i < VECTORS.length; i++) {
      const msg = VECTORS[i];
      assertPyEqual(
        fromTagged(res[i], { classes: false }),
        fromTagged(msg.decoded, { classes: false }),
        msg.file,
      );
      assertPyEqual(
        fromTagged(res[VECTORS.length + i]),
        fromTagged(msg.decoded),
        msg.file + " (through the class registry)",
      );
    }
  },
});

// ---------------------------------------------------------------------------
// Random values

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const canonInt = (b: bigint): number | bigint => b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b;
const INT_EDGES = [
  0n,
  1n,
  -1n,
  127n,
  255n,
  256n,
  32767n,
  32768n,
  2n ** 30n,
  2n ** 31n - 1n,
  -(2n ** 31n),
  2n ** 31n,
  -(2n ** 31n) - 1n,
  2n ** 32n,
  2n ** 45n,
  2n ** 53n - 1n,
  -(2n ** 53n) + 1n,
  2n ** 53n,
  -(2n ** 53n),
  2n ** 60n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 64n,
  2n ** 200n,
  -(2n ** 200n),
];
const FLOAT_EDGES = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0.5,
  -1.5,
  1e300,
  5e-324,
  2 ** 53 + 2,
  1.7976931348623157e308,
];

class Gen {
  rnd: () => number;
  constructor(seed: number) {
    this.rnd = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bigint(): number | bigint {
    switch (this.int(4)) {
      case 0:
        return canonInt(this.pick(INT_EDGES));
      case 1:
        return this.int(2000) - 1000;
      case 2:
        return (this.int(2) ? -1 : 1) * this.int(2 ** 31);
      default: {
        const bits = 1 + this.int(200);
        let b = 0n;
        for (let i = 0; i < bits; i += 16) b = (b << 16n) | BigInt(this.int(65536));
        b &= (1n << BigInt(bits)) - 1n;
        return canonInt(this.int(2) ? -b : b);
      }
    }
  }
  float(): number {
    if (this.int(3) === 0) return this.pick(FLOAT_EDGES);
    const dv = new DataView(new ArrayBuffer(8));
    dv.setUint32(0, this.int(2 ** 32));
    dv.setUint32(4, this.int(2 ** 32));
    const f = dv.getFloat64(0);
    return Number.isNaN(f) ? NaN : f;
  }
  string(): string {
    const len = this.pick([0, 1, 3, 10, 40, 100, 300]);
    const kind = this.int(4);
    let s = "";
    for (let i = 0; i < len; i++) {
      const r = kind === 0 ? 0 : this.int(10);
      if (r < 5) s += String.fromCharCode(this.int(128));
      else if (r < 6) s += String.fromCharCode(0x80 + this.int(0x780));
      else if (r < 8) s += String.fromCharCode(0x800 + this.int(0xd000));
      else if (r < 9) s += String.fromCodePoint(0x10000 + this.int(0x100000));
      else s += String.fromCharCode(0xd800 + this.int(0x800)); // lone surrogate
    }
    return s;
  }
  bytes(): Uint8Array {
    const b = new Uint8Array(this.pick([0, 1, 7, 100, 300]));
    for (let i = 0; i < b.length; i++) b[i] = this.int(256);
    return b;
  }
  /** A hashable value, unique within `seen`. */
  hashable(seen: Set<string>): unknown {
    for (;;) {
      let v: unknown;
      switch (this.int(3)) {
        case 0:
          v = this.bigint();
          break;
        case 1:
          v = this.string();
          break;
        default:
          v = tuple(this.bigint(), this.string());
      }
      const key = typeof v === "object" ? "t" + String(v) : typeof v + String(v);
      if (typeof v === "object" && seen.has(key)) continue;
      if (seen.has(key.replace(/^bigint/, "number"))) continue;
      seen.add(key.replace(/^bigint/, "number"));
      return v;
    }
  }
  value(depth: number): unknown {
    const leaf = depth >= 6 || this.int(3) === 0;
    if (leaf) {
      switch (this.int(9)) {
        case 0:
          return null;
        case 1:
          return this.int(2) === 0;
        case 2:
        case 3:
          return this.bigint();
        case 4:
          return this.float();
        case 5:
        case 6:
          return this.string();
        case 7:
          return this.bytes();
        default:
          return new Complex(this.float(), this.float());
      }
    }
    const n = this.int(6);
    const items = () => Array.from({ length: n }, () => this.value(depth + 1));
    switch (this.int(6)) {
      case 0:
        return Object.freeze(items());
      case 1:
        return items();
      case 2: {
        const seen = new Set<string>();
        const xs = Array.from({ length: n }, () => this.hashable(seen));
        return this.int(2) ? new Set(xs) : new FrozenSet(xs);
      }
      case 3: {
        const obj: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const k = this.int(8) === 0 ? "__proto__" : this.string();
          Object.defineProperty(obj, k, {
            value: this.value(depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return obj;
      }
      default: {
        const seen = new Set<string>();
        const m = new Map<unknown, unknown>();
        m.set(this.bigint(), this.value(depth + 1));
        seen.add("k" + String([...m.keys()][0]));
        for (let i = 0; i < n; i++) {
          const k = this.hashable(seen);
          if (typeof k === "number" || typeof k === "bigint") {
            if (seen.has("k" + String(k))) continue;
            seen.add("k" + String(k));
          }
          m.set(k, this.value(depth + 1));
        }
        return m;
      }
    }
  }
}

Deno.test("marshal round-trips random values through Tyro", () => {
  const gen = new Gen(12345);
  for (let i = 0; i < 2000; i++) {
    const v = gen.value(0);
    assertPyEqual(ser.loads(ser.dumps(v)), v, `value ${i}`);
  }
});

Deno.test({
  name: "marshal round-trips random values through Python marshal",
  ignore: !peerAvailable(),
  async fn() {
    const gen = new Gen(777);
    const values = Array.from({ length: 300 }, () => gen.value(0));
    const script = PY_TAGGER + `
out(marshal.dumps(marshal.loads(b)) for b in items())
`;
    const { stdout } = await runPython(script, { stdin: frame(values.map((v) => ser.dumps(v))) });
    const back = unframe(stdout);
    assert.equal(back.length, values.length);
    for (let i = 0; i < values.length; i++) {
      assertPyEqual(ser.loads(back[i]), values[i], `value ${i}`);
    }
  },
});

Deno.test({
  name: "marshal loads() decodes Python's references, interned strings, big ints and old versions",
  ignore: !peerAvailable(),
  async fn() {
    const script = PY_TAGGER + `
import sys
s = "shared string"
t = (1, 2)
d = {"k": [1, 2]}
fs = frozenset(["a", "b"])
big = 2**200
values = [
    ["abc", "abc", (1, 2), (1, 2)],
    [t, t, t],
    [d, d],
    [fs, fs, {fs: fs}],
    {sys.intern("interned_key"): sys.intern("interned_value"), "x" * 300: "é" * 300},
    [big, -big, big, 2**31, -2**31 - 1, 2**63, -2**64, 2**53, -(2**53) + 1, 12345678901234567890],
    [1.5, 1.5, float("nan"), float("inf"), -0.0, 1e-310, complex(1, -2), complex(float("nan"), 0.0)],
    ["\\ud800", "a\\udfffb", "\\U0001f600", "\\ufeffbom", "\\x00\\x80\\xff"],
    (s, [s, (s, {s: s})]),
    {1: "a", (1, "x"): frozenset([1]), 2.5: None, True: b"bytes", None: bytearray(b"ba")},
    set(), frozenset(), (), [], {},
]
res = []
for v in values:
    for version in range(5):
        res.append([base64.b64encode(marshal.dumps(v, version)).decode(), tag(v)])
print(json.dumps(res))
`;
    const { stdout } = await runPython(script);
    const res = JSON.parse(new TextDecoder().decode(stdout)) as [string, unknown][];
    assert.ok(res.length > 50);
    for (const [b64, tagged] of res) {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      assertPyEqual(ser.loads(bytes), fromTagged(tagged), b64);
    }
  },
});

Deno.test("marshal loads() follows references into shared and cyclic containers", () => {
  const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
  // marshal.dumps(["abc", "abc", (1, 2), (1, 2)]) from Python 3.11
  const v = ser.loads(
    hex("5b04000000da03616263720000000" + "0a902e901000000e90200000072010000" + "00"),
  ) as unknown[];
  assertPyEqual(v, ["abc", "abc", tuple(1, 2), tuple(1, 2)]);
  assert.equal(v[2], v[3]);
  // l = []; l.append(l); marshal.dumps(l)
  const l = ser.loads(hex("db0100000072000000" + "00")) as unknown[];
  assert.equal(l[0], l);
  // old int64 'I'
  assert.equal(ser.loads(hex("49ffffffffffffffff")), -1);
  assert.equal(ser.loads(hex("49ffffffffffffff7f")), 2n ** 63n - 1n);
  // text floats and complex of marshal versions 0 and 1
  assert.equal(ser.loads(hex("6603312e35")), 1.5);
  assert.ok(Number.isNaN(ser.loads(hex("66036e616e")) as number));
  assert.throws(() => ser.loads(hex("7801300331652b")), /bad float text/);
  assertPyEqual(ser.loads(hex("78013003312e35")), new Complex(0, 1.5));
  // invalid references
  assert.throws(() => ser.loads(hex("7200000000")), /invalid reference 0/);
  assert.throws(() => ser.loads(hex("5b01000000720000000" + "0")), /invalid reference/);
  assert.throws(() => ser.loads(hex("be01000000720000000" + "0")), /invalid reference/);
});

Deno.test("marshal dumps() writes the codes Python 3.11 writes", () => {
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  assert.equal(hex(ser.dumps(null)), "4e");
  assert.equal(hex(ser.dumps(undefined)), "4e");
  assert.equal(hex(ser.dumps(true)), "54");
  assert.equal(hex(ser.dumps(false)), "46");
  assert.equal(hex(ser.dumps(-2147483648)), "6900000080");
  assert.equal(hex(ser.dumps(2147483648)), "6c03000000000000000200");
  assert.equal(hex(ser.dumps(-2147483649)), "6cfdffffff010000000200");
  assert.equal(hex(ser.dumps(2n ** 31n)), "6c03000000000000000200");
  assert.equal(hex(ser.dumps(-5n)), "69fbffffff");
  assert.equal(hex(ser.dumps(2n ** 70n)), "6c0500000000000000000000000004");
  assert.equal(hex(ser.dumps(-0)), "67" + "0000000000000080");
  assert.equal(hex(ser.dumps(1.5)), "67" + "000000000000f83f");
  assert.equal(hex(ser.dumps(new PyFloat(2))), "67" + "0000000000000040");
  assert.equal(hex(ser.dumps(2 ** 60)), "67" + "000000000000b043");
  assert.equal(hex(ser.dumps(new Complex(0, 1))), "79" + "0".repeat(16) + "000000000000f03f");
  assert.equal(hex(ser.dumps("ab")), "7a026162");
  assert.equal(hex(ser.dumps("é")), "7502000000c3a9");
  assert.equal(hex(ser.dumps("\ud800x")), "7504000000eda08078");
  assert.equal(hex(ser.dumps("x".repeat(256))).slice(0, 10), "6100010000");
  assert.equal(hex(ser.dumps(new Uint8Array([1, 2]))), "73020000000102");
  assert.equal(hex(ser.dumps(new Uint16Array([1]).buffer)), "73020000000100");
  assert.equal(
    hex(ser.dumps(new DataView(new Uint8Array([9, 8, 7]).buffer, 1))),
    "7302000000" + "0807",
  );
  assert.equal(hex(ser.dumps(tuple(1))), "2901" + "6901000000");
  assert.equal(hex(ser.dumps(Object.freeze(new Array(256).fill(null)))).slice(0, 10), "2800010000");
  assert.equal(hex(ser.dumps([])), "5b00000000");
  assert.equal(hex(ser.dumps({ a: 1 })), "7b7a01616901000000" + "30");
  assert.equal(hex(ser.dumps(new Set())), "3c00000000");
  assert.equal(hex(ser.dumps(new FrozenSet())), "3e00000000");
  assert.equal(ser.loads(ser.dumps(new Date(Date.UTC(2024, 0, 2)))), "2024-01-02T00:00:00.000Z");
});

Deno.test("marshal dumps() sends other objects as class dicts", async () => {
  class Point {
    constructor(public x: number, public y: number) {}
  }
  const registry = new ClassRegistry();
  registry.registerClassToDict(Point, (p) => ({ __class__: "geo.Point", x: p.x, y: p.y }));
  registry.registerDictToClass("geo.Point", (_n, d) => new Point(d.x as number, d.y as number));
  const s = createMarshalSerializer({ registry });
  const back = s.loads(s.dumps([{ p: new Point(1, 2) }])) as { p: Point }[];
  assert.ok(back[0].p instanceof Point);
  assert.equal(back[0].p.y, 2);
  const err = ser.loads(ser.dumps(new RangeError("bad"))) as Error;
  assert.ok(err instanceof Error);
  assert.equal(err.message, "bad");
  // A registry converter may itself call dumps (nested use of the shared buffer).
  const nested = new ClassRegistry();
  const inner = createMarshalSerializer({ registry: nested });
  nested.registerClassToDict(Point, (p) => ({ blob: inner.dumps([p.x, p.y]) }));
  const out = inner.loads(inner.dumps({ a: "x".repeat(100), p: new Point(3, 4) })) as {
    p: { blob: Uint8Array };
  };
  assertPyEqual(inner.loads(out.p.blob), [3, 4]);
  await Promise.resolve();
});

Deno.test("marshal dumps() rejects cycles, deep nesting, functions and symbols", () => {
  const cyclic: unknown[] = [];
  cyclic.push([cyclic]);
  assert.throws(() => ser.dumps(cyclic), /reference cycle/);
  const obj: Record<string, unknown> = {};
  obj.self = obj;
  assert.throws(() => ser.dumps(obj), SerializeError);
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = [deep];
  assert.throws(() => ser.dumps(deep), /nesting deeper than maxDepth \(500\)/);
  let ok: unknown = 1;
  for (let i = 0; i < 500; i++) ok = [ok];
  assert.deepEqual(ser.loads(ser.dumps(ok)), ok);
  assert.throws(() => ser.dumps([() => 1]), SerializeError);
  assert.throws(() => ser.dumps(Symbol("x")), SerializeError);
  assert.throws(() => ser.dumps(new Date(NaN)), SerializeError);
  // The shared writer is still usable after failures.
  assert.deepEqual(ser.loads(ser.dumps([1, "a"])), [1, "a"]);
  const shallow = createMarshalSerializer({ maxDepth: 2 });
  assert.throws(() => shallow.dumps([[[1]]]), SerializeError);
  assert.throws(() => shallow.loads(ser.dumps([[[1]]])), /nesting deeper than maxDepth \(2\)/);
});

Deno.test("marshal loads() rejects 10,000-deep nesting", () => {
  for (const open of [[0x5b, 1, 0, 0, 0], [0x29, 1], [0x7b, 0x7a, 1, 0x61]]) {
    const bytes = new Uint8Array(open.length * 10_000 + 1);
    for (let i = 0; i < 10_000; i++) bytes.set(open, i * open.length);
    bytes[bytes.length - 1] = 0x4e;
    assert.throws(() => ser.loads(bytes), /nesting deeper than maxDepth/);
  }
});

Deno.test("marshal loads() keeps __proto__ as an own key", () => {
  // {"__proto__": {"polluted": True}, "a": 1}
  const bytes = ser.dumps(
    Object.defineProperty({ a: 1 }, "__proto__", {
      value: { polluted: true },
      enumerable: true,
      writable: true,
      configurable: true,
    }),
  );
  const v = ser.loads(bytes) as Record<string, unknown>;
  assert.ok(Object.hasOwn(v, "__proto__"));
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v).sort(), ["__proto__", "a"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assertPyEqual(ser.loads(ser.dumps(v)), v);
});

Deno.test("marshal loads() throws only SerializeError on truncated and mutated input", () => {
  const rnd = mulberry32(99);
  let decoded = 0, failed = 0;
  const attempt = (data: Uint8Array) => {
    try {
      ser.loads(data);
      raw.loadsCall(data);
      decoded++;
    } catch (e) {
      if (!(e instanceof SerializeError || e instanceof SecurityError)) {
        throw new Error(`unexpected ${String(e)} for ${Array.from(data).join(",")}`);
      }
      failed++;
    }
  };
  for (const p of PAYLOADS) {
    const step = Math.max(1, Math.floor(p.length / 150));
    for (let cut = 0; cut < p.length; cut += step) attempt(p.subarray(0, cut));
    for (let k = 0; k < 60; k++) {
      const m = Array.from(p);
      for (let e = 1 + Math.floor(rnd() * 3); e > 0; e--) {
        const at = Math.floor(rnd() * m.length);
        const byte = Math.floor(rnd() * 256);
        const op = rnd();
        if (op < 0.5) m[at] = byte;
        else if (op < 0.7) m[at] ^= 0x80;
        else if (op < 0.85) m.splice(at, 0, byte);
        else m.splice(at, 1);
      }
      attempt(new Uint8Array(m));
    }
  }
  // Huge declared lengths and counts are refused before allocating anything.
  for (const code of [0x73, 0x75, 0x61, 0x28, 0x5b, 0x3c, 0x3e, 0x6c]) {
    for (const n of [0x7fffffff, -1, -0x80000000]) {
      const b = new Uint8Array([code, 0, 0, 0, 0, 1]);
      new DataView(b.buffer).setInt32(1, n, true);
      assert.throws(() => ser.loads(b), SerializeError);
    }
  }
  assert.throws(() => ser.loads(new Uint8Array([0x51])), {
    name: "SerializeError",
    message: "Cannot decode marshal: unknown type code 0x51 at offset 0",
  });
  assert.throws(() => ser.loads(new Uint8Array([0x4e, 0x4e])), /extra bytes/);
  assert.throws(() => ser.loads(new Uint8Array([0x2e])), /Ellipsis/);
  assert.throws(() => ser.loads(new Uint8Array([0x30])), /NULL/);
  assert.throws(() => ser.loads(new Uint8Array([0x75, 1, 0, 0, 0, 0xff])), /invalid UTF-8/);
  assert.throws(() => ser.loads(new Uint8Array([0x6c, 1, 0, 0, 0, 0, 0x80])), /digit out of range/);
  assert.throws(() => ser.loads(new Uint8Array([0x6c, 1, 0, 0, 0, 0, 0])), /unnormalized/);
  assert.ok(decoded > 0 && failed > 0);
});

Deno.test("marshal loads() returns bytes that do not share the input's memory", () => {
  const input = ser.dumps(new Uint8Array([1, 2, 3]));
  const b = ser.loads(input) as Uint8Array;
  input[5] = 99;
  assert.deepEqual([...b], [1, 2, 3]);
  const out1 = ser.dumps("first");
  ser.dumps("second value");
  assert.equal(ser.loads(out1), "first");
});
