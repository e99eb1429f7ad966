import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { USER_ROLES, USER_STATUSES, UserRole, UserStatus } from '../../../users/user.entity';

export const MAX_PAGE_SIZE = 100;

/** A page size in a query string: 1 to MAX_PAGE_SIZE, optional (each DTO documents its default). */
export const PageLimit = () =>
  applyDecorators(
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(MAX_PAGE_SIZE),
  );
/** Deeper pages are refused (400) rather than sent to the database as a huge OFFSET: narrow with `search` instead. */
export const MAX_PAGE = 10_000;

export class ListUsersQuery {
  @ApiPropertyOptional({ description: 'Matches e-mail, username, phone, name, surname or full name (case-insensitive substring).' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  search?: string;

  @ApiPropertyOptional({ enum: USER_ROLES }) @IsOptional() @IsIn(USER_ROLES) role?: UserRole;
  @ApiPropertyOptional({ enum: USER_STATUSES }) @IsOptional() @IsIn(USER_STATUSES) status?: UserStatus;

  @ApiPropertyOptional({ default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  page: number = 1;

  @ApiPropertyOptional({ default: 20 })
  @PageLimit()
  limit: number = 20;
}

export class AdminUpdateUserDto {
  @ApiPropertyOptional({ enum: USER_ROLES }) @IsOptional() @IsIn(USER_ROLES) role?: UserRole;
  @ApiPropertyOptional({ enum: USER_STATUSES, description: '`blocked` also ends every session of the user.' })
  @IsOptional()
  @IsIn(USER_STATUSES)
  status?: UserStatus;
}
