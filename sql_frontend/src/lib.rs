//! # sql_frontend — SQL over H
//!
//! Not built yet. This crate will take SQL text through the `sqlparser` crate (PostgreSQL
//! dialect), bind its AST into hdb's own logical plan at one boundary (unsupported syntax is
//! a typed error naming the clause), optimise it (constant folding, predicate pushdown,
//! index selection, join order and method) and execute the physical plan inside one engine
//! transaction. `EXPLAIN` prints the physical plan as a tree.
#![forbid(unsafe_code)]
