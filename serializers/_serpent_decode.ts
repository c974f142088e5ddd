/**
 * The serpent decoder: a single-pass parser for the Python literal syntax
 * that `ast.literal_eval` accepts, over the payload decoded once to a JS
 * string. Never evaluates anything.
 *
 * @module
 * @internal
 */

import { SecurityError, SerializeError } from "../errors.ts";
import { base64DecodeExact, bytesFromDict, type ClassRegistry, setOwn } from "./registry.ts";
import { Complex } from "./types.ts";
import { POW10 } from "./_ascii.ts";

// What the last parsed expression was, as far as literal_eval cares:
// only a bare number may be signed, only a (signed) real number may be the
// left side of `a+bj`, only a bare imaginary number may be its right side,
// and only hashable values may be dict keys or set members.
const K_OTHER = 0; // a hashable constant: str, bytes, bool, None, tuple of hashables
const K_INT = 1; // an int literal
const K_FLOAT = 2; // a float literal
const K_IMAG = 3; // an imaginary literal
const K_SIGNED_REAL = 4; // -int, +float...
const K_COMPLEX = 5; // -2j, 1+2j
const K_UNHASHABLE = 6; // list, dict, set (and tuples holding one)

const MAX_INT_DIGITS = 4300;
const HEADER = "# serpent utf-8 python3.2\n"; // Python's default int max_str_digits

const C_TAB = 9,
  C_LF = 10,
  C_FF = 12,
  C_CR = 13,
  C_SPACE = 32,
  C_DQUOTE = 34,
  C_HASH = 35,
  C_SQUOTE = 39,
  C_LPAREN = 40,
  C_RPAREN = 41,
  C_PLUS = 43,
  C_COMMA = 44,
  C_MINUS = 45,
  C_DOT = 46,
  C_0 = 48,
  C_9 = 57,
  C_COLON = 58,
  C_LBRACKET = 91,
  C_BACKSLASH = 92,
  C_RBRACKET = 93,
  C_UNDERSCORE = 95,
  C_LBRACE = 123,
  C_RBRACE = 125;

/** The empty tuple: one frozen array for all. */
export const EMPTY_TUPLE: readonly unknown[] = Object.freeze([]);

function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= C_0 && c <= C_9) ||
    c === C_UNDERSCORE;
}

function hexValue(c: number): number {
  if (c >= C_0 && c <= C_9) return c - C_0;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function describe(c: number): string {
  if (Number.isNaN(c)) return "end of data";
  if (c >= 0x20 && c < 0x7f) return `character '${String.fromCharCode(c)}'`;
  return `character U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
}

const BYTES_HEAD = "{'data': '";
const BYTES_TAIL = "', 'encoding': 'base64'}";
/**
 * String literals this short, in documents this large, are searched for escapes and line
 * breaks character by character rather than by searches through the document.
 */
const SHORT_TEXT = 64, LARGE_DOCUMENT = 64 * 1024;
/** Bytes dicts with base64 texts this long are decoded by {@linkcode SerpentParser.bytesDict}. */
const BYTES_FAST_MIN = 4096;

/** One parse of one payload. */
export class SerpentParser {
  readonly s: string;
  readonly n: number;
  readonly registry: ClassRegistry;
  readonly maxDepth: number;
  i = 0;
  /** Open brackets: newlines are whitespace only inside brackets. */
  nest = 0;
  /** Container nesting, bounded by maxDepth. */
  depth = 0;
  /** The kind (K_*) of the expression parsed last. */
  kind = K_OTHER;
  // Positions of the next backslash / LF / CR at or after some earlier
  // point: searches only move forward, so each is found once.
  #bs = -1;
  #lf = -1;
  #cr = -1;
  /** Spans (start, end pairs) that bytesDict proved to be base64: no NUL to search for there. */
  #base64: number[] = [];
  /** bytesDict has guessed where a text ends (see there). */
  #guessed = false;

  constructor(s: string, registry: ClassRegistry, maxDepth: number) {
    this.s = s;
    this.n = s.length;
    this.registry = registry;
    this.maxDepth = maxDepth;
  }

  fail(what: string, at = this.i): never {
    throw new SerializeError(`Cannot decode serpent: ${what} at offset ${at}`);
  }

  unexpected(at = this.i): never {
    if (at >= this.n) this.fail("unexpected end of data", at);
    this.fail(`unexpected ${describe(this.s.charCodeAt(at))}`, at);
  }

  /**
   * Parses the whole text: one expression (or a bare tuple), blank lines and
   * comments around it. A NUL anywhere is refused (as by Python), before any
   * other error; the search for it skips the long base64 texts that
   * {@linkcode SerpentParser.bytesDict} proved free of it (one pass less
   * over a large payload).
   */
  parseDocument(): unknown {
    let value: unknown;
    try {
      value = this.#parseDocument();
    } catch (e) {
      this.#refuseNul(0, this.n);
      throw e;
    }
    const spans = this.#base64;
    let from = 0;
    for (let k = 0; k < spans.length; k += 2) {
      this.#refuseNul(from, spans[k]);
      from = spans[k + 1];
    }
    this.#refuseNul(from, this.n);
    return value;
  }

  #refuseNul(from: number, to: number): void {
    const s = this.s;
    const at = from === 0 && to === this.n ? s.indexOf("\0") : s.slice(from, to).indexOf("\0");
    if (at >= 0) this.fail("the data contains a NUL character", from + at);
  }

  #parseDocument(): unknown {
    const s = this.s;
    // ast.literal_eval strips leading spaces and tabs; after that, blank and
    // comment lines may come first, but the expression's line may not be indented.
    let i = 0;
    let firstLine = true;
    if (s.startsWith(HEADER)) {
      i = HEADER.length;
      firstLine = false;
    }
    for (;;) {
      const lineStart = i;
      // the indentation: blanks after the last form feed (literal_eval strips
      // the first line's leading spaces and tabs)
      let indented = false;
      let counting = !firstLine;
      let c = s.charCodeAt(i);
      while (c === C_SPACE || c === C_TAB || c === C_FF) {
        if (c === C_FF) counting = true, indented = false;
        else if (counting) indented = true;
        c = s.charCodeAt(++i);
      }
      // line continuations join the next line to this one
      while (c === C_BACKSLASH) {
        const d = s.charCodeAt(i + 1);
        if (d === C_LF) i += 2;
        else if (d === C_CR) i += s.charCodeAt(i + 2) === C_LF ? 3 : 2;
        else break;
        c = s.charCodeAt(i);
        while (c === C_SPACE || c === C_TAB || c === C_FF) c = s.charCodeAt(++i);
      }
      if (c === C_HASH) {
        while (i < this.n && (c = s.charCodeAt(i)) !== C_LF && c !== C_CR) i++;
      }
      if (c === C_LF || c === C_CR) {
        i += c === C_CR && s.charCodeAt(i + 1) === C_LF ? 2 : 1;
        firstLine = false;
        continue;
      }
      if (i >= this.n) this.fail("no value", i);
      if (indented) this.fail("unexpected indent", lineStart);
      break;
    }
    this.i = i;
    let value = this.parseExpr();
    this.skipWs();
    if (s.charCodeAt(this.i) === C_COMMA) {
      // a bare tuple: `1, 2`
      const items = [value];
      let hashable = this.kind !== K_UNHASHABLE;
      for (;;) {
        this.i++;
        this.skipWs();
        const c = s.charCodeAt(this.i);
        if (this.i >= this.n || c === C_LF || c === C_CR) break;
        items.push(this.parseExpr());
        if (this.kind === K_UNHASHABLE) hashable = false;
        this.skipWs();
        if (s.charCodeAt(this.i) !== C_COMMA) break;
      }
      value = Object.freeze(items);
      this.kind = hashable ? K_OTHER : K_UNHASHABLE;
    }
    // trailing newlines, blanks and comments
    for (;;) {
      this.skipWs();
      const c = s.charCodeAt(this.i);
      if (c === C_LF || c === C_CR) {
        this.i++;
        continue;
      }
      break;
    }
    if (this.i < this.n) this.unexpected();
    return value;
  }

  /** Skips blanks, comments and line continuations (and newlines inside brackets). */
  skipWs(): void {
    // most often the next token is right here (a function this small is inlined)
    const i = this.i;
    if (i < this.n) {
      const c = this.s.charCodeAt(i);
      if (c > C_SPACE && c !== C_HASH && c !== C_BACKSLASH) return;
    }
    this.skipWsLoop();
  }

  /** {@linkcode SerpentParser.skipWs} past what there is to skip. */
  skipWsLoop(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === C_SPACE || c === C_TAB || c === C_FF) {
        i++;
      } else if (c === C_LF || c === C_CR) {
        if (this.nest === 0) break;
        i++;
      } else if (c === C_HASH) {
        let d = c;
        while (i < this.n && (d = s.charCodeAt(i)) !== C_LF && d !== C_CR) i++;
      } else if (c === C_BACKSLASH) {
        const d = s.charCodeAt(i + 1);
        if (d === C_LF) i += 2;
        else if (d === C_CR) i += s.charCodeAt(i + 2) === C_LF ? 3 : 2;
        else {
          this.i = i;
          this.fail("unexpected character after line continuation", i + 1);
        }
      } else {
        break;
      }
    }
    this.i = i;
  }

  /** expr := factor [('+'|'-') factor], restricted to `real ± imaginary`. */
  parseExpr(): unknown {
    const left = this.parseFactor();
    this.skipWs();
    const c = this.s.charCodeAt(this.i);
    if (c !== C_PLUS && c !== C_MINUS) return left;
    const lk = this.kind;
    const opAt = this.i;
    if (lk !== K_INT && lk !== K_FLOAT && lk !== K_SIGNED_REAL) {
      this.fail("malformed expression (only real ± imaginary numbers are allowed)", opAt);
    }
    this.i++;
    this.skipWs();
    const right = this.parseFactor();
    if (this.kind !== K_IMAG) {
      this.fail("malformed expression (only real ± imaginary numbers are allowed)", opAt);
    }
    const re = Number(left as number | bigint);
    const r = right as Complex;
    this.kind = K_COMPLEX;
    return c === C_PLUS ? new Complex(re + r.re, 0 + r.im) : new Complex(re - r.re, 0 - r.im);
  }

  /** factor := ['+'|'-'] primary, the sign only on a bare number. */
  parseFactor(): unknown {
    const c = this.s.charCodeAt(this.i);
    if (c !== C_MINUS && c !== C_PLUS) return this.parsePrimary();
    const at = this.i;
    this.i++;
    this.skipWs();
    const v = this.parsePrimary();
    const k = this.kind;
    if (k === K_INT) {
      this.kind = K_SIGNED_REAL;
      if (c === C_PLUS || v === 0) return v;
      return -(v as number); // works for bigint too
    }
    if (k === K_FLOAT) {
      this.kind = K_SIGNED_REAL;
      return c === C_PLUS ? v : -(v as number);
    }
    if (k === K_IMAG) {
      this.kind = K_COMPLEX;
      const z = v as Complex;
      return c === C_PLUS ? z : new Complex(-z.re, -z.im);
    }
    this.fail("malformed expression (a sign applies only to a number)", at);
  }

  parsePrimary(): unknown {
    const s = this.s;
    const c = s.charCodeAt(this.i);
    switch (c) {
      case C_SQUOTE:
      case C_DQUOTE:
        return this.parseStrings(0);
      case C_LPAREN:
        return this.parseParen();
      case C_LBRACKET:
        return this.parseList();
      case C_LBRACE:
        return this.parseBrace();
      case C_DOT:
        if (isDigit(s.charCodeAt(this.i + 1))) return this.parseNumber();
        if (s.charCodeAt(this.i + 1) === C_DOT && s.charCodeAt(this.i + 2) === C_DOT) {
          this.fail("Ellipsis has no Tyro value");
        }
        return this.unexpected();
    }
    if (isDigit(c)) return this.parseNumber();
    if (isNameChar(c)) return this.parseName();
    return this.unexpected();
  }

  enter(): void {
    if (++this.depth > this.maxDepth) {
      this.fail(`nesting deeper than the limit of ${this.maxDepth}`);
    }
    this.nest++;
    this.i++;
  }

  leave(): void {
    this.depth--;
    this.nest--;
    this.i++;
  }

  /** `(` ... `)`: an empty tuple, a parenthesized expression or a tuple. */
  parseParen(): unknown {
    const s = this.s;
    this.enter();
    this.skipWs();
    if (s.charCodeAt(this.i) === C_RPAREN) {
      this.leave();
      this.kind = K_OTHER;
      return EMPTY_TUPLE;
    }
    const first = this.parseExpr();
    this.skipWs();
    let c = s.charCodeAt(this.i);
    if (c === C_RPAREN) {
      this.leave(); // grouping only: the kind passes through
      return first;
    }
    if (c !== C_COMMA) this.unexpected();
    const items = [first];
    let hashable = this.kind !== K_UNHASHABLE;
    for (;;) {
      this.i++; // the comma
      this.skipWs();
      if (s.charCodeAt(this.i) === C_RPAREN) break;
      items.push(this.parseExpr());
      if (this.kind === K_UNHASHABLE) hashable = false;
      this.skipWs();
      c = s.charCodeAt(this.i);
      if (c === C_RPAREN) break;
      if (c !== C_COMMA) this.unexpected();
    }
    this.leave();
    this.kind = hashable ? K_OTHER : K_UNHASHABLE;
    return Object.freeze(items);
  }

  parseList(): unknown[] {
    const s = this.s;
    this.enter();
    const items: unknown[] = [];
    this.skipWs();
    if (s.charCodeAt(this.i) !== C_RBRACKET) {
      for (;;) {
        items.push(this.parseExpr());
        this.skipWs();
        const c = s.charCodeAt(this.i);
        if (c === C_RBRACKET) break;
        if (c !== C_COMMA) this.unexpected();
        this.i++;
        this.skipWs();
        if (s.charCodeAt(this.i) === C_RBRACKET) break;
      }
    }
    this.leave();
    this.kind = K_UNHASHABLE;
    return items;
  }

  /** `{` ... `}`: a dict or a set. */
  parseBrace(): unknown {
    const s = this.s;
    const open = this.i;
    const bytes = this.bytesDict(open);
    if (bytes !== undefined) return bytes;
    this.enter();
    this.skipWs();
    if (s.charCodeAt(this.i) === C_RBRACE) {
      this.leave();
      this.kind = K_UNHASHABLE;
      return {};
    }
    let keyAt = this.i;
    let key = this.parseExpr();
    if (this.kind === K_UNHASHABLE) this.fail("unhashable dict key or set member", keyAt);
    this.skipWs();
    let c = s.charCodeAt(this.i);
    if (c !== C_COLON) {
      // a set
      const set = new Set<unknown>([key]);
      let index = isSpecialKey(key) ? new PyKeyIndex(set) : null;
      while (c === C_COMMA) {
        this.i++;
        this.skipWs();
        if (s.charCodeAt(this.i) === C_RBRACE) break;
        keyAt = this.i;
        key = this.parseExpr();
        if (this.kind === K_UNHASHABLE) this.fail("unhashable dict key or set member", keyAt);
        if (index === null && isSpecialKey(key)) index = new PyKeyIndex(set);
        if (index === null) set.add(key);
        else if (index.stored(key) === NOT_FOUND) set.add(key);
        this.skipWs();
        c = s.charCodeAt(this.i);
      }
      if (s.charCodeAt(this.i) !== C_RBRACE) this.unexpected();
      this.leave();
      this.kind = K_UNHASHABLE;
      return set;
    }
    let obj: Record<string, unknown> | null = {};
    let map: Map<unknown, unknown> | null = null;
    let index: PyKeyIndex | null = null;
    let special = false; // saw "__class__" or "encoding"
    for (;;) {
      this.i++; // the colon
      this.skipWs();
      const value = this.parseExpr();
      if (obj !== null) {
        if (typeof key === "string") {
          if (key === "__class__" || key === "encoding") special = true;
          setOwn(obj, key, value);
        } else {
          map = new Map<unknown, unknown>();
          for (const k of Object.keys(obj)) map.set(k, obj[k]);
          obj = null;
          map.set(key, value);
          if (isSpecialKey(key)) index = new PyKeyIndex(map);
        }
      } else {
        // Python keeps the first of equal keys (1, 1.0, True) and the last value
        if (index === null && isSpecialKey(key)) index = new PyKeyIndex(map!);
        if (index === null) {
          map!.set(key, value);
        } else {
          const stored = index.stored(key);
          map!.set(stored === NOT_FOUND ? key : stored, value);
        }
      }
      this.skipWs();
      c = s.charCodeAt(this.i);
      if (c === C_RBRACE) break;
      if (c !== C_COMMA) this.unexpected();
      this.i++;
      this.skipWs();
      if (s.charCodeAt(this.i) === C_RBRACE) break;
      keyAt = this.i;
      key = this.parseExpr();
      if (this.kind === K_UNHASHABLE) this.fail("unhashable dict key or set member", keyAt);
      this.skipWs();
      if (s.charCodeAt(this.i) !== C_COLON) this.unexpected();
    }
    this.leave();
    this.kind = K_UNHASHABLE;
    if (obj === null) return map;
    return special ? finishSerpentDict(obj, open, this.registry) : obj;
  }

  /**
   * A long bytes dict exactly as serpent writes it,
   * \`{'data': '<base64>', 'encoding': 'base64'}\`: decoded straight from the
   * text, without the scans for escapes and line breaks that a string
   * literal needs. A base64 text that decodes to exactly the expected size
   * holds none of them: a backslash is no base64, and line breaks would be
   * skipped and leave the result short. Anything else (or a short text) takes
   * the general path.
   */
  bytesDict(open: number): Uint8Array | undefined {
    const s = this.s;
    if (!s.startsWith(BYTES_HEAD, open) || this.depth + 1 > this.maxDepth) return undefined;
    const from = open + BYTES_HEAD.length;
    // a short text takes the general path
    if (s.slice(from, from + BYTES_FAST_MIN).indexOf("'") >= 0) return undefined;
    // The text's end is first looked for from the document's end, where a payload's last
    // bytes dict ends (a scan of a few characters instead of the whole text): when the
    // text up to there decodes, it holds no quote, so that is where its literal ends.
    // A wrong guess (more than one long bytes dict) costs a buffer, so it is made once.
    const last = this.#guessed ? -1 : s.lastIndexOf(BYTES_TAIL);
    this.#guessed = true;
    let out = last > from ? this.#base64Exact(from, last) : undefined;
    let end = last;
    if (out === undefined) {
      end = s.indexOf("'", from);
      if (end === last || !s.startsWith(BYTES_TAIL, end)) return undefined;
      out = this.#base64Exact(from, end);
      if (out === undefined) return undefined; // not base64: the general path says what is wrong
    }
    this.#base64.push(from, end);
    this.i = end + BYTES_TAIL.length;
    this.kind = K_UNHASHABLE;
    return out;
  }

  #base64Exact(from: number, end: number): Uint8Array | undefined {
    try {
      return base64DecodeExact(this.s.slice(from, end));
    } catch {
      return undefined;
    }
  }

  parseName(): unknown {
    const s = this.s;
    const start = this.i;
    let i = start + 1;
    while (isNameChar(s.charCodeAt(i))) i++;
    const c = s.charCodeAt(i);
    if ((c === C_SQUOTE || c === C_DQUOTE) && i - start <= 2) {
      const prefix = s.slice(start, i).toLowerCase();
      let flags = -1;
      if (prefix === "u") flags = 0;
      else if (prefix === "r") flags = F_RAW;
      else if (prefix === "b") flags = F_BYTES;
      else if (prefix === "br" || prefix === "rb") flags = F_RAW | F_BYTES;
      if (flags >= 0) {
        this.i = i;
        return this.parseStrings(flags);
      }
      if (prefix.includes("f")) this.fail("f-strings are not literals", start);
    }
    if (c >= 0x80) this.unexpected(i);
    const name = s.slice(start, i);
    this.i = i;
    this.kind = K_OTHER;
    switch (name) {
      case "None":
        return null;
      case "True":
        return true;
      case "False":
        return false;
      case "set": {
        this.skipWs();
        if (s.charCodeAt(this.i) === C_LPAREN) {
          this.nest++;
          this.i++;
          this.skipWs();
          if (s.charCodeAt(this.i) === C_RPAREN) {
            this.nest--;
            this.i++;
            this.kind = K_UNHASHABLE;
            return new Set();
          }
        }
        break;
      }
    }
    this.fail(`unexpected name '${name}'`, start);
  }

  parseNumber(): unknown {
    const s = this.s;
    const start = this.i;
    let i = start;
    let c = s.charCodeAt(i);
    if (c === C_0) {
      const p = s.charCodeAt(i + 1) | 0x20;
      if (p === 120 || p === 111 || p === 98) return this.parseRadixInt(p);
    }
    let value = 0;
    let digits = 0;
    let underscores = false;
    let isFloat = false;
    // integer part
    while (true) {
      if (isDigit(c)) {
        value = value * 10 + (c - C_0);
        digits++;
      } else if (c === C_UNDERSCORE && isDigit(s.charCodeAt(i + 1)) && i > start) {
        underscores = true;
      } else break;
      c = s.charCodeAt(++i);
    }
    // how many fraction digits `value` holds, while it stays exact (see below); -1 when not
    let fraction = 0;
    if (c === C_DOT) {
      isFloat = true;
      c = s.charCodeAt(++i);
      while (isDigit(c) && digits < 15) {
        value = value * 10 + (c - C_0);
        digits++;
        fraction++;
        c = s.charCodeAt(++i);
      }
      if (isDigit(c) || c === C_UNDERSCORE) {
        fraction = -1;
        c = this.digitRun(i);
        i = this.i;
      }
    }
    if (c === 101 || c === 69) { // e E
      isFloat = true;
      fraction = -1;
      c = s.charCodeAt(++i);
      if (c === C_PLUS || c === C_MINUS) c = s.charCodeAt(++i);
      if (!isDigit(c)) this.fail("invalid decimal literal", i);
      c = this.digitRun(i);
      i = this.i;
    }
    let imag = false;
    if (c === 106 || c === 74) { // j J
      imag = true;
      c = s.charCodeAt(++i);
    }
    if (isNameChar(c) || c === C_DOT) this.fail("invalid decimal literal", i);
    this.i = i;
    if (isFloat && !imag && fraction >= 0 && digits <= 15 && !underscores) {
      // no exponent, at most 15 digits: the digits and the power of ten are exact
      // doubles, so one division gives the correctly rounded value, as Number(text) does
      this.kind = K_FLOAT;
      return fraction === 0 ? value : value / POW10[fraction];
    }
    if (imag || isFloat) {
      let text = s.slice(start, imag ? i - 1 : i);
      if (text.includes("_")) text = text.replaceAll("_", "");
      const x = Number(text);
      if (imag) {
        this.kind = K_IMAG;
        return new Complex(0, x);
      }
      this.kind = K_FLOAT;
      return x;
    }
    this.kind = K_INT;
    if (s.charCodeAt(start) === C_0 && value !== 0) {
      this.fail("leading zeros in decimal integer literals are not permitted", start);
    }
    if (digits <= 15) return value;
    if (digits > MAX_INT_DIGITS) {
      this.fail(`int literal longer than ${MAX_INT_DIGITS} digits`, start);
    }
    let text = s.slice(start, i);
    if (underscores) text = text.replaceAll("_", "");
    return bigOrNumber(BigInt(text));
  }

  /** Scans digits with single underscores between them from i; leaves this.i after them. */
  digitRun(i: number): number {
    const s = this.s;
    let c = s.charCodeAt(i);
    for (;;) {
      if (isDigit(c)) c = s.charCodeAt(++i);
      else if (c === C_UNDERSCORE && isDigit(s.charCodeAt(i + 1))) c = s.charCodeAt(++i);
      else break;
    }
    this.i = i;
    return c;
  }

  parseRadixInt(p: number): unknown {
    const s = this.s;
    const start = this.i;
    const base = p === 120 ? 16 : p === 111 ? 8 : 2;
    let i = start + 2;
    let digits = 0;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === C_UNDERSCORE) {
        const d = hexValue(s.charCodeAt(i + 1));
        if (d < 0 || d >= base) this.fail("invalid number literal", i);
        i++;
        continue;
      }
      const d = hexValue(c);
      if (d >= 0 && d < base) {
        digits++;
        i++;
        continue;
      }
      if (isNameChar(c) || c === C_DOT) this.fail("invalid number literal", i);
      break;
    }
    if (digits === 0) this.fail("invalid number literal", i);
    this.i = i;
    this.kind = K_INT;
    return bigOrNumber(BigInt(s.slice(start, i).replaceAll("_", "")));
  }

  /** One or more adjacent string literals, concatenated. `flags` are the first literal's prefix. */
  parseStrings(flags: number): unknown {
    const s = this.s;
    const start = this.i;
    const isBytes = (flags & F_BYTES) !== 0;
    let text = this.parseStringLiteral(flags);
    for (;;) {
      const save = this.i;
      this.skipWs();
      let c = s.charCodeAt(this.i);
      let next = -1;
      if (c === C_SQUOTE || c === C_DQUOTE) {
        next = 0;
      } else if (isNameChar(c)) {
        // a prefixed literal?
        let j = this.i;
        while (j - this.i < 3 && isNameChar(s.charCodeAt(j))) j++;
        c = s.charCodeAt(j);
        if (c === C_SQUOTE || c === C_DQUOTE) {
          const prefix = s.slice(this.i, j).toLowerCase();
          if (prefix === "u") next = 0;
          else if (prefix === "r") next = F_RAW;
          else if (prefix === "b") next = F_BYTES;
          else if (prefix === "br" || prefix === "rb") next = F_RAW | F_BYTES;
          if (next >= 0) this.i = j;
        }
      }
      if (next < 0) {
        this.i = save;
        break;
      }
      if (((next & F_BYTES) !== 0) !== isBytes) {
        this.fail("cannot mix bytes and nonbytes literals", this.i);
      }
      text += this.parseStringLiteral(next);
    }
    this.kind = K_OTHER;
    if (!isBytes) return text;
    const out = new Uint8Array(text.length);
    for (let k = 0; k < text.length; k++) {
      const b = text.charCodeAt(k);
      if (b > 0xff) this.fail("bytes can only contain ASCII literal characters", start);
      out[k] = b;
    }
    return out;
  }

  nextBackslash(i: number): number {
    if (this.#bs < i) {
      const p = this.s.indexOf("\\", i);
      this.#bs = p < 0 ? this.n : p;
    }
    return this.#bs;
  }

  nextNewline(i: number): number {
    if (this.#lf < i) {
      const p = this.s.indexOf("\n", i);
      this.#lf = p < 0 ? this.n : p;
    }
    if (this.#cr < i) {
      const p = this.s.indexOf("\r", i);
      this.#cr = p < 0 ? this.n : p;
    }
    return this.#lf < this.#cr ? this.#lf : this.#cr;
  }

  /** One string literal at this.i (on its opening quote). Bytes come back as a latin-1 string. */
  parseStringLiteral(flags: number): string {
    const s = this.s;
    const q = s.charCodeAt(this.i);
    const quote = q === C_SQUOTE ? "'" : '"';
    if (s.charCodeAt(this.i + 1) === q && s.charCodeAt(this.i + 2) === q) {
      return this.parseLongString(flags, q);
    }
    const open = this.i;
    let i = this.i + 1;
    if (flags !== 0) return this.parseGeneralString(flags, q, i, false, open);
    // fast path: a plain str between single quotes
    let out = "";
    let seg = i;
    for (;;) {
      const qp = s.indexOf(quote, i);
      if (qp < 0) this.fail("unterminated string literal", open);
      let bs: number;
      if (qp - i <= SHORT_TEXT && this.n > LARGE_DOCUMENT) {
        // a short text in a large document is looked through here: the cached searches
        // would, the first time, run on through the rest of the document (all 13 MB of a
        // large payload behind it)
        let c = 0;
        bs = i;
        while (bs < qp && (c = s.charCodeAt(bs)) !== C_BACKSLASH && c !== C_LF && c !== C_CR) bs++;
        if (bs === qp) bs = this.n;
        else if (c !== C_BACKSLASH) this.fail("unterminated string literal", open);
      } else {
        bs = this.nextBackslash(i);
        const end = bs < qp ? bs : qp;
        if (this.nextNewline(i) < end) this.fail("unterminated string literal", open);
      }
      if (bs > qp) {
        this.i = qp + 1;
        return seg === qp ? out : out + s.slice(seg, qp);
      }
      if (seg < bs) out += s.slice(seg, bs);
      i = this.escape(bs, false);
      out += this.escaped;
      seg = i;
    }
  }

  /** The text an escape sequence produced (set by {@linkcode escape}). */
  escaped = "";

  /**
   * Decodes the escape sequence whose backslash is at `at` into
   * this.escaped and returns the position after it.
   */
  escape(at: number, isBytes: boolean): number {
    const s = this.s;
    const c = s.charCodeAt(at + 1);
    let i = at + 2;
    switch (c) {
      case C_LF:
        this.escaped = "";
        return i;
      case C_CR:
        this.escaped = "";
        return s.charCodeAt(i) === C_LF ? i + 1 : i;
      case C_BACKSLASH:
        this.escaped = "\\";
        return i;
      case C_SQUOTE:
        this.escaped = "'";
        return i;
      case C_DQUOTE:
        this.escaped = '"';
        return i;
      case 97: // a
        this.escaped = "\x07";
        return i;
      case 98: // b
        this.escaped = "\b";
        return i;
      case 102: // f
        this.escaped = "\f";
        return i;
      case 110: // n
        this.escaped = "\n";
        return i;
      case 114: // r
        this.escaped = "\r";
        return i;
      case 116: // t
        this.escaped = "\t";
        return i;
      case 118: // v
        this.escaped = "\v";
        return i;
      case 120: // x
        this.escaped = String.fromCharCode(this.hexDigits(i, 2, at));
        return i + 2;
      case 117: // u
        if (isBytes) break;
        this.escaped = String.fromCharCode(this.hexDigits(i, 4, at));
        return i + 4;
      case 85: { // U
        if (isBytes) break;
        const cp = this.hexDigits(i, 8, at);
        if (cp > 0x10ffff) this.fail("illegal Unicode character in \\U escape", at);
        this.escaped = String.fromCodePoint(cp);
        return i + 8;
      }
      case 78: // N
        if (isBytes) break;
        this.fail("\\N{...} escapes are not supported", at);
    }
    if (c >= C_0 && c <= 55) { // octal
      let v = c - C_0;
      for (let k = 0; k < 2; k++) {
        const d = s.charCodeAt(i);
        if (d < C_0 || d > 55) break;
        v = v * 8 + d - C_0;
        i++;
      }
      this.escaped = String.fromCharCode(isBytes ? v & 0xff : v);
      return i;
    }
    if (Number.isNaN(c)) this.fail("unterminated string literal", at);
    // an unknown escape keeps its backslash
    this.escaped = "\\";
    return at + 1;
  }

  hexDigits(i: number, count: number, at: number): number {
    let v = 0;
    for (let k = 0; k < count; k++) {
      const d = hexValue(this.s.charCodeAt(i + k));
      if (d < 0) this.fail("truncated escape sequence", at);
      v = v * 16 + d;
    }
    return v;
  }

  /** A triple-quoted literal. */
  parseLongString(flags: number, q: number): string {
    const open = this.i;
    return this.parseGeneralString(flags, q, this.i + 3, true, open);
  }

  /** Any literal: raw and bytes prefixes, triple quotes. */
  parseGeneralString(flags: number, q: number, i: number, triple: boolean, open: number): string {
    const s = this.s;
    const raw = (flags & F_RAW) !== 0;
    const isBytes = (flags & F_BYTES) !== 0;
    let out = "";
    let seg = i;
    for (;;) {
      if (i >= this.n) this.fail("unterminated string literal", open);
      const c = s.charCodeAt(i);
      if (c === q) {
        if (!triple) {
          out += s.slice(seg, i);
          this.i = i + 1;
          return out;
        }
        if (s.charCodeAt(i + 1) === q && s.charCodeAt(i + 2) === q) {
          out += s.slice(seg, i);
          this.i = i + 3;
          return out;
        }
        i++;
      } else if (c === C_BACKSLASH) {
        if (raw) {
          // the backslash stays, and it keeps the next character from ending the literal
          const d = s.charCodeAt(i + 1);
          if (d === C_CR || d === C_LF) {
            if (!triple) {
              out += s.slice(seg, i + 1) + "\n";
              i += d === C_CR && s.charCodeAt(i + 2) === C_LF ? 3 : 2;
              seg = i;
              continue;
            }
            i++;
            continue;
          }
          if (Number.isNaN(d)) this.fail("unterminated string literal", open);
          if (isBytes && d >= 0x80) this.fail("bytes can only contain ASCII literal characters", i);
          i += 2;
        } else {
          out += s.slice(seg, i);
          i = this.escape(i, isBytes);
          out += this.escaped;
          seg = i;
        }
      } else if (c === C_LF || c === C_CR) {
        if (!triple) this.fail("unterminated string literal", open);
        if (c === C_CR) {
          // newlines in source are normalized to \n
          out += s.slice(seg, i) + "\n";
          i += s.charCodeAt(i + 1) === C_LF ? 2 : 1;
          seg = i;
        } else {
          i++;
        }
      } else {
        if (isBytes && c >= 0x80) this.fail("bytes can only contain ASCII literal characters", i);
        i++;
      }
    }
  }
}

/**
 * Turns serpent's bytes dicts into bytes and class dicts into classes
 * (other dicts come back as they are).
 *
 * @param obj A dict that holds the key `encoding` or `__class__`.
 * @param at Where it starts in the text, for the error message.
 * @param registry Recreates the classes.
 * @returns The bytes, the recreated object, or the dict.
 * @throws {SerializeError} When the registry cannot recreate the class.
 * @throws {SecurityError} When the registry refuses the class.
 */
export function finishSerpentDict(
  obj: Record<string, unknown>,
  at: number,
  registry: ClassRegistry,
): unknown {
  if (obj.encoding === "base64") {
    try {
      const bytes = bytesFromDict(obj);
      if (bytes) return bytes;
    } catch {
      // not valid base64: keep the dict, as Python would
    }
  }
  if (Object.hasOwn(obj, "__class__")) {
    try {
      return registry.fromDict(obj);
    } catch (e) {
      if (e instanceof SecurityError) throw e;
      throw new SerializeError(
        `Cannot decode serpent: class dict ${
          JSON.stringify(String(obj.__class__))
        } at offset ${at}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }
  return obj;
}

/**
 * Whether a key needs Python's equality rather than JS's SameValueZero to
 * find its equal: `True == 1`, `complex(1, 0) == 1`, `2**60 == 2.0**60`,
 * and tuples and bytes compare by value.
 */
function isSpecialKey(k: unknown): boolean {
  const t = typeof k;
  return t === "boolean" || t === "bigint" || (t === "object" && k !== null);
}

const NOT_FOUND: unique symbol = Symbol("not found");

/** Python's key equality over the keys of a Map or Set, built once a special key shows up. */
class PyKeyIndex {
  readonly #plain = new Map<unknown, unknown>();
  readonly #struct = new Map<string, unknown>();

  constructor(keys: Map<unknown, unknown> | Set<unknown>) {
    for (const k of keys.keys()) this.stored(k);
  }

  /** The stored key equal to `k`, or NOT_FOUND after recording `k`. */
  stored(k: unknown): unknown {
    const c = canonKey(k);
    const struct = c !== null && typeof c === "object";
    const table: Map<unknown, unknown> = struct ? this.#struct : this.#plain;
    const id = struct ? c.s : c;
    if (table.has(id)) return table.get(id);
    table.set(id, k);
    return NOT_FOUND;
  }
}

/** A primitive that is equal for Python-equal keys, or a structural string for tuples and such. */
function canonKey(k: unknown): number | bigint | string | null | { s: string } {
  switch (typeof k) {
    case "boolean":
      return k ? 1 : 0;
    case "number":
      return k === 0 ? 0 : k;
    case "bigint": {
      const n = Number(k);
      return Number.isFinite(n) && BigInt(n) === k ? n : k;
    }
    case "object":
      if (k === null) return null;
      if (k instanceof Complex && k.im === 0) return canonKey(k.re);
      return { s: canonString(k) };
    case "string":
      return k;
  }
  return { s: "?" + String(k) };
}

function canonString(k: unknown): string {
  if (k instanceof Complex) {
    return k.im === 0 ? canonString(k.re) : `c${k.re === 0 ? 0 : k.re},${k.im === 0 ? 0 : k.im}`;
  }
  if (Array.isArray(k)) return "(" + k.map(canonString).join(",") + ")";
  if (k instanceof Uint8Array) return "y" + Array.prototype.join.call(k, ".");
  if (typeof k === "string") return "s" + JSON.stringify(k);
  if (k === null) return "z";
  const c = canonKey(k);
  return c !== null && typeof c === "object" ? c.s : "n" + String(c);
}

const F_RAW = 1;
const F_BYTES = 2;

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE_BIG = -MAX_SAFE_BIG;

function bigOrNumber(b: bigint): number | bigint {
  return b >= MIN_SAFE_BIG && b <= MAX_SAFE_BIG ? Number(b) : b;
}
