import { ArgumentsHost, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../common/domain-error';
import { applyRetryAfter, toDomainError } from '../common/failure';
import { UnavailableLog } from '../database/connection-failure';

/** What a surface answers for one failure: HTTP status and its documented body. */
export interface ErrorReply {
  status: number;
  body: unknown;
}

/**
 * What every surface's error filter shares (/v1's problem+json and each legacy envelope): the
 * caller's faults become DomainErrors the surface renders in its own envelope (with Retry-After
 * where one applies); anything else is logged and answered as a 500 in the same envelope, with no detail.
 */
export abstract class SurfaceErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');
  /** Shared by every surface's filter: one summary of refused requests, not one line per surface. */
  private static readonly unavailable = new UnavailableLog(new Logger('Database'));

  protected readonly contentType: string = 'application/json; charset=utf-8';

  /** The documented envelope for a caller's fault. */
  protected abstract render(error: DomainError, request: FastifyRequest): ErrorReply;

  /** The documented envelope for a fault of ours. */
  protected abstract renderInternal(exception: unknown): ErrorReply;

  catch(exception: unknown, host: ArgumentsHost): void {
    this.answer(exception, host.switchToHttp().getRequest<FastifyRequest>(), host.switchToHttp().getResponse<FastifyReply>());
  }

  /** Answers `exception` in this surface's envelope (also for errors raised before routing: see api/surfaces.ts). */
  answer(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const error = toDomainError(exception);
    let answer: ErrorReply;
    if (error) {
      if (error.kind === 'ServiceUnavailable') SurfaceErrorFilter.unavailable.record(exception);
      applyRetryAfter(reply, error);
      answer = this.render(error, request);
    } else {
      this.logger.error({ err: exception, reqId: request.id }, 'unhandled error');
      answer = this.renderInternal(exception);
    }
    void reply.status(answer.status).type(this.contentType).send(JSON.stringify(answer.body));
  }
}

/** One line for a validation failure: its field messages joined ("email must be an email; …"). */
export function messageOf(error: DomainError): string {
  return error.details.fields?.length ? error.details.fields.map((f) => f.message).join('; ') : error.message;
}
