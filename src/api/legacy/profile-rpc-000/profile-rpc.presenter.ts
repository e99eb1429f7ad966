import { User } from '../../../users/user.entity';
import { ProfileChanges } from '../../../users/users.service';
import { jsonValue } from '../api-error-responses';
import { ProfileRpcProfileDto, ProfileRpcProfileUpdateDto } from './profile-rpc.dto';

/** The documented string answers, as JSON strings. */
export const DONE = jsonValue('DONE!');
export const CODE_SENT = jsonValue('code send on your email');

/** The documented profile object, key by key; `hash_rst`/`hash_vrf` are never filled (SPEC §4). */
export function presentProfile(user: User): ProfileRpcProfileDto {
  return {
    id: user.id,
    name: user.name,
    surname: user.surname,
    patronymic: user.patronymic,
    email: user.email,
    auto_updating: user.autoUpdating,
    auto_paying: user.autoPaying,
    hash_rst: null,
    hash_vrf: null,
    token: user.pushToken,
    phone: user.phone,
    status: user.status,
    client: user.authClient,
    role: user.role,
    cityId: user.cityId,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/** The documented update fields → domain profile changes (only the fields that were sent). */
export function profileChanges(body: ProfileRpcProfileUpdateDto): ProfileChanges {
  const changes: ProfileChanges = {
    name: body.name,
    surname: body.surname,
    patronymic: body.patronymic,
    email: body.email,
    autoUpdating: body.auto_updating,
    autoPaying: body.auto_paying,
    phone: body.phone,
    cityId: body.cityId,
  };
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
}
