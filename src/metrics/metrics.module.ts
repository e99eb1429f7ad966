import { Global, Module } from '@nestjs/common';
import { Metrics } from './metrics.service';

/** Global: the outbox dispatcher counts its deliveries here; the HTTP hook and GET /metrics are set up in app.setup.ts. */
@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
