// `npm run up -- --runtime kubernetes` runs the test Kubernetes cluster (kubernetes-cluster.ts) as a
// long-lived process of the data center:
//
//   node libs/testing/dist/kubernetes-cluster-cli.js start --state DIR [--registry 127.0.0.1:PORT]...
//     starts a one-node cluster, writes DIR/kubeconfig (admin) and, once every node is Ready,
//     DIR/cluster.json (what it set up, for `cleanup`); SIGTERM or SIGINT stop the cluster and exit.
//   node libs/testing/dist/kubernetes-cluster-cli.js cleanup --state DIR
//     after a start process that died without stopping its cluster (SIGKILL): ends what
//     cluster.json names (its processes, the nodes' containers), deletes its network namespace and
//     temp dirs. Does nothing when cluster.json is gone (a clean stop removes it).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startKubernetesCluster, type KubernetesCluster } from './kubernetes-cluster';

/** What `cleanup` needs to undo a cluster whose process is gone. */
export interface ClusterRecord {
  readonly pid: number;
  readonly server: string;
  readonly kubeconfig: string;
  readonly binDir: string;
  readonly netns: string;
  readonly hostLink: string;
  readonly dirs: readonly string[];
  readonly mountNamespaces: readonly string[];
  /** Every process it ran when it became ready, with its start time (so a reused pid is never killed). */
  readonly processes: readonly { pid: number; start: string }[];
  readonly registryMirrors: Readonly<Record<string, string>>;
}

interface Args {
  command: 'start' | 'cleanup';
  state: string;
  registries: string[];
}

export function parseArgs(argv: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (command !== 'start' && command !== 'cleanup')
    throw new Error(`usage: kubernetes-cluster-cli start|cleanup --state DIR [--registry 127.0.0.1:PORT]... (got ${JSON.stringify(command ?? '')})`);
  let state = '';
  const registries: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const value = rest[i + 1];
    if (rest[i] === '--state' && value) state = value;
    else if (rest[i] === '--registry' && value) registries.push(value);
    else throw new Error(`unknown or incomplete argument ${JSON.stringify(rest[i])}`);
    i++;
  }
  if (!state) throw new Error('--state DIR is required');
  return { command, state, registries };
}

/** Field 22 of /proc/PID/stat (start time in clock ticks), or undefined when the process is gone. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function killIfSame(p: { pid: number; start: string }): void {
  if (startTime(p.pid) !== p.start) return;
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

function recordPath(state: string): string {
  return join(state, 'cluster.json');
}

async function start(args: Args): Promise<void> {
  const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);
  log(`starting a one-node Kubernetes cluster${args.registries.length ? ` (nodes pull from ${args.registries.join(', ')})` : ''}`);
  let cluster: KubernetesCluster | undefined;
  let starting = true;
  let stopping = false;
  let pending: { why: string; code: number } | undefined;
  const stop = async (why: string, code: number) => {
    // A half-started cluster is the harness's to undo (it does when its start fails): wait for it.
    if (starting) {
      pending ??= { why, code };
      return;
    }
    if (stopping) return;
    stopping = true;
    log(`${why}: stopping the cluster`);
    try {
      await cluster?.stop();
      rmSync(recordPath(args.state), { force: true });
      rmSync(join(args.state, 'kubeconfig'), { force: true });
      log('stopped');
    } catch (err) {
      log(`stop failed: ${(err as Error).message}`);
      code = code || 1;
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('uncaughtException', (err) => void stop(`uncaught ${err.stack ?? err.message}`, 1));
  process.on('unhandledRejection', (err) => void stop(`unhandled ${String(err)}`, 1));

  try {
    cluster = await startKubernetesCluster({ nodes: 1, registries: args.registries });
  } finally {
    starting = false;
  }
  if (pending) return stop(`${pending.why} (during the start)`, pending.code);
  const kubeconfig = join(args.state, 'kubeconfig');
  copyFileSync(cluster.kubeconfigPath, kubeconfig);
  chmodSync(kubeconfig, 0o600);
  const processes = (await cluster.processIds()).flatMap((pid) => {
    const s = startTime(pid);
    return s ? [{ pid, start: s }] : [];
  });
  const record: ClusterRecord = {
    pid: process.pid,
    server: cluster.server,
    kubeconfig,
    binDir: cluster.binDir,
    netns: cluster.host.netns,
    hostLink: cluster.host.hostLink,
    dirs: [cluster.host.dir, cluster.host.etcdDir],
    mountNamespaces: cluster.host.mountNamespaces,
    processes,
    registryMirrors: cluster.registryMirrors,
  };
  writeFileSync(recordPath(args.state), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  log(`ready in ${cluster.timings.totalMs} ms: ${cluster.server}, nodes ${cluster.nodes.map((n) => `${n.name} ${n.ip}`).join(', ')}, kubeconfig ${kubeconfig}`);
}

/** Ends what a dead start process left: processes (by pid and start time, and whatever runs in the nodes' mount namespaces), the namespace, the dirs. */
function cleanup(args: Args): void {
  const file = recordPath(args.state);
  if (!existsSync(file)) return;
  const record = JSON.parse(readFileSync(file, 'utf8')) as ClusterRecord;
  if (startTime(record.pid) !== undefined && readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').includes('kubernetes-cluster-cli')) {
    throw new Error(`the cluster's process ${record.pid} still runs: stop it first (SIGTERM)`);
  }
  for (const p of record.processes) killIfSame(p);
  const namespaces = new Set(record.mountNamespaces);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (namespaces.has(readlinkSync(`/proc/${entry}/ns/mnt`))) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  const quiet = (cmd: string, cmdArgs: string[]) => {
    try {
      execFileSync(cmd, cmdArgs, { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // already gone
    }
  };
  // The slot is ours while its pid file names our process: another cluster may have reclaimed
  // it since (the harness does so for a slot whose owner is dead), and its namespace is not ours.
  const slot = /^wharf-k8s-(\d+)$/.exec(record.netns)?.[1];
  const slotFile = `/run/wharf-k8s/slot-${slot}.pid`;
  let owner: string | undefined;
  try {
    owner = readFileSync(slotFile, 'utf8').trim();
  } catch {
    owner = undefined;
  }
  if (slot && owner === String(record.pid)) {
    quiet('ip', ['netns', 'del', record.netns]);
    quiet('ip', ['link', 'del', record.hostLink]);
    rmSync(slotFile, { force: true });
  }
  for (const d of record.dirs) rmSync(d, { recursive: true, force: true });
  rmSync(join(args.state, 'kubeconfig'), { force: true });
  rmSync(file, { force: true });
  process.stdout.write(`wharf: cleaned up the Kubernetes cluster left by process ${record.pid} (${record.netns})\n`);
}

if (require.main === module) {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`kubernetes-cluster-cli: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (args.command === 'cleanup') {
    try {
      cleanup(args);
    } catch (err) {
      process.stderr.write(`kubernetes-cluster-cli cleanup: ${(err as Error).message}\n`);
      process.exit(1);
    }
  } else {
    start(args).catch((err: Error) => {
      process.stderr.write(`kubernetes-cluster-cli: the cluster did not start: ${err.stack ?? err.message}\n`);
      process.exit(1);
    });
  }
}
