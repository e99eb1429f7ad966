import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../common/auth.decorators';
import { ReadOnly } from '../common/read-your-writes';

const LIVE: HealthCheckResult = Object.freeze({ status: 'ok', info: {}, error: {}, details: {} });

@ApiTags('health')
@Controller('health')
@Public()
@ReadOnly()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ operationId: 'liveness', summary: 'The process is up (no dependencies checked)' })
  live(): HealthCheckResult {
    // The result terminus gives for no checks, without its executor (issue 13: that was most of
    // this route's own cost); @HealthCheck() still documents it and sets Cache-Control.
    return LIVE;
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ operationId: 'readiness', summary: 'Ready for traffic: the database answers' })
  ready() {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 3000 })]);
  }
}
