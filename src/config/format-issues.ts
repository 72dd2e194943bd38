import type { z } from 'zod';

const describeValue = (value: unknown): string => {
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
};

const keyPath = (path: PropertyKey[]): string => (path.length === 0 ? '(top level)' : path.map(String).join('.'));

/** One line per problem: the key path, what is wrong, and what was given. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${keyPath([...issue.path, key])}: unknown key`);
    }
    const got = 'input' in issue && issue.input !== undefined ? ` (got ${describeValue(issue.input)})` : '';
    return [`${keyPath(issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}${got}`];
  });
}
