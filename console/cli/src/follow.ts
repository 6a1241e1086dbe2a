import type { Backend } from './backend';
import { CliError, EXIT } from './exit-codes';
import { emptyTimeline, foldTimeline, renderEntry, renderProgress, renderSummary } from './timeline';

export interface FollowOutput {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Longest a follow waits for a final status before it detaches by itself (an operation times out in event-log long before). */
const MAX_FOLLOW_MS = 6 * 3600_000;

/**
 * Follows an operation live: log lines and steps on stdout as they come, a one-line progress
 * display on stderr when it is a terminal, then the summary. Ctrl-C detaches (the operation
 * goes on in the data center) and says how to follow it again. Resolves with the exit code.
 */
export async function followLive(backend: Backend, eventId: string, kind: string, io: FollowOutput, options: { json?: boolean } = {}): Promise<number> {
  const state = emptyTimeline();
  const color = !!io.out.isTTY && !process.env.NO_COLOR;
  const progress = !!io.err.isTTY && !options.json;
  let spin = 0;
  let shown = false;
  const clear = () => {
    if (shown) io.err.write('\r\x1b[2K');
    shown = false;
  };
  const draw = () => {
    if (!progress) return;
    io.err.write(`\r\x1b[2K${renderProgress(state, Date.now(), spin++)}`);
    shown = true;
  };
  let refused: { code: string; message: string } | undefined;
  const follow = backend.follow(
    eventId,
    0,
    (entries) => {
      foldTimeline(state, entries);
      clear();
      for (const e of entries) {
        if (options.json) io.out.write(`${JSON.stringify(e)}\n`);
        else {
          const line = renderEntry(state, e, color);
          if (line !== undefined) io.out.write(`${line}\n`);
        }
      }
      draw();
    },
    (e) => (refused = e),
  );
  const ticker = progress ? setInterval(draw, 120) : undefined;
  let detached = false;
  const onSigint = () => {
    detached = true;
    follow.close();
  };
  process.once('SIGINT', onSigint);
  const limit = setTimeout(() => follow.close(), MAX_FOLLOW_MS);
  try {
    await follow.finished;
  } finally {
    clearTimeout(limit);
    if (ticker) clearInterval(ticker);
    process.removeListener('SIGINT', onSigint);
    clear();
  }
  if (refused) throw new CliError(`cannot follow ${eventId}: ${refused.message}`, refused.code === 'not_found' ? EXIT.notFound : EXIT.unavailable);
  if (detached || !state.final) {
    io.err.write(`detached from ${kind} ${eventId} (it goes on in the data center): wharf follow ${eventId}\n`);
    return EXIT.detached;
  }
  if (!options.json) (state.final.status === 'success' ? io.out : io.err).write(`${renderSummary(kind, state)}\n`);
  return state.final.status === 'success' ? EXIT.ok : EXIT.operationFailed;
}
