/**
 * Ctrl-C in a terminal, or a cancelled workflow (the runner sends SIGINT, then SIGTERM): the work under way
 * says what it had done before the process ends with 130. A command registers what to say for as long as
 * it has something to say; with nothing registered the process just ends.
 */
type Handler = (signal: string) => void | Promise<void>;

const handlers = new Set<Handler>();
let installed = false;
let interrupted = false;

/** Registers a handler; returns the function that removes it. */
export function onInterrupt(handler: Handler): () => void {
  handlers.add(handler);
  return () => handlers.delete(handler);
}

/** For the entry points: on SIGINT or SIGTERM, run the handlers (at most `graceMs`), then exit 130. */
export function installInterruptHandling(exit: (code: number) => void = (code) => process.exit(code), graceMs = 5000) {
  if (installed) return;
  installed = true;
  const handle = (signal: string): void => {
    if (interrupted) return; // the runner's SIGTERM after its SIGINT: the first one is being handled
    interrupted = true;
    const timer = setTimeout(() => exit(130), graceMs);
    void Promise.allSettled([...handlers].map(async (h) => h(signal))).then(() => {
      clearTimeout(timer);
      exit(130);
    });
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
