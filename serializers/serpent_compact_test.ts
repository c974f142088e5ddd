// The compact serpent parser against the general one: on every text it
// accepts, it must return exactly what the general parser returns (same
// values, same frozen tuples, same -0), and it must give up on every text
// the general parser refuses.
import assert from "node:assert/strict";
import { SerializeError } from "../errors.ts";
import { rng } from "../tests/_random.ts";
import { callFromSequence } from "./_call_message.ts";
import { NOT_COMPACT, parseCompact, parseCompactCall } from "./_serpent_compact.ts";
import { SerpentParser } from "./_serpent_decode.ts";
import { DEFAULT_REGISTRY } from "./registry.ts";
import { createSerpentSerializer, SERPENT_HEADER } from "./serpent.ts";
import { tuple } from "./types.ts";

const enc = new TextEncoder();
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** What the general parser makes of the bytes (as serpent.ts calls it). */
function general(bytes: Uint8Array, maxDepth: number): Outcome {
  try {
    let text = lenient.decode(bytes);
    if (text.includes("\uFFFD")) text = strict.decode(bytes);
    return { ok: true, value: new SerpentParser(text, DEFAULT_REGISTRY, maxDepth).parseDocument() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Deep equality that also tells frozen from mutable arrays, and -0 from 0. */
function assertSame(actual: unknown, expected: unknown, doc: string): void {
  assert.deepStrictEqual(actual, expected, doc);
  const walk = (a: unknown, e: unknown): void => {
    if (Array.isArray(a)) {
      assert.equal(Object.isFrozen(a), Object.isFrozen(e), `frozen differs in ${doc}`);
      a.forEach((x, i) => walk(x, (e as unknown[])[i]));
    } else if (a instanceof Set) {
      const es = [...(e as Set<unknown>)];
      [...a].forEach((x, i) => walk(x, es[i]));
    } else if (a !== null && typeof a === "object" && !(a instanceof Uint8Array)) {
      for (const k of Object.keys(a)) {
        walk((a as Record<string, unknown>)[k], (e as Record<string, unknown>)[k]);
      }
    }
  };
  walk(actual, expected);
}

const STRING_BODIES = [
  "",
  "a",
  "hello",
  "echo",
  "it's",
  'say "hi"',
  "é",
  "日本語",
  "😀",
  "\uFFFD",
  "a\\nb",
  "a\\'b",
  "tab\there",
  "line\nbreak",
  "nul\0",
  "__class__",
  "encoding",
  "data",
  "__proto__",
  "x".repeat(40),
  "ÿ".repeat(33),
];
const NUMBERS = [
  "0",
  "-0",
  "7",
  "-42",
  "007",
  "00",
  "1_000",
  "123456789012345",
  "1234567890123456",
  "9007199254740993",
  "1.5",
  "-0.0",
  "2.0",
  "5.",
  ".5",
  "1e5",
  "1.5e-3",
  "2j",
  "1+2j",
  "0x1f",
  "0.1",
  "123456789.012345",
  "12345678901234.56",
  "-1.25",
  "+3",
];
const NAMES = ["None", "True", "False", "Nonesuch", "true", "set()", "Truex", "Fals"];

function generate(r: () => number, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const kind = depth > 4 ? Math.floor(r() * 3) : Math.floor(r() * 8);
  switch (kind) {
    case 0: {
      const q = r() < 0.8 ? "'" : '"';
      return q + pick(STRING_BODIES) + q;
    }
    case 1:
      return pick(NUMBERS);
    case 2:
      return pick(NAMES);
    case 3:
    case 4: {
      const n = Math.floor(r() * 4);
      const items = Array.from({ length: n }, () => generate(r, depth + 1));
      const trailing = n > 0 && r() < 0.2 ? "," : "";
      if (kind === 3) return "[" + items.join(",") + trailing + "]";
      return "(" + items.join(",") + (n === 1 && r() < 0.8 ? "," : trailing) + ")";
    }
    case 5:
    case 6: {
      const n = Math.floor(r() * 4);
      const entries = Array.from({ length: n }, () => {
        const key = r() < 0.85 ? `'${pick(STRING_BODIES)}'` : generate(r, depth + 1);
        return key + ":" + generate(r, depth + 1);
      });
      if (r() < 0.1) entries.push(`'__class__':'builtins.ValueError','args':('boom',)`);
      if (r() < 0.1) entries.push(`'data':'aGVsbG8=','encoding':'base64'`);
      return "{" + entries.join(",") + (n > 0 && r() < 0.1 ? "," : "") + "}";
    }
    default: {
      const n = 1 + Math.floor(r() * 3);
      const items = Array.from(
        { length: n },
        () => r() < 0.8 ? `'${pick(STRING_BODIES)}'` : pick(NUMBERS),
      );
      return "{" + items.join(",") + "}";
    }
  }
}

/** Random edits that make near misses: blanks, stray brackets, cut ends. */
function mutate(r: () => number, doc: string): string {
  const bits = [" ", ",", ")", "]", "}", "(", "'", '"', ":", "\\", "\n", "#", "-", ".", "\0", "j"];
  const at = Math.floor(r() * (doc.length + 1));
  switch (Math.floor(r() * 3)) {
    case 0:
      return doc.slice(0, at) + bits[Math.floor(r() * bits.length)] + doc.slice(at);
    case 1:
      return doc.slice(0, at) + doc.slice(at + 1);
    default:
      return doc.slice(0, at);
  }
}

function check(bytes: Uint8Array, maxDepth: number, label: string): boolean {
  const fast = parseCompact(bytes, DEFAULT_REGISTRY, maxDepth);
  const slow = general(bytes, maxDepth);
  if (fast === NOT_COMPACT) return false;
  assert.ok(slow.ok, `compact accepted what the general parser refuses: ${label}`);
  assertSame(fast, slow.value, label);
  return true;
}

Deno.test("compact serpent parser: the general parser's values on generated texts, and gives up on the rest", () => {
  const r = rng(20261124);
  let accepted = 0;
  const total = 6000;
  for (let k = 0; k < total; k++) {
    let doc = generate(r, 0);
    if (r() < 0.3) doc = mutate(r, doc);
    const maxDepth = r() < 0.2 ? 2 : 64;
    const bytes = enc.encode(SERPENT_HEADER + doc);
    if (check(bytes, maxDepth, JSON.stringify(doc))) accepted++;
  }
  // the generator aims at the compact form and its near misses: about a third is compact
  assert.ok(accepted > total / 4, `only ${accepted} of ${total} texts were compact`);
});

Deno.test("compact serpent parser: gives up on invalid UTF-8, a missing header and what follows the value", () => {
  const head = enc.encode(SERPENT_HEADER);
  const withBytes = (...b: number[]) => new Uint8Array([...head, ...b]);
  for (
    const bytes of [
      withBytes(0x27, 0xff, 0x27), // invalid UTF-8 in a str
      withBytes(0x27, 0xc3, 0x27), // a cut sequence
      withBytes(0x27, 0xef, 0xbf, 0xbd, 0x27), // a real U+FFFD: the general parser's job
      withBytes(0xc3, 0xa9), // non-ASCII outside a str
      enc.encode("[1,2]"), // no header
      enc.encode("\uFEFF" + SERPENT_HEADER + "1"), // a BOM
      enc.encode(SERPENT_HEADER + "1\n"),
      enc.encode(SERPENT_HEADER + "1 "),
      enc.encode(SERPENT_HEADER + "1,2"),
      enc.encode(SERPENT_HEADER),
      enc.encode(SERPENT_HEADER + "(1)"),
      enc.encode(SERPENT_HEADER + "'a''b'"),
      enc.encode(SERPENT_HEADER + "'''a'''"),
      enc.encode(SERPENT_HEADER + "{1:2}"),
      enc.encode(SERPENT_HEADER + "{'a':1 }"),
      enc.encode(SERPENT_HEADER + "[1]" + " ".repeat(20000)),
    ]
  ) {
    assert.equal(parseCompact(bytes, DEFAULT_REGISTRY, 64), NOT_COMPACT, lenient.decode(bytes));
  }
  // what it does take, exactly
  const take = (doc: string) =>
    parseCompact(enc.encode(SERPENT_HEADER + doc), DEFAULT_REGISTRY, 64);
  assert.deepStrictEqual(take("('a',(),[1.5,-0.0,-0],{'k':None,'t':True},{'x','y'})"), [
    "a",
    [],
    [1.5, -0, 0],
    { k: null, t: true },
    new Set(["x", "y"]),
  ]);
  assert.ok(Object.is((take("[-0.0]") as number[])[0], -0));
  assert.ok(Object.is((take("[-0]") as number[])[0], 0));
  assert.ok(Object.isFrozen(take("((1,),)")));
  assert.deepStrictEqual(take("{'data':'aGk=','encoding':'base64'}"), enc.encode("hi"));
  assert.deepStrictEqual(take("'日本😀'"), "日本😀");
  const err = take(
    "{'__class__':'builtins.ValueError','__exception__':True,'args':('boom',),'attributes':{}}",
  );
  assert.ok(err instanceof Error && err.message === "boom");
});

Deno.test("compact serpent calls: the general parser's call, or its error", () => {
  const r = rng(7);
  const docs = [
    "('e','echo',(['hello',42,[1.5,2]],),{})",
    "('e','echo',(),None)",
    "('e','<batch>',[('a',(1,),{})],{})",
    "('e','echo',('x',),{'k':1},)",
    "('e','echo',('x',))",
    "('e',1,(),{})",
    "('e','echo',(1),{})",
    "('e','echo',[],{'a':(1,2)})",
    "('e','echo','notargs',{})",
    "('e','echo',(),{},5)",
  ];
  const part = (usual: string) => r() < 0.85 ? usual : generate(r, 1);
  for (let k = 0; k < 3000; k++) {
    const args = Array.from({ length: Math.floor(r() * 3) }, () => generate(r, 2));
    const argsText = "(" + args.join(",") + (args.length === 1 ? "," : "") + ")";
    const kwargs = r() < 0.5 ? "{}" : r() < 0.5 ? "None" : `{'k':${generate(r, 2)}}`;
    let doc = `(${part("'obj'")},${part("'method'")},${part(argsText)},${part(kwargs)})`;
    if (r() < 0.3) doc = mutate(r, doc);
    docs.push(doc);
  }
  let accepted = 0;
  for (const doc of docs) {
    const bytes = enc.encode(SERPENT_HEADER + doc);
    let fast: unknown;
    let fastError: unknown = null;
    try {
      fast = parseCompactCall(bytes, DEFAULT_REGISTRY, 64);
    } catch (e) {
      fastError = e;
    }
    if (fast === NOT_COMPACT) continue;
    accepted++;
    const slow = general(bytes, 64);
    assert.ok(slow.ok, `compact accepted a call the general parser refuses: ${doc}`);
    let expected: unknown;
    let expectedError: unknown = null;
    try {
      expected = callFromSequence("serpent", slow.value);
    } catch (e) {
      expectedError = e;
    }
    if (expectedError !== null || fastError !== null) {
      assert.deepStrictEqual(fastError, expectedError, doc);
      assert.equal((fastError as Error).message, (expectedError as Error).message, doc);
      continue;
    }
    assertSame(fast, expected, doc);
  }
  assert.ok(accepted > 600, `only ${accepted} calls were compact`);
});

Deno.test("serpent loadsCall and loads use the compact path and agree with the general one", () => {
  const ser = createSerpentSerializer();
  const payload = ser.dumpsCall("obj", "m", ["s", 1, 2.5, [tuple(1, "x")], { a: new Set(["q"]) }], {
    k: null,
  });
  assert.notEqual(parseCompactCall(payload, DEFAULT_REGISTRY, 64), NOT_COMPACT);
  const call = ser.loadsCall(payload);
  assert.deepStrictEqual(call, {
    objectId: "obj",
    method: "m",
    args: ["s", 1, 2.5, [tuple(1, "x")], { a: new Set(["q"]) }],
    kwargs: { k: null },
  });
  assert.ok(!Object.isFrozen(call.args));
  assert.ok(Object.isFrozen((call.args[3] as unknown[])[0]));
});

Deno.test("serpent fast path: a parse inside a parse (a class hook) and after a refused one reads right", () => {
  const registry = DEFAULT_REGISTRY.copy();
  const ser = createSerpentSerializer({ registry });
  const inner = ser.dumps({ deep: [1, "two", 3.5] });
  // the hook decodes an inner payload while the outer parse is still running
  registry.registerDictToClass(
    "test.Wrapped",
    (_name: string, d: Record<string, unknown>) => ({
      unwrapped: ser.loads(d.payload as Uint8Array),
    }),
  );
  const outer = ser.dumps([{ __class__: "test.Wrapped", payload: inner }, "after"]);
  assert.deepEqual(ser.loads(outer), [{ unwrapped: { deep: [1, "two", 3.5] } }, "after"]);
  const text = (s: string) => new TextEncoder().encode("# serpent utf-8 python3.2\n" + s);
  assert.throws(() => ser.loads(text("[1,")), SerializeError); // cut short
  assert.deepEqual(ser.loads(text("[1, 2]")), [1, 2]); // not compact: the general parser
  assert.deepEqual(ser.loads(text("[1,2]")), [1, 2]);
  const call = ser.loadsCall(ser.dumpsCall("obj", "m", [inner], { k: 1 }));
  assert.deepEqual([call.objectId, call.method, call.kwargs], ["obj", "m", { k: 1 }]);
  assert.deepEqual(ser.loads(call.args[0] as Uint8Array), { deep: [1, "two", 3.5] });
});
