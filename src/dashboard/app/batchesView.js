// batchesView.js: the caller's batches, newest first, paged, filtered by status. Rows appear,
// move and leave as batchUpdates reports changes; the page is read again only when the socket
// (re)connects, so nothing that happened while it was down is missed.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { onConnected, request, subscribe } from "./api.js";
import { BatchProgress, BATCH_FIELDS } from "./batchRow.js";
import { ErrorNote, Link, Pager, StatusBadge, useNow } from "./components.js";
import { ago, dateTime, shortId } from "./format.js";
import { observe } from "./rates.js";

const PAGE_SIZE = 20;
/** New batches push older ones down the first page; past this many rows it is read afresh. */
const MAX_ROWS = 3 * PAGE_SIZE;
const STATUSES = ["QUEUED", "RUNNING", "CANCELING", "COMPLETED", "CANCELED", "EXPIRED"];

const LIST = `query Batches($first: Int!, $after: String, $status: BatchStatus) {
  batches(first: $first, after: $after, status: $status) { pageInfo { hasNextPage endCursor } edges { node { ${BATCH_FIELDS} } } }
}`;
const UPDATES = `subscription BatchUpdates { batchUpdates { batch { ${BATCH_FIELDS} } } }`;

/** The list with one batch's new state applied: updated in place, inserted, or gone from the filter. */
function applyUpdate(list, batch, status, firstPage) {
  const index = list.rows.findIndex((row) => row.id === batch.id);
  const matches = !status || batch.status === status;
  if (index >= 0) {
    if (list.rows[index].version >= batch.version) return list;
    return { ...list, rows: matches ? list.rows.with(index, batch) : list.rows.filter((row) => row.id !== batch.id) };
  }
  if (!matches) return list;
  // It belongs on this page if it sorts between the page's first and last rows.
  const newest = list.rows[0]?.createdAt;
  const oldest = list.rows.at(-1)?.createdAt;
  const belowTop = firstPage || (newest !== undefined && batch.createdAt <= newest);
  const aboveBottom = !list.hasNextPage || (oldest !== undefined && batch.createdAt >= oldest);
  if (!belowTop || !aboveBottom) return list;
  const rows = [...list.rows, batch].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  return { ...list, rows };
}

export function BatchesView() {
  const params = new URLSearchParams(location.search);
  const [status, setStatus] = useState(STATUSES.includes(params.get("status")) ? params.get("status") : "");
  const [cursors, setCursors] = useState([null]);
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [reads, setReads] = useState(0);
  const now = useNow();
  const view = useRef({ status, firstPage: true });
  view.current = { status, firstPage: cursors.length === 1 };
  const after = cursors.at(-1);

  useEffect(() => {
    document.title = "Batches · batchwire";
    // Subscribed before the page is read: a change in between is not lost, only applied twice.
    const stop = subscribe(UPDATES, {}, {
      next: ({ batchUpdates: { batch } }) => {
        observe(batch);
        setList((list) => list && applyUpdate(list, batch, view.current.status || null, view.current.firstPage));
      },
      error: setError,
    });
    const unlisten = onConnected((wasRetry) => wasRetry && setReads((n) => n + 1));
    return () => {
      stop();
      unlisten();
    };
  }, []);

  // Grown past its bound by new batches: the page is read afresh (with cursors for paging on).
  const overgrown = (list?.rows.length ?? 0) > MAX_ROWS;
  useEffect(() => {
    if (overgrown) setReads((n) => n + 1);
  }, [overgrown]);

  useEffect(() => {
    let current = true;
    request(LIST, { first: PAGE_SIZE, after, status: status || null }).then(
      (data) => {
        if (!current) return;
        const rows = data.batches.edges.map((edge) => edge.node);
        rows.forEach(observe);
        setList({ rows, hasNextPage: data.batches.pageInfo.hasNextPage, endCursor: data.batches.pageInfo.endCursor });
        setError(null);
      },
      (failure) => current && setError(failure),
    );
    return () => {
      current = false;
    };
  }, [status, after, reads]);

  const changeStatus = (event) => {
    const value = event.currentTarget.value;
    history.replaceState(null, "", value ? `/dashboard?status=${value}` : "/dashboard");
    setStatus(value);
    setCursors([null]);
  };

  return html`<section>
    <div class="view-head">
      <h1>Batches</h1>
      <label class="filter">Status
        <select value=${status} onChange=${changeStatus}>
          <option value="">All</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
    </div>
    <${ErrorNote} error=${error} />
    ${list === null && !error ? html`<p class="muted">Loading…</p>` : null}
    ${list && list.rows.length === 0 ? html`<p class="muted">No batches${status ? ` ${status}` : ""} yet. Submit one with <code>submitBatch</code>: it appears here at once.</p>` : null}
    ${list && list.rows.length > 0
      ? html`<table class="batches">
          <thead><tr><th scope="col">Batch</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col">Progress</th></tr></thead>
          <tbody>
            ${list.rows.map(
              (batch) => html`<tr key=${batch.id} data-batch-id=${batch.id}>
                <td data-label="Batch"><${Link} href=${`/dashboard/batches/${batch.id}`} class="mono" title=${batch.id}>${shortId(batch.id)}</${Link}></td>
                <td data-label="Created"><time datetime=${batch.createdAt} title=${dateTime(batch.createdAt)}>${ago(batch.createdAt, now)}</time></td>
                <td data-label="Status"><${StatusBadge} status=${batch.status} /></td>
                <td data-label="Progress"><${BatchProgress} batch=${batch} now=${now} /></td>
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}
    ${list
      ? html`<${Pager} label="Batch pages" page=${cursors.length} hasNextPage=${list.hasNextPage}
          onPrevious=${() => setCursors((c) => c.slice(0, -1))} onNext=${() => setCursors((c) => [...c, list.endCursor])} />`
      : null}
  </section>`;
}
