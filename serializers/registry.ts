/**
 * Class-to-dict and dict-to-class conversion with Pyro5's `__class__`
 * convention. Encoders call {@linkcode ClassRegistry.toDict} for objects
 * that are not plain data; decoders call {@linkcode ClassRegistry.fromDict}
 * for every decoded dict that has a `__class__` key.
 *
 * Built in: exceptions (`{"__class__", "__exception__": true, "args",
 * "attributes"}` with the remote traceback in `attributes._pyroTraceback`),
 * `Pyro5.core.URI`, `Pyro5.client.Proxy`, `Pyro5.core._ExceptionWrapper`
 * and serpent's `float` dict for NaN.
 *
 * @example Register a user class
 * ```ts
 * import { ClassRegistry, serializerFor } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * class Point {
 *   constructor(public x: number, public y: number) {}
 * }
 * const registry = new ClassRegistry();
 * registry.registerClassToDict(Point, (p) => ({ __class__: "geo.Point", x: p.x, y: p.y }));
 * registry.registerDictToClass("geo.Point", (_name, d) => new Point(d.x as number, d.y as number));
 * const ser = serializerFor("serpent", { registry });
 * const back = ser.loads(ser.dumps(new Point(1, 2)));
 * assert.ok(back instanceof Point);
 * assert.equal(back.y, 2);
 * ```
 *
 * @module
 */

import {
  CommunicationError,
  PYRO_ERRORS,
  PyroError,
  RemoteError,
  SecurityError,
  SerializeError,
} from "../errors.ts";
import { PyroUri } from "../uri.ts";

/** A method with this symbol key turns its object into a class dict (PyroUri and PyroProxy have one). */
export const TO_PYRO_DICT: unique symbol = Symbol.for("tyro.toPyroDict");

/** An object that knows its own class dict. */
export interface PyroDictConvertible {
  /** Returns the class dict, with a `__class__` key. */
  [TO_PYRO_DICT](): Record<string, unknown>;
}

/** Converts an object into a dict; include `__class__` to have the peer rebuild it. */
export type ClassToDict<T = never> = (value: T) => Record<string, unknown>;

/** Rebuilds an object from its class dict. */
export type DictToClass = (classname: string, dict: Record<string, unknown>) => unknown;

/** A constructor of any kind. */
// deno-lint-ignore no-explicit-any
export type AnyConstructor<T = any> = abstract new (...args: any[]) => T;

/**
 * The state of a Pyro5 proxy as sent on the wire:
 * `(uri, oneway, methods, attrs, handshake, serializer)`.
 */
export interface ProxyState {
  /** The proxy's URI. */
  uri: PyroUri;
  /** Names of oneway methods. */
  oneway: Set<string>;
  /** Names of methods. */
  methods: Set<string>;
  /** Names of attributes. */
  attrs: Set<string>;
  /** The handshake data. */
  handshake: unknown;
  /** The serializer name, or null for the default. */
  serializer: string | null;
}

/** A wrapped exception inside a batch result (`Pyro5.core._ExceptionWrapper`). */
export class ExceptionWrapper {
  /** The wrapped exception. */
  readonly exception: unknown;

  /**
   * Wraps an exception.
   *
   * @param exception The exception.
   */
  constructor(exception: unknown) {
    this.exception = exception;
  }

  /**
   * The class dict Pyro5 expects.
   *
   * @returns `{"__class__": "Pyro5.core._ExceptionWrapper", "exception": {...}}`.
   */
  [TO_PYRO_DICT](): Record<string, unknown> {
    return {
      __class__: "Pyro5.core._ExceptionWrapper",
      exception: this.exception instanceof Error ? exceptionToDict(this.exception) : this.exception,
    };
  }
}

/**
 * Python's builtin exception names: a TS error whose `name` is one of these
 * is sent as `builtins.<name>`.
 */
const PY_BUILTIN_EXCEPTIONS = new Set([
  "ArithmeticError",
  "AssertionError",
  "AttributeError",
  "BaseException",
  "BlockingIOError",
  "BrokenPipeError",
  "BufferError",
  "ChildProcessError",
  "ConnectionAbortedError",
  "ConnectionError",
  "ConnectionRefusedError",
  "ConnectionResetError",
  "EOFError",
  "Exception",
  "FileExistsError",
  "FileNotFoundError",
  "FloatingPointError",
  "GeneratorExit",
  "ImportError",
  "IndentationError",
  "IndexError",
  "InterruptedError",
  "IsADirectoryError",
  "KeyError",
  "KeyboardInterrupt",
  "LookupError",
  "MemoryError",
  "ModuleNotFoundError",
  "NameError",
  "NotADirectoryError",
  "NotImplementedError",
  "OSError",
  "OverflowError",
  "PermissionError",
  "ProcessLookupError",
  "RecursionError",
  "ReferenceError",
  "RuntimeError",
  "StopAsyncIteration",
  "StopIteration",
  "SyntaxError",
  "SystemError",
  "TabError",
  "TypeError",
  "UnboundLocalError",
  "UnicodeDecodeError",
  "UnicodeEncodeError",
  "UnicodeError",
  "ValueError",
  "ZeroDivisionError",
]);

/** JS error names that have a Python builtin counterpart of another name. */
const JS_TO_PY_ERROR: Readonly<Record<string, string>> = Object.freeze(
  Object.assign(Object.create(null), {
    RangeError: "ValueError",
    ReferenceError: "NameError",
    EvalError: "Exception",
    URIError: "ValueError",
    AggregateError: "Exception",
    Error: "Exception",
  }),
);

/** Python builtin exceptions that come back as a native JS error class. */
const PY_TO_JS_ERROR: Readonly<Record<string, ErrorConstructor>> = Object.freeze(
  Object.assign(Object.create(null), {
    "builtins.TypeError": TypeError,
    "builtins.RecursionError": RangeError,
  }),
);

const ERROR_OWN_SKIP = new Set([
  "name",
  "message",
  "stack",
  "cause",
  "remoteType",
  "remoteArgs",
  "remoteTraceback",
  "remoteAttributes",
]);

/**
 * Sets a property on a decoded plain object without ever touching its
 * prototype (`__proto__` becomes an ordinary own property).
 *
 * @param obj The object.
 * @param key The key.
 * @param value The value.
 */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

/**
 * Tells whether a value is a plain data object (its prototype is
 * `Object.prototype` or null).
 *
 * @param value Any value.
 * @returns True for a plain object.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The Pyro5 wire class name for an error.
 *
 * @param err The error.
 * @param registry Consulted for registered exception classes.
 * @returns For example `builtins.ValueError` or `Pyro5.errors.NamingError`.
 */
export function exceptionClassName(err: Error, registry?: ClassRegistry): string {
  const registered = registry?.exceptionNameOf(err);
  if (registered) return registered;
  const remoteType = (err as { remoteType?: unknown }).remoteType;
  if (typeof remoteType === "string" && remoteType) return remoteType;
  const name = err.name;
  if (err instanceof PyroError && name in PYRO_ERRORS) return "Pyro5.errors." + name;
  if (name in JS_TO_PY_ERROR) return "builtins." + JS_TO_PY_ERROR[name];
  if (PY_BUILTIN_EXCEPTIONS.has(name)) return "builtins." + name;
  if (err instanceof TypeError) return "builtins.TypeError";
  if (err instanceof RangeError) return "builtins.ValueError";
  return "builtins.Exception";
}

/**
 * Converts an error to Pyro5's exception dict.
 *
 * @param err The error.
 * @param traceback Remote traceback lines to send as `_pyroTraceback`; when
 *   omitted, an existing `remoteTraceback` of the error is sent.
 * @param registry Consulted for registered exception classes.
 * @returns `{"__class__", "__exception__": true, "args", "attributes"}`.
 */
export function exceptionToDict(
  err: Error,
  traceback?: readonly string[] | null,
  registry?: ClassRegistry,
): Record<string, unknown> {
  const e = err as Error & {
    remoteArgs?: readonly unknown[];
    remoteTraceback?: readonly string[];
    remoteAttributes?: Record<string, unknown>;
  };
  const args = Array.isArray(e.remoteArgs)
    ? e.remoteArgs
    : e.message === "" && !(err instanceof PyroError)
    ? []
    : [e.message];
  const attributes: Record<string, unknown> = {};
  if (e.remoteAttributes) {
    for (const [k, v] of Object.entries(e.remoteAttributes)) setOwn(attributes, k, v);
  }
  for (const k of Object.keys(err)) {
    if (!ERROR_OWN_SKIP.has(k)) {
      setOwn(attributes, k, (err as unknown as Record<string, unknown>)[k]);
    }
  }
  const tb = traceback !== undefined ? traceback : e.remoteTraceback;
  if (tb) attributes._pyroTraceback = tb;
  return {
    __class__: exceptionClassName(err, registry),
    __exception__: true,
    args: Object.freeze([...args]),
    attributes,
  };
}

function attachRemote(
  err: Error,
  remoteType: string,
  args: readonly unknown[],
  attributes: Record<string, unknown>,
): void {
  const target = err as Error & Record<string, unknown>;
  const { _pyroTraceback, ...rest } = attributes;
  target.remoteType = remoteType;
  target.remoteArgs = args;
  target.remoteAttributes = rest;
  if (Array.isArray(_pyroTraceback)) {
    target.remoteTraceback = _pyroTraceback.map(String);
  } else if (typeof _pyroTraceback === "string") {
    target.remoteTraceback = [_pyroTraceback];
  }
  for (const k of ["remoteType", "remoteArgs", "remoteAttributes", "remoteTraceback"]) {
    if (k in target) Object.defineProperty(target, k, { enumerable: false });
  }
}

function messageOf(args: readonly unknown[]): string {
  if (args.length === 0) return "";
  if (args.length === 1) return String(args[0]);
  return args.map(String).join(", ");
}

/**
 * Converts between classes and Pyro5 class dicts. Each serializer uses
 * one; {@linkcode DEFAULT_REGISTRY} serves when none is given.
 */
export class ClassRegistry {
  #toDict = new Map<AnyConstructor, ClassToDict<never>>();
  #fromDict = new Map<string, DictToClass>();
  #exceptions = new Map<AnyConstructor<Error>, string>();
  #exceptionsByName = new Map<string, AnyConstructor<Error>>();
  #proxyFactory: ((state: ProxyState) => unknown) | null = null;
  #objectHook: ((value: object) => Record<string, unknown> | undefined) | null = null;

  /**
   * Sets a hook consulted first for every object that is not plain data;
   * it returns the object's dict, or undefined to go on as usual. The
   * daemon uses it to send registered objects as proxies (autoproxy).
   *
   * @param hook The hook, or null to remove it.
   */
  setObjectHook(hook: ((value: object) => Record<string, unknown> | undefined) | null): void {
    this.#objectHook = hook;
  }

  /**
   * Registers a function that turns instances of a class (and its
   * subclasses) into a dict. Add a `__class__` key to have a peer rebuild it.
   *
   * @param ctor The class.
   * @param convert The conversion.
   */
  registerClassToDict<T>(ctor: AnyConstructor<T>, convert: ClassToDict<T>): void {
    this.#toDict.set(ctor, convert as ClassToDict<never>);
  }

  /**
   * Removes a class-to-dict conversion.
   *
   * @param ctor The class.
   */
  unregisterClassToDict(ctor: AnyConstructor): void {
    this.#toDict.delete(ctor);
  }

  /**
   * Registers a function that rebuilds objects from dicts whose
   * `__class__` is `classname`.
   *
   * @param classname The wire class name, e.g. `mymodule.Point`.
   * @param convert The conversion.
   */
  registerDictToClass(classname: string, convert: DictToClass): void {
    this.#fromDict.set(classname, convert);
  }

  /**
   * Removes a dict-to-class conversion.
   *
   * @param classname The wire class name.
   */
  unregisterDictToClass(classname: string): void {
    this.#fromDict.delete(classname);
  }

  /**
   * Registers an error class under a wire name, both ways: thrown instances
   * are sent as `classname`, and remote exceptions of that name come back
   * as instances of the class (constructed with the message).
   *
   * @param classname The wire class name, e.g. `bank.InsufficientFunds`.
   * @param ctor The error class; its constructor takes the message first.
   */
  registerException(classname: string, ctor: new (message?: string) => Error): void {
    this.#exceptions.set(ctor, classname);
    this.#exceptionsByName.set(classname, ctor);
  }

  /**
   * The wire name registered for an error's class, if any.
   *
   * @param err The error.
   * @returns The registered name or undefined.
   */
  exceptionNameOf(err: Error): string | undefined {
    if (this.#exceptions.size === 0) return undefined;
    for (const [ctor, name] of this.#exceptions) if (err instanceof ctor) return name;
    return undefined;
  }

  /**
   * Sets how a decoded `Pyro5.client.Proxy` dict becomes a proxy. The
   * client module installs its factory in {@linkcode DEFAULT_REGISTRY};
   * without one, a proxy decodes to its {@linkcode ProxyState}.
   *
   * @param factory Builds a proxy from its state.
   */
  setProxyFactory(factory: ((state: ProxyState) => unknown) | null): void {
    this.#proxyFactory = factory;
  }

  /**
   * A copy of this registry, to extend without changing the original.
   *
   * @returns The copy.
   */
  copy(): ClassRegistry {
    const c = new ClassRegistry();
    for (const [k, v] of this.#toDict) c.#toDict.set(k, v);
    for (const [k, v] of this.#fromDict) c.#fromDict.set(k, v);
    for (const [k, v] of this.#exceptions) c.#exceptions.set(k, v);
    for (const [k, v] of this.#exceptionsByName) c.#exceptionsByName.set(k, v);
    c.#proxyFactory = this.#proxyFactory;
    c.#objectHook = this.#objectHook;
    return c;
  }

  /**
   * Converts an object that is not plain data into a dict. Encoders call
   * this for every object they do not handle themselves.
   *
   * @param value The object.
   * @returns Its dict; it has a `__class__` key unless a registered converter left it out.
   * @throws {SerializeError} When the value cannot be represented.
   */
  toDict(value: object): Record<string, unknown> {
    if (this.#objectHook) {
      const hooked = this.#objectHook(value);
      if (hooked) return hooked;
    }
    const own = (value as Partial<PyroDictConvertible>)[TO_PYRO_DICT];
    if (typeof own === "function") return own.call(value);
    if (this.#toDict.size > 0) {
      for (const [ctor, convert] of this.#toDict) {
        if (value instanceof ctor) return (convert as ClassToDict<object>)(value);
      }
    }
    if (value instanceof Error) return exceptionToDict(value, undefined, this);
    if (typeof value === "function") {
      throw new SerializeError(`Cannot serialize a function (${value.name || "anonymous"})`);
    }
    if (typeof value === "symbol") throw new SerializeError("Cannot serialize a symbol");
    const result: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      setOwn(result, k, (value as Record<string, unknown>)[k]);
    }
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    result.__class__ = typeof name === "string" && name ? name : "object";
    return result;
  }

  /**
   * Rebuilds a value from a decoded dict that has a `__class__` key.
   * Unknown non-exception classes stay as their dict.
   *
   * @param dict The decoded dict.
   * @returns The rebuilt value.
   * @throws {SecurityError} For class names with a double underscore, as Pyro5.
   */
  fromDict(dict: Record<string, unknown>): unknown {
    const classname = String(dict.__class__);
    const custom = this.#fromDict.get(classname);
    if (custom) return custom(classname, dict);
    if (classname === "float" && typeof dict.value === "string") return pyFloatFromText(dict.value);
    if (classname.includes("__")) {
      throw new SecurityError(
        "refused to deserialize types with double underscores in their name: " + classname,
      );
    }
    switch (classname) {
      case "Pyro5.core.URI":
        return PyroUri.fromState(dict.state);
      case "Pyro5.client.Proxy":
      case "Pyro5.client._StreamResultIterator": {
        const state = proxyStateFrom(dict.state);
        return this.#proxyFactory ? this.#proxyFactory(state) : state;
      }
      case "Pyro5.core._ExceptionWrapper": {
        let ex = dict.exception;
        if (isPlainObject(ex) && "__class__" in ex) ex = this.fromDict(ex);
        return new ExceptionWrapper(ex);
      }
    }
    if (dict.__exception__ === true || classname.startsWith("Pyro5.errors.")) {
      return this.makeException(classname, dict);
    }
    return dict;
  }

  /**
   * Builds the TS error for a remote exception dict.
   *
   * @param classname The remote class name.
   * @param dict The exception dict (`args`, `attributes`).
   * @returns A registered error class, a Tyro PyroError subclass, a native
   *   TypeError/RangeError, or a {@linkcode RemoteError}.
   */
  makeException(classname: string, dict: Record<string, unknown>): Error {
    const args: readonly unknown[] = Array.isArray(dict.args) ? dict.args : [];
    const attributes = isPlainObject(dict.attributes) ? dict.attributes : {};
    const message = messageOf(args);
    let err: Error;
    const registered = this.#exceptionsByName.get(classname);
    if (registered) {
      err = new (registered as new (message?: string) => Error)(message);
    } else if (classname.startsWith("Pyro5.errors.")) {
      const ctor = PYRO_ERRORS[classname.slice(13)] ?? CommunicationError;
      err = new ctor(message);
    } else if (classname in PY_TO_JS_ERROR) {
      err = new PY_TO_JS_ERROR[classname](message);
    } else {
      err = new RemoteError(classname, args, {});
    }
    attachRemote(err, classname, args, attributes);
    return err;
  }
}

function pyFloatFromText(text: string): number {
  switch (text.trim().toLowerCase()) {
    case "nan":
    case "+nan":
    case "-nan":
      return NaN;
    case "inf":
    case "+inf":
    case "infinity":
      return Infinity;
    case "-inf":
    case "-infinity":
      return -Infinity;
  }
  const n = Number(text);
  if (Number.isNaN(n)) throw new SerializeError(`Cannot decode float: ${text}`);
  return n;
}

function nameSet(value: unknown): Set<string> {
  if (value instanceof Set || Array.isArray(value)) return new Set([...value].map(String));
  return new Set();
}

function proxyStateFrom(state: unknown): ProxyState {
  if (!Array.isArray(state) || state.length < 5) {
    throw new SerializeError("Cannot decode proxy: state is not a 6-tuple");
  }
  const [uri, oneway, methods, attrs, handshake, serializer] = state;
  return {
    uri: uri instanceof PyroUri ? uri : new PyroUri(String(uri)),
    oneway: nameSet(oneway),
    methods: nameSet(methods),
    attrs: nameSet(attrs),
    handshake,
    serializer: typeof serializer === "string" ? serializer : null,
  };
}

/**
 * Pyro5's class dict for a URI.
 *
 * @param uri The URI.
 * @returns `{"__class__": "Pyro5.core.URI", "state": (...)}`.
 */
export function uriToDict(uri: PyroUri): Record<string, unknown> {
  return { __class__: "Pyro5.core.URI", state: uri.state() };
}

Object.defineProperty(PyroUri.prototype, TO_PYRO_DICT, {
  value: function (this: PyroUri) {
    return uriToDict(this);
  },
  enumerable: false,
});

/**
 * The registry serializers use when none is given. The client module
 * installs its proxy factory here.
 */
export const DEFAULT_REGISTRY: ClassRegistry = new ClassRegistry();

/**
 * Turns serpent's and json's bytes dict `{"data": base64, "encoding": "base64"}`
 * into bytes; returns undefined for any other dict.
 *
 * @param dict A decoded dict.
 * @returns The bytes, or undefined.
 */
export function bytesFromDict(dict: Record<string, unknown>): Uint8Array | undefined {
  if (dict.encoding !== "base64" || typeof dict.data !== "string") return undefined;
  let n = 0;
  for (const _ in dict) if (++n > 2) return undefined;
  return base64Decode(dict.data);
}

const NATIVE_B64 = typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64 ===
  "function";
/**
 * Node's and Bun's `Buffer`, for base64 where `Uint8Array` has no native
 * codec (Node 20): the alternative is a JavaScript loop over every byte.
 */
const NODE_BUFFER = NATIVE_B64 ? undefined : (globalThis as {
  Buffer?: {
    from(
      buffer: ArrayBufferLike,
      offset: number,
      length: number,
    ): { toString(e: "base64"): string };
    from(text: string, encoding: "base64"): Uint8Array;
  };
}).Buffer;
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_LOOKUP = (() => {
  const t = new Int16Array(256).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  t["-".charCodeAt(0)] = 62;
  t["_".charCodeAt(0)] = 63;
  return t;
})();

/**
 * Encodes bytes as standard base64 with padding.
 *
 * @param bytes The bytes.
 * @returns The base64 text.
 */
export function base64Encode(bytes: Uint8Array): string {
  if (NATIVE_B64) return (bytes as Uint8Array & { toBase64(): string }).toBase64();
  if (NODE_BUFFER) {
    return NODE_BUFFER.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");
  }
  // btoa over a binary string made in chunks: native, and no per-character string concatenation
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return btoa(bin);
}

/**
 * Decodes padded standard base64 with no whitespace into a buffer of the
 * exact size (about twice as fast as `Uint8Array.fromBase64`). A success
 * also proves the text holds nothing else: no escapes, no line breaks.
 *
 * @param text The base64 text.
 * @returns The bytes, or undefined when the text is not in that strict form
 *   (or the platform has no native base64).
 * @throws {SyntaxError} On a character outside the alphabet (native decoder).
 * @internal
 */
export function base64DecodeExact(text: string): Uint8Array | undefined {
  const n = text.length;
  if (n % 4 !== 0) return undefined;
  const pad = text.charCodeAt(n - 1) === 61 ? (text.charCodeAt(n - 2) === 61 ? 2 : 1) : 0;
  const size = (n / 4) * 3 - pad;
  if (!NATIVE_B64) {
    if (!NODE_BUFFER) return undefined;
    // Buffer skips what is not base64: only the full size proves there was nothing else
    const b = NODE_BUFFER.from(text, "base64");
    if (b.length !== size) return undefined;
    // a small Buffer is a view of Node's shared pool: a copy of its own
    return b.byteLength === b.buffer.byteLength
      ? new Uint8Array(b.buffer, b.byteOffset, b.length)
      : new Uint8Array(b);
  }
  const out = new Uint8Array(size);
  const r = (out as Uint8Array & {
    setFromBase64(t: string): { read: number; written: number };
  }).setFromBase64(text);
  return r.read === n && r.written === out.length ? out : undefined;
}

/**
 * Decodes base64 (standard or url-safe alphabet; whitespace and padding ignored).
 *
 * @param text The base64 text.
 * @returns The bytes.
 * @throws {SerializeError} On a character outside the alphabet.
 */
export function base64Decode(text: string): Uint8Array {
  if (NATIVE_B64 && text.length > 16) {
    try {
      return base64DecodeExact(text) ??
        (Uint8Array as unknown as { fromBase64(t: string): Uint8Array }).fromBase64(text);
    } catch {
      // fall through to the lenient decoder (url-safe alphabet, odd padding)
    }
  } else if (text.length > 16) {
    const exact = base64DecodeExact(text); // Node's Buffer, where there is one
    if (exact) return exact;
    let bin: string | undefined;
    try {
      bin = atob(text);
    } catch { /* the lenient decoder below */ }
    if (bin !== undefined) {
      const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    }
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 61 || c === 10 || c === 13 || c === 32 || c === 9) continue;
    const v = c < 256 ? B64_LOOKUP[c] : -1;
    if (v < 0) throw new SerializeError(`Cannot decode base64: bad character at offset ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}
