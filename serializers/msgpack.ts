/**
 * The msgpack serializer (Pyro5 serializer id 4), as Pyro5's
 * `MsgpackSerializer` writes and reads it with Python's `msgpack` package
 * (`use_bin_type=True`, `raw=False`).
 *
 * | Python | msgpack | TypeScript |
 * | --- | --- | --- |
 * | `None` | nil | `null` (`undefined` is sent as nil) |
 * | `int` | int, smallest form | `number` within ±(2^53−1), else `bigint` |
 * | `int` outside int64/uint64 | ext 0x31 (ASCII digits) | `bigint` |
 * | `float` | float 64 | `number` (wrap in `PyFloat` to send an integral float) |
 * | `str` | str | `string` (a lone surrogate cannot be sent: Python can't either) |
 * | `bytes` | bin | `Uint8Array` |
 * | `list`, `tuple`, `set` | array | `Array` (tuples, `Set`, `FrozenSet` are sent as arrays) |
 * | `dict` | map | plain object when every key is a string, else `Map` |
 * | `complex` | ext 0x30 (two float64 LE) | `Complex` |
 * | `datetime` | ext 0x32 (float64 LE POSIX seconds) | `Date` |
 * | `date` | ext 0x33 (int64 LE ordinal) | `Date` at UTC midnight (decoding only) |
 * | other ext | ext | {@linkcode MsgpackExt}, sent back unchanged |
 *
 * Dicts with a `__class__` key go through the class registry (Pyro5's
 * `object_hook`); objects that are not plain data are sent as the
 * registry's class dict. Ext codes are mapped in `loadsCall` too, although
 * Pyro5's own daemon leaves them as `ExtType` there.
 *
 * Decoded bin values are views into the input by default (no copy): Tyro's
 * message reader hands every payload out in a buffer of its own, and
 * copying a 1 MB bin costs more than the whole decode in Python. Pass
 * `copyBytes: true` when you decode from a buffer you reuse.
 *
 * `dumps` and `dumpsCall` return views of their own regions of shared
 * 64 KiB output chunks (as msgpackr does): allocating a small typed array
 * costs more than encoding a small call. The bytes of one result never
 * change afterwards and are never shared with another result, but
 * `result.buffer` is larger than the result; a result retains its chunk.
 *
 * The codec is written here rather than taken from `@msgpack/msgpack` or
 * `msgpackr`. Measured on the small call (`dumpsCall` / `loadsCall` of
 * `("test.echoserver", "echo", ["hello", 42, [1.5, 2]], {})`): encoding
 * 0.18 µs (msgpackr 0.21 µs, `@msgpack/msgpack` 0.9 µs), decoding with
 * all of Pyro5's hooks 0.16-0.28 µs (the bare decoders: msgpackr 0.13 µs,
 * `@msgpack/msgpack` 0.38 µs). Neither library decodes Pyro5's data as it
 * must be decoded: `@msgpack/msgpack` refuses a `__proto__` key, cannot
 * make `Map`s for non-string keys and decodes int64 either always or never
 * as bigint; msgpackr renames a `__proto__` key and turns non-string keys
 * into strings unless every map becomes a `Map`; both need a second pass
 * for ext codes, class dicts and depth limits. msgpackr also pulls in a
 * native optional dependency whose platform packages do not all resolve
 * from the registry here.
 *
 * @example Round-trip a call
 * ```ts
import { createMsgpackSerializer } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * const ser = createMsgpackSerializer();
 * const bytes = ser.dumpsCall("test.echoserver", "echo", [2n ** 70n, new Map([[1, "a"]])], {});
 * const call = ser.loadsCall(bytes);
 * assert.equal(call.method, "echo");
 * assert.deepEqual(call.args, [2n ** 70n, new Map([[1, "a"]])]);
 * ```
 *
 * @module
 */

import { callFromSequence } from "./_call_message.ts";
import { decodeMsgpack } from "./_msgpack_decode.ts";
import { encodeMsgpackCall, encodeMsgpackValue } from "./_msgpack_encode.ts";
import { DEFAULT_REGISTRY } from "./registry.ts";
import {
  type CallMessage,
  DEFAULT_MAX_DEPTH,
  type Serializer,
  type SerializerOptions,
} from "./types.ts";

// The types of the public signatures, so that this module documents on its own.
export type { CallMessage, Serializer, SerializerOptions } from "./types.ts";
export type {
  AnyConstructor,
  ClassRegistry,
  ClassToDict,
  DictToClass,
  ProxyState,
} from "./registry.ts";
export type { PyroUri, UriProtocol, UriState } from "../uri.ts";

export { MsgpackExt } from "./_msgpack_ext.ts";

/**
 * Creates a msgpack serializer (Pyro5 serializer id 4, name `msgpack`).
 *
 * Decoding throws {@linkcode SerializeError} for every malformed, truncated
 * or too deeply nested input and for trailing bytes (a `SecurityError` only
 * when the registry refuses a class name). Encoding throws it for cycles,
 * nesting deeper than `maxDepth`, functions, symbols, invalid dates and
 * strings with lone surrogates.
 *
 * @param options The class registry, the nesting limit, and `copyBytes`:
 *   copy decoded bin data out of the input instead of returning views into
 *   it (default false); set it when the input buffer is reused after
 *   `loads` returns.
 * @returns The serializer; its methods may be called detached.
 *
 * @example Python types survive the trip
 * ```ts
 * import { Complex, createMsgpackSerializer } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * const ser = createMsgpackSerializer();
 * const value = { c: new Complex(1, -2), big: -(2n ** 64n), b: new Uint8Array([0, 255]) };
 * const back = ser.loads(ser.dumps(value)) as typeof value;
 * assert.ok(back.c instanceof Complex);
 * assert.equal(back.big, -(2n ** 64n));
 * assert.deepEqual([...back.b], [0, 255]);
 * ```
 */
export function createMsgpackSerializer(
  options: SerializerOptions & { copyBytes?: boolean } = {},
): Serializer {
  const registry = options.registry ?? DEFAULT_REGISTRY;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const readOptions = { registry, maxDepth, copyBytes: options.copyBytes ?? false };

  const loads = (data: Uint8Array): unknown => decodeMsgpack(data, readOptions);

  return Object.freeze({
    id: 4,
    name: "msgpack",
    dumps(value: unknown): Uint8Array {
      return encodeMsgpackValue(registry, maxDepth, value, false) as Uint8Array;
    },
    loads,
    dumpsCall(
      objectId: string,
      method: string,
      args: readonly unknown[],
      kwargs: Record<string, unknown> | null,
    ): Uint8Array {
      return encodeMsgpackCall(
        registry,
        maxDepth,
        objectId,
        method,
        args,
        kwargs,
        false,
      ) as Uint8Array;
    },
    dumpsParts(value: unknown): Uint8Array | Uint8Array[] {
      return encodeMsgpackValue(registry, maxDepth, value, true);
    },
    dumpsCallParts(
      objectId: string,
      method: string,
      args: readonly unknown[],
      kwargs: Record<string, unknown> | null,
    ): Uint8Array | Uint8Array[] {
      return encodeMsgpackCall(registry, maxDepth, objectId, method, args, kwargs, true);
    },
    loadsCall(data: Uint8Array): CallMessage {
      // the call's own array does not count against maxDepth
      return callFromSequence("msgpack", decodeMsgpack(data, readOptions, -1));
    },
  });
}
