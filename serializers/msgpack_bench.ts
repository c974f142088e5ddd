/**
 * Benchmarks of the msgpack serializer: the small call and a 1 MiB bytes
 * payload. `bench/python_serializers.py` times Python's msgpack and Pyro5's
 * MsgpackSerializer on the same workloads.
 *
 * Run: `deno bench serializers/msgpack_bench.ts`
 *
 * @module
 */

import { createMsgpackSerializer } from "./msgpack.ts";

const ser = createMsgpackSerializer();
const copying = createMsgpackSerializer({ copyBytes: true });
const ARGS = ["hello", 42, [1.5, 2]];
const CALL = ser.dumpsCall("test.echoserver", "echo", ARGS, {});
const MB = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
const MB_PAYLOAD = ser.dumps(MB);

Deno.bench("msgpack dumpsCall small call", { group: "small call" }, () => {
  ser.dumpsCall("test.echoserver", "echo", ARGS, {});
});

Deno.bench("msgpack loadsCall small call", { group: "small call" }, () => {
  ser.loadsCall(CALL);
});

Deno.bench("msgpack dumps 1 MiB bytes", { group: "1 MiB bytes" }, () => {
  ser.dumps(MB);
});

Deno.bench("msgpack loads 1 MiB bytes", { group: "1 MiB bytes" }, () => {
  ser.loads(MB_PAYLOAD);
});

Deno.bench("msgpack loads 1 MiB bytes (copyBytes)", { group: "1 MiB bytes" }, () => {
  copying.loads(MB_PAYLOAD);
});
