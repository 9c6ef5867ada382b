/** Resolves on the first SIGINT/SIGTERM (or when `alsoOn` settles), so commands can shut down cleanly. */
export function untilInterrupted(alsoOn?: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    alsoOn?.then(done, done);
  });
}
