/**
 * The json decoder's fast path: a parser, over the payload's bytes, for
 * the everyday json that Pyro5 and Tyro write — strs with no escapes, ints
 * and plain decimals of at most 15 digits, `true`, `false`, `null`, arrays
 * and objects. Anything else, and anything it is not sure of, makes it give
 * up ({@linkcode NOT_COMPACT}), and the general path (`JSON.parse` and the
 * pass that recreates classes) reads the payload from the start: the values
 * this path returns are exactly those the general path would, and every
 * error comes from the general path.
 *
 * For a small payload the general path costs more around `JSON.parse` than
 * in it: decoding the text, then a second walk over the parsed value for
 * classes, bytes and the nesting limit. This path does all of it in one.
 *
 * @module
 * @internal
 */

import { type ClassRegistry, setOwn } from "./registry.ts";
import { ByteCursor, decimalValue, scanDecimal, utf8Text } from "./_ascii.ts";

/** What {@linkcode parseJsonCompact} returns when the payload is not for it. */
export const NOT_COMPACT: unique symbol = Symbol("not compact");

/** Longer payloads go to the general path. */
const COMPACT_MAX = 16 * 1024;

const C_TAB = 9,
  C_LF = 10,
  C_CR = 13,
  C_SPACE = 32,
  C_DQUOTE = 34,
  C_COMMA = 44,
  C_MINUS = 45,
  C_0 = 48,
  C_9 = 57,
  C_COLON = 58,
  C_LBRACKET = 91,
  C_BACKSLASH = 92,
  C_RBRACKET = 93,
  C_LBRACE = 123,
  C_RBRACE = 125;

/**
 * Turns a dict with the key `__class__` or `encoding` into what it stands
 * for (bytes, a recreated class), or returns it; throws when it cannot.
 */
export type SpecialDict = (obj: Record<string, unknown>, registry: ClassRegistry) => unknown;

/**
 * Reads an everyday json payload, or gives up.
 *
 * @param data The payload.
 * @param top The nesting depth the value starts at (-1: the value itself does not count).
 * @param maxDepth The nesting limit.
 * @param registry Recreates class dicts.
 * @param special Finishes dicts with the key `__class__` or `encoding`.
 * @returns The value, or {@linkcode NOT_COMPACT}.
 */
export function parseJsonCompact(
  data: Uint8Array,
  top: number,
  maxDepth: number,
  registry: ClassRegistry,
  special: SpecialDict,
): unknown {
  if (data.length > COMPACT_MAX) return NOT_COMPACT;
  const p = new JsonParser(data, top, maxDepth, registry, special);
  p.blanks();
  const value = p.value();
  if (value === NOT_COMPACT) return value;
  p.blanks();
  return p.pos === data.length ? value : NOT_COMPACT;
}

const enc = new TextEncoder();
const CALL_KEYS = ['"object"', '"method"', '"params"', '"kwargs"'].map((k) => enc.encode(k));

/**
 * Reads a call dict `{"object": ..., "method": ..., "params": [...],
 * "kwargs": ...}` with its keys in that order (as Pyro5 and Tyro write
 * it), or gives up. The dict itself does not count against the nesting
 * limit.
 *
 * @param data The payload.
 * @param maxDepth The nesting limit.
 * @param registry Recreates class dicts.
 * @param special Finishes dicts with the key `__class__` or `encoding`.
 * @returns The four parts in order, or {@linkcode NOT_COMPACT}.
 */
export function parseJsonCompactCall(
  data: Uint8Array,
  maxDepth: number,
  registry: ClassRegistry,
  special: SpecialDict,
): [unknown, unknown, unknown, unknown] | typeof NOT_COMPACT {
  if (data.length > COMPACT_MAX) return NOT_COMPACT;
  const p = new JsonParser(data, 0, maxDepth, registry, special);
  p.blanks();
  if (p.at(p.pos) !== C_LBRACE) return NOT_COMPACT;
  const parts: [unknown, unknown, unknown, unknown] = [null, null, null, null];
  for (let k = 0; k < 4; k++) {
    p.pos++; // the brace or the comma
    p.blanks();
    if (!p.literal(CALL_KEYS[k])) return NOT_COMPACT;
    p.blanks();
    if (p.at(p.pos) !== C_COLON) return NOT_COMPACT;
    p.pos++;
    p.blanks();
    const v = p.value();
    if (v === NOT_COMPACT) return v;
    parts[k] = v;
    p.blanks();
    if (p.at(p.pos) !== (k < 3 ? C_COMMA : C_RBRACE)) return NOT_COMPACT;
  }
  p.pos++;
  p.blanks();
  return p.pos === data.length ? parts : NOT_COMPACT;
}

/** One parse of one payload. */
class JsonParser extends ByteCursor {
  depth: number;
  readonly maxDepth: number;
  readonly registry: ClassRegistry;
  readonly special: SpecialDict;

  constructor(
    b: Uint8Array,
    depth: number,
    maxDepth: number,
    registry: ClassRegistry,
    special: SpecialDict,
  ) {
    super(b, 0);
    this.depth = depth;
    this.maxDepth = maxDepth;
    this.registry = registry;
    this.special = special;
  }

  /** Whether `bytes` come next; steps over them if so. */
  literal(bytes: Uint8Array): boolean {
    const b = this.b;
    const i = this.pos;
    if (i + bytes.length > this.n) return false;
    for (let k = 0; k < bytes.length; k++) if (b[i + k] !== bytes[k]) return false;
    this.pos = i + bytes.length;
    return true;
  }

  /** Skips json's blanks: space, tab, line feed, carriage return. */
  blanks(): void {
    const b = this.b;
    const n = this.n;
    let i = this.pos;
    while (i < n) {
      const c = b[i];
      if (c !== C_SPACE && c !== C_LF && c !== C_CR && c !== C_TAB) break;
      i++;
    }
    this.pos = i;
  }

  value(): unknown {
    const c = this.pos < this.n ? this.b[this.pos] : -1;
    switch (c) {
      case C_DQUOTE:
        return this.string();
      case C_LBRACKET:
        return this.array();
      case C_LBRACE:
        return this.object();
      case 110: // null
        return this.word(0x6c6c756e, 4) ? null : NOT_COMPACT;
      case 116: // true
        return this.word(0x65757274, 4) ? true : NOT_COMPACT;
      case 102: // false
        return this.at(this.pos + 4) === 0x65 && this.word(0x736c6166, 5) ? false : NOT_COMPACT;
    }
    if (c === C_MINUS || (c >= C_0 && c <= C_9)) return this.number();
    return NOT_COMPACT;
  }

  /** `-?(0|[1-9][0-9]*)(.[0-9]+)?` of at most 15 digits in all, as `JSON.parse` reads it. */
  number(): unknown {
    let i = this.pos;
    const negative = this.at(i) === C_MINUS;
    if (negative) i++;
    const end = scanDecimal(this.b, i, this.n);
    // exponents and longer numbers: the general path
    if (end < 0) return NOT_COMPACT;
    const c = this.at(end);
    if (c === 101 || c === 69) return NOT_COMPACT;
    this.pos = end;
    return negative ? -decimalValue : decimalValue;
  }

  /** A str with no escape and no control character; its bytes are UTF-8. A `key` is cached. */
  string(key = false): unknown {
    const b = this.b;
    const n = this.n;
    const start = this.pos + 1;
    let i = start;
    let high = 0;
    for (;;) {
      if (i >= n) return NOT_COMPACT;
      const c = b[i];
      if (c === C_DQUOTE) break;
      if (c === C_BACKSLASH || c < 0x20) return NOT_COMPACT;
      high |= c;
      i++;
    }
    this.pos = i + 1;
    // invalid UTF-8 (or a real U+FFFD): the general path says which
    return utf8Text(b, start, i, high, key) ?? NOT_COMPACT;
  }

  array(): unknown {
    this.pos++;
    if (++this.depth > this.maxDepth) return NOT_COMPACT;
    const items: unknown[] = [];
    this.blanks();
    if ((this.pos < this.n ? this.b[this.pos] : -1) !== C_RBRACKET) {
      for (;;) {
        const v = this.value();
        if (v === NOT_COMPACT) return v;
        items.push(v);
        this.blanks();
        const c = this.pos < this.n ? this.b[this.pos] : -1;
        if (c === C_RBRACKET) break;
        if (c !== C_COMMA) return NOT_COMPACT;
        this.pos++;
        this.blanks();
      }
    }
    this.pos++;
    this.depth--;
    return items;
  }

  object(): unknown {
    this.pos++;
    if (++this.depth > this.maxDepth) return NOT_COMPACT;
    const obj: Record<string, unknown> = {};
    let special = false;
    this.blanks();
    if ((this.pos < this.n ? this.b[this.pos] : -1) !== C_RBRACE) {
      for (;;) {
        if ((this.pos < this.n ? this.b[this.pos] : -1) !== C_DQUOTE) return NOT_COMPACT;
        const key = this.string(true);
        if (key === NOT_COMPACT) return key;
        this.blanks();
        if ((this.pos < this.n ? this.b[this.pos] : -1) !== C_COLON) return NOT_COMPACT;
        this.pos++;
        this.blanks();
        const v = this.value();
        if (v === NOT_COMPACT) return v;
        if (key === "__class__" || key === "encoding") special = true;
        setOwn(obj, key as string, v);
        this.blanks();
        const c = this.pos < this.n ? this.b[this.pos] : -1;
        if (c === C_RBRACE) break;
        if (c !== C_COMMA) return NOT_COMPACT;
        this.pos++;
        this.blanks();
      }
    }
    this.pos++;
    this.depth--;
    if (!special) return obj;
    try {
      return this.special(obj, this.registry);
    } catch {
      // the general path reads the payload again and says what is wrong
      return NOT_COMPACT;
    }
  }
}
