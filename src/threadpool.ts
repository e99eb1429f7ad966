import { availableParallelism } from 'node:os';

/**
 * libuv's thread pool runs every argon2id hash and verify (the `argon2` binding queues them there),
 * so its size bounds sign-in and registration throughput. libuv reads UV_THREADPOOL_SIZE once, when
 * the pool first starts (the first fs, crypto or dns work), so this module is main.ts's first import.
 *
 * Default: one thread per core (`os.availableParallelism()`, at least 2). argon2id (m = 19 MiB,
 * t = 2, p = 1) is CPU- and memory-bound: more threads than cores only time-slice the same cores
 * and hold another 19 MiB each; fewer leave a core idle under a sign-in burst. An explicit
 * UV_THREADPOOL_SIZE in the environment wins. `npm run bench` measures the raw argon2id ceiling
 * with the same size (bench/RESULTS.md).
 */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const configured = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(configured) && configured >= 1 && configured <= 1024 ? configured : Math.max(2, availableParallelism());
}

process.env.UV_THREADPOOL_SIZE = String(threadPoolSize());
