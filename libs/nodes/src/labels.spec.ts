import { InvalidArgumentError } from '@wharf/errors';
import fc from 'fast-check';
import {
  kubernetesNodeLabels,
  labelKeyProblem,
  labelValueProblem,
  matchesPlacement,
  nodeIdFromHostname,
  nodeIdProblem,
  parseLabelList,
  validateLabels,
  validatePlacement,
  validateRoles,
} from './labels';

describe('Kubernetes label syntax', () => {
  it.each(['zone', 'topology.kubernetes.io/zone', 'wharf.io/disk-type', 'a', 'A_b.c-1', 'x'.repeat(63), `${'a'.repeat(253)}/n`])('accepts key %s', (key) =>
    expect(labelKeyProblem(key)).toBeUndefined(),
  );

  it.each([
    ['', 'the name must not be empty'],
    ['-zone', 'starting and ending with a letter or digit'],
    ['zone_', 'starting and ending'],
    ['has space', 'the name must be A-Z'],
    ['x'.repeat(64), '63 characters or less'],
    ['/zone', 'the prefix before "/" must not be empty'],
    ['Wharf.io/zone', 'the prefix must be a DNS subdomain'],
    ['a/b/c', 'the prefix must be a DNS subdomain'],
    [`${'a'.repeat(254)}/n`, '253 characters or less'],
    ['wharf.io/', 'the name must not be empty'],
  ])('refuses key %j: %s', (key, problem) => expect(labelKeyProblem(key)).toContain(problem));

  it.each(['', 'ssd', 'eu-west-1', 'A.b_c', 'x'.repeat(63)])('accepts value %j', (v) => expect(labelValueProblem(v)).toBeUndefined());
  it.each([['x'.repeat(64)], ['-a'], ['a b'], ['é']])('refuses value %j', (v) => expect(labelValueProblem(v)).toBeDefined());

  it('names every bad label in one error, and the first as the field', () => {
    let err: unknown;
    try {
      validateLabels({ good: 'yes', 'bad key': 'x', zone: '-nope' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const e = err as InvalidArgumentError;
    expect(e.message).toContain('label "bad key"');
    expect(e.message).toContain('label "zone"="-nope"');
    expect(e.message).not.toContain('"good"');
    expect(e.message).toContain('no label was changed');
    expect(e.field).toBe('labels["bad key"]');
  });

  it('refuses non-string values and too many labels', () => {
    expect(() => validateLabels({ a: 1 })).toThrow('the value must be a string');
    expect(() => validateLabels(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])))).toThrow('at most 64 labels');
  });

  it('agrees with a plain model of the name rule on random strings (fast-check)', () => {
    const model = (s: string) => s.length >= 1 && s.length <= 63 && /^[A-Za-z0-9]$|^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$/.test(s);
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', ' ', '/'), maxLength: 70 }),
        (s) => s.includes('/') || (labelKeyProblem(s) === undefined) === model(s),
      ),
    );
  });

  it('parses WHARF_NODE_LABELS', () => {
    expect(parseLabelList('zone=a, disk=ssd,empty=', 'WHARF_NODE_LABELS')).toEqual({ zone: 'a', disk: 'ssd', empty: '' });
    expect(() => parseLabelList('zone', 'WHARF_NODE_LABELS')).toThrow('"zone" must be name=value');
  });
});

describe('roles and node ids', () => {
  it('orders known roles and refuses unknown ones', () => {
    expect(validateRoles(['compute', 'manage', 'compute'])).toEqual(['manage', 'compute']);
    expect(() => validateRoles(['compute', 'cook'])).toThrow('"cook" is no role (manage, compute, gateway, storage)');
  });

  it('takes short DNS names as node ids', () => {
    expect(nodeIdProblem('node-1')).toBeUndefined();
    expect(nodeIdProblem('host.example')).toBeUndefined();
    expect(nodeIdProblem('Node_1')).toContain('must be 1-52 characters');
    expect(nodeIdProblem('a'.repeat(53))).toBeDefined();
    expect(nodeIdFromHostname('My_Host.Local')).toBe('my-host.local');
    expect(nodeIdProblem(nodeIdFromHostname('--' + 'x'.repeat(80)))).toBeUndefined();
    expect(nodeIdFromHostname('___')).toBe('node');
  });
});

describe('node labels on Kubernetes', () => {
  it.each([
    ['kubernetes.io/hostname', 'reserved for Kubernetes'],
    ['node-role.kubernetes.io/compute', 'reserved for Kubernetes'],
    ['topology.kubernetes.io/zone', 'reserved for Kubernetes'],
    ['kubelet.k8s.io/x', 'reserved for Kubernetes'],
    ['wharf.io/role-compute', "labels are the node's roles"],
  ])('refuses the reserved key %s on a node, changing nothing', (key, problem) => {
    expect(() => validateLabels({ zone: 'a', [key]: 'x' })).toThrow(problem);
    expect(() => validateLabels({ [key]: 'x' })).toThrow('no label was changed');
  });
  it('accepts other prefixes that merely contain those words', () => {
    expect(validateLabels({ 'example.com/zone': 'a', 'notkubernetes.io/x': 'y', 'team/owner': 'ops', 'wharf.io/disk': 'ssd' })).toBeDefined();
  });
  it('puts one label per role beside the labels', () => {
    expect(kubernetesNodeLabels({ labels: { zone: 'a' }, roles: ['manage', 'compute'] })).toEqual({
      zone: 'a',
      'wharf.io/role-manage': 'true',
      'wharf.io/role-compute': 'true',
    });
  });
  it('validates a placement (any label key) and matches it against a node, its name as kubernetes.io/hostname', () => {
    expect(validatePlacement({ 'kubernetes.io/hostname': 'node-1', zone: 'a' })).toEqual({ 'kubernetes.io/hostname': 'node-1', zone: 'a' });
    expect(() => validatePlacement({ 'bad key': 'a' })).toThrow('placement: label "bad key": the name must be');
    expect(() => validatePlacement({ zone: 3 })).toThrow('the value must be a string');
    expect(() => validatePlacement(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, 'v'])))).toThrow('at most 16');
    const n = { id: 'node-1', labels: { zone: 'a' }, roles: ['compute'] };
    expect(matchesPlacement(n, {})).toBe(true);
    expect(matchesPlacement(n, { zone: 'a', 'wharf.io/role-compute': 'true', 'kubernetes.io/hostname': 'node-1' })).toBe(true);
    expect(matchesPlacement(n, { zone: 'b' })).toBe(false);
    expect(matchesPlacement(n, { 'kubernetes.io/hostname': 'node-2' })).toBe(false);
  });
});
