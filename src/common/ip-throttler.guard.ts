import { BlockList, isIPv6 } from 'node:net';
import { ExecutionContext, Inject, Injectable, UseGuards, applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModuleOptions, ThrottlerStorage, getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { ApiResponse } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig } from '../config/app-config';

/**
 * Per-IP request budget (@nestjs/throttler) for the endpoints that guess passwords or create
 * accounts. The client IP honours TRUST_PROXY; RATE_LIMIT_ALLOWLIST addresses are exempt.
 * (Per-account lockout is separate, in the database, and allows no exemption.)
 */
@Injectable()
export class IpThrottlerGuard extends ThrottlerGuard {
  private readonly allowlist = new BlockList();

  constructor(
    @Inject(getOptionsToken()) options: ThrottlerModuleOptions,
    @Inject(getStorageToken()) storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super(options, storage, reflector);
    for (const entry of config.rateLimitAllowlist) {
      const [address, bits] = entry.split('/');
      const type = isIPv6(address) ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.allowlist.addAddress(address, type);
      else this.allowlist.addSubnet(address, Number(bits), type);
    }
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return String(request.ip);
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const ip = String(context.switchToHttp().getRequest<{ ip: string }>().ip).replace(/^::ffff:/, '');
    return this.allowlist.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');
  }
}

/** Applies the per-IP budget to a route or controller and documents its 429. */
export const RateLimited = () =>
  applyDecorators(UseGuards(IpThrottlerGuard), ApiResponse({ status: 429, description: 'Too many requests from this address; see Retry-After.' }));
