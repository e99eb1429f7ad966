// The TypeORM CLI's data source (`npm run migration:generate|run|revert`), from the same options the app uses.
// `scripts/with-database.ts` sets DATABASE_URL (starting the embedded PostgreSQL when it is unset).
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './src/database/data-source';

if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set: run through `npm run typeorm`');

export default new DataSource(dataSourceOptions(process.env.DATABASE_URL));
