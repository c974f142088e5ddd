/**
 * The marshal serializer (Pyro5 serializer id 2): CPython's `marshal`
 * format, version 4, as Pyro5's `MarshalSerializer` writes and reads it.
 *
 * Reading accepts everything CPython 3.11 writes for plain data, at any
 * marshal version: references (`FLAG_REF` and `r`), interned and short
 * strings, text floats, old int64s. Writing uses version 4 codes without
 * references: `z`/`a`/`u` strings, `i`/`l` ints, `g` floats, `y` complex,
 * `s` bytes, `)`/`(` tuples, `[` lists, `{` dicts, `<`/`>` sets.
 *
 * | Python | TypeScript |
 * | --- | --- |
 * | `int` | `number` within ±(2^53−1), else `bigint` |
 * | `float` | `number` (or `PyFloat` to force a float when sending) |
 * | `str` | `string` (lone surrogates travel as Python's `surrogatepass` does) |
 * | `bytes`, `bytearray` | `Uint8Array` (a copy, never a view of the input) |
 * | `tuple` / `list` | frozen `Array` / `Array` |
 * | `set` / `frozenset` | `Set` / `FrozenSet` |
 * | `dict` | plain object when every key is a string, else `Map` |
 * | `complex` | `Complex` |
 *
 * Decoded dicts with a `__class__` key go through the class registry, as
 * Pyro5's `recreate_classes` does; values that are not plain data are sent
 * as the registry's class dict at any depth.
 *
 * @example Round-trip a call
 * ```ts
import { createMarshalSerializer } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * const ser = createMarshalSerializer();
 * const bytes = ser.dumpsCall("test.echoserver", "echo", [2n ** 70n, [1, 2]], {});
 * const call = ser.loadsCall(bytes);
 * assert.equal(call.method, "echo");
 * assert.deepEqual(call.args, [2n ** 70n, [1, 2]]);
 * ```
 *
 * @module
 */

import { callFromSequence } from "./_call_message.ts";
import { SerializeError } from "../errors.ts";
import { decodeMarshal } from "./_marshal_decode.ts";
import { MarshalWriter } from "./_marshal_encode.ts";
import { DEFAULT_REGISTRY } from "./registry.ts";
import {
  type CallMessage,
  DEFAULT_MAX_DEPTH,
  type Serializer,
  type SerializerOptions,
} from "./types.ts";

export type { CallMessage, Serializer, SerializerOptions } from "./types.ts";

/**
 * Creates a marshal serializer (Pyro5 serializer id 2, name `marshal`).
 *
 * Decoding throws {@linkcode SerializeError} for every malformed, truncated
 * or too deeply nested input (a `SecurityError` only when the registry
 * refuses a class name). Encoding throws it for cycles, nesting deeper than
 * `maxDepth`, functions and symbols.
 *
 * Decoded bytes of 64 KiB and more are views of the input (no copy): copy
 * them if the input buffer is reused after `loads` returns.
 *
 * Payloads from `dumps`/`dumpsCall` may be views of a larger buffer shared
 * with earlier payloads (never written again): honour `byteOffset` and
 * `byteLength` when handing them on.
 *
 * @param options The class registry and the nesting limit.
 * @returns The serializer; its methods may be called detached.
 *
 * @example Python types survive the trip
 * ```ts
 * import { createMarshalSerializer, FrozenSet, tuple } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * const ser = createMarshalSerializer();
 * const value = { t: tuple(1, "a"), fs: new FrozenSet(["x"]), b: new Uint8Array([0, 255]) };
 * const back = ser.loads(ser.dumps(value)) as typeof value;
 * assert.ok(Object.isFrozen(back.t));
 * assert.ok(back.fs instanceof FrozenSet);
 * assert.deepEqual([...back.b], [0, 255]);
 * ```
 */
export function createMarshalSerializer(options: SerializerOptions = {}): Serializer {
  const registry = options.registry ?? DEFAULT_REGISTRY;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const shared = new MarshalWriter(registry, maxDepth);

  // A value, or with `call` Pyro5's call tuple (`a` its object id): no callback made per call.
  const writeParts = (
    parts: boolean,
    call: boolean,
    a: unknown,
    method?: string,
    args?: readonly unknown[],
    kwargs?: Record<string, unknown> | null,
  ): Uint8Array | Uint8Array[] => {
    // A registry converter may call dumps again while a dumps is running.
    const w = shared.busy ? new MarshalWriter(registry, maxDepth) : shared;
    w.begin(parts);
    try {
      if (call) writeCall(w, a as string, method!, args!, kwargs!);
      else w.value(a, 0);
    } catch (e) {
      w.abort();
      if (e instanceof SerializeError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new SerializeError(`Cannot encode marshal: ${why}`, { cause: e });
    }
    return w.finishParts();
  };

  const read = (input: Uint8Array): unknown => {
    let data: unknown = input;
    if (!(data instanceof Uint8Array)) {
      if (ArrayBuffer.isView(data)) {
        data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      } else if (data instanceof ArrayBuffer) {
        data = new Uint8Array(data);
      } else {
        throw new SerializeError("Cannot decode marshal: the data is not bytes");
      }
    }
    return decodeMarshal(data as Uint8Array, registry, maxDepth);
  };

  return Object.freeze({
    id: 2,
    name: "marshal",
    dumps(value: unknown): Uint8Array {
      return writeParts(false, false, value) as Uint8Array;
    },
    loads(data: Uint8Array): unknown {
      return read(data);
    },
    dumpsCall(
      objectId: string,
      method: string,
      args: readonly unknown[],
      kwargs: Record<string, unknown> | null,
    ): Uint8Array {
      return writeParts(false, true, objectId, method, args, kwargs) as Uint8Array;
    },
    loadsCall(data: Uint8Array): CallMessage {
      return callFromSequence("marshal", read(data));
    },
    dumpsParts(value: unknown): Uint8Array | Uint8Array[] {
      return writeParts(true, false, value);
    },
    dumpsCallParts(
      objectId: string,
      method: string,
      args: readonly unknown[],
      kwargs: Record<string, unknown> | null,
    ): Uint8Array | Uint8Array[] {
      return writeParts(true, true, objectId, method, args, kwargs);
    },
  });
}

function writeCall(
  w: MarshalWriter,
  objectId: string,
  method: string,
  args: readonly unknown[],
  kwargs: Record<string, unknown> | null,
): void {
  w.ensure(2);
  w.buf[w.pos++] = 0x29; // ')' small tuple of 4
  w.buf[w.pos++] = 4;
  w.string(String(objectId));
  w.string(String(method));
  w.enter(args, 0);
  w.head(0x5b, args.length); // '[' list
  for (let i = 0; i < args.length; i++) w.value(args[i], 1);
  if (kwargs == null) w.byte(0x4e);
  else w.dict(kwargs, 0);
}
