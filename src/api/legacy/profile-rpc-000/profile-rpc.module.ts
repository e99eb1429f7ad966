import { CredentialsModule } from '../../../credentials/credentials.module';
import { Module } from '@nestjs/common';
import { UsersModule } from '../../../users/users.module';
import { VerificationModule } from '../../../verification/verification.module';
import { ProfileRpcController } from './profile-rpc.controller';

/** Document 000 (`seeds/000`): profile RPC under /api/users. */
@Module({
  imports: [CredentialsModule, UsersModule, VerificationModule],
  controllers: [ProfileRpcController],
})
export class ProfileRpcModule {}
