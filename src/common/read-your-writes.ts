import { SetMetadata } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { ChangeListener } from '../database/change-listener';

export const READ_ONLY = 'route:read-only';

/**
 * Marks a route that changes nothing in `sessions`, `users` or `credentials`, so its answer need
 * not wait for this instance's caches to hear of its writes (see `registerReadYourWrites`). Only
 * a speed-up: an unmarked route is always correct.
 */
export const ReadOnly = () => SetMetadata(READ_ONLY, 'always' satisfies ReadOnlyMode);

/**
 * Marks a route whose successful answer writes only what the triggers treat as bookkeeping (a
 * refresh rotating its token and sliding its session's expiry), so only its refusals wait for the
 * caches: a refused refresh may have revoked its session (token reuse).
 */
export const ReadOnlyWhenSuccessful = () => SetMetadata(READ_ONLY, 'when-successful' satisfies ReadOnlyMode);

export type ReadOnlyMode = 'always' | 'when-successful';

const readOnlyRequests = new WeakMap<object, ReadOnlyMode>();

/** Called by the global guard for routes marked `@ReadOnly()` or `@ReadOnlyWhenSuccessful()`. */
export function markReadOnly(request: object, mode: ReadOnlyMode): void {
  readOnlyRequests.set(request, mode);
}

/**
 * Read-your-writes on this instance (issue 13): a request's writes reach this instance's caches
 * through PostgreSQL's notifications, a fraction of a millisecond after they commit. So that a
 * client who logs out, changes a profile or blocks a user and at once sends the next request to
 * the same instance never meets the old state, every answer except those of `@ReadOnly()` routes
 * (and the refusals of `@ReadOnlyWhenSuccessful()` routes) waits (before it is sent) until the caches have heard of everything committed so far: one
 * marker notification on the listener's own connection, shared by all answers waiting at that
 * moment (no pool connection is used). Another instance hears of the change within milliseconds
 * (test/auth-cache.e2e-spec.ts measures it).
 */
export function registerReadYourWrites(fastify: FastifyInstance, listener: ChangeListener): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const mode = readOnlyRequests.get(request);
    if (!listener.isLive || mode === 'always' || (mode === 'when-successful' && reply.statusCode < 400)) return done(null, payload);
    listener.settle().then(() => done(null, payload), done);
  });
}
