import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

/** The API a request came through: `/v1` or one of the five documented legacy surfaces. */
export type SurfaceName = 'v1' | '000' | '001' | '002' | '003' | '004';

/**
 * Who is asking, from where and through which surface. Passed to the domain with every
 * security-relevant call: sessions record it, limits key on it, notices mention it.
 */
export interface SecurityContext {
  /** The client address, after TRUST_PROXY (Fastify's `request.ip`). */
  ip: string | null;
  userAgent: string | null;
  surface: SurfaceName | null;
}

export const SURFACE = 'security:surface';

/** Marks a controller as part of a surface, so its requests carry that name. */
export const Surface = (name: SurfaceName) => applyDecorators(SetMetadata(SURFACE, name));

export function securityContextOf(context: ExecutionContext): SecurityContext {
  const request = context.switchToHttp().getRequest<{ ip?: string; headers: Record<string, string | string[] | undefined> }>();
  const userAgent = request.headers['user-agent'];
  return {
    ip: request.ip ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
    surface: Reflect.getMetadata(SURFACE, context.getClass()) ?? null,
  };
}

/** The request's `SecurityContext`. */
export const RequestContext = createParamDecorator((_: unknown, context: ExecutionContext) => securityContextOf(context));

/** For work started by the service itself or an operator (the CLI). */
export const SYSTEM_CONTEXT: SecurityContext = { ip: null, userAgent: null, surface: null };
