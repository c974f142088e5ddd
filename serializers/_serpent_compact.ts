/**
 * The serpent decoder's fast path: a parser, over the payload's bytes, for
 * the compact text that serpent writers make (Python's serpent with Pyro5's
 * options, and Tyro's encoder) for everyday values — the header line, then
 * one value with no blanks, no escapes and no comments. Anything else,
 * and anything it is not sure of, makes it give up ({@linkcode NOT_COMPACT}),
 * and the general parser reads the payload from the start: the values this
 * path returns are exactly those the general parser would, and every error
 * comes from the general parser.
 *
 * The general parser tracks what `ast.literal_eval` allows at every step
 * (signs, complex numbers, hashable keys, whitespace, comments); this one
 * only follows the brackets.
 *
 * @module
 * @internal
 */

import { callMessage } from "./_call_message.ts";
import { type ClassRegistry, setOwn } from "./registry.ts";
import { ByteCursor, decimalIsFloat, decimalValue, scanDecimal, utf8Text } from "./_ascii.ts";
import { EMPTY_TUPLE, finishSerpentDict } from "./_serpent_decode.ts";
import type { CallMessage } from "./types.ts";

/** What {@linkcode parseCompact} returns when the text is not for it. */
export const NOT_COMPACT: unique symbol = Symbol("not compact");
type Result = unknown;

const HEADER = new TextEncoder().encode("# serpent utf-8 python3.2\n");
/** Longer payloads go to the general parser, which searches long strings instead of stepping. */
export const COMPACT_MAX = 16 * 1024;

const C_LF = 10,
  C_CR = 13,
  C_DQUOTE = 34,
  C_SQUOTE = 39,
  C_LPAREN = 40,
  C_RPAREN = 41,
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
 * Reads a serpent payload in the compact form serpent writes, or gives up.
 *
 * @param data The payload.
 * @param registry Recreates class dicts.
 * @param maxDepth The nesting limit.
 * @returns The value, or {@linkcode NOT_COMPACT}.
 */
export function parseCompact(data: Uint8Array, registry: ClassRegistry, maxDepth: number): Result {
  if (!isCompactCandidate(data)) return NOT_COMPACT;
  const p = takeParser(data, registry, maxDepth);
  try {
    const value = p.value();
    return p.pos === data.length ? value : NOT_COMPACT;
  } finally {
    giveBack(p);
  }
}

/**
 * Reads a serpent call `(objectId,method,args,kwargs)` in the compact form
 * serpent writes, or gives up. The call and its arguments are not frozen as
 * other tuples are: they are taken apart at once.
 *
 * @param data The payload.
 * @param registry Recreates class dicts.
 * @param maxDepth The nesting limit.
 * @returns The call, or {@linkcode NOT_COMPACT}.
 */
export function parseCompactCall(
  data: Uint8Array,
  registry: ClassRegistry,
  maxDepth: number,
): CallMessage | typeof NOT_COMPACT {
  if (!isCompactCandidate(data)) return NOT_COMPACT;
  const p = takeParser(data, registry, maxDepth);
  try {
    return readCall(p, data);
  } finally {
    giveBack(p);
  }
}

function readCall(p: CompactParser, data: Uint8Array): CallMessage | typeof NOT_COMPACT {
  if (p.at(p.pos) !== C_LPAREN || !p.enter()) return NOT_COMPACT;
  const objectId = p.value();
  if (objectId === NOT_COMPACT || p.at(p.pos++) !== C_COMMA) return NOT_COMPACT;
  const method = p.value();
  if (method === NOT_COMPACT || p.at(p.pos++) !== C_COMMA) return NOT_COMPACT;
  const args = p.at(p.pos) === C_LPAREN ? p.tuple(false) : p.value();
  if (args === NOT_COMPACT || p.at(p.pos++) !== C_COMMA) return NOT_COMPACT;
  const kwargs = p.value();
  if (kwargs === NOT_COMPACT) return NOT_COMPACT;
  if (p.at(p.pos) === C_COMMA) p.pos++;
  if (p.at(p.pos) !== C_RPAREN) return NOT_COMPACT;
  p.leave();
  if (p.pos !== data.length) return NOT_COMPACT;
  // (a wrong part is an error: callMessage says which, as the general path would)
  return callMessage("serpent", objectId, method, args, kwargs);
}

const NO_DATA = new Uint8Array(0);
/** A parser kept between parses (a parse inside a parse, from a class hook, makes its own). */
let spareParser: CompactParser | null = null;

function takeParser(data: Uint8Array, registry: ClassRegistry, maxDepth: number): CompactParser {
  const p = spareParser;
  if (p === null) return new CompactParser(data, registry, maxDepth);
  spareParser = null;
  p.reset(data, registry, maxDepth);
  return p;
}

function giveBack(p: CompactParser): void {
  p.b = NO_DATA; // the payload is not kept alive
  p.n = 0;
  spareParser = p;
}

function isCompactCandidate(data: Uint8Array): boolean {
  if (data.length > COMPACT_MAX || data.length <= HEADER.length) return false;
  for (let i = 0; i < HEADER.length; i++) if (data[i] !== HEADER[i]) return false;
  return true;
}

/** One parse of one payload. */
class CompactParser extends ByteCursor {
  registry!: ClassRegistry;
  maxDepth = 0;
  depth = 0;
  /** Whether the number {@linkcode CompactParser.number} read last was a float. */
  isFloat = false;

  constructor(b: Uint8Array, registry: ClassRegistry, maxDepth: number) {
    super(b, HEADER.length);
    this.reset(b, registry, maxDepth);
  }

  /** Starts a parse of `b` (a new one, or with a parser kept from an earlier parse). */
  reset(b: Uint8Array, registry: ClassRegistry, maxDepth: number): void {
    this.b = b;
    this.n = b.length;
    this.pos = HEADER.length;
    this.registry = registry;
    this.maxDepth = maxDepth;
    this.depth = 0;
    this.isFloat = false;
  }

  value(): Result {
    const c = this.at(this.pos);
    switch (c) {
      case C_SQUOTE:
      case C_DQUOTE:
        return this.string(c);
      case C_LBRACKET:
        return this.list();
      case C_LPAREN:
        return this.tuple(true);
      case C_LBRACE:
        return this.brace();
      case C_MINUS: {
        const d = this.at(this.pos + 1);
        if (d < C_0 || d > C_9) return NOT_COMPACT;
        this.pos++;
        const v = this.number();
        if (v === NOT_COMPACT) return v;
        // an int -0 is 0, a float -0.0 is -0
        return this.isFloat || v !== 0 ? -(v as number) : 0;
      }
      case 78: // None
        return this.name(0x656e6f4e, 4, null);
      case 84: // True
        return this.name(0x65757254, 4, true);
      case 70: // False
        return this.at(this.pos + 4) === 0x65 ? this.name(0x736c6146, 5, false) : NOT_COMPACT;
    }
    if (c >= C_0 && c <= C_9) return this.number();
    return NOT_COMPACT;
  }

  /** A name whose first four bytes, little-endian, are `first4`, `length` bytes long. */
  name(first4: number, length: number, value: unknown): Result {
    return this.word(first4, length) && endsValue(this.at(this.pos)) ? value : NOT_COMPACT;
  }

  /** A decimal int or a `digits.digits` float of at most 15 digits in all, nothing else. */
  number(): Result {
    const end = scanDecimal(this.b, this.pos, this.n);
    // exponents, imaginary numbers, underscores, other radixes, long ints: the general parser
    if (end < 0 || !endsValue(this.at(end))) return NOT_COMPACT;
    this.isFloat = decimalIsFloat;
    this.pos = end;
    return decimalValue;
  }

  /**
   * A quoted str with no escape and no line break (a quote right after it
   * would be a concatenation). Its bytes are UTF-8 (any byte of a multibyte
   * character is ≥ 0x80, so none is taken for a quote). A dict `key` is cached.
   */
  string(q: number, key = false): Result {
    const b = this.b;
    const n = this.n;
    const start = this.pos + 1;
    let i = start;
    let high = 0;
    for (;;) {
      if (i >= n) return NOT_COMPACT;
      const c = b[i];
      if (c === q) break;
      // escapes, line breaks and NUL: the general parser
      if (c === C_BACKSLASH || c === C_LF || c === C_CR || c === 0) return NOT_COMPACT;
      high |= c;
      i++;
    }
    this.pos = i + 1;
    if (!endsValue(this.at(i + 1))) return NOT_COMPACT;
    // invalid UTF-8 (or a real U+FFFD): the general path says which
    return utf8Text(b, start, i, high, key) ?? NOT_COMPACT;
  }

  enter(): boolean {
    this.pos++;
    return ++this.depth <= this.maxDepth;
  }

  leave(): void {
    this.pos++;
    this.depth--;
  }

  list(): Result {
    if (!this.enter()) return NOT_COMPACT;
    const items: unknown[] = [];
    while (this.at(this.pos) !== C_RBRACKET) {
      const v = this.value();
      if (v === NOT_COMPACT) return v;
      items.push(v);
      const c = this.at(this.pos);
      if (c === C_COMMA) this.pos++;
      else if (c !== C_RBRACKET) return NOT_COMPACT;
    }
    this.leave();
    return items;
  }

  /**
   * `()`, `(a,)`, `(a,b)`, `(a,b,)`, frozen when `freeze` (as every tuple the
   * general parser reads); a parenthesized value `(a)` is left to the general parser.
   */
  tuple(freeze: boolean): Result {
    if (!this.enter()) return NOT_COMPACT;
    if (this.at(this.pos) === C_RPAREN) {
      this.leave();
      return freeze ? EMPTY_TUPLE : [];
    }
    const items: unknown[] = [];
    for (;;) {
      const v = this.value();
      if (v === NOT_COMPACT) return v;
      items.push(v);
      const c = this.at(this.pos);
      if (c === C_COMMA) {
        if (this.at(++this.pos) === C_RPAREN) break;
      } else if (c === C_RPAREN && items.length > 1) break;
      else return NOT_COMPACT;
    }
    this.leave();
    return freeze ? Object.freeze(items) : items;
  }

  /** `{}`, a dict with str keys, or a set of strs. */
  brace(): Result {
    const open = this.pos;
    if (!this.enter()) return NOT_COMPACT;
    let c = this.at(this.pos);
    if (c === C_RBRACE) {
      this.leave();
      return {};
    }
    if (c !== C_SQUOTE && c !== C_DQUOTE) return NOT_COMPACT;
    let key = this.string(c, true);
    if (key === NOT_COMPACT) return key;
    if (this.at(this.pos) !== C_COLON) return this.setRest(key as string);
    const obj: Record<string, unknown> = {};
    let special = false;
    for (;;) {
      this.pos++; // the colon
      const v = this.value();
      if (v === NOT_COMPACT) return v;
      if (key === "__class__" || key === "encoding") special = true;
      setOwn(obj, key as string, v);
      c = this.at(this.pos);
      if (c === C_RBRACE) break;
      if (c !== C_COMMA) return NOT_COMPACT;
      c = this.at(++this.pos);
      if (c === C_RBRACE) break;
      if (c !== C_SQUOTE && c !== C_DQUOTE) return NOT_COMPACT;
      key = this.string(c, true);
      if (key === NOT_COMPACT) return key;
      if (this.at(this.pos) !== C_COLON) return NOT_COMPACT;
    }
    this.leave();
    if (!special) return obj;
    try {
      return finishSerpentDict(obj, open, this.registry);
    } catch {
      // the general parser reads the payload again and says what is wrong
      return NOT_COMPACT;
    }
  }

  /** The rest of a set whose first member, a str, has been read. */
  setRest(first: string): Result {
    const set = new Set<unknown>([first]);
    for (;;) {
      let c = this.at(this.pos);
      if (c === C_RBRACE) break;
      if (c !== C_COMMA) return NOT_COMPACT;
      c = this.at(++this.pos);
      if (c === C_RBRACE) break;
      if (c !== C_SQUOTE && c !== C_DQUOTE) return NOT_COMPACT;
      const v = this.string(c);
      if (v === NOT_COMPACT) return v;
      set.add(v);
    }
    this.leave();
    return set;
  }
}

/** What may follow a value in the compact form: a separator, a closing bracket, the end (-1). */
function endsValue(c: number): boolean {
  return c === C_COMMA || c === C_RPAREN || c === C_RBRACKET || c === C_RBRACE ||
    c === C_COLON || c === -1;
}
