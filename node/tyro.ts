/**
 * The Node.js build's single entry point: everything of `@tyro/tyro`
 * (client, daemon, serializers), the name server and the transports, in one
 * module (`dist/node/tyro.mjs`).
 *
 * @module
 */

export * from "../mod.ts";
export * from "../nameserver.ts";
export * from "../transport/mod.ts";
