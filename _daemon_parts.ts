/**
 * The daemon's supporting types and small parts: options, the logger,
 * client sessions, the `Pyro.Daemon` object and the proxy reference that
 * autoproxy sends.
 *
 * @internal
 * @module
 */

import type { CallContext, ClientSession } from "./_call.ts";
import type { PyroConfig } from "./config.ts";
import type { ExposedMembers, ExposeOptions } from "./expose.ts";
import type { Message } from "./protocol/message.ts";
import { type ClassRegistry, TO_PYRO_DICT } from "./serializers/registry.ts";
import type { Listener } from "./transport/types.ts";
import type { PyroUri } from "./uri.ts";

/** What DaemonObject needs of its daemon. */
export interface DaemonLike {
  registered(): string[];
  readonly locationStr: string;
  readonly natLocationStr: string | null;
  metadataFor(objectId: string): ExposedMembers;
  nextStreamItem(streamId: string): Promise<unknown>;
  closeStreamById(streamId: string): void;
}

/** A logger the daemon reports to; the library itself never prints. */
export interface Logger {
  /** Debug detail. */
  debug(message: string, ...data: unknown[]): void;
  /** Noteworthy events. */
  info(message: string, ...data: unknown[]): void;
  /** Problems that cost one connection or call. */
  warn(message: string, ...data: unknown[]): void;
  /** Problems of the daemon itself. */
  error(message: string, ...data: unknown[]): void;
}

/** A logger that drops everything. */
export const SILENT_LOGGER: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/** Options of a {@linkcode Daemon}. */
export interface DaemonOptions {
  /**
   * Host name or address to bind to (`::` or an IPv6 address for IPv6).
   *
   * @default {config.HOST ("localhost")}
   */
  host?: string;
  /**
   * Port to bind to; 0 picks a free one.
   *
   * @default {0}
   */
  port?: number;
  /** Bind to this unix domain socket path instead of TCP. */
  unixSocket?: string;
  /** Host name put in URIs instead of the bound one (NAT). */
  nathost?: string;
  /** Port put in URIs instead of the bound one (NAT). */
  natport?: number;
  /** Serve connections from this listener instead of binding a socket (e.g. TLS). */
  listener?: Listener;
  /**
   * Bind a socket at all. With `false` the daemon only serves what is
   * handed to {@linkcode Daemon.handleConnection} or {@linkcode Daemon.openSession};
   * `location` then names it in URIs.
   *
   * @default {true}
   */
  bind?: boolean;
  /** The location used in URIs when not bound (e.g. `myhost:9999`). */
  location?: string;
  /** Pyro5 configuration items. */
  config?: Partial<PyroConfig>;
  /** Class registry for (de)serialization. A copy is made. */
  registry?: ClassRegistry;
  /** Where the daemon reports dropped connections and errors. */
  logger?: Logger;
  /**
   * Checks a client's handshake data; return the handshake response, or
   * throw to refuse the connection (the message goes to the client).
   */
  validateHandshake?: (session: ClientSession, data: unknown) => unknown;
  /** Called when a client connection ends. */
  onDisconnect?: (session: ClientSession) => void;
  /** Annotations added to every response. */
  annotations?: (
    ctx: CallContext | null,
  ) => Record<string, Uint8Array> | Map<string, Uint8Array> | undefined;
}

/** Options of {@linkcode Daemon.register}. */
export interface RegisterOptions {
  /** Replace an object already registered under the id. */
  force?: boolean;
  /** Expose members of an undecorated object. */
  expose?: ExposeOptions;
}

/** Options of {@linkcode Daemon.serve}. */
export interface ServeOptions {
  /** Stops serving (and closes the daemon) when aborted. */
  signal?: AbortSignal;
}

/** A session handed out by {@linkcode Daemon.openSession}. */
export interface DaemonSession {
  /** The session as methods see it. */
  readonly session: ClientSession;
  /**
   * Handles one decoded message; replies go to the session's `send`.
   *
   * @param msg The message.
   * @returns Resolves when the message is answered.
   */
  receive(msg: Message): Promise<void>;
  /** Ends the session (closes its item streams, runs the disconnect hook). */
  close(): void;
}

export interface Registration {
  object: unknown;
  members: ExposedMembers;
  isClass: boolean;
}

export class SessionImpl implements ClientSession {
  static #next = 1;
  readonly id = SessionImpl.#next++;
  handshake: unknown = undefined;
  readonly data = new Map<string, unknown>();
  readonly instances = new Map<unknown, unknown>();
  connected = false;
  /** The handshake was refused: later messages (pipelined calls) are dropped. */
  refused = false;
  /** The open session: `finish(true)` closes the connection once what was sent is written. */
  link: { finish(graceful?: boolean): void } | undefined;
  handshaking: Promise<void> | null = null;
  inFlight = 0;
  waiting: (() => void)[] = [];
  constructor(readonly remoteAddr: unknown, readonly peerCertificate?: unknown) {}
}

export class StopIterationError extends Error {
  constructor() {
    super("");
    this.name = "StopIteration";
  }
}

export function attributeError(message: string): Error {
  const e = new Error(message);
  e.name = "AttributeError";
  return e;
}

/** Formats a JS error's stack as Python traceback lines. */
export function formatTraceback(err: unknown, pyClass?: string): string[] {
  const lines = ["Traceback (most recent call last):\n"];
  const e = err instanceof Error ? err : new Error(String(err));
  const frames = (e.stack ?? "").split("\n").slice(1).map((l) => l.trim()).filter((l) =>
    l.startsWith("at ")
  );
  for (const f of frames.reverse()) {
    const m = /^at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/.exec(f);
    if (m) lines.push(`  File "${m[2]}", line ${m[3]}, in ${m[1] ?? "<module>"}\n`);
    else lines.push(`  ${f}\n`);
  }
  const name = pyClass ? pyClass.slice(pyClass.lastIndexOf(".") + 1) : e.name;
  lines.push(e.message ? `${name}: ${e.message}\n` : `${name}\n`);
  return lines;
}

export function isStreamable(v: unknown): v is Iterator<unknown> | AsyncIterator<unknown> {
  if (v === null || typeof v !== "object") return false;
  if (Array.isArray(v) || v instanceof Map || v instanceof Set || ArrayBuffer.isView(v)) {
    return false;
  }
  const o = v as Record<symbol | string, unknown>;
  if (typeof o[Symbol.asyncIterator] === "function" && typeof o.next === "function") return true;
  return typeof o.next === "function" && typeof o[Symbol.iterator] === "function";
}

export async function removeFile(path: string): Promise<void> {
  try {
    const fs = await import("node:fs/promises");
    await fs.unlink(path);
  } catch { /* gone */ }
}

/** A registered object as it travels: it serializes as a Pyro5 proxy. */
export class ProxyRef {
  /**
   * Describes a registered object.
   *
   * @param uri The object's URI.
   * @param members Its exposed members.
   */
  constructor(readonly uri: PyroUri, readonly members: ExposedMembers) {}

  /**
   * The proxy's class dict.
   *
   * @returns `{"__class__": "Pyro5.client.Proxy", "state": (...)}`.
   */
  [TO_PYRO_DICT](): Record<string, unknown> {
    const m = this.members;
    return {
      __class__: "Pyro5.client.Proxy",
      state: Object.freeze([
        this.uri.toString(),
        Object.freeze([...m.oneway]),
        Object.freeze([...m.methods]),
        Object.freeze([...m.attrs]),
        "hello",
        null,
      ]),
    };
  }
}

/** The daemon's own object, `Pyro.Daemon`, as Pyro5's DaemonObject. */
export class DaemonObject {
  readonly #daemon: DaemonLike;
  constructor(daemon: DaemonLike) {
    this.#daemon = daemon;
  }
  registered(): string[] {
    return this.#daemon.registered();
  }
  ping(): null {
    return null;
  }
  info(): string {
    return `Pyro.Daemon bound on ${this.#daemon.locationStr}, NAT ${this.#daemon.natLocationStr}, ${this.#daemon.registered().length} objects registered. Servertype: tyro`;
  }
  get_metadata(objectId: string): ExposedMembers {
    return this.#daemon.metadataFor(objectId);
  }
  get_next_stream_item(streamId: string): Promise<unknown> {
    return this.#daemon.nextStreamItem(streamId);
  }
  close_stream(streamId: string): null {
    this.#daemon.closeStreamById(streamId);
    return null;
  }
}
