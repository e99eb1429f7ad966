import { Module } from '@nestjs/common';

/** Document 002 (`seeds/002`): the users API under /users/. */
@Module({
  imports: [],
  controllers: [],
})
export class UsersApiModule {}
