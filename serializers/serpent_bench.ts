import { createSerpentSerializer } from "./serpent.ts";

const ser = createSerpentSerializer();

const args = ["hello", 42, [1.5, 2]];
const kwargs = {};
const callPayload = ser.dumpsCall("test.echoserver", "echo", args, kwargs);

const big = new Uint8Array(1024 * 1024);
for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
const bigPayload = ser.dumps(big);

const rich = {
  int: 42,
  bigint: 1267650600228229401496703217721n,
  float: 3.141592653589793,
  str: "hello",
  unicode: "Ünïcödé ☺ 你好 𝄞",
  escapes: "quote' dquote\" backslash\\ newline\n tab\t",
  list: [1, "two", 3.5, null],
  tuple: Object.freeze([1, "two", 3.5]),
  set: new Set([1, 2, 3]),
  nested: { level1: { level2: [1, [2, [3, { x: null, y: Object.freeze([4, 5]) }]]] } },
  bytes: new Uint8Array([0, 1, 2, 98, 105, 110]),
  nonstr: new Map<unknown, unknown>([[10, "int key"], [2.5, "float key"]]),
};
const richPayload = ser.dumps(rich);

Deno.bench("serpent small call: dumpsCall", { group: "serpent small call", baseline: true }, () => {
  ser.dumpsCall("test.echoserver", "echo", args, kwargs);
});

Deno.bench("serpent small call: loadsCall", { group: "serpent small call" }, () => {
  ser.loadsCall(callPayload);
});

Deno.bench("serpent small call: dumpsCall + loadsCall", { group: "serpent small call" }, () => {
  ser.loadsCall(ser.dumpsCall("test.echoserver", "echo", args, kwargs));
});

Deno.bench("serpent rich dict: dumps", { group: "serpent rich dict", baseline: true }, () => {
  ser.dumps(rich);
});

Deno.bench("serpent rich dict: loads", { group: "serpent rich dict" }, () => {
  ser.loads(richPayload);
});

Deno.bench("serpent 1 MB bytes: dumps", { group: "serpent 1 MB bytes", baseline: true }, () => {
  ser.dumps(big);
});

Deno.bench("serpent 1 MB bytes: loads", { group: "serpent 1 MB bytes" }, () => {
  ser.loads(bigPayload);
});

Deno.bench("serpent 1 MB bytes: dumps + loads", { group: "serpent 1 MB bytes" }, () => {
  ser.loads(ser.dumps(big));
});
