import { Module } from '@nestjs/common';

/** Document 003 (`seeds/003`): user_account endpoints under /api/. */
@Module({
  imports: [],
  controllers: [],
})
export class UserAccountModule {}
