/**
 * TLS interop with real Python Pyro5, both ways, including 2-way TLS:
 * Python clients with and without good client certificates against a Tyro
 * daemon that requires one, and a Tyro client against a Python daemon with
 * `SSL_REQUIRECLIENTCERT=True` whose `validateHandshake` reads the
 * certificate with `conn.getpeercert()`.
 */
import assert from "node:assert/strict";
import { connect } from "../client.ts";
import { CommunicationError } from "../errors.ts";
import { NameServerDaemon } from "../nameserver.ts";
import { currentContext, Daemon, expose } from "../server.ts";
import {
  listenTlsFromConfig,
  type PeerCertificate,
  tlsConnector,
  type TlsListener,
} from "../transport/tls.ts";
import { peerAvailable, runPython, startPython } from "./_peer.ts";
import { makeTestPki, opensslAvailable, type TestPki } from "./_tls_certs.ts";

const ignore = !peerAvailable() || !opensslAvailable();

class Who {
  @expose
  whoami(): string {
    const cert = currentContext()?.client?.peerCertificate as PeerCertificate | undefined;
    return cert?.subject.CN ?? "nobody";
  }
}

/** Serves a TLS listener, handing each connection's certificate to the daemon. */
async function serveTls(daemon: Daemon, listener: TlsListener): Promise<void> {
  for await (const conn of listener) {
    daemon.handleConnection(conn, { peerCertificate: conn.peerCertificate }).catch(() => {});
  }
}

function pkiJson(pki: TestPki): string {
  return JSON.stringify({ ...pki, read: undefined });
}

// Pyro5 caches its client SSL context, so each case resets it.
const PY_CLIENT = `
import sys, json
import Pyro5.api, Pyro5.errors, Pyro5.socketutil as su
from Pyro5 import config
uri, pki = sys.argv[1], json.loads(sys.argv[2])
cases = {
    "env": {},
    "alice_enc": dict(SSL_CLIENTKEY=pki["aliceKeyEncrypted"], SSL_CLIENTKEYPASSWD="sesame"),
    "bob": dict(SSL_CLIENTCERT=pki["bobCert"], SSL_CLIENTKEY=pki["bobKey"], SSL_CLIENTKEYPASSWD=""),
    "none": dict(SSL_CLIENTCERT="", SSL_CLIENTKEY=""),
    "rogue": dict(SSL_CLIENTCERT=pki["rogueCert"], SSL_CLIENTKEY=pki["rogueKey"]),
    "wrongca": dict(SSL_CACERTS=pki["otherCa"], SSL_CLIENTCERT=pki["aliceCert"], SSL_CLIENTKEY=pki["aliceKey"]),
}
responses = []

class Proxy(Pyro5.api.Proxy):
    def _pyroValidateHandshake(self, response):
        responses.append(response)

out = {"ssl": config.SSL}
for name, items in cases.items():
    for k, v in items.items():
        setattr(config, k, v)
    su.__dict__["__ssl_client_context"] = None
    try:
        with Proxy(uri) as p:
            p._pyroTimeout = 5
            out[name] = {"ok": p.whoami(), "handshake": responses.pop()}
    except Exception as x:
        out[name] = {"error": type(x).__name__, "message": str(x)}
print(json.dumps(out))
`;

Deno.test({
  name: "TLS: Python Pyro5 clients with and without client certificates call a Tyro daemon",
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
    const seen: string[] = [];
    await using daemon = new Daemon({
      listener,
      validateHandshake(session) {
        const cert = session.peerCertificate as PeerCertificate;
        seen.push(cert.subject.CN);
        if (cert.subject.CN !== "alice") {
          throw new Error(`only alice may connect, not ${cert.subject.CN}`);
        }
        return "hello alice";
      },
    });
    daemon.register(new Who(), "who");
    const serving = serveTls(daemon, listener);
    const r = await runPython(PY_CLIENT, {
      args: [daemon.uriFor("who").toString(), pkiJson(pki)],
      env: {
        PYRO_SSL: "true",
        PYRO_SSL_CACERTS: pki.ca,
        PYRO_SSL_CLIENTCERT: pki.aliceCert,
        PYRO_SSL_CLIENTKEY: pki.aliceKey,
      },
    });
    const out = JSON.parse(new TextDecoder().decode(r.stdout));
    assert.equal(out.ssl, true);
    assert.deepEqual(out.env, { ok: "alice", handshake: "hello alice" });
    assert.deepEqual(out.alice_enc, { ok: "alice", handshake: "hello alice" });
    // validateHandshake refuses a good certificate of the wrong person
    assert.equal(out.bob.error, "CommunicationError");
    assert.match(out.bob.message, /only alice may connect, not bob/);
    // no certificate: the TLS layer refuses it with an alert
    assert.equal(out.none.error, "ConnectionClosedError");
    assert.match(out.none.message, /certificate ?required/i);
    // a self-signed certificate (claiming to be alice) is refused during the handshake
    assert.equal(out.rogue.error, "ConnectionClosedError");
    // the client does not trust the server certificate
    assert.equal(out.wrongca.error, "CommunicationError");
    assert.match(out.wrongca.message, /certificate verify failed/);
    assert.deepEqual(seen.sort(), ["alice", "alice", "bob"]);
    assert.ok(errors.some((m) => /peer sent no certificates/.test(m)), errors.join("; "));
    assert.ok(
      errors.some((m) => /client certificate refused: DEPTH_ZERO_SELF_SIGNED_CERT/.test(m)),
    );
    await daemon.close();
    await serving;
  },
});

const PY_SERVER = `
import sys, json
import Pyro5.api, Pyro5.errors
from Pyro5 import config
pki = json.loads(sys.argv[1])
config.SSL = True
config.SSL_REQUIRECLIENTCERT = True
config.SSL_SERVERCERT = pki["serverCert"]
config.SSL_SERVERKEY = pki["serverKey"]
config.SSL_CACERTS = pki["ca"]

def common_name(cert):
    return dict(p[0] for p in cert["subject"])["commonName"]

class CertDaemon(Pyro5.api.Daemon):
    def validateHandshake(self, conn, data):
        cn = common_name(conn.getpeercert())
        if cn != "alice":
            raise Pyro5.errors.CommunicationError("only alice may connect, not " + cn)
        return "hello " + cn

@Pyro5.api.expose
class Who:
    def whoami(self):
        return common_name(Pyro5.api.current_context.client.getpeercert())

d = CertDaemon(host="127.0.0.1", port=0)
print("uri:", d.register(Who(), "who"), flush=True)
d.requestLoop()
`;

Deno.test({
  name:
    "TLS: a Tyro client with a client certificate calls a Python Pyro5 daemon that requires one",
  ignore,
  async fn() {
    await using pki = await makeTestPki();
    const script = `${pki.dir}/server.py`;
    await Deno.writeTextFile(script, PY_SERVER);
    await using proc = startPython([script, pkiJson(pki)]);
    const uri = (await proc.waitForLine(/^uri: /)).slice("uri: ".length).trim();

    const client = (items: Record<string, string>) => ({
      connect: tlsConnector({ SSL_CACERTS: pki.ca, ...items }, { timeoutMs: 5000 }),
      timeout: 5000,
    });
    let response: unknown;
    {
      await using who = await connect<Who>(uri, {
        ...client({ SSL_CLIENTCERT: pki.aliceCert, SSL_CLIENTKEY: pki.aliceKey }),
        onHandshakeResponse: (r) => response = r,
      });
      assert.equal(await who.whoami(), "alice");
      assert.equal(response, "hello alice");
    }
    {
      // an encrypted key, and a file that holds both certificate and key
      await using a = await connect<Who>(
        uri,
        client({
          SSL_CLIENTCERT: pki.aliceCert,
          SSL_CLIENTKEY: pki.aliceKeyEncrypted,
          SSL_CLIENTKEYPASSWD: "sesame",
        }),
      );
      assert.equal(await a.whoami(), "alice");
      await using b = await connect<Who>(uri, client({ SSL_CLIENTCERT: pki.aliceCombined }));
      assert.equal(await b.whoami(), "alice");
    }
    // the Python daemon's validateHandshake refuses bob
    await assert.rejects(
      connect(uri, client({ SSL_CLIENTCERT: pki.bobCert, SSL_CLIENTKEY: pki.bobKey })),
      (e: Error) =>
        e instanceof CommunicationError && /only alice may connect, not bob/.test(e.message),
    );
    // no certificate, and a self-signed one: refused by Python's TLS layer
    await assert.rejects(
      connect(uri, client({})),
      (e: Error) => e instanceof CommunicationError && /certificate ?required/i.test(e.message),
    );
    await assert.rejects(
      connect(uri, client({ SSL_CLIENTCERT: pki.rogueCert, SSL_CLIENTKEY: pki.rogueKey })),
      (e: Error) =>
        e instanceof CommunicationError &&
        /received fatal alert: UnknownCA/.test(e.message),
    );
    // the client does not trust the Python server's certificate
    await assert.rejects(
      connect(uri, {
        connect: tlsConnector({
          SSL_CACERTS: pki.otherCa,
          SSL_CLIENTCERT: pki.aliceCert,
          SSL_CLIENTKEY: pki.aliceKey,
        }),
      }),
      (e: Error) =>
        e instanceof CommunicationError && /TLS handshake failed .*certificate/.test(e.message),
    );
    // and the daemon still serves after all that
    await using again = await connect<Who>(
      uri,
      client({ SSL_CLIENTCERT: pki.aliceCert, SSL_CLIENTKEY: pki.aliceKey }),
    );
    assert.equal(await again.whoami(), "alice");
  },
});

const PY_NS_CLIENT = `
import sys, json
import Pyro5.api, Pyro5.errors
host, port = sys.argv[1], int(sys.argv[2])
out = {}
with Pyro5.api.locate_ns(host, port) as ns:
    ns.register("py.thing", "PYRO:thing@localhost:1234", metadata={"py"})
    out["lookup"] = str(ns.lookup("py.thing"))
    out["names"] = sorted(ns.list())
print(json.dumps(out))
`;

Deno.test({
  name: "TLS: name servers over 2-way TLS, Python client to Tyro and Tyro client to Python",
  ignore,
  async fn() {
    await using pki = await makeTestPki();
    const clientEnv = {
      PYRO_SSL: "true",
      PYRO_SSL_CACERTS: pki.ca,
      PYRO_SSL_CLIENTCERT: pki.aliceCert,
      PYRO_SSL_CLIENTKEY: pki.aliceKey,
    };
    const serverConfig = {
      SSL_SERVERCERT: pki.serverCert,
      SSL_SERVERKEY: pki.serverKey,
      SSL_CACERTS: pki.ca,
      SSL_REQUIRECLIENTCERT: true,
    };
    {
      // Python's locate_ns against a Tyro name server
      const listener = listenTlsFromConfig({ hostname: "127.0.0.1", port: 0 }, serverConfig);
      await using ns = new NameServerDaemon({ listener });
      const serving = serveTls(ns, listener);
      const port = (listener.addr as Deno.NetAddr).port;
      const r = await runPython(PY_NS_CLIENT, {
        args: ["127.0.0.1", String(port)],
        env: clientEnv,
      });
      const out = JSON.parse(new TextDecoder().decode(r.stdout));
      assert.equal(out.lookup, "PYRO:thing@localhost:1234");
      assert.deepEqual(out.names, ["Pyro.NameServer", "py.thing"]);
      assert.deepEqual([...ns.nameserver.storage.get("py.thing")!.metadata], ["py"]);
      await ns.close();
      await serving;
    }
    {
      // a Tyro client against Python's name server with SSL_REQUIRECLIENTCERT
      await using proc = startPython(["-m", "Pyro5.nameserver", "-n", "127.0.0.1", "-p", "0"], {
        PYRO_SSL: "true",
        PYRO_SSL_SERVERCERT: pki.serverCert,
        PYRO_SSL_SERVERKEY: pki.serverKey,
        PYRO_SSL_CACERTS: pki.ca,
        PYRO_SSL_REQUIRECLIENTCERT: "true",
      });
      const uri = (await proc.waitForLine(/^URI = /)).slice("URI = ".length).trim();
      const tlsConnect = tlsConnector({
        SSL_CACERTS: pki.ca,
        SSL_CLIENTCERT: pki.aliceCert,
        SSL_CLIENTKEY: pki.aliceKey,
      });
      await using ns = await connect<{
        register(name: string, uri: string): Promise<void>;
        lookup(name: string): Promise<unknown>;
        count(): Promise<number>;
      }>(uri, { connect: tlsConnect });
      await ns.register("tyro.thing", "PYRO:thing@localhost:4321");
      assert.equal(String(await ns.lookup("tyro.thing")), "PYRO:thing@localhost:4321");
      assert.equal(await ns.count(), 2);
      await assert.rejects(
        connect(uri, { connect: tlsConnector({ SSL_CACERTS: pki.ca }) }),
        (e: Error) => e instanceof CommunicationError && /CertificateRequired/.test(e.message),
      );
    }
  },
});
