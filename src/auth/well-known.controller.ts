import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth.decorators';
import { WithoutDatabase } from '../common/openapi.decorators';
import { SigningKeysService } from './signing-keys.service';
import { ReadOnly } from '../common/read-your-writes';

@ApiTags('well-known')
@Controller('.well-known')
export class WellKnownController {
  constructor(private readonly keys: SigningKeysService) {}

  @Get('jwks.json')
  @Public()
  @WithoutDatabase()
  @ReadOnly()
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ operationId: 'getJwks', summary: 'Public keys that verify our access tokens (RFC 7517), by `kid`' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
      example: { keys: [{ kty: 'EC', crv: 'P-256', x: '…', y: '…', kid: '…', alg: 'ES256', use: 'sig' }] },
    },
  })
  jwks() {
    return this.keys.jwks();
  }
}
