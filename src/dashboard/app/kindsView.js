// kindsView.js: the registered task kinds, each with its input JSON Schema and its policy.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { request } from "./api.js";
import { ErrorNote, JsonBlock } from "./components.js";

const KINDS = `{ taskKinds { name description inputSchema policy { timeoutSeconds retryLimit retryDelaySeconds retryBackoff retryDelayMaxSeconds concurrency batchSize } } }`;

const POLICY = [
  ["timeoutSeconds", "Timeout", (v) => `${v} s`],
  ["retryLimit", "Retries", (v) => `${v} (${v + 1} attempts)`],
  ["retryDelaySeconds", "Retry delay", (v) => `${v} s`],
  ["retryBackoff", "Backoff", (v) => (v ? "exponential, with jitter" : "none")],
  ["retryDelayMaxSeconds", "Longest delay", (v) => (v === null ? "no cap" : `${v} s`)],
  ["concurrency", "Concurrency", (v) => `${v} per worker process`],
  ["batchSize", "Fetch size", (v) => `${v} jobs`],
];

export function KindsView() {
  const [kinds, setKinds] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    document.title = "Kinds · batchwire";
    request(KINDS).then((data) => setKinds(data.taskKinds), setError);
  }, []);
  return html`<section>
    <h1>Task kinds</h1>
    <${ErrorNote} error=${error} />
    ${kinds === null && !error ? html`<p class="muted">Loading…</p>` : null}
    ${(kinds ?? []).map(
      (kind) => html`<article class="card kind" key=${kind.name}>
        <h2>${kind.name}</h2>
        ${kind.description ? html`<p>${kind.description}</p>` : null}
        <div class="kind-body">
          <div>
            <h3>Policy</h3>
            <dl class="facts">
              ${POLICY.map(([field, label, show]) => html`<dt>${label}</dt><dd>${show(kind.policy[field])}</dd>`)}
            </dl>
          </div>
          <div>
            <h3>Input schema</h3>
            <${JsonBlock} value=${kind.inputSchema} label=${`Input schema of ${kind.name}`} />
          </div>
        </div>
      </article>`,
    )}
  </section>`;
}
