import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { backendFor, type Backend } from './backend';
import { specOf, type RouteView } from './component-spec';
import { configFile, loadProfile, requireProfile, saveProfile, type Profile } from './config-store';
import { CliError, EXIT } from './exit-codes';
import { followLive } from './follow';
import { callJson } from './http-client';
import { print, table } from './output';
import { appRef, componentRef, type ComponentRef } from './refs';

type Json = Record<string, unknown>;
type Page = { items: Json[]; next_cursor: string | null };
const io = { out: process.stdout, err: process.stderr };

export interface Common {
  json?: boolean;
  tenant?: string;
  dc?: string;
}

const backend = (o: Common): Backend => backendFor(requireProfile(), o.dc);

/** Every page of a list (bounded: 50 pages of 200). */
async function all(b: Backend, path: string): Promise<Json[]> {
  const items: Json[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const page = (await b.dc('GET', `${path}${path.includes('?') ? '&' : '?'}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)) as Page;
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

async function readSecret(prompt: string, fromStdin: boolean): Promise<string> {
  if (fromStdin) return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (!process.stdin.isTTY) throw new CliError('no terminal to ask for the password: pass --password-stdin and pipe it in', EXIT.usage);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo nothing of what is typed.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
    if (s.startsWith(prompt)) process.stderr.write(prompt);
  };
  const answer = await new Promise<string>((resolve) => rl.question(prompt, resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

function normaliseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`"${url}": not a URL; expected e.g. http://127.0.0.1:32400`, EXIT.usage);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(`"${url}": must be http:// or https://`, EXIT.usage);
  return url.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
}

export async function login(url: string, o: Common & { token?: string; user?: string; passwordStdin?: boolean }): Promise<void> {
  const base = normaliseUrl(url);
  const token = o.token ?? process.env.WHARF_TOKEN;
  if (token && o.user) throw new CliError('--token (a data center) and --user (a console) exclude each other', EXIT.usage);
  let profile: Profile;
  if (o.user) {
    const password = await readSecret(`password for ${o.user}@${base}: `, !!o.passwordStdin);
    const s = (await callJson(base, undefined, 'POST', '/api/v1/session', { name: o.user, password })) as { token: string; user: { name: string } };
    const dcs = ((await callJson(base, s.token, 'GET', '/api/v1/data-centers')) as { items: { name: string; linked: boolean }[] }).items;
    const dc = o.dc ?? (dcs.filter((d) => d.linked).length === 1 ? dcs.find((d) => d.linked)!.name : undefined);
    if (o.dc && !dcs.some((d) => d.name === o.dc))
      throw new CliError(`--dc ${o.dc}: no such data center in this console (${dcs.map((d) => d.name).join(', ') || 'none'})`, EXIT.notFound);
    profile = { kind: 'console', url: base, token: s.token, user: s.user.name, tenant: o.tenant, dc };
  } else {
    if (!token) throw new CliError('pass --token <data-center token> (or WHARF_TOKEN), or --user <name> for a console', EXIT.usage);
    const info = (await callJson(base, undefined, 'GET', '/api/v1/info').catch((err: CliError) => {
      throw err.exitCode === EXIT.notFound ? new CliError(`${base} does not answer like a Wharf data center (no /api/v1/info)`, EXIT.usage) : err;
    })) as { name: string };
    const me = (await callJson(base, token, 'GET', '/api/v1/me')) as { name: string; tenants: { id: string }[] };
    const tenant = o.tenant ?? (me.tenants.length === 1 ? me.tenants[0].id : undefined);
    if (o.tenant && !me.tenants.some((t) => t.id === o.tenant) && me.tenants.length)
      process.stderr.write(`note: you are not a member of ${o.tenant} in ${info.name} (yet)\n`);
    profile = { kind: 'dc', url: base, token, user: me.name, tenant };
    process.stderr.write(`data center ${info.name}\n`);
  }
  const file = saveProfile(profile);
  process.stdout.write(
    `logged in to ${profile.url} as ${profile.user}${profile.tenant ? `, team ${profile.tenant}` : ''}${profile.dc ? `, data center ${profile.dc}` : ''} (${file})\n`,
  );
}

export async function logout(): Promise<void> {
  const p = loadProfile();
  if (!p) return void process.stdout.write('not logged in\n');
  if (p.kind === 'console') await callJson(p.url, p.token, 'DELETE', '/api/v1/session').catch(() => undefined);
  saveProfile({ ...p, token: '' });
  process.stdout.write(`logged out of ${p.url}\n`);
}

export async function whoami(o: Common): Promise<void> {
  const p = requireProfile();
  const me = p.kind === 'dc' ? await callJson(p.url, p.token, 'GET', '/api/v1/me') : await callJson(p.url, p.token, 'GET', '/api/v1/session');
  print(
    o.json,
    { ...(me as Json), kind: p.kind, url: p.url, tenant: p.tenant ?? null, dc: p.dc ?? null },
    () => `${p.user} at ${p.url} (${p.kind}${p.tenant ? `, team ${p.tenant}` : ''}${p.dc ? `, data center ${p.dc}` : ''})`,
  );
}

function outcomes(dcs: { name: string; status: string; message: string | null }[]): string {
  const bad = dcs.filter((d) => d.status !== 'ok');
  return bad.length ? `\n${bad.map((d) => `! ${d.name}: ${d.status}${d.message ? ` (${d.message})` : ''}`).join('\n')}` : '';
}

export async function apps(o: Common): Promise<void> {
  const p = requireProfile();
  if (p.kind === 'console' && !o.dc) {
    const q = o.tenant ? `?tenant=${encodeURIComponent(o.tenant)}` : '';
    const res = (await callJson(p.url, p.token, 'GET', `/api/v1/apps${q}`)) as {
      items: Json[];
      data_centers: { name: string; status: string; message: string | null }[];
    };
    return print(o.json, res, () => table(res.items, ['dc_name', 'tenant', 'name', 'components']) + outcomes(res.data_centers));
  }
  const b = backend(o);
  const me = (await b.dc('GET', '/me')) as { tenants: { id: string }[] };
  const tenants = o.tenant ? [o.tenant] : me.tenants.map((t) => t.id);
  const items: Json[] = [];
  for (const t of tenants) for (const a of await all(b, `/tenants/${encodeURIComponent(t)}/apps`)) items.push({ ...a, tenant: t });
  print(o.json, { items }, () => table(items, ['tenant', 'name', 'components', 'description']));
}

export async function appCreate(arg: string, o: Common & { description?: string }): Promise<void> {
  const b = backend(o);
  const ref = appRef(arg, b.profile, o.tenant);
  const made = await b.dc('POST', `/tenants/${ref.tenant}/apps`, { name: ref.app, description: o.description ?? '' });
  print(o.json, made, () => `app ${ref.tenant}/${ref.app} created`);
}

export async function components(arg: string | undefined, o: Common): Promise<void> {
  const p = requireProfile();
  if (p.kind === 'console' && !o.dc) {
    const q = new URLSearchParams();
    if (arg) q.set('app', arg);
    if (o.tenant) q.set('tenant', o.tenant);
    const res = (await callJson(p.url, p.token, 'GET', `/api/v1/components${q.size ? `?${q}` : ''}`)) as {
      items: Json[];
      data_centers: { name: string; status: string; message: string | null }[];
    };
    return print(
      o.json,
      res,
      () => table(res.items, ['dc_name', 'tenant', 'app_name', 'name', 'status', 'replicas', 'active_operation']) + outcomes(res.data_centers),
    );
  }
  const b = backend(o);
  if (!arg) throw new CliError('which app? wharf components APP', EXIT.usage);
  const ref = appRef(arg, b.profile, o.tenant);
  const items = await all(b, `/tenants/${ref.tenant}/apps/${ref.appId}/components`);
  print(o.json, { items }, () => table(items, ['name', 'replicas', 'active_operation', 'source']));
}

export interface CreateOptions extends Common {
  image?: string;
  git?: string;
  branch?: string;
  dockerfile?: string;
  port: number[];
  public?: boolean;
  replicas?: number;
  env: string[];
  deploy: boolean;
  follow: boolean;
}

function parseEnv(pairs: string[]): { name: string; value: string }[] {
  return pairs.map((pair) => {
    const i = pair.indexOf('=');
    if (i <= 0) throw new CliError(`"${pair}": expected KEY=VALUE`, EXIT.usage);
    return { name: pair.slice(0, i), value: pair.slice(i + 1) };
  });
}

export async function componentCreate(arg: string, o: CreateOptions): Promise<number> {
  const p = requireProfile();
  if (!!o.image === !!o.git) throw new CliError('give the source: --image <ref> or --git <url> (one of them)', EXIT.usage);
  if (o.dockerfile !== undefined && !o.git) throw new CliError('--dockerfile needs --git (the Dockerfile is in the repository)', EXIT.usage);
  const ref = componentRef(arg, p, o.tenant);
  const source = o.image
    ? { image: o.image }
    : { git: { url: o.git!, branch: o.branch ?? 'main', ...(o.dockerfile !== undefined ? { dockerfile: o.dockerfile } : {}) } };
  const env = parseEnv(o.env);
  const dcs = (o.dc ?? p.dc ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  if (p.kind === 'console' && dcs.length > 1) {
    if (env.length) throw new CliError('--env with several data centers: set it per data center afterwards (wharf env set --dc NAME)', EXIT.usage);
    const res = (await callJson(p.url, p.token, 'POST', '/api/v1/components', {
      targets: dcs.map((dc) => ({ dc, tenant: ref.tenant })),
      app: ref.app,
      name: ref.name,
      source,
      ports: o.port.map((port) => ({ port, public: !!o.public })),
      replicas: o.replicas ?? 1,
      deploy: o.deploy,
    })) as { results: { dc_name: string; status: string; event_id: string | null; error: { message: string } | null }[] };
    print(o.json, res, () =>
      res.results
        .map(
          (r) =>
            `${r.dc_name}: ${r.status}${r.event_id ? ` (follow: wharf follow --dc ${r.dc_name} ${r.event_id})` : ''}${r.error ? `: ${r.error.message}` : ''}`,
        )
        .join('\n'),
    );
    return res.results.every((r) => r.status === 'created' && !r.error) ? EXIT.ok : EXIT.operationFailed;
  }
  const b = backendFor(p, dcs[0]);
  // The app is made when it is missing (wharf component create shop/api on a new app).
  try {
    await b.dc('GET', `/tenants/${ref.tenant}/apps/${ref.appId}`);
  } catch (err) {
    if (!(err instanceof CliError) || err.exitCode !== EXIT.notFound) throw err;
    await b.dc('POST', `/tenants/${ref.tenant}/apps`, { name: ref.app });
  }
  await b.dc('POST', `/tenants/${ref.tenant}/apps/${ref.appId}/components`, {
    name: ref.name,
    source,
    ports: o.port.map((port) => ({ port, protocol: 'http', public: !!o.public })),
    env: env.map((e) => ({ ...e, secret: false })),
    ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
  });
  process.stderr.write(`component ${ref.tenant}/${ref.app}/${ref.name} created\n`);
  if (!o.deploy) return EXIT.ok;
  return operate(b, ref, { kind: 'build', deploy_after: true }, o.follow, 'build');
}

/** Requests an operation and (follow) streams its timeline until its final status. */
async function operate(b: Backend, ref: ComponentRef, body: Json, follow: boolean, label: string, json?: boolean): Promise<number> {
  const { event_id: eventId } = (await b.dc('POST', `/tenants/${ref.tenant}/components/${ref.id}/operations`, body)) as { event_id: string };
  process.stderr.write(`${label} ${ref.tenant}/${ref.app}/${ref.name}: ${eventId}\n`);
  if (!follow) {
    if (json) process.stdout.write(`${JSON.stringify({ event_id: eventId })}\n`);
    return EXIT.ok;
  }
  return followLive(b, eventId, label, io, { json });
}

export async function operation(arg: string, kind: string, o: Common & { follow: boolean; version?: string; replicas?: string }): Promise<number> {
  const b = backend(o);
  const ref = componentRef(arg, b.profile, o.tenant);
  switch (kind) {
    case 'build':
      return operate(b, ref, { kind: 'build', deploy_after: false }, o.follow, 'build', o.json);
    case 'deploy':
      // A new version from the source, rolled out under the same event id; or an upgrade to a built version.
      return o.version
        ? operate(b, ref, { kind: 'upgrade', version_id: o.version }, o.follow, 'deploy', o.json)
        : operate(b, ref, { kind: 'build', deploy_after: true }, o.follow, 'deploy', o.json);
    case 'rollback':
      return operate(b, ref, { kind: 'rollback', ...(o.version ? { version_id: o.version } : {}) }, o.follow, 'rollback', o.json);
    case 'scale': {
      const n = Number(o.replicas);
      if (!/^\d{1,3}$/.test(o.replicas ?? '') || n > 100) throw new CliError(`replicas "${o.replicas}": must be a whole number 0-100`, EXIT.usage);
      return operate(b, ref, { kind: 'scale', replicas: n }, o.follow, 'scale', o.json);
    }
    default:
      return operate(b, ref, { kind }, o.follow, kind, o.json);
  }
}

export async function followCmd(eventId: string, o: Common): Promise<number> {
  if (!/^[A-Za-z0-9._:-]{1,200}$/.test(eventId)) throw new CliError(`"${eventId}": not an operation event id`, EXIT.usage);
  return followLive(backend(o), eventId, 'operation', io, { json: o.json });
}

export type ComponentView = Json & { env: { name: string; secret: boolean; value: string | null }[]; probe: unknown; routes: RouteView[]; version: number };

export async function getComponent(b: Backend, ref: ComponentRef): Promise<ComponentView> {
  return (await b.dc('GET', `/tenants/${ref.tenant}/components/${ref.id}`)) as ComponentView;
}

export async function envList(arg: string, o: Common): Promise<void> {
  const b = backend(o);
  const c = await getComponent(b, componentRef(arg, b.profile, o.tenant));
  print(o.json, { items: c.env }, () => table(c.env.map((e) => ({ ...e, value: e.secret ? '(secret)' : e.value })) as Json[], ['name', 'value']));
}

/**
 * env set / unset: the component's spec with its env changed, then (when it runs a version) a
 * rolling restart that takes the new env into the replicas, followed live: a spec change
 * alone takes effect at the next rollout.
 */
export async function envChange(
  arg: string,
  o: Common & { secret?: boolean; restart?: boolean; follow?: boolean },
  set: string[],
  unset: string[],
): Promise<number> {
  const b = backend(o);
  const ref = componentRef(arg, b.profile, o.tenant);
  const c = await getComponent(b, ref);
  const changes = parseEnv(set);
  for (const name of unset) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new CliError(`"${name}": not an environment variable name`, EXIT.usage);
  const kept = c.env.filter((e) => !unset.includes(e.name) && !changes.some((x) => x.name === e.name));
  const unknownSecret = kept.find((e) => e.secret);
  if (unknownSecret)
    throw new CliError(
      `${unknownSecret.name} is a secret: the API never returns its value and cannot keep it through a change yet; set it again in the same command (wharf env set ${arg} --secret ${unknownSecret.name}=...)`,
      EXIT.usage,
    );
  const env = [...kept.map((e) => ({ name: e.name, value: e.value ?? '', secret: false })), ...changes.map((x) => ({ ...x, secret: !!o.secret }))];
  const spec = specOf(c, { env });
  await b.dc('PUT', `/tenants/${ref.tenant}/components/${ref.id}`, spec);
  process.stdout.write(
    `env of ${ref.tenant}/${ref.app}/${ref.name}: ${changes.map((x) => `${x.name} set`).join(', ')}${unset.length ? `${changes.length ? ', ' : ''}${unset.join(', ')} unset` : ''}\n`,
  );
  if (o.restart === false) return EXIT.ok;
  if (!c.current_version) {
    process.stderr.write('no version runs yet: the env takes effect with the first deploy\n');
    return EXIT.ok;
  }
  return operate(b, ref, { kind: 'restart' }, o.follow !== false, 'restart');
}

export async function events(arg: string, o: Common & { limit?: string }): Promise<void> {
  const b = backend(o);
  const ref = componentRef(arg, b.profile, o.tenant);
  const limit = Number(o.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliError(`--limit "${o.limit}": must be 1-500`, EXIT.usage);
  // The tenant's operations, this component's kept (the API lists by tenant); bounded in pages.
  const items: Json[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 20 && items.length < limit; i++) {
    const page = (await b.dc('GET', `/tenants/${ref.tenant}/operations?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)) as Page;
    items.push(...page.items.filter((e) => e.target === `component/${ref.id}`));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  const shown = items.slice(0, limit);
  print(o.json, { items: shown }, () =>
    table(
      shown.map((e) => ({ ...e, created: new Date(Number(e.created_at_ms)).toISOString(), message: e.message ?? '' })),
      ['event_id', 'kind', 'status', 'created', 'failed_step', 'message'],
    ),
  );
}

export async function logs(arg: string, o: Common & { follow?: boolean; tail: string; replica?: string }): Promise<number> {
  const b = backend(o);
  const ref = componentRef(arg, b.profile, o.tenant);
  const tail = Number(o.tail);
  if (!/^\d{1,5}$/.test(o.tail) || tail > 10000) throw new CliError(`--tail "${o.tail}": must be 0-10000`, EXIT.usage);
  let failed: { code: string; message: string } | undefined;
  let done!: () => void;
  const ended = new Promise<void>((r) => (done = r));
  let quiet: NodeJS.Timeout | undefined;
  const rearm = () => {
    if (o.follow) return;
    if (quiet) clearTimeout(quiet);
    quiet = setTimeout(done, 1500); // without -f: the tail, then stop once it has gone quiet
  };
  const sub = b.logs(
    ref.id,
    tail,
    (lines) => {
      for (const l of lines) {
        if (o.replica && l.replica !== o.replica) continue;
        process.stdout.write(o.json ? `${JSON.stringify(l)}\n` : `${l.replica} | ${l.text}\n`);
      }
      rearm();
    },
    (e) => {
      failed = e;
      done();
    },
  );
  rearm();
  const onSigint = () => done();
  process.once('SIGINT', onSigint);
  await ended;
  process.removeListener('SIGINT', onSigint);
  if (quiet) clearTimeout(quiet);
  sub.close();
  if (failed) throw new CliError(`logs of ${arg}: ${failed.message}`, failed.code === 'not_found' ? EXIT.notFound : EXIT.unavailable);
  return EXIT.ok;
}

export async function dcList(o: Common): Promise<void> {
  const b = backend(o);
  const res = (await b.console('GET', '/data-centers')) as { items: (Json & { health: { status: string } })[] };
  print(o.json, res, () =>
    table(
      res.items.map((d) => ({ ...d, status: d.health.status })),
      ['name', 'api_url', 'status', 'linked', 'dc_user'],
    ),
  );
}

export async function dcAdd(name: string, url: string, o: Common & { token?: string }): Promise<void> {
  const b = backend(o);
  const token = o.token ?? process.env.WHARF_DC_TOKEN;
  if (!token) throw new CliError('pass --token <a token of yours in that data center> (or WHARF_DC_TOKEN)', EXIT.usage);
  const dc = await b.console('POST', '/data-centers', { name, api_url: url, token });
  print(o.json, dc, () => `data center ${name} added`);
}

export async function dcRemove(name: string, o: Common): Promise<void> {
  await backend(o).console('DELETE', `/data-centers/${encodeURIComponent(name)}`);
  process.stdout.write(`data center ${name} removed\n`);
}

export async function dcLink(name: string, o: Common & { token?: string }): Promise<void> {
  const token = o.token ?? process.env.WHARF_DC_TOKEN;
  if (!token) throw new CliError('pass --token <a token of yours in that data center> (or WHARF_DC_TOKEN)', EXIT.usage);
  await backend(o).console('PUT', `/data-centers/${encodeURIComponent(name)}/credential`, { token });
  process.stdout.write(`your token for ${name} is stored (sealed) in the console\n`);
}

export { configFile };
