import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdInstance } from './etcd';
import { freePort } from './ports';
import { startApiGateway, startEventLog, type RunningApiGateway, type RunningEventLog } from './services';

export interface RunningDataCenter {
  name: string;
  api: RunningApiGateway;
  eventLog: RunningEventLog;
  /** http://127.0.0.1:PORT of its api-gateway (REST, socket.io and history under one address). */
  url: string;
  adminToken: string;
  /** SIGSTOP the api-gateway: it hangs, connections are accepted and never answered. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/**
 * How long each of its processes may take to start: a second or two on an idle machine, past
 * 30 s at a load of 40 on 2 cores (seen while other suites ran Kubernetes clusters beside).
 */
const START_TIMEOUT_MS = 90_000;

/**
 * One data center as far as it exists without workers: event-log and api-gateway on their own
 * etcd prefix of a shared etcd (so several run on one machine; certificates from its PKI), event-log proxied under the
 * API's address. No mq: operations are accepted and their tasks retried in the background.
 */
export async function startDataCenter(
  etcd: EtcdInstance,
  name: string,
  env: Record<string, string> = {},
  timeoutMs = START_TIMEOUT_MS,
): Promise<RunningDataCenter> {
  const prefix = `/dc-${name}`;
  const dataDir = mkdtempSync(join(tmpdir(), `wharf-dc-${name}-`));
  const eventLog = await startEventLog(etcd, dataDir, { WHARF_ETCD_PREFIX: prefix, ...env }, timeoutMs);
  const api = await startApiGateway(
    etcd,
    `127.0.0.1:${await freePort()}`,
    {
      WHARF_ETCD_PREFIX: prefix,
      WHARF_DC_NAME: name,
      WHARF_EVENTLOG_ADDR: eventLog.grpc,
      WHARF_EVENTLOG_HTTP_URL: eventLog.url,
      ...env,
    },
    timeoutMs,
  );
  let paused = false;
  const resume = () => {
    if (paused) process.kill(api.process.pid, 'SIGCONT');
    paused = false;
  };
  return {
    name,
    api,
    eventLog,
    url: api.url,
    adminToken: api.adminToken!,
    pause() {
      paused = true;
      process.kill(api.process.pid, 'SIGSTOP');
    },
    resume,
    async stop() {
      resume();
      await api.stop();
      await eventLog.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
