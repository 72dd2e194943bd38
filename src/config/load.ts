import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isNode, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { err, ok, type Result } from '../result.js';
import { formatIssues } from './format-issues.js';
import { applyOverride, deleteKey, getKey, type Override, type RawConfig } from './overrides.js';
import { configSchema, type Config } from './schema.js';

/** Keys holding paths: relative ones are resolved against the config file when written there, against cwd when given as flags. */
const PATH_KEYS: string[][] = [
  ['data', 'dir'],
  ['out'],
];

export interface ConfigSources {
  /** Config file (YAML or JSON); none means all defaults. */
  file?: string;
  /** `--set` and shorthand flags, applied in order, last wins. */
  overrides?: Override[];
  /** RESNET_EXP_DATA: the CIFAR-10 folder when no flag names one; over the config file's. Other sources ignore it. */
  dataDirEnv?: string;
  cwd?: string;
}

/**
 * Nodes one alias may expand to. A real config repeats a list or two; a "billion laughs" file multiplies nine
 * aliases nine times over and would take the machine's memory before the schema saw it.
 */
export const MAX_YAML_ALIAS_COUNT = 100;

/** Where the first explicit tag (`!!omap`, `!!set`, `!!int`, `!foo`) is, if any: line and column, 1-based. */
function firstTag(doc: Document, lines: LineCounter): { tag: string; line: number; col: number } | undefined {
  let found: { tag: string; line: number; col: number } | undefined;
  visit(doc, (_key, node) => {
    // Only an explicit tag in the source sets `tag`; plain scalars, maps and lists resolve without one.
    if (isNode(node) && node.tag !== undefined) {
      const at = lines.linePos(node.range?.[0] ?? 0);
      found = { tag: node.tag.replace(/^tag:yaml\.org,2002:/, '!!'), ...at };
      return visit.BREAK;
    }
    return undefined;
  });
  return found;
}

/** Reads a YAML or JSON config file into a plain object; syntax errors name file, line and column. */
/** `label` is how messages name the file: as the user wrote it. */
export function readConfigFile(file: string, label = file): Result<RawConfig, string[]> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return err([`${label}: cannot read config (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`]);
  }
  // YAML 1.2 is a superset of JSON, so one parser gives both formats line/column errors.
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    return err(
      problems.map((p) => {
        const pos = p.linePos?.[0];
        const where = pos ? `${label}:${pos.line}:${pos.col}` : label;
        return `${where}: ${p.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
      }),
    );
  }
  // Tags construct other types than the schema checks: `!!omap [ {iterations: 10} ]` becomes a Map, whose keys
  // a plain-object schema neither sees nor refuses, so every key inside was silently dropped. JSON has none.
  const tag = firstTag(doc, lines);
  if (tag) return err([`${label}:${tag.line}:${tag.col}: YAML tag ${tag.tag} is not allowed in a config (write plain values, lists and mappings)`]);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return err([`${label}: YAML aliases expand too far (over ${MAX_YAML_ALIAS_COUNT} nodes for one alias: ${why.split('\n')[0]}); write the values out`]);
  }
  // An empty file is more likely a mistake (a config not saved, a wrong path) than a request for the paper's
  // full 64k-iteration run; `{}` asks for that explicitly.
  if (value === null || value === undefined) return err([`${label}: the config file is empty (write {} for all defaults)`]);
  if (typeof value !== 'object' || Array.isArray(value)) {
    return err([`${label}: a config must be a mapping of keys to values`]);
  }
  return ok(value as RawConfig);
}

function resolvePathKeys(raw: RawConfig, base: string, only?: string[][]): RawConfig {
  return (only ?? PATH_KEYS).reduce((acc, path) => {
    const value = getKey(acc, path);
    return typeof value === 'string' ? applyOverride(acc, { path, value: resolve(base, value) }) : acc;
  }, raw);
}

const samePath = (a: string[], b: string[]): boolean => a.join('.') === b.join('.');

/** The config as the run will use it: file, then env, then flags, then validated. */
export function resolveRawConfig(sources: ConfigSources): Result<RawConfig, string[]> {
  const cwd = sources.cwd ?? process.cwd();
  let raw: RawConfig = {};
  if (sources.file !== undefined) {
    const file = resolve(cwd, sources.file);
    const read = readConfigFile(file, sources.file);
    if (!read.ok) return read;
    raw = resolvePathKeys(read.value, dirname(file));
  }
  const withOverrides = (base: RawConfig): RawConfig => {
    let r = base;
    for (const override of sources.overrides ?? []) {
      const isPath = PATH_KEYS.some((p) => samePath(p, override.path));
      r = applyOverride(r, override);
      if (isPath) r = resolvePathKeys(r, cwd, [override.path]);
      // A single depth or seed asked for on the command line replaces a list of them from the file.
      if (samePath(override.path, ['model', 'depth'])) r = deleteKey(r, ['model', 'depths']);
      if (samePath(override.path, ['seed'])) r = deleteKey(r, ['seeds']);
    }
    return r;
  };
  const resolved = withOverrides(raw);
  // The variable names a CIFAR-10 folder (the README has users export it): a CIFAR-100 or image-folder config keeps its own.
  const source = getKey(resolved, ['data', 'source']);
  if (!sources.dataDirEnv || (source !== undefined && source !== 'cifar10')) return ok(resolved);
  return ok(withOverrides(applyOverride(raw, { path: ['data', 'dir'], value: resolve(cwd, sources.dataDirEnv) })));
}

export function validateConfig(raw: RawConfig): Result<Config, string[]> {
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  return parsed.success ? ok(parsed.data) : err(formatIssues(parsed.error.issues));
}

/** Each error line names the config file (as given) and the problem. */
export function loadConfig(sources: ConfigSources): Result<Config, string[]> {
  const raw = resolveRawConfig(sources);
  if (!raw.ok) return raw;
  const config = validateConfig(raw.value);
  const label = sources.file ? `${sources.file}: ` : '';
  return config.ok ? config : err(config.error.map((line) => label + line));
}
