import { mqV1 } from '@wharf/contracts';
import { createClient, type ServiceClient } from '@wharf/grpc';
import { spawnProcess, type ManagedProcess } from '@wharf/testing';
import { join } from 'node:path';

export const MQ_MAIN = join(__dirname, '..', 'dist', 'main.js');

export interface RunningMq {
  process: ManagedProcess;
  grpc: string;
  http: string;
  client: ServiceClient<typeof mqV1.MqService>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the built mq service as a real process on free ports. */
export async function startMq(etcdEndpoint: string, env: Record<string, string> = {}): Promise<RunningMq> {
  const proc = spawnProcess(process.execPath, [MQ_MAIN], {
    env: {
      ...process.env,
      WHARF_ETCD_ENDPOINTS: etcdEndpoint,
      WHARF_MQ_GRPC_ADDR: '127.0.0.1:0',
      WHARF_HTTP_PORT: '0',
      WHARF_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const [, grpc, http] = await proc.waitForOutput(/mq listening grpc=(\S+) http=(\S+)/);
  const client = createClient(mqV1.MqService, grpc);
  return {
    process: proc,
    grpc,
    http,
    client,
    async stop(signal = 'SIGTERM') {
      client.close();
      await proc.stop(signal);
    },
  };
}
