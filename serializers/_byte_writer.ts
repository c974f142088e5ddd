/**
 * A growing buffer that a text format's encoder writes UTF-8 into as it
 * goes, instead of joining a string and encoding it at the end: for a small
 * payload, flattening the joined string and encoding it cost more than
 * writing it (serpent, `["hello", 42, [1.5, 2]]`: 400 → ~130 ns).
 *
 * @internal
 * @module
 */

import { allocate, lendPart, SLAB_MAX } from "../_slab.ts";
import { base64Encode } from "./registry.ts";

const utf8Encoder = new TextEncoder();
/** Where a new writer starts. */
const START_SIZE = 4096;
/** A buffer that grew beyond this is not kept for the next writer. */
const KEEP_MAX = 1 << 20;
/** Strings up to this length are written by a loop (no call into the runtime's encoder). */
const SHORT = 64;
/** Copies up to this size are made by a loop (a subarray and set() cost more). */
const SHORT_COPY = 128;

/**
 * Bytes' base64 as a message part of its own, in a lent buffer (see
 * `lendPart`) that the write loop gives back once written: base64 is ASCII,
 * one byte per character.
 */
function base64Part(b: Uint8Array): Uint8Array {
  const text = base64Encode(b);
  const out = lendPart(text.length);
  utf8Encoder.encodeInto(text, out);
  return out;
}

/** The buffer of the writer that finished last, for the next one (one writer at a time, as a rule). */
let spare: Uint8Array | null = null;

/** One payload being written. Call {@linkcode ByteWriter.release} when done, also after an error. */
export class ByteWriter {
  buf: Uint8Array;
  pos = 0;
  /**
   * With parts (a serializer's `dumpsParts`): the parts before what `buf`
   * holds, large bytes' base64 texts among them; else null.
   */
  parts: Uint8Array[] | null = null;

  constructor() {
    const b = spare;
    spare = null;
    this.buf = b ?? new Uint8Array(START_SIZE);
  }

  /** Makes room for `extra` more bytes. */
  ensure(extra: number): void {
    if (this.pos + extra > this.buf.length) this.grow(extra);
  }

  grow(extra: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }

  /** One byte. */
  byte(c: number): void {
    if (this.pos === this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  /** Bytes as they are (a constant part of a format, encoded once). */
  bytes(src: Uint8Array): void {
    const n = src.length;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = src[i];
    this.pos = p;
  }

  /** A text known to be ASCII (a token, a number). */
  ascii(s: string): void {
    const n = s.length;
    if (n > SHORT) return this.text(s);
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /**
   * A text between two `quote` characters, when it is printable ASCII with
   * neither `quote` nor a backslash in it (copied as it is checked: the
   * common case of a str in serpent or json); otherwise nothing is written.
   *
   * @returns Whether the text was written.
   */
  quoted(s: string, quote: number): boolean {
    const n = s.length;
    this.ensure(n + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = quote;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === quote || c === 0x5c) return false;
      b[p++] = c;
    }
    b[p++] = quote;
    this.pos = p;
    return true;
  }

  /** Any text, as UTF-8 (lone surrogates as U+FFFD, as `TextEncoder` writes them). */
  text(s: string): void {
    const n = s.length;
    let read = 0;
    if (n <= SHORT) {
      this.ensure(n);
      const b = this.buf;
      let p = this.pos;
      for (; read < n; read++) {
        const c = s.charCodeAt(read);
        if (c > 0x7f) break;
        b[p++] = c;
      }
      this.pos = p;
      if (read === n) return;
    }
    // as a rule ASCII: room for one byte per character first, more when it runs out
    this.ensure(n - read);
    for (;;) {
      const r = utf8Encoder.encodeInto(read ? s.slice(read) : s, this.buf.subarray(this.pos));
      this.pos += r.written;
      read += r.read;
      if (read === n) return;
      this.grow((n - read) * 3);
    }
  }

  /**
   * Bytes as the bytes dict of serpent and json: `head`, their base64, `tail`.
   * With parts, the base64 of bytes from `large` on is a part of its own (in
   * a lent buffer), not copied into the rest.
   */
  bytesDict(b: Uint8Array, head: string, tail: string, large: number): void {
    this.ascii(head);
    if (this.parts !== null && b.length >= large) {
      this.parts.push(this.take(true), base64Part(b));
    } else {
      this.text(base64Encode(b));
    }
    this.ascii(tail);
  }

  /**
   * What was written: one array, or with parts the parts in order.
   *
   * @returns The bytes, or their parts.
   */
  finish(): Uint8Array | Uint8Array[] {
    const parts = this.parts;
    if (parts === null || parts.length === 0) return this.take(false);
    parts.push(this.take(true));
    return parts;
  }

  /**
   * The bytes written since the last take, in memory of their own, and the
   * writer empty again.
   *
   * @param lend Whether a large part may be a lent buffer (see `lendPart`),
   * which the write loop gives back once written: only for parts of a
   * message.
   */
  take(lend: boolean): Uint8Array {
    const n = this.pos, b = this.buf;
    this.pos = 0;
    let out: Uint8Array;
    if (n <= SLAB_MAX) {
      out = allocate(n);
      if (n <= SHORT_COPY) {
        for (let i = 0; i < n; i++) out[i] = b[i];
        return out;
      }
    } else {
      out = lend ? lendPart(n) : new Uint8Array(n);
    }
    out.set(n === b.length ? b : b.subarray(0, n));
    return out;
  }

  /** Hands the buffer on to the next writer (unless it grew large). */
  release(): void {
    if (this.buf.length <= KEEP_MAX) spare = this.buf;
  }
}
