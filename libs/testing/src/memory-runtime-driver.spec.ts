import { FakeRuntime, MemoryRuntimeDriver } from './memory-runtime-driver';
import { runtimeDriverBehaviour, type DriverFixture } from './runtime-driver-behaviour';

// The fake passes the same behaviour suite as the Docker driver (docker-driver.integration-spec.ts).
runtimeDriverBehaviour(
  'in-memory fake',
  async (): Promise<DriverFixture> => {
    const runtime = new FakeRuntime();
    runtime.images.set('http:1', { logs: ['listening'] });
    runtime.images.set('crash:1', { logs: ['boom'], exitAfterMs: 0, exitCode: 3 });
    runtime.images.set('oom:1', { oomAfterMs: 20 });
    runtime.images.set('chatty:1', { tickEveryMs: 20 });
    let next = 20000;
    return {
      driver: new MemoryRuntimeDriver(runtime, 'dc-a'),
      other: new MemoryRuntimeDriver(runtime, 'dc-b', 'wharf2'),
      images: { http: 'http:1', crash: 'crash:1', oom: 'oom:1', chatty: 'chatty:1' },
      port: 8080,
      runId: 'fake',
      async holdHostPort() {
        const port = next++;
        runtime.hostPorts.add(port);
        return { port, release: async () => void runtime.hostPorts.delete(port) };
      },
    };
  },
  async () => undefined,
);
