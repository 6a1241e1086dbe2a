import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError, EXIT } from './exit-codes';

/** Where `wharf login` keeps what it needs: a data center directly, or a console. */
export interface Profile {
  kind: 'dc' | 'console';
  /** Base URL (no /api/v1). */
  url: string;
  /** A data-center token (dc) or a console session (console). */
  token: string;
  /** Default tenant (team) for app/component arguments. */
  tenant?: string;
  /** Console only: the default data center for single-data-center commands. */
  dc?: string;
  user?: string;
}

/** $XDG_CONFIG_HOME/wharf (or ~/.config/wharf), per the XDG base directory spec. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'wharf');
}

export const configFile = (env: NodeJS.ProcessEnv = process.env) => join(configDir(env), 'config.json');

export function loadProfile(env: NodeJS.ProcessEnv = process.env): Profile | undefined {
  const file = configFile(env);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Profile;
  } catch (err) {
    throw new CliError(`${file} is not valid JSON (${(err as Error).message}): fix it or run wharf login again`, EXIT.usage);
  }
}

export function requireProfile(env: NodeJS.ProcessEnv = process.env): Profile {
  const p = loadProfile(env);
  if (!p) throw new CliError('not logged in: run wharf login <url> --token <token> (a data center) or wharf login <console url> --user <name>', EXIT.auth);
  return p;
}

/** Written 0600 in a 0700 directory (it holds a token), atomically. */
export function saveProfile(profile: Profile, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = configFile(env);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}
