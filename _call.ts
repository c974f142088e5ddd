/**
 * The call context (correlation id, annotations, client) that reaches
 * server methods during a call, and keyword-argument binding.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";

/** What a server method can learn about the call it is serving. */
export interface CallContext {
  /** The correlation id of the request (16 bytes), or null. */
  correlationId: Uint8Array | null;
  /** Annotations the client sent with the request. */
  annotations: ReadonlyMap<string, Uint8Array>;
  /** Annotations to add to the response; set entries here. */
  responseAnnotations: Map<string, Uint8Array>;
  /** The request's sequence number. */
  seq: number;
  /** The serializer id of the request. */
  serializerId: number;
  /** The request's flags. */
  flags: number;
  /** The client connection's session. */
  client: ClientSession | null;
}

/** A client connection as the daemon sees it. */
export interface ClientSession {
  /** A unique id for this connection. */
  readonly id: number;
  /** The peer address, when the transport has one. */
  readonly remoteAddr: unknown;
  /** The handshake data the client sent. */
  handshake: unknown;
  /** The peer's TLS certificate, when the transport is TLS with client certificates. */
  readonly peerCertificate?: unknown;
  /** Free storage for the application (e.g. an authenticated user). */
  readonly data: Map<string, unknown>;
}

const storage = new AsyncLocalStorage<CallContext>();

/** The context of a plain (non-async) method while it runs. */
let syncContext: CallContext | undefined;

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => unknown;
const AsyncFunction = (async () => {}).constructor;
const AsyncGeneratorFunction = (async function* () {}).constructor;

/**
 * The context of the call being served, or undefined outside a call.
 *
 * @returns The call context.
 *
 * @example Read the correlation id inside a method
 * ```ts
 * import { currentContext } from "@tyro/tyro/server";
 * import assert from "node:assert/strict";
 *
 * assert.equal(currentContext(), undefined); // not inside a remote call
 * ```
 */
export function currentContext(): CallContext | undefined {
  return syncContext ?? storage.getStore();
}

/**
 * Calls a server method with `ctx` as its call context. Async functions
 * run inside an AsyncLocalStorage frame, so the context survives their
 * awaits; plain functions only set it while they run, which saves the
 * frame's cost on every call. (A plain function that returns a promise
 * and reads the context after an await of its own does not see it.)
 *
 * @param ctx The context.
 * @param fn The method.
 * @param thisArg Its receiver.
 * @param args Its arguments.
 * @returns What the method returns.
 */
export function callWithContext(
  ctx: CallContext,
  fn: AnyFunction,
  thisArg: unknown,
  args: readonly unknown[],
): unknown {
  if (fn instanceof AsyncFunction || fn instanceof AsyncGeneratorFunction) {
    return storage.run(ctx, () => fn.apply(thisArg, args as unknown[]));
  }
  const previous = syncContext;
  syncContext = ctx;
  try {
    return fn.apply(thisArg, args as unknown[]);
  } finally {
    syncContext = previous;
  }
}

/**
 * Tells whether a value is a promise-like.
 *
 * @param value Any value.
 * @returns True when it has a `then` method.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}

/**
 * Runs `fn` with `ctx` as the current call context.
 *
 * @param ctx The context.
 * @param fn The work.
 * @returns What `fn` returns.
 */
export function runWithContext<T>(ctx: CallContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

const paramCache = new WeakMap<object, string[] | null>();

/**
 * The parameter names of a function, read from its source; null when they
 * cannot be read (native functions, destructured parameters).
 *
 * @param fn The function.
 * @returns The names in order.
 */
export function paramNames(fn: (...args: never[]) => unknown): string[] | null {
  if (paramCache.has(fn)) return paramCache.get(fn)!;
  let names: string[] | null = null;
  try {
    const src = Function.prototype.toString.call(fn);
    const open = src.indexOf("(");
    if (open >= 0 && !src.includes("[native code]")) {
      let depth = 0, i = open, start = open + 1;
      const parts: string[] = [];
      for (; i < src.length; i++) {
        const c = src[i];
        if (c === "(" || c === "[" || c === "{") depth++;
        else if (c === ")" || c === "]" || c === "}") {
          depth--;
          if (depth === 0) {
            parts.push(src.slice(start, i));
            break;
          }
        } else if (c === "," && depth === 1) {
          parts.push(src.slice(start, i));
          start = i + 1;
        }
      }
      names = [];
      for (const p of parts) {
        const t = p.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "").trim();
        if (!t) continue;
        const m = /^(?:\.\.\.)?([A-Za-z_$][\w$]*)/.exec(t);
        if (!m) {
          names = null;
          break;
        }
        names.push(m[1]);
      }
    }
  } catch {
    names = null;
  }
  paramCache.set(fn, names);
  return names;
}

/**
 * Merges Python keyword arguments into positional ones by parameter name.
 * Keywords that match no parameter go into a last parameter named
 * `kwargs`, if the function has one.
 *
 * @param fn The function to call.
 * @param name The method name, for error messages.
 * @param args Positional arguments.
 * @param kwargs Keyword arguments, or null.
 * @returns The arguments to call with (`args` itself when there are no keyword arguments).
 * @throws {TypeError} Python's messages for unexpected or duplicate keywords.
 */
export function bindArguments(
  fn: (...args: never[]) => unknown,
  name: string,
  args: readonly unknown[],
  kwargs: Record<string, unknown> | null,
): unknown[] {
  // no keyword arguments (the usual call): the positional ones as they are, not copied
  if (!kwargs || isEmpty(kwargs)) return args as unknown[];
  const out = [...args];
  const keys = Object.keys(kwargs);
  const names = paramNames(fn) ?? [];
  const extra: Record<string, unknown> = {};
  let hasExtra = false;
  const kwIndex = names[names.length - 1] === "kwargs" ? names.length - 1 : -1;
  for (const k of keys) {
    const i = names.indexOf(k);
    if (i >= 0 && i !== kwIndex) {
      if (i < args.length) throw new TypeError(`${name}() got multiple values for argument '${k}'`);
      out[i] = kwargs[k];
    } else if (kwIndex >= 0) {
      Object.defineProperty(extra, k, {
        value: kwargs[k],
        enumerable: true,
        writable: true,
        configurable: true,
      });
      hasExtra = true;
    } else {
      throw new TypeError(`${name}() got an unexpected keyword argument '${k}'`);
    }
  }
  if (hasExtra) out[kwIndex] = extra;
  return out;
}

/** Whether an object has no enumerable key. */
function isEmpty(o: Record<string, unknown>): boolean {
  for (const _ in o) return false;
  return true;
}
