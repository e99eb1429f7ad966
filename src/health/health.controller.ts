import { ArgumentsHost, Catch, Controller, ExceptionFilter, Get, HttpException, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth.decorators';

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
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ operationId: 'liveness', summary: 'The process is up (no dependencies checked)' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ operationId: 'readiness', summary: 'Ready for traffic: the database answers' })
  @ApiServiceUnavailableResponse({ description: 'The database does not answer (within 3 s): `{"status":"error", "error": {"database": …}}`.' })
  ready() {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 3000 })]);
  }
}
