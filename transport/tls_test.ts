import assert from "node:assert/strict";
import { connect } from "../client.ts";
import { CommunicationError, ConnectionClosedError, TimeoutError } from "../errors.ts";
import { NameServerDaemon } from "../nameserver.ts";
import { currentContext, Daemon, expose } from "../server.ts";
import { makeTestPki, opensslAvailable, type TestPki } from "../tests/_tls_certs.ts";
import {
  connectTls,
  listenTls,
  listenTlsFromConfig,
  type PeerCertificate,
  tlsClientOptionsFromConfig,
  type TlsConnection,
  tlsConnector,
  type TlsListener,
  type TlsServerOptions,
  tlsServerOptionsFromConfig,
} from "./tls.ts";

const ignore = !opensslAvailable();

class Who {
  @expose
  whoami(): string {
    const cert = currentContext()?.client?.peerCertificate as PeerCertificate | null | undefined;
    return cert?.subject.CN ?? "nobody";
  }
  @expose
  echo(x: unknown): unknown {
    return x;
  }
}

/** Serves a TLS listener, handing each connection's certificate to the daemon. */
async function serveTls(daemon: Daemon, listener: TlsListener): Promise<void> {
  for await (const conn of listener) {
    daemon.handleConnection(conn, { peerCertificate: conn.peerCertificate }).catch(() => {});
  }
}

function serverOptions(pki: TestPki, extra: Partial<TlsServerOptions> = {}): TlsServerOptions {
  return {
    cert: pki.read(pki.serverCert),
    key: pki.read(pki.serverKey),
    ca: pki.read(pki.ca),
    ...extra,
  };
}

function port(listener: TlsListener): number {
  return (listener.addr as { port: number }).port;
}

async function readExactly(conn: TlsConnection, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await conn.read(out.subarray(got));
    if (k === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

async function writeAll(conn: TlsConnection, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

Deno.test({
  name: "TLS transport: byte connection, large transfers, small reads, close and EOF",
  ignore,
  async fn() {
    await using pki = await makeTestPki();
    const listener = listenTls({ hostname: "127.0.0.1", port: 0 }, serverOptions(pki));
    const accepted = (async () => {
      const it = listener[Symbol.asyncIterator]();
      const r = await it.next();
      return r.value as TlsConnection;
    })();
    const client = await connectTls({ hostname: "127.0.0.1", port: port(listener) }, {
      caCerts: [pki.read(pki.ca)],
    });
    const server = await accepted;
    assert.equal(client.protocol, "TLSv1.3");
    assert.equal(server.peerCertificate, null); // 1-way TLS
    assert.equal(client.peerCertificate?.subject.CN, "localhost");
    assert.equal(client.peerCertificate?.authorized, true);
    assert.match(client.peerCertificate!.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal((server.remoteAddr as Deno.NetAddr).hostname, "127.0.0.1");
    assert.equal((server.remoteAddr as Deno.NetAddr).port, (client.localAddr as Deno.NetAddr).port);

    // 4 MB each way, concurrently, checked byte for byte; the server reads 1000 bytes at a time
    const size = 4 * 1024 * 1024;
    const up = new Uint8Array(size).map((_, i) => i * 7);
    const down = new Uint8Array(size).map((_, i) => i * 13);
    const serverSide = (async () => {
      const got = new Uint8Array(size);
      let n = 0;
      const small = new Uint8Array(1000);
      const sending = writeAll(server, down);
      while (n < size) {
        const k = await server.read(small);
        assert.ok(k !== null);
        got.set(small.subarray(0, k), n);
        n += k;
      }
      await sending;
      return got;
    })();
    const [, fromServer, fromClient] = await Promise.all([
      writeAll(client, up),
      readExactly(client, size),
      serverSide,
    ]);
    assert.deepEqual(fromClient, up);
    assert.deepEqual(fromServer, down);

    // close: the peer reads EOF, a pending read ends, writing fails
    const pending = server.read(new Uint8Array(10));
    client.close();
    assert.equal(await pending, null);
    assert.equal(await server.read(new Uint8Array(10)), null);
    await assert.rejects(client.write(new Uint8Array(1)), /closed/);
    server.close();
    listener.close();
  },
});

Deno.test({
  name: "TLS: 1-way TLS with daemon.serve(); the client checks the server certificate",
  ignore,
  async fn() {
    await using pki = await makeTestPki();
    await using daemon = new Daemon({
      listener: listenTls({ hostname: "127.0.0.1", port: 0 }, serverOptions(pki)),
    });
    daemon.register(new Who(), "who");
    const serving = daemon.serve();
    const uri = daemon.uriFor("who").toString();
    assert.match(uri, /^PYRO:who@127\.0\.0\.1:\d+$/);
    let seen: PeerCertificate | null = null;
    {
      await using who = await connect<Who>(uri, {
        connect: tlsConnector({ SSL_CACERTS: pki.ca }, { checkServerCert: (c) => seen = c }),
      });
      assert.equal(await who.whoami(), "nobody");
      assert.deepEqual(await who.echo({ big: "x".repeat(100_000) }), { big: "x".repeat(100_000) });
    }
    assert.equal(seen!.subject.CN, "localhost");
    assert.equal(seen!.issuer.CN, "Tyro Test CA");
    assert.match(seen!.subjectaltname ?? "", /IP Address:127\.0\.0\.1/);

    // pinning: checkServerCert refuses a different fingerprint
    await assert.rejects(
      connect(uri, {
        connect: tlsConnector({ SSL_CACERTS: pki.ca }, {
          checkServerCert: (c) => {
            if (c?.fingerprint256 !== "00") throw new Error("unexpected server certificate");
          },
        }),
      }),
      (e: Error) =>
        e instanceof CommunicationError && /refused: unexpected server certificate/.test(e.message),
    );
    // the server certificate is not valid for another name
    await assert.rejects(
      connect(uri, {
        connect: tlsConnector({ SSL_CACERTS: pki.ca }, { servername: "example.com" }),
      }),
      (e: Error) => e instanceof CommunicationError && /example\.com/.test(e.message),
    );
    // a client that trusts another CA refuses the server
    await assert.rejects(
      connect(uri, { connect: tlsConnector({ SSL_CACERTS: pki.otherCa }) }),
      (e: Error) =>
        e instanceof CommunicationError &&
        /TLS handshake failed with 127\.0\.0\.1:\d+: self-signed certificate in certificate chain/
          .test(e.message),
    );
    // a plain TCP client gets nowhere
    await assert.rejects(connect(uri, { timeout: 3000 }), CommunicationError);
    await daemon.close();
    await serving;
  },
});

Deno.test({
  name: "TLS: 2-way TLS; validateHandshake sees the client certificate; strangers are refused",
  ignore,
  async fn() {
    await using pki = await makeTestPki();
    const errors: string[] = [];
    const listener = listenTlsFromConfig({ hostname: "127.0.0.1", port: 0 }, {
      SSL_SERVERCERT: pki.serverCert,
      SSL_SERVERKEY: pki.serverKey,
      SSL_CACERTS: pki.ca,
      SSL_REQUIRECLIENTCERT: true,
    }, { onError: (e) => errors.push(e.message) });
    await using daemon = new Daemon({
      listener,
      validateHandshake(session) {
        const cert = session.peerCertificate as PeerCertificate;
        assert.equal(cert.authorized, true);
        if (cert.subject.CN !== "alice") {
          throw new Error(`only alice may connect, not ${cert.subject.CN}`);
        }
        return `hello ${cert.subject.CN} from ${cert.subject.C}`;
      },
    });
    daemon.register(new Who(), "who");
    const serving = serveTls(daemon, listener);
    const uri = daemon.uriFor("who").toString();
    const as = (cert: string, key: string) => ({
      connect: tlsConnector({ SSL_CACERTS: pki.ca, SSL_CLIENTCERT: cert, SSL_CLIENTKEY: key }),
    });

    let response: unknown;
    {
      await using who = await connect<Who>(uri, {
        ...as(pki.aliceCert, pki.aliceKey),
        onHandshakeResponse: (r) => response = r,
      });
      assert.equal(await who.whoami(), "alice");
      assert.equal(response, "hello alice from NL");
    }
    // a good certificate of somebody else: refused by validateHandshake
    await assert.rejects(
      connect(uri, as(pki.bobCert, pki.bobKey)),
      (e: Error) =>
        e instanceof CommunicationError &&
        /rejected: only alice may connect, not bob/.test(e.message),
    );
    // no client certificate: refused by the TLS layer with an alert
    await assert.rejects(
      connect(uri, { connect: tlsConnector({ SSL_CACERTS: pki.ca }) }),
      (e: Error) =>
        e instanceof ConnectionClosedError &&
        /received fatal alert: CertificateRequired/.test(e.message),
    );
    // a self-signed certificate that claims to be alice: refused by the TLS layer
    await assert.rejects(connect(uri, as(pki.rogueCert, pki.rogueKey)), ConnectionClosedError);
    assert.ok(errors.includes("peer sent no certificates"), errors.join("; "));
    assert.ok(errors.includes("client certificate refused: DEPTH_ZERO_SELF_SIGNED_CERT"));
    await daemon.close();
    await serving;
  },
});

Deno.test({
  name: "TLS: with rejectUnauthorized off, validateHandshake decides on unverified certificates",
  ignore,
  async fn() {
    await using pki = await makeTestPki();
    const listener = listenTls(
      { hostname: "127.0.0.1", port: 0 },
      serverOptions(pki, { requestCert: true, rejectUnauthorized: false }),
    );
    const seen: [string | undefined, boolean | undefined, string | null | undefined][] = [];
    await using daemon = new Daemon({
      listener,
      validateHandshake(session) {
        const cert = session.peerCertificate as PeerCertificate | null;
        seen.push([cert?.subject.CN, cert?.authorized, cert?.authorizationError]);
        if (!cert?.authorized) throw new Error("certificate not verified");
        return "ok";
      },
    });
    daemon.register(new Who(), "who");
    const serving = serveTls(daemon, listener);
    const uri = daemon.uriFor("who").toString();
    const rogue = tlsConnector({
      SSL_CACERTS: pki.ca,
      SSL_CLIENTCERT: pki.rogueCert,
      SSL_CLIENTKEY: pki.rogueKey,
    });
    await assert.rejects(connect(uri, { connect: rogue }), /rejected: certificate not verified/);
    await assert.rejects(
      connect(uri, { connect: tlsConnector({ SSL_CACERTS: pki.ca }) }),
      /rejected: certificate not verified/,
    );
    await using who = await connect<Who>(uri, {
      connect: tlsConnector({
        SSL_CACERTS: pki.ca,
        SSL_CLIENTCERT: pki.aliceCert,
        SSL_CLIENTKEY: pki.aliceKey,
      }),
    });
    assert.equal(await who.whoami(), "alice");
    assert.deepEqual(seen, [
      ["alice", false, "DEPTH_ZERO_SELF_SIGNED_CERT"],
      [undefined, undefined, undefined],
      ["alice", true, null],
    ]);
    await who[Symbol.asyncDispose]();
    await daemon.close();
    await serving;
  },
});

Deno.test({
  name: "TLS: IPv6 and unix sockets, and a name server over 2-way TLS",
  ignore,
  async fn() {
    await using pki = await makeTestPki();
    const clientConfig = {
      SSL_CACERTS: pki.ca,
      SSL_CLIENTCERT: pki.aliceCert,
      SSL_CLIENTKEY: pki.aliceKey,
    };
    const serverConfig = {
      SSL_SERVERCERT: pki.serverCert,
      SSL_SERVERKEY: pki.serverKey,
      SSL_CACERTS: pki.ca,
      SSL_REQUIRECLIENTCERT: true,
    };
    for (
      const addr of [
        { hostname: "::1", port: 0 },
        { transport: "unix" as const, path: `${pki.dir}/tls.sock` },
      ]
    ) {
      const listener = listenTlsFromConfig(addr, serverConfig);
      await using daemon = new Daemon({ listener });
      daemon.register(new Who(), "who");
      const serving = serveTls(daemon, listener);
      const uri = daemon.uriFor("who").toString();
      assert.match(uri, /@\[::1\]:\d+$|@\.\/u:.*tls\.sock$/);
      await using who = await connect<Who>(uri, { connect: tlsConnector(clientConfig) });
      assert.equal(await who.whoami(), "alice");
      await who[Symbol.asyncDispose]();
      await daemon.close();
      await serving;
    }

    const listener = listenTlsFromConfig({ hostname: "127.0.0.1", port: 0 }, serverConfig);
    await using ns = new NameServerDaemon({ listener });
    const serving = serveTls(ns, listener);
    const nsUri = ns.uriFor(ns.nameserver).toString();
    await using proxy = await connect<{
      register(name: string, uri: string): Promise<void>;
      lookup(name: string): Promise<{ toString(): string }>;
      count(): Promise<number>;
    }>(nsUri, { connect: tlsConnector(clientConfig) });
    await proxy.register("example.thing", "PYRO:thing@localhost:1234");
    assert.equal(String(await proxy.lookup("example.thing")), "PYRO:thing@localhost:1234");
    assert.equal(await proxy.count(), 2);
    await assert.rejects(
      connect(nsUri, { connect: tlsConnector({ SSL_CACERTS: pki.ca }) }),
      ConnectionClosedError,
    );
    await proxy[Symbol.asyncDispose]();
    await ns.close();
    await serving;
  },
});

Deno.test({
  name: "TLS: handshake timeouts and abort, client and server side",
  ignore,
  async fn() {
    await using pki = await makeTestPki();
    using silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const c of silent) held.push(c);
    })();
    const addr = { hostname: "127.0.0.1", port: silent.addr.port };
    const caCerts = [pki.read(pki.ca)];
    await assert.rejects(
      connectTls(addr, { caCerts, timeoutMs: 200 }),
      (e: Error) => e instanceof TimeoutError && /timeout while connecting/.test(e.message),
    );
    const ac = new AbortController();
    const p = connectTls(addr, { caCerts, signal: ac.signal });
    setTimeout(() => ac.abort(new Error("stop it")), 50);
    await assert.rejects(p, /stop it/);
    await assert.rejects(connectTls(addr, { caCerts, signal: AbortSignal.abort() }));

    // the server side: a client that never starts the handshake is cut off
    const errors: string[] = [];
    const listener = listenTls(
      { hostname: "127.0.0.1", port: 0 },
      serverOptions(pki, { handshakeTimeoutMs: 200, onError: (e) => errors.push(e.message) }),
    );
    const iterating = (async () => {
      for await (const _ of listener) throw new Error("no connection should get through");
    })();
    using mute = await Deno.connect({ hostname: "127.0.0.1", port: port(listener) });
    assert.equal(await mute.read(new Uint8Array(10)), null);
    assert.deepEqual(errors, ["TLS handshake timeout"]);
    listener.close();
    await iterating;
    // nothing listening
    silent.close();
    await accepting.catch(() => {});
    for (const c of held) c.close();
    await assert.rejects(
      connectTls(addr, { caCerts }),
      (e: Error) =>
        e instanceof CommunicationError && /cannot connect to 127\.0\.0\.1:\d+/.test(e.message),
    );
  },
});

Deno.test({
  name: "TLS: options from Pyro5 configuration items",
  ignore,
  async fn() {
    await using pki = await makeTestPki();
    const server = tlsServerOptionsFromConfig({
      SSL_SERVERCERT: pki.serverCert,
      SSL_SERVERKEY: pki.serverKey,
      SSL_CACERTS: pki.dir, // a folder of PEM files, like Python's capath
      SSL_REQUIRECLIENTCERT: true,
    });
    assert.equal(server.requestCert, true);
    assert.match(server.key, /PRIVATE KEY/);
    assert.equal(String(server.ca).match(/BEGIN CERTIFICATE/g)!.length >= 2, true);
    assert.throws(() => tlsServerOptionsFromConfig({}), /SSL_SERVERCERT is not set/);
    assert.throws(
      () => tlsServerOptionsFromConfig({ SSL_SERVERCERT: `${pki.dir}/nope.crt` }),
      /Cannot read server cert .*nope\.crt: file not found/,
    );
    const combined = tlsClientOptionsFromConfig({ SSL_CLIENTCERT: pki.aliceCombined });
    assert.match(combined.cert!, /BEGIN CERTIFICATE/);
    assert.equal(combined.key, combined.cert);
    assert.equal(combined.caCerts, undefined); // system CAs
    const encrypted = tlsClientOptionsFromConfig({
      SSL_CACERTS: pki.ca,
      SSL_CLIENTCERT: pki.aliceCert,
      SSL_CLIENTKEY: pki.aliceKeyEncrypted,
      SSL_CLIENTKEYPASSWD: "sesame",
    });
    assert.equal(encrypted.passphrase, "sesame");
    assert.equal(encrypted.caCerts!.length, 1);
    // unusable keys fail at once, before binding or connecting
    assert.throws(
      () =>
        listenTls({ hostname: "127.0.0.1", port: 0 }, {
          cert: pki.read(pki.serverCert),
          key: "not a key",
        }),
      /Cannot use the server key: /,
    );
    assert.throws(
      () =>
        listenTls({ hostname: "127.0.0.1", port: 0 }, {
          cert: pki.read(pki.serverCert),
          key: pki.read(pki.aliceKey),
        }),
      /Cannot use the server key: it does not belong to the certificate/,
    );
    assert.throws(
      () =>
        tlsConnector({
          SSL_CLIENTCERT: pki.aliceCert,
          SSL_CLIENTKEY: pki.aliceKeyEncrypted,
          SSL_CLIENTKEYPASSWD: "open sesame",
        }),
      /Cannot use the client key \(wrong password\?\)/,
    );

    // the encrypted key and the combined file both work end to end
    const listener = listenTlsFromConfig({ hostname: "127.0.0.1", port: 0 }, {
      SSL_SERVERCERT: pki.serverCert,
      SSL_SERVERKEY: pki.serverKey,
      SSL_CACERTS: pki.ca,
      SSL_REQUIRECLIENTCERT: true,
    });
    await using daemon = new Daemon({ listener });
    daemon.register(new Who(), "who");
    const serving = serveTls(daemon, listener);
    const uri = daemon.uriFor("who").toString();
    for (
      const config of [
        {
          SSL_CACERTS: pki.ca,
          SSL_CLIENTCERT: pki.aliceCert,
          SSL_CLIENTKEY: pki.aliceKeyEncrypted,
          SSL_CLIENTKEYPASSWD: "sesame",
        },
        { SSL_CACERTS: pki.ca, SSL_CLIENTCERT: pki.aliceCombined },
      ]
    ) {
      await using who = await connect<Who>(uri, { connect: tlsConnector(config) });
      assert.equal(await who.whoami(), "alice");
    }
    await daemon.close();
    await serving;
  },
});
