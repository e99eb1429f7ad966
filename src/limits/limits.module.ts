import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LimitsService } from './limits.service';
import { RateLimitCounter } from './rate-limit.entity';

/** Global: the per-client guard on many controllers and the outbox both count against these budgets. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([RateLimitCounter])],
  providers: [LimitsService],
  exports: [LimitsService],
})
export class LimitsModule {}
