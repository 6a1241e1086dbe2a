import { Writable } from 'node:stream';
import pino from 'pino';
import { createLogger, operationLogger } from '@wharf/logging';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('tags operation lines with event_id and redacts secrets', () => {
    const { lines, stream } = capture();
    const root = pino({ base: { service: 'mq' } }, stream);
    operationLogger(root, 'ev-1', { task_id: 't-1' }).info({ token: 'abc' }, 'leased');
    root.info('no operation');
    expect(lines[0]).toMatchObject({ service: 'mq', event_id: 'ev-1', task_id: 't-1', msg: 'leased' });
    expect(lines[1].event_id).toBeUndefined();
    const { lines: l2, stream: s2 } = capture();
    createLogger('api', 'info', {}).child({}); // builds with the service defaults
    const redacting = pino({ redact: { paths: ['token'], censor: '[redacted]' } }, s2);
    redacting.info({ token: 'abc' }, 'x');
    expect(l2[0].token).toBe('[redacted]');
  });
});
