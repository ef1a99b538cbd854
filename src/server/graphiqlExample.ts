// graphiqlExample.ts: the operations GraphiQL opens with: submit a demo batch, then watch it.
// The demo runs about 30 seconds, and its failing task fails 12 seconds in, so a person who
// pastes the id by hand still sees events stream, the retry among them. Lines stay within 52
// characters: GraphiQL's editor shows about 55 at 1400x900. test/graphiql.browser.test.ts runs
// this example in a real browser and checks that every line fits.
// No default variables: GraphiQL 5 fills the variables editor from `initialVariables` only and
// ignores `defaultTabs[].variables` on a first visit, so the comments say what to paste.
export const GRAPHIQL_EXAMPLE = `# batchwire demo: submit a batch, watch it run.
#
# 1. Press play (or Ctrl-Enter), pick "Submit": it
#    queues four demo tasks (about 30 s in all)
#    and returns the batch id.
# 2. Put the id into Variables (below), like this:
#    { "batchId": "<the id Submit returned>" }
# 3. Press play, pick "Watch": events stream in
#    while the tasks run. Task "c" fails after
#    12 s (RETRYING), then succeeds on its retry.
#    The last event says "status": "COMPLETED".
# 4. Press play, pick "Results": every result.
#
# Once an API key exists, put it into Headers:
#    { "Authorization": "Bearer <your key>" }

mutation Submit {
  submitBatch(input: {
    tasks: [
      { customId: "a", kind: "sleep",
        input: { ms: 10000 } }
      { customId: "b", kind: "sleep",
        input: { ms: 30000 } }
      { customId: "c", kind: "fail",
        input: { times: 1, ms: 12000 } }
      { customId: "d", kind: "sha256",
        input: { text: "hi" } }
    ]
  }) {
    batch { id status counts { total queued } }
  }
}

subscription Watch($batchId: ID!) {
  jobProgress(batchId: $batchId) {
    batch {
      id status progress
      counts {
        total queued running retrying
        succeeded failed
      }
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
      edges {
        node {
          customId status attempts
          result error { message }
        }
      }
    }
  }
}
`;
