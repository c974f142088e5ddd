/**
 * The msgpack encoder behind {@linkcode createMsgpackSerializer}: writes
 * what Python's `msgpack.packb(value, use_bin_type=True, default=...)`
 * writes for the same value in Pyro5's MsgpackSerializer.
 *
 * @module
 */

import { SerializeError } from "../errors.ts";
import type { ClassRegistry } from "./registry.ts";
import { Complex, PyFloat } from "./types.ts";
import { EXT_BIGINT, EXT_COMPLEX, EXT_DATETIME, MsgpackExt } from "./_msgpack_ext.ts";

/** Size of the shared output chunks that results are cut from. */
const CHUNK_SIZE = 1 << 16;
/** A chunk that had to grow past this is not written into again. */
const CHUNK_KEEP = 1 << 18;
const EMPTY = new Uint8Array(0);
/** Bin data this large is passed on by reference when the caller takes parts. */
const LARGE_BIN = 1 << 16;
const EMPTY_VIEW = new DataView(EMPTY.buffer);
const TWO_32 = 4294967296;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const utf8 = new TextEncoder();

function fail(why: string): never {
  throw new SerializeError(`Cannot encode msgpack: ${why}`);
}

/**
 * One encoding run. Output goes into a shared chunk from `start` on; the
 * result is a view of its own region of the chunk, and the next run starts
 * after it. Allocating a small typed array costs more than encoding a
 * small call, so results share chunks instead (as msgpackr's do).
 */
class Writer {
  buf: Uint8Array;
  view: DataView;
  start = 0;
  pos = 0;
  depth = 0;
  registry!: ClassRegistry;
  maxDepth = 0;
  /** Set when large bin data may be passed on by reference: the parts so far. */
  parts: Uint8Array[] | null = null;
  allowParts = false;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(n: number): void {
    if (n > this.buf.length - this.pos) this.grow(n);
  }

  /** Moves the run so far into a new chunk with room for `n` more bytes. */
  grow(n: number): void {
    const used = this.pos - this.start;
    const need = used + n;
    const size = need > CHUNK_SIZE >> 2 ? Math.max(need + 64, used * 2) : CHUNK_SIZE;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(this.start, this.pos));
    this.buf = b;
    this.view = new DataView(b.buffer);
    this.start = 0;
    this.pos = used;
  }

  /** Ends the run: its bytes as a view (or its parts), and the chunk ready for the next run. */
  finish(): Uint8Array | Uint8Array[] {
    let out: Uint8Array | Uint8Array[] = this.buf.subarray(this.start, this.pos);
    if (this.parts) {
      if (out.length) this.parts.push(out);
      out = this.parts;
      this.parts = null;
    }
    if (this.buf.length > CHUNK_KEEP || this.buf.length - this.pos < 64) {
      // The next run starts a new chunk (allocated when it writes).
      this.buf = EMPTY;
      this.view = EMPTY_VIEW;
      this.pos = 0;
    }
    this.start = this.pos;
    return out;
  }

  /** Writes `code16` and a 2-byte length, or `code16 + 1` and a 4-byte length. */
  head(code16: number, n: number): void {
    const buf = this.buf;
    let p = this.pos;
    if (n < 65536) {
      buf[p++] = code16;
      buf[p++] = n >>> 8;
      buf[p++] = n & 0xff;
    } else {
      buf[p++] = code16 + 1;
      buf[p++] = n >>> 24;
      buf[p++] = (n >>> 16) & 0xff;
      buf[p++] = (n >>> 8) & 0xff;
      buf[p++] = n & 0xff;
    }
    this.pos = p;
  }

  arrayHead(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x90 | n;
    else this.head(0xdc, n);
  }

  mapHead(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x80 | n;
    else this.head(0xde, n);
  }

  encode(v: unknown): void {
    switch (typeof v) {
      case "string":
        this.str(v);
        return;
      case "number":
        if (Number.isSafeInteger(v) && (v !== 0 || 1 / v > 0)) this.int(v);
        else this.float(v);
        return;
      case "boolean":
        this.ensure(1);
        this.buf[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case "undefined":
        this.ensure(1);
        this.buf[this.pos++] = 0xc0;
        return;
      case "bigint":
        this.bigint(v);
        return;
      case "object":
        if (v === null) {
          this.ensure(1);
          this.buf[this.pos++] = 0xc0;
        } else {
          this.object(v);
        }
        return;
      default:
        fail(`cannot serialize a ${typeof v}`);
    }
  }

  object(v: object): void {
    if (Array.isArray(v)) {
      this.enter();
      const n = v.length;
      this.arrayHead(n);
      for (let i = 0; i < n; i++) this.encode(v[i]);
      this.depth--;
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      this.dict(v as Record<string, unknown>);
      return;
    }
    if (v instanceof Uint8Array) {
      this.bin(v);
    } else if (v instanceof Map) {
      this.enter();
      this.mapHead(v.size);
      for (const [k, val] of v) {
        this.encode(k);
        this.encode(val);
      }
      this.depth--;
    } else if (v instanceof Set) {
      this.enter();
      this.arrayHead(v.size);
      for (const x of v) this.encode(x);
      this.depth--;
    } else if (v instanceof PyFloat) {
      this.float(Number(v.value));
    } else if (v instanceof Complex) {
      this.ensure(18);
      this.buf[this.pos] = 0xd8;
      this.buf[this.pos + 1] = EXT_COMPLEX;
      this.view.setFloat64(this.pos + 2, v.re, true);
      this.view.setFloat64(this.pos + 10, v.im, true);
      this.pos += 18;
    } else if (v instanceof Date) {
      const t = v.getTime();
      if (Number.isNaN(t)) fail("invalid Date");
      this.ensure(10);
      this.buf[this.pos] = 0xd7;
      this.buf[this.pos + 1] = EXT_DATETIME;
      this.view.setFloat64(this.pos + 2, t / 1000, true);
      this.pos += 10;
    } else if (v instanceof MsgpackExt) {
      this.ext(v.code, v.data);
    } else if (v instanceof ArrayBuffer) {
      this.bin(new Uint8Array(v));
    } else if (ArrayBuffer.isView(v)) {
      this.bin(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    } else {
      const d = this.registry.toDict(v);
      if (d === null || typeof d !== "object") {
        fail("class-to-dict conversion did not return a dict");
      }
      this.dict(d);
    }
  }

  enter(): void {
    if (++this.depth > this.maxDepth) {
      fail(`nesting deeper than ${this.maxDepth} levels (or a cycle)`);
    }
  }

  dict(o: Record<string, unknown>): void {
    this.enter();
    const keys = Object.keys(o);
    const n = keys.length;
    this.mapHead(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      this.str(k);
      this.encode(o[k]);
    }
    this.depth--;
  }

  int(v: number): void {
    this.ensure(9);
    const buf = this.buf;
    let p = this.pos;
    if (v >= 0) {
      if (v < 128) {
        buf[p++] = v;
      } else if (v < 256) {
        buf[p++] = 0xcc;
        buf[p++] = v;
      } else if (v < 65536) {
        buf[p++] = 0xcd;
        buf[p++] = v >>> 8;
        buf[p++] = v & 0xff;
      } else if (v < TWO_32) {
        buf[p++] = 0xce;
        this.view.setUint32(p, v);
        p += 4;
      } else {
        buf[p++] = 0xcf;
        const hi = Math.floor(v / TWO_32);
        this.view.setUint32(p, hi);
        this.view.setUint32(p + 4, v - hi * TWO_32);
        p += 8;
      }
    } else if (v >= -32) {
      buf[p++] = v & 0xff;
    } else if (v >= -128) {
      buf[p++] = 0xd0;
      buf[p++] = v & 0xff;
    } else if (v >= -32768) {
      buf[p++] = 0xd1;
      buf[p++] = (v >> 8) & 0xff;
      buf[p++] = v & 0xff;
    } else if (v >= -2147483648) {
      buf[p++] = 0xd2;
      this.view.setInt32(p, v);
      p += 4;
    } else {
      buf[p++] = 0xd3;
      const hi = Math.floor(v / TWO_32);
      this.view.setInt32(p, hi);
      this.view.setUint32(p + 4, v - hi * TWO_32);
      p += 8;
    }
    this.pos = p;
  }

  float(v: number): void {
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.view.setFloat64(this.pos + 1, v);
    this.pos += 9;
  }

  bigint(v: bigint): void {
    if (v >= -MAX_SAFE && v <= MAX_SAFE) {
      this.int(Number(v));
    } else if (v >= 0n && v <= UINT64_MAX) {
      this.ensure(9);
      this.buf[this.pos] = 0xcf;
      this.view.setBigUint64(this.pos + 1, v);
      this.pos += 9;
    } else if (v < 0n && v >= INT64_MIN) {
      this.ensure(9);
      this.buf[this.pos] = 0xd3;
      this.view.setBigInt64(this.pos + 1, v);
      this.pos += 9;
    } else {
      this.ext(EXT_BIGINT, utf8.encode(v.toString()));
    }
  }

  ext(code: number, data: Uint8Array): void {
    const n = data.length;
    this.ensure(n + 6);
    const buf = this.buf;
    let p = this.pos;
    const fix = n === 1
      ? 0xd4
      : n === 2
      ? 0xd5
      : n === 4
      ? 0xd6
      : n === 8
      ? 0xd7
      : n === 16
      ? 0xd8
      : 0;
    if (fix) {
      buf[p++] = fix;
    } else if (n < 256) {
      buf[p++] = 0xc7;
      buf[p++] = n;
    } else if (n < 65536) {
      buf[p++] = 0xc8;
      buf[p++] = n >>> 8;
      buf[p++] = n & 0xff;
    } else {
      buf[p++] = 0xc9;
      this.view.setUint32(p, n);
      p += 4;
    }
    buf[p++] = code & 0xff;
    buf.set(data, p);
    this.pos = p + n;
  }

  bin(data: Uint8Array): void {
    const n = data.length;
    if (n > 0xffffffff) fail("bytes longer than 4 GiB");
    if (this.allowParts && n >= LARGE_BIN) {
      // passed on by reference: the bytes so far, then the data itself
      this.ensure(5);
      this.head(0xc5, n);
      (this.parts ??= []).push(this.buf.subarray(this.start, this.pos), data);
      this.start = this.pos;
      return;
    }
    this.ensure(n + 5);
    const buf = this.buf;
    if (n < 256) {
      buf[this.pos++] = 0xc4;
      buf[this.pos++] = n;
    } else {
      this.head(0xc5, n);
    }
    buf.set(data, this.pos);
    this.pos += n;
  }

  str(s: string): void {
    const n = s.length;
    if (n < 32) {
      // Short strings: encode by hand. At most 3 bytes per UTF-16 unit.
      this.ensure(n * 3 + 2);
      const buf = this.buf;
      const hdr = n * 3 < 32 ? 1 : 2;
      const start = this.pos + hdr;
      let p = start;
      for (let i = 0; i < n; i++) {
        let c = s.charCodeAt(i);
        if (c < 0x80) {
          buf[p++] = c;
        } else if (c < 0x800) {
          buf[p++] = 0xc0 | (c >> 6);
          buf[p++] = 0x80 | (c & 0x3f);
        } else if (c < 0xd800 || c > 0xdfff) {
          buf[p++] = 0xe0 | (c >> 12);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
        } else {
          const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
          if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) fail("string holds a lone surrogate");
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          buf[p++] = 0xf0 | (c >> 18);
          buf[p++] = 0x80 | ((c >> 12) & 0x3f);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
        }
      }
      const len = p - start;
      if (len < 32) {
        if (hdr !== 1) buf.copyWithin(this.pos + 1, start, p);
        buf[this.pos] = 0xa0 | len;
        this.pos += 1 + len;
      } else {
        buf[this.pos] = 0xd9;
        buf[this.pos + 1] = len;
        this.pos = p;
      }
      return;
    }
    if (!s.isWellFormed()) fail("string holds a lone surrogate");
    const max = n * 3;
    this.ensure(max + 5);
    const hdr = max < 256 ? 2 : max < 65536 ? 3 : 5;
    const start = this.pos + hdr;
    const len = utf8.encodeInto(s, this.buf.subarray(start)).written;
    const real = len < 32 ? 1 : len < 256 ? 2 : len < 65536 ? 3 : 5;
    if (real !== hdr) this.buf.copyWithin(this.pos + real, start, start + len);
    if (real === 1) this.buf[this.pos++] = 0xa0 | len;
    else if (real === 2) {
      this.buf[this.pos++] = 0xd9;
      this.buf[this.pos++] = len;
    } else this.head(0xda, len);
    this.pos += len;
  }
}

let shared: Writer | undefined;
let busy = false;

/**
 * Encodes one value (no callback made for it).
 *
 * @param registry The class registry for objects that are not plain data.
 * @param maxDepth The nesting limit.
 * @param value The value.
 * @param parts Give bin data of 64 KiB and more back as parts of their own.
 * @returns The bytes, or their parts in order.
 */
export function encodeMsgpackValue(
  registry: ClassRegistry,
  maxDepth: number,
  value: unknown,
  parts: boolean,
): Uint8Array | Uint8Array[] {
  return run(registry, maxDepth, parts, false, value);
}

/**
 * Encodes Pyro5's call `[objectId, method, args, kwargs]` (no callback made for it).
 *
 * @param registry The class registry for objects that are not plain data.
 * @param maxDepth The nesting limit.
 * @param objectId The target object.
 * @param method The method name.
 * @param args The positional arguments.
 * @param kwargs The keyword arguments.
 * @param parts Give bin data of 64 KiB and more back as parts of their own.
 * @returns The bytes, or their parts in order.
 */
export function encodeMsgpackCall(
  registry: ClassRegistry,
  maxDepth: number,
  objectId: string,
  method: string,
  args: readonly unknown[],
  kwargs: Record<string, unknown> | null,
  parts: boolean,
): Uint8Array | Uint8Array[] {
  if (typeof objectId !== "string" || typeof method !== "string") {
    throw new SerializeError("Cannot encode msgpack call: object id and method must be strings");
  }
  return run(registry, maxDepth, parts, true, objectId, method, args, kwargs);
}

/**
 * Runs an encoding with the shared writer (or a fresh one when an encoding
 * is already running, e.g. from a class-to-dict converter): a value, or with
 * `call` Pyro5's call (`a` its object id, then method, args, kwargs). The
 * result is a view of a region no other result shares.
 */
function run(
  registry: ClassRegistry,
  maxDepth: number,
  parts: boolean,
  call: boolean,
  a: unknown,
  b?: unknown,
  c?: unknown,
  d?: unknown,
): Uint8Array | Uint8Array[] {
  const w = busy ? new Writer(256) : (shared ??= new Writer(CHUNK_SIZE));
  const outer = !busy;
  busy = true;
  w.pos = w.start;
  w.depth = 0;
  w.registry = registry;
  w.maxDepth = maxDepth;
  w.allowParts = parts;
  w.parts = null;
  try {
    if (!call) w.encode(a);
    else {
      w.arrayHead(4);
      w.str(a as string);
      w.str(b as string);
      w.encode(c);
      w.encode(d);
    }
    return w.finish();
  } catch (e) {
    w.parts = null;
    throw e;
  } finally {
    if (outer) busy = false;
  }
}
