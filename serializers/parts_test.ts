import assert from "node:assert/strict";
import { createJsonSerializer } from "./json.ts";
import { createMarshalSerializer } from "./marshal.ts";
import { createMsgpackSerializer } from "./msgpack.ts";
import { createSerpentSerializer } from "./serpent.ts";
import { tuple } from "./types.ts";
import { joinParts } from "../protocol/message.ts";

const big = (n: number, seed: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * seed + 7) & 0xff;
  return b;
};

const values = (): [string, unknown][] => {
  const a = big(70_000, 3), b = big(200_000, 5), small = big(1000, 11);
  return [
    ["one large bytes", a],
    ["large bytes at 64 KiB exactly", big(65_536, 13)],
    ["just under 64 KiB", big(65_535, 17)],
    ["nested, with text before and after", { x: "before", data: [a, small, b], y: tuple(1, 2.5) }],
    ["the same array twice", [a, a]],
    ["no bytes", { n: 1, s: "text" }],
  ];
};

for (
  const ser of [
    createMsgpackSerializer(),
    createMarshalSerializer(),
    createSerpentSerializer(),
    createJsonSerializer(),
  ]
) {
  Deno.test(`${ser.name} dumpsParts() joins to exactly what dumps() writes`, () => {
    for (const [what, v] of values()) {
      const whole = ser.dumps(v);
      const parts = ser.dumpsParts!(v);
      const joined = Array.isArray(parts) ? joinParts(parts) : parts;
      assert.deepEqual(joined, whole, what);
      assert.deepEqual(ser.loads(joined), ser.loads(whole), what);
    }
  });

  Deno.test(`${ser.name} dumpsParts() passes large bytes on as parts of their own`, () => {
    const a = big(100_000, 3);
    const parts = ser.dumpsParts!({ first: a, second: a });
    assert.ok(Array.isArray(parts));
    if (ser.name === "serpent" || ser.name === "json") {
      // base64 text: each large bytes value is a part of its own, encoded apart from the rest
      assert.equal(parts.length, 5);
      assert.equal(parts[1].length, Math.ceil(100_000 / 3) * 4);
    } else {
      const refs = parts.filter((p) => p === a);
      assert.equal(refs.length, 2);
    }
    const small = ser.dumpsParts!(big(1000, 3));
    assert.ok(small instanceof Uint8Array, "small bytes are copied into one payload");
  });

  Deno.test(`${ser.name} dumpsCallParts() joins to what dumpsCall() writes`, () => {
    const args = [big(80_000, 7), "x", big(300_000, 9)];
    const kwargs = { k: big(66_000, 1) };
    const whole = ser.dumpsCall("obj", "m", args, kwargs);
    const parts = ser.dumpsCallParts!("obj", "m", args, kwargs);
    assert.ok(Array.isArray(parts));
    assert.deepEqual(joinParts(parts), whole);
    const call = ser.loadsCall(joinParts(parts));
    assert.equal(call.method, "m");
    assert.deepEqual(call.args[2], args[2]);
  });

  Deno.test(`${ser.name} results after a parts run are not overwritten`, () => {
    const a = big(100_000, 3);
    const first = ser.dumpsParts!([a, "tail"]) as Uint8Array[];
    const copy = first.map((p) => p.slice());
    for (let i = 0; i < 50; i++) ser.dumps({ i, s: "x".repeat(i * 10) });
    ser.dumpsParts!([big(90_000, 5), "other"]);
    assert.deepEqual(first, copy);
  });
}

Deno.test("marshal loads() returns large bytes as views and small ones as copies", () => {
  const ser = createMarshalSerializer();
  const payload = ser.dumps([big(70_000, 3), big(100, 3)]);
  const [large, small] = ser.loads(payload) as Uint8Array[];
  assert.equal(large.buffer, payload.buffer);
  assert.notEqual(small.buffer, payload.buffer);
  assert.deepEqual(large, big(70_000, 3));
});
