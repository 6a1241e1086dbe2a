import { readFileSync } from 'node:fs';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads KEY=VALUE lines (# comments) or a JSON object of strings. */
function readFileValues(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`WHARF_CONFIG_FILE: cannot read ${path}: ${(err as Error).message}`]);
  }
  if (text.trimStart().startsWith('{')) {
    try {
      return Object.fromEntries(Object.entries(JSON.parse(text) as object).map(([k, v]) => [k, String(v)]));
    } catch (err) {
      throw new ConfigError([`WHARF_CONFIG_FILE: ${path} is not valid JSON: ${(err as Error).message}`]);
    }
  }
  const values: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError([`WHARF_CONFIG_FILE: ${path}:${i + 1}: expected KEY=VALUE`]);
    values[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  });
  return values;
}

/**
 * Validates configuration into one typed object. Keys of the schema are environment
 * variable names; describe() each field, it is quoted when the value is wrong.
 * Values come from WHARF_CONFIG_FILE (optional) overridden by the environment.
 */
export function loadConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  const fromFile = env.WHARF_CONFIG_FILE ? readFileValues(env.WHARF_CONFIG_FILE) : {};
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key] ?? fromFile[key];
    raw[key] = value === '' ? undefined : value;
  }
  const result = z.object(shape).safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = String(issue.path[0]);
      const expected = (shape[key] as z.ZodType | undefined)?.description;
      const got = raw[key] === undefined ? 'missing' : JSON.stringify(raw[key]);
      return `${key}: ${issue.message} (got ${got}${expected ? `; expected ${expected}` : ''})`;
    }),
  );
}

/** loadConfig for a process's start-up: prints what is wrong and exits 78 (EX_CONFIG). */
export function loadConfigOrExit<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  try {
    return loadConfig(shape, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
}
