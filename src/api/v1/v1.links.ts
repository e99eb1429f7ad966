import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

/** Where the links /v1 e-mails point: PUBLIC_URL + the /v1 route that takes the token. */
@Injectable()
export class V1Links {
  private readonly base: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.base = config.publicUrl;
  }

  readonly confirmEmail = (token: string) => `${this.base}/v1/auth/email/confirm?token=${token}`;
  readonly resetPassword = (token: string) => `${this.base}/v1/auth/password/reset?token=${token}`;
  readonly confirmEmailChange = (token: string) => `${this.base}/v1/auth/email/change/confirm?token=${token}`;
}
