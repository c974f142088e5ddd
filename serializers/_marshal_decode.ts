/**
 * The marshal (CPython marshal format, versions 0-4) reader behind
 * {@linkcode createMarshalSerializer}. One pass over the input; every
 * length is checked against the remaining bytes before anything is
 * allocated.
 *
 * @module
 * @internal
 */

import { SecurityError, SerializeError } from "../errors.ts";
import type { ClassRegistry } from "./registry.ts";
import { Complex, FrozenSet } from "./types.ts";

const FLAG_REF = 0x80;
const TYPE_NULL = 0x30; // '0'

/** Bytes this large are returned as views of the payload. */
const LARGE_BYTES = 1 << 16;
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** Marks a reference slot that is reserved but not yet filled (CPython puts None there). */
const RESERVED: unique symbol = Symbol("reserved");
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const HEX = "0123456789abcdef";
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Short ASCII strings (names, dict keys) repeat from message to message:
 * a direct-mapped cache, checked byte by byte, saves building them again.
 */
const CACHE_MASK = 4095;
const CACHE_MAX_LEN = 32;
const STRING_CACHE = new Array<string>(CACHE_MASK + 1).fill("");
/** The bytes of each cached string, CACHE_MAX_LEN bytes per entry. */
const CACHE_BYTES = new Uint8Array((CACHE_MASK + 1) * CACHE_MAX_LEN);

/**
 * Decodes one marshal value that must span all of `data`.
 *
 * @param data The marshal bytes.
 * @param registry Turns dicts with a `__class__` key into classes.
 * @param maxDepth The deepest container nesting accepted.
 * @returns The value.
 * @throws {SerializeError} When the bytes are malformed (any other error is wrapped).
 * @throws {SecurityError} When the registry refuses a class name.
 */
export function decodeMarshal(
  data: Uint8Array,
  registry: ClassRegistry,
  maxDepth: number,
): unknown {
  // One reader is reused; a registry hook that decodes again gets a fresh one.
  const r = idle ?? new Reader();
  idle = undefined;
  r.reset(data, registry, maxDepth);
  try {
    const value = r.readObject(0);
    if (r.pos !== data.length) {
      const extra = data.length - r.pos;
      throw r.fail(`${extra} extra bytes after the value`, r.pos);
    }
    return value;
  } catch (e) {
    throw asDecodeError(e, r.pos);
  } finally {
    r.reset(EMPTY, registry, maxDepth);
    idle = r;
  }
}

function asDecodeError(e: unknown, pos: number): Error {
  if (e instanceof SerializeError || e instanceof SecurityError) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new SerializeError(`Cannot decode marshal: ${why} at offset ${pos}`, { cause: e });
}

const EMPTY = new Uint8Array(0);
let idle: Reader | undefined;

class Reader {
  buf: Uint8Array = EMPTY;
  end = 0;
  registry!: ClassRegistry;
  maxDepth = 0;
  readonly refs: unknown[] = [];
  pos = 0;

  reset(buf: Uint8Array, registry: ClassRegistry, maxDepth: number): void {
    this.buf = buf;
    this.end = buf.length;
    this.pos = 0;
    this.registry = registry;
    this.maxDepth = maxDepth;
    if (this.refs.length) this.refs.length = 0;
  }

  dv(): DataView {
    return new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  fail(what: string, at: number): SerializeError {
    return new SerializeError(`Cannot decode marshal: ${what} at offset ${at}`);
  }

  need(n: number): void {
    if (n > this.end - this.pos) throw this.fail("data too short", this.pos);
  }

  int32(): number {
    this.need(4);
    const b = this.buf, p = this.pos;
    this.pos = p + 4;
    return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
  }

  /** A byte/char count or item count; each unit needs at least `unit` bytes. */
  size(unit: number): number {
    const at = this.pos;
    const n = this.int32();
    if (n < 0) throw this.fail(`negative size ${n}`, at);
    if (n * unit > this.end - this.pos) throw this.fail(`data too short for size ${n}`, at);
    return n;
  }

  float64(): number {
    this.need(8);
    const b = this.buf, p = this.pos;
    if (LITTLE_ENDIAN) {
      F64_BYTES[0] = b[p];
      F64_BYTES[1] = b[p + 1];
      F64_BYTES[2] = b[p + 2];
      F64_BYTES[3] = b[p + 3];
      F64_BYTES[4] = b[p + 4];
      F64_BYTES[5] = b[p + 5];
      F64_BYTES[6] = b[p + 6];
      F64_BYTES[7] = b[p + 7];
    } else {
      for (let i = 0; i < 8; i++) F64_BYTES[i] = b[p + 7 - i];
    }
    this.pos = p + 8;
    return F64[0];
  }

  floatText(): number {
    this.need(1);
    const at = this.pos;
    const n = this.buf[this.pos++];
    this.need(n);
    const text = latin1(this.buf, this.pos, this.pos + n);
    this.pos += n;
    const v = parseFloatText(text);
    if (v === undefined) throw this.fail(`bad float text ${JSON.stringify(text)}`, at);
    return v;
  }

  enter(depth: number, at: number): void {
    if (depth >= this.maxDepth) {
      throw this.fail(`nesting deeper than maxDepth (${this.maxDepth})`, at);
    }
  }

  readObject(depth: number): unknown {
    const buf = this.buf;
    const at = this.pos;
    if (at >= this.end) throw this.fail("data too short", at);
    const code = buf[at];
    this.pos = at + 1;
    const flag = (code & FLAG_REF) !== 0;
    let v: unknown;
    switch (code & 0x7f) {
      case 0x4e: // N
        return null;
      case 0x54: // T
        return true;
      case 0x46: // F
        return false;
      case 0x69: // i
        v = this.int32();
        break;
      case 0x7a: // z
      case 0x5a: { // Z
        this.need(1);
        const n = buf[this.pos++];
        this.need(n);
        v = latin1(buf, this.pos, this.pos += n);
        break;
      }
      case 0x61: // a
      case 0x41: { // A
        const n = this.size(1);
        v = latin1(buf, this.pos, this.pos += n);
        break;
      }
      case 0x75: // u
      case 0x74: { // t
        const n = this.size(1);
        const start = this.pos;
        this.pos += n;
        v = utf8(buf, start, start + n, this);
        break;
      }
      case 0x73: { // s
        const n = this.size(1);
        // large bytes stay a view of the payload (no copy); small ones are copied so that
        // they do not keep a large payload alive
        v = n >= LARGE_BYTES
          ? buf.subarray(this.pos, this.pos += n)
          : buf.slice(this.pos, this.pos += n);
        break;
      }
      case 0x67: // g
        v = this.float64();
        break;
      case 0x66: // f
        v = this.floatText();
        break;
      case 0x79: { // y
        const re = this.float64();
        v = new Complex(re, this.float64());
        break;
      }
      case 0x78: { // x
        const re = this.floatText();
        v = new Complex(re, this.floatText());
        break;
      }
      case 0x6c: // l
        v = this.long(at);
        break;
      case 0x49: { // I (int64, written by old Pythons)
        this.need(8);
        const b = this.dv().getBigInt64(this.pos, true);
        this.pos += 8;
        v = b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b;
        break;
      }
      case 0x29: { // ) small tuple
        this.need(1);
        return this.tuple(buf[this.pos++], flag, depth, at);
      }
      case 0x28: // ( tuple
        return this.tuple(this.size(1), flag, depth, at);
      case 0x5b: { // [ list
        const n = this.size(1);
        this.enter(depth, at);
        const list = new Array<unknown>(n);
        if (flag) this.refs.push(list);
        for (let i = 0; i < n; i++) list[i] = this.item(depth, at);
        return list;
      }
      case 0x7b: // { dict
        return this.dict(flag, depth, at);
      case 0x3c: { // < set
        const n = this.size(1);
        this.enter(depth, at);
        const set = new Set<unknown>();
        if (flag) this.refs.push(set);
        for (let i = 0; i < n; i++) set.add(this.item(depth, at));
        return set;
      }
      case 0x3e: { // > frozenset
        const n = this.size(1);
        this.enter(depth, at);
        const idx = flag ? this.refs.push(RESERVED) - 1 : -1;
        const items = new Array<unknown>(n);
        for (let i = 0; i < n; i++) items[i] = this.item(depth, at);
        const fs = new FrozenSet(items);
        if (idx >= 0) this.refs[idx] = fs;
        return fs;
      }
      case 0x72: { // r
        const n = this.int32();
        const refs = this.refs;
        if (n < 0 || n >= refs.length || refs[n] === RESERVED) {
          throw this.fail(`invalid reference ${n}`, at);
        }
        return refs[n];
      }
      case TYPE_NULL:
        throw this.fail("unexpected NULL object", at);
      case 0x2e: // .
        throw this.fail("unsupported Ellipsis object (type code 0x2e)", at);
      case 0x53: // S
        throw this.fail("unsupported StopIteration object (type code 0x53)", at);
      case 0x63: // c
        throw this.fail("unsupported code object (type code 0x63)", at);
      default:
        throw this.fail(`unknown type code 0x${code.toString(16).padStart(2, "0")}`, at);
    }
    if (flag) this.refs.push(v);
    return v;
  }

  /** Reads a container item; a NULL there is malformed. */
  item(depth: number, containerAt: number): unknown {
    if (this.pos < this.end && (this.buf[this.pos] & 0x7f) === TYPE_NULL) {
      throw this.fail(`NULL object inside the container at offset ${containerAt}`, this.pos);
    }
    return this.readObject(depth + 1);
  }

  tuple(n: number, flag: boolean, depth: number, at: number): readonly unknown[] {
    this.enter(depth, at);
    const t = new Array<unknown>(n);
    if (flag) this.refs.push(t);
    for (let i = 0; i < n; i++) t[i] = this.item(depth, at);
    return Object.freeze(t);
  }

  dict(flag: boolean, depth: number, at: number): unknown {
    this.enter(depth, at);
    const obj: Record<string, unknown> = {};
    let map: Map<unknown, unknown> | undefined;
    const idx = flag ? this.refs.push(obj) - 1 : -1;
    let hasClass = false;
    const buf = this.buf;
    for (;;) {
      if (this.pos >= this.end) throw this.fail("data too short (unterminated dict)", this.pos);
      if ((buf[this.pos] & 0x7f) === TYPE_NULL) {
        this.pos++;
        break;
      }
      const key = this.readObject(depth + 1);
      const value = this.item(depth, at);
      if (map !== undefined) {
        map.set(key, value);
      } else if (typeof key === "string") {
        if (key === "__proto__") {
          Object.defineProperty(obj, key, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else {
          obj[key] = value;
          if (key === "__class__") hasClass = true;
        }
      } else {
        map = new Map<unknown, unknown>();
        for (const k of Object.keys(obj)) map.set(k, obj[k]);
        map.set(key, value);
      }
    }
    let result: unknown = map ?? obj;
    if (map === undefined && hasClass) result = this.registry.fromDict(obj);
    if (idx >= 0 && result !== obj) this.refs[idx] = result;
    return result;
  }

  long(at: number): number | bigint {
    const n = this.int32();
    if (n === 0) return 0;
    if (n < -0x7fffffff) throw this.fail(`long size out of range`, at);
    const size = n < 0 ? -n : n;
    this.need(size * 2);
    const buf = this.buf;
    const start = this.pos;
    for (let i = 0; i < size; i++) {
      const p = start + 2 * i;
      if ((buf[p + 1] & 0x80) !== 0) throw this.fail("digit out of range in long", p);
    }
    const top = start + 2 * (size - 1);
    if (buf[top] === 0 && buf[top + 1] === 0) throw this.fail("unnormalized long data", at);
    this.pos = start + 2 * size;
    if (size <= 4) {
      let x = 0, scale = 1;
      for (let i = 0; i < size; i++) {
        x += (buf[start + 2 * i] | (buf[start + 2 * i + 1] << 8)) * scale;
        scale *= 32768;
      }
      if (x <= MAX_SAFE) return n < 0 ? -x : x;
    }
    // Most significant digit first, as hex: pad the top so the bit count is a multiple of 4.
    let bits = (4 - ((15 * size) % 4)) % 4;
    let acc = 0;
    let hex = "";
    for (let i = size - 1; i >= 0; i--) {
      acc = (acc << 15) | buf[start + 2 * i] | (buf[start + 2 * i + 1] << 8);
      bits += 15;
      while (bits >= 4) {
        bits -= 4;
        hex += HEX[(acc >>> bits) & 15];
      }
      acc &= (1 << bits) - 1;
    }
    const big = BigInt("0x" + hex);
    return n < 0 ? -big : big;
  }
}

/** Decodes bytes as Latin-1 (what CPython does for the ASCII string types). */
function latin1(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= CACHE_MAX_LEN) {
    // Hash the length and up to four bytes from each end.
    let h = n;
    if (n >= 4) {
      h = Math.imul(h ^ (buf[start] | (buf[start + 1] << 8) | (buf[start + 2] << 16)), 0x01000193);
      h = Math.imul(h ^ buf[start + 3] ^ (buf[end - 1] << 8) ^ (buf[end - 2] << 16), 0x01000193);
      h = Math.imul(h ^ buf[end - 3] ^ (buf[end - 4] << 8), 0x01000193);
    } else {
      for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    }
    h = (h ^ (h >>> 15)) & CACHE_MASK;
    const cached = STRING_CACHE[h];
    const at = h * CACHE_MAX_LEN;
    if (cached.length === n) {
      let i = 0;
      while (i < n && CACHE_BYTES[at + i] === buf[start + i]) i++;
      if (i === n) return cached;
    }
    let s = "";
    for (let i = 0; i < n; i++) {
      const c = buf[start + i];
      CACHE_BYTES[at + i] = c;
      s += String.fromCharCode(c);
    }
    STRING_CACHE[h] = s;
    return s;
  }
  if (n <= 24) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
    return s;
  }
  // UTF-8 decoding gives the same text exactly when every byte is ASCII,
  // and then, only then, the text has one unit per byte.
  try {
    const s = UTF8.decode(buf.subarray(start, end));
    if (s.length === n) return s;
  } catch {
    // not ASCII
  }
  let s = "";
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode.apply(
      null,
      buf.subarray(i, Math.min(end, i + 8192)) as unknown as number[],
    );
  }
  return s;
}

/** Decodes UTF-8 with Python's `surrogatepass`: encoded lone surrogates are accepted. */
function utf8(buf: Uint8Array, start: number, end: number, r: Reader): string {
  if (end - start <= 16) {
    let s = "";
    let i = start;
    for (; i < end; i++) {
      const c = buf[i];
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i === end) return s;
  }
  try {
    return UTF8.decode(buf.subarray(start, end));
  } catch {
    return utf8SurrogatePass(buf, start, end, r);
  }
}

function utf8SurrogatePass(buf: Uint8Array, start: number, end: number, r: Reader): string {
  const units: number[] = [];
  let s = "";
  let i = start;
  while (i < end) {
    const c = buf[i];
    let cp: number;
    let len: number;
    let min: number;
    if (c < 0x80) {
      cp = c;
      len = 1;
      min = 0;
    } else if (c >= 0xc2 && c < 0xe0) {
      cp = c & 0x1f;
      len = 2;
      min = 0x80;
    } else if (c >= 0xe0 && c < 0xf0) {
      cp = c & 0x0f;
      len = 3;
      min = 0x800;
    } else if (c >= 0xf0 && c < 0xf5) {
      cp = c & 0x07;
      len = 4;
      min = 0x10000;
    } else {
      throw r.fail("invalid UTF-8 in string", i);
    }
    if (i + len > end) throw r.fail("truncated UTF-8 in string", i);
    for (let k = 1; k < len; k++) {
      const cc = buf[i + k];
      if ((cc & 0xc0) !== 0x80) throw r.fail("invalid UTF-8 in string", i);
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff) throw r.fail("invalid UTF-8 in string", i);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length >= 8192) {
      s += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return s + String.fromCharCode.apply(null, units);
}

const FLOAT_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a float as Python's `float(text)` would, for the forms marshal writes. */
function parseFloatText(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  switch (t) {
    case "nan":
    case "+nan":
    case "-nan":
      return NaN;
    case "inf":
    case "+inf":
    case "infinity":
    case "+infinity":
      return Infinity;
    case "-inf":
    case "-infinity":
      return -Infinity;
  }
  return FLOAT_TEXT.test(t) ? Number(t) : undefined;
}
