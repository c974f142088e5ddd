import {
  frameRecords as frame,
  unframeRecords as unframe,
  vectorPayload as payloadOf,
} from "../tests/_vectors.ts";
import assert from "node:assert/strict";
import { createJsonSerializer } from "./json.ts";
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
const ser = createJsonSerializer({ registry });
const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (...b: number[]) => new Uint8Array(b);

const vectors: VectorMessage[] = manifest().messages.filter((m) =>
  m.serializer === "json" && m.serialized_payload
);

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
    if type(v).__name__ == "ExtType":
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

Deno.test("json loads() decodes every json vector", () => {
  assert.ok(vectors.length > 100);
  for (const m of vectors) {
    const got = ser.loads(payloadOf(m));
    assertPyEqual(got, fromTagged(m.decoded, { registry }), m.file);
  }
});

Deno.test("json loadsCall() decodes every json INVOKE vector", () => {
  const invokes = vectors.filter((m) => m.msg_type_name === "MSG_INVOKE");
  assert.ok(invokes.length > 50);
  for (const m of invokes) {
    const call = ser.loadsCall(payloadOf(m));
    const d = m.decoded as Record<string, unknown>;
    assert.equal(call.objectId, d.object, m.file);
    assert.equal(call.method, d.method, m.file);
    assertPyEqual(call.args, fromTagged(d.params, { registry }), m.file);
    assertPyEqual(call.kwargs, fromTagged(d.kwargs, { registry }), m.file);
  }
});

Deno.test("json loads() reads Python's NaN, Infinity and big ints exactly", () => {
  const v = ser.loads(
    enc.encode("[NaN, Infinity, -Infinity, 9007199254740993, -18446744073709551617, 1e+300, -0.0]"),
  );
  assertPyEqual(v, [
    NaN,
    Infinity,
    -Infinity,
    9007199254740993n,
    -18446744073709551617n,
    1e300,
    -0,
  ]);
  assert.equal(ser.loads(enc.encode("9007199254740991")), Number.MAX_SAFE_INTEGER);
  // JSON.parse would make Infinity of this one.
  assertPyEqual(ser.loads(enc.encode("[-1" + "0".repeat(400) + "]")), [-(10n ** 400n)]);
});

Deno.test("json dumps() writes what Python's json.dumps writes", () => {
  const text = dec.decode(ser.dumps({
    i: [0, -5, 2n ** 64n, 2 ** 53 - 1],
    f: [1.5, new PyFloat(2), 1e16, 1e-5, 0.0001, 1e22, -0, NaN, Infinity, -Infinity, 2 ** 60],
    s: 'é"\\\n\u0001\u007f\u2028𝄞',
    t: tuple(1, "a"),
    set: new Set([3]),
    fs: new FrozenSet([4]),
    m: new Map<unknown, unknown>([[10, 1], [2.5, 2], [true, 3], [null, 4], ["k", 5]]),
    b: new Uint8Array([0, 255]),
    d: new Date(Date.UTC(2024, 4, 1, 12, 30, 0, 5)),
    u: undefined,
  }));
  assert.equal(
    text,
    '{"i": [0, -5, 18446744073709551616, 9007199254740991], ' +
      '"f": [1.5, 2.0, 1e+16, 1e-05, 0.0001, 1e+22, -0.0, NaN, Infinity, -Infinity, 1.152921504606847e+18], ' +
      '"s": "é\\"\\\\\\n\\u0001\u007f\u2028𝄞", "t": [1, "a"], "set": [3], "fs": [4], ' +
      '"m": {"10": 1, "2.5": 2, "true": 3, "null": 4, "k": 5}, ' +
      '"b": {"data": "AP8=", "encoding": "base64"}, "d": "2024-05-01T12:30:00.005000+00:00", "u": null}',
  );
  assert.equal(
    dec.decode(ser.dumpsCall("test.echoserver", "echo", ["hello", 42, [1.5, 2]], {})),
    '{"object": "test.echoserver", "method": "echo", "params": ["hello", 42, [1.5, 2]], "kwargs": {}}',
  );
  assert.equal(
    dec.decode(ser.dumpsCall("o", "m", [], null)),
    '{"object": "o", "method": "m", "params": [], "kwargs": null}',
  );
});

Deno.test("json loads() turns bytes dicts into bytes, and leaves other dicts alone", () => {
  assert.deepEqual(ser.loads(enc.encode('{"data": "AP8=", "encoding": "base64"}')), bytes(0, 255));
  for (
    const text of [
      '{"data": "not base64!", "encoding": "base64"}',
      '{"data": "AP8=", "encoding": "base64", "x": 1}',
      '{"data": "AP8=", "encoding": "hex"}',
    ]
  ) {
    assert.deepEqual(ser.loads(enc.encode(text)), JSON.parse(text));
  }
});

Deno.test("json dumps() refuses what Pyro5's json cannot carry", () => {
  assert.throws(() => ser.dumps(new Complex(1, 2)), SerializeError);
  assert.throws(() => ser.dumps(new Map([[[1], 2]])), SerializeError);
  assert.throws(() => ser.dumps(() => 1), SerializeError);
  assert.throws(() => ser.dumps(Symbol("x")), SerializeError);
  assert.throws(() => ser.dumps(new Date(NaN)), SerializeError);
});

Deno.test("json loadsCall() refuses payloads that are not calls", () => {
  for (
    const text of [
      "[1, 2]",
      '{"object": "o", "method": "m", "params": {}, "kwargs": {}}',
      '{"object": 1}',
      '"x"',
      '{"object": "o", "method": "m", "params": [], "kwargs": 3}',
    ]
  ) {
    assert.throws(() => ser.loadsCall(enc.encode(text)), SerializeError, text);
  }
});

// ---------------------------------------------------------------- Python re-encode

Deno.test({
  name: "json dumps() of every decoded vector is read back by Python's json and Pyro5",
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
      records.push(new Uint8Array([m.msg_type_name === "MSG_INVOKE" ? 1 : 0]), payload, ours);
    }
    const script = PY_COMMON + String.raw`
from Pyro5.serializers import JsonSerializer
ser = JsonSerializer()
recs = list(records())
out = []
for i in range(0, len(recs), 3):
    call, orig, ours = recs[i][0], recs[i + 1], recs[i + 2]
    r = {}
    try:
        r["value"] = tag(json.loads(ours.decode("utf-8")))
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
  2 ** 32,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  2n ** 53n,
  -(2n ** 53n),
  2n ** 63n - 1n,
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
  1e-4,
  5e-324,
  1.7976931348623157e308,
  2 ** 53,
  123456.789,
  -2.5e-300,
];

/** A random value for the json serializer, and what decoding it must give. */
function genValue(rnd: () => number, depth = 0): [unknown, unknown] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const kind = Math.floor(rnd() * (depth > 3 ? 8 : 11));
  switch (kind) {
    case 0: {
      const v = rnd() < 0.5 ? pick(INT_EDGES) : Math.floor((rnd() - 0.5) * 2 ** (rnd() * 53));
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
        const v = pick(FLOAT_EDGES);
        return [v, v];
      }
      const dv = new DataView(new ArrayBuffer(8));
      dv.setUint32(0, Math.floor(rnd() * 2 ** 32));
      dv.setUint32(4, Math.floor(rnd() * 2 ** 32));
      const f = dv.getFloat64(0);
      const v = Number.isFinite(f) ? f : 0.5;
      return [v, v];
    }
    case 3: {
      const i = Math.floor((rnd() - 0.5) * 1000);
      return [new PyFloat(i), i];
    }
    case 4: {
      const s = genString(rnd);
      return [s, s];
    }
    case 5:
      return pick([[true, true], [false, false], [null, null], [undefined, null]]);
    case 6: {
      const b = new Uint8Array(Math.floor(rnd() * 40)).map(() => Math.floor(rnd() * 256));
      return [b, b];
    }
    case 7: {
      const ms = Math.floor(rnd() * 4e12);
      return [new Date(ms), null]; // expected filled in by the caller (an ISO string)
    }
    case 8: {
      const n = Math.floor(rnd() * 6);
      const pairs = Array.from({ length: n }, () => genValue(rnd, depth + 1));
      const v = pairs.map((p) => p[0]), e = pairs.map((p) => p[1]);
      const r = rnd();
      if (r < 0.2) return [Object.freeze(v), e];
      if (r < 0.3) return [new Set(v), e];
      return [v, e];
    }
    case 9: {
      const n = Math.floor(rnd() * 6);
      const v: Record<string, unknown> = {}, e: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = rnd() < 0.1 ? "__proto__" : genString(rnd);
        if (k === "__class__") continue;
        const [x, y] = genValue(rnd, depth + 1);
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
      const m = new Map<unknown, unknown>();
      const e: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 4); i > 0; i--) {
        const k = Math.floor((rnd() - 0.5) * 1e6);
        const [x, y] = genValue(rnd, depth + 1);
        m.set(k, x);
        e[String(k)] = y;
      }
      return [m, e];
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

/** Fills in the expectations that depend on the encoder (Dates as ISO text). */
function fixDates(v: unknown, e: unknown): unknown {
  if (v instanceof Date) return dec.decode(ser.dumps(v)).slice(1, -1);
  if (Array.isArray(e)) {
    const items = v instanceof Set ? [...v] : v as unknown[];
    return e.map((x, i) => fixDates(items[i], x));
  }
  if (e !== null && typeof e === "object" && !(e instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    const src = v instanceof Map
      ? Object.fromEntries([...v].map(([k, x]) => [String(k), x]))
      : v as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      Object.defineProperty(out, k, {
        value: fixDates(src[k], (e as Record<string, unknown>)[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return e;
}

function genCases(seed: number, count: number): [unknown, unknown][] {
  const rnd = prng(seed);
  return Array.from({ length: count }, () => {
    const [v, e] = genValue(rnd);
    return [v, fixDates(v, e)];
  });
}

Deno.test("json round-trips 300 random values Tyro to Tyro", () => {
  for (const [i, [v, e]] of genCases(1234, 300).entries()) {
    const bytes = ser.dumps(v);
    assertPyEqual(ser.loads(bytes), e, `case ${i}: ${dec.decode(bytes)}`);
  }
});

Deno.test({
  name: "json round-trips 300 random values Tyro to Python to Tyro, byte for byte",
  ignore: !peerAvailable(),
  async fn() {
    const cases = genCases(99, 300);
    const ours = cases.map(([v]) => ser.dumps(v));
    const script = PY_COMMON + String.raw`
from Pyro5.serializers import JsonSerializer
ser = JsonSerializer()
out = sys.stdout.buffer
for rec in records():
    b = ser.dumps(ser.loads(rec))
    out.write(struct.pack(">I", len(b)) + b)
`;
    const res = await runPython(script, { stdin: frame(ours) });
    const back = unframe(res.stdout);
    assert.equal(back.length, cases.length);
    back.forEach((b, i) => {
      assert.equal(dec.decode(b), dec.decode(ours[i]), `case ${i}`);
      assertPyEqual(ser.loads(b), cases[i][1], `case ${i}`);
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

Deno.test("json loads() throws only SerializeError on truncated and mutated vectors", () => {
  const rnd = prng(7);
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
        t[Math.floor(rnd() * t.length)] = rnd() < 0.5
          ? Math.floor(rnd() * 256)
          : pick(rnd, [0x22, 0x5c, 0x5b, 0x7b, 0x2c, 0x3a, 0x30, 0x2d, 0x4e, 0x49, 0x65]);
      }
      assertOnlySerializeError(() => ser.loads(t), `${m.file} mutation ${i}`);
      assertOnlySerializeError(() => ser.loadsCall(t), `${m.file} mutation ${i}`);
    }
  }
});

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

Deno.test("json loads() and dumps() refuse 10,000-deep nesting and cycles", () => {
  for (
    const text of [
      "[".repeat(10000) + "]".repeat(10000),
      '{"a": '.repeat(10000) + "1" + "}".repeat(10000),
      "[".repeat(10000),
      "[NaN, " + "[".repeat(10000),
    ]
  ) {
    assert.throws(() => ser.loads(enc.encode(text)), SerializeError);
  }
  let deep: unknown = [];
  for (let i = 0; i < 10000; i++) deep = [deep];
  assert.throws(() => ser.dumps(deep), SerializeError);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => ser.dumps(cyclic), SerializeError);
  // The limit is maxDepth containers: 500 pass, 501 do not.
  assert.doesNotThrow(() => ser.loads(enc.encode("[".repeat(500) + "]".repeat(500))));
  assert.throws(() => ser.loads(enc.encode("[".repeat(501) + "]".repeat(501))), SerializeError);
});

Deno.test("json loads() keeps a __proto__ key as an own property", () => {
  for (
    const text of [
      '{"__proto__": {"polluted": 1}, "a": NaN}',
      '{"__proto__": {"polluted": 1}}',
      '{"__proto__": {"polluted": 1}, "b": 99999999999999999999}',
    ]
  ) {
    const v = ser.loads(enc.encode(text)) as Record<string, unknown>;
    assert.ok(Object.hasOwn(v, "__proto__"), text);
    assert.deepEqual(Object.keys(v).includes("__proto__"), true);
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  }
  const o = JSON.parse('{"__proto__": 1}');
  assert.equal(dec.decode(ser.dumps(o)), '{"__proto__": 1}');
});

Deno.test("json loads() error messages name json and the byte offset", () => {
  assert.throws(() => ser.loads(enc.encode('{"é": x}')), {
    name: "SerializeError",
    message: "Cannot decode json: unexpected token 'x' at offset 7",
  });
  assert.throws(() => ser.loads(new Uint8Array([0x5b, 0x22, 0xc3, 0x28])), {
    message: "Cannot decode json: invalid UTF-8 at offset 2",
  });
  assert.throws(() => ser.loads(enc.encode("[1] 2")), {
    message: "Cannot decode json: extra data after the value at offset 4",
  });
  assert.throws(() => ser.loads(enc.encode("9".repeat(4301))), SerializeError);
});

Deno.test("json dumps: large texts, ASCII or not, encode exactly", () => {
  const ser = createJsonSerializer();
  for (const text of ["x".repeat(100_000), "é".repeat(70_000), "a".repeat(80_000) + "☃"]) {
    const bytes = ser.dumps(text);
    assert.equal(new TextDecoder().decode(bytes), JSON.stringify(text));
    assert.equal(ser.loads(bytes), text);
  }
});

Deno.test("json dumps writes every kind of string exactly as JSON.stringify would", () => {
  const ser = createJsonSerializer();
  const texts = [
    "",
    'say "hi"',
    "back\\slash",
    "tab\t",
    "ünï",
    "\ud800 lone",
    "😀",
    "a".repeat(63),
    "a".repeat(64),
  ];
  for (const t of texts) {
    assert.equal(dec.decode(ser.dumps(t)), JSON.stringify(t), t);
    assert.equal(
      dec.decode(ser.dumps({ [t]: [t] })),
      `{${JSON.stringify(t)}: [${JSON.stringify(t)}]}`,
    );
    const call = ser.loadsCall(ser.dumpsCall(t, t, [t], { [t]: t }));
    assert.deepEqual(
      { o: call.objectId, m: call.method, a: call.args, k: call.kwargs },
      { o: t, m: t, a: [t], k: { [t]: t } },
    );
  }
  assert.equal(
    dec.decode(ser.dumpsCall("o", "m", [1, [2.5]], null)),
    '{"object": "o", "method": "m", "params": [1, [2.5]], "kwargs": null}',
  );
});
