/**
 * `sluice enqueue NAME FILE|-`: every line is checked first, each problem named `file:line: field: reason`; a bad
 * line means nothing is enqueued (exit 2), unless --skip-invalid asks to enqueue the rest and write the rejects to a
 * file it names.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { enqueue, type EnqueueAnswer } from '../../client/intake';
import { readIntakeFile, type IntakeFileRequest } from '../../client/intake-input';
import { InputError } from '../../domain/errors';
import { openContext } from '../context';

/** Requests per enqueue update: Temporal takes at most 10 updates in flight, so a file goes in bunches. */
const ENQUEUE_CHUNK = 500;

export function registerEnqueueCommand(program: Command) {
  program
    .command('enqueue')
    .description('add requests to an intake (created on first use); each line {"custom_id", "params", "tier"?, "deadline"?}')
    .argument('<name>', 'the intake')
    .argument('<file>', 'a JSONL file, or - for standard input')
    .option('--skip-invalid', 'enqueue the good lines and write the bad ones to --rejects')
    .option('--rejects <file>', 'where --skip-invalid writes the bad lines (default FILE.rejects.jsonl, or enqueue-rejects.jsonl for -)')
    .action(async (name: string, file: string, opts: { skipInvalid?: boolean; rejects?: string }) => {
      const shown = file === '-' ? 'stdin' : file;
      const input = await readIntakeFile({ file: file === '-' ? '/dev/stdin' : file });
      if (input.issues.length && !opts.skipInvalid) throw new InputError(input.issues, { file: shown });
      if (input.rejects.length) {
        const rejectsFile = opts.rejects ?? (file === '-' ? 'enqueue-rejects.jsonl' : `${file.replace(/\.jsonl$/, '')}.rejects.jsonl`);
        await writeFile(rejectsFile, input.rejects.join('\n') + '\n');
        console.error(`${input.rejects.length} bad lines skipped, written to ${rejectsFile}.`);
      }
      if (input.requests.length === 0) throw new InputError([{ line: 1, reason: 'has no request to enqueue' }], { file: shown });

      const ctx = await openContext();
      const counts = { accepted: 0, duplicate: 0, refused: 0, invalid: 0 };
      try {
        const target = { client: ctx.client, store: ctx.store, taskQueue: ctx.config.SLUICE_TASK_QUEUE, intakeTaskQueue: ctx.config.SLUICE_INTAKE_TASK_QUEUE, intake: name };
        for (let at = 0; at < input.requests.length; at += ENQUEUE_CHUNK) {
          const chunk = input.requests.slice(at, at + ENQUEUE_CHUNK);
          const answers = await enqueue(target, chunk);
          for (const a of answers) {
            counts[a.status]++;
            if (a.status !== 'accepted') console.error(describeAnswer(shown, chunk, a));
          }
        }
        const others = (['duplicate', 'refused', 'invalid'] as const).filter((k) => counts[k]).map((k) => `${counts[k]} ${k}`);
        console.log(`${counts.accepted} accepted${others.length ? `, ${others.join(', ')} (see above)` : ''}.`);
      } finally {
        await ctx.close();
      }
    });
}

/** "tickets.jsonl:4: custom_id "t-4": duplicate (already in job sluice-intake-x-000003)". */
function describeAnswer(file: string, chunk: IntakeFileRequest[], a: EnqueueAnswer): string {
  const line = chunk.find((r) => r.custom_id === a.custom_id)?.line;
  return `${file}:${line ?? '?'}: custom_id ${JSON.stringify(a.custom_id)}: ${a.status}${a.reason ? ` (${a.reason})` : ''}`;
}
