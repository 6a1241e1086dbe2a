import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import type { Tenant } from '@wharf/identity';
import { makeTask } from '@wharf/tasks';
import type { AppView, ComponentView, OperationView, VersionView } from '../catalog';
import { appView } from './app.view';
import { componentJson, componentSummary, componentSummaryJson, componentView } from './component.view';
import { operationArgs, operationView } from './operation.view';
import { quotaView, tenantView } from './tenant.view';
import { versionView } from './version.view';

const header = { eventId: 'evt-1', tenantId: 'acme', componentId: 'acme.shop.api' };

const component = (): ComponentView => ({
  id: 'acme.shop.api',
  appId: 'acme.shop',
  tenantId: 'acme',
  name: 'api',
  spec: create(eventsV1.ComponentSpecSchema, {
    name: 'api',
    source: { case: 'git', value: { url: 'https://git.example/a.git', branch: 'main', subDir: 'srv', dockerfile: '' } },
    env: [
      { name: 'MODE', value: 'prod' },
      { name: 'PW', secret: true, encryptedValue: new Uint8Array([1, 2]) },
    ],
    replicas: 2,
    volumes: [{ name: 'data', mountPath: '/data', sizeMib: 10 }],
    probe: { kind: 'http', path: '/healthz', port: 8080, periodS: 10, failureThreshold: 3 },
  }),
  version: 3,
  createdAtMs: 1,
  updatedAtMs: 2,
  deleted: false,
  activeOperation: 'evt-1',
  versions: [],
});

describe('views', () => {
  it('shows a tenant with its quota in snake case', () => {
    const t = { id: 'acme', name: 'acme', createdAtMs: 5, quota: { maxApps: 1, maxComponents: 2, maxCpuMillis: 3, maxMemoryMib: 4 } } as Tenant;
    expect(tenantView(t)).toEqual({
      id: 'acme',
      name: 'acme',
      created_at_ms: 5,
      quota: { max_apps: 1, max_components: 2, max_cpu_millis: 3, max_memory_mib: 4 },
    });
    expect(quotaView(t)).toEqual(tenantView(t).quota);
  });

  it('shows an app with its component count', () => {
    const a: AppView = { id: 'acme.shop', tenantId: 'acme', name: 'shop', description: 'd', createdAtMs: 7, version: 2, deleted: false };
    expect(appView(a, 3)).toEqual({ id: 'acme.shop', name: 'shop', description: 'd', version: 2, created_at_ms: 7, components: 3 });
  });

  it('shows a version without a build event as null', () => {
    const v: VersionView = { id: 'v1', source: 'sha', image: 'reg/a:v1', buildEventId: '', status: 'success', timeMs: 9 };
    expect(versionView(v)).toEqual({ id: 'v1', source: 'sha', image: 'reg/a:v1', build_event_id: null, status: 'success', created_at_ms: 9 });
  });

  it('never shows a secret value, marks volumes as stateful, and serialises a component once per change', () => {
    const c = component();
    const view = componentView(c);
    expect(view.env).toEqual([
      { name: 'MODE', secret: false, value: 'prod' },
      { name: 'PW', secret: true, value: null },
    ]);
    expect(view).toMatchObject({
      stateful: true,
      source: { git: { url: 'https://git.example/a.git', branch: 'main', sub_dir: 'srv' } },
      active_operation: 'evt-1',
    });
    expect(view.probe).toEqual({ kind: 'http', path: '/healthz', port: 8080, command: undefined, initial_delay_s: 0, period_s: 10, failure_threshold: 3 });
    expect(componentView(c)).toBe(view); // cached on the entry
    expect(JSON.parse(componentJson(c))).toEqual(JSON.parse(JSON.stringify(view)));
    c.cache = undefined; // what the catalog does when an event touches the component
    expect(componentView(c)).not.toBe(view);
  });

  it('summarises a component for lists', () => {
    const c = component();
    expect(componentSummary(c)).toEqual({
      id: 'acme.shop.api',
      name: 'api',
      version: 3,
      source: { git: { url: 'https://git.example/a.git', branch: 'main' } },
      replicas: 2,
      active_operation: 'evt-1',
      updated_at_ms: 2,
    });
    expect(JSON.parse(componentSummaryJson(c))).toEqual(componentSummary(c));
  });

  it("shows each kind's typed arguments", () => {
    const source = { kind: { case: 'image' as const, value: { image: 'nginx' } } };
    expect(operationArgs(makeTask('build', { ...header, source, deployAfter: true }))).toEqual({ source: { image: 'nginx' }, deploy_after: true });
    expect(operationArgs(makeTask('scale', { ...header, replicas: 0 }))).toEqual({ replicas: 0 });
    expect(operationArgs(makeTask('rollback', { ...header, versionId: 'v1' }))).toEqual({ version_id: 'v1' });
    expect(operationArgs(makeTask('upgrade', header))).toEqual({});
    expect(operationArgs(makeTask('pause', { ...header, rolloutEventId: 'evt-0' }))).toEqual({ rollout_event_id: 'evt-0' });
    expect(operationArgs(makeTask('stop', header))).toEqual({});
    expect(operationArgs(undefined)).toEqual({});
  });

  it('shows an operation without its empty message and step as null', () => {
    const o: OperationView = {
      eventId: 'evt-1',
      kind: 'scale',
      target: 'component/acme.shop.api',
      tenantId: 'acme',
      status: 'pending',
      message: '',
      failedStep: '',
      task: makeTask('scale', { ...header, replicas: 3 }),
      actor: 'user:admin',
      createdAtMs: 1,
    };
    expect(operationView(o)).toEqual({
      event_id: 'evt-1',
      kind: 'scale',
      target: 'component/acme.shop.api',
      status: 'pending',
      message: null,
      failed_step: null,
      args: { replicas: 3 },
      actor: 'user:admin',
      created_at_ms: 1,
      finished_at_ms: null,
    });
  });
});
