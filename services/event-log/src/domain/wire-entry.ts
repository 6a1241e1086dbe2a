import { eventsV1 } from '@wharf/contracts';
import type { EntryRecord } from './records';

/** Timeline entry as socket.io and HTTP clients see it (JSON). */
export type WireEntry =
  | { seq: number; stored_ms: number; type: 'step_started'; step: string }
  | { seq: number; stored_ms: number; type: 'step_finished'; step: string; status: 'success' | 'failure'; message: string }
  | { seq: number; stored_ms: number; type: 'line'; time_ms: number; level: LevelName; step: string; text: string }
  | { seq: number; stored_ms: number; type: 'final'; status: StatusName; message: string; failed_step: string };

export type LevelName = 'debug' | 'info' | 'warn' | 'error';
export type StatusName = 'pending' | 'running' | 'success' | 'failure' | 'timeout' | 'unknown';

const levels: Record<number, LevelName> = { 1: 'debug', 2: 'info', 3: 'warn', 4: 'error' };
export const statusNames: Record<number, StatusName> = {
  [eventsV1.OperationStatus.PENDING]: 'pending',
  [eventsV1.OperationStatus.RUNNING]: 'running',
  [eventsV1.OperationStatus.SUCCESS]: 'success',
  [eventsV1.OperationStatus.FAILURE]: 'failure',
  [eventsV1.OperationStatus.TIMEOUT]: 'timeout',
};

export function toWire(r: EntryRecord): WireEntry {
  switch (r.k) {
    case 'ss':
      return { seq: r.s, stored_ms: r.t, type: 'step_started', step: r.st };
    case 'sf':
      return { seq: r.s, stored_ms: r.t, type: 'step_finished', step: r.st, status: r.ok ? 'success' : 'failure', message: r.m };
    case 'l':
      return { seq: r.s, stored_ms: r.t, type: 'line', time_ms: r.tm, level: levels[r.lv] ?? 'info', step: r.st, text: r.x };
    case 'f':
      return { seq: r.s, stored_ms: r.t, type: 'final', status: statusNames[r.ss] ?? 'unknown', message: r.m, failed_step: r.fs };
  }
}
