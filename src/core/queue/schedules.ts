import type { Queue } from 'bullmq';

/**
 * Registers a repeating job (an upsert: any number of workers may do it at once). Runs are not
 * kept once done, so a job every few seconds does not fill Redis.
 */
export async function repeatEvery<T>(queue: Queue, id: string, everyMs: number, data: T): Promise<void> {
  await queue.upsertJobScheduler(
    id,
    { every: everyMs },
    { name: id, data, opts: { removeOnComplete: true, removeOnFail: { count: 100 } } },
  );
}
