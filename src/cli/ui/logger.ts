import { pino, type DestinationStream, type MultiStreamRes } from 'pino';
import type { LogFile } from '../../record/log-file.js';
import type { RunLogger } from '../../train/run-logger.js';

export type { RunLogger };

/**
 * Structured logs (pino): JSON lines into the run folder's log.jsonl, and the same records as short readable
 * lines on stderr — warnings and errors only with `quiet`. Results never go to stderr, logs never to stdout.
 */
export function createLogger(options: { quiet: boolean; stderr?: { write(text: string): unknown } }): RunLogger {
  const stderr = options.stderr ?? process.stderr;
  const human: DestinationStream = {
    write(line: string) {
      const record = JSON.parse(line) as { level: number; msg?: string };
      const tag = record.level >= 50 ? 'error: ' : record.level >= 40 ? 'warning: ' : '';
      stderr.write(`resnet-exp: ${tag}${record.msg ?? ''}\n`);
    },
  };
  const streams: MultiStreamRes = pino.multistream([{ stream: human, level: options.quiet ? 'warn' : 'info' }]);
  const files: LogFile[] = [];
  const log = pino({ level: 'debug', base: undefined }, streams);
  return {
    log,
    addFile(file) {
      files.push(file);
      streams.add({ stream: file, level: 'debug' });
    },
    flush() {
      for (const f of files) {
        f.flush();
        f.close();
      }
      files.length = 0;
    },
  };
}
