//! # stack — statements of any depth, without overflowing the thread's stack
//!
//! Parsing, binding, optimising, executing, printing (EXPLAIN, or a parsed statement
//! printed back) and *dropping* a statement all walk trees recursively: sqlparser's AST,
//! our expressions, our plans. A tree is as deep as the input makes it: `1+1+...+1` is a
//! left-deep chain as long as the statement, `SELECT 1 UNION ALL SELECT 1 ...` a chain of
//! set operations. Rust aborts the process when a thread's stack overflows, and with it
//! any program that embeds hdb, so every statement must end in an answer or an error
//! whatever its depth. Four rules see to it:
//!
//! 1. **Depth is estimated before each recursive stage, from what bounds it.** sqlparser
//!    refuses nesting (parentheses, subqueries, CASE, calls) past the binder's recursion
//!    limit, and parses chains of one precedence level in a loop into left-deep trees,
//!    so an AST is at most as deep as its operator tokens plus its parentheses:
//!    [`AstDepth`] counts them as the text is tokenised, and sizes the stack for parsing,
//!    printing, binding and dropping the AST. The binder counts the levels it nests
//!    (`Binder::nested`), which bounds every expression and plan tree it builds, and sizes
//!    the stack for optimising, executing and dropping them ([`frames_stack`]).
//! 2. **Nesting is bounded.** A statement nested deeper than [`MAX_NESTING_DEPTH`]
//!    levels — each operator, query, set operation and join counts — is refused with
//!    PostgreSQL's `stack depth limit exceeded` (SQLSTATE 54001, [`Error::TooComplex`]).
//! 3. **Each stage runs with the stack it needs.** [`with_stack`] runs a stage directly
//!    when its budget is under [`INLINE_STACK`], else on a scoped thread with a stack of
//!    the budget's size (the caller waits for it; panics travel back). Drop glue cannot
//!    take a budget, so the trees whose drop may recurse deeply are held in [`DeepDrop`],
//!    which drops its value the same way.
//!
//! 4. **A deep query does not stream.** A query's rows are produced as the caller pulls
//!    them, on the caller's stack (`session/rows.rs`): building the operators, evaluating
//!    each row's expressions, dropping the operators. A query whose budget is over
//!    [`INLINE_STACK`] is instead run to completion on the thread, its rows collected, and
//!    its `Rows` hands them out; every other query streams. This costs memory only for
//!    statements that nest hundreds of levels (a point SELECT's budget is a few KiB, a
//!    query with ten nested subqueries about half the limit). The alternative — a thread
//!    that owns the statement's transaction and plan for the life of its `Rows` and
//!    sends rows across a channel — streams deep queries too, but gives every deep
//!    statement a second owner of the session's transaction; not worth it for input this
//!    rare.
//!
//! Why a thread and not a stack segment: growing the stack in place needs the `stacker`
//! crate, whose C build the `hdb` library keeps out of its dependencies (`.ci/run`), and
//! without it a thread cannot know how much of its stack is left. A thread costs tens of
//! microseconds, paid only by statements a few hundred levels deep.
//!
//! The budgets are bytes per level, measured on debug builds (`cargo test`'s profile,
//! whose frames are several times larger than release's) under shrinking `ulimit -s`,
//! with a margin of two; the measurements are beside each constant.
//! `tests/sql_deep_nesting.rs` runs statements 10 to 100,000 levels deep of every
//! recursive rule on threads of the default sizes, so a frame that outgrows its budget
//! fails a test instead of aborting a user's process.
//!
//! **The hot path** pays nothing but a comparison: a point SELECT's budgets are a few
//! KiB. hdb assumes that a thread calling into a session has [`INLINE_STACK`] and a
//! little more free — a spawned thread has 2 MiB by default, the main thread 8 MiB.
//!
//! Non-goal: code outside a statement's life. A caller that clones or compares plans
//! itself (`Plan: Clone + PartialEq`) recurses as deep as the plan on its own stack.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

use crate::error::{Error, Result};

/// The deepest nesting the binder accepts, counting one level per expression operator,
/// query, set operation and join. PostgreSQL 15 (2 MiB `max_stack_depth`) refuses a `+`
/// chain between 3,000 and 5,000 terms and answers 5,000 UNION ALL branches; hdb answers
/// both, and refuses 10,000-term chains (AND/OR chains too, which PostgreSQL flattens).
/// Memory, not stack, is what bounds the depth: a tree this deep takes a few MiB.
pub const MAX_NESTING_DEPTH: usize = 10_000;

/// The largest budget a stage runs with on the caller's own stack.
pub const INLINE_STACK: usize = 512 * 1024;

/// Stack per unit of depth, for any stage: parsing, printing, binding, optimising,
/// executing or dropping. A level of an expression chain is a unit, a set operation
/// [`SET_OPERATION_UNITS`], a query (a subquery, a derived table) [`QUERY_UNITS`].
/// Measured on a debug build under shrinking `ulimit -s`, the whole pipeline took ~1.1
/// KiB per level of a `+` chain, ~4 KiB per UNION ALL branch, ~32 KiB per level of
/// nested scalar subqueries and ~43 KiB per level of nested derived tables; dropping an
/// AST takes 64 bytes a level, an expression 31 and a plan 47. The binder's frames then
/// grew with the code around them: binding a level of a `||` chain took 2.3 KiB (frame
/// addresses in gdb, December 2026), past the first weight of 2 KiB, and
/// `tests/sql_deep_nesting.rs` caught it. Each weight is about twice its measurement.
pub const BYTES_PER_UNIT: usize = 5 * 1024;

/// Units of depth a set operation (a UNION branch) counts for.
pub const SET_OPERATION_UNITS: usize = 2;

/// Units of depth a query level (the statement's query, a subquery, a derived table)
/// counts for in the binder.
pub const QUERY_UNITS: usize = 10;

/// Deepest nesting (parentheses, subqueries, CASE, NOT, unary minus, function calls)
/// the parser accepts: sqlparser's recursion limit.
pub const MAX_PARSE_DEPTH: usize = 64;

/// Stack per level of the parser's recursion (see [`AstDepth`]): twice the ~43 KiB a
/// level of nested derived tables takes, the most of any nesting measured above.
const NESTING_BYTES: usize = 96 * 1024;

/// Stack for the frames around a stage (the session, the executor's loop, the thread).
const BASE_STACK: usize = 256 * 1024;

/// The least stack a thread started for a stored body (a function's, a CHECK's) gets:
/// 16 MiB, enough for the calls it makes in turn (at most
/// `bind::routine::MAX_ROUTINE_DEPTH` deep) to be bound on it. A thread sized for its
/// own body alone had no room for the next call's, so every call below the first few
/// levels started one more thread: 4^9 calls of four-branch functions spent most of
/// their time creating threads. The stack is reserved address space; only the pages
/// the binder touches are ever committed.
pub const STORED_BODY_STACK: usize = 16 * 1024 * 1024;

/// The stack for a thread that binds a stored body needing `bytes`: see
/// [`STORED_BODY_STACK`].
pub fn stored_body_stack(bytes: usize) -> usize {
    bytes.max(STORED_BODY_STACK)
}

/// Runs `f` with at least `bytes` of stack: directly when `bytes` is at most
/// [`INLINE_STACK`], else on a scoped thread with that much stack. A thread that cannot
/// be started (no memory for its stack) is [`Error::TooComplex`].
pub fn with_stack<R: Send>(bytes: usize, f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    match bytes <= INLINE_STACK {
        true => f(),
        false => on_thread(bytes, f),
    }
}

/// Runs `f` on a scoped thread with `bytes` of stack (and [`BASE_STACK`] more).
pub fn on_thread<R: Send>(bytes: usize, f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("hdb-deep-statement".into())
            .stack_size(bytes.saturating_add(BASE_STACK))
            .spawn_scoped(scope, f)
            .map_err(|e| {
                Error::TooComplex(format!(
                    "statement too complex: no thread with {bytes} bytes of stack for it ({e})"
                ))
            })?;
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The stack budget for running a plan the binder built `units` units deep.
pub fn frames_stack(units: usize) -> usize {
    units.saturating_mul(BYTES_PER_UNIT)
}

/// The error for a statement nested past [`MAX_NESTING_DEPTH`].
pub fn too_deep() -> Error {
    Error::TooComplex(format!(
        "stack depth limit exceeded: the statement nests more than {MAX_NESTING_DEPTH} \
         levels deep (each operator, subquery, set operation and join is a level)"
    ))
}

/// The error for a COPY through the client's stream whose plan needs more stack than
/// [`INLINE_STACK`]: the client's reader or writer cannot go to a thread of its own.
pub fn too_deep_for_client_copy() -> Error {
    Error::TooComplex(format!(
        "stack depth limit exceeded: a COPY through the client's stream may need at \
         most {INLINE_STACK} bytes of stack; copy a query this deep into a table first"
    ))
}

/// An upper bound on the stack sqlparser's AST of some tokens needs, from two counts.
///
/// - **Chains**: sqlparser parses chains of one precedence level in a loop into
///   left-deep trees, a level per operator token, so every token that can continue a
///   chain counts a unit (operators, keywords, brackets: every token but literals, plain
///   identifiers, commas, parentheses and semicolons), and a set operator
///   [`SET_OPERATION_UNITS`]. Long lists of literals (VALUES, IN) count nothing.
/// - **Nesting**: the parser recurses for parentheses, queries (SELECT), CASE, NOT and
///   unary signs, at most [`MAX_PARSE_DEPTH`] deep; every such token counts (a pair of
///   parentheses only while open), and each level of the parser's recursion costs
///   [`NESTING_BYTES`].
///
/// Statements are parsed, bound and dropped one at a time, so the counts start again
/// after each `;` outside parentheses, and the bound of a script is its largest
/// statement's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AstDepth {
    /// The largest stack of the statements before the last `;`.
    finished: usize,
    units: usize,
    nesting: usize,
    open_parentheses: usize,
    deepest_parentheses: usize,
    /// Whether the last significant token ended an operand (so a sign after it is a
    /// binary operator, not a unary one).
    after_operand: bool,
}

impl AstDepth {
    /// The bound for the tokens of `sql` (PostgreSQL dialect); text that does not
    /// tokenise counts what it has before the error (its parse fails there too).
    pub fn of(sql: &str) -> AstDepth {
        let mut depth = AstDepth::default();
        let dialect = sqlparser::dialect::PostgreSqlDialect {};
        let mut tokens = Vec::new();
        let _ = sqlparser::tokenizer::Tokenizer::new(&dialect, sql)
            .tokenize_with_location_into_buf(&mut tokens);
        for token in &tokens {
            depth.count(&token.token);
        }
        depth
    }

    /// Counts `token` for the levels it may add to the AST.
    pub fn count(&mut self, token: &Token) {
        let (units, nesting, ends_operand) = match token {
            Token::Whitespace(_) | Token::EOF => return,
            Token::LParen | Token::LBracket => {
                self.open_parentheses += 1;
                self.deepest_parentheses = self.deepest_parentheses.max(self.open_parentheses);
                (0, 0, false)
            }
            Token::RParen | Token::RBracket => {
                self.open_parentheses = self.open_parentheses.saturating_sub(1);
                (0, 0, true)
            }
            Token::Word(word) if word.quote_style.is_some() => (0, 0, true),
            Token::Word(word) => match word.keyword {
                Keyword::NoKeyword | Keyword::NULL | Keyword::TRUE | Keyword::FALSE => (0, 0, true),
                Keyword::UNION | Keyword::EXCEPT | Keyword::INTERSECT | Keyword::MINUS => {
                    (SET_OPERATION_UNITS, 0, false)
                }
                Keyword::SELECT | Keyword::CASE | Keyword::NOT => (1, 1, false),
                // A keyword may be a column's name: the sign after it counts as unary.
                _ => (1, 0, false),
            },
            Token::Minus | Token::Plus if !self.after_operand => (1, 1, false),
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::EscapedStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::Placeholder(_) => (0, 0, true),
            Token::SemiColon if self.open_parentheses == 0 => {
                *self = AstDepth {
                    finished: self.stack(),
                    ..AstDepth::default()
                };
                return;
            }
            Token::Comma | Token::SemiColon => (0, 0, false),
            _ => (1, 0, false),
        };
        self.units = self.units.saturating_add(units);
        self.nesting = self.nesting.saturating_add(nesting);
        self.after_operand = ends_operand;
    }

    /// Levels of the parser's recursion the tokens may reach.
    fn nesting(self) -> usize {
        self.nesting
            .saturating_add(self.deepest_parentheses)
            .min(MAX_PARSE_DEPTH)
    }

    /// The stack budget to parse, print, bind or drop an AST of this bound.
    pub fn stack(self) -> usize {
        let statement = self
            .units
            .saturating_mul(BYTES_PER_UNIT)
            .saturating_add(self.nesting().saturating_mul(NESTING_BYTES));
        statement.max(self.finished)
    }

    /// [`AstDepth::stack`] in units of [`BYTES_PER_UNIT`].
    pub fn units(self) -> usize {
        self.stack() / BYTES_PER_UNIT
    }
}

/// A value whose drop may recurse deeply (a parsed AST, a plan): dropped under
/// [`with_stack`] with the budget it was given.
#[derive(Debug)]
pub struct DeepDrop<T: Send> {
    value: Option<T>,
    stack: usize,
}

impl<T: Send> DeepDrop<T> {
    /// `value`, to be dropped with `stack` bytes of stack.
    pub fn new(value: T, stack: usize) -> DeepDrop<T> {
        DeepDrop {
            value: Some(value),
            stack,
        }
    }

    /// The stack budget it was given.
    pub fn stack(&self) -> usize {
        self.stack
    }
}

impl<T: Send> std::ops::Deref for DeepDrop<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // Taken only by `drop`, after which nothing can reach it.
        self.value
            .as_ref()
            .expect("a DeepDrop holds its value until dropped")
    }
}

impl<T: Send> Drop for DeepDrop<T> {
    fn drop(&mut self) {
        let value = &mut self.value;
        let dropped = with_stack(self.stack, || {
            drop(value.take());
            Ok(())
        });
        if dropped.is_err() {
            // No thread for the drop (out of memory): leaking beats overflowing.
            std::mem::forget(self.value.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    fn depth(sql: &str) -> AstDepth {
        let mut depth = AstDepth::default();
        for token in Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize()
            .unwrap()
        {
            depth.count(&token);
        }
        depth
    }

    #[test]
    fn chains_count_their_operators_and_nesting_its_levels() {
        let counts = |sql| {
            let d = depth(sql);
            (d.units, d.nesting())
        };
        assert_eq!(counts("1 + 2 - 3 || 'a'"), (3, 0));
        assert_eq!(counts("VALUES (1, 'a', NULL), (2, 'b', true)"), (1, 1));
        assert_eq!(counts("x IN (1, 2, 3, $1)"), (1, 1));
        assert_eq!(
            counts("SELECT 1 UNION SELECT 2"),
            (2 + SET_OPERATION_UNITS, 2)
        );
        assert_eq!(counts("((((1))))"), (0, 4));
        assert_eq!(counts("a) (b"), (0, 1));
        // Unary signs and NOT nest; binary ones chain.
        assert_eq!(counts("- - 1 - -2"), (4, 3));
        assert_eq!(counts("NOT NOT x"), (2, 2));
        assert_eq!(counts(&"NOT ".repeat(1000)).1, MAX_PARSE_DEPTH);
        // A point SELECT runs on the caller's stack.
        assert!(depth("SELECT id, name FROM accounts WHERE id = $1").stack() <= INLINE_STACK);
        // A script's bound is its largest statement's.
        let one = depth("SELECT 1 + 2 + (3)");
        assert_eq!(
            depth(&"SELECT 1 + 2 + (3);".repeat(100)).stack(),
            one.stack()
        );
        let deep = depth("SELECT -(-(-1))");
        assert_eq!(
            depth("SELECT 1; SELECT -(-(-1)); SELECT 2").stack(),
            deep.stack()
        );
    }

    #[test]
    fn large_budgets_run_on_a_thread_with_the_stack() {
        let here = std::thread::current().id();
        assert_eq!(with_stack(0, || Ok(std::thread::current().id())), Ok(here));
        let there = with_stack(64 << 20, || {
            // 32 MiB of locals would overflow any default stack.
            let big = [1u8; 32 << 20];
            Ok((
                std::thread::current().id(),
                std::hint::black_box(&big)[12345],
            ))
        });
        assert!(matches!(there, Ok((id, 1)) if id != here));
    }
}
