import { makeTask } from '@wharf/tasks';
import { placesNewReplicas } from './placement-gate';

const h = { eventId: 'evt-1', tenantId: 't', componentId: 't.a.c' };

describe('placesNewReplicas', () => {
  it.each([
    ['deploy', makeTask('deploy', { ...h, versionId: '' }), true],
    ['upgrade', makeTask('upgrade', { ...h, versionId: '' }), true],
    ['rollback', makeTask('rollback', { ...h, versionId: 'v1' }), true],
    ['restart', makeTask('restart', h), true],
    ['start', makeTask('start', h), true],
    ['scale up', makeTask('scale', { ...h, replicas: 3 }), true],
    ['scale to the same', makeTask('scale', { ...h, replicas: 2 }), false],
    ['scale down', makeTask('scale', { ...h, replicas: 0 }), false],
    ['stop', makeTask('stop', h), false],
    ['delete', makeTask('delete', h), false],
    ['pause', makeTask('pause', { ...h, rolloutEventId: 'evt-0' }), false],
  ])('%s -> %s', (_name, task, expected) => {
    expect(placesNewReplicas(task, { replicas: 2 })).toBe(expected);
  });
});
