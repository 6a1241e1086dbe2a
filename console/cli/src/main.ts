import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import * as c from './commands';
import { CliError, EXIT } from './exit-codes';
import * as n from './node-commands';
import * as r from './route-commands';

const intArg = (what: string, min: number, max: number) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`${what} must be a whole number ${min}-${max}`);
  return Number(value);
};
const collect = (value: string, previous: string[]) => [...previous, value];
const collectPort = (value: string, previous: number[]) => [...previous, intArg('port', 1, 65535)(value)];

/** Runs an action and turns its outcome into the exit code; errors go to stderr as one line. */
const run =
  <A extends unknown[]>(action: (...args: A) => Promise<number | void>) =>
  async (...args: A) => {
    try {
      process.exitCode = (await action(...args)) ?? EXIT.ok;
    } catch (err) {
      if (err instanceof CliError) {
        process.stderr.write(`wharf: ${err.message}\n`);
        process.exitCode = err.exitCode;
      } else {
        process.stderr.write(`wharf: unexpected error: ${(err as Error).stack ?? err}\n`);
        process.exitCode = 70;
      }
    }
  };

export function program(): Command {
  const p = new Command('wharf')
    .description('Wharf: build, deploy and operate components in a data center, or in several through a console')
    .version('0.1.0')
    .showHelpAfterError('(wharf --help lists the commands)')
    // `components --dc x create ...` and `components create ... --dc x` each mean their own command's --dc.
    .enablePositionalOptions()
    .exitOverride();
  const common = (cmd: Command, json = true) => {
    cmd.option('--tenant <team>', 'team (tenant) for APP and APP/COMPONENT arguments (default: the one of your login)');
    cmd.option('--dc <name>', 'through a console: the data center (several, comma-separated, for create)');
    if (json) cmd.option('--json', 'print JSON');
    return cmd;
  };

  p.command('login')
    .description('log in to a data center (--token) or a console (--user); the token is kept 0600 in $XDG_CONFIG_HOME/wharf')
    .argument('<url>', 'the data center API or console URL, e.g. http://127.0.0.1:32400')
    .option('--token <token>', 'a data-center token (wharf_...); or WHARF_TOKEN')
    .option('--user <name>', 'a console user (asks for the password)')
    .option('--password-stdin', 'read the console password from stdin')
    .option('--tenant <team>', 'default team')
    .option('--dc <name>', 'console: default data center')
    .action(run((url: string, o: Parameters<typeof c.login>[1]) => c.login(url, o)));
  p.command('logout').description('end the session and forget the token').action(run(c.logout));
  common(p.command('whoami').description('who and where you are logged in')).action(run(c.whoami));

  common(p.command('apps').description('apps of your teams (through a console: across every data center)')).action(run(c.apps));
  const app = p.command('app').description('apps');
  common(app.command('create').description('create an app').argument('<app>', 'APP or TEAM/APP').option('--description <text>')).action(
    run((a: string, o: Parameters<typeof c.appCreate>[1]) => c.appCreate(a, o)),
  );

  const comps = common(
    p.command('components').alias('component').enablePositionalOptions().description('components of an app (through a console: across data centers)'),
  )
    .argument('[app]', 'APP or TEAM/APP')
    .action(run((a: string | undefined, o: c.Common) => c.components(a, o)));
  common(
    comps
      .command('create')
      .description('create a component from an image, a git repository or a Dockerfile in one, then build and deploy it with a live log')
      .argument('<component>', 'APP/COMPONENT or TEAM/APP/COMPONENT (the app is made when missing)')
      .option('--image <ref>', 'from an image, e.g. nginx:1.27')
      .option('--git <url>', 'from a git repository (https://, ssh://, git://)')
      .option('--branch <name>', 'git branch (default main)')
      .option('--dockerfile <path>', "build the repository's Dockerfile at this path")
      .option('--port <port>', 'container port (repeatable)', collectPort, [])
      .option('--public', 'expose the ports through the gateway')
      .addOption(new Option('--replicas <n>', 'replicas (0-100)').argParser(intArg('replicas', 0, 100)))
      .option('--env <KEY=VALUE>', 'environment variable (repeatable)', collect, [])
      .option('--no-deploy', 'only create it')
      .option('--no-follow', 'do not stream the build log'),
  ).action(run((a: string, o: c.CreateOptions) => c.componentCreate(a, o)));

  const op = (name: string, description: string, extra?: (cmd: Command) => Command) => {
    let cmd = common(p.command(name).description(description).argument('<component>', 'APP/COMPONENT or TEAM/APP/COMPONENT')).option(
      '--no-follow',
      'return at once with the event id',
    );
    if (extra) cmd = extra(cmd);
    return cmd;
  };
  op('build', 'build a new version from the source (live log)').action(run((a: string, o: Parameters<typeof c.operation>[2]) => c.operation(a, 'build', o)));
  op('deploy', 'build a new version and roll it out, health-gated (live log); --version: roll out a built one', (cmd) => cmd.option('--version <id>')).action(
    run((a: string, o: Parameters<typeof c.operation>[2]) => c.operation(a, 'deploy', o)),
  );
  op('rollback', 'roll back to the previous version (or --version)', (cmd) => cmd.option('--version <id>')).action(
    run((a: string, o: Parameters<typeof c.operation>[2]) => c.operation(a, 'rollback', o)),
  );
  common(p.command('scale').description('set the number of replicas').argument('<component>').argument('<replicas>', '0-100'))
    .option('--no-follow', 'return at once with the event id')
    .action(run((a: string, n: string, o: Parameters<typeof c.operation>[2]) => c.operation(a, 'scale', { ...o, replicas: n })));
  for (const [name, what] of [
    ['start', 'start the stopped replicas'],
    ['stop', 'stop every replica'],
    ['restart', 'a rolling restart'],
    ['delete', 'remove the replicas, then the component'],
  ] as const)
    op(name, what).action(run((a: string, o: Parameters<typeof c.operation>[2]) => c.operation(a, name, o)));
  common(p.command('follow').description("follow an operation's timeline live").argument('<event-id>')).action(
    run((id: string, o: c.Common) => c.followCmd(id, o)),
  );

  const env = p.command('env').description('environment variables (a change rolls the replicas)');
  common(env.command('list').argument('<component>')).action(run((a: string, o: c.Common) => c.envList(a, o)));
  const envRoll = (cmd: Command) =>
    cmd.option('--no-restart', 'only change the spec (it takes effect at the next rollout)').option('--no-follow', 'return at once with the event id');
  type EnvOptions = c.Common & { secret?: boolean; restart?: boolean; follow?: boolean };
  envRoll(common(env.command('set').description('set variables, then a rolling restart').argument('<component>').argument('<KEY=VALUE...>'), false))
    .option('--secret', 'store the values as secrets (write-only)')
    .action(run((a: string, pairs: string[], o: EnvOptions) => c.envChange(a, o, pairs, [])));
  envRoll(common(env.command('unset').description('remove variables, then a rolling restart').argument('<component>').argument('<KEY...>'), false)).action(
    run((a: string, keys: string[], o: EnvOptions) => c.envChange(a, o, [], keys)),
  );

  const routes = common(
    p.command('routes').alias('route').enablePositionalOptions().description("a component's HTTP routes through the gateway (host + path -> port, TLS)"),
  )
    .argument('<component>')
    .action(run((a: string, o: c.Common) => r.routesList(a, o)));
  common(routes.command('add').description('add or replace a route').argument('<component>').argument('<host[/path]>'), false)
    .option('--port <port>', 'the container port it goes to')
    .option('--cert <file>', 'TLS: the certificate chain, PEM (leaf first)')
    .option('--key <file>', 'TLS: its private key, PEM (stored sealed, never shown again)')
    .option('--https-redirect', 'answer plain HTTP with a redirect to HTTPS')
    .action(run((a: string, t: string, o: Parameters<typeof r.routeAdd>[2]) => r.routeAdd(a, t, o)));
  common(routes.command('remove').description('remove a route').argument('<component>').argument('<host[/path]>'), false).action(
    run((a: string, t: string, o: c.Common) => r.routeRemove(a, t, o)),
  );
  common(p.command('logs').description('runtime logs of all replicas').argument('<component>'))
    .option('-f, --follow', 'keep streaming')
    .option('--tail <n>', 'lines from before', '100')
    .option('--replica <id>', 'only this replica')
    .action(run((a: string, o: Parameters<typeof c.logs>[1]) => c.logs(a, o)));
  common(p.command('events').description('the operations of a component, newest first').argument('<component>'))
    .option('--limit <n>', '1-500', '50')
    .action(run((a: string, o: Parameters<typeof c.events>[1]) => c.events(a, o)));
  common(p.command('nodes').description('nodes: state, health, use (through a console: of every data center, or --dc)')).action(run(n.nodes));
  const node = p.command('node').description('one node of a data center (administrators; through a console: --dc)');
  common(node.command('show').description('state, conditions, capacity and use, labels, last moves').argument('<id>')).action(
    run((id: string, o: n.NodeOptions) => n.nodeShow(id, o)),
  );
  for (const [action, what] of [
    ['cordon', 'no new replicas on it (READY -> INITED), for maintenance'],
    ['uncordon', 'back in service (INITED -> READY)'],
    ['repair', 'a failed node (ERROR) starts again from NEW and its checks'],
    ['offline', 'remove it for good (OFFLINE is final; needs --yes)'],
  ] as const) {
    const cmd = common(node.command(action).description(what).argument('<id>').option('--reason <text>', 'why (kept in its history)'));
    if (action === 'offline') cmd.option('--yes', 'yes, take it offline for good');
    cmd.action(run((id: string, o: n.NodeOptions & { reason?: string; yes?: boolean }) => n.nodeState(action, id, o)));
  }
  common(node.command('label').description('set (KEY=VALUE) or remove (KEY-) labels').argument('<id>').argument('<labels...>')).action(
    run((id: string, labels: string[], o: n.NodeOptions) => n.nodeLabel(id, labels, o)),
  );
  common(
    node
      .command('task')
      .description('run a node task (disk-usage, container-list, prune-images, health-check) and wait for every node')
      .argument('<task>')
      .argument('<ids...>'),
  )
    .option('--no-follow', 'return at once with the event id')
    .action(run((task: string, ids: string[], o: n.NodeOptions & { follow: boolean }) => n.nodeTask(task, ids, o)));
  common(node.command('task-status').description("a node task's status and each node's report").argument('<event-id>')).action(
    run((id: string, o: n.NodeOptions) => n.nodeTaskStatus(id, o)),
  );

  const dc = p.command('dc').description('data centers of the console you are logged in to');
  common(dc.command('list')).action(run(c.dcList));
  common(dc.command('add').argument('<name>').argument('<api-url>').option('--token <token>', 'your token in that data center (or WHARF_DC_TOKEN)')).action(
    run((name: string, url: string, o: Parameters<typeof c.dcAdd>[2]) => c.dcAdd(name, url, o)),
  );
  common(dc.command('remove').argument('<name>')).action(run((name: string, o: c.Common) => c.dcRemove(name, o)));
  common(dc.command('link').description('store your own token for a data center').argument('<name>').option('--token <token>')).action(
    run((name: string, o: Parameters<typeof c.dcLink>[1]) => c.dcLink(name, o)),
  );
  return p;
}

export async function main(argv: string[]): Promise<void> {
  const p = program();
  // Subcommands report their own usage errors through the same override.
  const exitOverride = (err: CommanderError) => {
    throw err;
  };
  const all = (cmd: Command): Command[] => [cmd, ...cmd.commands.flatMap(all)];
  for (const cmd of all(p)) cmd.exitOverride(exitOverride);
  try {
    await p.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version print and exit 0; anything else is a usage error (already printed on stderr)
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    throw err;
  }
}

if (require.main === module) void main(process.argv);
