-- psql's \d of tables with defaults, CHECK, UNIQUE and FOREIGN KEY constraints, of an
-- index and of views, \dv and \dn: psql's own catalog queries, run by hdb serve's H
-- over its system relations, with the output PostgreSQL 15 gives (describe.out).
CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner VARCHAR(20) NOT NULL DEFAULT 'x', balance BIGINT DEFAULT 0 CHECK (balance >= 0), code CHAR(3));
CREATE TABLE events (acc INTEGER REFERENCES accounts (id) ON DELETE CASCADE, note TEXT UNIQUE, at TIMESTAMP);
CREATE INDEX accounts_owner ON accounts (owner, code);
CREATE VIEW rich AS SELECT id, balance FROM accounts WHERE balance > 100;
\d accounts
\d events
\d accounts_owner
\d accounts_pkey
\dv
\dn
\d
