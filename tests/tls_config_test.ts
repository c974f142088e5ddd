/**
 * TLS switched on by Pyro5's configuration items (config.SSL), as in
 * Pyro5: daemons, proxies, startNs/locateNs/resolve, and a Python peer.
 */
import assert from "node:assert/strict";
import { connect } from "../client.ts";
import { CommunicationError } from "../errors.ts";
import { locateNs, resolve, startNs } from "../nameserver.ts";
import { currentContext, Daemon, expose } from "../server.ts";
import type { PeerCertificate } from "../transport/tls.ts";
import { peerAvailable, runPython } from "./_peer.ts";
import { makeTestPki, opensslAvailable } from "./_tls_certs.ts";

class Who {
  @expose
  whoami(): string {
    const cert = currentContext()?.client?.peerCertificate as PeerCertificate | undefined;
    return cert?.subject.CN ?? "nobody";
  }
}

Deno.test({
  name: "TLS from config.SSL: daemon, proxy, name server, and a Python client",
  ignore: !opensslAvailable(),
  async fn() {
    await using pki = await makeTestPki();
    const serverConfig = {
      SSL: true,
      SSL_SERVERCERT: pki.serverCert,
      SSL_SERVERKEY: pki.serverKey,
      SSL_CACERTS: pki.ca,
      SSL_REQUIRECLIENTCERT: true,
    };
    const clientConfig = {
      SSL: true,
      SSL_CACERTS: pki.ca,
      SSL_CLIENTCERT: pki.aliceCert,
      SSL_CLIENTKEY: pki.aliceKey,
    };
    await using daemon = new Daemon({
      host: "127.0.0.1",
      config: serverConfig,
      validateHandshake(session) {
        const cert = session.peerCertificate as PeerCertificate;
        if (cert.subject.CN !== "alice") throw new Error(`only alice, not ${cert.subject.CN}`);
        return "hi";
      },
    });
    daemon.register(new Who(), "who");
    const serving = daemon.serve();
    const uri = daemon.uriFor("who").toString();
    {
      await using who = await connect<Who>(uri, { config: clientConfig });
      assert.equal(await who.whoami(), "alice");
    }
    await assert.rejects(
      connect(uri, {
        config: { ...clientConfig, SSL_CLIENTCERT: pki.bobCert, SSL_CLIENTKEY: pki.bobKey },
      }),
      (e: Error) => e instanceof CommunicationError && /only alice, not bob/.test(e.message),
    );
    await assert.rejects(connect(uri, { config: { SSL: true, SSL_CACERTS: pki.ca } }));
    await assert.rejects(connect(uri, { timeout: 2000 })); // plain TCP

    if (peerAvailable()) {
      const r = await runPython(
        `import sys, Pyro5.api\nwith Pyro5.api.Proxy(sys.argv[1]) as p: print(p.whoami())`,
        {
          args: [uri],
          env: {
            PYRO_SSL: "1",
            PYRO_SSL_CACERTS: pki.ca,
            PYRO_SSL_CLIENTCERT: pki.aliceCert,
            PYRO_SSL_CLIENTKEY: pki.aliceKey,
          },
        },
      );
      assert.equal(new TextDecoder().decode(r.stdout).trim(), "alice");
    }

    await using ns = await startNs({ host: "127.0.0.1", port: 0, config: serverConfig });
    const nsPort = ns.uri.port!;
    {
      await using proxy = await locateNs("127.0.0.1", nsPort, { config: clientConfig });
      await proxy.register("example.who", uri);
    }
    const resolved = await resolve(`PYRONAME:example.who@127.0.0.1:${nsPort}`, {
      config: clientConfig,
    });
    assert.equal(resolved.toString(), uri);
    {
      await using who = await connect<Who>(`PYRONAME:example.who@127.0.0.1:${nsPort}`, {
        config: clientConfig,
      });
      assert.equal(await who.whoami(), "alice");
    }
    await daemon.close();
    await serving;
  },
});
