/**
 * Small helpers of the name server and its tools: Python truthiness,
 * Python-style regular expressions and `repr()` of strings and sets.
 *
 * @module
 */

/**
 * Python truthiness of a decoded value.
 *
 * @param v Any value.
 * @returns False for None, False, 0, "" and empty containers.
 */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "" || v === 0n) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Set || v instanceof Map) return v.size > 0;
  if (
    typeof v === "object" &&
    (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)
  ) {
    return Object.keys(v as object).length > 0;
  }
  return true;
}

/**
 * Python's type name of a decoded value, for error messages.
 *
 * @param v Any value.
 * @returns For example `int`, `str`, `dict`.
 */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "bigint") return "int";
  if (typeof v === "string") return "str";
  if (Array.isArray(v)) return Object.isFrozen(v) ? "tuple" : "list";
  if (v instanceof Set) return "set";
  if (v instanceof Uint8Array) return "bytes";
  if (typeof v === "object") {
    const p = Object.getPrototypeOf(v);
    if (p === Object.prototype || p === null || v instanceof Map) return "dict";
    return (v as object).constructor?.name ?? "object";
  }
  return typeof v;
}

/**
 * Compiles a Python `re` pattern into a JS RegExp that matches at the start
 * of a string (as `re.match` does). Python-only syntax that has a JS
 * equivalent is translated: `(?P<n>...)`, `(?P=n)`, `\A`, `\Z` and leading
 * inline flags `(?i)`, `(?m)`, `(?s)`.
 *
 * @param pattern The Python pattern.
 * @returns A sticky RegExp; use {@linkcode pyReMatch}.
 * @throws {SyntaxError} When the pattern is invalid.
 */
export function compilePyRegex(pattern: string): RegExp {
  let flags = "y";
  let src = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const f of inline[1]) if ("ims".includes(f) && !flags.includes(f)) flags += f;
  }
  src = src
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, "(?<$1>")
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, "\\k<$1>")
    .replace(/\\A/g, "^")
    .replace(/\\Z/g, "$");
  try {
    return new RegExp(src, flags + "u");
  } catch {
    return new RegExp(src, flags);
  }
}

/**
 * Tells whether a compiled pattern matches at the start of `text` (Python's `re.match`).
 *
 * @param re A RegExp made by {@linkcode compilePyRegex}.
 * @param text The text.
 * @returns True on a match.
 */
export function pyReMatch(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  return re.test(text);
}

/**
 * Python's `repr()` of a string.
 *
 * @param s The string.
 * @returns The quoted text, e.g. `'abc'`.
 */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + quote;
}

/**
 * Python's `repr()` of a set of strings (sorted, so that output is stable).
 *
 * @param items The strings.
 * @returns For example `{'a', 'b'}`, or `set()` when empty.
 */
export function pySetRepr(items: Iterable<unknown>): string {
  const list = [...items].sort().map((i) => typeof i === "string" ? pyStrRepr(i) : String(i));
  return list.length ? `{${list.join(", ")}}` : "set()";
}
