import { WharfError, type ErrorCode } from '@wharf/errors';
import type { Socket } from 'socket.io';

export interface WsError {
  code: ErrorCode;
  message: string;
  field?: string;
  reason?: string;
}

/** What every socket.io event answers: its ack, or for a client that asked for none, an 'error' event when it failed. */
export type Reply = { ok: true; [k: string]: unknown } | { ok: false; error: WsError };

export type AckFn = (reply: Reply) => void;

/** A thrown error as the client sees it: the @wharf/errors code and details; anything else is internal. */
export function errorReply(err: unknown): Reply {
  if (!(err instanceof WharfError) || err.code === 'internal') return { ok: false, error: { code: 'internal', message: 'internal error' } };
  return {
    ok: false,
    error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), ...(err.reason ? { reason: err.reason } : {}) },
  };
}

/** Answers one event: through the ack if the client asked for one, else failures as an 'error' event naming the event. */
export function reply(socket: Socket, event: string, ack: AckFn | undefined, answer: Reply): void {
  if (ack) ack(answer);
  else if (!answer.ok) socket.emit('error', { ok: false, event, error: answer.error });
}
