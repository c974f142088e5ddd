/**
 * The msgpack decoder behind {@linkcode createMsgpackSerializer}: reads
 * what Python's `msgpack.unpackb(data, raw=False, strict_map_key=False)`
 * reads, then applies Pyro5's ext and class hooks.
 *
 * Every length is checked against the bytes left before anything is
 * allocated, so a forged length fails fast instead of allocating.
 *
 * @module
 */

import { asciiKey, KEY_MAX } from "./_ascii.ts";
import { SecurityError, SerializeError } from "../errors.ts";
import { type ClassRegistry, setOwn } from "./registry.ts";
import { Complex } from "./types.ts";
import { EXT_BIGINT, EXT_COMPLEX, EXT_DATE, EXT_DATETIME, MsgpackExt } from "./_msgpack_ext.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const TWO_32 = 4294967296;
// Multi-byte numbers are read through this scratch: creating a DataView
// per input costs more than decoding a small call.
const SCRATCH = new Uint8Array(8);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);
const fromCharCode = String.fromCharCode;
/** Python refuses int strings longer than this (`sys.int_info.default_max_str_digits`). */
const MAX_INT_DIGITS = 4300;
/** Days from 0001-01-01 (ordinal 1) to 1970-01-01. */
const ORDINAL_EPOCH = 719163;
const MAX_ORDINAL = 3652059; // 9999-12-31

function fail(why: string, offset: number): never {
  throw new SerializeError(`Cannot decode msgpack: ${why} at offset ${offset}`);
}

/** Options of one decoding run. */
export interface MsgpackReadOptions {
  /** The class registry for dicts with a `__class__` key. */
  registry: ClassRegistry;
  /** The nesting limit. */
  maxDepth: number;
  /** Copy bin data out of the input instead of returning views. */
  copyBytes: boolean;
}

/** One decoding run over one input. */
export class MsgpackReader {
  bytes!: Uint8Array;
  pos = 0;
  end = 0;
  depth = 0;
  registry!: ClassRegistry;
  maxDepth = 0;
  copyBytes = false;

  /**
   * Starts a run.
   *
   * @param bytes The input.
   * @param options Registry, limits.
   */
  constructor(bytes: Uint8Array, options: MsgpackReadOptions) {
    this.reset(bytes, options, 0);
  }

  /** Starts another run with this reader. */
  reset(bytes: Uint8Array, options: MsgpackReadOptions, depth: number): void {
    this.bytes = bytes;
    this.pos = 0;
    this.end = bytes.length;
    this.depth = depth;
    this.registry = options.registry;
    this.maxDepth = options.maxDepth;
    this.copyBytes = options.copyBytes;
  }

  /** Copies `n` bytes at `p` to the scratch, for a DataView read. */
  scratch(p: number, n: number): DataView {
    const b = this.bytes;
    for (let i = 0; i < n; i++) SCRATCH[i] = b[p + i];
    return SCRATCH_VIEW;
  }

  /**
   * Decodes the whole input as one value.
   *
   * @returns The value.
   */
  decodeAll(): unknown {
    const v = this.decode();
    if (this.pos !== this.end) fail("extra data after the value", this.pos);
    return v;
  }

  /** Makes sure `n` more bytes are there, and returns where they start. */
  take(n: number): number {
    const p = this.pos;
    if (n > this.end - p) fail(`unexpected end of data (need ${n} bytes)`, p);
    this.pos = p + n;
    return p;
  }

  u8(): number {
    return this.bytes[this.take(1)];
  }

  u16(): number {
    const p = this.take(2);
    return (this.bytes[p] << 8) | this.bytes[p + 1];
  }

  u32(): number {
    const p = this.take(4);
    const b = this.bytes;
    return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  }

  decode(): unknown {
    const bytes = this.bytes;
    if (this.pos >= this.end) fail("unexpected end of data", this.pos);
    const b = bytes[this.pos++];
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 256;
    if (b >= 0xa0 && b < 0xc0) return this.str(b & 0x1f);
    if (b < 0x90) return this.map(b & 0x0f);
    if (b < 0xa0) return this.array(b & 0x0f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(this.u8());
      case 0xc5:
        return this.bin(this.u16());
      case 0xc6:
        return this.bin(this.u32());
      case 0xc7:
        return this.ext(this.u8());
      case 0xc8:
        return this.ext(this.u16());
      case 0xc9:
        return this.ext(this.u32());
      case 0xca:
        return this.scratch(this.take(4), 4).getFloat32(0);
      case 0xcb:
        return this.scratch(this.take(8), 8).getFloat64(0);
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf: {
        const hi = this.u32();
        const lo = this.u32();
        if (hi < 0x200000) return hi * TWO_32 + lo;
        return this.scratch(this.pos - 8, 8).getBigUint64(0);
      }
      case 0xd0:
        return (this.u8() << 24) >> 24;
      case 0xd1:
        return (this.u16() << 16) >> 16;
      case 0xd2:
        return this.u32() | 0;
      case 0xd3: {
        const hi = this.u32() | 0;
        const v = hi * TWO_32 + this.u32();
        return Number.isSafeInteger(v) ? v : this.scratch(this.pos - 8, 8).getBigInt64(0);
      }
      case 0xd4:
        return this.ext(1);
      case 0xd5:
        return this.ext(2);
      case 0xd6:
        return this.ext(4);
      case 0xd7:
        return this.ext(8);
      case 0xd8:
        return this.ext(16);
      case 0xd9:
        return this.str(this.u8());
      case 0xda:
        return this.str(this.u16());
      case 0xdb:
        return this.str(this.u32());
      case 0xdc:
        return this.array(this.u16());
      case 0xdd:
        return this.array(this.u32());
      case 0xde:
        return this.map(this.u16());
      case 0xdf:
        return this.map(this.u32());
      default:
        return fail(`invalid type byte 0x${b.toString(16)}`, this.pos - 1);
    }
  }

  str(n: number): string {
    const start = this.take(n);
    const bytes = this.bytes;
    if (n < 32) {
      // Short ASCII by hand, four characters at a time.
      const end = start + n;
      let s = "";
      let i = start;
      for (; i + 4 <= end; i += 4) {
        const a = bytes[i], b = bytes[i + 1], c = bytes[i + 2], d = bytes[i + 3];
        if ((a | b | c | d) & 0x80) return this.utf8(start, n);
        s += fromCharCode(a, b, c, d);
      }
      for (; i < end; i++) {
        const a = bytes[i];
        if (a & 0x80) return this.utf8(start, n);
        s += fromCharCode(a);
      }
      return s;
    }
    return this.utf8(start, n);
  }

  utf8(start: number, n: number): string {
    try {
      return utf8.decode(this.bytes.subarray(start, start + n));
    } catch {
      return fail("invalid UTF-8 in a string", start);
    }
  }

  bin(n: number): Uint8Array {
    const start = this.take(n);
    return this.copyBytes
      ? this.bytes.slice(start, start + n)
      : this.bytes.subarray(start, start + n);
  }

  enter(): void {
    if (++this.depth > this.maxDepth) {
      fail(`nesting deeper than ${this.maxDepth} levels`, this.pos);
    }
  }

  array(n: number): unknown[] {
    if (n > this.end - this.pos) fail(`array of ${n} items is longer than the data`, this.pos);
    this.enter();
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.decode();
    this.depth--;
    return out;
  }

  map(n: number): unknown {
    const at = this.pos;
    if (n * 2 > this.end - at) fail(`map of ${n} entries is longer than the data`, at);
    this.enter();
    const obj: Record<string, unknown> = {};
    let map: Map<unknown, unknown> | undefined;
    for (let i = 0; i < n; i++) {
      const k = this.key();
      const v = this.decode();
      if (map) {
        map.set(k, v);
      } else if (typeof k === "string") {
        if (k === "__proto__") setOwn(obj, k, v);
        else obj[k] = v;
      } else {
        map = new Map(Object.entries(obj));
        map.set(k, v);
      }
    }
    this.depth--;
    if (map) return map;
    if (Object.hasOwn(obj, "__class__")) return this.recreate(obj, at);
    return obj;
  }

  /** A map key: a short ASCII str through the key cache (see `_ascii.ts`), else any value. */
  key(): unknown {
    const p = this.pos;
    const t = p < this.end ? this.bytes[p] : 0;
    if (t < 0xa0 || t > 0xbf) return this.decode();
    const n = t & 0x1f;
    const start = p + 1, end = start + n;
    if (n > KEY_MAX || end > this.end) return this.decode();
    const bytes = this.bytes;
    let high = 0;
    for (let i = start; i < end; i++) high |= bytes[i];
    if (high >= 0x80) return this.decode();
    this.pos = end;
    return asciiKey(bytes, start, end);
  }

  /** Pyro5's `object_hook`: a class dict through the registry. */
  recreate(obj: Record<string, unknown>, at: number): unknown {
    try {
      return this.registry.fromDict(obj);
    } catch (e) {
      if (e instanceof SerializeError || e instanceof SecurityError) throw e;
      throw new SerializeError(
        `Cannot decode msgpack: class dict of ${String(obj.__class__)} at offset ${at} ` +
          `is invalid: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }

  ext(n: number): unknown {
    const code = (this.u8() << 24) >> 24;
    const start = this.take(n);
    switch (code) {
      case EXT_COMPLEX:
        if (n !== 16) fail(`complex ext of ${n} bytes (not 16)`, start);
        return new Complex(
          this.scratch(start, 8).getFloat64(0, true),
          this.scratch(start + 8, 8).getFloat64(0, true),
        );
      case EXT_BIGINT:
        return this.bigint(start, n);
      case EXT_DATETIME:
        if (n !== 8) fail(`datetime ext of ${n} bytes (not 8)`, start);
        return this.datetime(this.scratch(start, 8).getFloat64(0, true), start);
      case EXT_DATE: {
        if (n !== 8) fail(`date ext of ${n} bytes (not 8)`, start);
        const ordinal = this.scratch(start, 8).getBigInt64(0, true);
        if (ordinal < 1n || ordinal > BigInt(MAX_ORDINAL)) {
          fail(`date ordinal ${ordinal} is out of range`, start);
        }
        return new Date((Number(ordinal) - ORDINAL_EPOCH) * 86400000);
      }
      default:
        return new MsgpackExt(code, this.bytes.slice(start, start + n));
    }
  }

  datetime(seconds: number, at: number): Date {
    // Python's datetime has microseconds; a Date has milliseconds.
    const d = new Date(Math.round(seconds * 1000));
    if (Number.isNaN(d.getTime())) fail(`datetime timestamp ${seconds} is out of range`, at);
    return d;
  }

  bigint(start: number, n: number): number | bigint {
    if (n > 4 * MAX_INT_DIGITS) fail(`int of more than ${MAX_INT_DIGITS} digits`, start);
    let text = "";
    for (let i = start; i < start + n; i++) text += String.fromCharCode(this.bytes[i]);
    // Python's int() accepts surrounding whitespace, a sign and single underscores.
    const m = /^[ \t\n\r\f\v]*([+-]?)(\d+(?:_\d+)*)[ \t\n\r\f\v]*$/.exec(text);
    if (!m) fail("int ext holds no decimal number", start);
    const digits = m[2].replaceAll("_", "");
    if (digits.length > MAX_INT_DIGITS) fail(`int of more than ${MAX_INT_DIGITS} digits`, start);
    const b = BigInt(m[1] + digits);
    return b >= -BigInt(Number.MAX_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(b)
      : b;
  }
}

const NO_INPUT = new Uint8Array(0);
/** A reader kept between runs (a run inside a run, from a class hook, makes its own). */
let spareReader: MsgpackReader | null = null;

/**
 * Decodes a whole input as one value, with a reader reused from run to run
 * (a new reader object per small payload is garbage on every call).
 *
 * @param bytes The input.
 * @param options Registry, limits.
 * @param depth The starting depth (-1: the outer array does not count against the limit).
 * @returns The value.
 */
export function decodeMsgpack(bytes: Uint8Array, options: MsgpackReadOptions, depth = 0): unknown {
  const r = spareReader ?? new MsgpackReader(NO_INPUT, options);
  spareReader = null;
  r.reset(bytes, options, depth);
  try {
    return r.decodeAll();
  } finally {
    r.bytes = NO_INPUT; // the input is not kept alive
    r.end = 0;
    spareReader = r;
  }
}
