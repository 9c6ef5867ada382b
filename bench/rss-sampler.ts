/**
 * The worker's resident memory over the job, sampled from /proc a few times a second, so the bench can say in which
 * phase the peak came (the kernel's high-water mark, VmHWM, gives only its size).
 */
import { readFile } from 'node:fs/promises';

export interface RssSample {
  atMs: number;
  bytes: number;
}

async function rssOf(pid: number): Promise<number> {
  const kb = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/** Samples the largest RSS among `pids()` every `everyMs` until stopped. */
export function sampleRss(pids: () => Promise<number[]>, everyMs = 250) {
  const samples: RssSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const rss = await Promise.all((await pids()).map(rssOf));
      samples.push({ atMs: Date.now(), bytes: Math.max(0, ...rss) });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop(): Promise<RssSample[]> {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/** The largest sample within [fromMs, toMs], and when it was taken. */
export function peakWithin(samples: readonly RssSample[], fromMs: number, toMs: number): RssSample | undefined {
  let peak: RssSample | undefined;
  for (const s of samples) if (s.atMs >= fromMs && s.atMs <= toMs && (!peak || s.bytes > peak.bytes)) peak = s;
  return peak;
}
