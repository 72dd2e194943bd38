/**
 * POSIX shell quoting. Single quotes make every character literal except the quote itself, which is closed,
 * escaped and reopened; that is the whole rule, so no library is needed for it.
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_\/.,:=+@%^-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export const shellJoin = (argv: readonly string[]): string => argv.map(shellQuote).join(' ');
