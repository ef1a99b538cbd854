// format.js: how the dashboard writes numbers, times, durations, rates and statuses.

const FINAL = new Set(["COMPLETED", "CANCELED", "EXPIRED"]);

export const isFinal = (status) => FINAL.has(status);

export const count = (n) => n.toLocaleString("en-US");

export const shortId = (id) => id.slice(0, 8);

/** Tasks in a final status. */
export const finished = (counts) => counts.succeeded + counts.failed + counts.canceled + counts.expired;

export function dateTime(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

/** "12 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3_600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  if (s < 86_400) return `${Math.floor(s / 3_600)} h${Math.floor((s % 3_600) / 60) ? ` ${Math.floor((s % 3_600) / 60)} min` : ""}`;
  return `${Math.floor(s / 86_400)} d${Math.floor((s % 86_400) / 3_600) ? ` ${Math.floor((s % 86_400) / 3_600)} h` : ""}`;
}

/** "5 s ago", "3 min ago", … from `now` (ms). */
export function ago(iso, now) {
  return `${duration((now - Date.parse(iso)) / 1_000).split(" ").slice(0, 2).join(" ")} ago`;
}

/** Tasks a second, or a minute when slower than one a second. */
export function rate(perSecond) {
  if (perSecond >= 10) return `${Math.round(perSecond).toLocaleString("en-US")}/s`;
  if (perSecond >= 1) return `${perSecond.toFixed(1)}/s`;
  return `${(perSecond * 60).toFixed(1)}/min`;
}

export function json(value) {
  return value === undefined ? "" : JSON.stringify(value, null, 2);
}
