import { Module } from '@nestjs/common';
import { MePasswordModule } from './me-password-004/me-password.module';
import { ProfileRpcModule } from './profile-rpc-000/profile-rpc.module';
import { UserServiceModule } from './user-service-001/user-service.module';
import { UsersApiModule } from './users-002/users-api.module';
import { UserAccountModule } from './user-account-003/user-account.module';

/**
 * The documented APIs of existing products, one folder each: thin controllers, DTOs, one
 * presenter and one error filter per document, over the same domain services as /v1.
 */
@Module({
  imports: [ProfileRpcModule, UserServiceModule, UsersApiModule, UserAccountModule, MePasswordModule],
})
export class LegacyModule {}
