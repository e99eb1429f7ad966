import { ValidationError, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { completeDocument } from './api/openapi/document';
import { answerFrameworkError, registerMethodNotAllowed, SurfaceByPathFilter } from './api/surfaces';
import { AppModule, AppModuleOptions } from './app.module';
import { DomainError, FieldError } from './common/domain-error';
import { READ_LIMIT, registerLenientBodyParsers } from './common/json-body';
import { nestLogger, registerAccessLog, requestId, ROOT_LOGGER } from './common/logging';
import { registerReadYourWrites } from './common/read-your-writes';
import { registerResponseHeaders } from './common/security-headers';
import { parseQueryString } from './common/request-input';
import { registerUuidParamRoutes } from './common/uuid-route';
import { AppConfig } from './config/app-config';
import { ChangeListener } from './database/change-listener';
import { Shutdown } from './lifecycle/shutdown';
import { Metrics } from './metrics/metrics.service';
import { registerMetrics } from './metrics/metrics.http';

/** Flattens class-validator's tree into `{ field: "a.b", message }` pairs. */
export function fieldErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Identity service')
    .setDescription(
      'Accounts, sign-in, tokens and sessions. `/v1` is the clean API (errors: RFC 9457 problem+json); ' +
        'the legacy surfaces serve the documented APIs of existing products on the same user store. ' +
        'Access tokens are accepted as `Authorization: Bearer <token>` or `Authorization: Token <token>`. ' +
        'On every surface, a request body is a JSON object of at most 64 KiB, valid UTF-8, nested at most 32 levels; ' +
        'no string of a request (body, path, query) may hold control characters other than tab, line feed and carriage return. ' +
        "Anything else is refused with the surface's own 400 (413 for size).",
    )
    .setVersion('1.0.0')
    .setLicense('UNLICENSED', 'https://spdx.org/licenses/')
    .addServer('/', 'This server')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  return completeDocument(document, app);
}

/** Creates the app (not listening) with every cross-cutting concern: shared by main, the tests and scripts. */
export async function createApp(config: AppConfig, options: AppModuleOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    trustProxy: config.trustProxy,
    bodyLimit: READ_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, querystringParser: parseQueryString },
    genReqId: requestId,
    frameworkErrors: answerFrameworkError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options), adapter, {
    bufferLogs: true,
    bodyParser: false, // our own JSON parser, see registerLenientBodyParsers
  });
  app.useLogger(nestLogger(app.get(ROOT_LOGGER)));
  app.flushLogs();

  const fastify = app.getHttpAdapter().getInstance();
  registerLenientBodyParsers(fastify);
  registerUuidParamRoutes(fastify);
  registerMethodNotAllowed(fastify);
  registerMetrics(fastify, app.get(Metrics), config.operations.metricsToken);
  // Issue 13: each of these is one plain hook, computed once at start-up (see each function).
  registerResponseHeaders(fastify);
  registerAccessLog(fastify, app.get(ROOT_LOGGER));
  registerReadYourWrites(fastify, app.get(ChangeListener));
  // While shutting down, an answer also ends its kept-alive connection, so the drain does not wait for idle clients.
  const shutdown = app.get(Shutdown);
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (shutdown.started) reply.header('Connection', 'close');
    done(null, payload);
  });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      transform: true,
      exceptionFactory: (errors) => DomainError.validation(fieldErrors(errors)),
    }),
  );
  app.useGlobalFilters(new SurfaceByPathFilter());
  // No enableShutdownHooks(): main.ts stops on SIGTERM itself, in the order a graceful shutdown needs (lifecycle/shutdown.ts).

  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  return app;
}
