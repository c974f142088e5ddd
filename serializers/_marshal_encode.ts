/**
 * The marshal (CPython marshal format version 4) writer behind
 * {@linkcode createMarshalSerializer}. It writes no references (FLAG_REF),
 * which every marshal reader accepts.
 *
 * @module
 * @internal
 */

import { PyroError, SerializeError } from "../errors.ts";
import type { ClassRegistry } from "./registry.ts";
import { Complex, FrozenSet, PyFloat } from "./types.ts";

/**
 * Outputs are carved out of one slab after another: a payload is a view of
 * the slab, and the slab's next payload starts after it, so no returned
 * byte is ever written again. Allocating an ArrayBuffer per payload costs
 * more than encoding a small call.
 */
const SLAB_SIZE = 64 * 1024;
const EMPTY = new Uint8Array(0);
/** Bytes this large are passed on by reference when the caller takes parts. */
const LARGE_BYTES = 1 << 16;

const T_NONE = 0x4e, T_TRUE = 0x54, T_FALSE = 0x46, T_INT = 0x69, T_LONG = 0x6c;
const T_FLOAT = 0x67, T_COMPLEX = 0x79, T_BYTES = 0x73;
const T_SHORT_ASCII = 0x7a, T_ASCII = 0x61, T_UNICODE = 0x75;
const T_SMALL_TUPLE = 0x29, T_TUPLE = 0x28, T_LIST = 0x5b, T_DICT = 0x7b, T_NULL = 0x30;
const T_SET = 0x3c, T_FROZENSET = 0x3e;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const UTF8 = new TextEncoder();
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A reusable marshal writer. `begin()` ... `finish()` produce one payload;
 * the returned bytes are never touched again by the writer.
 */
export class MarshalWriter {
  buf: Uint8Array = EMPTY;
  /** Where the current payload starts in `buf`. */
  start = 0;
  pos = 0;
  /** True between begin() and finish(): a nested dumps needs its own writer. */
  busy = false;
  /** Large bytes may be passed on by reference (set by begin()). */
  allowParts = false;
  /** The parts so far when large bytes were passed on by reference. */
  parts: Uint8Array[] | null = null;
  readonly registry: ClassRegistry;
  readonly maxDepth: number;
  readonly #path: unknown[] = [];

  constructor(registry: ClassRegistry, maxDepth: number) {
    this.registry = registry;
    this.maxDepth = maxDepth;
  }

  begin(allowParts = false): void {
    this.busy = true;
    this.start = this.pos;
    this.allowParts = allowParts;
    this.parts = null;
  }

  /**
   * Returns the written bytes: a view of the slab (or of a buffer made for
   * this payload alone) that the writer never writes again.
   */
  finish(): Uint8Array {
    return this.finishParts() as Uint8Array;
  }

  /**
   * Like `finish()`, but returns the parts when large bytes were passed on
   * by reference (only after `begin(true)`).
   */
  finishParts(): Uint8Array | Uint8Array[] {
    const buf = this.buf;
    const start = this.start, end = this.pos;
    let out: Uint8Array | Uint8Array[] = buf.subarray(start, end);
    if (buf.length > SLAB_SIZE) {
      // A buffer grown for one big payload is not reused.
      if (end - start < buf.length / 2) out = out.slice();
      this.buf = EMPTY;
      this.start = this.pos = 0;
    } else {
      this.start = this.pos = (end + 7) & ~7;
    }
    if (this.parts) {
      if (out.length) this.parts.push(out);
      out = this.parts;
      this.parts = null;
    }
    this.#path.length = 0;
    this.busy = false;
    return out;
  }

  /** Frees the writer after an error. */
  abort(): void {
    if (this.buf.length > SLAB_SIZE) {
      this.buf = EMPTY;
      this.start = 0;
    }
    this.pos = this.start;
    this.parts = null;
    this.#path.length = 0;
    this.busy = false;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    const next = new Uint8Array(Math.max(SLAB_SIZE, used * 2, used + n));
    next.set(this.buf.subarray(this.start, this.pos));
    this.buf = next;
    this.start = 0;
    this.pos = used;
  }

  float(v: number): void {
    const b = this.buf, p = this.pos;
    F64[0] = v;
    if (LITTLE_ENDIAN) {
      b[p] = F64_BYTES[0];
      b[p + 1] = F64_BYTES[1];
      b[p + 2] = F64_BYTES[2];
      b[p + 3] = F64_BYTES[3];
      b[p + 4] = F64_BYTES[4];
      b[p + 5] = F64_BYTES[5];
      b[p + 6] = F64_BYTES[6];
      b[p + 7] = F64_BYTES[7];
    } else {
      for (let i = 0; i < 8; i++) b[p + i] = F64_BYTES[7 - i];
    }
    this.pos = p + 8;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** A type code and a little-endian int32. */
  head(code: number, n: number): void {
    this.ensure(5);
    const b = this.buf, p = this.pos;
    b[p] = code;
    b[p + 1] = n;
    b[p + 2] = n >> 8;
    b[p + 3] = n >> 16;
    b[p + 4] = n >> 24;
    this.pos = p + 5;
  }

  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case "string":
        return this.string(v);
      case "number":
        return this.number(v);
      case "boolean":
        return this.byte(v ? T_TRUE : T_FALSE);
      case "object":
        if (v === null) return this.byte(T_NONE);
        return this.object(v, depth);
      case "undefined":
        return this.byte(T_NONE);
      case "bigint":
        return this.bigint(v);
      default:
        throw new SerializeError(`Cannot encode marshal: unsupported type ${typeof v}`);
    }
  }

  number(v: number): void {
    if ((v | 0) === v) {
      if (v !== 0 || 1 / v > 0) return this.head(T_INT, v);
    } else if (Number.isInteger(v) && v >= -MAX_SAFE && v <= MAX_SAFE) {
      return this.longNumber(v);
    }
    this.ensure(9);
    this.buf[this.pos++] = T_FLOAT;
    this.float(v);
  }

  /** A safe integer outside int32 as 15-bit digits (at most 4 of them). */
  longNumber(v: number): void {
    this.ensure(5 + 8);
    const b = this.buf;
    const start = this.pos;
    let p = start + 5;
    let x = v < 0 ? -v : v;
    let n = 0;
    while (x > 0) {
      const d = x % 32768;
      x = (x - d) / 32768;
      b[p++] = d;
      b[p++] = d >> 8;
      n++;
    }
    this.head(T_LONG, v < 0 ? -n : n);
    this.pos = p;
  }

  bigint(v: bigint): void {
    if (v >= -2147483648n && v <= 2147483647n) return this.head(T_INT, Number(v));
    if (v >= -MAX_SAFE && v <= MAX_SAFE) return this.longNumber(Number(v));
    const hex = (v < 0n ? -v : v).toString(16);
    const maxDigits = Math.ceil((hex.length * 4) / 15);
    this.ensure(5 + 2 * maxDigits);
    const b = this.buf;
    const start = this.pos;
    let p = start + 5;
    let acc = 0, bits = 0, n = 0;
    for (let i = hex.length - 1; i >= 0; i--) {
      acc |= parseInt(hex[i], 16) << bits;
      bits += 4;
      if (bits >= 15) {
        b[p++] = acc & 0xff;
        b[p++] = (acc >> 8) & 0x7f;
        acc >>= 15;
        bits -= 15;
        n++;
      }
    }
    if (acc !== 0) {
      b[p++] = acc & 0xff;
      b[p++] = acc >> 8;
      n++;
    }
    while (n > 0 && b[p - 1] === 0 && b[p - 2] === 0) {
      p -= 2;
      n--;
    }
    this.head(T_LONG, v < 0n ? -n : n);
    this.pos = p;
  }

  string(s: string): void {
    const n = s.length;
    if (n < 256) {
      // ASCII fast path: 'z' + one length byte.
      this.ensure(2 + n);
      const b = this.buf;
      let p = this.pos + 2;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === n) {
        b[this.pos] = T_SHORT_ASCII;
        b[this.pos + 1] = n;
        this.pos = p;
        return;
      }
    }
    this.ensure(5 + 3 * n);
    const start = this.pos + 5;
    let written: number;
    if (n > 64 && s.isWellFormed()) {
      written = UTF8.encodeInto(s, this.buf.subarray(start)).written;
    } else {
      written = utf8SurrogatePass(s, this.buf, start) - start;
    }
    this.head(written === n ? T_ASCII : T_UNICODE, written);
    this.pos = start + written;
  }

  bytes(data: Uint8Array): void {
    const n = data.length;
    if (n > 0x7fffffff) throw new SerializeError("Cannot encode marshal: bytes longer than 2 GiB");
    this.head(T_BYTES, n);
    if (this.allowParts && n >= LARGE_BYTES) {
      // passed on by reference: the bytes so far, then the data itself
      (this.parts ??= []).push(this.buf.subarray(this.start, this.pos), data);
      this.start = this.pos;
      return;
    }
    this.ensure(n);
    this.buf.set(data, this.pos);
    this.pos += n;
  }

  enter(v: object, depth: number): void {
    if (depth < this.maxDepth) {
      this.#path[depth] = v;
      return;
    }
    const cyclic = this.#path.slice(0, depth).includes(v);
    throw new SerializeError(
      cyclic
        ? "Cannot encode marshal: the value contains a reference cycle"
        : `Cannot encode marshal: nesting deeper than maxDepth (${this.maxDepth})`,
    );
  }

  object(v: object, depth: number): void {
    if (Array.isArray(v)) {
      this.enter(v, depth);
      const n = v.length;
      if (!Object.isFrozen(v)) this.head(T_LIST, n);
      else if (n < 256) {
        this.ensure(2);
        this.buf[this.pos++] = T_SMALL_TUPLE;
        this.buf[this.pos++] = n;
      } else this.head(T_TUPLE, n);
      for (let i = 0; i < n; i++) this.value(v[i], depth + 1);
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      return this.dict(v as Record<string, unknown>, depth);
    }
    if (v instanceof Uint8Array) return this.bytes(v);
    if (ArrayBuffer.isView(v)) {
      return this.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }
    if (v instanceof ArrayBuffer) return this.bytes(new Uint8Array(v));
    if (v instanceof Set) {
      this.enter(v, depth);
      this.head(v instanceof FrozenSet ? T_FROZENSET : T_SET, v.size);
      for (const item of v) this.value(item, depth + 1);
      return;
    }
    if (v instanceof Map) {
      this.enter(v, depth);
      this.byte(T_DICT);
      for (const [k, item] of v) {
        this.value(k, depth + 1);
        this.value(item, depth + 1);
      }
      return this.byte(T_NULL);
    }
    if (v instanceof Complex) {
      this.ensure(17);
      this.buf[this.pos++] = T_COMPLEX;
      this.float(v.re);
      this.float(v.im);
      return;
    }
    if (v instanceof PyFloat) {
      this.ensure(9);
      this.buf[this.pos++] = T_FLOAT;
      this.float(v.value);
      return;
    }
    if (v instanceof Date) {
      if (Number.isNaN(v.getTime())) {
        throw new SerializeError("Cannot encode marshal: invalid Date");
      }
      return this.string(v.toISOString());
    }
    let d: Record<string, unknown>;
    try {
      d = this.registry.toDict(v);
    } catch (e) {
      if (e instanceof PyroError) throw e;
      throw new SerializeError(
        `Cannot encode marshal: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    this.dict(d, depth);
  }

  dict(obj: Record<string, unknown>, depth: number): void {
    this.enter(obj, depth);
    this.byte(T_DICT);
    const keys = Object.keys(obj);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      this.string(k);
      this.value(obj[k], depth + 1);
    }
    this.byte(T_NULL);
  }
}

/**
 * Writes UTF-8 the way Python's `surrogatepass` does: a lone surrogate
 * becomes its own 3-byte sequence. The caller reserved 3 bytes per unit.
 *
 * @returns The position after the last byte.
 */
function utf8SurrogatePass(s: string, b: Uint8Array, p: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      b[p++] = c;
    } else if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
        const lo = s.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
          i++;
          b[p++] = 0xf0 | (c >> 18);
          b[p++] = 0x80 | ((c >> 12) & 0x3f);
          b[p++] = 0x80 | ((c >> 6) & 0x3f);
          b[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 0x3f);
      b[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}
