import { Token } from "cdktf";

/**
 * How a client reaches its database: through PgBouncer (or the server
 * itself), with its own role. Each value is usually a Terraform reference to
 * the stack that owns the database.
 */
export interface DatabaseConnection {
  /** Host name on a network the client joins, such as `pgbouncer`. */
  readonly host: string;
  /** Port on that network, such as 5432. */
  readonly port: number;
  /** Database name; the role of the same name owns it. */
  readonly database: string;
  /** Role the client logs in as. */
  readonly username: string;
  /** The role's password; a sensitive Terraform reference, never a literal. */
  readonly password: string;
}

/** Returns the JDBC URL of a connection, as the PostgreSQL JDBC driver takes it. */
export function jdbcUrl(connection: DatabaseConnection): string {
  return `jdbc:postgresql://${connection.host}:${Token.asString(connection.port)}/${connection.database}`;
}
