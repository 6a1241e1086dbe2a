import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { UnavailableError } from '@wharf/errors';
import { ConcurrencyError } from '@wharf/event-store';
import { ManualClock } from '@wharf/testing';
import { GRPCUnavailableError } from 'etcd3';
import { MemoryEventStore } from '../../test/memory-event-store';
import { DependencyState } from '../domain/dependency-state';
import { GuardedEventStore } from './guarded-event-store.adapter';

const event = () => [{ message: create(eventsV1.TenantCreatedSchema, { tenantId: 'acme', name: 'acme' }) }];

describe('GuardedEventStore', () => {
  it('marks etcd down when a call cannot reach it, then refuses without calling until it is up again', async () => {
    const inner = new MemoryEventStore();
    const etcd = new DependencyState('etcd', new ManualClock());
    const store = new GuardedEventStore(inner, etcd);
    let calls = 0;
    const append = inner.append.bind(inner);
    inner.append = async (...args) => {
      calls++;
      if (calls === 1) throw new GRPCUnavailableError('14 UNAVAILABLE: No connection established');
      return append(...args);
    };
    await expect(store.append('tenant/acme', event(), 0)).rejects.toBeInstanceOf(UnavailableError);
    expect(etcd.up).toBe(false);
    await expect(store.append('tenant/acme', event(), 0)).rejects.toThrow(/^etcd is unavailable .*No connection established/);
    expect(calls).toBe(1); // refused at once
    expect(etcd.refused).toBe(1);
    etcd.markUp(); // the probe got an answer
    await expect(store.append('tenant/acme', event(), 0)).resolves.toMatchObject({ version: 1 });
  });

  it('passes the store own errors through and keeps etcd up', async () => {
    const etcd = new DependencyState('etcd', new ManualClock());
    const store = new GuardedEventStore(new MemoryEventStore(), etcd);
    await store.append('tenant/acme', event(), 0);
    await expect(store.append('tenant/acme', event(), 0)).rejects.toBeInstanceOf(ConcurrencyError);
    expect(etcd.up).toBe(true);
  });
});
