import { z } from 'zod';
import { configSchema } from './schema.js';

/** One config key as the README's table shows it. */
export interface ConfigKeyDoc {
  key: string;
  /** The default value; or, when the schema gives an `absent` meta (keys without a default, or whose default reads badly), that text. */
  default: string;
  /** The schema's description, with the allowed values of an enum appended. */
  meaning: string;
}

const code = (text: string): string => `\`${text}\``;
const shown = (value: unknown): string => (typeof value === 'string' ? code(value) : code(JSON.stringify(value)));

/** The values an enum, a literal or a union of them allows (of the items, for an array); undefined otherwise. */
function choices(schema: z.ZodType): string[] | undefined {
  if (schema instanceof z.ZodEnum) return schema.options.map(String);
  if (schema instanceof z.ZodLiteral) return schema.values.size === 1 ? [String([...schema.values][0])] : undefined;
  if (schema instanceof z.ZodUnion) {
    const all = (schema.options as z.ZodType[]).map(choices);
    return all.every((c) => c !== undefined) ? all.flat() : undefined;
  }
  if (schema instanceof z.ZodArray) return choices(schema.element as z.ZodType);
  return undefined;
}

/** Every leaf key of the config schema, in schema order, with its default and description. */
export function configKeys(schema: z.ZodType = configSchema, path: string[] = []): ConfigKeyDoc[] {
  let inner = schema;
  let description: string | undefined;
  let absent: string | undefined;
  let fallback: unknown;
  // Wrappers carry the description and default; the value's own schema is inside them.
  for (;;) {
    const meta = z.globalRegistry.get(inner);
    description ??= meta?.description;
    if (absent === undefined && typeof meta?.absent === 'string') absent = meta.absent;
    if (inner instanceof z.ZodDefault) {
      fallback ??= inner.def.defaultValue;
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodPrefault || inner instanceof z.ZodOptional) {
      inner = inner.unwrap() as z.ZodType;
    } else {
      break;
    }
  }
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) => configKeys(child, [...path, key]));
  }
  const key = path.join('.');
  if (description === undefined) throw new Error(`config key ${key} has no description in the schema`);
  const values = choices(inner);
  return [
    {
      key,
      default: absent ?? (fallback === undefined ? '—' : shown(fallback)),
      meaning: values ? `${description}. One of ${values.map(code).join(', ')}` : description,
    },
  ];
}

/** The README's config table (markdown), generated from the schema. */
export function configTable(): string {
  const escape = (text: string) => text.replaceAll('|', '\\|');
  const rows = configKeys().map((k) => `| ${code(k.key)} | ${escape(k.default)} | ${escape(k.meaning)} |`);
  return ['| key | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
