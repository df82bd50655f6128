import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/**
 * Feature folders and what each shows the others.
 *
 * - A feature is a folder directly under src/ (accounts, events, insights, metrics, …, and
 *   any new one such as reports/ or alerts/), except the shared folders below; under
 *   src/sources/ each source is its own feature (`sources/openpanel`, `sources/segment`).
 * - Shared, importable by every feature: src/infrastructure (the ports, their adapters, the
 *   ClickHouse query kit and schema), src/common, src/config, src/types.
 * - The files in src/ itself (main, app.module, app.factory) are the composition root: they
 *   assemble the features and are not checked.
 * - A feature's public files are its `*.module.ts` (to import the module), `*.service.ts` (the
 *   injectables others call), `*.types.ts` (the types and constants of its contract),
 *   `*.decorators.ts` and `*.guard.ts` (made to be applied by other features' controllers),
 *   and an `index.ts` if it chooses to have one. Every other file is internal: its
 *   controllers, DTOs, repositories, query builders and helpers.
 */
export const SHARED = ['infrastructure', 'common', 'config', 'types'];
export const PUBLIC_FILE = /(^index|\.module|\.service|\.types|\.decorators|\.guard)\.ts$/;

/** An import of one file of src/ by another (both relative to src/, `.ts`). */
export interface Import {
  file: string;
  line: number;
  target: string;
  specifier: string;
  /** what it takes: its names, `default`, or `*` (a namespace, a re-export of all, a dynamic import) */
  names: string[];
}

/** The feature a file of src/ belongs to, `shared`, or `root`. */
export function featureOf(path: string): string {
  const parts = path.split('/');
  if (parts.length === 1) return 'root';
  if (SHARED.includes(parts[0]!)) return 'shared';
  if (parts[0] === 'sources' && parts.length > 2) return `sources/${parts[1]}`;
  return parts[0]!;
}

export const isPublic = (path: string): boolean => PUBLIC_FILE.test(posix.basename(path));

/**
 * Module specifiers a TypeScript file imports or re-exports: static imports and exports with
 * `from` (type-only ones too: they couple as much), side-effect imports and dynamic
 * `import('…')`. Statements are found at the start of a line, so commented-out ones and SQL
 * text in template strings are not taken for imports.
 */
export function specifiers(source: string): { specifier: string; line: number; names: string[] }[] {
  const found: { specifier: string; index: number; names: string[] }[] = [];
  const patterns: [RegExp, (statement: string) => string[]][] = [
    [/^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*['"]([^'"]+)['"]/gm, importedNames],
    [/^[ \t]*import\s*['"]([^'"]+)['"]/gm, () => []],
    [/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, () => ['*']],
  ];
  for (const [pattern, names] of patterns) {
    for (const m of source.matchAll(pattern)) found.push({ specifier: m[1]!, index: m.index! + m[0].length, names: names(m[0]) });
  }
  return found.map(({ specifier, index, names }) => ({ specifier, line: source.slice(0, index).split('\n').length, names }));
}

/** The names an `import … from` / `export … from` statement takes (`type` and `as` dropped). */
function importedNames(statement: string): string[] {
  const names: string[] = [];
  const braces = /\{([^}]*)\}/.exec(statement);
  if (braces) {
    for (const part of braces[1]!.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
      if (name) names.push(name);
    }
  }
  if (/\*\s*(?:as\s+[\w$]+\s*)?from/.test(statement)) names.push('*');
  if (/^\s*import\s+(?:type\s+)?[\w$]+\s*(?:,|from)/.test(statement)) names.push('default');
  return names;
}

/** The src/ files a file imports through relative specifiers (`./x.js` is the file `x.ts`). */
export function importsOf(file: string, source: string): Import[] {
  const out: Import[] = [];
  for (const { specifier, line, names } of specifiers(source)) {
    if (!specifier.startsWith('.')) continue;
    const target = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
    if (target.startsWith('..')) continue;
    out.push({ file, line, target, specifier, names });
  }
  return out;
}

/** Every .ts file under `dir`, as paths relative to it. */
export function sourceFiles(dir: string, under = ''): string[] {
  return readdirSync(join(dir, under), { withFileTypes: true }).flatMap((entry) => {
    const path = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return sourceFiles(dir, path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

export const readSources = (dir: string): Map<string, string> =>
  new Map(sourceFiles(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));

/** An import a feature may make into another's internal file for now, and why. */
export interface Allowance {
  /** the importing features (both names of a feature being moved) */
  from: string[];
  /** the imported files, relative to src/ */
  to: string[];
  /** when given, the only names the imports may take from them */
  names?: string[];
  why: string;
}

/**
 * Imports from a feature into another feature's internal files, less the allowed ones; and
 * the allowances no import uses any more.
 */
export function boundaryViolations(sources: Map<string, string>, allowed: Allowance[]): { violations: Import[]; unused: Allowance[] } {
  const used = new Set<Allowance>();
  const violations: Import[] = [];
  for (const [file, source] of sources) {
    const from = featureOf(file);
    if (from === 'root' || from === 'shared') continue;
    for (const imp of importsOf(file, source)) {
      const to = featureOf(imp.target);
      if (to === 'root' || to === 'shared' || to === from || isPublic(imp.target)) continue;
      const allowance = allowed.find(
        (a) => a.from.includes(from) && a.to.includes(imp.target) && (!a.names || imp.names.every((n) => a.names!.includes(n))),
      );
      if (allowance) used.add(allowance);
      else violations.push(imp);
    }
  }
  return { violations, unused: allowed.filter((a) => !used.has(a)) };
}

export const describeImport = (i: Import): string =>
  `src/${i.file}:${i.line} imports ${i.names.join(', ') || '(side effects)'} from '${i.specifier}' (src/${i.target}, internal to ${featureOf(i.target)}/)`;
