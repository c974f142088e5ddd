/**
 * The HTML page the HTTP gateway serves at `/pyro/`: the exposed contents
 * of the name server, and a form that calls methods through the gateway.
 * Self-contained (no external scripts, styles or images).
 *
 * @internal
 * @module
 */

/** One row of the page's object table. */
export interface PageEntry {
  /** The registered name. */
  name: string;
  /** Exposed methods, sorted; null when the metadata could not be read. */
  methods: string[] | null;
  /** Exposed attributes, sorted. */
  attributes: string[];
  /** Why the metadata could not be read. */
  error?: string;
}

/** What the page shows. */
export interface PageData {
  /** The name server location. */
  location: string;
  /** The expose regex. */
  expose: string;
  /** How many entries are listed at most. */
  limit: number;
  /** The entries. */
  entries: PageEntry[];
  /** Whether the gateway wants a key. */
  keyRequired: boolean;
  /** The library version shown in the footer. */
  version: string;
}

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @param text Any text.
 * @returns The escaped text.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function link(name: string, method: string, text: string, cls = ""): string {
  return `<a href="#" class="call ${cls}" data-object="${escapeHtml(name)}" data-method="${
    escapeHtml(method)
  }">${escapeHtml(text)}</a>`;
}

function row(e: PageEntry): string {
  const methods = e.methods === null
    ? `<span class="error">??error:${escapeHtml(e.error ?? "")}??</span>`
    : e.methods.length
    ? e.methods.map((m) => link(e.name, m, m, "pick")).join(" &nbsp; ")
    : "-";
  const attrs = e.attributes.length
    ? e.attributes.map((a) => link(e.name, a, a)).join(" &nbsp; ")
    : "-";
  return `<tr><td>${link(e.name, "$meta", e.name)}</td><td>${methods}</td><td>${attrs}</td></tr>`;
}

const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
function queryOf(params) {
  if (typeof params === "string") return params.replace(/^[?]/, "");
  return new URLSearchParams(params || {}).toString();
}
async function pyroCall(name, method, params, oneway) {
  const query = queryOf(params);
  const url = encodeURIComponent(name) + "/" + encodeURIComponent(method) + (query ? "?" + query : "");
  $("pyro_call").textContent = "GET " + url;
  $("pyro_response").textContent = "...";
  $("pyro_response").className = "";
  const headers = { "Accept": "application/json" };
  const key = $("gateway_key") ? $("gateway_key").value : "";
  if (key) headers["X-Pyro-Gateway-Key"] = key;
  if (oneway) headers["X-Pyro-Options"] = "oneway";
  try {
    const res = await fetch(url, { method: "GET", headers });
    const text = await res.text();
    let shown = text;
    try {
      if (text) shown = JSON.stringify(JSON.parse(text), null, 4);
    } catch { /* NaN, Infinity or big numbers: show the raw JSON */ }
    if (res.status >= 400) {
      $("pyro_response").className = "failed";
      $("pyro_response").textContent = "SERVER ERROR " + res.status + "\\n" + shown;
    } else {
      $("pyro_response").textContent = text ? shown : "(no response: oneway call)";
    }
    $("pyro_status").textContent = String(res.status);
  } catch (e) {
    $("pyro_response").className = "failed";
    $("pyro_response").textContent = String(e);
  }
}
document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a.call");
  if (!a) return;
  ev.preventDefault();
  if (a.classList.contains("pick")) {
    $("call_object").value = a.dataset.object;
    $("call_method").value = a.dataset.method;
    $("call_params").focus();
  } else {
    pyroCall(a.dataset.object, a.dataset.method, a.dataset.params || "");
  }
});
$("call_form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  pyroCall($("call_object").value, $("call_method").value, $("call_params").value,
    $("call_oneway").checked);
});
window.pyroCall = pyroCall;
`;

/**
 * Renders the gateway's index page.
 *
 * @param data What to show.
 * @returns The HTML document.
 */
export function renderPage(data: PageData): string {
  const names = data.entries.map((e) => `<option value="${escapeHtml(e.name)}">`).join("");
  const example = (name: string, method: string, params: string, text: string, what: string) =>
    `<li><a href="#" class="call example" data-object="${escapeHtml(name)}" data-method="${
      escapeHtml(method)
    }" data-params="${escapeHtml(params)}">${escapeHtml(text)}</a> &mdash; ${what}</li>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pyro HTTP gateway</title>
<style>
html { color: #202020; background-color: white; font-family: system-ui, sans-serif; }
body { margin: 1em 2em; max-width: 70em; }
h1 { margin-bottom: 0.2em; }
table, th, td { border: 1px solid #bbf; padding: 4px 8px; }
table { border-collapse: collapse; }
th { background: #eef; text-align: left; }
pre { border: 1px solid #bbf; padding: 1ex; margin: 1ex 0; white-space: pre-wrap; min-height: 1.2em; }
pre.failed { border-color: #d66; background: #fff4f4; }
form { display: grid; grid-template-columns: max-content 1fr; gap: 4px 8px; max-width: 50em; }
form input[type=text], form input[type=password] { font-family: monospace; }
.error { color: #b00; }
.muted { color: #666; font-size: 90%; }
</style>
</head>
<body>
<h1>Pyro HTTP gateway</h1>
<p>Use http+json to talk to Pyro objects: <code>GET /pyro/&lt;object name&gt;/&lt;method&gt;?arg=value</code>,
<code>/pyro/&lt;object name&gt;/$meta</code> for an object's methods and attributes.</p>
<p class="muted">Stateless: every request does a name lookup and uses a new proxy.</p>
<h2>Exposed contents of the name server on ${escapeHtml(data.location)}</h2>
<p>(Limited to ${data.limit} entries, exposed name pattern = '${escapeHtml(data.expose)}')</p>
<table id="objects">
<tr><th>Name</th><th>methods</th><th>attributes (zero-param methods)</th></tr>
${data.entries.map(row).join("\n")}
</table>
<h2>Call a method</h2>
<form id="call_form">
<label for="call_object">object</label><input type="text" id="call_object" list="object_names" required>
<datalist id="object_names">${names}</datalist>
<label for="call_method">method</label><input type="text" id="call_method" required>
<label for="call_params">parameters</label><input type="text" id="call_params" placeholder="message=hello&amp;other=value">
<label for="call_oneway">oneway</label><span><input type="checkbox" id="call_oneway"></span>
${
    data.keyRequired
      ? `<label for="gateway_key">gateway key</label><input type="password" id="gateway_key">`
      : ""
  }
<span></span><span><button type="submit" id="call_button">Call</button></span>
</form>
<h2>Examples</h2>
<ul>
${example("Pyro.NameServer", "$meta", "", "Pyro.NameServer/$meta", "the name server's methods")}
${example("Pyro.NameServer", "list", "", "Pyro.NameServer/list", "the name server's contents")}
${
    example(
      "Pyro.NameServer",
      "list",
      "prefix=test.",
      "Pyro.NameServer/list?prefix=test.",
      "names starting with 'test.'",
    )
  }
${
    example(
      "test.echoserver",
      "echo",
      "message=Hi there, browser script!",
      "test.echoserver/echo?message=Hi there, browser script!",
      "an echo call",
    )
  }
${example("test.echoserver", "error", "", "test.echoserver/error", "a call that raises")}
</ul>
<p class="muted">(The examples work when the name server and the echo server are exposed.)</p>
<h2>Response</h2>
Call: <pre id="pyro_call"></pre>
Status: <span id="pyro_status"></span>
<pre id="pyro_response"></pre>
<p class="muted">Tyro ${escapeHtml(data.version)}, wire-compatible with Pyro5.</p>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
