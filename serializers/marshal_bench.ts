import { createMarshalSerializer } from "./marshal.ts";

const ser = createMarshalSerializer();

const ARGS = ["hello world", 42, 3.14, [1, 2, 3], { key: "value", n: null }];
const KWARGS = { flag: true };
const CALL = ser.dumpsCall("test.echoserver", "echo", ARGS, KWARGS);

const MB = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
const MB_MARSHAL = ser.dumps(MB);

Deno.bench("marshal small call dumpsCall", { group: "small call", baseline: true }, () => {
  ser.dumpsCall("test.echoserver", "echo", ARGS, KWARGS);
});

Deno.bench("marshal small call loadsCall", { group: "small call" }, () => {
  ser.loadsCall(CALL);
});

Deno.bench("marshal small call dumpsCall + loadsCall", { group: "small call" }, () => {
  ser.loadsCall(ser.dumpsCall("test.echoserver", "echo", ARGS, KWARGS));
});

Deno.bench("marshal 1 MB bytes dumps", { group: "1 MB bytes", baseline: true }, () => {
  ser.dumps(MB);
});

Deno.bench("marshal 1 MB bytes loads", { group: "1 MB bytes" }, () => {
  ser.loads(MB_MARSHAL);
});

Deno.bench("marshal 1 MB bytes dumps + loads", { group: "1 MB bytes" }, () => {
  ser.loads(ser.dumps(MB));
});
