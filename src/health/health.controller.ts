import { ArgumentsHost, Catch, Controller, ExceptionFilter, Get, HttpException, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth.decorators';
import { ReadOnly } from '../common/read-your-writes';

const LIVE: HealthCheckResult = Object.freeze({ status: 'ok', info: {}, error: {}, details: {} });

/**
 * Terminus answers a failed check with a 503 carrying the check results; the global filter would
 * take that exception for a fault of ours (a 500). Health answers keep terminus's status and body.
 */
@Catch(HttpException)
export class HealthCheckFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    void host.switchToHttp().getResponse<FastifyReply>().status(exception.getStatus()).send(exception.getResponse());
  }
}

@ApiTags('health')
@Controller('health')
@Public()
@UseFilters(HealthCheckFilter)
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
  @ApiServiceUnavailableResponse({ description: 'The database does not answer (within 3 s): `{"status":"error", "error": {"database": …}}`.' })
  ready() {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 3000 })]);
  }
}
