/**
 * The Tyro error tree. It mirrors Pyro5's `Pyro5.errors` module so that a
 * Pyro5 peer sees the exception type it expects, and a remote Pyro5
 * exception arrives here as the matching class.
 *
 * ```
 * PyroError
 * ├── CommunicationError
 * │   ├── ConnectionClosedError
 * │   ├── TimeoutError
 * │   └── ProtocolError
 * │       ├── MessageTooLargeError
 * │       └── SerializeError
 * ├── NamingError
 * ├── DaemonError
 * └── SecurityError
 * RemoteError        a remote exception without a closer TS class
 * ```
 *
 * @example Catch a name server error
 * ```ts
 * import { NamingError, PyroError } from "@tyro/tyro";
 * import assert from "node:assert/strict";
 *
 * const err = new NamingError("unknown name: x");
 * assert.ok(err instanceof PyroError);
 * assert.equal(err.name, "NamingError");
 * ```
 *
 * @module
 */

/** What a remote exception carried besides its message. */
export interface RemoteErrorInfo {
  /** The remote exception's qualified class name, e.g. `builtins.ValueError`. */
  remoteType: string;
  /** The exception's `args` as sent. */
  remoteArgs: readonly unknown[];
  /** The remote traceback lines (Pyro5's `_pyroTraceback`), when sent. */
  remoteTraceback?: readonly string[];
  /** Other attributes the remote exception carried. */
  remoteAttributes: Record<string, unknown>;
}

/** Generic base of all Pyro-specific errors (`Pyro5.errors.PyroError`). */
export class PyroError extends Error {
  /** Qualified remote class name when this error came over the wire. */
  remoteType?: string;
  /** Remote exception `args` when this error came over the wire. */
  remoteArgs?: readonly unknown[];
  /** Remote traceback lines (Pyro5's `_pyroTraceback`), when this error came over the wire. */
  remoteTraceback?: readonly string[];
  /** Other attributes of the remote exception. */
  remoteAttributes?: Record<string, unknown>;

  /**
   * Creates an error.
   *
   * @param message What went wrong.
   * @param options The standard `ErrorOptions`, e.g. `{ cause }`.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Base of errors of network communication (`Pyro5.errors.CommunicationError`). */
export class CommunicationError extends PyroError {}

/** The connection was closed unexpectedly (`Pyro5.errors.ConnectionClosedError`). */
export class ConnectionClosedError extends CommunicationError {}

/** A call or connect took longer than allowed (`Pyro5.errors.TimeoutError`). */
export class TimeoutError extends CommunicationError {}

/** A message did not follow the wire protocol (`Pyro5.errors.ProtocolError`). */
export class ProtocolError extends CommunicationError {}

/** A message exceeds the maximum message size (`Pyro5.errors.MessageTooLargeError`). */
export class MessageTooLargeError extends ProtocolError {}

/** Data could not be serialized or deserialized (`Pyro5.errors.SerializeError`). */
export class SerializeError extends ProtocolError {}

/** A problem with the name server or object names (`Pyro5.errors.NamingError`). */
export class NamingError extends PyroError {}

/** The daemon encountered a problem (`Pyro5.errors.DaemonError`). */
export class DaemonError extends PyroError {}

/** A security related problem (`Pyro5.errors.SecurityError`). */
export class SecurityError extends PyroError {}

/**
 * A remote exception for which no closer TS class exists, for example a
 * Python `builtins.ValueError` or a user exception class. `remoteType`
 * names the remote class and `remoteTraceback` holds its traceback.
 *
 * @example Inspect a remote error
 * ```ts
 * import { RemoteError } from "@tyro/tyro";
 * import assert from "node:assert/strict";
 *
 * const err = new RemoteError("builtins.ValueError", ["bad value"]);
 * assert.equal(err.message, "bad value");
 * assert.equal(err.name, "ValueError");
 * ```
 */
export class RemoteError extends Error {
  /** Qualified remote class name, e.g. `builtins.ValueError`. */
  remoteType: string;
  /** The remote exception's `args`. */
  remoteArgs: readonly unknown[];
  /** Remote traceback lines (Pyro5's `_pyroTraceback`), when sent. */
  remoteTraceback?: readonly string[];
  /** Other attributes of the remote exception. */
  remoteAttributes: Record<string, unknown>;

  /**
   * Creates a remote error.
   *
   * @param remoteType The qualified remote class name.
   * @param args The remote exception's `args`; the first string becomes the message.
   * @param attributes Other remote attributes.
   */
  constructor(
    remoteType: string,
    args: readonly unknown[] = [],
    attributes: Record<string, unknown> = {},
  ) {
    super(
      args.length === 1 ? String(args[0]) : args.length === 0 ? "" : args.map(String).join(", "),
    );
    const dot = remoteType.lastIndexOf(".");
    this.name = dot >= 0 ? remoteType.slice(dot + 1) : remoteType;
    this.remoteType = remoteType;
    this.remoteArgs = args;
    this.remoteAttributes = attributes;
  }
}

/**
 * The Pyro5 error classes by their short name, as used in the wire name
 * `Pyro5.errors.<Name>`.
 */
export const PYRO_ERRORS: Readonly<Record<string, typeof PyroError>> = Object.freeze(
  Object.assign(Object.create(null), {
    PyroError,
    CommunicationError,
    ConnectionClosedError,
    TimeoutError,
    ProtocolError,
    MessageTooLargeError,
    SerializeError,
    NamingError,
    DaemonError,
    SecurityError,
  }),
);

/**
 * Returns the remote traceback of an error that came over the wire, joined
 * into one string, or an empty string when there is none.
 *
 * @param err Any value caught from a remote call.
 * @returns The remote traceback text.
 *
 * @example Print a remote traceback
 * ```ts
 * import { getRemoteTraceback, RemoteError } from "@tyro/tyro";
 * import assert from "node:assert/strict";
 *
 * const err = new RemoteError("builtins.ValueError", ["x"]);
 * err.remoteTraceback = ["Traceback (most recent call last):\n", "ValueError: x\n"];
 * assert.equal(getRemoteTraceback(err), "Traceback (most recent call last):\nValueError: x\n");
 * ```
 */
export function getRemoteTraceback(err: unknown): string {
  if (typeof err !== "object" || err === null) return "";
  const tb = (err as { remoteTraceback?: unknown }).remoteTraceback;
  if (Array.isArray(tb)) return tb.join("");
  return typeof tb === "string" ? tb : "";
}
