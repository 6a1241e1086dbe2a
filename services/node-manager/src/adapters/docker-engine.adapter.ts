import Docker from 'dockerode';

/** The labels that make an image Wharf's: the builder's stack images and replicas' images of this data center. */
export const WHARF_IMAGE_LABELS = (dataCenter: string) => ['org.wharf.stack', `wharf/data-center=${dataCenter}`];

export interface ContainerSummary {
  name: string;
  image: string;
  state: string;
  status: string;
}

/** The node's container runtime, through the Docker Engine API (never the CLI). */
export class DockerEngine {
  private readonly docker: Docker;
  readonly clockReference = "the Docker Engine's clock";

  constructor(
    readonly socketPath: string,
    timeoutMs = 3000,
  ) {
    this.docker = new Docker({ socketPath, timeout: timeoutMs });
  }

  get description(): string {
    return `Docker Engine at ${this.socketPath}`;
  }

  /** The Engine's ping: "answers ping (OK)" when it answers. */
  async ping(): Promise<string> {
    const answer: unknown = await this.docker.ping();
    return `answers ping (${Buffer.isBuffer(answer) ? answer.toString() : String(answer)})`;
  }

  /** The Engine's clock (its /info SystemTime) minus half the round trip's error, as local minus engine, ms. */
  async skewMs(now: () => number): Promise<number> {
    const sent = now();
    const info = (await this.docker.info()) as { SystemTime?: string };
    const received = now();
    const engine = Date.parse(info.SystemTime ?? '');
    if (Number.isNaN(engine)) throw new Error('the Docker Engine did not say its SystemTime');
    return Math.round((sent + received) / 2 - engine);
  }

  /** Containers of this data center (label wharf/data-center), running or not. */
  async containers(dataCenter: string): Promise<ContainerSummary[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`wharf/data-center=${dataCenter}`] } });
    return list.map((c) => ({ name: (c.Names[0] ?? c.Id).replace(/^\//, ''), image: c.Image, state: c.State, status: c.Status }));
  }

  /** The Engine's disk use by kind (images, containers, volumes, build cache), bytes. */
  async diskUsage(): Promise<Record<string, number>> {
    const df = (await this.docker.df()) as {
      LayersSize?: number;
      Containers?: { SizeRw?: number }[];
      Volumes?: { UsageData?: { Size?: number } }[];
      BuildCache?: { Size?: number }[];
    };
    const sum = (xs: (number | undefined)[] | undefined) => (xs ?? []).reduce<number>((a, b) => a + Math.max(0, b ?? 0), 0);
    return {
      images: df.LayersSize ?? 0,
      containers: sum(df.Containers?.map((c) => c.SizeRw)),
      volumes: sum(df.Volumes?.map((v) => v.UsageData?.Size)),
      build_cache: sum(df.BuildCache?.map((b) => b.Size)),
    };
  }

  /**
   * Removes dangling images (untagged, unused by any container) that carry one of Wharf's labels:
   * one prune per label, each with the Engine's own filters dangling=true and label=..., so an
   * image without a Wharf label, or with a tag, is never touched.
   */
  async pruneWharfImages(dataCenter: string): Promise<{ label: string; deleted: number; reclaimedBytes: number }[]> {
    const out: { label: string; deleted: number; reclaimedBytes: number }[] = [];
    for (const label of WHARF_IMAGE_LABELS(dataCenter)) {
      const res = (await this.docker.pruneImages({ filters: { dangling: ['true'], label: [label] } })) as {
        ImagesDeleted?: unknown[] | null;
        SpaceReclaimed?: number;
      };
      out.push({ label, deleted: res.ImagesDeleted?.length ?? 0, reclaimedBytes: res.SpaceReclaimed ?? 0 });
    }
    return out;
  }
}
