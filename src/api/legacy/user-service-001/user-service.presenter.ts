import { SessionOutcome } from '../../../auth/auth.service';
import { User } from '../../../users/user.entity';
import { ProfileChanges } from '../../../users/users.service';
import {
  UserServiceLoggedInDto,
  UserServiceRegisteredDto,
  UserServiceRegisterDto,
  UserServiceSuccessDto,
  UserServiceUpdateUserDto,
  UserServiceUserEnvelopeDto,
} from './user-service.dto';

export const SUCCESS: UserServiceSuccessDto = { status: 'success' };

/** ISO 8601 with an explicit offset (`+00:00`), as the document's timestamps have. */
function withOffset(date: Date): string {
  return date.toISOString().replace(/Z$/, '+00:00');
}

export function presentUser(user: User): UserServiceUserEnvelopeDto {
  return {
    status: 'success',
    data: {
      id: user.id,
      email: user.email,
      user_type: user.userType,
      username: user.username,
      contact_number: user.phone,
      user_role: user.emailVerifiedAt ? 'Verified' : 'Not_Verifyed',
      created: withOffset(user.createdAt),
      updated: withOffset(user.updatedAt),
    },
  };
}

export function presentRegistered(user: User): UserServiceRegisteredDto {
  return { status: 'success', data: { user_id: user.id } };
}

export function presentLogin({ access }: SessionOutcome): UserServiceLoggedInDto {
  return { status: 'success', data: { token: access.token, 'token-expiry': access.expiresIn } };
}

/** The documented fields → domain profile changes (only those sent; the password is separate). */
export function accountChanges(body: UserServiceRegisterDto | UserServiceUpdateUserDto): ProfileChanges {
  const changes: ProfileChanges = { userType: body.user_type, username: body.username, email: body.email, phone: body.contact_number };
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
}
