// batchView.js: one batch: its counts and progress, a chart of tasks finished over time, its
// metadata and times, its failures grouped by error, its tasks, and the actions on it (cancel,
// retry failed tasks, download results). jobProgress keeps all of it current; the page is read
// again only when the socket reconnects or after an action here.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { download, keyInUse, onConnected, request, resultsUrl, subscribe } from "./api.js";
import { BatchProgress, BATCH_FIELDS } from "./batchRow.js";
import { chartPoints, FinishedChart } from "./chart.js";
import { ConfirmDialog, ErrorNote, JsonBlock, Link, StatusBadge, useNow } from "./components.js";
import { count, dateTime, finished, isFinal } from "./format.js";
import { observe } from "./rates.js";
import { CHANGED_TASK_FIELDS, TaskTable } from "./taskTable.js";

const DETAIL_FIELDS = `${BATCH_FIELDS} priority idempotencyKey metadata expiresAt purgeAt`;
const GROUP_FIELDS = `errorGroups { code message count firstIndex }`;
const BATCH = `query Batch($id: ID!) { batch(id: $id) { ${DETAIL_FIELDS} ${GROUP_FIELDS} finishedOverTime(slices: 60) { start end finished failed } } }`;
const GROUPS = `query Groups($id: ID!) { batch(id: $id) { ${GROUP_FIELDS} } }`;
const WATCH = `subscription Watch($id: ID!) { jobProgress(batchId: $id) {
  batch { ${DETAIL_FIELDS} } changedTasks { ${CHANGED_TASK_FIELDS} } changedTasksTruncated } }`;
const CANCEL = `mutation Cancel($id: ID!) { cancelBatch(id: $id) { batch { ${DETAIL_FIELDS} } } }`;
const RETRY = `mutation Retry($id: ID!) { retryFailedTasks(batchId: $id) { batch { ${DETAIL_FIELDS} } } }`;

const COUNTS = ["total", "queued", "running", "retrying", "succeeded", "failed", "canceled", "expired"];
/** Live chart points kept; past it every other one goes (the shape stays, memory does not grow). */
const MAX_POINTS = 2_000;

const newer = (next) => (current) => (!current || next.version >= current.version ? next : current);

export function BatchView({ id }) {
  const [batch, setBatch] = useState(undefined);
  const [history, setHistory] = useState([]);
  const [live, setLive] = useState([]);
  const [groups, setGroups] = useState([]);
  const [changes, setChanges] = useState(null);
  const [reads, setReads] = useState(0);
  const [watches, setWatches] = useState(0);
  const [filter, setFilter] = useState({ status: "", customId: "" });
  const [dialog, setDialog] = useState(null);
  const [error, setError] = useState(null);
  const groupsFailed = useRef(-1);
  const now = useNow();

  const readGroups = (failed) => {
    if (groupsFailed.current === failed) return;
    groupsFailed.current = failed;
    request(GROUPS, { id }).then((data) => data.batch && setGroups(data.batch.errorGroups), setError);
  };

  useEffect(() => {
    document.title = `Batch ${id.slice(0, 8)} · batchwire`;
    let current = true;
    request(BATCH, { id }).then(
      (data) => {
        if (!current) return;
        if (!data.batch) return setBatch(null);
        observe(data.batch);
        setBatch(newer(data.batch));
        setHistory(data.batch.finishedOverTime);
        setLive([]);
        setGroups(data.batch.errorGroups);
        groupsFailed.current = data.batch.counts.failed;
      },
      (failure) => current && setError(failure),
    );
    return () => {
      current = false;
    };
  }, [id, reads]);

  useEffect(() => {
    const stop = subscribe(WATCH, { id }, {
      next: ({ jobProgress: event }) => {
        observe(event.batch);
        setBatch(newer(event.batch));
        setLive((points) => {
          const next = [...points, [Date.now(), finished(event.batch.counts), event.batch.counts.failed]];
          return next.length > MAX_POINTS ? next.filter((_, i) => i % 2 === 0 || i === next.length - 1) : next;
        });
        if (event.changedTasks.length) setChanges(event.changedTasks);
        if (event.changedTasksTruncated) setReads((n) => n + 1);
        readGroups(event.batch.counts.failed);
      },
      error: (failure) => (failure.errors?.[0]?.extensions?.code === "NOT_FOUND" ? setBatch(null) : setError(failure)),
    });
    // What changed while the socket was down: the batch comes back with jobProgress's first
    // event, the tasks and the history by reading them again.
    const unlisten = onConnected((wasRetry) => wasRetry && setReads((n) => n + 1));
    return () => {
      stop();
      unlisten();
    };
  }, [id, watches]);

  const act = async (mutation, field) => {
    setDialog(null);
    try {
      const data = await request(mutation, { id });
      setBatch(newer(data[field].batch));
      setError(null);
      if (field === "retryFailedTasks") {
        // The batch runs again: a new jobProgress stream (the last one ended with the final event).
        setWatches((n) => n + 1);
        setReads((n) => n + 1);
      }
    } catch (failure) {
      setError(failure);
    }
  };

  if (batch === undefined) return html`<section><h1>Batch</h1><${ErrorNote} error=${error} />${error ? null : html`<p class="muted">Loading…</p>`}</section>`;
  if (batch === null) return html`<section><h1>Batch not found</h1><p>No batch of yours has the id <code>${id}</code>. <${Link} href="/dashboard">All batches</${Link}></p></section>`;

  const canCancel = batch.status === "QUEUED" || batch.status === "RUNNING";
  const canRetry = batch.counts.failed > 0 && batch.status !== "CANCELING" && batch.status !== "CANCELED";
  const onDownload = (event) => {
    if (!keyInUse()) return;
    event.preventDefault();
    download(resultsUrl(batch.id), `${batch.id}.results.jsonl`).catch(setError);
  };

  return html`<section class="batch">
    <p class="crumbs"><${Link} href="/dashboard">Batches</${Link}> /</p>
    <div class="view-head">
      <h1>Batch <span class="mono">${batch.id}</span></h1>
      <${StatusBadge} status=${batch.status} />
    </div>
    <div class="actions">
      ${canCancel ? html`<button type="button" class="danger" onClick=${() => setDialog("cancel")}>Cancel batch</button>` : null}
      ${canRetry ? html`<button type="button" onClick=${() => setDialog("retry")}>Retry failed tasks</button>` : null}
      ${isFinal(batch.status) ? html`<a class="button" href=${resultsUrl(batch.id)} onClick=${onDownload}>Download results (JSONL)</a>` : null}
    </div>
    <${ErrorNote} error=${error} />
    <${BatchProgress} batch=${batch} now=${now} />
    <dl class="counts">
      ${COUNTS.map((name) => html`<div class=${`count count-${name}`}><dt>${name}</dt><dd data-count=${name}>${count(batch.counts[name])}</dd></div>`)}
    </dl>
    <div class="columns">
      <section class="card" aria-labelledby="chart-title">
        <h2 id="chart-title">Finished over time</h2>
        <${FinishedChart} points=${chartPoints(history, live)} total=${batch.counts.total} until=${batch.finishedAt ? Date.parse(batch.finishedAt) : now} />
      </section>
      <section class="card" aria-labelledby="facts-title">
        <h2 id="facts-title">Details</h2>
        <dl class="facts">
          <dt>Created</dt><dd>${dateTime(batch.createdAt)}</dd>
          <dt>Started</dt><dd>${dateTime(batch.startedAt)}</dd>
          <dt>Finished</dt><dd>${dateTime(batch.finishedAt)}</dd>
          <dt>Window closes</dt><dd>${dateTime(batch.expiresAt)}</dd>
          <dt>Deleted at</dt><dd>${dateTime(batch.purgeAt)}</dd>
          <dt>Priority</dt><dd>${batch.priority}</dd>
          <dt>Idempotency key</dt><dd>${batch.idempotencyKey ?? "—"}</dd>
          <dt>Version</dt><dd>${batch.version}</dd>
        </dl>
        ${batch.metadata != null ? html`<h3>Metadata</h3><${JsonBlock} value=${batch.metadata} label="Metadata" />` : null}
      </section>
    </div>
    ${groups.length > 0
      ? html`<section class="card" aria-labelledby="groups-title">
          <h2 id="groups-title">Failures by error</h2>
          <table class="groups">
            <thead><tr><th scope="col">Tasks</th><th scope="col">Code</th><th scope="col">Message</th></tr></thead>
            <tbody>${groups.map((group) => html`<tr><td data-label="Tasks">${count(group.count)}</td><td data-label="Code"><code>${group.code}</code></td><td data-label="Message">${group.message}</td></tr>`)}</tbody>
          </table>
          <button type="button" class="link" onClick=${() => setFilter({ status: "FAILED", customId: "" })}>Show the failed tasks</button>
        </section>`
      : null}
    <${TaskTable} key=${`${filter.status}|${filter.customId}`} batchId=${batch.id} changes=${changes} reads=${reads} filter=${filter} onFilter=${setFilter} />
    <${ConfirmDialog} open=${dialog === "cancel"} title="Cancel this batch?" confirmLabel="Cancel batch"
      onConfirm=${() => act(CANCEL, "cancelBatch")} onClose=${() => setDialog(null)}>
      <p>Its ${count(batch.counts.queued + batch.counts.retrying)} waiting tasks end CANCELED at once; its ${count(batch.counts.running)} running tasks are aborted. This cannot be undone.</p>
    </${ConfirmDialog}>
    <${ConfirmDialog} open=${dialog === "retry"} title="Retry the failed tasks?" confirmLabel="Retry failed tasks"
      onConfirm=${() => act(RETRY, "retryFailedTasks")} onClose=${() => setDialog(null)}>
      <p>Its ${count(batch.counts.failed)} failed tasks are queued again, and the batch runs until they finish.</p>
    </${ConfirmDialog}>
  </section>`;
}
