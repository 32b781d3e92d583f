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

/**
 * The transactional outbox and what is delivered from it: every event (written by the transaction
 * of its change), webhook endpoints, one delivery row per (endpoint, event), and notifications.
 */
const outbox: CodeMigration = {
  name: '0006_outbox',
  async up(knex) {
    await createTable(knex, 'outbox_events', (t) => {
      t.bigIncrements('pk').primary(); // the order events are dispatched (and, per room, delivered) in
      t.string('id', ID).notNullable().unique();
      t.string('tenant_id', ID).notNullable();
      t.string('room_id', ID).nullable();
      t.string('type', 64).notNullable();
      t.text('payload', 'mediumtext').notNullable(); // the event's frame as JSON: the webhook body
      t.bigInteger('created_at').notNullable();
      t.bigInteger('dispatched_at').nullable();
      t.index(['dispatched_at', 'pk']);
    });
    // One row: dispatchers take it FOR UPDATE SKIP LOCKED, so one node at a time turns events into deliveries.
    await createTable(knex, 'outbox_dispatch_lock', (t) => {
      t.integer('id').primary();
      t.bigInteger('taken_at').notNullable();
    });
    await knex('outbox_dispatch_lock').insert({ id: 1, taken_at: 0 });
    await createTable(knex, 'webhooks', (t) => {
      t.string('id', ID).primary();
      t.string('tenant_id', ID).notNullable().references('id').inTable('tenants').onDelete('CASCADE');
      t.string('url', 2048).notNullable();
      t.string('description', 500).nullable();
      t.text('event_types').notNullable(); // JSON array of patterns
      t.text('room_ids').nullable(); // JSON array, or NULL for every room
      t.boolean('enabled').notNullable();
      t.string('disabled_reason', 500).nullable();
      t.string('secret', 128).notNullable();
      t.string('previous_secret', 128).nullable();
      t.bigInteger('previous_secret_expires_at').nullable();
      t.bigInteger('failing_since').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['tenant_id', 'created_at', 'id']);
    });
    await createTable(knex, 'webhook_deliveries', (t) => {
      t.bigIncrements('pk').primary();
      t.string('id', ID).notNullable().unique();
      t.string('tenant_id', ID).notNullable();
      t.string('webhook_id', ID).notNullable().references('id').inTable('webhooks').onDelete('CASCADE');
      t.string('event_id', ID).notNullable();
      t.bigInteger('event_pk').notNullable();
      t.string('event_type', 64).notNullable();
      t.string('lane', ID).notNullable(); // the room ('' for events of no room): order is kept per (webhook, lane)
      t.string('status', 16).notNullable();
      t.integer('attempts').notNullable();
      t.bigInteger('next_attempt_at').notNullable();
      t.bigInteger('lease_until').nullable();
      t.bigInteger('last_attempt_at').nullable();
      t.integer('last_status_code').nullable();
      t.integer('last_latency_ms').nullable();
      t.string('last_error', 500).nullable();
      t.text('attempt_log').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['webhook_id', 'event_id']);
      t.index(['webhook_id', 'lane', 'status', 'event_pk']);
      t.index(['status', 'next_attempt_at']);
      t.index(['tenant_id', 'webhook_id', 'created_at']);
    });
    await createTable(knex, 'notifications', (t) => {
      t.bigIncrements('pk').primary();
      t.string('id', ID).notNullable().unique();
      t.string('tenant_id', ID).notNullable();
      t.string('user_id', USER_ID).notNullable();
      t.string('type', 64).notNullable();
      t.string('title', 200).notNullable();
      t.text('body').nullable();
      t.text('data').nullable();
      t.string('room_id', ID).nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('read_at').nullable();
      t.foreign(['tenant_id', 'user_id']).references(['tenant_id', 'id']).inTable('users').onDelete('CASCADE');
      t.index(['tenant_id', 'user_id', 'read_at', 'pk']);
    });
    await createTable(knex, 'notification_requests', (t) => {
      t.string('tenant_id', ID).notNullable().references('id').inTable('tenants').onDelete('CASCADE');
      t.string('idempotency_key', CLIENT_KEY).notNullable();
      t.string('body_hash', 64).notNullable();
      t.text('result', 'mediumtext').notNullable();
      t.bigInteger('created_at').notNullable();
      t.primary(['tenant_id', 'idempotency_key']);
    });
  },
  async down(knex) {
    for (const table of ['notification_requests', 'notifications', 'webhook_deliveries', 'webhooks', 'outbox_dispatch_lock', 'outbox_events']) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};

/**
 * The cross-room feed's commit-ordered position on MySQL (store/feed.ts): a per-tenant counter
 * and each message's position. Existing messages keep their pk as position (and each tenant's
 * counter starts at its largest), so cursors handed out before stay valid. SQLite needs neither:
 * its pk is commit-ordered.
 */
const feedPosition: CodeMigration = {
  name: '0002_feed_position',
  async up(knex) {
    if (!String(knex.client.config.client).startsWith('mysql')) return;
    await createTable(knex, 'feed_positions', (t) => {
      t.string('tenant_id', ID).primary().references('id').inTable('tenants').onDelete('CASCADE');
      t.bigInteger('last_pos').notNullable();
    });
    await knex.schema.alterTable('messages', (t) => {
      t.bigInteger('feed_pos').nullable();
      t.index(['tenant_id', 'feed_pos']);
    });
    await knex('messages').update({ feed_pos: knex.ref('pk') });
    await knex.raw('INSERT INTO feed_positions (tenant_id, last_pos) SELECT tenant_id, MAX(pk) FROM messages GROUP BY tenant_id');
  },
  async down(knex) {
    if (!String(knex.client.config.client).startsWith('mysql')) return;
    await knex.schema.alterTable('messages', (t) => {
      t.dropIndex(['tenant_id', 'feed_pos']);
      t.dropColumn('feed_pos');
    });
    await knex.schema.dropTableIfExists('feed_positions');
  },
};

/**
 * Issue 9, the staff side: tickets (a row per ticket room), room bans, mutes and slow mode,
 * archived rooms, tenant-wide user bans, the audit log, and the indexes the admin panel's
 * listings and figures run on.
 */
const staff: CodeMigration = {
  name: '0005_staff',
  async up(knex) {
    await knex.schema.alterTable('rooms', (t) => {
      t.bigInteger('archived_at').nullable();
      t.integer('slow_mode_seconds').notNullable().defaultTo(0);
      t.index(['tenant_id', 'updated_at', 'id'], 'rooms_tenant_activity');
      t.index(['tenant_id', 'type'], 'rooms_tenant_type');
    });
    await knex.schema.alterTable('room_members', (t) => {
      t.bigInteger('muted_until').nullable();
      t.bigInteger('last_sent_at').nullable(); // slow mode: when the member's last message was accepted
    });
    await knex.schema.alterTable('users', (t) => {
      t.bigInteger('banned_at').nullable();
      t.bigInteger('banned_until').nullable();
      t.string('ban_reason', 500).nullable();
      t.string('banned_by', USER_ID).nullable();
    });
    await knex.schema.alterTable('messages', (t) => {
      t.index(['tenant_id', 'created_at'], 'messages_tenant_created');
    });
    await createTable(knex, 'tickets', (t) => {
      t.string('room_id', ID).primary().references('id').inTable('rooms').onDelete('CASCADE');
      t.string('tenant_id', ID).notNullable();
      t.string('requester_id', USER_ID).notNullable();
      t.string('assignee_id', USER_ID).nullable();
      t.string('status', 16).notNullable();
      t.string('priority', 16).notNullable();
      t.integer('priority_rank').notNullable(); // urgent 3 … low 0, for sorting
      t.string('category', 64).nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('first_response_at').nullable();
      t.bigInteger('resolved_at').nullable();
      t.bigInteger('closed_at').nullable();
      t.index(['tenant_id', 'status', 'priority']);
      t.index(['tenant_id', 'created_at', 'room_id']);
      t.index(['tenant_id', 'priority_rank', 'created_at', 'room_id']);
      t.index(['tenant_id', 'assignee_id']);
      t.index(['tenant_id', 'requester_id', 'created_at']);
    });
    await createTable(knex, 'room_bans', (t) => {
      t.string('tenant_id', ID).notNullable();
      t.string('room_id', ID).notNullable().references('id').inTable('rooms').onDelete('CASCADE');
      t.string('user_id', USER_ID).notNullable();
      t.bigInteger('until').nullable();
      t.string('reason', 500).nullable();
      t.string('banned_by', USER_ID).notNullable();
      t.bigInteger('created_at').notNullable();
      t.primary(['room_id', 'user_id']);
    });
    await createTable(knex, 'audit_log', (t) => {
      t.bigIncrements('pk').primary();
      t.string('tenant_id', ID).notNullable();
      t.string('actor_id', USER_ID).notNullable();
      t.string('action', 64).notNullable();
      t.string('room_id', ID).nullable();
      t.string('target_user_id', USER_ID).nullable();
      t.text('detail').nullable();
      t.bigInteger('created_at').notNullable();
      t.index(['tenant_id', 'pk']);
    });
  },
  async down(knex) {
    for (const table of ['audit_log', 'room_bans', 'tickets']) await knex.schema.dropTableIfExists(table);
    await knex.schema.alterTable('messages', (t) => t.dropIndex(['tenant_id', 'created_at'], 'messages_tenant_created'));
    await knex.schema.alterTable('users', (t) => t.dropColumns('banned_at', 'banned_until', 'ban_reason', 'banned_by'));
    await knex.schema.alterTable('room_members', (t) => t.dropColumns('muted_until', 'last_sent_at'));
    await knex.schema.alterTable('rooms', (t) => {
      t.dropIndex(['tenant_id', 'updated_at', 'id'], 'rooms_tenant_activity');
      t.dropIndex(['tenant_id', 'type'], 'rooms_tenant_type');
      t.dropColumns('archived_at', 'slow_mode_seconds');
    });
  },
};

/**
 * The admin panel's per-day message counts of days that are over (they no longer change), filled
 * on first use: a day is counted once from the messages (tenant_id, created_at) index, then read here.
 */
const dayCounts: CodeMigration = {
  name: '0005_staff_day_counts',
  async up(knex) {
    await createTable(knex, 'message_day_counts', (t) => {
      t.string('tenant_id', ID).notNullable().references('id').inTable('tenants').onDelete('CASCADE');
      t.integer('day').notNullable(); // days since 1970-01-01 (UTC)
      t.integer('count').notNullable();
      t.primary(['tenant_id', 'day']);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('message_day_counts');
  },
};

/**
 * Issue 12: the messages (tenant_id, pk) index serves one query, the cross-room feed on SQLite,
 * whose position is the pk (feed.ts). On MySQL/MariaDB the feed runs on (tenant_id, feed_pos) and
 * nothing reads (tenant_id, pk), while every send still wrote it (one B-tree of six per message).
 * Dropped there; SQLite keeps it. Every other index of messages is read: id (a message by id),
 * (room_id, seq) (history, unread counts, the FK to rooms), (room_id, sender_id, client_msg_id)
 * (idempotent sends), (tenant_id, created_at) (admin stats per day), and on MySQL (tenant_id, feed_pos).
 */
const unusedMessageIndex: CodeMigration = {
  name: '0007_messages_tenant_pk_sqlite_only',
  async up(knex) {
    if (!String(knex.client.config.client).startsWith('mysql')) return;
    await knex.schema.alterTable('messages', (t) => t.dropIndex(['tenant_id', 'pk']));
  },
  async down(knex) {
    if (!String(knex.client.config.client).startsWith('mysql')) return;
    await knex.schema.alterTable('messages', (t) => t.index(['tenant_id', 'pk']));
  },
};

/**
 * A new endpoint receives the events committed after it: dispatch compared event and endpoint
 * times, but an event's time is taken before its transaction waits for the writer (and nodes'
 * clocks differ), so an event committed just after createWebhook could be skipped. The endpoint
 * now records the outbox position at its creation (store/webhooks.ts, insertWebhook). Existing
 * endpoints start after the last event older than them: what the time rule gave them.
 */
const webhookOutboxPosition: CodeMigration = {
  name: '0008_webhooks_outbox_from_pk',
  async up(knex) {
    await knex.schema.alterTable('webhooks', (t) => t.bigInteger('outbox_from_pk').notNullable().defaultTo(0));
    await knex('webhooks').update({
      outbox_from_pk: knex.raw('COALESCE((SELECT MAX(o.pk) FROM outbox_events o WHERE o.created_at < webhooks.created_at), 0)'),
    });
  },
  async down(knex) {
    await knex.schema.alterTable('webhooks', (t) => t.dropColumn('outbox_from_pk'));
  },
};

const MIGRATIONS: CodeMigration[] = [initial, feedPosition, outbox, staff, dayCounts, identity, unusedMessageIndex, webhookOutboxPosition];

/** knex's MigrationSource over the list above, in order. */
export const migrationSource: Knex.MigrationSource<CodeMigration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => ({ up: m.up, down: m.down }),
};
