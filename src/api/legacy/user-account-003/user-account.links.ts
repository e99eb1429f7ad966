import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';

/** Where the links 003 e-mails point: PUBLIC_URL + the documented route that takes the token. */
@Injectable()
export class UserAccountLinks {
  private readonly base: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.base = config.publicUrl;
  }

  readonly confirmEmail = (token: string) => `${this.base}/api/confirm_email/${token}`;
  readonly resetPassword = (token: string) => `${this.base}/api/reset_password/${token}`;
}
