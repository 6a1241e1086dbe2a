import { ensureDockerEngine, type DockerEngine } from './docker';

// jest globalSetup/globalTeardown of the tiers that run containers: one Docker Engine for the
// whole run, started only if none is running, and stopped only if started here.
const KEY = Symbol.for('wharf.testing.dockerEngine');
type Holder = { [KEY]?: DockerEngine };

export async function setupDockerEngine(): Promise<void> {
  (globalThis as Holder)[KEY] = await ensureDockerEngine();
}

export async function teardownDockerEngine(): Promise<void> {
  await (globalThis as Holder)[KEY]?.stop();
}
