import {
  frameRecords as frame,
  unframeRecords as unframe,
  vectorPayload as payloadOf,
} from "../tests/_vectors.ts";
import assert from "node:assert/strict";
import { createMsgpackSerializer, MsgpackExt } from "./msgpack.ts";
import { type ClassRegistry, DEFAULT_REGISTRY, type ProxyState, TO_PYRO_DICT } from "./registry.ts";
import { Complex, FrozenSet, PyFloat, tuple } from "./types.ts";
import { SecurityError, SerializeError } from "../errors.ts";
import {
  assertPyEqual,
  fromTagged,
  manifest,
  pyDiff,
  type VectorMessage,
} from "../tests/_vectors.ts";
import { peerAvailable, runPython } from "../tests/_peer.ts";
import { rng as prng } from "../tests/_random.ts";

// ---------------------------------------------------------------- support

/** A proxy stand-in that goes back on the wire as Pyro5's proxy dict. */
class TestProxy {
  constructor(readonly state: ProxyState) {}
  [TO_PYRO_DICT](): Record<string, unknown> {
    const s = this.state;
    return {
      __class__: "Pyro5.client.Proxy",
      state: [
        String(s.uri),
        [...s.oneway],
        [...s.methods],
        [...s.attrs],
        s.handshake,
        s.serializer,
      ],
    };
  }
}

const registry: ClassRegistry = DEFAULT_REGISTRY.copy();
registry.setProxyFactory((state) => new TestProxy(state));
const ser = createMsgpackSerializer({ registry });
const dec = new TextDecoder();
const bytes = (...b: number[]) => new Uint8Array(b);

const vectors: VectorMessage[] = manifest().messages.filter((m) =>
  m.serializer === "msgpack" && m.serialized_payload
);

/** What Tyro's msgpack loads must give for a tagged value (msgpack has no bytes dicts). */
const expected = (tagged: unknown) => fromTagged(tagged, { registry, bytesDicts: false });
const RAW = { classes: false, bytesDicts: false, msgpackExt: false } as const;

/**
 * The registry's exceptionToDict leaves out a `_pyroTraceback` of None
 * (Pyro5's "result of call is an iterator" error has one), so a re-encoded
 * exception lacks it: drop it from the expectation too.
 */
function dropNoneTraceback(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNoneTraceback);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "_pyroTraceback" && x === null) continue;
    out[k] = dropNoneTraceback(x);
  }
  return out;
}

/** Python: framing helpers and the manifest's tagged-JSON convention. */
const PY_COMMON = String.raw`
import sys, json, math, struct, base64
import msgpack
def records():
    data = sys.stdin.buffer.read()
    pos = 0
    while pos < len(data):
        n = struct.unpack_from(">I", data, pos)[0]
        yield data[pos + 4:pos + 4 + n]
        pos += 4 + n
def tag(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if abs(v) <= 2**53 - 1 else {"$bigint": str(v)}
    if isinstance(v, float):
        if v != v: return {"$float": "nan"}
        if math.isinf(v): return {"$float": "inf" if v > 0 else "-inf"}
        if v == 0 and math.copysign(1, v) < 0: return {"$float": "-0.0"}
        return v
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(v).decode()}
    if isinstance(v, msgpack.ExtType):
        return {"$ext": {"code": v.code, "data": base64.b64encode(v.data).decode()}}
    if isinstance(v, tuple): return {"$tuple": [tag(x) for x in v]}
    if isinstance(v, frozenset): return {"$frozenset": [tag(x) for x in v]}
    if isinstance(v, set): return {"$set": [tag(x) for x in v]}
    if isinstance(v, complex): return {"$complex": [tag(v.real), tag(v.imag)]}
    if isinstance(v, list): return [tag(x) for x in v]
    if isinstance(v, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in v):
            return {k: tag(x) for k, x in v.items()}
        return {"$dict": [[tag(k), tag(x)] for k, x in v.items()]}
    raise TypeError("cannot tag " + repr(type(v)))
def ok(f, *a):
    try:
        f(*a)
        return True
    except Exception as e:
        return repr(e)
`;

// ---------------------------------------------------------------- vectors

Deno.test("msgpack loads() decodes every msgpack vector", () => {
  assert.ok(vectors.length > 100);
  for (const m of vectors) {
    assertPyEqual(ser.loads(payloadOf(m)), expected(m.decoded), m.file);
  }
});

Deno.test("msgpack loadsCall() decodes every msgpack INVOKE vector", () => {
  const invokes = vectors.filter((m) => m.msg_type_name === "MSG_INVOKE");
  assert.ok(invokes.length > 50);
  for (const m of invokes) {
    const call = ser.loadsCall(payloadOf(m));
    const [objectId, method, args, kwargs] = m.decoded as unknown[];
    assert.equal(call.objectId, objectId, m.file);
    assert.equal(call.method, method, m.file);
    assertPyEqual(call.args, expected(args), m.file);
    assertPyEqual(call.kwargs, expected(kwargs), m.file);
  }
});

Deno.test("msgpack dumpsCall() writes what Python's msgpack.packb writes", () => {
  const call = ser.dumpsCall("test.echoserver", "echo", ["hello", 42, [1.5, 2]], {});
  assert.deepEqual(
    call,
    new Uint8Array([
      0x94,
      0xaf,
      ...new TextEncoder().encode("test.echoserver"),
      0xa4,
      0x65,
      0x63,
      0x68,
      0x6f,
      0x93,
      0xa5,
      0x68,
      0x65,
      0x6c,
      0x6c,
      0x6f,
      0x2a,
      0x92,
      0xcb,
      0x3f,
      0xf8,
      0,
      0,
      0,
      0,
      0,
      0,
      0x02,
      0x80,
    ]),
  );
  assert.deepEqual(
    ser.dumpsCall("o", "m", [], null),
    bytes(0x94, 0xa1, 0x6f, 0xa1, 0x6d, 0x90, 0xc0),
  );
});

Deno.test("msgpack dumps() picks Python's int forms and never wraps a big int", () => {
  const cases: [unknown, number[]][] = [
    [127, [0x7f]],
    [-32, [0xe0]],
    [128, [0xcc, 0x80]],
    [-33, [0xd0, 0xdf]],
    [65535, [0xcd, 0xff, 0xff]],
    [-32769, [0xd2, 0xff, 0xff, 0x7f, 0xff]],
    [2 ** 32, [0xcf, 0, 0, 0, 1, 0, 0, 0, 0]],
    [2n ** 64n - 1n, [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    [-(2n ** 63n), [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]],
    [2n ** 64n, [0xc7, 20, 0x31, ...new TextEncoder().encode("18446744073709551616")]],
    [-(2n ** 63n) - 1n, [0xc7, 20, 0x31, ...new TextEncoder().encode("-9223372036854775809")]],
    [5n, [0x05]],
    [-0, [0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0]],
    [new PyFloat(1), [0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]],
    [2 ** 60, [0xcb, 0x43, 0xb0, 0, 0, 0, 0, 0, 0]],
  ];
  for (const [v, b] of cases) assert.deepEqual(ser.dumps(v), new Uint8Array(b), String(v));
});

Deno.test("msgpack loads() maps Pyro5's ext codes and keeps unknown ones", () => {
  const le = (f: (dv: DataView) => void, n: number) => {
    const b = new Uint8Array(n);
    f(new DataView(b.buffer));
    return [...b];
  };
  const c = ser.loads(bytes(
    0xd8,
    0x30,
    ...le((dv) => {
      dv.setFloat64(0, 1.5, true);
      dv.setFloat64(8, -2, true);
    }, 16),
  ));
  assert.deepEqual(c, new Complex(1.5, -2));
  const dt = ser.loads(
    bytes(0xd7, 0x32, ...le((dv) => dv.setFloat64(0, 1700000000.1234, true), 8)),
  );
  assert.deepEqual(dt, new Date(1700000000123));
  // 738886 is 2024-01-01.
  const d = ser.loads(bytes(0xd7, 0x33, ...le((dv) => dv.setBigInt64(0, 738886n, true), 8)));
  assert.deepEqual(d, new Date(Date.UTC(2024, 0, 1)));
  const x = ser.loads(bytes(0xd5, 0x05, 1, 2));
  assert.ok(x instanceof MsgpackExt);
  assert.equal(x.code, 5);
  assert.deepEqual(ser.dumps(x), bytes(0xd5, 0x05, 1, 2));
  assert.equal(ser.loads(bytes(0xc7, 3, 0x31, 0x2d, 0x31, 0x32)), -12);
  assert.deepEqual(
    ser.dumps(new Complex(1.5, -2)),
    bytes(
      0xd8,
      0x30,
      ...le((dv) => {
        dv.setFloat64(0, 1.5, true);
        dv.setFloat64(8, -2, true);
      }, 16),
    ),
  );
  assert.deepEqual(
    ser.dumps(new Date(1500)),
    bytes(0xd7, 0x32, ...le((dv) => dv.setFloat64(0, 1.5, true), 8)),
  );
  for (
    const bad of [
      bytes(0xd4, 0x30, 0),
      bytes(0xc7, 1, 0x31, 0x41),
      bytes(0xd7, 0x33, 0, 0, 0, 0, 0, 0, 0, 0),
    ]
  ) {
    assert.throws(() => ser.loads(bad), SerializeError);
  }
});

Deno.test("msgpack loads() gives numbers when safe, bigints beyond, Maps for other keys", () => {
  assert.equal(ser.loads(bytes(0xcf, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), 2 ** 53 - 1);
  assert.equal(ser.loads(bytes(0xcf, 0, 0x20, 0, 0, 0, 0, 0, 0)), 2n ** 53n);
  assert.equal(ser.loads(bytes(0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 1)), -(2 ** 53 - 1));
  assert.equal(ser.loads(bytes(0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 0)), -(2n ** 53n));
  assert.equal(ser.loads(bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe)), -2);
  const mixed = ser.loads(bytes(0x82, 0xa1, 0x61, 0x01, 0x02, 0xa1, 0x62));
  assert.deepEqual(mixed, new Map<unknown, unknown>([["a", 1], [2, "b"]]));
  assert.deepEqual(ser.loads(ser.dumps(new Map([["k", 1]]))), { k: 1 });
  assert.deepEqual(
    ser.loads(ser.dumps({ t: tuple(1, 2), s: new Set([1]), f: new FrozenSet(["x"]) })),
    { t: [1, 2], s: [1], f: ["x"] },
  );
});

Deno.test("msgpack loads() returns views of bin data, or copies with copyBytes", () => {
  const input = ser.dumps(new Uint8Array([1, 2, 3]));
  const view = ser.loads(input) as Uint8Array;
  assert.equal(view.buffer, input.buffer);
  const copy = createMsgpackSerializer({ copyBytes: true }).loads(input) as Uint8Array;
  assert.notEqual(copy.buffer, input.buffer);
  assert.deepEqual([...copy], [1, 2, 3]);
});

Deno.test("msgpack dumps() results never share bytes", () => {
  const a = ser.dumps("first");
  const b = ser.dumps(new Uint8Array(100000).fill(7));
  const c = ser.dumps("second");
  assert.equal(ser.loads(a), "first");
  assert.equal((ser.loads(b) as Uint8Array).length, 100000);
  assert.equal(ser.loads(c), "second");
  // A class-to-dict converter that serializes while serializing.
  const reg = DEFAULT_REGISTRY.copy();
  class Inner {}
  reg.registerClassToDict(Inner, () => ({ nested: inner.dumps("x") }));
  const inner = createMsgpackSerializer({ registry: reg });
  const out = inner.loads(inner.dumps(["a", new Inner(), "b"])) as unknown[];
  assert.equal(out[0], "a");
  assert.equal(inner.loads((out[1] as { nested: Uint8Array }).nested), "x");
  assert.equal(out[2], "b");
});

Deno.test("msgpack dumps() refuses what it cannot carry", () => {
  assert.throws(() => ser.dumps(() => 1), SerializeError);
  assert.throws(() => ser.dumps(Symbol("x")), SerializeError);
  assert.throws(() => ser.dumps(new Date(NaN)), SerializeError);
  assert.throws(() => ser.dumps("a\ud800b"), SerializeError);
  assert.throws(() => ser.dumps("x".repeat(40) + "\udc00"), SerializeError);
});

Deno.test("msgpack loadsCall() refuses payloads that are not calls", () => {
  const cases = [
    ser.dumps(["o", "m", []]),
    ser.dumps(["o", "m", {}, {}]),
    ser.dumps(["o", 1, [], {}]),
    ser.dumps(["o", "m", [], new Map([[1, 2]])]),
    ser.dumps({ object: "o" }),
  ];
  for (const c of cases) assert.throws(() => ser.loadsCall(c), SerializeError);
  assert.deepEqual(ser.loadsCall(ser.dumps(["o", "m", [1], null])), {
    objectId: "o",
    method: "m",
    args: [1],
    kwargs: null,
  });
});

// ---------------------------------------------------------------- Python re-encode

Deno.test({
  name: "msgpack dumps() of every decoded vector is read back by Python's msgpack and Pyro5",
  ignore: !peerAvailable(),
  async fn() {
    const records: Uint8Array[] = [];
    for (const m of vectors) {
      const payload = payloadOf(m);
      let ours: Uint8Array;
      if (m.msg_type_name === "MSG_INVOKE") {
        const c = ser.loadsCall(payload);
        ours = ser.dumpsCall(c.objectId, c.method, c.args, c.kwargs);
      } else {
        ours = ser.dumps(ser.loads(payload));
      }
      records.push(bytes(m.msg_type_name === "MSG_INVOKE" ? 1 : 0), payload, ours);
    }
    const script = PY_COMMON + String.raw`
from Pyro5.serializers import MsgpackSerializer
ser = MsgpackSerializer()
recs = list(records())
out = []
for i in range(0, len(recs), 3):
    call, orig, ours = recs[i][0], recs[i + 1], recs[i + 2]
    r = {}
    try:
        r["value"] = tag(msgpack.unpackb(ours, raw=False, strict_map_key=False))
    except Exception as e:
        r["error"] = repr(e)
    f = ser.loadsCall if call else ser.loads
    r["pyro_orig"] = ok(f, orig)
    r["pyro_ours"] = ok(f, ours)
    out.append(r)
print(json.dumps(out))
`;
    const res = await runPython(script, { stdin: frame(records) });
    const results = JSON.parse(dec.decode(res.stdout)) as {
      value?: unknown;
      error?: string;
      pyro_orig: true | string;
      pyro_ours: true | string;
    }[];
    assert.equal(results.length, vectors.length);
    results.forEach((r, i) => {
      const m = vectors[i];
      assert.equal(r.error, undefined, `${m.file}: ${r.error}`);
      const d = pyDiff(fromTagged(r.value, RAW), fromTagged(dropNoneTraceback(m.decoded), RAW));
      assert.equal(d, null, `${m.file}: ${d}`);
      assert.equal(r.pyro_ours === true, r.pyro_orig === true, `${m.file}: ${r.pyro_ours}`);
    });
  },
});

// ---------------------------------------------------------------- properties

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

const INT_EDGES: (number | bigint)[] = [
  0,
  1,
  -1,
  127,
  128,
  -32,
  -33,
  255,
  256,
  65535,
  65536,
  2 ** 31 - 1,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  2n ** 53n,
  -(2n ** 53n),
  2n ** 63n - 1n,
  2n ** 63n,
  -(2n ** 63n),
  2n ** 64n - 1n,
  2n ** 64n,
  -(2n ** 63n) - 1n,
];
const FLOAT_EDGES = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0.1,
  1e16,
  1e-5,
  5e-324,
  1.7976931348623157e308,
  2 ** 53,
  -2.5e-300,
];

interface GenOptions {
  /** Include values only Tyro reads back (unknown ext codes). */
  tyroOnly: boolean;
}

/** A random value for the msgpack serializer, and what decoding it must give. */
function genValue(rnd: () => number, opts: GenOptions, depth = 0): [unknown, unknown] {
  const kind = Math.floor(rnd() * (depth > 3 ? 9 : 12));
  switch (kind) {
    case 0: {
      const v = rnd() < 0.5 ? pick(rnd, INT_EDGES) : Math.floor((rnd() - 0.5) * 2 ** (rnd() * 53));
      return [v, v];
    }
    case 1: {
      const bits = 65 + Math.floor(rnd() * 200);
      let b = 0n;
      for (let i = 0; i < bits; i += 30) b = (b << 30n) | BigInt(Math.floor(rnd() * 2 ** 30));
      if (rnd() < 0.5) b = -b;
      return [b, b];
    }
    case 2: {
      if (rnd() < 0.4) {
        const v = pick(rnd, FLOAT_EDGES);
        return [v, v];
      }
      const dv = new DataView(new ArrayBuffer(8));
      dv.setUint32(0, Math.floor(rnd() * 2 ** 32));
      dv.setUint32(4, Math.floor(rnd() * 2 ** 32));
      const f = dv.getFloat64(0);
      const v = Number.isFinite(f) ? f : 0.5;
      return rnd() < 0.2 ? [new PyFloat(v), v] : [v, v];
    }
    case 3: {
      const s = genString(rnd);
      return [s, s];
    }
    case 4:
      return pick(rnd, [[true, true], [false, false], [null, null], [undefined, null]]);
    case 5: {
      const n = rnd() < 0.1 ? 300 + Math.floor(rnd() * 70000) : Math.floor(rnd() * 40);
      const b = new Uint8Array(n).map(() => Math.floor(rnd() * 256));
      return [b, b];
    }
    case 6: {
      const c = new Complex(pick(rnd, FLOAT_EDGES), (rnd() - 0.5) * 1e10);
      return [c, c];
    }
    case 7: {
      const d = new Date(Math.floor(rnd() * 4e12));
      return [d, d];
    }
    case 8: {
      if (opts.tyroOnly && rnd() < 0.5) {
        const x = new MsgpackExt(
          Math.floor(rnd() * 40) - 8,
          new Uint8Array([1, 2, 3]).subarray(0, Math.floor(rnd() * 4)),
        );
        return [x, x];
      }
      const s = "x".repeat(Math.floor(rnd() * 300)) + genString(rnd);
      return [s, s];
    }
    case 9: {
      const n = Math.floor(rnd() * (rnd() < 0.1 ? 20 : 6));
      const pairs = Array.from({ length: n }, () => genValue(rnd, opts, depth + 1));
      const v = pairs.map((p) => p[0]), e = pairs.map((p) => p[1]);
      const r = rnd();
      if (r < 0.2) return [Object.freeze(v), e];
      if (r < 0.3) return [new Set(v), e];
      return [v, e];
    }
    case 10: {
      const n = Math.floor(rnd() * (rnd() < 0.1 ? 20 : 6));
      const v: Record<string, unknown> = {}, e: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = rnd() < 0.1 ? "__proto__" : genString(rnd);
        if (k === "__class__") continue;
        const [x, y] = genValue(rnd, opts, depth + 1);
        Object.defineProperty(v, k, {
          value: x,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        Object.defineProperty(e, k, {
          value: y,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return [v, e];
    }
    default: {
      const v = new Map<unknown, unknown>(), e = new Map<unknown, unknown>();
      for (let i = 1 + Math.floor(rnd() * 4); i > 0; i--) {
        const k = rnd() < 0.8 ? Math.floor((rnd() - 0.5) * 1e6) : genString(rnd) + "!";
        const [x, y] = genValue(rnd, opts, depth + 1);
        v.set(k, x);
        e.set(k, y);
      }
      return [v, [...e.keys()].every((k) => typeof k === "string") ? Object.fromEntries(e) : e];
    }
  }
}

function genString(rnd: () => number): string {
  const n = Math.floor(rnd() * 12);
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rnd();
    let cp: number;
    if (r < 0.5) cp = 0x20 + Math.floor(rnd() * 95);
    else if (r < 0.6) cp = Math.floor(rnd() * 0x20);
    else if (r < 0.75) cp = 0x80 + Math.floor(rnd() * 0x780);
    else if (r < 0.9) {
      cp = 0x800 + Math.floor(rnd() * 0xf800);
      if (cp >= 0xd800 && cp < 0xe000) cp = 0x263a;
    } else cp = 0x10000 + Math.floor(rnd() * 0x100000);
    s += String.fromCodePoint(cp);
  }
  return s;
}

function hasDate(v: unknown): boolean {
  if (v instanceof Date) return true;
  if (v instanceof Map) return [...v.values()].some(hasDate);
  if (v instanceof Set) return [...v].some(hasDate);
  if (Array.isArray(v)) return v.some(hasDate);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    return Object.values(v).some(hasDate);
  }
  return false;
}

Deno.test("msgpack round-trips 300 random values Tyro to Tyro", () => {
  const rnd = prng(4321);
  for (let i = 0; i < 300; i++) {
    const [v, e] = genValue(rnd, { tyroOnly: true });
    assertPyEqual(ser.loads(ser.dumps(v)), e, `case ${i}`);
  }
});

Deno.test({
  name: "msgpack round-trips 300 random values Tyro to Python to Tyro",
  ignore: !peerAvailable(),
  async fn() {
    const rnd = prng(77);
    const cases = Array.from({ length: 300 }, () => genValue(rnd, { tyroOnly: false }));
    const ours = cases.map(([v]) => ser.dumps(v));
    // Pyro5's loads, but without strict_map_key so that int keys come through.
    const script = PY_COMMON + String.raw`
from Pyro5.serializers import MsgpackSerializer
ser = MsgpackSerializer()
out = sys.stdout.buffer
for rec in records():
    v = msgpack.unpackb(rec, raw=False, strict_map_key=False, object_hook=ser.object_hook, ext_hook=ser.ext_hook)
    b = ser.dumps(v)
    out.write(struct.pack(">I", len(b)) + b)
`;
    const res = await runPython(script, { stdin: frame(ours), env: { TZ: "UTC" } });
    const back = unframe(res.stdout);
    assert.equal(back.length, cases.length);
    back.forEach((b, i) => {
      assertPyEqual(ser.loads(b), cases[i][1], `case ${i}`);
      // Python writes the same bytes (a datetime's float may differ in its last bit).
      if (!hasDate(cases[i][0])) assert.deepEqual(b, ours[i], `case ${i}`);
    });
  },
});

// ---------------------------------------------------------------- robustness

function assertOnlySerializeError(f: () => unknown, what: string): void {
  try {
    f();
  } catch (e) {
    if (e instanceof SerializeError || e instanceof SecurityError) return;
    throw new Error(`${what}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
}

Deno.test("msgpack loads() throws only SerializeError on truncated and mutated vectors", () => {
  const rnd = prng(11);
  for (const m of vectors) {
    const p = payloadOf(m);
    const cuts = new Set([0, 1, p.length - 1]);
    for (let i = 0; i < 12; i++) cuts.add(Math.floor(rnd() * p.length));
    for (const cut of cuts) {
      const t = p.slice(0, cut);
      assertOnlySerializeError(() => ser.loads(t), `${m.file} cut at ${cut}`);
      assertOnlySerializeError(() => ser.loadsCall(t), `${m.file} cut at ${cut}`);
    }
    for (let i = 0; i < 12; i++) {
      const t = p.slice();
      for (let j = 1 + Math.floor(rnd() * 3); j > 0; j--) {
        t[Math.floor(rnd() * t.length)] = rnd() < 0.7
          ? Math.floor(rnd() * 256)
          : pick(rnd, [0xc1, 0xdb, 0xdd, 0xdf, 0xc6, 0xc9, 0xff, 0x00, 0xd8, 0xcf]);
      }
      assertOnlySerializeError(() => ser.loads(t), `${m.file} mutation ${i}`);
      assertOnlySerializeError(() => ser.loadsCall(t), `${m.file} mutation ${i}`);
    }
  }
});

Deno.test("msgpack loads() refuses lengths beyond the input without allocating", () => {
  const ff = [0xff, 0xff, 0xff, 0xff];
  for (const head of [[0xdd], [0xdf], [0xc6], [0xdb], [0xc9], [0xdc, 0xff], [0xde, 0xff]]) {
    const b = bytes(...head, ...ff, 0x05, 0x01);
    const t0 = performance.now();
    assert.throws(() => ser.loads(b), SerializeError, head.toString());
    assert.ok(performance.now() - t0 < 50);
  }
  assert.throws(() => ser.loads(bytes(0xc1)), {
    name: "SerializeError",
    message: "Cannot decode msgpack: invalid type byte 0xc1 at offset 0",
  });
  assert.throws(() => ser.loads(bytes(0x01, 0x02)), {
    message: "Cannot decode msgpack: extra data after the value at offset 1",
  });
  assert.throws(() => ser.loads(bytes(0xa2, 0xc3, 0x28)), SerializeError);
  assert.throws(() => ser.loads(bytes()), SerializeError);
});

Deno.test("msgpack loads() and dumps() refuse 10,000-deep nesting and cycles", () => {
  assert.throws(
    () => ser.loads(new Uint8Array(10001).fill(0x91).fill(0x90, 10000)),
    SerializeError,
  );
  const deepMap: number[] = [];
  for (let i = 0; i < 10000; i++) deepMap.push(0x81, 0xa1, 0x61);
  deepMap.push(0xc0);
  assert.throws(() => ser.loads(new Uint8Array(deepMap)), SerializeError);
  let deep: unknown = [];
  for (let i = 0; i < 10000; i++) deep = [deep];
  assert.throws(() => ser.dumps(deep), SerializeError);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => ser.dumps(cyclic), SerializeError);
  assert.doesNotThrow(() => ser.loads(new Uint8Array(500).fill(0x91).fill(0x90, 499)));
  assert.throws(() => ser.loads(new Uint8Array(501).fill(0x91).fill(0x90, 500)), SerializeError);
});

Deno.test("msgpack loads() keeps a __proto__ key as an own property", () => {
  const enc = new TextEncoder();
  const b = bytes(
    0x81,
    0xa9,
    ...enc.encode("__proto__"),
    0x81,
    0xa8,
    ...enc.encode("polluted"),
    0x01,
  );
  const v = ser.loads(b) as Record<string, unknown>;
  assert.ok(Object.hasOwn(v, "__proto__"));
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(v["__proto__"], { polluted: 1 });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(ser.dumps(v), b);
});

Deno.test("msgpack: a decode inside a decode (a class hook) and after a failed one reads right", () => {
  const registry = DEFAULT_REGISTRY.copy();
  const ser = createMsgpackSerializer({ registry });
  const inner = ser.dumps({ deep: [1, "two", new Uint8Array([3])] });
  // the hook decodes an inner payload while the outer decode is still running
  registry.registerDictToClass(
    "test.Wrapped",
    (_name: string, d: Record<string, unknown>) => ({
      unwrapped: ser.loads(d.payload as Uint8Array),
    }),
  );
  const outer = ser.dumps([{ __class__: "test.Wrapped", payload: inner }, "after"]);
  assert.deepEqual(ser.loads(outer), [
    { unwrapped: { deep: [1, "two", new Uint8Array([3])] } },
    "after",
  ]);
  assert.throws(() => ser.loads(new Uint8Array([0x92, 0x01])), SerializeError); // cut short
  assert.throws(() => ser.loads(new Uint8Array([0x01, 0x02])), SerializeError); // extra data
  assert.deepEqual(ser.loads(ser.dumps([1, 2])), [1, 2]);
  const call = ser.loadsCall(ser.dumpsCall("obj", "m", [inner], { k: 1 }));
  assert.deepEqual([call.objectId, call.method, call.kwargs], ["obj", "m", { k: 1 }]);
  assert.deepEqual(ser.loads(call.args[0] as Uint8Array), {
    deep: [1, "two", new Uint8Array([3])],
  });
});
