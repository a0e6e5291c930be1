-- COPY FROM STDIN and TO STDOUT over the wire (CopyInResponse / CopyData / CopyDone,
-- CopyOutResponse), all-or-nothing loads, and what pgbench -i needs besides: CHAR(n),
-- WITH (fillfactor), TRUNCATE, VACUUM, ALTER TABLE ... ADD PRIMARY KEY. Run by psql
-- against hdb serve, with the output PostgreSQL 15 gives for the same script (copy.out).
\set VERBOSITY sqlstate
CREATE TABLE items (id INTEGER, name CHAR(6), qty INTEGER) WITH (fillfactor = 90);
COPY items FROM STDIN;
1	apple	3
2	pear	\N
3	fig	7
\.
COPY items (id, name) FROM STDIN WITH (FORMAT csv);
4,"kiwi"
\.
SELECT id, '[' || name || ']' AS name, octet_length(name) AS bytes, qty FROM items ORDER BY id;
COPY items TO STDOUT;
COPY (SELECT id, qty FROM items WHERE qty IS NOT NULL ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER);
-- A bad row loads nothing; so does a value too long for CHAR(6).
\set ON_ERROR_STOP 0
COPY items FROM STDIN;
5	plum	1
six	grape	2
\.
COPY items FROM STDIN;
7	blueberry	1
\.
COPY missing FROM STDIN;
SELECT count(*) FROM items;
BEGIN;
VACUUM items;
ROLLBACK;
ALTER TABLE items ADD PRIMARY KEY (qty);
\set ON_ERROR_STOP 1
-- TRUNCATE and a reload in one transaction, then the key.
BEGIN;
TRUNCATE TABLE items;
COPY items FROM STDIN WITH (FREEZE on);
10	a	1
11	b	2
\.
COMMIT;
VACUUM ANALYZE items;
ALTER TABLE items ADD PRIMARY KEY (id);
\set ON_ERROR_STOP 0
INSERT INTO items VALUES (10, 'dup', 0);
ALTER TABLE items ADD PRIMARY KEY (qty);
\set ON_ERROR_STOP 1
SELECT id, name, qty FROM items WHERE name = 'b' ORDER BY id;
-- BYTEA, UUID and INTERVAL columns through COPY: the text format doubles a bytea's
-- backslash, CSV does not; both read back what they wrote.
CREATE TABLE blobs (id UUID PRIMARY KEY, data BYTEA, span INTERVAL);
COPY blobs FROM STDIN;
a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11	\\x0001ff	1 mon 2 days 03:00:00
{00000000-0000-4000-8000-000000000001}	abc\\\\	-1 years +30 days
00000000000040008000000000000002	\N	\N
\.
COPY blobs FROM STDIN WITH (FORMAT csv);
00000000-0000-4000-8000-000000000003,\xdead,30 days
\.
COPY (SELECT * FROM blobs ORDER BY id) TO STDOUT;
COPY (SELECT * FROM blobs ORDER BY id) TO STDOUT WITH (FORMAT csv);
SELECT id, data, span FROM blobs ORDER BY span, id;
\set ON_ERROR_STOP 0
COPY blobs FROM STDIN;
not-a-uuid	\N	\N
\.
COPY blobs FROM STDIN;
00000000-0000-4000-8000-000000000009	\\xzz	\N
\.
\set ON_ERROR_STOP 1
SELECT count(*) FROM blobs;
