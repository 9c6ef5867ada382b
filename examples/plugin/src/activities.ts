// An activity of the project's own, registered beside Sluice's: it sees only counts and a job id, never a prompt.
export async function publishDigest(digest: { jobId: string; succeeded: number; costUsd: number }): Promise<string> {
  return `digest ${digest.jobId}: ${digest.succeeded} summaries for $${digest.costUsd.toFixed(4)}`;
}
