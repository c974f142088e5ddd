/**
 * The TS forms of Python values, and the serializer interface.
 *
 * The type mapping (the same for every serializer, as far as each can carry it):
 *
 * | Python | TypeScript |
 * | --- | --- |
 * | `None` | `null` (`undefined` is sent as `None`) |
 * | `bool` | `boolean` |
 * | `int` | `number` within ±(2^53−1), `bigint` beyond (a `bigint` is always sent as int) |
 * | `float` | `number` (integral numbers within the safe range are sent as int; wrap in {@linkcode PyFloat} to force a float) |
 * | `complex` | {@linkcode Complex} |
 * | `str` | `string` |
 * | `bytes`, `bytearray` | `Uint8Array` (serpent's and json's base64 dicts become bytes again) |
 * | `list` | `Array` |
 * | `tuple` | a frozen `Array` (see {@linkcode tuple}) |
 * | `set` | `Set` |
 * | `frozenset` | {@linkcode FrozenSet} |
 * | `dict` with str keys | plain object |
 * | `dict` with other keys | `Map` |
 * | `datetime` | `Date` is sent as an ISO string (serpent, json, marshal) or ext 0x32 (msgpack) |
 * | exceptions, URIs, proxies | `Error`, `PyroUri`, `PyroProxy` via class dicts |
 *
 * @module
 */

/** A complex number, Python's `complex`. */
export class Complex {
  /** The real part. */
  readonly re: number;
  /** The imaginary part. */
  readonly im: number;

  /**
   * Creates a complex number.
   *
   * @param re The real part.
   * @param im The imaginary part.
   */
  constructor(re: number, im: number) {
    this.re = re;
    this.im = im;
  }

  /**
   * Formats the number as Python's `repr` does, e.g. `(1+2j)`.
   *
   * @returns The text.
   */
  toString(): string {
    const f = (x: number) =>
      Number.isNaN(x) ? "nan" : !Number.isFinite(x) ? (x > 0 ? "inf" : "-inf") : String(x);
    if (this.re === 0 && !Object.is(this.re, -0)) return `${f(this.im)}j`;
    const sign = this.im < 0 || Object.is(this.im, -0) ? "-" : "+";
    return `(${f(this.re)}${sign}${f(Math.abs(this.im))}j)`;
  }
}

/**
 * A set that cannot change after it is made, Python's `frozenset`.
 * Only marshal tells a frozenset from a set on the wire.
 */
export class FrozenSet<T> extends Set<T> {
  #frozen = false;

  /**
   * Creates a frozen set.
   *
   * @param items The members.
   */
  constructor(items?: Iterable<T> | null) {
    super(items);
    this.#frozen = true;
  }

  /**
   * Refused: a frozen set cannot change.
   *
   * @param value Ignored.
   * @returns Never.
   * @throws {TypeError} Always, once constructed.
   */
  override add(value: T): this {
    // `super(items)` calls add() before the #frozen field exists.
    if (#frozen in this && this.#frozen) throw new TypeError("Cannot add to a FrozenSet");
    return super.add(value);
  }

  /**
   * Refused: a frozen set cannot change.
   *
   * @param _value Ignored.
   * @returns Never.
   * @throws {TypeError} Always.
   */
  override delete(_value: T): boolean {
    throw new TypeError("Cannot delete from a FrozenSet");
  }

  /**
   * Refused: a frozen set cannot change.
   *
   * @throws {TypeError} Always.
   */
  override clear(): void {
    throw new TypeError("Cannot clear a FrozenSet");
  }
}

/**
 * A number to send as a Python `float` even when it is integral
 * (`new PyFloat(2)` is sent as `2.0`). Decoders never produce it.
 */
export class PyFloat {
  /** The value. */
  readonly value: number;

  /**
   * Wraps a number.
   *
   * @param value The value.
   */
  constructor(value: number) {
    this.value = value;
  }

  /**
   * The wrapped number.
   *
   * @returns The value.
   */
  valueOf(): number {
    return this.value;
  }
}

/**
 * Makes a tuple: a frozen array, which every serializer sends as a Python
 * tuple where it can (serpent, marshal) and as a list elsewhere. Decoded
 * tuples are frozen arrays too.
 *
 * @param items The items.
 * @returns A frozen array.
 *
 * @example Send a tuple
 * ```ts
 * import { isTuple, tuple } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * const t = tuple(1, "a");
 * assert.ok(isTuple(t));
 * assert.deepEqual([...t], [1, "a"]);
 * ```
 */
export function tuple<T extends unknown[]>(...items: T): Readonly<T> {
  return Object.freeze(items);
}

/**
 * Tells whether a value is a tuple (a frozen array).
 *
 * @param value Any value.
 * @returns True for a frozen array.
 */
export function isTuple(value: unknown): value is readonly unknown[] {
  return Array.isArray(value) && Object.isFrozen(value);
}

/** A decoded remote call: what `loadsCall` returns. */
export interface CallMessage {
  /** The object id the call is for. */
  objectId: string;
  /** The method name. */
  method: string;
  /** Positional arguments. */
  args: unknown[];
  /** Keyword arguments; null when the caller sent `None` (batch and attribute calls do). */
  kwargs: Record<string, unknown> | null;
}

/** A Pyro5 serializer: one of serpent (1), marshal (2), json (3), msgpack (4). */
export interface Serializer {
  /** The Pyro5 serializer id. */
  readonly id: number;
  /** The Pyro5 serializer name. */
  readonly name: string;
  /**
   * Serializes a value.
   *
   * @param value Any value of the type mapping.
   * @returns The payload bytes.
   * @throws {SerializeError} When the value cannot be serialized.
   */
  dumps(value: unknown): Uint8Array;
  /**
   * Deserializes a payload, turning class dicts into classes.
   *
   * @param data The payload bytes.
   * @returns The value.
   * @throws {SerializeError} When the bytes are malformed.
   */
  loads(data: Uint8Array): unknown;
  /**
   * True when what {@linkcode Serializer.loads} and
   * {@linkcode Serializer.loadsCall} return shares no memory with their
   * input (serpent and json; msgpack and marshal return large bytes as views
   * of it). The daemon and proxies then reuse a large message's memory once
   * it is decoded.
   */
  readonly loadsCopies?: boolean;
  /**
   * Serializes a call in Pyro5's layout for this serializer.
   *
   * @param objectId The target object id.
   * @param method The method name.
   * @param args Positional arguments.
   * @param kwargs Keyword arguments, or null to send `None`.
   * @returns The payload bytes.
   */
  dumpsCall(
    objectId: string,
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown> | null,
  ): Uint8Array;
  /**
   * Deserializes a call payload.
   *
   * @param data The payload bytes.
   * @returns The call.
   * @throws {SerializeError} When the bytes are malformed or not a call.
   */
  loadsCall(data: Uint8Array): CallMessage;
  /**
   * Like {@linkcode Serializer.dumps}, but large byte arrays inside the
   * value (64 KiB and up) may come back by reference as parts of their own
   * instead of being copied: the payload is the parts joined in order. The
   * daemon and proxies use it when present, so a big `Uint8Array` goes to
   * the socket without a copy; do not change one until its call settles.
   *
   * @param value Any value of the type mapping.
   * @returns The payload bytes, or its parts in order.
   * @throws {SerializeError} When the value cannot be serialized.
   */
  dumpsParts?(value: unknown): Uint8Array | Uint8Array[];
  /**
   * Like {@linkcode Serializer.dumpsCall}, with large byte arrays as parts
   * of their own (see {@linkcode Serializer.dumpsParts}).
   *
   * @param objectId The target object id.
   * @param method The method name.
   * @param args Positional arguments.
   * @param kwargs Keyword arguments, or null to send `None`.
   * @returns The payload bytes, or its parts in order.
   */
  dumpsCallParts?(
    objectId: string,
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown> | null,
  ): Uint8Array | Uint8Array[];
}

/** Options every serializer takes. */
export interface SerializerOptions {
  /**
   * The class registry that converts classes to and from class dicts.
   *
   * @default {DEFAULT_REGISTRY}
   */
  registry?: import("./registry.ts").ClassRegistry;
  /**
   * The deepest nesting of containers accepted when decoding and encoding.
   *
   * @default {500}
   */
  maxDepth?: number;
}

/** The default nesting limit. */
export const DEFAULT_MAX_DEPTH = 500;
