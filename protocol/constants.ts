/**
 * Wire protocol 502 constants: message types, flags and header layout.
 *
 * @module
 */

/** The wire protocol version Pyro5 speaks. */
export const PROTOCOL_VERSION = 502;

/** The header's magic number at offset 0x26. */
export const MAGIC = 0x4dc5;

/** The header size in bytes. */
export const HEADER_SIZE = 40;

/** Serializer id used by MSG_PING, whose payload is raw bytes. */
export const PING_SERIALIZER_ID = 42;

/** Pyro5's default maximum message size (1 GiB), payload plus annotations. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024 * 1024;

/** Payloads longer than this are compressed when compression is on. */
export const COMPRESSION_THRESHOLD = 100;

/** The message type numbers by name. */
export interface MessageTypes {
  /** Client opens a connection (handshake). */
  readonly CONNECT: 1;
  /** Daemon accepts the handshake. */
  readonly CONNECTOK: 2;
  /** Daemon refuses the handshake. */
  readonly CONNECTFAIL: 3;
  /** A method call. */
  readonly INVOKE: 4;
  /** A call's result. */
  readonly RESULT: 5;
  /** A ping (raw payload `ping`, serializer id 42). */
  readonly PING: 6;
}

/** Message types. */
export const MessageType: MessageTypes = Object.freeze(
  {
    CONNECT: 1,
    CONNECTOK: 2,
    CONNECTFAIL: 3,
    INVOKE: 4,
    RESULT: 5,
    PING: 6,
  } as const,
);

/** A message type number. */
export type MessageType = MessageTypes[keyof MessageTypes];

/** The flag bits by name. */
export interface MessageFlags {
  /** The result is an exception. */
  readonly EXCEPTION: 0x01;
  /** The payload is zlib-compressed. */
  readonly COMPRESSED: 0x02;
  /** No reply is wanted. */
  readonly ONEWAY: 0x04;
  /** A batch of calls. */
  readonly BATCH: 0x08;
  /** The result is an item stream (id in the STRM annotation). */
  readonly ITEMSTREAMRESULT: 0x10;
  /** Pass the payload on unserialized. */
  readonly KEEPSERIALIZED: 0x20;
  /** A correlation id is set. */
  readonly CORR_ID: 0x40;
}

/** Message flags (a bit set). */
export const Flags: MessageFlags = Object.freeze(
  {
    EXCEPTION: 0x01,
    COMPRESSED: 0x02,
    ONEWAY: 0x04,
    BATCH: 0x08,
    ITEMSTREAMRESULT: 0x10,
    KEEPSERIALIZED: 0x20,
    CORR_ID: 0x40,
  } as const,
);

/** Names of message types, for error messages and logs. */
export const MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: "CONNECT",
  2: "CONNECTOK",
  3: "CONNECTFAIL",
  4: "INVOKE",
  5: "RESULT",
  6: "PING",
});
