export { createEtcdClient, type EtcdClientOptions } from './client';
export {
  checkEtcdHealth,
  ETCD_DEFAULT_QUOTA_BYTES,
  EtcdHealthProbe,
  etcdReadinessCheck,
  etcdWritable,
  type EtcdAlarm,
  type EtcdAlarmName,
  type EtcdHealth,
  type EtcdHealthOptions,
} from './health';
export { KeyLayout } from './keys';
export { etcdMutex, type EtcdMutexOptions, type KeyedMutex } from './mutex';
export { isEtcdUnavailable } from './unavailable';
export { LiveWatch, watchLive } from './live-watch';
export {
  LeasedSlots,
  rendezvousOwner,
  slotOf,
  type LeasedSlotsOptions,
  type SlotHandlers,
  type SlotKeys,
  type SlotMember,
  type SlotOwner,
} from './leased-slots';
export {
  ElectedMaintainer,
  Etcd3MaintenanceApi,
  EtcdMaintainer,
  isCompactedError,
  type EtcdMaintainerOptions,
  type EtcdMaintenanceApi,
  type MaintainerLogger,
} from './maintainer';
export { defaultMaintenancePolicy, planMaintenance, type MaintenancePolicy } from './maintenance-policy';
export { registerEtcdMetrics } from './metrics';
export type { Etcd3 } from 'etcd3';
