/**
 * TLS with client certificates (2-way TLS), switched on by Pyro5's
 * `SSL_*` configuration items.
 *
 * The example makes a throwaway certificate authority with `openssl` in a
 * temp folder: a server certificate for 127.0.0.1 and two client
 * certificates, alice and bob, all signed by that CA. The daemon requires
 * a client certificate that chains to the CA, and its `validateHandshake`
 * admits only alice. The temp folder (keys included) is deleted at the end.
 *
 * The same items work for Python: a Pyro5 client with `PYRO_SSL=1`,
 * `PYRO_SSL_CACERTS`, `PYRO_SSL_CLIENTCERT` and `PYRO_SSL_CLIENTKEY` can
 * call this daemon. (`listenTlsFromConfig` and `tlsConnector` from
 * `@tyro/tyro/transport` do the same without a config.)
 *
 * Run: `deno task example:tls` (needs the `openssl` command, version 3)
 *
 * @module
 */

import { connect, currentContext, Daemon, expose } from "@tyro/tyro";
import type { PeerCertificate } from "@tyro/tyro/transport";

// 1. A throwaway PKI: a CA, the server's certificate, alice's and bob's,
//    in a temp folder that is removed when the program ends (or fails).
const dir = await Deno.makeTempDir({ prefix: "tyro-example-tls-" });
await using _cleanup = { [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
const file = (name: string) => `${dir}/${name}`;

async function openssl(...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`openssl failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** A P-256 key and a certificate for `subject`, signed by the CA (or self-signed). */
async function certificate(name: string, subject: string, extensions: string): Promise<void> {
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"];
  const out = ["-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "1", "-subj", subject];
  const signer = name === "ca" ? [] : ["-CA", "ca.crt", "-CAkey", "ca.key"];
  const ext = extensions.split("\n").flatMap((e) => ["-addext", e]);
  await openssl("req", "-x509", ...newKey, ...out, ...signer, ...ext);
}

const CLIENT = "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth";
await certificate("ca", "/O=Tyro Example/CN=Example CA", "basicConstraints=critical,CA:TRUE");
await certificate(
  "server",
  "/O=Tyro Example/CN=localhost",
  "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1",
);
await certificate("alice", "/O=Tyro Example/CN=alice", CLIENT);
await certificate("bob", "/O=Tyro Example/CN=bob", CLIENT);
console.log("made a CA, a server certificate and client certificates for alice and bob");

// 2. The remote object tells who is calling, from the client certificate.
class Vault {
  @expose
  open(): string {
    const cert = currentContext()?.client?.peerCertificate as PeerCertificate;
    return `the vault opens for ${cert.subject.CN}`;
  }
}

// 3. The daemon: TLS, client certificates required, and only alice let in.
await using daemon = new Daemon({
  host: "127.0.0.1",
  port: 0,
  config: {
    SSL: true,
    SSL_SERVERCERT: file("server.crt"),
    SSL_SERVERKEY: file("server.key"),
    SSL_CACERTS: file("ca.crt"), // client certificates must chain to this CA
    SSL_REQUIRECLIENTCERT: true,
  },
  validateHandshake(session) {
    // The certificate is verified already; here the daemon picks who may in.
    const cert = session.peerCertificate as PeerCertificate;
    if (cert.subject.CN !== "alice") throw new Error(`access denied for ${cert.subject.CN}`);
    return "welcome";
  },
});
const uri = daemon.register(new Vault(), "example.vault");
const serving = daemon.serve();

/** The client side of the config: trust the CA, and show `who`'s certificate. */
function clientConfig(who?: string) {
  const cert = who ? { SSL_CLIENTCERT: file(`${who}.crt`), SSL_CLIENTKEY: file(`${who}.key`) } : {};
  return { SSL: true, SSL_CACERTS: file("ca.crt"), ...cert };
}

// 4. alice: her certificate is valid and validateHandshake admits her.
{
  await using vault = await connect<Vault>(uri, { config: clientConfig("alice") });
  console.log("alice:", await vault.open());
}

// 5. bob: his certificate is valid too, but validateHandshake refuses him.
try {
  await using vault = await connect<Vault>(uri, { config: clientConfig("bob") });
  console.log("bob:", await vault.open());
} catch (e) {
  const message = (e as Error).message;
  console.log(`bob: refused, ${(e as Error).name}:`, message.match(/access denied for bob/)?.[0]);
}

// 6. No certificate at all: the TLS handshake itself fails.
try {
  await using vault = await connect<Vault>(uri, { config: clientConfig(), timeout: 5000 });
  console.log("anonymous:", await vault.open());
} catch (e) {
  console.log(`anonymous: refused, ${(e as Error).name}`);
}

await daemon.close();
await serving;
console.log("done");
