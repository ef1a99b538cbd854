// components.js: the pieces the views share: links, status badges, the split progress bar, the
// confirmation dialog, JSON blocks, a pager, and hooks for the store and the clock.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { getState, onStateChange } from "./api.js";
import { count, finished } from "./format.js";

/** Moves to another view without reloading the page. */
export function navigate(path) {
  history.pushState(null, "", path);
  dispatchEvent(new PopStateEvent("popstate"));
}

export function Link({ href, children, ...rest }) {
  const onClick = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}

/** The data layer's state (key, socket), re-rendering on change. */
export function useStore() {
  const [, setVersion] = useState(0);
  useEffect(() => onStateChange(() => setVersion((v) => v + 1)), []);
  return getState();
}

/**
 * The time now, moving every `ms`: relative times and ETAs tick, nothing is fetched.
 */
export function useNow(ms = 1_000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function StatusBadge({ status }) {
  return html`<span class=${`badge status-${status.toLowerCase()}`}>${status}</span>`;
}

/** One bar split by succeeded / failed / running / queued / other (canceled and expired). */
export function ProgressBar({ counts }) {
  const total = counts.total || 1;
  const parts = [
    ["succeeded", counts.succeeded],
    ["failed", counts.failed],
    ["running", counts.running + counts.retrying],
    ["queued", counts.queued],
    ["other", counts.canceled + counts.expired],
  ];
  const label = `${count(finished(counts))} of ${count(counts.total)} finished: ${parts
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${count(n)} ${name === "other" ? "canceled or expired" : name}`)
    .join(", ")}`;
  return html`<div class="bar" role="img" aria-label=${label} title=${label}>
    ${parts.map(([name, n]) => (n > 0 ? html`<span class=${`bar-${name}`} style=${{ width: `${(n / total) * 100}%` }}></span>` : null))}
  </div>`;
}

/** A modal that asks before a change that cannot be undone. */
export function ConfirmDialog({ open, title, children, confirmLabel, onConfirm, onClose }) {
  const ref = useRef(null);
  useEffect(() => {
    const dialog = ref.current;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  const id = `dialog-${confirmLabel.replace(/\W+/g, "-").toLowerCase()}`;
  return html`<dialog ref=${ref} aria-labelledby=${id} onClose=${onClose}>
    <h2 id=${id}>${title}</h2>
    ${children}
    <div class="actions">
      <button type="button" onClick=${onClose}>Go back</button>
      <button type="button" class="danger" onClick=${onConfirm}>${confirmLabel}</button>
    </div>
  </dialog>`;
}

/** JSON, scrollable (and so focusable, for keyboards) when long. */
export function JsonBlock({ value, label }) {
  return html`<pre class="json" role="group" tabindex="0" aria-label=${label}>${JSON.stringify(value, null, 2) ?? "null"}</pre>`;
}

/** Previous / next over a Relay connection; `cursors` is the stack of `after`s that led here. */
export function Pager({ page, hasNextPage, onPrevious, onNext, label }) {
  return html`<nav class="pager" aria-label=${label}>
    <button type="button" onClick=${onPrevious} disabled=${page === 1}>Previous</button>
    <span>Page ${page}</span>
    <button type="button" onClick=${onNext} disabled=${!hasNextPage}>Next</button>
  </nav>`;
}

export function ErrorNote({ error }) {
  return error ? html`<p class="error" role="alert">${error.message}</p>` : null;
}
