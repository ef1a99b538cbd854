// batchRow.js: what the views show of a batch: the fields they read, and its progress line.
import { html } from "htm/preact";
import { ProgressBar } from "./components.js";
import { count, duration, finished, rate } from "./format.js";
import { etaOf, paceOf } from "./rates.js";

export const BATCH_FIELDS = `id status version progress createdAt startedAt finishedAt
  counts { total queued running retrying succeeded failed canceled expired }`;

/** The bar, "n of total", and while running the pace and the time left. */
export function BatchProgress({ batch, now }) {
  const pace = paceOf(batch, now);
  const eta = etaOf(batch, pace);
  return html`<div class="progress">
    <${ProgressBar} counts=${batch.counts} />
    <span class="progress-text">
      ${count(finished(batch.counts))} / ${count(batch.counts.total)}
      ${pace ? html` · <span class="pace">${rate(pace)}</span>` : null}
      ${eta !== undefined ? html` · <span class="eta">${duration(eta)} left</span>` : null}
    </span>
  </div>`;
}
