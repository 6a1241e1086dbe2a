import { create } from '@bufbuild/protobuf';
import { eventlogV1 } from '@wharf/contracts';
import { foldSteps } from './steps';

const entry = (seq: number, body: eventlogV1.Entry['body']) => create(eventlogV1.EntrySchema, { seq: BigInt(seq), storedMs: BigInt(1000 + seq), body });

describe('foldSteps', () => {
  it('turns a timeline into steps in start order, skipping log lines, across pages', () => {
    const page1 = [
      entry(1, { case: 'stepStarted', value: create(eventlogV1.StepStartedSchema, { step: 'clone' }) }),
      entry(2, { case: 'line', value: create(eventlogV1.LogLineSchema, { text: 'Cloning...' }) }),
      entry(3, { case: 'stepFinished', value: create(eventlogV1.StepFinishedSchema, { step: 'clone', status: eventlogV1.StepStatus.SUCCESS }) }),
      entry(4, { case: 'stepStarted', value: create(eventlogV1.StepStartedSchema, { step: 'build' }) }),
    ];
    const page2 = [
      entry(5, { case: 'stepStarted', value: create(eventlogV1.StepStartedSchema, { step: 'push' }) }),
      entry(6, {
        case: 'stepFinished',
        value: create(eventlogV1.StepFinishedSchema, { step: 'build', status: eventlogV1.StepStatus.FAILURE, message: 'exit 2' }),
      }),
    ];
    const steps = [...foldSteps(page2, foldSteps(page1)).values()];
    expect(steps).toEqual([
      { name: 'clone', status: 'success', message: null, started_at_ms: 1001, finished_at_ms: 1003 },
      { name: 'build', status: 'failure', message: 'exit 2', started_at_ms: 1004, finished_at_ms: 1006 },
      { name: 'push', status: 'running', message: null, started_at_ms: 1005, finished_at_ms: null },
    ]);
  });
});
