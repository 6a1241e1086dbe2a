import { ConsecutiveBreaker, ExponentialBackoff, IBackoff, circuitBreaker, handleWhen, noop, retry } from 'cockatiel';
import { loopbackServerName, type TransportSecurity } from '@wharf/pki';
import { Etcd3, isRecoverableError } from 'etcd3';

export interface EtcdClientOptions {
  endpoints: string[];
  /** Mutual TLS (https endpoints; etcd runs with --client-cert-auth) or insecure-dev (http endpoints). */
  security: TransportSecurity;
  /** How many times a recoverable failure (connection lost, leader change) is retried. */
  maxAttempts?: number;
  dialTimeoutMs?: number;
  /** Largest response accepted (-1: no limit); grpc-js defaults to 4 MiB, less than a watch catch-up of big values. */
  maxReceiveMessageBytes?: number;
}

/**
 * The one way services open etcd. etcd3's default fault handling opens a per-host
 * circuit breaker for 5 s after three failures, which turns a 1 s etcd restart into
 * 5 s of errors; with one endpoint we retry with back-off instead, and keep the
 * breaker only when there are several hosts to fail over to.
 */
export function createEtcdClient(options: EtcdClientOptions): Etcd3 {
  const tls = options.security.mode === 'mtls' ? options.security.tls : undefined;
  // A mismatch would fail on the first call with a transport error far from its cause: say it here.
  const wrong = options.endpoints.filter((e) => e.startsWith('https://') !== !!tls);
  if (wrong.length) {
    throw new Error(
      tls
        ? `etcd endpoints ${wrong.join(', ')}: must be https:// (etcd is reached over mutual TLS)`
        : `etcd endpoints ${wrong.join(', ')}: https:// needs TLS material (WHARF_TLS_*), not WHARF_INSECURE_DEV`,
    );
  }
  const backoff = new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 });
  const hosts = options.endpoints.map((e) => e.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
  const serverName = tls && hosts.every((h) => loopbackServerName(h)) ? 'localhost' : undefined;
  const grpcOptions = {
    ...(options.maxReceiveMessageBytes !== undefined ? { 'grpc.max_receive_message_length': options.maxReceiveMessageBytes } : {}),
    ...(serverName ? { 'grpc.ssl_target_name_override': serverName } : {}),
  };
  return new Etcd3({
    hosts: options.endpoints,
    ...(tls ? { credentials: { rootCertificate: tls.ca, privateKey: tls.key, certChain: tls.cert } } : {}),
    dialTimeout: options.dialTimeoutMs ?? 3000,
    ...(Object.keys(grpcOptions).length ? { grpcOptions } : {}),
    faultHandling: {
      host: () =>
        options.endpoints.length > 1 ? circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 2000, breaker: new ConsecutiveBreaker(3) }) : noop,
      global: retry(handleWhen(isRecoverableError), { maxAttempts: options.maxAttempts ?? 8, backoff }),
      // etcd3 types this as IBackoff but calls .next() on it like a factory (watch.js), as its own default does.
      watchBackoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }) as unknown as IBackoff<unknown>,
    },
  });
}
