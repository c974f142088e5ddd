// The json decoder's fast path against its general path (JSON.parse and the
// pass that recreates classes): on every payload, the same value (same -0,
// same classes and bytes) or the same kind of error. A payload padded with
// trailing blanks past the fast path's size limit reads the same in json,
// and takes the general path: that is the reference.
import assert from "node:assert/strict";
import { rng } from "../tests/_random.ts";
import { NOT_COMPACT, parseJsonCompact, parseJsonCompactCall } from "./_json_compact.ts";
import { DEFAULT_REGISTRY } from "./registry.ts";
import { createJsonSerializer } from "./json.ts";

const enc = new TextEncoder();
const PAD = " ".repeat(17 * 1024);

const STRINGS = [
  "",
  "a",
  "hello",
  "object",
  "é",
  "日本語",
  "😀",
  "\uFFFD",
  "a\\nb",
  'a\\"b',
  "\\u00e9",
  "tab\there",
  "__class__",
  "encoding",
  "data",
  "__proto__",
  "NaN",
  "x".repeat(40),
];
const NUMBERS = [
  "0",
  "-0",
  "7",
  "-42",
  "007",
  "123456789012345",
  "1234567890123456",
  "9007199254740993",
  "1.5",
  "-0.0",
  "2.0",
  "5.",
  ".5",
  "1e5",
  "1.5E-3",
  "0.1",
  "123456789.012345",
  "-1.25",
  "NaN",
  "-Infinity",
  "+3",
];
const WORDS = ["null", "true", "false", "nul", "True", "None", "falsey"];
const BLANKS = ["", "", "", " ", "\n", "\t ", "\r\n"];

function generate(r: () => number, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const kind = depth > 4 ? Math.floor(r() * 3) : Math.floor(r() * 6);
  switch (kind) {
    case 0:
      return `"${pick(STRINGS)}"`;
    case 1:
      return pick(NUMBERS);
    case 2:
      return pick(WORDS);
    case 3: {
      const items = Array.from({ length: Math.floor(r() * 4) }, () => generate(r, depth + 1));
      return "[" + items.join("," + pick(BLANKS)) + (items.length && r() < 0.05 ? "," : "") + "]";
    }
    default: {
      const entries = Array.from(
        { length: Math.floor(r() * 4) },
        () => `"${pick(STRINGS)}"${pick(BLANKS)}:${pick(BLANKS)}${generate(r, depth + 1)}`,
      );
      if (r() < 0.1) {
        entries.push(
          `"__class__": "builtins.ValueError", "__exception__": true, "args": ["boom"], "attributes": {}`,
        );
      }
      if (r() < 0.1) entries.push(`"__class__": "no.such.Class"`);
      if (r() < 0.1) entries.push(`"data": "aGVsbG8=", "encoding": "base64"`);
      return "{" + entries.join(", ") + "}";
    }
  }
}

function mutate(r: () => number, doc: string): string {
  const bits = [" ", ",", "]", "}", "[", "{", '"', ":", "\\", "\n", "-", ".", "\0", "e"];
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

type Outcome = { value: unknown } | { error: unknown };

function outcome(f: () => unknown): Outcome {
  try {
    return { value: f() };
  } catch (error) {
    return { error };
  }
}

function assertSameOutcome(fast: Outcome, general: Outcome, doc: string): void {
  if ("error" in general) {
    assert.ok("error" in fast, `the fast path accepted what the general path refuses: ${doc}`);
    assert.equal(
      (fast.error as Error).constructor,
      (general.error as Error).constructor,
      doc,
    );
    return;
  }
  assert.ok("value" in fast, `${doc}: ${"error" in fast ? fast.error : ""}`);
  assert.deepStrictEqual(fast.value, general.value, doc);
}

Deno.test("json fast path: the general path's values and errors on generated payloads", () => {
  const r = rng(1124);
  let compact = 0;
  const total = 6000;
  for (let k = 0; k < total; k++) {
    let doc = generate(r, 0);
    if (r() < 0.3) doc = mutate(r, doc);
    const ser = createJsonSerializer({ maxDepth: r() < 0.2 ? 2 : 64 });
    const bytes = enc.encode(doc);
    if (parseJsonCompact(bytes, 0, 64, DEFAULT_REGISTRY, (o) => o) !== NOT_COMPACT) compact++;
    assertSameOutcome(
      outcome(() => ser.loads(bytes)),
      outcome(() => ser.loads(enc.encode(doc + PAD))),
      JSON.stringify(doc),
    );
  }
  assert.ok(compact > total / 4, `only ${compact} of ${total} payloads were for the fast path`);
});

Deno.test("json fast path: calls read as the general path reads them", () => {
  const r = rng(99);
  const ser = createJsonSerializer();
  const docs = [
    '{"object": "e", "method": "echo", "params": [["hello", 42, [1.5, 2]]], "kwargs": {}}',
    '{"object":"e","method":"echo","params":[],"kwargs":null}',
    '{"object": "e", "method": 5, "params": [], "kwargs": {}}',
    '{"object": "e", "method": "m", "params": {}, "kwargs": {}}',
    '["e", "m", [], {}]',
    '{"method": "m", "params": [], "kwargs": {}}',
  ];
  for (let k = 0; k < 2000; k++) {
    let doc = `{"object": ${r() < 0.9 ? '"obj"' : generate(r, 1)}, "method": "m", "params": [${
      generate(r, 2)
    }], "kwargs": ${r() < 0.5 ? "{}" : generate(r, 1)}}`;
    if (r() < 0.3) doc = mutate(r, doc);
    docs.push(doc);
  }
  for (const doc of docs) {
    assertSameOutcome(
      outcome(() => ser.loadsCall(enc.encode(doc))),
      outcome(() => ser.loadsCall(enc.encode(doc + PAD))),
      doc,
    );
  }
});

Deno.test("json fast path: what it takes, exactly, and what it leaves", () => {
  const take = (doc: string) =>
    parseJsonCompact(enc.encode(doc), 0, 64, DEFAULT_REGISTRY, (o) => o);
  assert.deepStrictEqual(take(' {"a": [1, -0, 1.5, -0.0, true, null], "b": "é"} '), {
    a: [1, -0, 1.5, -0, true, null],
    b: "é",
  });
  assert.ok(Object.is((take("[-0]") as number[])[0], -0));
  assert.ok(Object.hasOwn(take('{"__proto__": 1}') as object, "__proto__"));
  for (
    const doc of ["NaN", "1e5", "[1,]", '"a\\nb"', "1234567890123456", "[", "01", '"\u0001"', ""]
  ) {
    assert.equal(take(doc), NOT_COMPACT, doc);
  }
  assert.equal(
    parseJsonCompact(new Uint8Array([0x22, 0xff, 0x22]), 0, 64, DEFAULT_REGISTRY, (o) => o),
    NOT_COMPACT,
  );
  // a call dict in Pyro5's key order is taken apart directly; another order takes the general path
  const call = (doc: string) =>
    parseJsonCompactCall(enc.encode(doc), 64, DEFAULT_REGISTRY, (o) => o);
  assert.deepStrictEqual(
    call('{"object": "e", "method": "echo", "params": [["hi", 1]], "kwargs": {}}'),
    ["e", "echo", [["hi", 1]], {}],
  );
  assert.equal(call('{"method": "echo", "object": "e", "params": [], "kwargs": {}}'), NOT_COMPACT);
  assert.equal(
    call('{"object": "e", "method": "echo", "params": [], "kwargs": {}, "x": 1}'),
    NOT_COMPACT,
  );
  // the nesting limit: the general path says so
  assert.equal(
    parseJsonCompact(enc.encode("[[1]]"), 0, 1, DEFAULT_REGISTRY, (o) => o),
    NOT_COMPACT,
  );
  assert.deepStrictEqual(parseJsonCompact(enc.encode("[[1]]"), -1, 1, DEFAULT_REGISTRY, (o) => o), [
    [1],
  ]);
});
