import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import type { AuthContext } from '../auth/sessions.service';
import { MayAnswer } from '../common/openapi.decorators';
import { LimitsService } from './limits.service';

/**
 * Counts a profile-update request against the caller's account (PROFILE_CHANGES_PER_HOUR, every
 * surface together), before the request is validated or applied: refused, taken or invalid
 * changes count too, so the route cannot be used to probe which e-mails or phones are taken.
 * A request without fields changes nothing and is not counted (000 `profile` reads with `{}`).
 * Per account, so RATE_LIMIT_ALLOWLIST does not exempt it. Runs after the global JWT guard.
 */
@Injectable()
export class ProfileChangeLimitGuard implements CanActivate {
  constructor(private readonly limits: LimitsService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { user, body } = context.switchToHttp().getRequest<{ user?: AuthContext; body?: unknown }>();
    if (user && hasFields(body)) await this.limits.take('profile-changes', user.user.id);
    return true;
  }
}

function hasFields(body: unknown): boolean {
  return body !== null && typeof body === 'object' && Object.keys(body).length > 0;
}

/** A profile-update route: limited per account (the document shows the 429 in the route's surface envelope). */
export const ProfileChangeLimited = () => applyDecorators(UseGuards(ProfileChangeLimitGuard), MayAnswer(429));
