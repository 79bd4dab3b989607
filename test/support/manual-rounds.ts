/**
 * Test support for replicas started with `manualRounds: true`: runs rounds until a promise
 * (e.g. an agent call waiting for its certificate) settles.
 */

/** Runs `replica.runRound()` every 10 ms until `p` settles; resolves or rejects as `p` does. */
export async function withRounds<T>(replica: { runRound(): Promise<unknown> }, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => {});
  while (!done) {
    await replica.runRound();
    await new Promise((res) => setTimeout(res, 10));
  }
  return p;
}
