/**
 * Configuration items with Pyro5's names, units and defaults. They are
 * passed as options (`config: { COMPRESSION: true }`); only the CLI tools
 * read `PYRO_*` environment variables, through {@linkcode configFromEnv}.
 *
 * @example Read PYRO_* variables
 * ```ts
 * import { configFromEnv, DEFAULT_CONFIG } from "@tyro/tyro";
 * import assert from "node:assert/strict";
 *
 * const config = configFromEnv({ PYRO_COMPRESSION: "true", PYRO_NS_PORT: "9999" });
 * assert.equal(config.COMPRESSION, true);
 * assert.equal(config.NS_PORT, 9999);
 * assert.equal(DEFAULT_CONFIG.SERIALIZER, "serpent");
 * ```
 *
 * @module
 */

/** Pyro5's configuration items (times in seconds, as in Pyro5). */
export interface PyroConfig {
  /** Host name a daemon binds to. */
  HOST: string;
  /** Name server host. */
  NS_HOST: string;
  /** Name server port. */
  NS_PORT: number;
  /** Name server broadcast port. */
  NS_BCPORT: number;
  /** Name server broadcast host (null: same as NS_HOST). */
  NS_BCHOST: string | null;
  /** Seconds between name server autoclean runs (0 = off). */
  NS_AUTOCLEAN: number;
  /** Seconds to keep retrying a name server lookup. */
  NS_LOOKUP_DELAY: number;
  /** External host name for NAT. */
  NATHOST: string | null;
  /** External port for NAT. */
  NATPORT: number;
  /** Compress payloads over 100 bytes. */
  COMPRESSION: boolean;
  /** Seconds of silence before a connection times out (0 = never). */
  COMMTIMEOUT: number;
  /** Times a proxy reconnects and retries a failed call. */
  MAX_RETRIES: number;
  /** Send Python-style detailed tracebacks. */
  DETAILED_TRACEBACK: boolean;
  /** Largest message (payload plus annotations) in bytes. */
  MAX_MESSAGE_SIZE: number;
  /** Addresses used for broadcast discovery. */
  BROADCAST_ADDRS: string[];
  /** 4, 6 or 0 (either). */
  PREFER_IP_VERSION: number;
  /** The serializer proxies use. */
  SERIALIZER: string;
  /** Let methods that return iterators stream their items. */
  ITER_STREAMING: boolean;
  /** Seconds an item stream may live (0 = forever). */
  ITER_STREAM_LIFETIME: number;
  /** Seconds an item stream lingers after its client disconnects. */
  ITER_STREAM_LINGER: number;
  /** Use TLS. */
  SSL: boolean;
  /** Server certificate file. */
  SSL_SERVERCERT: string;
  /** Server key file. */
  SSL_SERVERKEY: string;
  /** Server key password. */
  SSL_SERVERKEYPASSWD: string;
  /** Require a client certificate. */
  SSL_REQUIRECLIENTCERT: boolean;
  /** Client certificate file. */
  SSL_CLIENTCERT: string;
  /** Client key file. */
  SSL_CLIENTKEY: string;
  /** Client key password. */
  SSL_CLIENTKEYPASSWD: string;
  /** CA certificates file. */
  SSL_CACERTS: string;
  /** Most concurrent connections a daemon serves (0 = unlimited); more wait. */
  MAX_CONNECTIONS: number;
  /** Most calls in flight per connection; further requests wait. */
  MAX_CALLS_PER_CONNECTION: number;
}

/** The defaults, as Pyro5 5.15 has them. */
export const DEFAULT_CONFIG: Readonly<PyroConfig> = Object.freeze({
  HOST: "localhost",
  NS_HOST: "localhost",
  NS_PORT: 9090,
  NS_BCPORT: 9091,
  NS_BCHOST: null,
  NS_AUTOCLEAN: 0,
  NS_LOOKUP_DELAY: 0,
  NATHOST: null,
  NATPORT: 0,
  COMPRESSION: false,
  COMMTIMEOUT: 0,
  MAX_RETRIES: 0,
  DETAILED_TRACEBACK: false,
  MAX_MESSAGE_SIZE: 1024 * 1024 * 1024,
  BROADCAST_ADDRS: Object.freeze(["<broadcast>", "0.0.0.0"]) as unknown as string[],
  PREFER_IP_VERSION: 0,
  SERIALIZER: "serpent",
  ITER_STREAMING: true,
  ITER_STREAM_LIFETIME: 0,
  ITER_STREAM_LINGER: 30,
  SSL: false,
  SSL_SERVERCERT: "",
  SSL_SERVERKEY: "",
  SSL_SERVERKEYPASSWD: "",
  SSL_REQUIRECLIENTCERT: false,
  SSL_CLIENTCERT: "",
  SSL_CLIENTKEY: "",
  SSL_CLIENTKEYPASSWD: "",
  SSL_CACERTS: "",
  MAX_CONNECTIONS: 0,
  MAX_CALLS_PER_CONNECTION: 256,
});

/**
 * Merges options over the defaults.
 *
 * @param config Items to override.
 * @returns A complete configuration.
 */
export function makeConfig(config: Partial<PyroConfig> = {}): PyroConfig {
  return { ...DEFAULT_CONFIG, ...config };
}

/**
 * Reads `PYRO_<ITEM>` variables, as Pyro5 does at import time.
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @param base The configuration to start from.
 * @returns The configuration with every known `PYRO_*` item applied.
 * @throws {TypeError} When a variable's value does not fit the item's type.
 */
export function configFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  base: Partial<PyroConfig> = {},
): PyroConfig {
  const config = makeConfig(base) as unknown as Record<string, unknown>;
  for (const [key, def] of Object.entries(DEFAULT_CONFIG)) {
    const text = env["PYRO_" + key];
    if (text === undefined) continue;
    if (typeof def === "boolean") {
      config[key] = ["1", "true", "yes", "on"].includes(text.trim().toLowerCase());
    } else if (typeof def === "number") {
      const n = Number(text);
      if (!Number.isFinite(n)) {
        throw new TypeError(`Cannot read PYRO_${key}: not a number: ${text}`);
      }
      config[key] = n;
    } else if (Array.isArray(def)) {
      config[key] = text.split(",").map((s) => s.trim()).filter(Boolean);
    } else {
      config[key] = text === "" && def === null ? null : text;
    }
  }
  return config as unknown as PyroConfig;
}
