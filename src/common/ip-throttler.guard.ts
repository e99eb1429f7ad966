import { BlockList, isIPv6 } from 'node:net';
import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { LimitsService } from '../limits/limits.service';
import { MayAnswer } from './openapi.decorators';

const SHARED_SIGN_IN_BUDGET = 'limits:sign-in';

/**
 * Per-client request budget (AUTH_RATE_LIMIT_PER_MINUTE) for the endpoints that guess passwords or
 * create accounts, counted in PostgreSQL (LimitsService) so every instance shares it. The sign-in
 * routes of all surfaces share one budget; every other limited route has its own. The client IP
 * is Fastify's `request.ip` (honours TRUST_PROXY); RATE_LIMIT_ALLOWLIST addresses are exempt.
 * (Per-account limits and the lockout are separate and allow no exemption.)
 */
@Injectable()
export class IpThrottlerGuard implements CanActivate {
  private readonly allowlist = new BlockList();
  private readonly checked = new Map<string, boolean>();

  constructor(
    private readonly limits: LimitsService,
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    for (const entry of config.rateLimitAllowlist) {
      const [address, bits] = entry.split('/');
      const type = isIPv6(address) ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.allowlist.addAddress(address, type);
      else this.allowlist.addSubnet(address, Number(bits), type);
    }
  }

  /** BlockList.check builds a SocketAddress per call; the answer per address is remembered (bounded). */
  private allowed(ip: string): boolean {
    let allowed = this.checked.get(ip);
    if (allowed === undefined) {
      allowed = this.allowlist.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');
      if (this.checked.size >= 10_000) this.checked.clear();
      this.checked.set(ip, allowed);
    }
    return allowed;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const ip = String(context.switchToHttp().getRequest<{ ip: string }>().ip).replace(/^::ffff:/, '');
    if (this.allowed(ip)) return true;
    if (this.reflector.get<boolean>(SHARED_SIGN_IN_BUDGET, context.getHandler())) {
      await this.limits.take('sign-in', ip);
    } else {
      await this.limits.take('route', `${context.getClass().name}.${context.getHandler().name}|${ip}`);
    }
    return true;
  }
}

/** Applies the per-IP budget of this route to a route; the document shows its 429 in the route's surface envelope. */
export const RateLimited = () => applyDecorators(UseGuards(IpThrottlerGuard), MayAnswer(429));

/**
 * A sign-in route: it counts against the one per-IP sign-in budget that every surface's sign-in
 * route shares, so spreading guesses over the surfaces gains nothing (SPEC §9 rule 5). The document
 * shows its 429 in the route's surface envelope.
 */
export const SignInRateLimited = () => applyDecorators(SetMetadata(SHARED_SIGN_IN_BUDGET, true), UseGuards(IpThrottlerGuard), MayAnswer(429));
