/**
 * A thread of the parallel input check (line-check-pool.ts): judges groups of lines with the job line's rules
 * (validateInputLine) and answers only what the reading thread needs, in order: nothing of the line's order (ids,
 * duplicates) is decided here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { validateInputLine } from '../domain/request';
import type { LineCheckTask, LineCheckThreadData, LineVerdict } from './line-check-pool';

const { defaults, maxRequestBytes, models } = workerData as LineCheckThreadData;

parentPort?.on('message', (task: LineCheckTask) => {
  const verdicts: LineVerdict[] = task.texts.map((text, i) => {
    const v = validateInputLine(text, task.lines[i]!, defaults, { maxRequestBytes, models });
    if (v.ok === 'blank') return 0;
    if (v.ok === false) return { errors: v.errors };
    return v.customId === undefined ? { paramsJson: v.paramsJson } : { customId: v.customId, paramsJson: v.paramsJson };
  });
  parentPort!.postMessage({ id: task.id, verdicts });
});
