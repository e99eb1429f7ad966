import { Global, Module } from '@nestjs/common';
import { AuditLog } from './audit-log.service';

/** Global: every domain module records its security events through the one AuditLog, in its own transactions. */
@Global()
@Module({ providers: [AuditLog], exports: [AuditLog] })
export class AuditModule {}
