import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

export interface Environment {
  env: NodeJS.ProcessEnv;
  /** The `.env` file read, if there was one. */
  file?: string;
  /** The settings it gave (names only: values may be secrets), and those the environment overrode. */
  fromFile: string[];
  overridden: string[];
}

/**
 * The process environment over the `.env` file of `dir`, when there is one: the real
 * environment wins, as with Node's --env-file, so a deployment can override a checked-in file.
 * Parsed with Node's own dotenv parser.
 */
export function environment(env: NodeJS.ProcessEnv = process.env, dir = process.cwd()): Environment {
  const file = resolve(dir, '.env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { env, fromFile: [], overridden: [] };
    throw err;
  }
  const parsed = parseEnv(text);
  const names = Object.keys(parsed);
  return {
    env: { ...parsed, ...env },
    file,
    fromFile: names.filter((n) => env[n] === undefined),
    overridden: names.filter((n) => env[n] !== undefined),
  };
}
