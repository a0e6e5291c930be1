//! Helpers shared by engine integration tests. Each test file includes this module with
//! `mod support;` and uses what it needs.
#![allow(dead_code)]

pub mod history;
pub mod power;
pub mod table;
