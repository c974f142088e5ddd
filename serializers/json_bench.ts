/**
 * Benchmarks of the json serializer: the small call and a 1 MiB bytes
 * payload (sent as the base64 dict). `bench/python_serializers.py` times
 * Python's json and Pyro5's JsonSerializer on the same workloads.
 *
 * Run: `deno bench serializers/json_bench.ts`
 *
 * @module
 */

import { createJsonSerializer } from "./json.ts";

const ser = createJsonSerializer();
const ARGS = ["hello", 42, [1.5, 2]];
const CALL = ser.dumpsCall("test.echoserver", "echo", ARGS, {});
const MB = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
const MB_PAYLOAD = ser.dumps(MB);
const PY_CALL = new TextEncoder().encode(
  '{"object": "test.echoserver", "method": "echo", "params": [NaN, 12345678901234567890], "kwargs": {}}',
);

Deno.bench("json dumpsCall small call", { group: "small call" }, () => {
  ser.dumpsCall("test.echoserver", "echo", ARGS, {});
});

Deno.bench("json loadsCall small call", { group: "small call" }, () => {
  ser.loadsCall(CALL);
});

Deno.bench("json loadsCall small call with NaN and a big int (slow path)", {
  group: "small call",
}, () => {
  ser.loadsCall(PY_CALL);
});

Deno.bench("json dumps 1 MiB bytes", { group: "1 MiB bytes" }, () => {
  ser.dumps(MB);
});

Deno.bench("json loads 1 MiB bytes", { group: "1 MiB bytes" }, () => {
  ser.loads(MB_PAYLOAD);
});
