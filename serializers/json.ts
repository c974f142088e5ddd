/**
 * The json serializer (Pyro5 serializer id 3), as Pyro5's `JsonSerializer`
 * writes and reads it with Python's `json` module (`ensure_ascii=False`,
 * UTF-8).
 *
 * | Python | JSON | TypeScript |
 * | --- | --- | --- |
 * | `None` | `null` | `null` (`undefined` is sent as `null`) |
 * | `int` | digits, any length | `number` within ±(2^53−1), else `bigint` |
 * | `float` | Python `repr`: `2.0`, `1e+16`, bare `NaN`, `Infinity`, `-Infinity` | `number` (wrap in `PyFloat` to send an integral float) |
 * | `str` | string, not ASCII-escaped | `string` |
 * | `list`, `tuple`, `set` | array | `Array` (tuples, `Set`, `FrozenSet` are sent as arrays) |
 * | `dict` | object; other keys become strings (`10` → `"10"`, `True` → `"true"`) | plain object; a `Map` is sent with its keys stringified that way |
 * | `bytes` | `{"data": base64, "encoding": "base64"}` (serpent's form) | `Uint8Array`, both ways |
 * | `datetime` | ISO string | a `Date` is sent as `2024-05-01T12:30:00+00:00` |
 * | `complex` | — | `Complex` throws `SerializeError`: Pyro5's json cannot carry it |
 *
 * Python's json cannot carry bytes at all (Pyro5 refuses them); Tyro sends
 * serpent's bytes dict, which a Pyro5 peer receives as that dict, and turns
 * such dicts back into bytes when decoding. Other dicts with a `__class__`
 * key go through the class registry (Pyro5's `recreate_classes`); objects
 * that are not plain data are sent as the registry's class dict.
 *
 * Output is what Python's `json.dumps(value, ensure_ascii=False)` writes
 * for plain data, byte for byte (separators `", "` and `": "`), except
 * that a lone surrogate is written as a `\uXXXX` escape (Python cannot
 * encode it to UTF-8 at all).
 *
 * Decoding: the UTF-8 text goes to `JSON.parse` first, which is faster
 * than a parser written in TS (0.40 µs against 0.54 µs for the small call,
 * and far faster on long strings). One walk over its result then recreates
 * classes and bytes, enforces `maxDepth`, and looks for integral or
 * infinite numbers beyond ±(2^53−1). When `JSON.parse` fails (malformed
 * input) or such a number turns up (a big int whose digits `JSON.parse`
 * rounded, or a large float), the text is parsed again by a hand-written
 * parser that reads big ints as `bigint` and reports errors with their
 * byte offset. Short texts holding `NaN` or `Infinity` go straight to that
 * parser, saving the cost of a thrown SyntaxError. A `JSON.parse` reviver
 * that reads the source text of numbers was measured too: 3.5 µs for the
 * small call against 0.4 µs without, for the benefit of the rare payload
 * with big ints.
 *
 * Small results are views of their own regions of shared 64 KiB chunks
 * (allocating a small typed array costs more than writing a small call);
 * `result.buffer` is larger than the result.
 *
 * @example Round-trip a call
 * ```ts
 * import { createJsonSerializer } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * const ser = createJsonSerializer();
 * const bytes = ser.dumpsCall("test.echoserver", "echo", [2n ** 70n, NaN], {});
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   '{"object": "test.echoserver", "method": "echo", "params": [1180591620717411303424, NaN], "kwargs": {}}',
 * );
 * const call = ser.loadsCall(bytes);
 * assert.deepEqual(call.args, [2n ** 70n, NaN]);
 * ```
 *
 * @module
 */

import { SecurityError, SerializeError } from "../errors.ts";
import { callMessage } from "./_call_message.ts";
import { JsonWriter } from "./_json_encode.ts";
import { parseJson } from "./_json_parse.ts";
import { NOT_COMPACT, parseJsonCompact, parseJsonCompactCall } from "./_json_compact.ts";
import { bytesFromDict, type ClassRegistry, DEFAULT_REGISTRY, isPlainObject } from "./registry.ts";
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

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
/** The call dict's fixed parts, in Pyro5's key order. */
const CALL_OBJECT = new TextEncoder().encode('{"object": ');
const CALL_METHOD = new TextEncoder().encode(', "method": ');
const CALL_PARAMS = new TextEncoder().encode(', "params": ');
const CALL_KWARGS = new TextEncoder().encode(', "kwargs": ');
/** Thrown inside {@linkcode finish} when `JSON.parse` may have rounded an int. */
const IMPRECISE = Symbol("imprecise");

function decodeText(data: Uint8Array): string {
  // The replacing decoder is 3-6 times faster than the fatal one; only a
  // text with U+FFFD in it (bad input, or a real U+FFFD) is checked again.
  const text = lenientDecoder.decode(data);
  if (!text.includes("\uFFFD")) return text;
  try {
    return strictDecoder.decode(data);
  } catch {
    throw new SerializeError(`Cannot decode json: invalid UTF-8 at offset ${badUtf8Offset(data)}`);
  }
}

/** Where the first invalid UTF-8 sequence starts (error path only). */
function badUtf8Offset(b: Uint8Array): number {
  // The longest prefix that decodes (as a stream), found by bisection...
  let lo = 0, hi = b.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(b.subarray(0, mid), {
        stream: true,
      });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  // ...then back to the start of the sequence it ends in.
  for (let k = 1; k <= 3 && lo - k >= 0; k++) {
    const c = b[lo - k];
    if (c >= 0xc0) return lo - k;
    if (c < 0x80) break;
  }
  return lo;
}

/**
 * Recreates classes and bytes in a parsed value, in place, and checks the
 * depth. With `strict`, throws {@linkcode IMPRECISE} on an integral number
 * beyond the safe range or an infinite one (JSON.parse may have rounded
 * its digits).
 */
function finish(
  v: unknown,
  depth: number,
  maxDepth: number,
  registry: ClassRegistry,
  strict: boolean,
): unknown {
  if (typeof v === "number") {
    // JSON.parse rounds long digit runs, and makes Infinity of huge ones.
    if (strict && !Number.isSafeInteger(v) && (Number.isInteger(v) || v - v !== 0)) {
      throw IMPRECISE;
    }
    return v;
  }
  if (typeof v !== "object" || v === null) return v;
  if (++depth > maxDepth) {
    throw new SerializeError(`Cannot decode json: nesting deeper than ${maxDepth} levels`);
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === "object" || typeof x === "number") {
        v[i] = finish(x, depth, maxDepth, registry, strict);
      }
    }
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (typeof x === "object" || typeof x === "number") {
      const y = finish(x, depth, maxDepth, registry, strict);
      if (y !== x) {
        if (k === "__proto__") Object.defineProperty(o, k, { value: y });
        else o[k] = y;
      }
    }
  }
  return finishDict(o, registry);
}

/** Serpent's bytes dicts become bytes, class dicts classes; other dicts stay as they are. */
function finishDict(o: Record<string, unknown>, registry: ClassRegistry): unknown {
  if (o.encoding === "base64") {
    // serpent's bytes dict; one whose data is not base64 stays a dict.
    try {
      const b = bytesFromDict(o);
      if (b) return b;
    } catch { /* not base64 */ }
  }
  if (Object.hasOwn(o, "__class__")) return recreate(registry, o);
  return o;
}

/** Pyro5's `recreate_classes` for one class dict. */
function recreate(registry: ClassRegistry, o: Record<string, unknown>): unknown {
  try {
    return registry.fromDict(o);
  } catch (e) {
    if (e instanceof SerializeError || e instanceof SecurityError || e === IMPRECISE) throw e;
    throw new SerializeError(
      `Cannot decode json: class dict of ${String(o.__class__)} is invalid: ${
        e instanceof Error ? e.message : String(e)
      }`,
      { cause: e },
    );
  }
}

/**
 * Creates a json serializer (Pyro5 serializer id 3, name `json`).
 *
 * Decoding throws {@linkcode SerializeError} for every malformed, truncated
 * or too deeply nested input and for invalid UTF-8 (a `SecurityError` only
 * when the registry refuses a class name). Encoding throws it for cycles,
 * nesting deeper than `maxDepth`, functions, symbols, invalid dates,
 * complex numbers and dict keys that are not str, int, float, bool or None.
 *
 * @param options The class registry and the nesting limit.
 * @returns The serializer; its methods may be called detached.
 *
 * @example Python's json values survive the trip
 * ```ts
 * import { createJsonSerializer, PyFloat } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * const ser = createJsonSerializer();
 * const bytes = ser.dumps({ n: [NaN, -Infinity, new PyFloat(2)], keys: new Map([[10, "a"]]) });
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   '{"n": [NaN, -Infinity, 2.0], "keys": {"10": "a"}}',
 * );
 * assert.deepEqual(ser.loads(bytes), { n: [NaN, -Infinity, 2], keys: { "10": "a" } });
 * ```
 */
export function createJsonSerializer(options: SerializerOptions = {}): Serializer {
  const registry = options.registry ?? DEFAULT_REGISTRY;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;

  /** Parses and finishes; `top` is the depth the value starts at (-1: not counted). */
  const decode = (data: Uint8Array, top: number): unknown => {
    // everyday payloads: one pass over the bytes (see _json_compact.ts)
    if (data instanceof Uint8Array) {
      const fast = parseJsonCompact(data, top, maxDepth, registry, finishDict);
      if (fast !== NOT_COMPACT) return fast;
    }
    const text = decodeText(data);
    // JSON.parse would throw (slowly) on Python's NaN and Infinity tokens.
    if (text.length < 4096 && (text.includes("NaN") || text.includes("Infinity"))) {
      return finish(parseJson(text, maxDepth - top), top, maxDepth, registry, false);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return finish(parseJson(text, maxDepth - top), top, maxDepth, registry, false);
    }
    try {
      return finish(raw, top, maxDepth, registry, true);
    } catch (e) {
      if (e !== IMPRECISE) throw e;
      return finish(parseJson(text, maxDepth - top), top, maxDepth, registry, false);
    }
  };

  /**
   * Writes a value, or with `isCall` Pyro5's call dict (`a` its object id), with a new
   * writer and no callback made for it; with `parts`, large bytes become parts of their own.
   */
  const encode = (
    parts: boolean,
    isCall: boolean,
    a: unknown,
    method?: string,
    args?: readonly unknown[],
    kwargs?: Record<string, unknown> | null,
  ): Uint8Array | Uint8Array[] => {
    const w = new JsonWriter(registry, maxDepth);
    if (parts) w.w.parts = [];
    try {
      if (isCall) call(w, a as string, method!, args!, kwargs!);
      else w.value(a);
      return w.w.finish();
    } finally {
      w.release();
    }
  };

  const dumps = (value: unknown): Uint8Array => encode(false, false, value) as Uint8Array;

  const call = (
    w: JsonWriter,
    objectId: string,
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown> | null,
  ): void => {
    if (typeof objectId !== "string" || typeof method !== "string") {
      throw new SerializeError("Cannot encode json call: object id and method must be strings");
    }
    w.w.bytes(CALL_OBJECT);
    w.str(objectId);
    w.w.bytes(CALL_METHOD);
    w.str(method);
    w.w.bytes(CALL_PARAMS);
    w.array(args);
    w.w.bytes(CALL_KWARGS);
    w.value(kwargs);
    w.w.byte(0x7d); // }
  };

  return Object.freeze({
    id: 3,
    name: "json",
    loadsCopies: true,
    dumps,
    loads(data: Uint8Array): unknown {
      return decode(data, 0);
    },
    dumpsCall(
      objectId: string,
      method: string,
      args: readonly unknown[],
      kwargs: Record<string, unknown> | null,
    ): Uint8Array {
      return encode(false, true, objectId, method, args, kwargs) as Uint8Array;
    },
    dumpsParts(value: unknown): Uint8Array | Uint8Array[] {
      return encode(true, false, value);
    },
    dumpsCallParts(
      objectId: string,
      method: string,
      args: readonly unknown[],
      kwargs: Record<string, unknown> | null,
    ): Uint8Array | Uint8Array[] {
      return encode(true, true, objectId, method, args, kwargs);
    },
    loadsCall(data: Uint8Array): CallMessage {
      // everyday calls: one pass, no dict made for the call itself
      if (data instanceof Uint8Array) {
        const parts = parseJsonCompactCall(data, maxDepth, registry, finishDict);
        if (parts !== NOT_COMPACT) return callMessage("json", ...parts);
      }
      // The call dict itself does not count against maxDepth.
      const call = decode(data, -1);
      if (!isPlainObject(call)) {
        throw new SerializeError("Cannot decode json call: payload is not a call dict");
      }
      return callMessage("json", call.object, call.method, call.params, call.kwargs);
    },
  });
}
