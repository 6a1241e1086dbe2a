import type { Clock } from '@wharf/system';
import { DcBackoff, type BackoffSettings } from '../domain/dc-backoff';
import { DataCenterUnreachableError, type DataCenterApi, type DcHealth, type DcResponse, type DcTarget } from '../domain/ports';

export interface HttpDataCenterApiOptions extends BackoffSettings {
  /** Longest one call may take; past it the data center counts as unreachable. */
  timeoutMs: number;
}

/**
 * Data centers' REST APIs over fetch: every call bounded by its timeout, and a data center
 * that failed is backed off (domain/dc-backoff.ts): its calls fail at once, one trial call
 * at a time goes out, so a dead data center costs the others nothing. Only a failure to get
 * an answer (refused, reset, timed out, 502-504 from a proxy in front) counts against it;
 * an HTTP answer of any other status is the data center answering.
 */
export class HttpDataCenterApi implements DataCenterApi {
  private readonly states = new Map<string, DcBackoff>();

  constructor(
    private readonly options: HttpDataCenterApiOptions,
    private readonly clock: Clock,
  ) {}

  private state(dcId: string): DcBackoff {
    let s = this.states.get(dcId);
    if (!s) this.states.set(dcId, (s = new DcBackoff(this.options)));
    return s;
  }

  health(dcId: string): DcHealth {
    return this.state(dcId).health;
  }

  forget(dcId: string): void {
    this.states.delete(dcId);
  }

  async call(dc: DcTarget, token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<DcResponse> {
    const state = this.state(dc.id);
    if (!state.admit(this.clock.now())) {
      const h = state.health;
      throw new DataCenterUnreachableError(
        dc.id,
        `${dc.name} is unreachable (${h.message}); next try in ${Math.max(0, (h.retryAtMs ?? 0) - this.clock.now())} ms`,
      );
    }
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${dc.apiUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'error',
      });
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (e.cause?.code ?? e.message);
      state.failed(this.clock.now(), why);
      throw new DataCenterUnreachableError(dc.id, `${dc.name} is unreachable: ${why}`);
    }
    if (res.status >= 502 && res.status <= 504 && !text.startsWith('{"error"')) {
      state.failed(this.clock.now(), `HTTP ${res.status} from in front of it`);
      throw new DataCenterUnreachableError(dc.id, `${dc.name} is unreachable: HTTP ${res.status}`);
    }
    state.succeeded(this.clock.now());
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { error: { code: 'bad_answer', message: `not JSON: ${text.slice(0, 200)}` } };
    }
    const etag = res.headers.get('etag') ?? undefined;
    return { status: res.status, body: json, ...(etag ? { etag } : {}) };
  }
}
