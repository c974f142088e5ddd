/**
 * Tyro: remote objects for TypeScript, wire-compatible with Python's Pyro5.
 *
 * A proxy calls the methods of an object in a Tyro or Pyro5 daemon as if
 * it were local:
 *
 * ```ts ignore
 * import { connect } from "@tyro/tyro";
 *
 * await using echo = await connect("PYRONAME:test.echoserver");
 * console.log(await echo.echo("hello"));
 * ```
 *
 * and a daemon serves objects to Tyro and Pyro5 clients:
 *
 * ```ts ignore
 * import { Daemon, expose } from "@tyro/tyro";
 *
 * class Calculator {
 *   @expose
 *   add(a: number, b: number): number {
 *     return a + b;
 *   }
 * }
 * await using daemon = new Daemon({ host: "127.0.0.1", port: 9999 });
 * daemon.register(new Calculator(), "calc");
 * await daemon.serve();
 * ```
 *
 * @module
 */

export {
  CommunicationError,
  ConnectionClosedError,
  DaemonError,
  getRemoteTraceback,
  MessageTooLargeError,
  NamingError,
  ProtocolError,
  PYRO_ERRORS,
  PyroError,
  RemoteError,
  SecurityError,
  SerializeError,
  TimeoutError,
} from "./errors.ts";
export type { RemoteErrorInfo } from "./errors.ts";
export { DEFAULT_NS_PORT, parseUri, PyroUri } from "./uri.ts";
export { SerializedBlob } from "./blob.ts";
export type { UriProtocol, UriState } from "./uri.ts";
export { configFromEnv, DEFAULT_CONFIG, makeConfig } from "./config.ts";
export type { PyroConfig } from "./config.ts";
export {
  batch,
  connect,
  controlOf,
  createProxy,
  getAttr,
  PyroProxy,
  setAttr,
  setTlsConnectorFactory,
  setUriResolver,
} from "./client.ts";
export type {
  AnyRemote,
  Batch,
  BatchControl,
  CallOptions,
  ProxyOptions,
  Remote,
  RemoteCall,
  RemoteMethod,
  TlsConnectorFactory,
  UriResolver,
} from "./client.ts";
export {
  behavior,
  currentContext,
  Daemon,
  DAEMON_NAME,
  expose,
  exposedMembers,
  isPrivateName,
  oneway,
  serve,
  SILENT_LOGGER,
} from "./server.ts";
export type {
  BehaviorOptions,
  CallContext,
  ClientSession,
  DaemonOptions,
  DaemonSession,
  ExposedMembers,
  ExposeOptions,
  InstanceMode,
  Logger,
  RegisterOptions,
  ServeObjectsOptions,
  ServeOptions,
} from "./server.ts";
export {
  ClassRegistry,
  Complex,
  DEFAULT_REGISTRY,
  FrozenSet,
  isTuple,
  PyFloat,
  serializerFor,
  tuple,
} from "./serializers/mod.ts";
export type { Serializer } from "./serializers/mod.ts";
export {
  locateNs,
  lookup,
  NameServer,
  NAMESERVER_NAME,
  NameServerDaemon,
  resolve,
  startNs,
} from "./nameserver.ts";
export type {
  LocateNsOptions,
  NameServerApi,
  NameServerHandle,
  NameServerProxy,
  StartNsOptions,
} from "./nameserver.ts";
export { fromStreams, memoryPair } from "./transport/mod.ts";
export type { Connection, Listener, StreamPair } from "./transport/mod.ts";
