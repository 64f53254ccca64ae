// PostGraphile 5 over the CRM's PostgreSQL tables, for bench/run.sh only (not a product).
// The database comes from DATABASE_URL, the port from PG_PORT; it listens on 127.0.0.1.
// There is no tenancy here: the benchmark query restricts itself to the benchmark
// organization with a `condition: {organizationId: ...}` argument.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      // node-postgres' default pool size (10), stated so the README can quote it.
      poolConfig: { max: Number(process.env.PG_POOL_MAX || 10) },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PG_PORT || 5678),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
