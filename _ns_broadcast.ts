/**
 * Name server discovery by UDP broadcast, as Pyro5 does it: a client sends
 * the 9 bytes `GET_NSURI` to the broadcast port (9091); every name server's
 * responder answers with its URI text (ISO-8859-1).
 *
 * @module
 */

import dgram from "node:dgram";
import { Buffer } from "node:buffer";
import { networkInterfaces } from "node:os";
import { PyroUri } from "./uri.ts";

/** The request a client broadcasts. */
export const GET_NSURI = "GET_NSURI";

/** Options of {@linkcode BroadcastServer.create}. */
export interface BroadcastServerOptions {
  /**
   * Address to bind to; empty or null for all interfaces.
   *
   * @default {""}
   */
  bchost?: string | null;
  /**
   * UDP port; 0 picks a free one.
   *
   * @default {9091}
   */
  bcport?: number;
  /** Bind an IPv6 socket (Pyro5 does when the name server is on IPv6). */
  ipv6?: boolean;
  /**
   * Set SO_REUSEADDR.
   *
   * @default {true}
   */
  reuseAddr?: boolean;
  /** Called with problems answering a request (the library never prints). */
  onError?: (error: unknown) => void;
}

/**
 * The UDP responder that answers `GET_NSURI` with the name server's URI.
 * When the URI's host is `0.0.0.0`, the answer names the interface address
 * on the requester's network instead (as Pyro5 does).
 */
export class BroadcastServer implements AsyncDisposable {
  /** The name server URI it answers with. */
  readonly nsUri: PyroUri;
  /** `host:port` (or `[ipv6]:port`) the responder is bound on. */
  readonly locationStr: string;
  readonly #sock: dgram.Socket;
  #closed = false;

  private constructor(
    nsUri: PyroUri,
    sock: dgram.Socket,
    locationStr: string,
    onError?: (e: unknown) => void,
  ) {
    this.nsUri = nsUri;
    this.#sock = sock;
    this.locationStr = locationStr;
    sock.on("message", (data, rinfo) => {
      try {
        this.#answer(data, rinfo);
      } catch (e) {
        onError?.(e);
      }
    });
    sock.on("error", (e) => onError?.(e));
  }

  /**
   * Binds the responder and starts answering.
   *
   * @param nsUri The name server URI to answer with.
   * @param options Where to bind.
   * @returns The running responder.
   * @throws {Error} When the port cannot be bound.
   */
  static async create(
    nsUri: PyroUri | string,
    options: BroadcastServerOptions = {},
  ): Promise<BroadcastServer> {
    const uri = nsUri instanceof PyroUri ? nsUri : new PyroUri(nsUri);
    const ipv6 = options.ipv6 || (uri.host?.includes(":") ?? false);
    let bchost = options.bchost || (ipv6 ? "::" : "0.0.0.0");
    if (bchost.startsWith("[") && bchost.endsWith("]")) bchost = bchost.slice(1, -1);
    const sock = dgram.createSocket({
      type: ipv6 ? "udp6" : "udp4",
      reuseAddr: options.reuseAddr ?? true,
    });
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(options.bcport ?? 9091, bchost, () => {
        sock.off("error", reject);
        resolve();
      });
    }).catch((e) => {
      sock.close();
      throw e;
    });
    try {
      sock.setBroadcast(true);
    } catch { /* not needed to answer */ }
    const port = sock.address().port;
    const host = options.bchost || sock.address().address;
    const location = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    return new BroadcastServer(uri, sock, location, options.onError);
  }

  /**
   * The bound UDP port.
   *
   * @returns The port.
   */
  get port(): number {
    return this.#sock.address().port;
  }

  #answer(data: Uint8Array, rinfo: dgram.RemoteInfo): void {
    if (this.#closed || data.length !== GET_NSURI.length || latin1(data) !== GET_NSURI) return;
    const reply = new PyroUri(this.nsUri);
    if (reply.host === "0.0.0.0") {
      const ip = interfaceFor(rinfo.address);
      if (ip) reply.host = ip;
    }
    this.#sock.send(Buffer.from(reply.toString(), "latin1"), rinfo.port, rinfo.address);
  }

  /** Stops answering and frees the port. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sock.close();
  }

  /** Closes the responder (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

function latin1(data: Uint8Array): string {
  let s = "";
  for (const b of data) s += String.fromCharCode(b);
  return s;
}

function ipv4ToInt(ip: string): number | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d+$/.test(p) || v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

/**
 * The local IPv4 address on the same network as `peer` (Pyro5's
 * `get_interface`), or null when it cannot be told.
 */
function interfaceFor(peer: string): string | null {
  const p = ipv4ToInt(peer.replace(/^::ffff:/, ""));
  if (p === null) return null;
  if (p >>> 24 === 127) return "127.0.0.1";
  let interfaces: { family: string | number; address: string; netmask: string }[];
  try {
    interfaces = Object.values(networkInterfaces()).flat().filter((i) => i !== undefined);
  } catch {
    return null;
  }
  for (const i of interfaces) {
    if (i.family !== "IPv4" && i.family !== 4) continue;
    const a = ipv4ToInt(i.address), m = ipv4ToInt(i.netmask);
    if (a === null || m === null) continue;
    if (((a & m) >>> 0) === ((p & m) >>> 0)) return i.address;
  }
  return null;
}

/** Options of {@linkcode broadcastLocate}. */
export interface BroadcastLocateOptions {
  /**
   * Addresses to send to; `<broadcast>` means 255.255.255.255.
   *
   * @default {["<broadcast>", "0.0.0.0"]}
   */
  addresses?: readonly string[];
  /**
   * Milliseconds to wait for an answer in each round.
   *
   * @default {700}
   */
  timeoutMs?: number;
  /**
   * Rounds of requests.
   *
   * @default {3}
   */
  rounds?: number;
  /** Aborts the search (it then returns null). */
  signal?: AbortSignal;
}

/**
 * Broadcasts `GET_NSURI` on `port` and returns the first name server URI
 * text that answers, or null when none does.
 *
 * @param port The broadcast port (Pyro5's NS_BCPORT, 9091).
 * @param options Addresses, timeout and rounds.
 * @returns The URI text, or null.
 */
export async function broadcastLocate(
  port: number,
  options: BroadcastLocateOptions = {},
): Promise<string | null> {
  const addresses = (options.addresses ?? ["<broadcast>", "0.0.0.0"]).map((a) =>
    a === "<broadcast>" ? "255.255.255.255" : a
  );
  const sock = dgram.createSocket({ type: "udp4", reuseAddr: true });
  let resolve!: (value: string | null) => void;
  const answer = new Promise<string | null>((r) => resolve = r);
  sock.on("message", (msg) => resolve(latin1(msg)));
  sock.on("error", () => {});
  const onAbort = () => resolve(null);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await new Promise<void>((res, rej) => {
      sock.once("error", rej);
      sock.bind(0, () => {
        sock.off("error", rej);
        res();
      });
    });
    try {
      sock.setBroadcast(true);
    } catch { /* sends to broadcast addresses fail; others still work */ }
    const request = Buffer.from(GET_NSURI, "latin1");
    for (let round = 0; round < (options.rounds ?? 3); round++) {
      if (options.signal?.aborted) return null;
      for (const addr of addresses) {
        // errors such as EADDRNOTAVAIL on hosts without a broadcast route are ignored, as Pyro5 does
        sock.send(request, port, addr, () => {});
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        answer,
        new Promise<undefined>((res) =>
          timer = setTimeout(() => res(undefined), options.timeoutMs ?? 700)
        ),
      ]);
      clearTimeout(timer);
      if (r !== undefined) return r;
    }
    return null;
  } catch {
    return null;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    sock.close();
  }
}
