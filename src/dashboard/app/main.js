// main.js: the dashboard's shell: header (views, socket state, API key), and the view for the path.
import { html } from "htm/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { forgetKey, keyInUse, needsKey } from "./api.js";
import { BatchesView } from "./batchesView.js";
import { BatchView } from "./batchView.js";
import { Link, useStore } from "./components.js";
import { KeyForm } from "./keyForm.js";
import { KindsView } from "./kindsView.js";

const SOCKET_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };

function usePath() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);
  return path;
}

function route(path) {
  const batch = /^\/dashboard\/batches\/([^/]+)$/.exec(path);
  if (batch) return html`<${BatchView} id=${decodeURIComponent(batch[1])} />`;
  if (path === "/dashboard/kinds") return html`<${KindsView} />`;
  return html`<${BatchesView} />`;
}

function Header({ path }) {
  const store = useStore();
  const current = (match) => (match ? "page" : undefined);
  return html`<header class="top">
    <div class="brand"><${Link} href="/dashboard">batchwire</${Link}></div>
    <nav aria-label="Views">
      <${Link} href="/dashboard" aria-current=${current(path === "/dashboard" || path === "/dashboard/" || path.startsWith("/dashboard/batches"))}>Batches</${Link}>
      <${Link} href="/dashboard/kinds" aria-current=${current(path === "/dashboard/kinds")}>Kinds</${Link}>
    </nav>
    <div class="top-end">
      ${needsKey() ? null : html`<span class=${`socket socket-${store.socket}`} role="status" aria-live="polite">${SOCKET_TEXT[store.socket]}</span>`}
      ${keyInUse() && store.key && !needsKey()
        ? html`<button type="button" class="quiet" onClick=${forgetKey} title="Forget the API key in this tab">Forget key</button>`
        : null}
    </div>
  </header>`;
}

function App() {
  const path = usePath();
  const store = useStore();
  // A new key means a new socket: the view starts over on it.
  return html`<${Header} path=${path} />
    <main key=${store.key ?? ""}>${needsKey() ? html`<${KeyForm} />` : route(path)}</main>`;
}

render(html`<${App} />`, document.getElementById("app"));
