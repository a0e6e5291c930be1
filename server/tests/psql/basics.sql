-- DDL, DML, errors with their SQLSTATE, transactions: run by psql against hdb serve,
-- with the output PostgreSQL 15 gives for the same script (basics.out).
\set VERBOSITY sqlstate
CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner VARCHAR(20) NOT NULL, balance BIGINT, opened DATE);
CREATE INDEX accounts_owner ON accounts (owner);
INSERT INTO accounts VALUES (1, 'ann', 100, '2024-01-31'), (2, 'bob', 50, NULL), (3, 'cy', -5, '1999-12-31');
SELECT id, owner, balance, opened FROM accounts ORDER BY id;
UPDATE accounts SET balance = balance + 10 WHERE owner = 'bob';
DELETE FROM accounts WHERE balance < 0;
SELECT owner, balance * 2 AS doubled, balance / 3 AS third FROM accounts ORDER BY owner;
SELECT count(*) AS n, sum(balance) AS total, min(opened) AS first FROM accounts;
-- Errors: each reports its SQLSTATE and the script goes on.
\set ON_ERROR_STOP 0
SELEC 1;
SELECT * FROM missing;
SELECT nothing FROM accounts;
INSERT INTO accounts VALUES (1, 'dup', 0, NULL);
INSERT INTO accounts VALUES (9, NULL, 0, NULL);
CREATE TABLE accounts (x INTEGER);
-- A failed transaction: everything after the error is refused until ROLLBACK.
BEGIN;
INSERT INTO accounts VALUES (4, 'dee', 1, NULL);
SELECT * FROM missing;
SELECT 1;
ROLLBACK;
\set ON_ERROR_STOP 1
-- A committed transaction, then one rolled back.
BEGIN;
INSERT INTO accounts VALUES (5, 'eve', 7, '2020-02-29');
COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ;
UPDATE accounts SET balance = 0;
ROLLBACK;
SELECT id, owner, balance FROM accounts ORDER BY id;
SELECT 'a' || 'b' AS s, 1.5::float8 AS f, 1e20::float8 AS big, true AS t, NULL AS n;
DROP INDEX accounts_owner;
DROP TABLE accounts;
