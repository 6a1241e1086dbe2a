import { Agent, request } from 'node:http';

export interface LoadResult {
  ok: number;
  /** Answers other than the expected status, by status. */
  badStatus: Record<string, number>;
  /** Requests that got no answer (reset, read error, timeout), with the first few messages. */
  errors: number;
  errorSamples: string[];
  bodies: Record<string, number>;
}

export interface KeepAliveLoad {
  readonly result: LoadResult;
  /** Stops the clients and resolves with the counts. */
  stop(): Promise<LoadResult>;
}

/**
 * A constant keep-alive load on 127.0.0.1: `connections` clients, each one connection reused
 * for request after request (like browsers and API clients), bounded by `maxMs` and
 * `maxRequests` whatever the caller does. Every request that does not get the expected status
 * counts, and so does every one that gets no answer at all: the read errors a reload causes.
 */
export function startKeepAliveLoad(options: {
  port: number;
  host: string;
  path?: string;
  connections?: number;
  expectStatus?: number;
  maxMs?: number;
  maxRequests?: number;
  /** What to count in `bodies`: the first word of each answer. */
  countBodies?: boolean;
}): KeepAliveLoad {
  const result: LoadResult = { ok: 0, badStatus: {}, errors: 0, errorSamples: [], bodies: {} };
  const connections = options.connections ?? 8;
  const deadline = Date.now() + (options.maxMs ?? 60_000);
  const maxRequests = options.maxRequests ?? 2_000_000;
  let sent = 0;
  let stopped = false;
  const loops: Promise<void>[] = [];
  for (let c = 0; c < connections; c++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    loops.push(
      (async () => {
        while (!stopped && Date.now() < deadline && sent < maxRequests) {
          sent++;
          await new Promise<void>((resolve) => {
            const req = request(
              { host: '127.0.0.1', port: options.port, path: options.path ?? '/', headers: { host: options.host }, agent, timeout: 10_000 },
              (res) => {
                const chunks: Buffer[] = [];
                res.on('data', (d: Buffer) => chunks.push(d));
                res.on('end', () => {
                  if (res.statusCode === (options.expectStatus ?? 200)) result.ok++;
                  else result.badStatus[String(res.statusCode)] = (result.badStatus[String(res.statusCode)] ?? 0) + 1;
                  if (options.countBodies) {
                    const word = Buffer.concat(chunks).toString().split(' ')[0];
                    result.bodies[word] = (result.bodies[word] ?? 0) + 1;
                  }
                  resolve();
                });
                res.on('error', (err) => fail(err));
              },
            );
            const fail = (err: Error) => {
              result.errors++;
              if (result.errorSamples.length < 5) result.errorSamples.push(err.message);
              resolve();
            };
            req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
            req.on('error', fail);
            req.end();
          });
        }
        agent.destroy();
      })(),
    );
  }
  return {
    result,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return result;
    },
  };
}
