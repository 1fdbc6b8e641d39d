#!/usr/bin/env bash
# Regenerates the pgoutput test data in tests/postgres/unit/data/ from a real PostgreSQL 15.
#
# Starts a throwaway cluster (initdb in a temp dir, run as the `postgres` user when root),
# creates tables covering every type the value converter handles, runs one workload per
# scenario on a fresh logical slot, records each stream with capture_pgoutput (built here
# from capture_pgoutput.cpp), and stops and removes the cluster on exit.
#
#   sources/postgres/tools/capture_pgoutput.sh            # writes tests/postgres/unit/data/*
#   PORT=54329 OUT=/tmp/x sources/postgres/tools/capture_pgoutput.sh
#
# The captures carry real LSNs and timestamps, so every run produces different bytes; the unit
# tests only pin what the data itself says (read from the committed files).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
PORT="${PORT:-54329}"
OUT="${OUT:-$root/tests/postgres/unit/data}"
work="$(mktemp -d /tmp/laredo_pgcap.XXXXXX)"
data="$work/data"

as_pg() {
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

cleanup() {
    if [ -f "$data/postmaster.pid" ]; then as_pg "'$PGBIN/pg_ctl' -D '$data' -m fast -w stop" >/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "port $PORT is in use; set PORT" >&2
    exit 1
fi

g++ -std=c++20 -O1 -Wall -Wextra -o "$work/capture_pgoutput" "$here/capture_pgoutput.cpp" \
    -I"$(pg_config --includedir)" -lpq

chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown postgres "$work"
as_pg "'$PGBIN/initdb' -D '$data' -A trust -U postgres --no-sync" >/dev/null
as_pg "'$PGBIN/pg_ctl' -D '$data' -w -l '$work/log' -o \"-p $PORT -k '$work' -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_replication_slots=20 -c max_wal_senders=20 -c wal_sender_timeout=3s -c fsync=off\" start" >/dev/null

settings='-c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex -c client_encoding=UTF8'
conn="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
sql() { PGOPTIONS="$settings -c TimeZone=UTC" psql "$conn" -v ON_ERROR_STOP=1 -qAtX "$@"; }
capture() {  # capture NAME SLOT TIMEZONE COMMENT...
    local name="$1" slot="$2" tz="$3"
    shift 3
    local args=()
    for c in "$@"; do args+=(--comment "$c"); done
    "$work/capture_pgoutput" --conninfo "$conn replication=database options='$settings -c TimeZone=$tz'" \
        --slot "$slot" --publication cap_pub --out "$OUT/$name.hex" "${args[@]}"
}

mkdir -p "$OUT"
sql >/dev/null <<'SQL'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE all_types (
    id int PRIMARY KEY,
    c_bool bool, c_int2 int2, c_int4 int4, c_int8 int8, c_float4 float4, c_float8 float8,
    c_numeric numeric, c_text text, c_varchar varchar(20), c_bpchar char(5), c_name name,
    c_char "char", c_bytea bytea, c_date date, c_time time, c_timetz timetz,
    c_timestamp timestamp, c_timestamptz timestamptz, c_interval interval, c_uuid uuid,
    c_json json, c_jsonb jsonb, c_int4_arr int4[], c_text_arr text[], c_mood mood,
    c_mood_arr mood[], c_posint posint, c_oid oid, c_inet inet);
CREATE TABLE dml_default (id int PRIMARY KEY, name text, big text);
ALTER TABLE dml_default ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE dml_full (id int PRIMARY KEY, name text, big text);
ALTER TABLE dml_full ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE dml_full REPLICA IDENTITY FULL;
CREATE TABLE dml_composite (a int, b text, c text, PRIMARY KEY (b, a));
CREATE TABLE dml_index (id int NOT NULL, code text NOT NULL, note text);
CREATE UNIQUE INDEX dml_index_code ON dml_index (code);
ALTER TABLE dml_index REPLICA IDENTITY USING INDEX dml_index_code;
CREATE TABLE trunc_parent (id int PRIMARY KEY);
CREATE TABLE trunc_child (id int PRIMARY KEY, parent int REFERENCES trunc_parent);
CREATE TABLE bench_rows (id bigint PRIMARY KEY, name text, value float8, payload text,
                         updated_at timestamptz);
CREATE PUBLICATION cap_pub FOR ALL TABLES;
SELECT pg_replication_origin_create('laredo_origin');
SQL

# --- types: every converted type, edge values; captured in three session time zones ---
for s in types_utc types_amsterdam types_st_johns; do
    sql -c "SELECT pg_create_logical_replication_slot('$s', 'pgoutput')" >/dev/null
done
sql <<'SQL'
INSERT INTO all_types VALUES
 (1, true, 1, 2, 3, 1.5, 2.25, 12.500, 'hello', 'var', 'ab', 'nm', 'x', '\x0001ff',
  '2024-01-02', '13:05:09.5', '13:05:09+02', '2024-01-02 03:04:05.123456',
  '2024-01-02 03:04:05.123456+00', '1 year 2 mons 3 days 04:05:06.5',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"a": [1, 2.5, "x"]}', '{"b": null, "a": 1}',
  '{1,2,NULL}', '{"a b","c\"d",NULL,""}', 'happy', '{sad,happy}', 42, 4294967295,
  '192.168.0.1/24'),
 (2, false, -32768, -2147483648, -9223372036854775808, 'NaN', '-Infinity', 'NaN', '', '', '',
  '', '', '\x', '4713-11-24 BC', '00:00:00', '00:00:00+00', '4713-11-24 00:00:00 BC',
  '4713-11-24 00:00:00+00 BC', '-178000000 years', '00000000-0000-0000-0000-000000000000',
  'null', '[]', '{}', '{}', 'sad', '{}', 1, 0, '::1'),
 (3, true, 32767, 2147483647, 9223372036854775807, 'Infinity', 'Infinity',
  '-99999999999999999999.99999999999999999999',
  E'tab\there, newline\nhere, backslash \\ and ünïcødé ✓', repeat('v', 20), 'abcde',
  repeat('n', 63), 'z', '\xdeadbeef00ff', '5874897-12-31', '24:00:00', '23:59:59.999999-15:59',
  '9999-12-31 23:59:59.999999', '10000-01-01 00:00:00+00', '-1 days +02:03:04.000001',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '[1, "two", {"three": 3.0}]',
  '{"nested": {"deep": [true, false, null]}}', '{-2147483648,2147483647}',
  '{"{braces}",",comma","back\\slash"}', 'ok', '{ok,NULL}', 2147483647, 1, '2001:db8::/32'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, false, 0, 0, 0, '1e-45', '-0', 'Infinity', ' ', ' ', ' ', ' ', ' ', '\x00', 'infinity',
  '12:00:00.000001', '12:00:00-03:30', 'infinity', 'infinity', '00:00:00', gen_random_uuid(),
  '"string"', '"string"', '{{1,2},{3,4}}', '{"NULL"}', 'sad', '{happy}', 7, 26, '10.0.0.1'),
 (6, true, 7, 7, 7, '3.4028235e+38', '1.7976931348623157e+308', '-Infinity', 'x', 'x', 'x',
  'x', 'x', '\x7f', '-infinity', '23:59:59.999999', '00:00:00.5+14', '-infinity',
  '-infinity', '3 mons -4 days 00:00:00.25', '123e4567-e89b-12d3-a456-426614174000', '1e400',
  '1.5e3', '{}', '{}', 'happy', '{}', 8, 27, '0.0.0.0/0'),
 (7, false, 1, 1, 1, '-1.17549435e-38', '5e-324', '0.000000000000000000001', 'y', 'y', 'y',
  'y', 'y', '\x80', '1970-01-01', '01:02:03', '01:02:03.456789+05:30',
  '1970-01-01 00:00:00', '1900-01-01 00:00:00+00', '1 day', gen_random_uuid(), '{}',
  '{}', '{}', '{}', 'happy', '{}', 9, 28, '::'),
 (8, true, 2, 2, 2, '0.1', '0.1', '1e-6', 'z', 'z', 'z', 'z', 'z', '\x41', '0001-01-01',
  '00:00:00.1', '00:00:00+00', '0044-03-15 12:00:00 BC', '0044-03-15 12:00:00.25+00 BC',
  '178000000 years', gen_random_uuid(), '{}', '{}', '{}', '{}', 'ok', '{}', 10, 29, '::'),
 (9, true, 3, 3, 3, '-0', '123456789.123456789', '1.000', 'z', 'z', 'z', 'z', 'z', '\x41',
  '2000-02-29', '00:00:00', '00:00:00+00', '1969-12-31 23:59:59.999999',
  '2024-07-01 12:00:00.5+00', '-1 mons', gen_random_uuid(), '{}', '{}', '{}', '{}', 'ok', '{}',
  11, 30, '::');
SQL
capture types_utc types_utc UTC "scenario types: all_types rows 1-9 in one transaction, session TimeZone UTC"
capture types_amsterdam types_amsterdam Europe/Amsterdam "scenario types: the same stream, session TimeZone Europe/Amsterdam"
capture types_st_johns types_st_johns America/St_Johns "scenario types: the same stream, session TimeZone America/St_Johns"
# The baseline path: COPY text of the same rows, in yet another session zone.
PGOPTIONS="$settings -c TimeZone=Asia/Kolkata" psql "$conn" -qAtX \
    -c "COPY (SELECT * FROM all_types ORDER BY id) TO STDOUT" >"$OUT/types_copy_kolkata.txt"

# --- dml: every message and tuple kind ---
sql -c "SELECT pg_create_logical_replication_slot('dml', 'pgoutput')" >/dev/null
sql >/dev/null <<'SQL'
BEGIN;
INSERT INTO dml_default VALUES (1, 'a', repeat('x', 2500)), (2, 'b', 'small'), (3, 'c', NULL);
COMMIT;
UPDATE dml_default SET name = 'a2' WHERE id = 1;
UPDATE dml_default SET id = 20 WHERE id = 2;
DELETE FROM dml_default WHERE id = 3;
UPDATE dml_default SET name = 'nobody' WHERE id = 999;
INSERT INTO dml_full VALUES (1, 'f', repeat('y', 2500));
UPDATE dml_full SET name = 'f2' WHERE id = 1;
DELETE FROM dml_full WHERE id = 1;
INSERT INTO dml_composite VALUES (1, 'k', 'v');
UPDATE dml_composite SET c = 'w';
UPDATE dml_composite SET a = 2;
DELETE FROM dml_composite;
INSERT INTO dml_index VALUES (1, 'c1', 'n');
UPDATE dml_index SET code = 'c2';
DELETE FROM dml_index;
SELECT pg_replication_origin_session_setup('laredo_origin');
BEGIN;
SELECT pg_replication_origin_xact_setup('0/ABCDEF01', '2024-01-02 03:04:05+00');
INSERT INTO dml_default VALUES (4, 'from-origin', NULL);
COMMIT;
SELECT pg_replication_origin_session_reset();
SELECT pg_logical_emit_message(false, 'laredo', 'non-transactional');
BEGIN;
INSERT INTO dml_default VALUES (5, 'with-message', NULL);
SELECT pg_logical_emit_message(true, 'laredo', '\x00ff'::bytea);
COMMIT;
INSERT INTO trunc_parent VALUES (1);
INSERT INTO trunc_child VALUES (1, 1);
TRUNCATE dml_full, dml_composite RESTART IDENTITY;
TRUNCATE trunc_parent CASCADE;
ALTER TABLE dml_default ADD COLUMN extra int DEFAULT 7;
INSERT INTO dml_default (id, name) VALUES (6, 'after-add');
ALTER TABLE dml_default ALTER COLUMN extra TYPE bigint;
INSERT INTO dml_default (id, name) VALUES (7, 'after-retype');
ALTER TABLE dml_default DROP COLUMN extra;
INSERT INTO dml_default (id, name) VALUES (8, 'after-drop');
ALTER TABLE dml_default RENAME TO dml_renamed;
INSERT INTO dml_renamed (id, name) VALUES (9, 'after-rename');
SQL
capture dml dml UTC "scenario dml: see capture_pgoutput.sh for the statements, in order"

# --- bench: the benchmark row shape (bigint, text, float8, ~100-byte text, timestamptz) ---
sql -c "SELECT pg_create_logical_replication_slot('bench', 'pgoutput')" >/dev/null
sql <<'SQL'
INSERT INTO bench_rows
SELECT i, 'name-' || i, i * 1.25, rpad(md5(i::text), 100, md5((i * 7)::text)),
       '2024-01-02 03:04:05+00'::timestamptz + i * interval '1.5 second'
FROM generate_series(1, 100) i;
DO $$ BEGIN
  FOR t IN 0..9 LOOP
    INSERT INTO bench_rows
    SELECT 1000 + t * 10 + i, 'name-' || i, i / 3.0, rpad(md5(i::text), 100, 'p'),
           '2024-01-02 03:04:05.123456+00'::timestamptz + i * interval '1 minute'
    FROM generate_series(1, 5) i;
    COMMIT;
  END LOOP;
END $$;
SQL
capture bench bench UTC "scenario bench: 100 inserts in one transaction, then 10 transactions of 5"

ls -l "$OUT"
