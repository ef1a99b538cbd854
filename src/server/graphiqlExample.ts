// graphiqlExample.ts: the operations GraphiQL opens with: submit a demo batch, then watch it.
// The longest demo task sleeps 8 seconds, so a person has time to paste the id and still see
// live events; test/graphiql.browser.test.ts runs this example in a real browser.
// No default variables: GraphiQL 5 fills the variables editor from `initialVariables` only and
// ignores `defaultTabs[].variables` on a first visit, so the comments say what to paste.
export const GRAPHIQL_EXAMPLE = `# batchwire demo: submit a batch, then watch it run.
#
# 1. Press play (or Ctrl-Enter) and pick "Submit": it
#    queues four demo tasks and returns the batch id.
# 2. Put the id into Variables (below), like this:
#    { "batchId": "<the id Submit returned>" }
# 3. Press play, pick "Watch": events arrive over
#    WebSocket while the tasks run (task "c" fails
#    once, then retries); the last event says
#    "status": "COMPLETED", and the stream ends.
# 4. Press play, pick "Results": every task's result.

mutation Submit {
  submitBatch(input: {
    tasks: [
      { customId: "a", kind: "sleep", input: { ms: 2000 } }
      { customId: "b", kind: "sleep", input: { ms: 8000 } }
      { customId: "c", kind: "fail", input: { times: 1 } }
      { customId: "d", kind: "sha256", input: { text: "hi" } }
    ]
  }) {
    batch { id status counts { total queued } }
  }
}

subscription Watch($batchId: ID!) {
  jobProgress(batchId: $batchId) {
    batch {
      id status progress
      counts { total queued running retrying succeeded failed }
    }
    changedTasks {
      customId status attempts progress
      result error { code message }
    }
  }
}

query Results($batchId: ID!) {
  batch(id: $batchId) {
    status
    tasks(first: 10) {
      totalCount
      edges { node { customId status attempts result error { message } } }
    }
  }
}
`;

