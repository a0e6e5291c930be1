//! EXPLAIN: the plan of a statement, each node with the cost model's estimates
//! (`crate::cost`), and for EXPLAIN ANALYZE what each node did when the statement ran,
//! in PostgreSQL's words:
//!
//! ```text
//! Project: user_id, name  (cost=0.00..251.30 rows=98 width=0) (actual time=0.012..0.230 rows=104 loops=1)
//!   Filter: status = 'banned'  (cost=...) (actual time=...)
//!     IndexScan: users using users_status (status = 'banned')  (cost=...) (actual ...)
//! Execution Time: 0.412 ms
//! ```
//!
//! Costs are the model's microseconds (startup..total), rows the estimated rows; for
//! ANALYZE, times are milliseconds per loop (until the first row..in all) and rows the
//! average per loop, as PostgreSQL prints them; a node that never ran says so. `COSTS
//! OFF` leaves the estimates out (the plan's shape alone, for tests that compare it);
//! `FORMAT JSON` gives the same as one JSON document, for tools.
//!
//! EXPLAIN ANALYZE runs only queries (their rows are produced and dropped); the
//! counting is `instrument.rs`'s wrapper around every operator.

use std::fmt::Write;
use std::time::Instant;

use engine::Transaction;

use super::batch::RowBatch;
use super::interrupt::Interrupt;
use super::operator::{Builder, ExecContext};
use super::output::Output;
use super::profile::{NodeCounts, Profile};
use crate::cost::{Estimates, estimate_tree};
use crate::error::{Error, Result};
use crate::expr::SubqueryId;
use crate::plan::{EXPLAIN_COLUMN, ExplainOptions, Node, Plan, Statement};
use crate::sequence::SequenceValues;
use crate::value::Value;

/// Runs EXPLAIN `plan` (an `Explain` statement's plan).
pub(super) fn explain(
    txn: &mut Transaction,
    plan: &Plan,
    interrupt: &Interrupt,
    build: Builder,
    sequences: Option<&SequenceValues>,
) -> Result<Output> {
    let (inner, options) = match &plan.statement {
        Statement::Explain(inner, options) => (inner.as_ref(), *options),
        other => (other, ExplainOptions::default()),
    };
    let mut estimates = Estimates::new();
    if let Some(root) = operator_tree(inner) {
        estimate_tree(root, &mut estimates);
    }
    for subquery in &plan.subqueries {
        estimate_tree(subquery, &mut estimates);
    }
    let run = match options.analyze {
        true => Some(run(txn, plan, inner, interrupt, build, sequences)?),
        false => None,
    };
    let report = Report {
        estimates: &estimates,
        run: run.as_ref(),
        options,
    };
    let lines: Vec<String> = match options.json {
        false => {
            let mut text = plan.explain_with(&|node| report.note(node));
            if let Some(run) = &run {
                let _ = write!(text, "\nExecution Time: {:.3} ms", run.1);
            }
            text.lines().map(str::to_string).collect()
        }
        true => vec![report.json(plan, inner)],
    };
    let rows: Vec<Vec<Value>> = lines.into_iter().map(|l| vec![Value::Text(l)]).collect();
    Ok(Output {
        columns: vec![EXPLAIN_COLUMN.to_string()],
        rows_affected: rows.len() as u64,
        rows,
        tag: "EXPLAIN".into(),
    })
}

/// The operator tree a statement runs, if it has one.
fn operator_tree(statement: &Statement) -> Option<&Node> {
    statement.tree()
}

/// Runs the query `inner` to its end with every operator counted; returns the counts
/// and the milliseconds it took.
fn run(
    txn: &mut Transaction,
    plan: &Plan,
    inner: &Statement,
    interrupt: &Interrupt,
    build: Builder,
    sequences: Option<&SequenceValues>,
) -> Result<(Profile, f64)> {
    let Statement::Query(root) = inner else {
        return Err(Error::unsupported(
            "EXPLAIN ANALYZE of a statement other than a query",
        ));
    };
    if !plan.params.is_empty() {
        return Err(Error::unsupported(
            "EXPLAIN ANALYZE of a statement with parameters",
        ));
    }
    let profile = Profile::default();
    let start = Instant::now();
    let mut ctx = ExecContext::new(txn, &[], &plan.subqueries, build)
        .interruptible(interrupt.clone())
        .with_sequences(sequences)
        .profiled(profile.clone());
    let mut operator = build(root, &mut ctx)?;
    let mut batch = RowBatch::without_keys();
    loop {
        operator.next_batch(&mut ctx, &mut batch)?;
        if batch.is_empty() {
            break;
        }
    }
    drop(operator);
    Ok((profile, start.elapsed().as_secs_f64() * 1000.0))
}

/// What EXPLAIN reports about each node.
struct Report<'a> {
    estimates: &'a Estimates,
    run: Option<&'a (Profile, f64)>,
    options: ExplainOptions,
}

/// A node's figures per loop, as PostgreSQL prints them: (first row ms, total ms, rows).
fn per_loop(c: &NodeCounts) -> (f64, f64, f64) {
    let loops = c.loops.max(1) as f64;
    (
        c.first.as_secs_f64() * 1000.0 / loops,
        c.total.as_secs_f64() * 1000.0 / loops,
        (c.rows as f64 / loops).round(),
    )
}

impl Report<'_> {
    fn estimate(&self, node: &Node) -> Option<(f64, f64, f64)> {
        self.estimates.get(&(node as *const Node)).copied()
    }

    /// The text after a node's line.
    fn note(&self, node: &Node) -> String {
        let mut out = String::new();
        if self.options.costs
            && let Some((rows, startup, total)) = self.estimate(node)
        {
            let _ = write!(
                out,
                "  (cost={startup:.2}..{total:.2} rows={:.0})",
                rows.max(1.0).round()
            );
        }
        if let Some((profile, _)) = self.run {
            let counts = profile.counts(node);
            if counts.loops == 0 {
                out.push_str(" (never executed)");
            } else {
                let (first, total, rows) = per_loop(&counts);
                let _ = write!(
                    out,
                    " (actual time={first:.3}..{total:.3} rows={rows:.0} loops={})",
                    counts.loops
                );
            }
        }
        out
    }

    /// The plan as one JSON document (PostgreSQL's shape: a list of one object with
    /// its `Plan`, then the subqueries' plans and the execution time).
    fn json(&self, plan: &Plan, inner: &Statement) -> String {
        let mut out = String::from("[\n  {\n    \"Plan\": ");
        match operator_tree(inner) {
            Some(root) if matches!(inner, Statement::Query(_)) => self.json_node(&mut out, root, 2),
            root => {
                let line = inner.to_string();
                let head = line.lines().next().unwrap_or_default();
                let (kind, detail) = split_line(head);
                out.push_str("{\n");
                field(&mut out, 3, "Node Type", &json_string(kind));
                field(&mut out, 3, "Detail", &json_string(detail));
                if let Some(root) = root {
                    indent(&mut out, 3);
                    out.push_str("\"Plans\": [\n");
                    indent(&mut out, 4);
                    self.json_node(&mut out, root, 4);
                    out.push('\n');
                    indent(&mut out, 3);
                    out.push_str("],\n");
                }
                trim_comma(&mut out);
                indent(&mut out, 2);
                out.push('}');
            }
        }
        for (i, subquery) in plan.subqueries.iter().enumerate() {
            let _ = write!(out, ",\n    \"{}\": ", SubqueryId(i));
            self.json_node(&mut out, subquery, 2);
        }
        if let Some((_, ms)) = self.run {
            let _ = write!(out, ",\n    \"Execution Time\": {ms:.3}");
        }
        out.push_str("\n  }\n]");
        out
    }

    fn json_node(&self, out: &mut String, node: &Node, depth: usize) {
        let line = node.line();
        let (kind, detail) = split_line(&line);
        out.push_str("{\n");
        field(out, depth + 1, "Node Type", &json_string(kind));
        if !detail.is_empty() {
            field(out, depth + 1, "Detail", &json_string(detail));
        }
        if self.options.costs
            && let Some((rows, startup, total)) = self.estimate(node)
        {
            field(out, depth + 1, "Startup Cost", &format!("{startup:.2}"));
            field(out, depth + 1, "Total Cost", &format!("{total:.2}"));
            field(
                out,
                depth + 1,
                "Plan Rows",
                &format!("{:.0}", rows.max(1.0).round()),
            );
        }
        if let Some((profile, _)) = self.run {
            let counts = profile.counts(node);
            let (first, total, rows) = per_loop(&counts);
            field(
                out,
                depth + 1,
                "Actual Startup Time",
                &format!("{first:.3}"),
            );
            field(out, depth + 1, "Actual Total Time", &format!("{total:.3}"));
            field(out, depth + 1, "Actual Rows", &format!("{rows:.0}"));
            field(out, depth + 1, "Actual Loops", &counts.loops.to_string());
        }
        let inputs = node.inputs();
        if !inputs.is_empty() {
            indent(out, depth + 1);
            out.push_str("\"Plans\": [\n");
            for (i, input) in inputs.iter().enumerate() {
                indent(out, depth + 2);
                self.json_node(out, input, depth + 2);
                out.push_str(if i + 1 < inputs.len() { ",\n" } else { "\n" });
            }
            indent(out, depth + 1);
            out.push_str("],\n");
        }
        trim_comma(out);
        indent(out, depth);
        out.push('}');
    }
}

/// `Kind: detail` as (kind, detail).
fn split_line(line: &str) -> (&str, &str) {
    match line.split_once(": ") {
        Some((kind, detail)) => (kind, detail),
        None => (line, ""),
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn field(out: &mut String, depth: usize, name: &str, value: &str) {
    indent(out, depth);
    let _ = writeln!(out, "\"{name}\": {value},");
}

/// Drops the comma after an object's last field.
fn trim_comma(out: &mut String) {
    if out.ends_with(",\n") {
        out.truncate(out.len() - 2);
        out.push('\n');
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
