import type Docker from 'dockerode';

export interface RegistryAuth {
  username: string;
  password: string;
  /** host[:port] of the registry the credentials are for. */
  serveraddress: string;
}

export interface PushResult {
  digest: string;
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly lines: string[],
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

interface ProgressEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Tag?: string; Digest?: string; Size?: number };
}

/**
 * Pulls, tags, pushes and inspects images through the Docker Engine API (dockerode), with
 * credentials in the X-Registry-Auth header of each call: never written to a docker config
 * file, a command line or a log line.
 */
export class RegistryAdapter {
  constructor(private readonly docker: Docker) {}

  async pull(ref: string, auth: RegistryAuth | undefined, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    const stream = await this.call(
      `pull ${ref}`,
      () => this.docker.pull(ref, { ...(auth ? { authconfig: auth } : {}), abortSignal: signal }) as Promise<NodeJS.ReadableStream>,
    );
    await this.follow(stream, onLine, `pull ${ref}`);
  }

  async tag(source: string, repository: string, tag: string): Promise<void> {
    await this.docker.getImage(source).tag({ repo: repository, tag });
  }

  /** Pushes repository:tag and answers the manifest digest the registry stored. */
  async push(repository: string, tag: string, auth: RegistryAuth | undefined, onLine: (line: string) => void): Promise<PushResult> {
    const image = this.docker.getImage(`${repository}:${tag}`);
    const stream = await this.call(
      `push ${repository}:${tag}`,
      () => image.push({ tag, ...(auth ? { authconfig: auth } : {}) }) as Promise<NodeJS.ReadableStream>,
    );
    const events = await this.follow(stream, onLine, `push ${repository}:${tag}`);
    const digest = events.map((e) => e.aux?.Digest).find(Boolean) ?? events.map((e) => /digest: (sha256:[0-9a-f]{64})/.exec(e.status ?? '')?.[1]).find(Boolean);
    if (!digest) throw new RegistryError(`the registry answered no digest for ${repository}:${tag}`, []);
    return { digest };
  }

  async inspect(ref: string): Promise<{ id: string; size: number; repoDigests: string[] }> {
    const info = await this.docker.getImage(ref).inspect();
    return { id: info.Id, size: info.Size, repoDigests: info.RepoDigests ?? [] };
  }

  /** Removes one tag (the image stays while other tags or the build cache use its layers). */
  async untag(ref: string): Promise<void> {
    await this.docker
      .getImage(ref)
      .remove({ noprune: false })
      .catch(() => undefined);
  }

  /** The Engine answers some refusals (bad credentials, no such tag) on the request itself, before any stream. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const message = (err as Error).message.replace(/^\(HTTP code \d+\)\s*(server error|unexpected)?\s*-?\s*/, '').trim();
      throw new RegistryError(explain(what, message), []);
    }
  }

  private follow(stream: NodeJS.ReadableStream, onLine: (line: string) => void, what: string): Promise<ProgressEvent[]> {
    const lines: string[] = [];
    const seen = new Set<string>();
    return new Promise((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null, output: ProgressEvent[]) => {
          const failed = output?.find((o) => o.error || o.errorDetail);
          if (err || failed)
            reject(new RegistryError(explain(what, err?.message ?? failed?.errorDetail?.message ?? failed?.error ?? 'failed'), lines.slice(-15)));
          else resolve(output ?? []);
        },
        (e: ProgressEvent) => {
          // Layer states once each (not every progress tick), and every message without a layer.
          if (!e.status || e.error) return;
          const key = `${e.id ?? ''} ${e.status}`;
          if (e.progressDetail?.current !== undefined || seen.has(key)) return;
          seen.add(key);
          const line = e.id ? `${e.id}: ${e.status}` : e.status;
          lines.push(line);
          onLine(line);
        },
      );
    });
  }
}

function explain(what: string, message: string): string {
  if (/unauthorized|authentication required|no basic auth credentials|denied/i.test(message))
    return `${what}: the registry refused the credentials (${message})`;
  if (/manifest unknown|not found|does not exist/i.test(message)) return `${what}: no such image or tag (${message})`;
  if (/connection refused|no such host|i\/o timeout|dial tcp/i.test(message)) return `${what}: the registry is unreachable (${message})`;
  return `${what}: ${message}`;
}
