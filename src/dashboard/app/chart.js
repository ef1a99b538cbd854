// chart.js: tasks finished over a batch's run, as a small SVG: the history the page read once
// (finishedOverTime), then a point per event the socket delivered.
import { html } from "htm/preact";
import { count, dateTime } from "./format.js";

const WIDTH = 600;
const HEIGHT = 160;

/** Cumulative [time ms, finished, failed] points: the history's slice ends, then the live ones after it. */
export function chartPoints(history, live) {
  const points = [];
  if (history.length > 0) {
    points.push([Date.parse(history[0].start), 0, 0]);
    let finished = 0;
    let failed = 0;
    for (const slice of history) {
      finished += slice.finished;
      failed += slice.failed;
      points.push([Math.min(Date.parse(slice.end), Date.now()), finished, failed]);
    }
  }
  const last = points.at(-1)?.[0] ?? -Infinity;
  return [...points, ...live.filter(([at]) => at > last)];
}

function path(points, pick, x, y) {
  return points.map((point, i) => `${i === 0 ? "M" : "L"}${x(point[0]).toFixed(1)},${y(point[pick]).toFixed(1)}`).join("");
}

export function FinishedChart({ points, total, until }) {
  if (points.length === 0) return html`<p class="muted">Nothing has finished yet.</p>`;
  const start = points[0][0];
  const end = Math.max(until, points.at(-1)[0], start + 1_000);
  const x = (at) => ((at - start) / (end - start)) * WIDTH;
  const y = (n) => HEIGHT - (n / Math.max(total, 1)) * HEIGHT;
  // Held flat from the last point to the end of the range (now, while running).
  const held = [...points, [end, points.at(-1)[1], points.at(-1)[2]]];
  const done = points.at(-1)[1];
  const failed = points.at(-1)[2];
  const label = `Tasks finished over time: ${count(done)} of ${count(total)}${failed ? `, ${count(failed)} failed` : ""}, from ${dateTime(new Date(start).toISOString())} to ${dateTime(new Date(end).toISOString())}`;
  return html`<figure class="chart">
    <figcaption class="chart-legend">
      <span class="key key-finished">finished</span>
      <span class="key key-failed">failed</span>
      <span class="chart-max">${count(total)} tasks</span>
    </figcaption>
    <svg viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label=${label}>
      <path class="chart-area" d=${`${path(held, 1, x, y)}L${WIDTH},${HEIGHT}L0,${HEIGHT}Z`} />
      <path class="chart-finished" d=${path(held, 1, x, y)} />
      ${failed > 0 ? html`<path class="chart-failed" d=${path(held, 2, x, y)} />` : null}
    </svg>
    <div class="chart-axis"><span>${dateTime(new Date(start).toISOString())}</span><span>${dateTime(new Date(end).toISOString())}</span></div>
  </figure>`;
}
