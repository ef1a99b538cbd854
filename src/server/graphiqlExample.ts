// graphiqlExample.ts: the operations GraphiQL opens with: submit a demo batch, then watch it.
export const GRAPHIQL_EXAMPLE = `# Welcome to batchwire.
# 1. Run "Submit" (the play button): it queues a demo batch and returns its id.
# 2. Paste the id into the variables below as batchId, then run "Watch":
#    events arrive over WebSocket until the batch is final.

mutation Submit {
  submitBatch(input: {
    tasks: [
      { kind: "sleep", input: { ms: 800 }, customId: "a" }
      { kind: "sleep", input: { ms: 1600 }, customId: "b" }
      { kind: "fail", input: { times: 1, message: "first try fails" }, customId: "c" }
      { kind: "sha256", input: { text: "hello", rounds: 1000 }, customId: "d" }
    ]
  }) {
    batch { id status counts { total queued running succeeded failed } }
  }
}

subscription Watch($batchId: ID!) {
  jobProgress(batchId: $batchId) {
    batch { id status progress counts { total queued running retrying succeeded failed canceled } }
    changedTasks { customId status attempts progress result error { code message } }
  }
}

query Results($batchId: ID!) {
  batch(id: $batchId) {
    status
    tasks(first: 10) { totalCount edges { node { customId status result error { message } } } }
  }
}
`;
