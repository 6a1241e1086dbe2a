import { Writable } from 'node:stream';
import { createLogger, operationLogger } from './index';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

// Every test goes through createLogger, the logger services really use.
describe('logging', () => {
  it('tags operation lines with event_id and the service, and leaves other lines untagged', () => {
    const { lines, stream } = capture();
    const root = createLogger('mq', 'info', {}, stream);
    operationLogger(root, 'ev-1', { task_id: 't-1' }).info('leased');
    root.info('no operation');
    expect(lines[0]).toMatchObject({ service: 'mq', event_id: 'ev-1', task_id: 't-1', msg: 'leased' });
    expect(lines[1]).toMatchObject({ service: 'mq', msg: 'no operation' });
    expect(lines[1].event_id).toBeUndefined();
  });

  it('redacts secrets at the top level and one level down, in operation loggers too', () => {
    const { lines, stream } = capture();
    const root = createLogger('api', 'info', {}, stream);
    root.info({ token: 'wharf_abc', password: 'pw', authorization: 'Bearer x' }, 'top');
    operationLogger(root, 'ev-2').info({ req: { secret: 's3cret', token: 't' }, keep: 'visible' }, 'nested');
    expect(lines[0]).toMatchObject({ token: '[redacted]', password: '[redacted]', authorization: '[redacted]' });
    expect(lines[1]).toMatchObject({ req: { secret: '[redacted]', token: '[redacted]' }, keep: 'visible', event_id: 'ev-2' });
    expect(JSON.stringify(lines)).not.toMatch(/wharf_abc|s3cret|Bearer x/);
  });

  it('honours the level', () => {
    const { lines, stream } = capture();
    const root = createLogger('mq', 'warn', {}, stream);
    root.info('hidden');
    root.warn('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });
});
