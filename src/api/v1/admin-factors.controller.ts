import { Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, UseFilters } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthContext } from '../../auth/sessions.service';
import { Authenticated, CurrentAuth } from '../../common/auth.decorators';
import { RequestContext, SecurityContext, Surface } from '../../common/security-context';
import { SecondFactors } from '../../mfa/second-factors.service';
import { FactorsDto } from './dto/mfa.dto';
import { ApiProblems } from './dto/problem.dto';
import { ProblemDetailsFilter } from './problem-details.filter';
import { presentFactors } from './v1.presenter';

/** Administrators and a user's second factors (issue 12). */
@ApiTags('v1 admin')
@Surface('v1')
@Controller('v1/admin/users/:id/factors')
@Authenticated('administrator')
@UseFilters(ProblemDetailsFilter)
export class V1AdminFactorsController {
  constructor(private readonly factors: SecondFactors) {}

  @Get()
  @ApiOperation({
    operationId: 'adminGetUserFactors',
    summary: 'Whether a user has second factors: which, the recovery codes left, the number of app passwords (no secrets)',
  })
  @ApiOkResponse({ type: FactorsDto })
  @ApiProblems(400, 401, 403, 404)
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<FactorsDto> {
    return presentFactors(await this.factors.overviewOf(id));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'adminRemoveUserFactors',
    summary: 'Remove every second factor of a user (a lost phone): also the recovery codes and app passwords; every session ends and the user is told',
  })
  @ApiNoContentResponse({ description: 'Removed; the user signs in with the password again.' })
  @ApiProblems(400, 401, 403, 404)
  async remove(@CurrentAuth() admin: AuthContext, @Param('id', new ParseUUIDPipe()) id: string, @RequestContext() context: SecurityContext): Promise<void> {
    await this.factors.resetByAdministrator(id, { context, actorId: admin.user.id });
  }
}
