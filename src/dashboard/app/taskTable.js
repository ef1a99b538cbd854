// taskTable.js: a batch's tasks, a page at a time, filtered by status or found by customId; a
// task's input and result or error open under its row. Rows on the page follow jobProgress.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { request } from "./api.js";
import { ErrorNote, JsonBlock, Pager, StatusBadge } from "./components.js";
import { dateTime } from "./format.js";

const PAGE_SIZE = 20;
const STATUSES = ["QUEUED", "RUNNING", "RETRYING", "SUCCEEDED", "FAILED", "CANCELED", "EXPIRED"];

/** What jobProgress reports of a changed task: enough to update its row (its input does not change). */
export const CHANGED_TASK_FIELDS = `id status attempts progress result error { code message } startedAt finishedAt`;
const TASK_FIELDS = `index customId kind input ${CHANGED_TASK_FIELDS}`;

const TASKS = `query Tasks($id: ID!, $first: Int!, $after: String, $status: TaskStatus, $customId: String) {
  batch(id: $id) { tasks(first: $first, after: $after, status: $status, customId: $customId) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { ${TASK_FIELDS} } } } }
}`;

/**
 * `changes`: the tasks of jobProgress's latest event; `reads` goes up when the page must be read
 * again. A new `filter` needs a new table (the parent keys it by the filter).
 */
export function TaskTable({ batchId, changes, reads, filter, onFilter }) {
  const [cursors, setCursors] = useState([null]);
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const [open, setOpen] = useState(null);
  const [search, setSearch] = useState(filter.customId);
  const after = cursors.at(-1);

  // A task on this page that changed is shown in its new state.
  useEffect(() => {
    if (!changes?.length) return;
    const byId = new Map(changes.map((task) => [task.id, task]));
    setPage((current) => current && { ...current, rows: current.rows.map((task) => (byId.has(task.id) ? { ...task, ...byId.get(task.id) } : task)) });
  }, [changes]);

  useEffect(() => {
    let current = true;
    const variables = { id: batchId, first: PAGE_SIZE, after, status: filter.status || null, customId: filter.customId || null };
    request(TASKS, variables).then(
      (data) => {
        if (!current) return;
        const tasks = data.batch?.tasks;
        setPage(tasks ? { rows: tasks.edges.map((edge) => edge.node), totalCount: tasks.totalCount, ...tasks.pageInfo } : null);
        setError(null);
      },
      (failure) => current && setError(failure),
    );
    return () => {
      current = false;
    };
  }, [batchId, after, filter.status, filter.customId, reads]);

  const rows = page?.rows ?? [];

  const find = (event) => {
    event.preventDefault();
    onFilter({ ...filter, customId: search.trim() });
  };

  return html`<section class="tasks" aria-labelledby="tasks-title">
    <div class="view-head">
      <h2 id="tasks-title">Tasks${page ? html` <span class="muted">(${page.totalCount.toLocaleString("en-US")})</span>` : null}</h2>
      <div class="task-filters">
        <label class="filter">Status
          <select value=${filter.status} onChange=${(event) => onFilter({ ...filter, status: event.currentTarget.value })}>
            <option value="">All</option>
            ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
          </select>
        </label>
        <form class="search" role="search" onSubmit=${find}>
          <label for="custom-id">customId</label>
          <input id="custom-id" type="search" value=${search} placeholder="exact customId" onInput=${(event) => setSearch(event.currentTarget.value)} />
          <button type="submit">Find</button>
        </form>
      </div>
    </div>
    <${ErrorNote} error=${error} />
    ${page && rows.length === 0 ? html`<p class="muted">No task matches.</p>` : null}
    ${rows.length > 0
      ? html`<table class="task-table">
          <thead><tr><th scope="col">#</th><th scope="col">customId</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Finished</th></tr></thead>
          <tbody>
            ${rows.map((task) => {
              const expanded = open === task.id;
              return html`<tr key=${task.id} data-task-index=${task.index}>
                  <td data-label="#"><button type="button" class="link" aria-expanded=${expanded} aria-controls=${`task-${task.id}`}
                    onClick=${() => setOpen(expanded ? null : task.id)}>${task.index}</button></td>
                  <td data-label="customId" class="mono">${task.customId ?? "—"}</td>
                  <td data-label="Kind">${task.kind}</td>
                  <td data-label="Status"><${StatusBadge} status=${task.status} />${task.status === "RUNNING" && task.progress ? html` <span class="muted">${Math.round(task.progress * 100)}%</span>` : null}</td>
                  <td data-label="Attempts">${task.attempts}</td>
                  <td data-label="Finished">${task.finishedAt ? dateTime(task.finishedAt) : "—"}</td>
                </tr>
                ${expanded
                  ? html`<tr class="task-detail" id=${`task-${task.id}`}><td colspan="6">
                      <div class="detail-grid">
                        <div><h3>Input</h3><${JsonBlock} value=${task.input} label=${`Input of task ${task.index}`} /></div>
                        ${task.error
                          ? html`<div><h3>Error</h3><p><code>${task.error.code}</code></p><${JsonBlock} value=${task.error.message} label=${`Error of task ${task.index}`} /></div>`
                          : html`<div><h3>Result</h3><${JsonBlock} value=${task.result} label=${`Result of task ${task.index}`} /></div>`}
                      </div>
                    </td></tr>`
                  : null}`;
            })}
          </tbody>
        </table>`
      : null}
    ${page
      ? html`<${Pager} label="Task pages" page=${cursors.length} hasNextPage=${page.hasNextPage}
          onPrevious=${() => setCursors((c) => c.slice(0, -1))} onNext=${() => setCursors((c) => [...c, page.endCursor])} />`
      : null}
  </section>`;
}
