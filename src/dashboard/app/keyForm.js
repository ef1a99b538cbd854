// keyForm.js: asks for an API key when the server requires one; it stays in this tab's session
// storage and goes with every request (Authorization) and in the socket's connection_init.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { getState, setKey } from "./api.js";

export function KeyForm() {
  const [value, setValue] = useState("");
  const rejected = getState().keyRejected;
  const submit = (event) => {
    event.preventDefault();
    if (value.trim()) setKey(value.trim());
  };
  return html`<section class="key-form">
    <h1>API key</h1>
    <p>This server requires an API key. The dashboard shows the batches of the key's tenant.</p>
    ${rejected ? html`<p class="error" role="alert">The server refused ${getState().key ? "this key" : "to go on without a key"}. Enter a valid key.</p>` : null}
    <form onSubmit=${submit}>
      <label for="api-key">API key</label>
      <input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck="false" placeholder="bw_…"
        value=${value} onInput=${(event) => setValue(event.currentTarget.value)} />
      <button type="submit">Use key</button>
    </form>
    <p class="muted">Kept in this browser tab only (session storage) until you close it or choose Forget key.</p>
  </section>`;
}
