/**
 * The JSON reader behind {@linkcode createJsonSerializer}: what Python's
 * `json.loads` reads, including the bare `NaN`, `Infinity` and
 * `-Infinity` tokens, and integers of any length (`bigint` beyond the safe
 * range). A fast path uses `JSON.parse`; this hand-written parser takes
 * over when that fails or would lose integer digits.
 *
 * @module
 */

import { SerializeError } from "../errors.ts";
import { setOwn } from "./registry.ts";

/** Python refuses int strings longer than this (`sys.int_info.default_max_str_digits`). */
export const MAX_INT_DIGITS = 4300;

const utf8 = new TextEncoder();

/**
 * Throws the decoding error, with the offset in bytes of the UTF-8 input.
 *
 * @param text The whole text.
 * @param index Where (in UTF-16 units) the problem is.
 * @param why What is wrong.
 */
export function jsonFail(text: string, index: number, why: string): never {
  const offset = utf8.encode(text.slice(0, index)).length;
  throw new SerializeError(`Cannot decode json: ${why} at offset ${offset}`);
}

const WS = new Uint8Array(128);
WS[0x20] =
  WS[0x09] =
  WS[0x0a] =
  WS[0x0d] =
    1;

/** A recursive-descent JSON parser for one text. */
class Parser {
  readonly text: string;
  pos = 0;
  depth = 0;
  readonly maxDepth: number;

  constructor(text: string, maxDepth: number) {
    this.text = text;
    this.maxDepth = maxDepth;
  }

  fail(why: string, at = this.pos): never {
    jsonFail(this.text, at, why);
  }

  unexpected(): never {
    if (this.pos >= this.text.length) this.fail("unexpected end of data");
    const cp = this.text.codePointAt(this.pos)!;
    this.fail(
      `unexpected token ${JSON.stringify(String.fromCodePoint(cp)).replace(/^"|"$/g, "'")}`,
    );
  }

  ws(): number {
    const t = this.text;
    let p = this.pos;
    let c = t.charCodeAt(p);
    while (c < 128 && WS[c]) c = t.charCodeAt(++p);
    this.pos = p;
    return c;
  }

  value(): unknown {
    const c = this.ws();
    switch (c) {
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x22: // "
        return this.string();
      case 0x74: // t
        return this.word("true", true);
      case 0x66: // f
        return this.word("false", false);
      case 0x6e: // n
        return this.word("null", null);
      case 0x4e: // N
        return this.word("NaN", NaN);
      case 0x49: // I
        return this.word("Infinity", Infinity);
      case 0x2d: // -
        if (this.text.charCodeAt(this.pos + 1) === 0x49) {
          this.pos++;
          return this.word("Infinity", -Infinity);
        }
        return this.number();
      default:
        if (c >= 0x30 && c <= 0x39) return this.number();
        return this.unexpected();
    }
  }

  word<T>(w: string, v: T): T {
    if (!this.text.startsWith(w, this.pos)) this.unexpected();
    this.pos += w.length;
    return v;
  }

  enter(): void {
    if (++this.depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`);
  }

  object(): Record<string, unknown> {
    this.enter();
    this.pos++;
    const obj: Record<string, unknown> = {};
    let c = this.ws();
    if (c === 0x7d) {
      this.pos++;
      this.depth--;
      return obj;
    }
    for (;;) {
      if (c !== 0x22) this.unexpected();
      const key = this.string();
      if (this.ws() !== 0x3a) this.unexpected();
      this.pos++;
      const v = this.value();
      if (key === "__proto__") setOwn(obj, key, v);
      else obj[key] = v;
      c = this.ws();
      if (c === 0x2c) {
        this.pos++;
        c = this.ws();
      } else if (c === 0x7d) {
        this.pos++;
        this.depth--;
        return obj;
      } else {
        this.unexpected();
      }
    }
  }

  array(): unknown[] {
    this.enter();
    this.pos++;
    const out: unknown[] = [];
    if (this.ws() === 0x5d) {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      out.push(this.value());
      const c = this.ws();
      if (c === 0x2c) {
        this.pos++;
      } else if (c === 0x5d) {
        this.pos++;
        this.depth--;
        return out;
      } else {
        this.unexpected();
      }
    }
  }

  string(): string {
    const t = this.text;
    const start = ++this.pos;
    // Fast path: no escapes and no control characters up to the closing quote.
    let p = start;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return t.slice(start, p);
      }
      if (c === 0x5c || c < 0x20 || Number.isNaN(c)) break;
      p++;
    }
    let out = t.slice(start, p);
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return out;
      }
      if (Number.isNaN(c)) this.fail("unterminated string", start - 1);
      if (c < 0x20) this.fail("invalid control character in a string", p);
      if (c !== 0x5c) {
        let q = p + 1;
        while (q < t.length) {
          const d = t.charCodeAt(q);
          if (d === 0x22 || d === 0x5c || d < 0x20) break;
          q++;
        }
        out += t.slice(p, q);
        p = q;
        continue;
      }
      const e = t.charCodeAt(p + 1);
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x5c:
          out += "\\";
          break;
        case 0x2f:
          out += "/";
          break;
        case 0x62:
          out += "\b";
          break;
        case 0x66:
          out += "\f";
          break;
        case 0x6e:
          out += "\n";
          break;
        case 0x72:
          out += "\r";
          break;
        case 0x74:
          out += "\t";
          break;
        case 0x75: {
          const hex = t.slice(p + 2, p + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("invalid \\u escape", p);
          out += String.fromCharCode(parseInt(hex, 16));
          p += 6;
          continue;
        }
        default:
          this.fail("invalid escape", p);
      }
      p += 2;
    }
  }

  number(): number | bigint {
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === 0x2d) p++;
    const intStart = p;
    let c = t.charCodeAt(p);
    if (c === 0x30) {
      c = t.charCodeAt(++p);
    } else if (c >= 0x31 && c <= 0x39) {
      do c = t.charCodeAt(++p); while (c >= 0x30 && c <= 0x39);
    } else {
      this.pos = p;
      this.unexpected();
    }
    const intEnd = p;
    let float = false;
    if (c === 0x2e) {
      const f = ++p;
      c = t.charCodeAt(p);
      while (c >= 0x30 && c <= 0x39) c = t.charCodeAt(++p);
      if (p === f) {
        // Python reads "1." as the int 1 followed by garbage; so do we.
        p = f - 1;
      } else {
        float = true;
      }
      c = t.charCodeAt(p);
    }
    if (c === 0x65 || c === 0x45) {
      let q = p + 1;
      let d = t.charCodeAt(q);
      if (d === 0x2b || d === 0x2d) d = t.charCodeAt(++q);
      if (d >= 0x30 && d <= 0x39) {
        do d = t.charCodeAt(++q); while (d >= 0x30 && d <= 0x39);
        p = q;
        float = true;
      }
    }
    this.pos = p;
    if (float) return Number(t.slice(start, p));
    const digits = intEnd - intStart;
    if (digits < 16) return Number(t.slice(start, p));
    if (digits > MAX_INT_DIGITS) this.fail(`int of more than ${MAX_INT_DIGITS} digits`, start);
    const b = BigInt(t.slice(start, p));
    return b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Parses a JSON text the way Python's `json.loads` does.
 *
 * @param text The text.
 * @param maxDepth The nesting limit.
 * @returns The value: plain objects (built with `setOwn`), arrays,
 *   strings, numbers, bigints, booleans and null.
 * @throws {SerializeError} On malformed text or too deep nesting.
 */
export function parseJson(text: string, maxDepth: number): unknown {
  const p = new Parser(text, maxDepth);
  const v = p.value();
  if (p.ws(), p.pos < text.length) p.fail("extra data after the value");
  return v;
}
