-- psql's describe commands (\dt, \di, \d, \d NAME, name patterns), SHOW and SET, run
-- by psql against hdb serve, with the output PostgreSQL 15 gives (catalog.out).
CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner VARCHAR(20) NOT NULL, balance BIGINT, opened DATE);
CREATE UNIQUE INDEX accounts_owner ON accounts (owner, opened);
CREATE INDEX accounts_balance ON accounts (balance);
CREATE TABLE events (at TIMESTAMP, what TEXT, score DOUBLE PRECISION, ok BOOLEAN, n SMALLINT, r REAL, note VARCHAR);
\dt
\di
\d
\d accounts
\d events
\dt acc*
\di *balance
\set ON_ERROR_STOP 0
\d nothing
\dt nothing*
\set ON_ERROR_STOP 1
SHOW DateStyle;
SET application_name = 'catalog test';
SHOW application_name;
RESET application_name;
DROP INDEX accounts_balance;
\d accounts
DROP TABLE events;
\dt
