import type { ReadinessProbe } from '../domain/readiness';
import type { OperationLog } from './operation-log';

/** Readiness of the engine on the ingest thread, asked over the bridge; a thread that cannot answer is not ready. */
export function engineReadiness(operations: OperationLog): ReadinessProbe {
  return () => operations.readiness().catch((err: unknown) => ({ ready: false, reason: `ingest thread: ${err instanceof Error ? err.message : String(err)}` }));
}
