/** Errors as values at the boundaries (config, data, backends): callers decide how to report them. */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

/**
 * A problem with what the user gave us (config, flags, data files). The CLI maps it to exit code 2 and
 * prints `message` as one line; anything else that escapes a command is a failed run (exit 1).
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}
