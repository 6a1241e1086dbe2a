import { BrokenCircuitError, TaskCancelledError } from 'cockatiel';
import { GRPCDeadlineExceededError, isRecoverableError } from 'etcd3';

/**
 * Did this call fail because etcd could not be reached (down, restarting, no leader, too
 * slow), rather than because of what was asked? Callers answer such failures as
 * `unavailable` (and may stop calling for a while), never as a bug.
 */
export function isEtcdUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return isRecoverableError(err) || err instanceof GRPCDeadlineExceededError || err instanceof BrokenCircuitError || err instanceof TaskCancelledError;
}
