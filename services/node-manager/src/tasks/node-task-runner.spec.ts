import { create, toBinary } from '@bufbuild/protobuf';
import { tasksV1 } from '@wharf/contracts';
import type { EventLogClient } from '@wharf/event-log-client';
import { ConcurrencyError, type NewEvent, type RecordedEvent } from '@wharf/event-store';
import { createLogger } from '@wharf/logging';
import type { MqTask } from '@wharf/mq-client';
import type { NodeDirectory, NodeRecord } from '@wharf/nodes';
import type { DockerEngine } from '../adapters/docker-engine.adapter';
import type { Machine } from '../adapters/machine.adapter';
import type { NodeAgent } from '../agent/node-agent';
import { NodeTaskRunner } from './node-task-runner';

/** Streams in memory with the event store's optimistic concurrency. */
class Streams {
  readonly streams = new Map<string, RecordedEvent[]>();
  async read(stream: string): Promise<RecordedEvent[]> {
    return [...(this.streams.get(stream) ?? [])];
  }
  async append(stream: string, events: NewEvent[], expected: number | 'any') {
    const list = this.streams.get(stream) ?? [];
    if (expected !== 'any' && expected !== list.length) throw new ConcurrencyError(stream, expected, list.length);
    for (const e of events)
      list.push({
        stream,
        version: list.length + 1,
        type: e.message.$typeName,
        message: e.message,
        timeMs: 0,
        eventId: e.eventId ?? '',
        actor: e.actor ?? '',
        position: '0',
      });
    this.streams.set(stream, list);
    return { version: list.length, position: '0' };
  }
}

/** What event-log was told: frames as text. */
function eventLog(frames: string[]): EventLogClient {
  return {
    operation: (eventId: string) => ({
      step: (name: string) => {
        frames.push(`${eventId} start ${name}`);
        return {
          line: (t: string) => frames.push(`${eventId} line ${t}`),
          ok: () => frames.push(`${eventId} ok ${name}`),
          fail: (m: string) => frames.push(`${eventId} fail ${name}: ${m}`),
        };
      },
      done: () => frames.push(`${eventId} done`),
    }),
    flush: async () => true,
  } as unknown as EventLogClient;
}

const record = (state: NodeRecord['state']) => ({ state }) as NodeRecord;
const engine = { containers: async () => [{ name: 'web-1', image: 'img', state: 'running', status: 'Up' }] } as unknown as DockerEngine;
const logger = createLogger('test', 'silent');

function runner(nodeId: string, store: Streams, frames: string[], state: NodeRecord['state'] = 'READY') {
  const directory = { record: async () => record(state) } as unknown as NodeDirectory;
  return new NodeTaskRunner(nodeId, 'dc1', directory, store, eventLog(frames), engine, {} as Machine, {} as NodeAgent, logger);
}

const task = (nodeId: string, nodeIds: string[], name = 'container-list'): MqTask =>
  ({
    taskId: 'evt-1',
    eventId: 'evt-1',
    topic: `node-task.${nodeId}`,
    payload: toBinary(tasksV1.NodeTaskSchema, create(tasksV1.NodeTaskSchema, { eventId: 'evt-1', nodeId, task: name, nodeIds })),
  }) as unknown as MqTask;

describe('NodeTaskRunner', () => {
  it('reports one step per node; only the last report says done', async () => {
    const store = new Streams();
    const frames: string[] = [];
    await runner('a', store, frames).handle(task('a', ['a', 'b']));
    expect(frames.filter((f) => f.endsWith('done'))).toEqual([]);
    await runner('b', store, frames).handle(task('b', ['a', 'b']));
    expect(frames).toEqual([
      'evt-1 start node a',
      'evt-1 line 1 containers of data center dc1',
      'evt-1 line web-1  img  running  Up',
      'evt-1 ok node a',
      'evt-1 start node b',
      'evt-1 line 1 containers of data center dc1',
      'evt-1 line web-1  img  running  Up',
      'evt-1 ok node b',
      'evt-1 done',
    ]);
    expect((await store.read('node-task/evt-1')).map((e) => (e.message as unknown as { nodeId: string }).nodeId)).toEqual(['a', 'b']);
  });

  it('does not run a redelivered task again', async () => {
    const store = new Streams();
    const frames: string[] = [];
    await runner('a', store, frames).handle(task('a', ['a']));
    const n = frames.length;
    await runner('a', store, frames).handle(task('a', ['a']));
    expect(frames).toHaveLength(n);
  });

  it('fails the step of an OFFLINE node, and of a task for another node', async () => {
    const store = new Streams();
    const frames: string[] = [];
    await runner('a', store, frames, 'OFFLINE').handle(task('a', ['a']));
    expect(frames).toContain('evt-1 fail node a: node a is OFFLINE: it runs no tasks');
    expect(frames).toContain('evt-1 done');
    const other: string[] = [];
    await runner('c', new Streams(), other).handle(task('d', ['d']));
    expect(other).toContain('evt-1 fail node c: task for node d reached node c');
  });
});
