import { SetMetadata } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { ChangeListener } from '../database/change-listener';

export const READ_ONLY = 'route:read-only';

/**
 * Marks a route that changes nothing in `sessions`, `users` or `credentials`, so its answer need
 * not wait for this instance's caches to hear of its writes (see `registerReadYourWrites`). Only
 * a speed-up: an unmarked route is always correct.
 */
export const ReadOnly = () => SetMetadata(READ_ONLY, true);

const readOnlyRequests = new WeakSet<object>();

/** Called by the global guard for routes marked `@ReadOnly()`. */
export function markReadOnly(request: object): void {
  readOnlyRequests.add(request);
}

/**
 * Read-your-writes on this instance (issue 13): a request's writes reach this instance's caches
 * through PostgreSQL's notifications, a fraction of a millisecond after they commit. So that a
 * client who logs out, changes a profile or blocks a user and at once sends the next request to
 * the same instance never meets the old state, every answer except those of `@ReadOnly()` routes
 * waits (before it is sent) until the caches have heard of everything committed so far: one
 * marker notification on the listener's own connection, shared by all answers waiting at that
 * moment (no pool connection is used). Another instance hears of the change within milliseconds
 * (test/auth-cache.e2e-spec.ts measures it).
 */
export function registerReadYourWrites(fastify: FastifyInstance, listener: ChangeListener): void {
  fastify.addHook('onSend', (request, _reply, payload, done) => {
    if (!listener.isLive || readOnlyRequests.has(request)) return done(null, payload);
    listener.settle().then(() => done(null, payload), done);
  });
}
