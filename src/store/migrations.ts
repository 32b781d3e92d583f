/**
 * Schema migrations, defined in code (not files on a path) so `migrate()` works from any cwd
 * and from the CLI, tests and servers alike. The same knex schema calls run on SQLite and MySQL.
 *
 * Conventions: times are BIGINT epoch milliseconds; JSON is TEXT; every tenant-owned table
 * carries `tenant_id`. On MySQL tables use utf8mb4_bin so ids and usernames compare exactly
 * as they do on SQLite (the default *_ci collations would make "Bob" and "bob" collide).
 */
import type { Knex } from 'knex';

type TableBody = (t: Knex.CreateTableBuilder) => void;

interface CodeMigration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const ID = 64; // our own ids (UUIDs)
const USER_ID = 128; // the integrator's ids
const CLIENT_KEY = 128; // idempotency keys

function createTable(knex: Knex, name: string, body: TableBody): Knex.SchemaBuilder {
  const isMysql = String(knex.client.config.client).startsWith('mysql');
  return knex.schema.createTable(name, (t) => {
    if (isMysql) {
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
    }
    body(t);
  });
}

const initial: CodeMigration = {
  name: '0001_initial',
  async up(knex) {
    await createTable(knex, 'tenants', (t) => {
      t.string('id', ID).primary();
      t.string('name', 200).notNullable();
      t.string('api_key_hash', 64).notNullable().unique();
      t.string('jwt_secret', 128).notNullable();
      t.text('settings').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['created_at', 'id']);
    });
    await createTable(knex, 'users', (t) => {
      t.string('tenant_id', ID).notNullable().references('id').inTable('tenants').onDelete('CASCADE');
      t.string('id', USER_ID).notNullable();
      t.string('username', 128).notNullable();
      t.string('email', 320).nullable();
      t.string('display_name', 200).nullable();
      t.string('role', 16).notNullable();
      t.text('permissions').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.primary(['tenant_id', 'id']);
      t.unique(['tenant_id', 'username']);
      t.index(['tenant_id', 'created_at', 'id']);
    });
    await createTable(knex, 'user_tokens', (t) => {
      t.string('id', ID).primary();
      t.string('tenant_id', ID).notNullable();
      t.string('user_id', USER_ID).notNullable();
      t.bigInteger('expires_at').notNullable();
      t.bigInteger('revoked_at').nullable();
      t.bigInteger('created_at').notNullable();
      // Deleting a user (or tenant, via users) removes their tokens, so verify() fails for them.
      t.foreign(['tenant_id', 'user_id']).references(['tenant_id', 'id']).inTable('users').onDelete('CASCADE');
      t.index(['tenant_id', 'user_id']);
    });
    await createTable(knex, 'rooms', (t) => {
      t.string('id', ID).primary();
      t.string('tenant_id', ID).notNullable().references('id').inTable('tenants').onDelete('CASCADE');
      t.string('type', 16).notNullable();
      t.string('name', 200).nullable();
      // Sorted member pair for DMs; NULL for groups/channels (NULLs never collide in a UNIQUE).
      t.string('dm_key', 2 * USER_ID + 1).nullable();
      t.string('created_by', USER_ID).notNullable();
      t.bigInteger('last_seq').notNullable().defaultTo(0);
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['tenant_id', 'dm_key']);
    });
    await createTable(knex, 'room_members', (t) => {
      t.string('tenant_id', ID).notNullable();
      t.string('room_id', ID).notNullable().references('id').inTable('rooms').onDelete('CASCADE');
      t.string('user_id', USER_ID).notNullable();
      t.string('role', 16).notNullable();
      t.bigInteger('delivered_seq').notNullable().defaultTo(0);
      t.bigInteger('read_seq').notNullable().defaultTo(0);
      t.bigInteger('joined_at').notNullable();
      t.primary(['room_id', 'user_id']);
      t.foreign(['tenant_id', 'user_id']).references(['tenant_id', 'id']).inTable('users').onDelete('CASCADE');
      t.index(['tenant_id', 'user_id']);
    });
    await createTable(knex, 'messages', (t) => {
      t.bigIncrements('pk').primary();
      t.string('id', ID).notNullable().unique();
      t.string('tenant_id', ID).notNullable();
      t.string('room_id', ID).notNullable().references('id').inTable('rooms').onDelete('CASCADE');
      t.bigInteger('seq').notNullable();
      t.string('sender_id', USER_ID).notNullable();
      t.text('content').notNullable();
      t.text('meta').nullable();
      t.string('client_msg_id', CLIENT_KEY).nullable();
      t.string('body_hash', 64).nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('edited_at').nullable();
      t.bigInteger('deleted_at').nullable();
      t.unique(['room_id', 'seq']);
      t.unique(['room_id', 'sender_id', 'client_msg_id']);
      t.index(['tenant_id', 'pk']);
    });
    // A one-row table the health check writes to: proves the database accepts writes.
    await createTable(knex, 'health_probe', (t) => {
      t.integer('id').primary();
      t.bigInteger('checked_at').notNullable();
    });
    await knex('health_probe').insert({ id: 1, checked_at: Date.now() });
  },
  async down(knex) {
    for (const table of ['health_probe', 'messages', 'room_members', 'rooms', 'user_tokens', 'users', 'tenants']) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};

/**
 * End-user identity (issue 8): publishable keys, passwords, refresh-token families, guests'
 * expiry, room-scoped tokens, emailed room codes and room invites. Secrets are stored hashed.
 */
const identity: CodeMigration = {
  name: '0004_identity',
  async up(knex) {
    await createTable(knex, 'publishable_keys', (t) => {
      t.string('id', ID).primary();
      t.string('tenant_id', ID).notNullable().references('id').inTable('tenants').onDelete('CASCADE');
      t.string('key_hash', 64).notNullable().unique();
      t.string('prefix', 16).notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('rotated_at').nullable();
      t.index(['tenant_id', 'created_at']);
    });
    await knex.schema.alterTable('users', (t) => {
      t.bigInteger('expires_at').nullable(); // guests only
      t.index(['expires_at']);
    });
    await knex.schema.alterTable('user_tokens', (t) => {
      t.string('room_id', ID).nullable(); // a token scoped to one room (emailed code)
    });
    await createTable(knex, 'user_passwords', (t) => {
      t.string('tenant_id', ID).notNullable();
      t.string('user_id', USER_ID).notNullable();
      t.string('hash', 255).notNullable();
      t.bigInteger('created_at').notNullable();
      t.primary(['tenant_id', 'user_id']);
      t.foreign(['tenant_id', 'user_id']).references(['tenant_id', 'id']).inTable('users').onDelete('CASCADE');
    });
    await createTable(knex, 'refresh_tokens', (t) => {
      t.string('id', ID).primary();
      t.string('tenant_id', ID).notNullable();
      t.string('user_id', USER_ID).notNullable();
      t.string('family_id', ID).notNullable();
      t.string('token_hash', 64).notNullable().unique();
      t.string('access_token_id', ID).nullable();
      t.bigInteger('expires_at').notNullable();
      t.bigInteger('used_at').nullable();
      t.bigInteger('revoked_at').nullable();
      t.bigInteger('created_at').notNullable();
      t.foreign(['tenant_id', 'user_id']).references(['tenant_id', 'id']).inTable('users').onDelete('CASCADE');
      t.index(['tenant_id', 'family_id']);
    });
    await createTable(knex, 'room_codes', (t) => {
      t.string('tenant_id', ID).notNullable();
      t.string('room_id', ID).notNullable().references('id').inTable('rooms').onDelete('CASCADE');
      t.string('email_hash', 64).notNullable();
      t.string('code_hash', 64).notNullable();
      t.integer('failures').notNullable().defaultTo(0);
      t.bigInteger('expires_at').notNullable();
      t.bigInteger('sent_at').notNullable();
      t.primary(['room_id', 'email_hash']);
    });
    await createTable(knex, 'room_invites', (t) => {
      t.string('id', ID).primary();
      t.string('tenant_id', ID).notNullable();
      t.string('room_id', ID).notNullable().references('id').inTable('rooms').onDelete('CASCADE');
      t.string('code_hash', 64).notNullable().unique();
      t.string('password_hash', 255).nullable();
      t.bigInteger('expires_at').nullable();
      t.integer('max_uses').nullable();
      t.integer('uses').notNullable().defaultTo(0);
      t.bigInteger('revoked_at').nullable();
      t.string('created_by', USER_ID).notNullable();
      t.bigInteger('created_at').notNullable();
      t.index(['tenant_id', 'room_id', 'created_at']);
    });
  },
  async down(knex) {
    for (const table of ['room_invites', 'room_codes', 'refresh_tokens', 'user_passwords', 'publishable_keys']) {
      await knex.schema.dropTableIfExists(table);
    }
    await knex.schema.alterTable('user_tokens', (t) => t.dropColumn('room_id'));
    await knex.schema.alterTable('users', (t) => {
      t.dropIndex(['expires_at']);
      t.dropColumn('expires_at');
    });
  },
};

const MIGRATIONS: CodeMigration[] = [initial, identity];

/** knex's MigrationSource over the list above, in order. */
export const migrationSource: Knex.MigrationSource<CodeMigration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => ({ up: m.up, down: m.down }),
};
