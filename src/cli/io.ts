/** Results go to stdout (only them, so scripts can parse it); everything else goes to stderr. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function printError(message: string): void {
  for (const line of message.split('\n')) process.stderr.write(`resnet-exp: error: ${line}\n`);
}

/** Something the user should know that does not stop the command; same shape as the logger's warnings. */
export function printWarning(message: string): void {
  for (const line of message.split('\n')) process.stderr.write(`resnet-exp: warning: ${line}\n`);
}
